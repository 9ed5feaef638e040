package main

// Network faults between real processes: the joiner runs in a network
// namespace of its own, joined to the test's namespace (where the host and
// the board run) by a veth pair on 10.99.0.0/24, addresses that exist only
// inside these namespaces.

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// vethPairs makes interface names unique within this test process.
var vethPairs atomic.Int64

// farPeer is a gopeer process in its own network namespace.
type farPeer struct {
	*proc
	local string // this namespace's end of the veth pair
}

// startFarPeer starts gopeer with args in a new network namespace whose only
// link is a veth pair to this one: here 10.99.0.1, there 10.99.0.2.
func startFarPeer(t *testing.T, env []string, args ...string) farPeer {
	t.Helper()
	bin := gopeerBin(t)
	n := vethPairs.Add(1)
	local, remote := fmt.Sprintf("gp%da", n), fmt.Sprintf("gp%db", n)

	// gopeer starts only once the namespace's network is set up: the shell
	// waits for a line on fd 3 before it becomes gopeer.
	goAhead, signal, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("unshare", append([]string{"--net", "--", "/bin/sh", "-c",
		`read _ <&3; exec 3<&-; exec "$0" "$@"`, bin}, args...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	cmd.ExtraFiles = []*os.File{goAhead}
	p := startProc(t, cmd)
	goAhead.Close()
	pid := fmt.Sprint(cmd.Process.Pid)

	ipIn(t, "", "link", "add", local, "type", "veth", "peer", "name", remote, "netns", pid)
	ipIn(t, "", "addr", "add", "10.99.0.1/24", "dev", local)
	ipIn(t, "", "link", "set", local, "up")
	ipIn(t, pid, "link", "set", "lo", "up")
	ipIn(t, pid, "addr", "add", "10.99.0.2/24", "dev", remote)
	ipIn(t, pid, "link", "set", remote, "up")
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", local).Run() })
	if _, err := signal.WriteString("go\n"); err != nil {
		t.Fatal(err)
	}
	signal.Close()
	return farPeer{proc: p, local: local}
}

// ipIn runs ip(8) in this namespace, or in the network namespace of pid.
func ipIn(t *testing.T, pid string, args ...string) {
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
