package main

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestParseConfig: what each command line does, and what it refuses.
func TestParseConfig(t *testing.T) {
	env := func(terminal bool, vars map[string]string) env {
		return env{isTerminal: terminal, getenv: func(k string) string { return vars[k] }}
	}
	tests := []struct {
		name     string
		args     []string
		terminal bool
		vars     map[string]string
		mode     mode
		err      string // a usage error mentioning this; "" for none
		check    func(t *testing.T, c config)
	}{
		{name: "menu on a terminal", terminal: true, mode: modeMenu},
		{name: "no menu without a terminal", err: "choose -host or -join"},
		{name: "no menu with -json", args: []string{"-json"}, terminal: true, err: "choose -host or -join"},
		{name: "host", args: []string{"-host"}, mode: modeHost, check: func(t *testing.T, c config) {
			if c.board != defaultBoardURL || c.boardGiven || c.timeout != defaultTimeout || len(c.iceServers) != len(defaultICE) {
				t.Errorf("defaults: %+v", c)
			}
		}},
		{name: "host with a chosen code", args: []string{"-host", "-room", " k7p2m0 "}, mode: modeHost, check: func(t *testing.T, c config) {
			if c.room != "K7P2M0" {
				t.Errorf("room %q", c.room)
			}
		}},
		{name: "join", args: []string{"-join", "abc123", "-ice", "none", "-timeout", "90s"}, mode: modeJoin, check: func(t *testing.T, c config) {
			if c.room != "ABC123" || c.iceServers != nil || c.timeout != 90*time.Second {
				t.Errorf("%+v", c)
			}
		}},
		{name: "join with a gopeer code", args: []string{"-join", " k7p2m0 4f9q " + joinCode{room: "K7P2M0", secret: "4F9Q"}.String()[12:]}, mode: modeJoin, check: func(t *testing.T, c config) {
			if want := (joinCode{room: "K7P2M0", secret: "4F9Q"}).String(); c.room != want {
				t.Errorf("room %q, want %q", c.room, want)
			}
		}},
		{name: "join with a mistyped gopeer code", args: []string{"-join", "K7P2M0-4F9Q-00"}, err: "does not check out"},
		{name: "-secure hosts", args: []string{"-host", "-secure"}, mode: modeHost, check: func(t *testing.T, c config) {
			if !c.secure {
				t.Error("-secure not set")
			}
		}},
		{name: "-secure is the host's", args: []string{"-join", "ABC123", "-secure"}, err: "-secure goes with -host"},
		{name: "-verify hosts securely", args: []string{"-host", "-verify"}, mode: modeHost, check: func(t *testing.T, c config) {
			if !c.verify || !c.secure {
				t.Errorf("-host -verify: verify %v, secure %v; want both", c.verify, c.secure)
			}
		}},
		{name: "-verify joins with a gopeer code", args: []string{"-join", joinCode{room: "K7P2M0", secret: "4F9Q"}.String(), "-verify"}, mode: modeJoin},
		{name: "-verify needs a gopeer code", args: []string{"-join", "ABC123", "-verify"}, err: "-verify needs the host's gopeer code"},
		{name: "-verify needs a person", args: []string{"-host", "-verify", "-echo"}, err: "leave out -echo"},
		{name: "-verify is the chat's", args: []string{"-serve", "127.0.0.1:0", "-verify"}, err: "-verify goes with -host, -join, -send or -receive"},
		{name: "PYPEER_URL is the default board, not a given one", args: []string{"-join", "ABC123"},
			vars: map[string]string{"PYPEER_URL": "http://127.0.0.1:8765"}, mode: modeJoin, check: func(t *testing.T, c config) {
				if c.board != "http://127.0.0.1:8765" || c.boardGiven {
					t.Errorf("board %q, given %v", c.board, c.boardGiven)
				}
			}},
		{name: "-db is a given board", args: []string{"-host", "-db", "http://h:1?auth=x"}, mode: modeHost, check: func(t *testing.T, c config) {
			if c.board != "http://h:1?auth=x" || !c.boardGiven {
				t.Errorf("board %q, given %v", c.board, c.boardGiven)
			}
		}},
		{name: "LAN mode", args: []string{"-host", "-serve", ":8765"}, mode: modeHost, check: func(t *testing.T, c config) {
			if c.lan != ":8765" || c.serve != "" {
				t.Errorf("lan %q serve %q", c.lan, c.serve)
			}
		}},
		{name: "serve", args: []string{"-serve", "127.0.0.1:0"}, mode: modeServe},
		{name: "janitor ignores PYPEER_URL", args: []string{"-janitor"}, vars: map[string]string{"PYPEER_URL": "http://x"}, mode: modeJanitor,
			check: func(t *testing.T, c config) {
				if c.janitor.db != "" {
					t.Errorf("janitor db %q", c.janitor.db)
				}
			}},
		{name: "-h", args: []string{"-h"}, mode: modeUsage},
		{name: "-help", args: []string{"-help"}, mode: modeManual},
		{name: "--help", args: []string{"--help"}, mode: modeManual},
		{name: "-version", args: []string{"-version"}, mode: modeVersion},
		{name: "ping interval", args: []string{"-host"}, vars: map[string]string{"GOPEER_PING_INTERVAL": "50ms", "GOPEER_DEBUG": "1"}, mode: modeHost,
			check: func(t *testing.T, c config) {
				if c.pingInterval != 50*time.Millisecond || !c.debug {
					t.Errorf("ping %v debug %v", c.pingInterval, c.debug)
				}
			}},
		{name: "two modes", args: []string{"-host", "-join", "ABC123"}, err: "choose one of"},
		{name: "-room alone", args: []string{"-room", "ABC123"}, err: "-room goes with -host"},
		{name: "-room with -join", args: []string{"-join", "ABC123", "-room", "ABC123"}, err: "-room goes with -host"},
		{name: "a bad code", args: []string{"-join", "ABC/../"}, err: "not a room code"},
		{name: "a bad -db", args: []string{"-host", "-db", "ftp://x"}, err: "-db: invalid board URL"},
		{name: "-db with LAN mode", args: []string{"-host", "-serve", ":1", "-db", "http://x"}, err: "leave out -db"},
		{name: "a bad -ice", args: []string{"-host", "-ice", "http://x"}, err: "not a stun: or turn: URL"},
		{name: "a bad -timeout", args: []string{"-host", "-timeout", "0s"}, err: "-timeout must be positive"},
		{name: "a negative -reconnect", args: []string{"-host", "-reconnect", "-1s"}, err: "-reconnect must be a duration"},
		{name: "an argument", args: []string{"-host", "now"}, err: `unexpected argument "now"`},
		{name: "-json with -serve", args: []string{"-json", "-serve", ":0"}, err: "-json goes with -host, -join, -send or -receive"},
		{name: "-json with -janitor", args: []string{"-json", "-janitor"}, err: "-json goes with -host, -join, -send or -receive"},
		{name: "-echo with -serve", args: []string{"-echo", "-serve", ":0"}, err: "-echo goes with -host or -join"},
		{name: "-send", args: []string{"-send", "-json", "a.txt", "photos"}, mode: modeSend, check: func(t *testing.T, c config) {
			if !slices.Equal(c.sendPaths, []string{"a.txt", "photos"}) || !c.secure || !c.json {
				t.Errorf("paths %q, secure %v, json %v", c.sendPaths, c.secure, c.json)
			}
		}},
		{name: "-send needs paths", args: []string{"-send"}, err: "-send needs the files"},
		{name: "-receive", args: []string{"-receive", joinCode{room: "K7P2M0", secret: "4F9Q"}.String(), "-yes", "-overwrite"}, mode: modeReceive, check: func(t *testing.T, c config) {
			if c.receiveTo != "." || !c.yes || !c.overwrite {
				t.Errorf("to %q, yes %v, overwrite %v", c.receiveTo, c.yes, c.overwrite)
			}
		}},
		{name: "-receive -to", args: []string{"-receive", joinCode{room: "K7P2M0", secret: "4F9Q"}.String(), "-to", "/tmp/in"}, mode: modeReceive, check: func(t *testing.T, c config) {
			if c.receiveTo != "/tmp/in" {
				t.Errorf("to %q", c.receiveTo)
			}
		}},
		{name: "-receive needs a gopeer code", args: []string{"-receive", "ABC123"}, err: "-receive needs the sender's whole gopeer code"},
		{name: "-yes is the receiver's", args: []string{"-host", "-yes"}, err: "-to, -yes and -overwrite go with -receive"},
		{name: "paths only with -send", args: []string{"-host", "a.txt"}, err: "unexpected argument"},
		{name: "-send and -receive", args: []string{"-send", "-receive", "ABC123", "a"}, err: "choose one of"},
		{name: "an unknown flag", args: []string{"-nope"}, err: "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(tt.args, env(tt.terminal, tt.vars))
			if tt.err != "" {
				var f *failure
				if !errors.As(err, &f) || f.kind != kindUsage || !strings.Contains(f.msg, tt.err) || f.hint == "" {
					t.Fatalf("error %v, want a usage failure with a hint mentioning %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.mode != tt.mode {
				t.Errorf("mode %v, want %v", c.mode, tt.mode)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

// TestWantsJSON: a command line that does not parse still gets a JSON error
// event when it asked for -json.
func TestWantsJSON(t *testing.T) {
	for args, want := range map[string]bool{
		"-json -join bad":     true,
		"--json -nope":        true,
		"-json=true -x":       true,
		"-json=T -x":          true,
		"-json=1":             true,
		"-join bad -json":     true,
		"-json=false -x":      false,
		"-join bad":           false,
		"-- -json":            false,
		"-room json":          false,
		"-password-file json": false,
	} {
		if got := wantsJSON(strings.Fields(args)); got != want {
			t.Errorf("wantsJSON(%q) = %v, want %v", args, got, want)
		}
	}
}

// TestJoinCommand: the command the host shows is the one the other person
// can run: -db only for a board that is not the public one, never a secret.
func TestJoinCommand(t *testing.T) {
	c := config{command: "go run ."}
	for board, want := range map[string]string{
		defaultBoardURL:            "go run . -join K7P2M0",
		"http://10.0.0.2:8765":     "go run . -join K7P2M0 -db http://10.0.0.2:8765",
		"https://x.example?auth=s": "go run . -join K7P2M0 -db https://x.example",
	} {
		if got := c.joinCommand("K7P2M0", board); got != want {
			t.Errorf("joinCommand(%q) = %q, want %q", board, got, want)
		}
	}
}
