//go:build linux

package main

import (
	"bytes"
	"cmp"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pion/turn/v5"
)

// Connecting through a far board (issue 15): every figure is taken with
// each side behind its own delayedBoard, D away each way, at several D,
// gopeer (room code and gopeer code) and aiortc interleaved.

// farBoardDelays are the one-way delays measured. 0 is the baseline: the
// same proxies, no delay; what a delay adds over it, divided by the round
// trip, is the board round trips a flow costs.
var farBoardDelays = []time.Duration{0, 10 * time.Millisecond, 40 * time.Millisecond, 100 * time.Millisecond}

const (
	farBoardRounds = 3
	farLogEnv      = "GOPEER_BENCH_FAR_LOG"     // set: print each run's requests
	farSTUNEnv     = "GOPEER_BENCH_FAR_STUN_MS" // N: both sides gather from a STUN server N ms away (round trip)
)

// farStack is a way to host and join through far boards.
type farStack struct {
	name, key string // key names its metrics
	// host starts a host on board (env reaches it; stun, when set, is
	// the STUN server's URL) and returns it and what a joiner types, once
	// the room is posted.
	host func(b *testing.B, env []string, board, stun, room string) (*proc, string)
	join func(b *testing.B, env []string, board, stun, code string) *proc
}

var farStacks = []farStack{
	{"gopeer, room code", "gopeer-room", farGopeerHost("room"), farGopeerJoin},
	{"gopeer, gopeer code", "gopeer-code", farGopeerHost("code"), farGopeerJoin},
	{"aiortc (pypeer's stack)", "aiortc", func(b *testing.B, env []string, board, stun, room string) (*proc, string) {
		p := startPypeer(b, env, board, append(pypeerSTUN(stun), "--host", room)...)
		nextEvent(p, "room")
		return p, room
	}, func(b *testing.B, env []string, board, stun, code string) *proc {
		return startPypeer(b, env, board, append(pypeerSTUN(stun), "--join", code)...)
	}},
}

// farGopeerHost hosts a room with a code gopeer picks, as a user does.
func farGopeerHost(field string) func(b *testing.B, env []string, board, stun, room string) (*proc, string) {
	return func(b *testing.B, env []string, board, stun, _ string) (*proc, string) {
		p := startGopeer(b, env, "-json", "-ice", cmp.Or(stun, "none"), "-db", board, "-host")
		return p, nextEvent(p, "room")[field]
	}
}

func farGopeerJoin(b *testing.B, env []string, board, stun, code string) *proc {
	return startGopeer(b, env, "-json", "-ice", cmp.Or(stun, "none"), "-db", board, "-join", code)
}

func pypeerSTUN(stun string) []string {
	if stun == "" {
		return nil
	}
	return []string{"--stun", stun}
}

