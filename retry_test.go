package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"
	"testing"
	"time"
)

// TestRetryable: the one classification every board caller uses, HTTP 408
// included (the flows once disagreed with the janitor on it).
func TestRetryable(t *testing.T) {
	status := func(code int) error { return &statusError{Method: "GET", URL: "http://h/x.json", Status: code} }
	netErr := func(err error) error { return &url.Error{Op: "GET", URL: "http://h/x.json", Err: err} }
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"400", status(400), false},
		{"401", status(401), false},
		{"403", status(403), false},
		{"404", status(404), false},
		{"408", status(408), true},
		{"412", status(412), false},
		{"429", status(429), true},
		{"500", status(500), true},
		{"503", status(503), true},
		{"connection refused", netErr(&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}), true},
		{"no such host", netErr(&net.DNSError{Err: "no such host", Name: "h"}), true},
		{"timeout", netErr(context.DeadlineExceeded), true},
		{"cut off mid-body", netErr(io.ErrUnexpectedEOF), true},
		{"certificate", netErr(x509.UnknownAuthorityError{}), false},
		{"hostname", netErr(x509.HostnameError{Host: "h"}), false},
		{"cancelled", netErr(context.Canceled), false},
		{"redirect refused", fmt.Errorf("GET: %w", errBoardRedirect), false},
		{"not a stream", fmt.Errorf("GET: %w", errBoardNotStream), false},
		{"too large", fmt.Errorf("GET: %w", errBoardTooLarge), false},
		{"bad path", fmt.Errorf("%w: x", errBoardPath), false},
		{"stream ended", errStreamEnded, true},
		{"stream silent", fmt.Errorf("%w: nothing for 75s", errStreamIdle), true},
		{"stream cancelled", errStreamCancelled, true},
		{"credential revoked", errStreamAuthRevoked, true},
		{"line too long", errStreamLineTooLong, true},
		{"garbled event", fmt.Errorf("%w: bad", errStreamGarbled), true},
		{"stream cut", fmt.Errorf("%w: reset", errStreamCut), true},
		{"anything else", errors.New("something"), false},
	}
	for _, tt := range tests {
		if got := retryable(tt.err); got != tt.want {
			t.Errorf("retryable(%s: %v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

func TestJitter(t *testing.T) {
	for _, d := range []time.Duration{0, time.Nanosecond, boardBackoff.first, boardBackoff.max} {
		for range 100 {
			if got := jitter(d); got < d*3/4 || got > d*5/4 {
				t.Fatalf("jitter(%v) = %v, want within [%v, %v]", d, got, d*3/4, d*5/4)
			}
		}
	}
}

// TestBackoffDoubles: waits double from the first up to the most, and a
// reset starts them over.
func TestBackoffDoubles(t *testing.T) {
	b := backoff{first: time.Nanosecond, max: 4 * time.Nanosecond}
	var seen []time.Duration
	for range 5 {
		seen = append(seen, max(b.next, b.first))
		if err := b.wait(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	want := []time.Duration{1, 2, 4, 4, 4}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("waits %v, want %v", seen, want)
	}
	b.reset()
	if b.next != 0 {
		t.Errorf("after reset the next wait is %v, want the first", b.next)
	}
}

// TestBackoffHonoursRetryAfter: a board's Retry-After lengthens a wait
// (up to retryAfterMax), never shortens one, and does not change the
// doubling.
func TestBackoffHonoursRetryAfter(t *testing.T) {
	tests := []struct {
		name    string
		failed  error
		atLeast time.Duration
		atMost  time.Duration
	}{
		{"no error", nil, 0, 2 * time.Millisecond},
		{"network error", errors.New("reset"), 0, 2 * time.Millisecond},
		{"asked for 7s", &statusError{Status: 503, RetryAfter: 7 * time.Second}, 7 * time.Second, 7 * time.Second},
		{"asked for an hour", &statusError{Status: 429, RetryAfter: time.Hour}, retryAfterMax, retryAfterMax},
		{"wrapped", fmt.Errorf("put: %w", &statusError{Status: 503, RetryAfter: 3 * time.Second}), 3 * time.Second, 3 * time.Second},
	}
	for _, tt := range tests {
		b := backoff{first: time.Millisecond, max: time.Second}
		if d := b.delay(tt.failed); d < tt.atLeast || d > tt.atMost {
			t.Errorf("%s: wait %v, want within [%v, %v]", tt.name, d, tt.atLeast, tt.atMost)
		}
		if b.next != 2*time.Millisecond {
			t.Errorf("%s: the next wait is %v, want it doubled as usual", tt.name, b.next)
		}
	}
}

// TestRetryKeepsLastError: when time runs out during a wait, retry says
// both: the context's error, and what kept failing (so a host can say
// "the board is full", not only "timed out").
func TestRetryKeepsLastError(t *testing.T) {
	full := &statusError{Status: 503, Message: "the board is full"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	err := retry(ctx, backoff{first: time.Hour, max: time.Hour}, tries(5), func(context.Context) error { return full })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("retry = %v, want it to wrap context.DeadlineExceeded", err)
	}
	if se, ok := errors.AsType[*statusError](err); !ok || se != full {
		t.Errorf("retry = %v, want it to wrap the last try's error", err)
	}
}

// TestRetryStops: retry tries again only what retryable accepts, as often
// as more allows, and not after ctx ends.
func TestRetryStops(t *testing.T) {
	quick := backoff{first: time.Nanosecond, max: time.Nanosecond}
	busy := &statusError{Status: 503}
	tests := []struct {
		name      string
		errs      []error // what each call returns; the last repeats
		allowed   int
		wantCalls int
	}{
		{"success", []error{nil}, 3, 1},
		{"passes", []error{busy, busy, nil}, 5, 3},
		{"gives up", []error{busy}, 3, 3},
		{"final at once", []error{&statusError{Status: 404}}, 5, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			err := retry(context.Background(), quick, tries(tt.allowed), func(context.Context) error {
				err := tt.errs[min(calls, len(tt.errs)-1)]
				calls++
				return err
			})
			if calls != tt.wantCalls {
				t.Errorf("%d calls, want %d", calls, tt.wantCalls)
			}
			if (err == nil) != (tt.errs[len(tt.errs)-1] == nil) {
				t.Errorf("retry = %v", err)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := 0
	err := retry(ctx, backoff{first: time.Hour, max: time.Hour}, tries(5), func(context.Context) error {
		calls++
		return busy
	})
	if calls != 1 || err == nil {
		t.Errorf("with ctx done: %d calls, %v; want one call and its error", calls, err)
	}
}
