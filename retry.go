package main

// One retry policy for everything that talks to a board: the host and join
// flows, the board client's streams and the janitor. Which failures are
// worth another try is decided in one place (retryable), and every wait
// before a try is the same exponential backoff with jitter; only how long
// the waits are and how many tries there are differ between callers.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"time"
)

// backoff is exponential backoff with jitter: the waits double from first
// up to max, and each is spread over [0.75, 1.25) of itself, so that
// clients dropped together do not come back together.
type backoff struct {
	first, max time.Duration
	next       time.Duration // the coming wait; 0 before the first
}

// Backoffs of the callers, as values to copy: a backoff counts its waits.
var (
	// boardBackoff is for a chat's board calls and stream reconnects:
	// quick enough that a blip goes unnoticed, slow enough not to hammer
	// a board that is down.
	boardBackoff = backoff{first: 250 * time.Millisecond, max: 5 * time.Second}
	// janitorBackoff is gentler: the janitor has no one waiting on it,
	// and a board in trouble should not get a purge's worth of requests
	// at once.
	janitorBackoff = backoff{first: 500 * time.Millisecond, max: 10 * time.Second}
)

// wait sleeps for the coming wait after the failure failed (nil for
// none), or for as long as the board asked in its Retry-After if that is
// longer, unless ctx ends first, and doubles the one after it.
func (b *backoff) wait(ctx context.Context, failed error) error {
	return sleep(ctx, b.delay(failed))
}

// delay is the coming wait after failed; it doubles the one after it.
func (b *backoff) delay(failed error) time.Duration {
	if b.next <= 0 {
		b.next = b.first
	}
	var asked time.Duration
	if se, ok := errors.AsType[*statusError](failed); ok {
		asked = se.RetryAfter
	}
	d := max(jitter(b.next), min(asked, retryAfterMax))
	b.next = min(2*b.next, b.max)
	return d
}

// retryAfterMax caps how long a board's Retry-After makes a client wait
// between two tries: a board's word, not a command to wait forever.
const retryAfterMax = time.Minute

// reset starts the waits over, after a success.
func (b *backoff) reset() { b.next = 0 }

// jitter spreads d over [0.75d, 1.25d).
func jitter(d time.Duration) time.Duration {
	return d*3/4 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// sleep waits for d unless ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retry calls call until it succeeds, fails in a way that trying again
// cannot fix, or more (told how many tries were made) says to stop,
// waiting with b between tries. It returns the last call's error; when ctx
// ends during a wait, ctx's error with the last call's, so that the caller
// can say both why it stopped and what kept failing.
func retry(ctx context.Context, b backoff, more func(tries int) bool, call func(context.Context) error) error {
	for tries := 1; ; tries++ {
		err := call(ctx)
		if err == nil || !retryable(err) || !more(tries) || ctx.Err() != nil {
			return err
		}
		if werr := b.wait(ctx, err); werr != nil {
			return fmt.Errorf("%w (the last try: %w)", werr, err)
		}
	}
}

// tries returns a more for retry that allows n tries in all.
func tries(n int) func(int) bool { return func(made int) bool { return made < n } }

// retryable reports whether a board call that failed with err may succeed
// if tried again: the network failed (refused, reset, cut off, timed out,
// no such host yet), the board is busy or failing (408, 429, 5xx), or a
// stream broke. What is wrong with the request itself (any other 4xx), a
// certificate that does not verify, a redirect refused, an answer that is
// not what a board sends, and a cancelled call are final.
func retryable(err error) bool {
	var se *statusError
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return false
	case errors.As(err, &se):
		return se.Status == http.StatusRequestTimeout || se.Status == http.StatusTooManyRequests || se.Status >= 500
	case errors.Is(err, errBoardRedirect), errors.Is(err, errBoardNotStream), errors.Is(err, errBoardTooLarge), isTLSFailure(err):
		return false
	case streamBroke(err), errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	var (
		opErr  *net.OpError
		dnsErr *net.DNSError
		netErr net.Error
		urlErr *url.Error
	)
	return errors.As(err, &opErr) || errors.As(err, &dnsErr) || errors.As(err, &netErr) || errors.As(err, &urlErr)
}

// streamBroke reports why a stream that was open ended: the board closed
// it, it went silent, it was cancelled or its credential revoked, or it
// sent what no board sends. A new stream may go better.
func streamBroke(err error) bool {
	for _, reason := range []error{errStreamEnded, errStreamIdle, errStreamCancelled, errStreamAuthRevoked, errStreamLineTooLong, errStreamGarbled, errStreamCut} {
		if errors.Is(err, reason) {
			return true
		}
	}
	return false
}
