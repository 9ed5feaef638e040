//go:build unix

package main

import (
	"os"
	"syscall"
	"time"
)

// askForStacks sends SIGQUIT, on which a Go program prints every
// goroutine's stack and the aiortc peer its Python stacks, and waits a
// little for it to exit.
func askForStacks(p *os.Process, done <-chan struct{}) {
	if p.Signal(syscall.SIGQUIT) != nil {
		return
	}
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
}
