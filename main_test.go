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
// whose memory is bounded, a higher one for a transfer, and never for the
// board or the janitor, which may legitimately hold much more.
func TestMemoryLimitOnlyForChats(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // every mode returns at once
	code := joinCode{room: "K7P2M0", secret: "4F9Q"}.String()
	for _, tc := range []struct {
		args []string
		want int64 // 0: none set
	}{
		{[]string{"-join", "ABC123", "-db", "http://127.0.0.1:1", "-ice", "none"}, chatSoftMemoryLimit},
		{[]string{"-host", "-db", "http://127.0.0.1:1", "-ice", "none"}, chatSoftMemoryLimit},
		{[]string{"-receive", code, "-db", "http://127.0.0.1:1", "-ice", "none"}, transferSoftMemoryLimit},
		{[]string{"-send", "-db", "http://127.0.0.1:1", "-ice", "none", "main.go"}, transferSoftMemoryLimit},
		{[]string{"-serve", "127.0.0.1:0"}, 0},
		{[]string{"-janitor", "-db", "http://127.0.0.1:1"}, 0},
		{[]string{"-h"}, 0},
	} {
		var got int64
		e := env{stdin: eofReader{}, stdout: io.Discard, stderr: io.Discard, stdinFd: -1,
			getenv: func(string) string { return "" }, limitMemory: func(b int64) { got = b }}
		run(ctx, tc.args, e)
		if got != tc.want {
			t.Errorf("gopeer %v: memory limit set to %d, want %d", tc.args, got, tc.want)
		}
	}
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// TestLimitMemoryYieldsToGOMEMLIMIT: the chat's soft limit applies
// unless the user chose one with $GOMEMLIMIT.
func TestLimitMemoryYieldsToGOMEMLIMIT(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })

	t.Setenv("GOMEMLIMIT", "")
	limitMemory(chatSoftMemoryLimit)
	if got := debug.SetMemoryLimit(before); got != chatSoftMemoryLimit {
		t.Errorf("without GOMEMLIMIT the limit is %d, want %d", got, chatSoftMemoryLimit)
	}
	t.Setenv("GOMEMLIMIT", "1GiB")
	limitMemory(chatSoftMemoryLimit)
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
