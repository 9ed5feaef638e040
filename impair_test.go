package main

// A slow, lossy, reordering path between real gopeer processes, made in user
// space because this kernel has no tc netem: the joiner's only way to the
// host is through a TURN relay in the test process, and the relay delays
// every packet by 50 to 150 ms (so later ones overtake earlier ones) and
// drops 5% of them, in both directions.

import (
	"fmt"
	"math/rand/v2"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/turn/v5"
)

// impairedConn delays, reorders and drops what is written to it.
type impairedConn struct {
	net.PacketConn
	dropped, sent *atomic.Int64
}

func (c impairedConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if rand.IntN(100) < 5 {
		c.dropped.Add(1)
		return len(p), nil
	}
	c.sent.Add(1)
	b := append([]byte(nil), p...)
	delay := 50*time.Millisecond + rand.N(100*time.Millisecond)
	time.AfterFunc(delay, func() { _, _ = c.PacketConn.WriteTo(b, addr) })
	return len(p), nil
}

// impairedRelays hands out relay sockets that are impaired too, so the path
// is bad both ways.
type impairedRelays struct {
	*turn.RelayAddressGeneratorStatic
	dropped, sent *atomic.Int64
}

func (r impairedRelays) AllocatePacketConn(conf turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	conn, addr, err := r.RelayAddressGeneratorStatic.AllocatePacketConn(conf)
	if err != nil {
		return nil, nil, err
	}
	return impairedConn{conn, r.dropped, r.sent}, addr, nil
}

// startImpairedTURN runs a TURN server on every address of this namespace
// and returns its port and packet counters.
func startImpairedTURN(t *testing.T, relayIP string) (port int, dropped, sent *atomic.Int64) {
	t.Helper()
	ln, err := net.ListenPacket("udp4", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	dropped, sent = new(atomic.Int64), new(atomic.Int64)
	const realm = "gopeer-test"
	key := turn.GenerateAuthKey("tester", realm, "turn-secret")
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm: realm,
		AuthHandler: func(ra *turn.RequestAttributes) (string, []byte, bool) {
			return ra.Username, key, ra.Username == "tester"
		},
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn: impairedConn{ln, dropped, sent},
			RelayAddressGenerator: impairedRelays{
				&turn.RelayAddressGeneratorStatic{RelayAddress: net.ParseIP(relayIP), Address: "0.0.0.0"},
				dropped, sent,
			},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return ln.LocalAddr().(*net.UDPAddr).Port, dropped, sent
}

// TestNetworkSlowLossyReorderingLink: across a path with 50–150 ms of delay
// (reordering packets), 5% loss each way, 10,000 messages each way arrive
// complete, in order and once.
func TestNetworkSlowLossyReorderingLink(t *testing.T) {
	gopeerBin(t)
	nftPath(t)
	port, dropped, sent := startImpairedTURN(t, "10.99.0.1")
	board := startFarBoard(t)
	turnURL := fmt.Sprintf("turn:10.99.0.1:%d", port)
	guest := startFarPeer(t, []string{"GOPEER_TURN_USERNAME=tester", "GOPEER_TURN_PASSWORD=turn-secret"},
		"-json", "-ice", turnURL, "-db", board, "-join", "SLOW01")
	// The joiner may send UDP to this side only through the relay.
	blockUDPExcept(t, fmt.Sprint(guest.cmd.Process.Pid), "10.99.0.1", port)
	host := startGopeer(t, nil, "-json", "-ice", "none", "-db", board, "-host", "-room", "SLOW01")
	host.event("room")
	host.event("connected")
	guest.event("connected")

	exchangeInOrder(t, host, guest.proc, 10000)
	// 20,000 messages take hundreds of packets; ICE's own checks, a few.
	if dropped.Load() == 0 || sent.Load() < 200 {
		t.Errorf("the relay dropped %d and passed %d packets: the messages did not take the impaired path", dropped.Load(), sent.Load())
	}
}

// blockUDPExcept makes the namespace of pid drop UDP it sends to ip, except
// to port.
func blockUDPExcept(t *testing.T, pid, ip string, port int) {
	t.Helper()
	table := fmt.Sprintf("gopeer_block_%d", vethPairs.Add(1))
	for _, args := range [][]string{
		{"add", "table", "inet", table},
		{"add", "chain", "inet", table, "out", "{ type filter hook output priority 0; }"},
		{"add", "rule", "inet", table, "out", "ip", "daddr", ip, "udp", "dport", "!=", fmt.Sprint(port), "drop"},
	} {
		nftIn(t, pid, args...)
	}
}
