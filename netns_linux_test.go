package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// listenIn opens a TCP listener on addr inside the network namespace of
// the process pid. A socket belongs to the namespace of the thread that
// creates it: a goroutine locked to its thread moves that thread into
// pid's namespace, listens, and ends still locked, so that the runtime
// discards the thread instead of running other goroutines in the wrong
// namespace.
func listenIn(t testing.TB, pid, addr string) net.Listener {
	t.Helper()
	type result struct {
		l   net.Listener
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see above
		ns, err := os.Open("/proc/" + pid + "/ns/net")
		if err != nil {
			done <- result{err: err}
			return
		}
		defer ns.Close()
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- result{err: fmt.Errorf("setns: %w", err)}
			return
		}
		l, err := net.Listen("tcp", addr)
		done <- result{l, err}
	}()
	r := <-done
	if r.err != nil {
		t.Fatalf("listening on %s in the namespace of %s: %v", addr, pid, r.err)
	}
	t.Cleanup(func() { r.l.Close() })
	return r.l
}

// relay forwards each connection that l accepts to target, dialled from
// this namespace, until the test ends. A connection to a target that is
// down is accepted and closed at once.
func relay(t testing.TB, l net.Listener, target string) {
	var (
		mu     sync.Mutex
		conns  []net.Conn
		ending bool
		wg     sync.WaitGroup
	)
	// track has the end of the test close c, or closes it now if the test
	// has ended.
	track := func(c net.Conn) {
		mu.Lock()
		defer mu.Unlock()
		if ending {
			c.Close()
		}
		conns = append(conns, c)
	}
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		ending = true
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			track(c)
			wg.Go(func() {
				defer c.Close()
				up, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				track(up)
				defer up.Close()
				go func() {
					_, _ = io.Copy(up, c)
					_ = up.(*net.TCPConn).CloseWrite()
				}()
				_, _ = io.Copy(c, up)
			})
		}
	})
}
