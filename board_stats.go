package main

// What the board logs: counts and errors, never room codes, payloads,
// secrets or client addresses.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

const boardLogEvery = time.Minute

// boardStats counts what happened; the counters only grow.
type boardStats struct {
	requests      atomic.Int64
	writes        atomic.Int64
	streamsOpened atomic.Int64
	roomsExpired  atomic.Int64
	connsRefused  atomic.Int64      // closed at once: the address held its maximum
	status        [600]atomic.Int64 // answers by HTTP status
	serverErrors  boardServerErrors
}

func (s *boardStats) count(status int) {
	if status >= 0 && status < len(s.status) {
		s.status[status].Add(1)
	}
}

// boardServerErrors receives net/http's own error log. Its lines name
// client addresses, so they are counted, not printed; failed TLS
// handshakes are so common on the internet that they get a count of
// their own.
type boardServerErrors struct {
	tls, other atomic.Int64
}

func (e *boardServerErrors) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("TLS handshake error")) {
		e.tls.Add(1)
	} else {
		e.other.Add(1)
	}
	return len(p), nil
}

// boardSnapshot is the state of the counters at one moment.
type boardSnapshot struct {
	requests, writes, streamsOpened, roomsExpired, connsRefused int64
	status                                                      map[int]int64 // non-zero counts of 4xx and 5xx
	tlsErrors, serverErrors                                     int64
	streamsOpen, rooms                                          int
}

func (b *board) snapshot() boardSnapshot {
	s := &b.stats
	snap := boardSnapshot{
		requests:      s.requests.Load(),
		writes:        s.writes.Load(),
		streamsOpened: s.streamsOpened.Load(),
		roomsExpired:  s.roomsExpired.Load(),
		connsRefused:  s.connsRefused.Load(),
		status:        make(map[int]int64),
		tlsErrors:     s.serverErrors.tls.Load(),
		serverErrors:  s.serverErrors.other.Load(),
	}
	for code := 400; code < len(s.status); code++ {
		if n := s.status[code].Load(); n > 0 {
			snap.status[code] = n
		}
	}
	b.mu.Lock()
	snap.streamsOpen, snap.rooms = len(b.live), b.rooms.len()
	b.mu.Unlock()
	return snap
}

// boardStatusWords says what each refusal status means on this board.
var boardStatusWords = map[int]string{
	http.StatusBadRequest:            "malformed",
	http.StatusUnauthorized:          "denied",
	http.StatusNotFound:              "not found",
	http.StatusMethodNotAllowed:      "bad method",
	http.StatusPreconditionFailed:    "etag mismatch",
	http.StatusRequestEntityTooLarge: "too large",
	http.StatusTooManyRequests:       "rate or per-address limit",
	http.StatusInternalServerError:   "internal error",
	http.StatusServiceUnavailable:    "full or closing",
}

// logLine describes what changed since prev, or "" when nothing did.
func (cur boardSnapshot) logLine(prev boardSnapshot, over time.Duration) string {
	if cur.requests == prev.requests && cur.tlsErrors == prev.tlsErrors &&
		cur.serverErrors == prev.serverErrors && cur.roomsExpired == prev.roomsExpired &&
		cur.connsRefused == prev.connsRefused {
		return ""
	}
	var refused []string
	for code := 400; code < 600; code++ {
		if n := cur.status[code] - prev.status[code]; n > 0 {
			word := boardStatusWords[code]
			if word == "" {
				word = "other"
			}
			refused = append(refused, fmt.Sprintf("%d %d %s", n, code, word))
		}
	}
	line := fmt.Sprintf("board: in %v: %d requests, %d writes, %d streams opened, %d rooms expired; now %d streams open, %d rooms",
		over.Round(time.Second), cur.requests-prev.requests, cur.writes-prev.writes,
		cur.streamsOpened-prev.streamsOpened, cur.roomsExpired-prev.roomsExpired, cur.streamsOpen, cur.rooms)
	if len(refused) > 0 {
		line += "; refused: " + strings.Join(refused, ", ")
	}
	if n := cur.connsRefused - prev.connsRefused; n > 0 {
		line += fmt.Sprintf("; %d connections closed at once (too many from one address)", n)
	}
	if n := cur.tlsErrors - prev.tlsErrors; n > 0 {
		line += fmt.Sprintf("; %d failed TLS handshakes", n)
	}
	if n := cur.serverErrors - prev.serverErrors; n > 0 {
		line += fmt.Sprintf("; %d connection errors", n)
	}
	return line
}

// runLog writes a line of counts every interval in which something
// happened since prev, and a last one when ctx ends.
func (b *board) runLog(ctx context.Context, w io.Writer, every time.Duration, prev boardSnapshot) {
	since := time.Now()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if line := b.snapshot().logLine(prev, time.Since(since)); line != "" {
				fmt.Fprintln(w, line)
			}
			return
		case <-tick.C:
		}
		cur := b.snapshot()
		if line := cur.logLine(prev, time.Since(since)); line != "" {
			fmt.Fprintln(w, line)
		}
		prev, since = cur, time.Now()
	}
}
