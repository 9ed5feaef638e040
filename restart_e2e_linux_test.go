package main

// Sessions that survive a network change (restart.go), between real
// processes: the joiner in a network namespace of its own, its only link a
// veth pair that the test takes down, readdresses and brings back.
//
// These tests run beside the others, so nothing they add to a network is
// in the namespace that all tests share: each test's host is in a near
// namespace of its own (newNamespace), the far end of its veth pair in the
// joiner's, and its board in the shared namespace, on loopback, reached
// from the near one through a relay (boardProcess). The joiner reaches
// the board over the pair too, so it loses the board with its link.

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestNetworkReconnect: the joiner's only link goes down, its address
// changes while it is down (so ICE alone cannot find the path again), and
// the link comes back after 5, 20 or 60 s; once with the
// board restarted, empty, during the gap, and once with the board's
// operator replacing the restart offer and filling the answer slot with
// garbage. Both sides say "reconnecting" and then "reconnected", and what
// each sent during the gap arrives once and in order, before what is sent
// after; the board holds nothing afterwards.
func TestNetworkReconnect(t *testing.T) {
	gopeerBin(t)
	t.Parallel()
	for i, tt := range []struct {
		name         string
		gap          time.Duration
		restartBoard bool
		hostileBoard bool
	}{
		{name: "down 5s", gap: 5 * time.Second},
		{name: "down 20s", gap: 20 * time.Second},
		{name: "down 60s", gap: 60 * time.Second},
		{name: "down 20s, board restarted", gap: 20 * time.Second, restartBoard: true},
		{name: "down 20s, board hostile", gap: 20 * time.Second, hostileBoard: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Each pair on its own subnet: they run side by side.
			board, host, guest := startRestartPair(t, 10+i, nil, nil)
			subnet := 10 + i

			// The joiner's network goes away (its end of the pair: the
			// host's stays up, as a host's network would), and comes back
			// with another address.
			ipIn(t, guest.pid, "link", "set", guest.remote, "down")
			down := time.Now()
			host.send("host: in the gap, 1")
			guest.send("guest: in the gap, 1")
			ipIn(t, guest.pid, "addr", "del", fmt.Sprintf("10.99.%d.2/24", subnet), "dev", guest.remote)
			ipIn(t, guest.pid, "addr", "add", fmt.Sprintf("10.99.%d.3/24", subnet), "dev", guest.remote)
			if tt.restartBoard {
				board.stop()
			}
			if tt.hostileBoard {
				board.tamperWithRestart()
			}
			// The outage itself, not a wait for anything: half of it, a
			// second message each, the other half.
			time.Sleep(time.Until(down.Add(tt.gap / 2)))
			host.send("host: in the gap, 2")
			guest.send("guest: in the gap, 2")
			if tt.restartBoard {
				board.start()
			}
			time.Sleep(time.Until(down.Add(tt.gap)))
			ipIn(t, guest.pid, "link", "set", guest.remote, "up")

			for _, side := range []struct {
				p    *proc
				peer string
			}{{host, "guest"}, {guest.proc, "host"}} {
				log := followSession(t, side.p, 90*time.Second, func(l sessionLog) bool {
					return slices.Contains(l.events, "reconnected") && len(l.messages) >= 2
				})
				t.Logf("the %s's peer was back, with both messages, %v after the link went down", side.peer, time.Since(down).Round(time.Millisecond))
				if want := []string{"reconnecting", "reconnected"}; !slices.Equal(log.events, want) {
					t.Errorf("the %s's peer said %q, want %q", side.peer, log.events, want)
				}
				if tt.hostileBoard && side.p == host {
					for _, want := range []string{"was replaced by someone else", "ignored an answer"} {
						if !slices.ContainsFunc(log.warnings, func(w string) bool { return strings.Contains(w, want) }) {
							t.Errorf("the host did not warn %q: %q", want, log.warnings)
						}
					}
				}
				want := []string{side.peer + ": in the gap, 1", side.peer + ": in the gap, 2"}
				if !slices.Equal(log.messages, want) {
					t.Errorf("received %q, want %q", log.messages, want)
				}
			}
			host.send("host: after")
			guest.send("guest: after")
			for _, side := range []struct {
				p    *proc
				want string
			}{{host, "guest: after"}, {guest.proc, "host: after"}} {
				log := followSession(t, side.p, 30*time.Second, func(l sessionLog) bool { return len(l.messages) >= 1 })
				if !slices.Equal(log.messages, []string{side.want}) || len(log.events) != 0 {
					t.Errorf("after the gap: events %q, messages %q; want only %q", log.events, log.messages, side.want)
				}
			}
			board.awaitEmpty()
		})
	}
}

