//go:build !windows

package main

import (
	"os"
	ossignal "os/signal"
	"syscall"
)

// watchResize calls onResize whenever the terminal changes size (SIGWINCH)
// until the returned stop function is called.
func watchResize(onResize func()) (stop func()) {
	ch := make(chan os.Signal, 1)
	ossignal.Notify(ch, syscall.SIGWINCH)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
				onResize()
			case <-done:
				return
			}
		}
	}()
	return func() { ossignal.Stop(ch); close(done) }
}
