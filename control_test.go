package main

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// controlPair is linkPair with a control channel made on each side and
// open on both, in the order the flows make them.
func controlPair(tb testing.TB) (host, guest *peerLink, hc, gc *controlChannel) {
	tb.Helper()
	host, guest = linkPair(tb)
	tb.Cleanup(host.close)
	tb.Cleanup(guest.close)
	var err error
	if hc, err = openControl(host.pc); err != nil {
		tb.Fatal(err)
	}
	if gc, err = openControl(guest.pc); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), eventWait)
	defer cancel()
	for _, c := range []*controlChannel{hc, gc} {
		select {
		case <-c.opened:
		case <-ctx.Done():
			tb.Fatal("the control channel did not open")
		}
	}
	return host, guest, hc, gc
}

// TestControlConfirm runs the key confirmation over a real control channel
// between two pion peers in this process: the same session confirms on
// both sides; different keys fail on both; a peer that breaks the
// channel's rules, or says nothing, ends the confirmation with an error
// instead of a hang.
func TestControlConfirm(t *testing.T) {
	session := func(isk byte) nativeSession {
		return nativeSession{isk: bytes.Repeat([]byte{isk}, 64), hostMsg: []byte("Ya"), joinerMsg: []byte("Yb"),
			hostPrint: "sha-256 AA", joinerPrint: "sha-256 BB"}
	}
	// hostile, when set, is what the joiner's side sends instead of
	// confirming.
	tests := []struct {
		name               string
		hostISK, joinerISK byte
		hostile            func(c *controlChannel) error
		wantHost           error
	}{
		{"the same session", 1, 1, nil, nil},
		{"another key", 1, 2, nil, errNotConfirmed},
		{"text, not binary", 1, 1, func(c *controlChannel) error { return c.dc.SendText("hello") }, errControlProtocol},
		{"over the size limit", 1, 1, func(c *controlChannel) error { return c.dc.Send(make([]byte, controlMaxMessage+1)) }, errControlProtocol},
		{"another type first", 1, 1, func(c *controlChannel) error { return c.send(9, []byte("x")) }, errControlProtocol},
		{"silence", 1, 1, func(*controlChannel) error { return nil }, context.DeadlineExceeded},
		{"no wishes after the tag", 1, 1, func(c *controlChannel) error {
			return errors.Join(c.send(controlConfirm, session(1).tag(nativeJoinerRole)), c.send(controlPing, nil))
		}, errControlProtocol},
		{"empty wishes", 1, 1, func(c *controlChannel) error {
			return errors.Join(c.send(controlConfirm, session(1).tag(nativeJoinerRole)), c.send(controlWishes, nil))
		}, errControlProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, hc, gc := controlPair(t)
			wait := eventWait
			if tt.wantHost == context.DeadlineExceeded {
				wait = 500 * time.Millisecond // the bound under test, not a synchronisation
			}
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			joinerErr := make(chan error, 1)
			go func() {
				if tt.hostile != nil {
					joinerErr <- tt.hostile(gc)
					return
				}
				_, err := gc.confirm(ctx, session(tt.joinerISK), nativeJoinerRole, nativeHostRole, 0)
				joinerErr <- err
			}()
			_, hostErr := hc.confirm(ctx, session(tt.hostISK), nativeHostRole, nativeJoinerRole, 0)
			if tt.wantHost == nil {
				hostErr = errors.Join(hostErr, <-joinerErr)
			}
			if !errors.Is(hostErr, tt.wantHost) {
				t.Errorf("host: %v, want %v", hostErr, tt.wantHost)
			}
			if tt.wantHost != nil {
				if err := <-joinerErr; tt.hostile == nil && !errors.Is(err, tt.wantHost) {
					t.Errorf("joiner: %v, want %v", err, tt.wantHost)
				}
			}
		})
	}
}