// TestNetworkReconnectGivesUp: a path that stays broken past -reconnect
// ends the session on both sides, as a lost connection that says so.
func TestNetworkReconnectGivesUp(t *testing.T) {
	gopeerBin(t)
	t.Parallel()
	limit := []string{"-reconnect", "10s"}
	board, host, guest := startRestartPair(t, 20, limit, limit)

	ipIn(t, guest.near, "link", "set", guest.local, "down")
	for _, p := range []*proc{host, guest.proc} {
		log := followSession(t, p, 60*time.Second, func(l sessionLog) bool { return slices.Contains(l.events, "closed") })
		if !slices.Equal(log.events, []string{"reconnecting", "closed"}) || log.closed != "connection lost" {
			t.Errorf("events %q, closed %q; want reconnecting, then closed as a lost connection", log.events, log.closed)
		}
		if code := p.wait(); code != exitFailure {
			t.Errorf("exit status %d, want %d", code, exitFailure)
		}
		if !strings.Contains(p.stderr.String(), "could not be restored within 10s") {
			t.Errorf("stderr does not say why:\n%s", p.stderr.String())
		}
	}
	board.awaitEmpty()
}

// startRestartPair starts a restart test's world (see the top of this
// file) with the veth pair on subnet: a board, a host in the near
// namespace and a joiner beyond the pair, each with -json -ice none and its
// own extra arguments, and returns them once connected as a gopeer session.
func startRestartPair(t *testing.T, subnet int, guestArgs, hostArgs []string) (*boardProcess, *proc, farPeer) {
	t.Helper()
	near := newNamespace(t)
	board := startBoardProcess(t, near)
	common := []string{"-json", "-ice", "none"}
	guest := startFarJoiner(t, near, subnet, slices.Concat(common, guestArgs, []string{"-db", board.url(fmt.Sprintf("10.99.%d.1", subnet))})...)
	host := startGopeerAt(t, near, slices.Concat(common, hostArgs, []string{"-db", board.url("127.0.0.1"), "-host"})...)
	guest.joinWith(host.event("room")["code"])
	for _, p := range []*proc{host, guest.proc} {
		if ev := p.event("connected"); ev["protocol"] != "gopeer" {
			t.Fatalf("connected as %v, want a gopeer session", ev)
		}
	}
	return board, host, guest
}

// startFarJoiner starts a gopeer joiner with args on the far side of a
// veth pair on subnet from the namespace of near (startFarIn) that joins
// with the code joinWith gives it: the pair exists before the host starts,
// so that the host sees it when it gathers.
func startFarJoiner(t *testing.T, near string, subnet int, args ...string) farPeer {
	t.Helper()
	argv := append([]string{"/bin/sh", "-c", `read -r code; exec "$0" "$@" -join "$code"`, gopeerBin(t)}, args...)
	return startFarIn(t, near, subnet, nil, argv...)
}

