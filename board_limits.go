package main

// Per-client-address limits: who a client is, and how fast it may write.

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clientAddr names the client for per-address limits. Behind a reverse
// proxy on this machine (-trust-proxy), the proxy's X-Forwarded-For names
// it; a peer elsewhere could forge that header, so it is only believed from
// loopback. IPv6 clients are grouped by /64, the block one subscriber
// usually gets, or else one machine could pose as countless addresses.
func (b *board) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host // not an IP (a test's ResponseRecorder, say): use as is
	}
	addr = addr.Unmap()
	if b.trustProxy && addr.IsLoopback() {
		if fwd, ok := boardForwardedFor(r.Header); ok {
			addr = fwd
		}
	}
	if addr.Is6() {
		prefix, _ := addr.Prefix(64)
		return prefix.String()
	}
	return addr.String()
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
// addresses that wrote recently, not all that ever did.
type boardRateLimiter struct {
	rate  float64 // tokens per second
	burst float64

	mu        sync.Mutex
	buckets   map[string]*boardBucket
	nextSweep int // sweep when the map grows past this
}

type boardBucket struct {
	tokens float64
	last   time.Time
}

const boardRateSweepMin = 1024

func newBoardRateLimiter(rate float64, burst int) *boardRateLimiter {
	return &boardRateLimiter{
		rate:      rate,
		burst:     float64(burst),
		buckets:   make(map[string]*boardBucket),
		nextSweep: boardRateSweepMin,
	}
}

// allow takes one token from addr's bucket, or says when to come back.
func (l *boardRateLimiter) allow(addr string, now time.Time) error {
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
	if bk.tokens >= 1 {
		bk.tokens--
		return nil
	}
	wait := time.Duration((1 - bk.tokens) / l.rate * float64(time.Second))
	secs := max(1, int(math.Ceil(wait.Seconds())))
	return &boardHTTPError{
		status: http.StatusTooManyRequests,
		text:   fmt.Sprintf("Too many requests: at most %g writes per second from one address; try again in %ds", l.rate, secs),
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
