package main

import (
	"strings"
	"testing"
)

func TestNormalizeRoomCode(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"ABC123", "ABC123", true},
		{"  abc123\n", "ABC123", true},
		{"k7p2m0", "K7P2M0", true},
		{"", "", false},
		{"ABC12", "", false},
		{"ABC1234", "", false},
		{"ABC-12", "", false},
		{"../../", "", false},
		{"AB%2F1", "", false},
		{"ABC.js", "", false},
		{"ÄBC123", "", false},
		{"ABC 12", "", false},
	}
	for _, c := range cases {
		got, err := normalizeRoomCode(c.in)
		if c.ok != (err == nil) || got != c.want {
			t.Errorf("normalizeRoomCode(%q) = %q, %v; want %q, ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestNewRoomCode(t *testing.T) {
	seen := map[string]bool{}
	counts := map[rune]int{}
	const n = 2000
	for range n {
		code, err := newRoomCode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := normalizeRoomCode(code); err != nil || code != strings.ToUpper(code) {
			t.Fatalf("newRoomCode() = %q, not a valid code: %v", code, err)
		}
		seen[code] = true
		for _, r := range code {
			counts[r]++
		}
	}
	if len(seen) < n-1 {
		t.Errorf("only %d distinct codes in %d draws", len(seen), n)
	}
	// Every character of the alphabet shows up, near its fair share
	// (n*6/36 = 333 each; the bounds are far outside random variation).
	for _, r := range roomCodeAlphabet {
		if counts[r] < 200 || counts[r] > 480 {
			t.Errorf("character %q drawn %d times, want about 333", r, counts[r])
		}
	}
}

func TestParseICEServers(t *testing.T) {
	env := func(k string) string {
		return map[string]string{"GOPEER_TURN_USERNAME": "u", "GOPEER_TURN_PASSWORD": "p"}[k]
	}
	cases := []struct {
		spec string
		n    int
		ok   bool
		cred string
	}{
		{"none", 0, true, ""},
		{"stun:a:3478", 1, true, ""},
		{"stun:a:3478, turn:b:3478", 2, true, "p"},
		{"http://a", 0, false, ""},
		{"stun:a,", 0, false, ""},
	}
	for _, c := range cases {
		got, err := parseICEServers(c.spec, env)
		if c.ok != (err == nil) || len(got) != c.n {
			t.Errorf("parseICEServers(%q) = %v, %v; want %d servers, ok=%v", c.spec, got, err, c.n, c.ok)
			continue
		}
		if c.cred != "" && got[len(got)-1].Credential != c.cred {
			t.Errorf("parseICEServers(%q): TURN credential not taken from the environment", c.spec)
		}
	}
}