// TestControlWishes: each side learns, with the confirmation, what the
// other wishes of the session: to compare the verification string
// (-verify), to restore it after a network change, and bits of later
// versions, passed on as they came.
func TestControlWishes(t *testing.T) {
	s := nativeSession{isk: []byte("k"), hostMsg: []byte("Ya"), joinerMsg: []byte("Yb")}
	for _, tt := range []struct{ host, joiner byte }{
		{0, 0}, {wishCompare, 0}, {0, wishCompare}, {wishCompare, wishCompare},
		{wishRestart, 0}, {wishRestart, wishRestart | wishCompare}, {0x80, wishRestart},
	} {
		_, _, hc, gc := controlPair(t)
		ctx, cancel := context.WithTimeout(context.Background(), eventWait)
		type result struct {
			peerWishes byte
			err        error
		}
		joiner := make(chan result, 1)
		go func() {
			w, err := gc.confirm(ctx, s, nativeJoinerRole, nativeHostRole, tt.joiner)
			joiner <- result{w, err}
		}()
		hostSaw, err := hc.confirm(ctx, s, nativeHostRole, nativeJoinerRole, tt.host)
		j := <-joiner
		cancel()
		if err != nil || j.err != nil {
			t.Fatalf("host %#x, joiner %#x: %v, %v", tt.host, tt.joiner, err, j.err)
		}
		if hostSaw != tt.joiner || j.peerWishes != tt.host {
			t.Errorf("host wished %#x, joiner %#x: the host learned %#x, the joiner %#x", tt.host, tt.joiner, hostSaw, j.peerWishes)
		}
	}
}

// TestSettleComparison: the chat starts only when both users said the
// verification string is the same; a "no" on either side ends it on both,
// each side saying whose answer it was; a peer that leaves, or never
// answers, ends it too.
func TestSettleComparison(t *testing.T) {
	s := &nativeSession{isk: []byte("k"), hostMsg: []byte("Ya"), joinerMsg: []byte("Yb")}
	tests := []struct {
		name                 string
		hostSame, joinerSame bool
		joinerSilent         bool
		wantHost, wantJoiner error
	}{
		{name: "both same", hostSame: true, joinerSame: true},
		{name: "the joiner saw another", hostSame: true, wantHost: errPeerSawDifferent, wantJoiner: errYouSawDifferent},
		{name: "the host saw another", joinerSame: true, wantHost: errYouSawDifferent, wantJoiner: errPeerSawDifferent},
		{name: "the peer never answers", hostSame: true, joinerSilent: true, wantHost: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host, guest, hc, gc := controlPair(t)
			host.setNative(s, hc, true)
			guest.setNative(s, gc, true)
			go host.keepAlive()
			go guest.keepAlive()
			wait := eventWait
			if tt.joinerSilent {
				wait = 500 * time.Millisecond // the bound under test, not a synchronisation
			}
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			joiner := make(chan error, 1)
			go func() {
				if tt.joinerSilent {
					joiner <- nil
					return
				}
				joiner <- guest.settleComparison(ctx, tt.joinerSame)
			}()
			hostErr := host.settleComparison(ctx, tt.hostSame)
			joinerErr := <-joiner
			if !errors.Is(hostErr, tt.wantHost) || (tt.wantHost == nil) != (hostErr == nil) {
				t.Errorf("host: %v, want %v", hostErr, tt.wantHost)
			}
			if !errors.Is(joinerErr, tt.wantJoiner) || (tt.wantJoiner == nil) != (joinerErr == nil) {
				t.Errorf("joiner: %v, want %v", joinerErr, tt.wantJoiner)
			}
			for _, err := range []error{hostErr, joinerErr} {
				if f, ok := errors.AsType[*failure](err); ok && f.kind != kindNotVerified {
					t.Errorf("%v: kind %q, want %q", err, f.kind, kindNotVerified)
				}
			}
		})
	}
	t.Run("the peer leaves", func(t *testing.T) {
		host, guest, hc, gc := controlPair(t)
		host.setNative(s, hc, true)
		guest.setNative(s, gc, true)
		go host.keepAlive()
		ctx, cancel := context.WithTimeout(context.Background(), eventWait)
		defer cancel()
		guest.close()
		err := host.settleComparison(ctx, true)
		if f, ok := errors.AsType[*failure](err); !ok || f.kind != kindNotVerified {
			t.Errorf("the peer left: %v, want a %s failure", err, kindNotVerified)
		}
	})
}

