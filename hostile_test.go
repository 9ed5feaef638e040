package main

// A hostile peer: an in-process host that sends what a well-behaved peer
// never would, to a real gopeer process that joined it. Each case states the
// outcome: a clear event or warning, never a crash, a hang, unbounded memory
// or an interpreted escape sequence.

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hostileSession is an in-process host connected to a gopeer -json joiner.
type hostileSession struct {
	link  *peerLink
	guest *proc
}

func startHostileSession(t *testing.T, room string) hostileSession {
	t.Helper()
	srv := httptest.NewServer(newBoard(boardOptions{}))
	t.Cleanup(srv.Close)
	p := newFlowPair(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), eventWait)
	t.Cleanup(cancel)
	type result struct {
		link *peerLink
		err  error
	}
	done := make(chan result, 1)
	go func() {
		l, err := p.host.host(ctx, room, "pw", true)
		done <- result{l, err}
	}()
	<-p.hostEvents.posted
	guest := startGopeer(t, []string{"GOPEER_PASSWORD=pw"}, "-json", "-ice", "none", "-db", srv.URL, "-join", room)
	r := <-done
	if r.err != nil {
		t.Fatalf("host: %v", r.err)
	}
	t.Cleanup(r.link.close)
	guest.event("connected")
	return hostileSession{link: r.link, guest: guest}
}

func TestHostilePeerMessages(t *testing.T) {
	s := startHostileSession(t, "HOSTL1")
	cases := []struct {
		name   string
		send   func(l *peerLink) error
		event  string
		expect string
	}{
		{"invalid utf-8 arrives replaced", sendText("a\xffb\xc3"), "message", "a\ufffdb\ufffd"},
		{"nul and controls arrive exactly (JSON-escaped)", sendText("a\x00b\x1b[2J\x07"), "message", "a\x00b\x1b[2J\x07"},
		{"c1 and bidi arrive exactly", sendText("\u009b31m\u202eevil"), "message", "\u009b31m\u202eevil"},
		{"binary data is a warning", sendBinary([]byte{0, 1, 2, 0xff}), "warning", "4 bytes of binary data"},
		{"the largest message arrives whole", sendText(strings.Repeat("m", pypeerChannel.maxBytes)), "message", strings.Repeat("m", pypeerChannel.maxBytes)},
		{"an empty message", sendText(""), "message", ""},
		{"__ping__ is never shown", func(l *peerLink) error {
			if err := l.dc.SendText(pypeerChannel.keepAlive); err != nil {
				return err
			}
			return l.dc.SendText("after the ping")
		}, "message", "after the ping"},
	}
	for _, c := range cases {
		if err := c.send(s.link); err != nil {
			t.Fatalf("%s: sending: %v", c.name, err)
		}
		ev := s.guest.event(c.event)
		got := ev["text"]
		if c.event == "warning" {
			got = ev["message"]
			if !strings.Contains(got, c.expect) {
				t.Errorf("%s: warning %q, want it to mention %q", c.name, got, c.expect)
			}
			continue
		}
		if got != c.expect {
			t.Errorf("%s: received %q, want %q", c.name, abbreviate(got), abbreviate(c.expect))
		}
	}
}

func sendText(s string) func(*peerLink) error {
	return func(l *peerLink) error { return l.dc.SendText(s) }
}
func sendBinary(b []byte) func(*peerLink) error {
	return func(l *peerLink) error { return l.dc.Send(b) }
}

// TestHostilePeerFlood: a peer sending 100,000 messages as fast as it can
// neither stops gopeer from sending nor grows its memory without bound: the
// receive queue is bounded and SCTP's flow control slows the peer down.
func TestHostilePeerFlood(t *testing.T) {
	s := startHostileSession(t, "FLOOD1")
	const n = 100000
	ctx, cancel := context.WithTimeout(context.Background(), eventWait)
	defer cancel()
	flooded := make(chan error, 1)
	go func() {
		for i := range n {
			if err := s.link.send(ctx, "flood "+strconv.Itoa(i)); err != nil {
				flooded <- err
				return
			}
		}
		flooded <- nil
	}()

	// Mid-flood, gopeer still sends: its answer gets through the flood.
	s.guest.send("still here")
	for got := false; !got; {
		select {
		case m := <-s.link.incoming:
			got = m.text == "still here"
		case <-ctx.Done():
			t.Fatal("gopeer's message did not get through the flood")
		}
	}

	for i := range n {
		if got, want := s.guest.event("message")["text"], "flood "+strconv.Itoa(i); got != want {
			t.Fatalf("message %d: got %q, want %q", i, got, want)
		}
	}
	if err := <-flooded; err != nil {
		t.Fatal(err)
	}
	if rss := peakRSS(t, s.guest.cmd.Process.Pid); rss > 200<<20 {
		t.Errorf("gopeer's peak memory under the flood was %d MiB", rss>>20)
	}
}

// peakRSS reads a process's peak resident memory (VmHWM) in bytes.
func peakRSS(t testing.TB, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// TestHostilePeerOverMessageLimit: pion accepts a message over the 64 KiB
// limit gopeer advertises from a peer that ignores it; gopeer warns, never
// shows it, and the chat goes on.
func TestHostilePeerOverMessageLimit(t *testing.T) {
	const advertised = "a=max-message-size:65536"
	host, guest := linkPairAnswering(t, func(sdp string) string {
		if !strings.Contains(sdp, advertised) {
			t.Errorf("the answer does not advertise %q", advertised)
		}
		return strings.Replace(sdp, advertised, "a=max-message-size:1048576", 1)
	})
	t.Cleanup(host.close)
	t.Cleanup(guest.close)
	for _, text := range []string{strings.Repeat("x", pypeerChannel.maxBytes+1), strings.Repeat("y", 1000000), "still chatting"} {
		if err := host.dc.SendText(text); err != nil {
			t.Fatalf("the hostile side could not send %d bytes: %v", len(text), err)
		}
	}
	for _, want := range []string{"65537 bytes", "1000000 bytes"} {
		select {
		case n := <-guest.notices:
			if !strings.Contains(n.text, want) || !strings.Contains(n.text, "not shown") {
				t.Fatalf("notice %q, want one about %s not shown", n, want)
			}
		case m := <-guest.incoming:
			t.Fatalf("a message of %d bytes was taken", len(m.text))
		case <-time.After(eventWait):
			t.Fatalf("no notice about %s", want)
		}
	}
	select {
	case m := <-guest.incoming:
		if m.text != "still chatting" {
			t.Fatalf("got %d bytes, want the message after the oversized ones", len(m.text))
		}
	case <-guest.closed:
		t.Fatalf("the chat ended: %v", guest.err())
	case <-time.After(eventWait):
		t.Fatal("the message after the oversized ones did not arrive")
	}
}
