package main

// Network faults between real processes: the joiner runs in a network
// namespace of its own, joined to the test's namespace (where the host and
// the board run) by a veth pair on 10.99.0.0/24, addresses that exist only
// inside these namespaces.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// vethPairs makes interface names unique within this test process.
var vethPairs atomic.Int64

// farPeer is a gopeer process in its own network namespace.
type farPeer struct {
	*proc
	local  string // the near end of the veth pair
	remote string // the far namespace's end
	pid    string // a process in the far namespace, for nsenter
	near   string // a process in the near end's namespace ("" for this one)
}

// startFarPeer starts gopeer with args in a new network namespace whose only
// link is a veth pair to this one: here 10.99.0.1, there 10.99.0.2.
func startFarPeer(t *testing.T, env []string, args ...string) farPeer {
	t.Helper()
	return startFar(t, env, append([]string{gopeerBin(t)}, args...)...)
}

// startFar runs argv in a new network namespace joined to this one by a veth
// pair: here 10.99.0.1, there 10.99.0.2.
//
// This namespace is shared by every test, and its processes gather ICE
// candidates on whatever interfaces it has: a test that adds one here (and
// takes it down, and deletes it) must not run beside others, so it must not
// call t.Parallel. Tests that do run beside others put their near end in a
// namespace of their own (startFarIn, newNamespace).
func startFar(t *testing.T, env []string, argv ...string) farPeer {
	t.Helper()
	return startFarIn(t, "", 0, env, argv...)
}