// TestControlFlood: a peer that sends more than the control queue holds
// breaks the channel, and a confirmation read afterwards fails even though
// valid tags are queued.
func TestControlFlood(t *testing.T) {
	_, _, hc, gc := controlPair(t)
	s := nativeSession{isk: []byte("k"), hostMsg: []byte("Ya"), joinerMsg: []byte("Yb")}
	ctx, cancel := context.WithTimeout(context.Background(), eventWait)
	defer cancel()
	for range 4 * controlQueue {
		if err := gc.send(controlConfirm, s.tag(nativeJoinerRole)); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-hc.broken:
	case <-ctx.Done():
		t.Fatal("a flood of control messages did not break the channel")
	}
	if _, err := hc.confirm(ctx, s, nativeHostRole, nativeJoinerRole, 0); !errors.Is(err, errControlProtocol) {
		t.Errorf("confirmation after a flood: %v, want errControlProtocol", err)
	}
}

// BenchmarkNativeConfirm is the native mode's cost once connected, in
// process: one key confirmation (both sides send a tag and check the
// other's), beside one chat round trip on the same link, so the two can
// be compared in one run (issue 13: no more than one peer round trip).
func BenchmarkNativeConfirm(b *testing.B) {
	host, guest, hc, gc := controlPair(b)
	ctx := b.Context()
	s := nativeSession{isk: make([]byte, 64), hostMsg: make([]byte, 32), joinerMsg: make([]byte, 32), hostPrint: "sha-256 AA", joinerPrint: "sha-256 BB"}
	var confirm, roundTrip time.Duration
	for b.Loop() {
		start := time.Now()
		done := make(chan error, 1)
		go func() {
			_, err := gc.confirm(ctx, s, nativeJoinerRole, nativeHostRole, 0)
			done <- err
		}()
		if _, err := hc.confirm(ctx, s, nativeHostRole, nativeJoinerRole, 0); err != nil {
			b.Fatal(err)
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		confirm += time.Since(start)

		start = time.Now()
		if err := host.send(ctx, "ping"); err != nil {
			b.Fatal(err)
		}
		<-guest.incoming
		if err := guest.send(ctx, "pong"); err != nil {
			b.Fatal(err)
		}
		<-host.incoming
		roundTrip += time.Since(start)
	}
	b.ReportMetric(float64(confirm.Microseconds())/float64(b.N)/1000, "ms/confirm")
	b.ReportMetric(float64(roundTrip.Microseconds())/float64(b.N)/1000, "ms/round-trip")
}

// TestNativeKeepAliveOnControl: in a gopeer session the keep-alive goes on
// the control channel, and the chat channel carries nothing but chat.
func TestNativeKeepAliveOnControl(t *testing.T) {
	host, guest, hc, gc := controlPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), eventWait)
	defer cancel()
	host.setNative(&nativeSession{}, hc, false)
	host.rules.every = 10 * time.Millisecond
	go host.keepAlive()
	for range 3 {
		typ, _, err := gc.next(ctx)
		if err != nil || typ != controlPing {
			t.Fatalf("the peer's control channel got type %d, %v; want pings", typ, err)
		}
	}
	for _, st := range guest.pc.GetStats() {
		if dc, ok := st.(webrtc.DataChannelStats); ok && dc.Label == pypeerChannel.label && dc.MessagesReceived != 0 {
			t.Errorf("the chat channel carried %d messages in a gopeer session with nothing said", dc.MessagesReceived)
		}
	}
}
