package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

// TestMemoryLimitOnlyForChats: the soft memory limit is set for a chat,
// whose memory is bounded, and never for the board or the janitor, which
// may legitimately hold much more.
func TestMemoryLimitOnlyForChats(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // every mode returns at once
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"-join", "ABC123", "-db", "http://127.0.0.1:1", "-ice", "none"}, true},
		{[]string{"-host", "-db", "http://127.0.0.1:1", "-ice", "none"}, true},
		{[]string{"-serve", "127.0.0.1:0"}, false},
		{[]string{"-janitor", "-db", "http://127.0.0.1:1"}, false},
		{[]string{"-h"}, false},
	} {
		called := false
		e := env{stdin: eofReader{}, stdout: io.Discard, stderr: io.Discard, stdinFd: -1,
			getenv: func(string) string { return "" }, limitMemory: func() { called = true }}
		run(ctx, tc.args, e)
		if called != tc.want {
			t.Errorf("gopeer %v: memory limit set = %v, want %v", tc.args, called, tc.want)
		}
	}
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// TestLimitChatMemoryYieldsToGOMEMLIMIT: the chat's soft limit applies
// unless the user chose one with $GOMEMLIMIT.
func TestLimitChatMemoryYieldsToGOMEMLIMIT(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })

	t.Setenv("GOMEMLIMIT", "")
	limitChatMemory()
	if got := debug.SetMemoryLimit(before); got != chatSoftMemoryLimit {
		t.Errorf("without GOMEMLIMIT the limit is %d, want %d", got, chatSoftMemoryLimit)
	}
	t.Setenv("GOMEMLIMIT", "1GiB")
	limitChatMemory()
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("with GOMEMLIMIT set the limit became %d, want it left at %d", got, before)
	}
}

// TestCommandFor: the join command a host prints names gopeer as this user
// can run it: "go run ." from a clone under go run, "gopeer" when that is
// what $PATH finds, else the path it was started by.
func TestCommandFor(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "gopeer")
	other := filepath.Join(dir, "other")
	link := filepath.Join(dir, "link")
	for _, f := range []string{bin, other} {
		if err := os.WriteFile(f, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, argv0, self, onPath, want string
	}{
		{"go run", "/tmp/go-build1234/b001/exe/gopeer", "/tmp/go-build1234/b001/exe/gopeer", "", "go run ."},
		{"on PATH", "gopeer", bin, bin, "gopeer"},
		{"on PATH through a link", "gopeer", bin, link, "gopeer"},
		{"started by path, another on PATH", "./gopeer", bin, other, "./gopeer"},
		{"started by path, none on PATH", "./gopeer", bin, "", "./gopeer"},
		{"a bare name, none on PATH", "gopeer", bin, "", "gopeer"},
	}
	for _, tt := range tests {
		if got := commandFor(tt.argv0, tt.self, tt.onPath); got != tt.want {
			t.Errorf("%s: commandFor = %q, want %q", tt.name, got, tt.want)
		}
	}
}