// startFarSTUN answers STUN binding requests on loopback, each answer
// sent a round trip after its request, and returns the server's URL.
func startFarSTUN(b *testing.B, roundTrip time.Duration) string {
	ln, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv, err := turn.NewServer(turn.ServerConfig{Realm: "gopeer-bench", PacketConnConfigs: []turn.PacketConnConfig{{
		PacketConn:            laterConn{ln, roundTrip},
		RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{RelayAddress: net.ParseIP("127.0.0.1"), Address: "127.0.0.1"},
	}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	return "stun:" + ln.LocalAddr().String()
}

// laterConn sends each packet delay after it was written.
type laterConn struct {
	net.PacketConn
	delay time.Duration
}

func (c laterConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	q := bytes.Clone(p)
	time.AfterFunc(c.delay, func() { _, _ = c.PacketConn.WriteTo(q, addr) })
	return len(p), nil
}

// farRun is one session's figures.
type farRun struct {
	posted, connected    time.Duration // host start to room posted; joiner start to both connected
	joined               time.Duration // joiner start to the joiner's own connected
	hostReqs, joinReqs   int64
	hostConns, joinConns int64
}

// farConnect runs one session: the host behind one far board, the joiner
// behind another, the same board behind both.
func farConnect(b *testing.B, s farStack, board *distantBoard, stun string, oneWay time.Duration, room string) farRun {
	hp, jp := board.side(b, oneWay), board.side(b, oneWay)
	start := time.Now()
	host, code := s.host(b, board.env(hp), board.url, stun, room)
	var r farRun
	r.posted = time.Since(start)
	start = time.Now()
	guest := s.join(b, board.env(jp), board.url, stun, code)
	nextEvent(guest, "connected")
	r.joined = time.Since(start)
	nextEvent(host, "connected")
	r.connected = time.Since(start)
	r.hostReqs, r.joinReqs = hp.requests.Load(), jp.requests.Load()
	r.hostConns, r.joinConns = hp.conns.Load(), jp.conns.Load()
	if os.Getenv(farLogEnv) != "" {
		fmt.Printf("%s, D=%v: posted %v, connected %v\n", s.name, oneWay, r.posted.Round(time.Millisecond), r.connected.Round(time.Millisecond))
		for _, side := range []struct {
			name string
			d    *boardSide
		}{{"host", hp}, {"joiner", jp}} {
			for _, q := range side.d.requestLog() {
				fmt.Printf("  %-6s %8v %s\n", side.name, q.at.Round(time.Millisecond), q.line)
			}
		}
	}
	host.stdin.Close()
	nextEvent(guest, "closed")
	return r
}

// BenchmarkFarBoard times connecting through a board D away at each of
// farBoardDelays: the host's start until its room is posted, the joiner's
// start until it is connected and until both are, and the requests and
// connections each side sent to the board. See docs/NETWORKS.md.
func BenchmarkFarBoard(b *testing.B) {
	pypeerPeer(b)
	board := startDistantBoard(b)
	stun := ""
	if ms := envInt(b, farSTUNEnv, 0); ms > 0 {
		stun = startFarSTUN(b, time.Duration(ms)*time.Millisecond)
	}
	for b.Loop() {
		runs := map[string]map[time.Duration][]farRun{}
		for _, s := range farStacks {
			runs[s.name] = map[time.Duration][]farRun{}
		}
		for round := range farBoardRounds {
			for _, d := range farBoardDelays {
				for i, s := range farStacks {
					room := fmt.Sprintf("F%d%d%03d", round, i, d/time.Millisecond)
					runs[s.name][d] = append(runs[s.name][d], farConnect(b, s, board, stun, d, room))
				}
			}
		}
		if stun != "" {
			fmt.Printf("\nboth sides gather from a STUN server %d ms away (round trip)\n", envInt(b, farSTUNEnv, 0))
		}
		printFarTable(b, runs)
	}
}

func printFarTable(b *testing.B, runs map[string]map[time.Duration][]farRun) {
	fmt.Printf("\nconnecting through a board D away each way (plus 2 round trips for each new connection), medians of %d rounds\n", farBoardRounds)
	fmt.Printf("machine: %s, %d CPUs; load average %s\n\n", cpuModel(), 2, loadAverage())
	fmt.Printf("| %-24s | %6s | %-22s | %-22s | %-22s | %-13s | %-13s\n", "stack", "D", "host: room posted", "joiner: connected", "joiner: both connected", "requests h/j", "connections h/j")
	fmt.Printf("|%s|%s|%s|%s|%s|%s|%s\n", strings.Repeat("-", 26), strings.Repeat("-", 8), strings.Repeat("-", 24), strings.Repeat("-", 24), strings.Repeat("-", 24), strings.Repeat("-", 15), "---")
	for _, s := range farStacks {
		base := runs[s.name][0]
		basePosted := farMedian(base, func(r farRun) time.Duration { return r.posted })
		baseConnected := farMedian(base, func(r farRun) time.Duration { return r.connected })
		baseJoined := farMedian(base, func(r farRun) time.Duration { return r.joined })
		for _, d := range farBoardDelays {
			rs := runs[s.name][d]
			posted := farMedian(rs, func(r farRun) time.Duration { return r.posted })
			connected := farMedian(rs, func(r farRun) time.Duration { return r.connected })
			joined := farMedian(rs, func(r farRun) time.Duration { return r.joined })
			trips := func(t, base time.Duration) string {
				if d == 0 {
					return "base"
				}
				return fmt.Sprintf("+%.1f RTT", float64(t-base)/float64(2*d))
			}
			fmt.Printf("| %-24s | %6v | %7.0f ms %-11s | %7.0f ms %-11s | %7.0f ms %-11s | %5d / %-5d | %5d / %-5d\n", s.name, d,
				ms(posted), trips(posted, basePosted), ms(joined), trips(joined, baseJoined), ms(connected), trips(connected, baseConnected),
				rs[len(rs)/2].hostReqs, rs[len(rs)/2].joinReqs, rs[len(rs)/2].hostConns, rs[len(rs)/2].joinConns)
			if d > 0 {
				b.ReportMetric(float64(connected-baseConnected)/float64(2*d), fmt.Sprintf("%s-join-rtt-%dms", s.key, d/time.Millisecond))
			}
		}
	}
}

func farMedian(rs []farRun, f func(farRun) time.Duration) time.Duration {
	ds := make([]time.Duration, len(rs))
	for i, r := range rs {
		ds[i] = f(r)
	}
	return median(ds)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
