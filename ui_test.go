package main

import (
	"strings"
	"testing"
)

// TestPasswordNote: the host is told what its password protects. pypeer's
// sealing lets whoever reads the board guess offline, so a short password
// is called short, whatever it is made of, and none at all is called out.
func TestPasswordNote(t *testing.T) {
	tests := []struct {
		password string
		want     passwordKind
		says     string
	}{
		{"", noPassword, "anyone who learns the code"},
		{"s3cret", shortPassword, "test millions of guesses"},
		{strings.Repeat("é", passwordLongRunes-1), shortPassword, "test millions of guesses"}, // runes, not bytes
		{"correct horse battery staple", longPassword, "share it apart from the code"},
	}
	for _, tt := range tests {
		k := kindOfPassword(tt.password)
		if k != tt.want {
			t.Errorf("kindOfPassword(%q) = %d, want %d", tt.password, k, tt.want)
		}
		if note := passwordNote(k); !strings.Contains(note, tt.says) {
			t.Errorf("passwordNote for %q = %q, want it to say %q", tt.password, note, tt.says)
		}
	}
}
