package main

// The connection cap needs connections from many addresses: on Linux the
// whole of 127.0.0.0/8 is loopback, so a test dials from 127.0.0.x
// without configuring an alias.

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// boardTestDialFrom opens a connection to addr from the loopback address
// from.
func boardTestDialFrom(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: boardTestWait}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", from, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// boardTestKeepAlive sends one GET on c and reads its answer, leaving c
// open and idle; it reports whether the board answered 200.
func boardTestKeepAlive(c net.Conn, r *bufio.Reader) bool {
	_ = c.SetDeadline(time.Now().Add(boardTestWait))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, "GET /rooms/ABC123/offer.json HTTP/1.1\r\nHost: board\r\n\r\n"); err != nil {
		return false
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// TestBoardConnectionsPerAddress: the review held 20,000 idle keep-alive
// connections from one address until the board's file descriptors ran
// out. One address now holds boardDefaultMaxConnsPerAddr; the next is
// closed at once, another address is served meanwhile, and a connection
// that closes gives its place back. Behind a trusted proxy, loopback (the
// proxy) is not capped.
func TestBoardConnectionsPerAddress(t *testing.T) {
	tests := []struct {
		name       string
		trustProxy bool
		want       int
	}{
		{"capped", false, boardDefaultMaxConnsPerAddr},
		{"behind a trusted proxy", true, boardDefaultMaxConnsPerAddr + 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, b, _, _ := boardTestStartServer(t, boardOptions{trustProxy: tt.trustProxy, readRate: -1})
			addr := strings.TrimPrefix(base, "http://")
			served := 0
			var kept []net.Conn
			for range boardDefaultMaxConnsPerAddr + 8 {
				c := boardTestDialFrom(t, "127.0.0.1", addr)
				if boardTestKeepAlive(c, bufio.NewReader(c)) {
					served++
					kept = append(kept, c)
				}
			}
			if served != tt.want {
				t.Errorf("%d connections from one address were served, want %d", served, tt.want)
			}
			other := boardTestDialFrom(t, "127.0.0.2", addr)
			if !boardTestKeepAlive(other, bufio.NewReader(other)) {
				t.Error("another address was not served")
			}
			if tt.trustProxy {
				return
			}
			if n := b.stats.connsRefused.Load(); n != 8 {
				t.Errorf("%d connections counted as refused, want 8", n)
			}
			kept[0].Close()
			boardTestEventually(t, "a closed connection to give its place back", func() bool {
				c := boardTestDialFrom(t, "127.0.0.1", addr)
				return boardTestKeepAlive(c, bufio.NewReader(c))
			})
		})
	}
}

// TestBoardClosesIdleConnections: an idle keep-alive connection holds one
// of its address's few places, so the board closes it after idleTimeout.
// Without that, the read below would wait for boardTestWait and fail.
func TestBoardClosesIdleConnections(t *testing.T) {
	base, _, _, _ := boardTestStartServer(t, boardOptions{idleTimeout: 100 * time.Millisecond})
	c := boardTestDialFrom(t, "127.0.0.1", strings.TrimPrefix(base, "http://"))
	r := bufio.NewReader(c)
	if !boardTestKeepAlive(c, r) {
		t.Fatal("the board did not answer")
	}
	_ = c.SetReadDeadline(time.Now().Add(boardTestWait))
	if _, err := r.ReadByte(); err != io.EOF {
		t.Fatalf("an idle connection was not closed: read gave %v, want EOF", err)
	}
}
