//go:build unix

package main

import (
	"syscall"
	"testing"
)

// loadRaiseFileLimit lets this process (and the board it starts, which
// inherits the limit) hold every connection: as root past the hard limit,
// else up to it.
func loadRaiseFileLimit(b *testing.B) uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatal(err)
	}
	want := syscall.Rlimit{Cur: max(lim.Max, 1<<16), Max: max(lim.Max, 1<<16)}
	if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) == nil {
		return want.Cur
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatal(err)
	}
	return lim.Cur
}
