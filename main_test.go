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
		want memoryBudget // zero: none applied
	}{
		{[]string{"-join", "ABC123", "-db", "http://127.0.0.1:1", "-ice", "none"}, chatMemory},
		{[]string{"-host", "-db", "http://127.0.0.1:1", "-ice", "none"}, chatMemory},
		{[]string{"-receive", code, "-db", "http://127.0.0.1:1", "-ice", "none"}, transferMemory},
		{[]string{"-send", "-db", "http://127.0.0.1:1", "-ice", "none", "main.go"}, transferMemory},
		{[]string{"-serve", "127.0.0.1:0"}, memoryBudget{}},
		{[]string{"-janitor", "-db", "http://127.0.0.1:1"}, memoryBudget{}},
		{[]string{"-h"}, memoryBudget{}},
	} {
		var got memoryBudget
		e := env{stdin: eofReader{}, stdout: io.Discard, stderr: io.Discard, stdinFd: -1,
			getenv: func(string) string { return "" }, limitMemory: func(b memoryBudget) { got = b }}
		run(ctx, tc.args, e)
		if got != tc.want {
			t.Errorf("gopeer %v: memory budget %+v, want %+v", tc.args, got, tc.want)
		}
	}
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// TestLimitMemory: a budget sets the soft limit and, for a transfer,
// leaves starting the collector to it, except where the user chose:
// $GOMEMLIMIT leaves both alone, $GOGC leaves the pacing alone.
func TestLimitMemory(t *testing.T) {
	limitBefore := debug.SetMemoryLimit(-1)
	percentBefore := debug.SetGCPercent(100)
	t.Cleanup(func() {
		debug.SetMemoryLimit(limitBefore)
		debug.SetGCPercent(percentBefore)
	})
	const untouchedLimit, untouchedPercent = 1 << 40, 77
	for _, tc := range []struct {
		name             string
		gomemlimit, gogc string
		budget           memoryBudget
		wantLimit        int64
		wantPercent      int
	}{
		{"chat", "", "", chatMemory, chatMemory.limit, untouchedPercent},
		{"transfer", "", "", transferMemory, transferMemory.limit, -1},
		{"transfer, GOGC set", "", "200", transferMemory, transferMemory.limit, untouchedPercent},
		{"chat, GOMEMLIMIT set", "1GiB", "", chatMemory, untouchedLimit, untouchedPercent},
		{"transfer, GOMEMLIMIT set", "1GiB", "", transferMemory, untouchedLimit, untouchedPercent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOMEMLIMIT", tc.gomemlimit)
			t.Setenv("GOGC", tc.gogc)
			debug.SetMemoryLimit(untouchedLimit)
			debug.SetGCPercent(untouchedPercent)
			limitMemory(tc.budget)
			if got := debug.SetMemoryLimit(-1); got != tc.wantLimit {
				t.Errorf("limit %d, want %d", got, tc.wantLimit)
			}
			if got := debug.SetGCPercent(untouchedPercent); got != tc.wantPercent {
				t.Errorf("GC percent %d, want %d", got, tc.wantPercent)
			}
		})
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
