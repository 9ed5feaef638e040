package main

// Hostile values in a room's offer and answer slots, against the join and
// host flows: each row is what a stranger (or a broken peer) put on the
// board, and what gopeer must do about it.

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// sealRaw seals any plaintext for room and password at a given time, as a
// stranger who knows the password (or a broken peer) could.
func sealRaw(t *testing.T, room, password string, plain []byte, at time.Time) string {
	t.Helper()
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(plain)
	w.Close()
	token, err := roomKey(room, password).encrypt(z.Bytes(), at, nil)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// zlibBomb is a sealed plaintext that inflates to 16 MiB of zeros, 64 times
// what opening a signal accepts.
func zlibBomb(t *testing.T, room, password string, at time.Time) string {
	t.Helper()
	var z bytes.Buffer
	w, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	io.Copy(w, io.LimitReader(zeroReader{}, 16<<20))
	w.Close()
	token, err := roomKey(room, password).encrypt(z.Bytes(), at, nil)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// hostileWait is how long a flow facing a hostile value waits before the
// test calls it a timeout: long enough to see and judge the value.
const hostileWait = 2500 * time.Millisecond

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// hostileSlotCase is one value a stranger puts in a slot.
type hostileSlotCase struct {
	name  string
	value func(t *testing.T, room string, now time.Time) any
	// kind is the failure kind the flow ends with; "" means it keeps
	// waiting (until the test's short timeout) after warning with warn.
	kind string
	warn string
	// hostWarn is what a host facing it in the answer slot must say,
	// besides that it ignored an answer.
	hostWarn string
}

func board1(payload string) any { return map[string]any{"payload": payload, "timestamp": 1} }

var hostileOffers = []hostileSlotCase{
	{"not base64", func(*testing.T, string, time.Time) any { return board1("%%%not a token%%%") }, "", "ignored the offer", ""},
	{"truncated token", func(t *testing.T, room string, now time.Time) any {
		tok := sealRaw(t, room, "pw", []byte(`{"sdp":"v=0","type":"offer"}`), now)
		return board1(tok[:len(tok)/2])
	}, "", "ignored the offer", ""},
	{"another password", func(t *testing.T, room string, now time.Time) any {
		return board1(sealRaw(t, room, "other", []byte(`{"sdp":"v=0","type":"offer"}`), now))
	}, kindWrongPassword, "", ""},
	{"tampered token", func(t *testing.T, room string, now time.Time) any {
		// A ciphertext byte, changed in the decoded token: flipping a
		// base64 character instead sometimes made it invalid base64,
		// which is garbage to be ignored, not a wrong password.
		return board1(signalTestFlip(t, sealRaw(t, room, "pw", []byte(`{"sdp":"v=0","type":"offer"}`), now), 30))
	}, kindWrongPassword, "", ""},
	{"replayed: older than the TTL", func(t *testing.T, room string, now time.Time) any {
		return board1(sealRaw(t, room, "pw", []byte(`{"sdp":"v=0","type":"offer"}`), now.Add(-11*time.Minute)))
	}, "", "ignored the offer", ""},
	{"from the future", func(t *testing.T, room string, now time.Time) any {
		return board1(sealRaw(t, room, "pw", []byte(`{"sdp":"v=0","type":"offer"}`), now.Add(10*time.Minute)))
	}, "", "ignored the offer", ""},
	{"zlib bomb", func(t *testing.T, room string, now time.Time) any {
		return board1(zlibBomb(t, room, "pw", now))
	}, "", "ignored the offer", ""},
	{"plaintext not JSON", func(t *testing.T, room string, now time.Time) any {
		return board1(sealRaw(t, room, "pw", []byte("hello"), now))
	}, "", "ignored the offer", ""},
	{"missing sdp", func(t *testing.T, room string, now time.Time) any {
		return board1(sealRaw(t, room, "pw", []byte(`{"type":"offer"}`), now))
	}, "", "ignored the offer", ""},
	{"an answer in the offer slot", func(t *testing.T, room string, now time.Time) any {
		return board1(sealRaw(t, room, "pw", []byte(`{"sdp":"v=0","type":"answer"}`), now))
	}, "", "ignored the offer", ""},
	{"SDP garbage, extra keys", func(t *testing.T, room string, now time.Time) any {
		return board1(sealRaw(t, room, "pw", []byte(`{"sdp":"not an sdp","type":"offer","x":1}`), now))
	}, kindConnection, "", ""},
	{"not an object", func(*testing.T, string, time.Time) any { return "just a string" }, "", "ignored the offer", ""},
	{"payload not a string", func(*testing.T, string, time.Time) any {
		return map[string]any{"payload": 12, "timestamp": 1}
	}, "", "ignored the offer", ""},
}

// TestJoinFacesHostileOffers: a joiner meeting each hostile offer either
// fails clearly (a wrong password, an unusable SDP) or warns and keeps
// waiting for a real one; it never crashes or hangs past its timeout.
func TestJoinFacesHostileOffers(t *testing.T) {
	for _, c := range hostileOffers {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // each row waits out its own short timeout
			flow, ev, admin := hostileBoard(t)
			if err := admin.put(context.Background(), "rooms/HOSTIL/offer", c.value(t, "HOSTIL", time.Now())); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), hostileWait)
			defer cancel()
			_, err := flow.join(ctx, "HOSTIL", "pw")
			checkHostileOutcome(t, err, ev, c)
			if c.kind == kindWrongPassword {
				if v, _ := admin.get(context.Background(), "rooms/HOSTIL/answer"); !isNull(v) {
					t.Errorf("a joiner with the wrong password wrote %s", v)
				}
			}
		})
	}
}

