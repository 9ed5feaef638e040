package main

// Per-client-address limits: who a client is, how many connections it may
// hold, and how fast it may read and write. What each limit stops, and its
// figures, is in docs/BOARD.md, "Limits".

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// clientAddr names the client for per-address limits. Behind a reverse
// proxy on this machine (-trust-proxy), the proxy's X-Forwarded-For names
// it; a peer elsewhere could forge that header, so it is only believed from
// loopback.
func (b *board) clientAddr(r *http.Request) string {
	addr, ok := boardRemoteIP(r.RemoteAddr)
	if !ok {
		return r.RemoteAddr // not an IP (a test's ResponseRecorder, say): use as is
	}
	if b.trustProxy && addr.IsLoopback() {
		if fwd, ok := boardForwardedFor(r.Header); ok {
			addr = fwd
		}
	}
	return boardAddrKey(addr)
}

// boardRemoteIP parses a connection's remote address.
func boardRemoteIP(hostport string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	addr, err := netip.ParseAddr(host)
	return addr.Unmap(), err == nil
}

// boardAddrKey is the name under which an address is limited. IPv6
// clients are grouped by /48, the most a site is usually given: grouping
// by /64 would let one site with a /48 pose as 65,536 clients.
func boardAddrKey(addr netip.Addr) string {
	if addr.Is6() {
		prefix, _ := addr.Prefix(boardIPv6Prefix)
		return prefix.String()
	}
	return addr.String()
}

const boardIPv6Prefix = 48

// boardListener caps the connections one address holds open, so that one
// client cannot take every file descriptor with idle keep-alive
// connections. A connection past the cap is closed as soon as it is
// accepted: nothing has been read from it, and under TLS no HTTP answer
// could be sent before a handshake that would cost more than the
// connection itself. Loopback is not capped behind a trusted proxy, which
// holds every client's connections.
type boardListener struct {
	net.Listener
	perAddr       int
	trustLoopback bool
	refused       *atomic.Int64 // connections closed at once, for the log

	mu   sync.Mutex
	open map[string]int
}

func newBoardListener(ln net.Listener, perAddr int, trustLoopback bool, refused *atomic.Int64) net.Listener {
	if perAddr <= 0 {
		return ln
	}
	return &boardListener{Listener: ln, perAddr: perAddr, trustLoopback: trustLoopback, refused: refused, open: make(map[string]int)}
}

func (l *boardListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		addr, ok := boardRemoteIP(c.RemoteAddr().String())
		if !ok || (l.trustLoopback && addr.IsLoopback()) {
			return c, nil
		}
		key := boardAddrKey(addr)
		if l.take(key) {
			return &boardLimitedConn{Conn: c, release: func() { l.give(key) }}, nil
		}
		l.refused.Add(1)
		_ = c.Close()
	}
}

func (l *boardListener) take(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key] >= l.perAddr {
		return false
	}
	l.open[key]++
	return true
}

func (l *boardListener) give(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key]--; l.open[key] <= 0 {
		delete(l.open, key)
	}
}

// boardLimitedConn gives its place back once, on its first Close: net/http
// and a hijacked stream may both close it.
type boardLimitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *boardLimitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// boardForwardedFor returns the last address in X-Forwarded-For: the one
// the proxy itself added.
func boardForwardedFor(h http.Header) (netip.Addr, bool) {
	values := h.Values("X-Forwarded-For")
	if len(values) == 0 {
		return netip.Addr{}, false
	}
	list := values[len(values)-1]
	last := strings.TrimSpace(list[strings.LastIndexByte(list, ',')+1:])
	addr, err := netip.ParseAddr(last)
	if err != nil {
		return netip.Addr{}, false
	}
	return addr.Unmap(), true
}

// boardRateLimiter is a token bucket per client address. Buckets that
// have refilled are forgotten, so its memory follows the number of
// addresses that used it recently, not all that ever did.
type boardRateLimiter struct {
	rate  float64 // tokens per second
	burst float64
	what  string // what a token buys, for the refusal: "writes", "reads"

	mu        sync.Mutex
	buckets   map[string]*boardBucket
	nextSweep int // sweep when the map grows past this
}

type boardBucket struct {
	tokens float64
	last   time.Time
}

const boardRateSweepMin = 1024

func newBoardRateLimiter(rate float64, burst int, what string) *boardRateLimiter {
	return &boardRateLimiter{
		rate:      rate,
		burst:     float64(burst),
		what:      what,
		buckets:   make(map[string]*boardBucket),
		nextSweep: boardRateSweepMin,
	}
}

// allow takes cost tokens from addr's bucket, or says when to come back.
func (l *boardRateLimiter) allow(addr string, now time.Time, cost float64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	bk := l.buckets[addr]
	if bk == nil {
		if len(l.buckets) >= l.nextSweep {
			l.sweep(now)
		}
		bk = &boardBucket{tokens: l.burst, last: now}
		l.buckets[addr] = bk
	}
	bk.tokens = l.refill(bk, now)
	bk.last = now
	if bk.tokens >= cost {
		bk.tokens -= cost
		return nil
	}
	wait := time.Duration((cost - bk.tokens) / l.rate * float64(time.Second))
	return boardRetryLater(http.StatusTooManyRequests, wait,
		"Too many requests: at most %g %s per second from one address", l.rate, l.what)
}

// boardRetryLater is a refusal that says when to come back, in its text
// and in Retry-After (whole seconds, at least one).
func boardRetryLater(status int, wait time.Duration, format string, args ...any) error {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	return &boardHTTPError{
		status: status,
		text:   fmt.Sprintf(format, args...) + fmt.Sprintf("; try again in %ds", secs),
		header: http.Header{"Retry-After": {strconv.Itoa(secs)}},
	}
}

func (l *boardRateLimiter) refill(bk *boardBucket, now time.Time) float64 {
	elapsed := max(0, now.Sub(bk.last).Seconds())
	return min(l.burst, bk.tokens+elapsed*l.rate)
}

// sweep forgets full buckets: forgetting one changes nothing, since a new
// bucket starts full. The next sweep waits until the map has doubled, so
// sweeping costs O(1) per write, amortized.
func (l *boardRateLimiter) sweep(now time.Time) {
	for addr, bk := range l.buckets {
		if l.refill(bk, now) >= l.burst {
			delete(l.buckets, addr)
		}
	}
	l.nextSweep = max(boardRateSweepMin, 2*len(l.buckets))
}

// size is the number of addresses remembered, for tests.
func (l *boardRateLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