// startFarIn is startFar with the near end of the pair in the namespace of
// the process near ("" for this one), on the subnet 10.99.SUBNET.0/24:
// there 10.99.SUBNET.1, in the far namespace 10.99.SUBNET.2.
func startFarIn(t *testing.T, near string, subnet int, env []string, argv ...string) farPeer {
	t.Helper()
	n := vethPairs.Add(1)
	local, remote := fmt.Sprintf("gp%da", n), fmt.Sprintf("gp%db", n)

	// The shell says "ready" on fd 4 once it runs, so inside the new
	// namespace, and becomes argv only when told to on fd 3, once the
	// namespace's network is set up.
	goAhead, signal, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("unshare", append([]string{"--net", "--", "/bin/sh", "-c",
		`echo ready >&4; exec 4>&-; read _ <&3; exec 3<&-; exec "$0" "$@"`}, argv...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	cmd.ExtraFiles = []*os.File{goAhead, readyW}
	p := startProc(t, cmd)
	goAhead.Close()
	readyW.Close()
	if _, err := bufio.NewReader(readyR).ReadString('\n'); err != nil {
		t.Fatalf("the far namespace did not start: %v", err)
	}
	readyR.Close()
	pid := fmt.Sprint(cmd.Process.Pid)

	ipIn(t, near, "link", "add", local, "type", "veth", "peer", "name", remote, "netns", pid)
	ipIn(t, near, "addr", "add", fmt.Sprintf("10.99.%d.1/24", subnet), "dev", local)
	ipIn(t, near, "link", "set", local, "up")
	ipIn(t, pid, "link", "set", "lo", "up")
	ipIn(t, pid, "addr", "add", fmt.Sprintf("10.99.%d.2/24", subnet), "dev", remote)
	ipIn(t, pid, "link", "set", remote, "up")
	if near == "" {
		t.Cleanup(func() { _ = exec.Command("ip", "link", "del", local).Run() })
	} // else the pair goes with the near namespace
	if _, err := signal.WriteString("go\n"); err != nil {
		t.Fatal(err)
	}
	signal.Close()
	return farPeer{proc: p, local: local, remote: remote, pid: pid, near: near}
}

// newNamespace creates a network namespace whose only interface is
// loopback, up, and returns the pid of the process that holds it, for
// nsenter and startFarIn. It goes when the test ends.
func newNamespace(t *testing.T) string {
	t.Helper()
	return newNamespaceWith(t, "ip link set lo up")
}

// newNamespaceWith is newNamespace with the shell commands setup run in
// the namespace before it is handed over.
func newNamespaceWith(t *testing.T, setup string) string {
	t.Helper()
	cmd := exec.Command("unshare", "--net", "--", "/bin/sh", "-c", setup+" && echo ready && exec sleep 3600")
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	ready := make(chan string, 1)
	go func() { line, _ := bufio.NewReader(out).ReadString('\n'); ready <- line }()
	select {
	case line := <-ready:
		if line != "ready\n" {
			t.Fatalf("the namespace did not start: %q %s", line, stderr.String())
		}
	case <-time.After(eventWait):
		t.Fatalf("the namespace did not start within %v: %s", eventWait, stderr.String())
	}
	return fmt.Sprint(cmd.Process.Pid)
}

// ipIn runs ip(8) in this namespace, or in the network namespace of pid.
func ipIn(t testing.TB, pid string, args ...string) {
	t.Helper()
	cmd := exec.Command("ip", args...)
	if pid != "" {
		cmd = exec.Command("nsenter", append([]string{"-t", pid, "-n", "ip"}, args...)...)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// startFarBoard runs a board that the far namespace reaches at 10.99.0.1.
func startFarBoard(t *testing.T) string {
	t.Helper()
	b := startGopeer(t, nil, "-serve", "0.0.0.0:0")
	u := b.line()
	return strings.Replace(u, "127.0.0.1", "10.99.0.1", 1)
}

// TestNetworkLinkDownAndUp: the only link between the peers goes down for 5
// seconds, then comes back. Two gopeer peers keep their session: a message
// sent meanwhile is delivered once the link is back, and both are told what
// is happening.
func TestNetworkLinkDownAndUp(t *testing.T) {
	gopeerBin(t)
	board := startFarBoard(t)
	common := []string{"-json", "-ice", "none"}
	guest := startFarPeer(t, nil, append(common, "-db", board, "-join", "LINK01")...)
	host := startGopeer(t, nil, append(common, "-db", board, "-host", "-room", "LINK01")...)
	host.event("room")
	host.event("connected")
	guest.event("connected")

	ipIn(t, "", "link", "set", guest.local, "down")
	down := time.Now()
	host.warning("connection interrupted")
	host.send("sent while the link was down")
	time.Sleep(time.Until(down.Add(5 * time.Second))) // the outage itself, not a wait for anything
	ipIn(t, "", "link", "set", guest.local, "up")

	if got := guest.event("message")["text"]; got != "sent while the link was down" {
		t.Errorf("joiner received %q", got)
	}
	host.warning("connection restored")
	guest.send("and back")
	if got := host.event("message")["text"]; got != "and back" {
		t.Errorf("host received %q", got)
	}
}

// dropUDP makes the namespace of pid (this one when pid is "") drop percent
// of the UDP packets it receives, at random, with nftables. It returns a
// function that counts the packets dropped so far.
func dropUDP(t *testing.T, pid string, percent int) (dropped func() int) {
	t.Helper()
	nft := func(args ...string) string { return nftIn(t, pid, args...) }
	table := fmt.Sprintf("gopeer_loss_%d", vethPairs.Add(1))
	nft("add", "table", "inet", table)
	nft("add", "chain", "inet", table, "in", "{ type filter hook input priority 0; }")
	nft("add", "rule", "inet", table, "in", "meta", "l4proto", "udp", "numgen", "random", "mod", "100",
		"<", fmt.Sprint(percent), "counter", "drop")
	if pid == "" {
		t.Cleanup(func() { _ = exec.Command("nft", "delete", "table", "inet", table).Run() })
	}
	return func() int {
		var n int
		listing := nft("list", "table", "inet", table)
		if i := strings.Index(listing, "counter packets "); i >= 0 {
			fmt.Sscan(listing[i+len("counter packets "):], &n)
		}
		return n
	}
}

// nftIn runs nft in this namespace, or in the network namespace of pid.
func nftIn(t *testing.T, pid string, args ...string) string {
	t.Helper()
	cmd := exec.Command("nft", args...)
	if pid != "" {
		cmd = exec.Command("nsenter", append([]string{"-t", pid, "-n", "nft"}, args...)...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("nft %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// nftPath finds nft, or ends t: a failure in CI, a skip elsewhere.
func nftPath(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("nft"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the lossy-link test needs nft (Debian's nftables)")
		}
		t.Skip("nft is not on PATH")
	}
}

// TestNetworkLossyLink: with 5% of UDP packets lost in each direction,
// 10,000 messages each way arrive complete, in order and once. (Delay and
// reordering need tc netem, which this kernel lacks; see docs/RELIABILITY.md.)
func TestNetworkLossyLink(t *testing.T) {
	gopeerBin(t)
	nftPath(t)
	board := startFarBoard(t)
	common := []string{"-json", "-ice", "none"}
	guest := startFarPeer(t, nil, append(common, "-db", board, "-join", "LOSSY1")...)
	host := startGopeer(t, nil, append(common, "-db", board, "-host", "-room", "LOSSY1")...)
	host.event("room")
	host.event("connected")
	guest.event("connected")
	hostLoss := dropUDP(t, "", 5)
	guestLoss := dropUDP(t, fmt.Sprint(guest.cmd.Process.Pid), 5)

	exchangeInOrder(t, host, guest.proc, 10000)
	if hostDropped, guestDropped := hostLoss(), guestLoss(); hostDropped == 0 || guestDropped == 0 {
		t.Errorf("the link lost %d and %d packets: the test did not test loss", hostDropped, guestDropped)
	}
}

// TestNetworkLinkDownPypeer: with a pypeer (aiortc) peer, which ends its
// session when the connection goes "disconnected", gopeer fails cleanly
// when the link drops: it reports how the session ended and exits.
func TestNetworkLinkDownPypeer(t *testing.T) {
	argv := pypeerPeer(t)
	board := startFarBoard(t)
	py := startFar(t, []string{"PYTHONIOENCODING=utf-8"}, append(argv, "--json", "--db", board, "--timeout", "60", "--join", "LINK02")...)
	host := startGopeer(t, nil, "-json", "-ice", "none", "-db", board, "-host", "-room", "LINK02")
	host.event("room")
	host.event("connected")
	nextEvent(py.proc, "connected")

	ipIn(t, "", "link", "set", py.local, "down")
	ev := nextEvent(host, "closed")
	if ev["reason"] != "connection lost" && ev["reason"] != "peer left" {
		t.Errorf("gopeer closed with %v", ev)
	}
	if code := host.wait(); code != exitOK && code != exitFailure {
		t.Errorf("gopeer exit status %d", code)
	}
	// aiortc itself takes some 30 s more to give up; that is pypeer's own
	// behaviour, and the cleanup ends it.
}

// exchangeInOrder has host and guest each send n messages at once, and
// checks that every one arrives on the other side, in order and once.
func exchangeInOrder(t *testing.T, host, guest *proc, n int) {
	t.Helper()
	send := func(p *proc, who string) {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "{\"text\":\"%s %d\"}\n", who, i)
		}
		if _, err := io.WriteString(p.stdin, b.String()); err != nil {
			t.Error(err)
		}
	}
	go send(host, "host")
	go send(guest, "guest")
	for i := range n {
		if got, want := guest.event("message")["text"], fmt.Sprintf("host %d", i); got != want {
			t.Fatalf("joiner's message %d: got %q, want %q", i, got, want)
		}
	}
	for i := range n {
		if got, want := host.event("message")["text"], fmt.Sprintf("guest %d", i); got != want {
			t.Fatalf("host's message %d: got %q, want %q", i, got, want)
		}
	}
}

// TestJoinFacesCandidateFlood: an offer of 1,500 candidates, each a
// different loopback address, once made a joiner send STUN checks to all
// 1,500 (12,000 packets in 25 s). The joiner now takes at most
// maxRemoteCandidates of them, and says so; nftables counts the addresses
// it really sent to.
func TestJoinFacesCandidateFlood(t *testing.T) {
	gopeerBin(t) // the namespace: nft and the checks stay in it
	nftPath(t)
	table := fmt.Sprintf("gopeer_flood_%d", vethPairs.Add(1))
	nft := func(args ...string) string { return nftIn(t, "", args...) }
	nft("add", "table", "inet", table)
	t.Cleanup(func() { nftIn(t, "", "delete", "table", "inet", table) })
	nft("add", "set", "inet", table, "targets", "{ type ipv4_addr; flags dynamic; }")
	nft("add", "chain", "inet", table, "out", "{ type filter hook output priority 0; }")
	nft("add", "rule", "inet", table, "out", "ip", "daddr", "127.42.0.0/16", "udp", "dport", "!=", "0", "add", "@targets", "{ ip daddr }")

	flow, ev, admin := hostileBoard(t)
	sdp, err := os.ReadFile("testdata/aiortc-1.4-offer.sdp")
	if err != nil {
		t.Fatal(err)
	}
	var flood strings.Builder
	for i := range 1500 {
		fmt.Fprintf(&flood, "a=candidate:%d 1 udp 2130706431 127.42.%d.%d %d typ host\r\n", i+2, i/250, i%250+1, 5000+i)
	}
	offer := strings.Replace(string(sdp), "a=end-of-candidates", flood.String()+"a=end-of-candidates", 1)
	value, err := newPypeerDialect("FLOOD1", "pw", time.Now).seal(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer})
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.put(context.Background(), "rooms/FLOOD1/offer", value); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := flow.join(ctx, "FLOOD1", "pw"); err == nil {
		t.Fatal("joined a host that is not there")
	}
	if !ev.warned(fmt.Sprintf("ignored %d network candidates in the host's offer", 1500+1-maxRemoteCandidates)) {
		t.Errorf("the joiner did not say it ignored candidates: %q", ev.said())
	}
	listing := nft("list", "set", "inet", table, "targets")
	if n := strings.Count(listing, "127.42."); n == 0 || n > maxRemoteCandidates {
		t.Errorf("checks went to %d addresses of the offer, want 1 to %d:\n%s", n, maxRemoteCandidates, listing)
	}
}