// TestHostFacesHostileAnswers: whatever lands in its answer slot, a host
// warns, clears it and keeps waiting: one bad write must not kill the room.
func TestHostFacesHostileAnswers(t *testing.T) {
	cases := append(slices.Clone(hostileOffers), hostileSlotCase{
		name: "SDP garbage in a proper answer",
		value: func(t *testing.T, room string, now time.Time) any {
			return board1(sealRaw(t, room, "pw", []byte(`{"sdp":"not an sdp","type":"answer"}`), now))
		},
	}, hostileSlotCase{
		// A stranger who recorded a joiner's answer in an earlier session
		// with the same code and password posts it again.
		name: "an answer replayed from an earlier session",
		value: func(t *testing.T, room string, now time.Time) any {
			return board1(sealRaw(t, room, "pw", []byte(`{"sdp":"v=0","type":"answer"}`), now.Add(-5*time.Minute)))
		},
		hostWarn: "sealed before this room's offer",
	})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel() // each row waits out its own short timeout
			flow, ev, admin := hostileBoard(t)
			value := c.value(t, "HOSTIL", time.Now())
			ctx, cancel := context.WithTimeout(context.Background(), hostileWait)
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, err := flow.host(ctx, "HOSTIL", "pw", true)
				done <- err
			}()
			select {
			case <-ev.posted:
			case err := <-done:
				t.Fatalf("host ended before posting its offer: %v", err)
			}
			if err := admin.put(context.Background(), "rooms/HOSTIL/answer", value); err != nil {
				t.Fatal(err)
			}
			err := <-done
			var fl *failure
			if !errors.As(err, &fl) || fl.kind != kindTimeout {
				t.Errorf("host ended with %v, want to wait until its timeout", err)
			}
			if !ev.warned("ignored an answer") || !ev.warned(c.hostWarn) {
				t.Errorf("host did not warn about the answer (%q); it said %q", c.hostWarn, ev.said())
			}
			if v, _ := admin.get(context.Background(), "rooms"); !isNull(v) {
				t.Errorf("board after the host gave up holds %s", v)
			}
		})
	}
}

// hostileBoard is a fresh board with a flow on it and an admin client, which
// may write any value anywhere, as a stranger on a plain Firebase can.
func hostileBoard(t *testing.T) (*roomFlow, *recordedEvents, *boardClient) {
	t.Helper()
	srv := httptest.NewServer(newBoard(boardOptions{secret: flowTestSecret}))
	t.Cleanup(srv.Close)
	p := newFlowPair(t, srv.URL)
	admin, err := newBoardClient(srv.URL+"?auth="+flowTestSecret, clientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p.host, p.hostEvents, admin
}

// checkHostileOutcome compares how a flow ended with what the row expects.
func checkHostileOutcome(t *testing.T, err error, ev *recordedEvents, c hostileSlotCase) {
	t.Helper()
	var fl *failure
	if !errors.As(err, &fl) {
		t.Fatalf("flow ended with %v, want a failure", err)
	}
	want := c.kind
	if want == "" {
		want = kindTimeout
		if !ev.warned(c.warn) {
			t.Errorf("no warning %q; warnings: %q", c.warn, ev.said())
		}
	}
	if fl.kind != want {
		t.Errorf("flow failed with %s (%v), want %s", fl.kind, fl, want)
	}
	for _, w := range ev.said() {
		if strings.ContainsAny(w, "\x1b\x07") {
			t.Errorf("a warning carries control characters: %q", w)
		}
	}
}
