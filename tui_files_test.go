package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCompletePath: Tab after /send completes a path as a shell does.
func TestCompletePath(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"photos/", "photo.jpg", "notes.txt", ".hidden", "über.txt"} {
		p := filepath.Join(dir, name)
		if strings.HasSuffix(name, "/") {
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		writeFile(t, p, nil, 0o644)
	}
	d := dir + "/"
	tests := []struct {
		typed, want string
		options     []string
	}{
		{d + "n", d + "notes.txt", nil},
		{d + "photos", d + "photos/", nil},
		{d + "ph", d + "photo", []string{"photo.jpg", "photos/"}},
		{d + "ü", d + "über.txt", nil},
		{d + "x", d + "x", nil},
		{d + ".h", d + ".hidden", nil},
		{d, d, []string{"notes.txt", "photo.jpg", "photos/", "über.txt"}},
		{filepath.Join(dir, "missing") + "/a", filepath.Join(dir, "missing") + "/a", nil},
	}
	for _, tt := range tests {
		got, options := completePath(tt.typed)
		if got != tt.want || !slices.Equal(options, tt.options) {
			t.Errorf("completePath(%q) = %q, %q; want %q, %q", tt.typed, got, options, tt.want, tt.options)
		}
	}
}

// TestProgressBar: a transfer's progress fits a few columns and says the
// percentage, the rate and the time left.
func TestProgressBar(t *testing.T) {
	p := transferProgress{name: "holiday/photo.jpg", done: 512, total: 1024, rate: 2.5e6, eta: 3 * time.Second}
	if got, want := progressBar(p), "██████░░░░░░  50% 512 B of 1.0 KiB holiday/photo.jpg 2.5 MB/s 3s left"; got != want {
		t.Errorf("progressBar = %q, want %q", got, want)
	}
	p.resumed = 256
	if got, want := progressBar(p), "██████░░░░░░  50% 512 B of 1.0 KiB holiday/photo.jpg 2.5 MB/s 3s left (resumed at 25%)"; got != want {
		t.Errorf("progressBar of a resume = %q, want %q", got, want)
	}
	if got := progressBar(transferProgress{}); got != "starting…" {
		t.Errorf("progressBar of nothing yet = %q", got)
	}
	long := progressBar(transferProgress{name: strings.Repeat("a", 40) + "\x1b[2J", done: 1, total: 1})
	if strings.Contains(long, "\x1b") || !strings.Contains(long, "…") {
		t.Errorf("a long, hostile name shows as %q", long)
	}
}

// TestEditorStatus: the status row sits above the prompt, cut to the
// width, and the draft and the cursor stay where they are.
func TestEditorStatus(t *testing.T) {
	scr := newScreen(20)
	e := newEditor(scr, 20)
	e.setPrompt("> ", false)
	typeText(e, "hello")
	e.setStatus("↑ " + strings.Repeat("█", 30))
	if got := scr.lines(); len(got) != 2 || got[0] != "↑ "+strings.Repeat("█", 17) || got[1] != "> hello" {
		t.Errorf("screen %q", got)
	}
	if x, y := scr.cursor(); x != 7 || y != 1 {
		t.Errorf("cursor at %d,%d, want 7,1", x, y)
	}
	e.printAbove("Peer: hi")
	e.setStatus("")
	if got := scr.lines(); !slices.Equal(got, []string{"Peer: hi", "> hello"}) {
		t.Errorf("after the status ends: %q", got)
	}
}
