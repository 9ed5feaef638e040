package main

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestParseJoinCode(t *testing.T) {
	c := joinCode{room: "K7P2M0", secret: "4F9Q"}
	code := c.String()
	tests := []struct {
		in   string
		want joinCode
		err  string
	}{
		{"K7P2M0", joinCode{room: "K7P2M0"}, ""},
		{" k7p2m0 ", joinCode{room: "K7P2M0"}, ""},
		{code, c, ""},
		{strings.ToLower(code), c, ""},
		{strings.ReplaceAll(code, "-", " "), c, ""},
		{"K7P2M0-4F9Q" + code[len(code)-2:], c, ""},
		{"K7P2M0-4F9Q-" + strings.Repeat("0", 2), joinCode{}, "does not check out"},
		{"K7P2M0-4F9", joinCode{}, "is not a gopeer code"},
		{"K7P2M0-4F9Q-XW-Z", joinCode{}, "is not a gopeer code"},
		{"K7P2M0-4U9Q-XW", joinCode{}, "is not a gopeer code"}, // U is not in the alphabet
		{"K7P2M", joinCode{}, "is not a room code"},
		{"", joinCode{}, "is not a room code"},
		{"--", joinCode{}, "is not a room code"},
		{"K7P2M0-4F9Q-X\x1b", joinCode{}, "is not a gopeer code"},
	}
	for _, tt := range tests {
		got, err := parseJoinCode(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseJoinCode(%q) = %v, %v; want an error saying %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseJoinCode(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

// TestJoinCodeForgivesLookalikes: O for 0 and I or L for 1 in the secret
// and check are what the reader meant, not a typo.
func TestJoinCodeForgivesLookalikes(t *testing.T) {
	c := joinCode{room: "ABC123", secret: "1010"}
	code := c.String()
	typed := code[:7] + "IOLo" + strings.NewReplacer("0", "O", "1", "l").Replace(code[11:])
	if got, err := parseJoinCode(typed); err != nil || got != c {
		t.Errorf("parseJoinCode(%q) = %+v, %v; want %+v (from %s)", typed, got, err, c, code)
	}
}

// TestJoinCodeCatchesTypos checks the check's promise on many codes: any
// one character changed anywhere, and any two different characters of
// the room and secret swapped, are refused as a typo.
func TestJoinCodeCatchesTypos(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		room := make([]byte, roomCodeLen)
		for i := range room {
			room[i] = joinCheckDigits[rng.IntN(len(joinCheckDigits))]
		}
		c, err := newJoinCode(string(room), rngReader{rng})
		if err != nil {
			t.Fatal(err)
		}
		code := []byte(c.String())
		positions := []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13}
		for _, i := range positions {
			alphabet := crockford
			if i < roomCodeLen {
				alphabet = joinCheckDigits
			}
			for _, r := range []byte(alphabet) {
				if r == code[i] {
					continue
				}
				typo := bytes.Clone(code)
				typo[i] = r
				if _, err := parseJoinCode(string(typo)); !errors.Is(err, errJoinCodeTypo) && !strings.Contains(errString(err), "is not") {
					t.Fatalf("%s with %q at %d (%s) was taken: %v", code, r, i, typo, err)
				}
			}
		}
		for a, i := range positions[:10] {
			for _, j := range positions[a+1 : 10] {
				if code[i] == code[j] {
					continue
				}
				swap := bytes.Clone(code)
				swap[i], swap[j] = swap[j], swap[i]
				if _, err := parseJoinCode(string(swap)); err == nil {
					t.Fatalf("%s with %d and %d swapped (%s) was taken", code, i, j, swap)
				}
			}
		}
	}
}

func TestNewJoinCode(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		c, err := newJoinCode("K7P2M0", nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.secret) != joinSecretLen || strings.Trim(c.secret, crockford) != "" {
			t.Fatalf("secret %q", c.secret)
		}
		if back, err := parseJoinCode(c.String()); err != nil || back != c {
			t.Fatalf("%s reads back as %+v, %v", c, back, err)
		}
		seen[c.secret] = true
	}
	if len(seen) < 95 {
		t.Errorf("100 codes had %d different secrets", len(seen))
	}
	if _, err := newJoinCode("K7P2M0", strings.NewReader("ab")); err == nil {
		t.Error("a short read of randomness gave a code")
	}
}

// rngReader reads from a seeded generator, for codes a test can repeat.
type rngReader struct{ *rand.Rand }

func (r rngReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r.Uint32())
	}
	return len(p), nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