// startGopeerAt starts gopeer with args in the network namespace of the
// process pid.
func startGopeerAt(t *testing.T, pid string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command("nsenter", append([]string{"-t", pid, "-n", "--", gopeerBin(t)}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	return startProc(t, cmd)
}

// joinWith gives a joiner from startFarJoiner its code.
func (p farPeer) joinWith(code string) {
	p.t.Helper()
	if _, err := io.WriteString(p.stdin, code+"\n"); err != nil {
		p.t.Fatal(err)
	}
}

// TestNetworkReconnectNeedsBoth: restarts are agreed in the confirmed
// wishes; a joiner run with -reconnect 0 does not wish them, and then
// neither side restarts: both end as a lost connection at ICE's 8 s, as a
// pypeer session does.
func TestNetworkReconnectNeedsBoth(t *testing.T) {
	gopeerBin(t)
	t.Parallel()
	_, host, guest := startRestartPair(t, 21, []string{"-reconnect", "0"}, nil)

	ipIn(t, guest.pid, "link", "set", guest.remote, "down")
	for _, p := range []*proc{host, guest.proc} {
		log := followSession(t, p, 60*time.Second, func(l sessionLog) bool { return slices.Contains(l.events, "closed") })
		if !slices.Equal(log.events, []string{"closed"}) || log.closed != "connection lost" {
			t.Errorf("events %q, closed %q; want only closed, as a lost connection", log.events, log.closed)
		}
	}
}

// sessionLog is what a -json session said: its events (besides messages,
// warnings and delivery receipts), the messages' texts, and why it closed.
type sessionLog struct {
	events, messages, warnings []string
	closed                     string
}

// followSession reads p's events until done says the log is complete, for
// at most within.
func followSession(t *testing.T, p *proc, within time.Duration, done func(sessionLog) bool) sessionLog {
	t.Helper()
	var log sessionLog
	deadline := time.After(within)
	for !done(log) {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("stdout ended with %+v; stderr:\n%s", log, p.stderr.String())
			}
			ev, err := parseEvent(line)
			if err != nil {
				t.Fatalf("stdout line is not a JSON event: %q", line)
			}
			switch ev["event"] {
			case "delivered":
			case "warning":
				log.warnings = append(log.warnings, ev["message"])
			case "message":
				log.messages = append(log.messages, ev["text"])
			case "closed":
				log.closed = ev["reason"]
				log.events = append(log.events, ev["event"])
			default:
				log.events = append(log.events, ev["event"])
			}
		case <-deadline:
			t.Fatalf("after %v: %+v; stderr:\n%s", within, log, p.stderr.String())
		}
	}
	return log
}

// boardProcess is a board process that can be stopped and started
// again, empty, on the same port, on this namespace's loopback, and
// reached from the namespace of another process through a relay there.
type boardProcess struct {
	t         *testing.T
	port      string // here, on loopback
	relayPort string // in the other namespace, on every address
	proc      *proc
}

// startBoardProcess runs a board here that processes in the namespace of
// near reach at any of its addresses: url gives them the URL.
func startBoardProcess(t *testing.T, near string) *boardProcess {
	t.Helper()
	b := &boardProcess{t: t, port: "0"}
	b.start()
	l := listenIn(t, near, "0.0.0.0:0")
	relay(t, l, b.here())
	_, b.relayPort, _ = net.SplitHostPort(l.Addr().String())
	return b
}

func (b *boardProcess) start() {
	b.t.Helper()
	b.proc = startGopeer(b.t, []string{"FIREBASE_DB_SECRET=" + e2eBoardSecret}, "-serve", "127.0.0.1:"+b.port)
	u := b.proc.line()
	b.port = u[strings.LastIndex(u, ":")+1:]
}

func (b *boardProcess) stop() {
	b.t.Helper()
	_ = b.proc.cmd.Process.Kill()
	<-b.proc.done
}

// awaitEmpty waits until the board holds nothing: the host removes its
// restart room once the path is back, while the chat goes on.
func (b *boardProcess) awaitEmpty() {
	b.t.Helper()
	awaitBoardNull(b.t, "http://"+b.here()+"/.json?auth="+e2eBoardSecret)
}

// tamperWithRestart is the board's operator at work: it waits for a
// restart's offer to appear, then puts values of its own in both of the
// room's slots, as the board's admin.
func (b *boardProcess) tamperWithRestart() {
	b.t.Helper()
	base := "http://" + b.here()
	deadline := time.Now().Add(30 * time.Second)
	var room string
	for room == "" {
		var root struct {
			Rooms map[string]struct{ Offer any }
		}
		_ = json.Unmarshal([]byte(boardRoot(b.t, base)), &root)
		for code, r := range root.Rooms {
			if r.Offer != nil {
				room = code
			}
		}
		if time.Now().After(deadline) {
			b.t.Fatal("no restart offer appeared on the board")
		}
		time.Sleep(50 * time.Millisecond)
	}
	garbage := fmt.Sprintf(`{"payload":"%s","timestamp":%d}`, strings.Repeat("A", 200), time.Now().UnixMilli())
	for _, slot := range []string{"offer", "answer"} {
		req, _ := http.NewRequest(http.MethodPut, base+"/rooms/"+room+"/"+slot+".json?auth="+e2eBoardSecret, strings.NewReader(garbage))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.t.Fatalf("the admin's PUT of the %s: %s", slot, resp.Status)
		}
	}
}

// url is the board's URL at the address ip of the relay's namespace.
func (b *boardProcess) url(ip string) string {
	return "http://" + ip + ":" + b.relayPort
}

// here is the board's address in this namespace, for the test itself.
func (b *boardProcess) here() string {
	return "127.0.0.1:" + b.port
}
