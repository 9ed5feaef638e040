package main

// What this machine allows any chat program at all, measured in the same run
// as BenchmarkInterop so the goals can be read against it:
//
//   - the round-trip floor: the benchmark's own path (harness → stdin →
//     process → UDP → echoing process → UDP → process → stdout → harness)
//     with two trivial Go processes and no WebRTC, crypto or acknowledgement;
//   - the datagram ceiling: 1,191-byte UDP datagrams (the SCTP packet size
//     WebRTC stacks send) from one process to another as fast as the sender
//     can write them, unencrypted and unacknowledged: one datagram per
//     system call, as pion and aiortc send, and then 50 per system call
//     (UDP segmentation offload), as neither does;
//   - the stream ceiling: 64 MiB of AES-128-GCM records through loopback TCP.
//
// The trivial processes are this test binary run again with floorEnv set;
// TestMain hands them to runFloorProcess.

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	floorEnv     = "GOPEER_BENCH_FLOOR"      // the trivial process to be: echo, relay, blast, blast-gso or count
	floorAddrEnv = "GOPEER_BENCH_FLOOR_ADDR" // the UDP address a relay or blast sends to

	// webrtcDatagram is pion's SCTP packet size (sctpOutboundMTU) before
	// DTLS adds its record header: what one system call carries.
	webrtcDatagram = 1191

	// gsoDatagrams is how many datagrams one segmented write carries.
	gsoDatagrams = 50
)

// machineLimits are the floor and ceilings of one run.
type machineLimits struct {
	rttFloorP50, rttFloorP99 time.Duration
	datagramMBps             float64 // one datagram per system call
	batchedMBps              float64 // gsoDatagrams per system call
	tcpAESGCMMBps            float64
}

func measureMachineLimits(b *testing.B) machineLimits {
	var l machineLimits
	var p50s, p99s []time.Duration
	var dgrams, batched, streams []float64
	for range benchRounds {
		p50, p99 := rttFloor(b)
		p50s, p99s = append(p50s, p50), append(p99s, p99)
		dgrams = append(dgrams, datagramCeiling(b, "blast"))
		batched = append(batched, datagramCeiling(b, "blast-gso"))
		streams = append(streams, tcpAESGCMCeiling(b))
	}
	l.rttFloorP50, l.rttFloorP99 = median(p50s), median(p99s)
	l.datagramMBps, l.batchedMBps, l.tcpAESGCMMBps = medianOf(dgrams), medianOf(batched), medianOf(streams)
	return l
}

// startFloorProcess runs this test binary as the trivial process role.
func startFloorProcess(b testing.TB, role, addr string) *proc {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), floorEnv+"="+role, floorAddrEnv+"="+addr)
	return startProc(b, cmd)
}

// rttFloor times 1,000 sequential echoes through two trivial processes,
// exactly as benchRoundTrip times them through two chat processes.
func rttFloor(b testing.TB) (p50, p99 time.Duration) {
	echo := startFloorProcess(b, "echo", "")
	relay := startFloorProcess(b, "relay", echo.line())
	p50, p99 = timeEchoes(b, "floor", relay)
	relay.stdin.Close()
	echo.stdin.Close()
	relay.wait()
	echo.wait()
	return p50, p99
}

// datagramCeiling sends 64 MiB as fast as one process (blast, a role) can
// write 1,191-byte datagrams and returns the MB/s another process received.
func datagramCeiling(b testing.TB, blaster string) float64 {
	count := startFloorProcess(b, "count", "")
	blast := startFloorProcess(b, blaster, count.line())
	ev := nextEvent(count, "count")
	blast.wait()
	count.wait()
	n, err1 := strconv.ParseFloat(ev["bytes"], 64)
	secs, err2 := strconv.ParseFloat(ev["seconds"], 64)
	if err1 != nil || err2 != nil || secs <= 0 {
		b.Fatalf("datagram count: %v", ev)
	}
	return n / 1e6 / secs
}

// TestMachineLimitProcesses runs the floor's and the ceilings' trivial
// processes once, so the benchmark's yardsticks (which CI does not run)
// cannot rot unnoticed: every echo comes back, every blaster delivers.
func TestMachineLimitProcesses(t *testing.T) {
	if p50, p99 := rttFloor(t); p50 <= 0 || p99 < p50 {
		t.Errorf("round-trip floor p50 %v, p99 %v", p50, p99)
	}
	for _, blaster := range []string{"blast", "blast-gso"} {
		if mbps := datagramCeiling(t, blaster); mbps <= 0 {
			t.Errorf("%s delivered %.1f MB/s", blaster, mbps)
		}
	}
}

// runFloorProcess is the test binary as a trivial process; it returns the
// exit status.
func runFloorProcess(role string) int {
	var err error
	switch role {
	case "echo":
		err = floorEcho()
	case "relay":
		err = floorRelay(os.Getenv(floorAddrEnv))
	case "blast":
		err = floorBlast(os.Getenv(floorAddrEnv), 1)
	case "blast-gso":
		err = floorBlast(os.Getenv(floorAddrEnv), gsoDatagrams)
	case "count":
		err = floorCount()
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s %s: %v\n", floorEnv, role, err)
		return 1
	}
	return 0
}

// listenFloor opens a loopback UDP socket and prints its address.
func listenFloor() (*net.UDPConn, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	setSocketBuffers(c, udpSocketBuffer) // as gopeer's own sockets
	fmt.Println(c.LocalAddr())
	return c, nil
}

// dialFloor opens a UDP socket to addr, with gopeer's socket buffers.
func dialFloor(addr string) (*net.UDPConn, error) {
	to, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		return nil, err
	}
	c, err := net.DialUDP("udp4", nil, to)
	if err != nil {
		return nil, err
	}
	setSocketBuffers(c, udpSocketBuffer)
	return c, nil
}

// floorEcho sends every datagram back until stdin closes.
func floorEcho() error {
	c, err := listenFloor()
	if err != nil {
		return err
	}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		c.Close()
	}()
	buf := make([]byte, 64<<10)
	for {
		n, from, err := c.ReadFromUDP(buf)
		if err != nil {
			return nil
		}
		if _, err := c.WriteToUDP(buf[:n], from); err != nil {
			return err
		}
	}
}

// floorRelay turns each -json input line into a datagram to addr and each
// reply into a message event, with gopeer's own line codec.
func floorRelay(addr string) error {
	c, err := dialFloor(addr)
	if err != nil {
		return err
	}
	in := bufio.NewReaderSize(os.Stdin, 64<<10)
	buf := make([]byte, 64<<10)
	var out []byte
	for {
		line, err := readLimitedLine(in, (6*pypeerChannel.maxBytes + 64))
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		text, ok := decodeTextLine(line)
		if !ok {
			return fmt.Errorf("input %q", line)
		}
		if _, err := c.Write([]byte(text)); err != nil {
			return err
		}
		n, err := c.Read(buf)
		if err != nil {
			return err
		}
		out = appendMessageEvent(out[:0], string(buf[:n]))
		if _, err := os.Stdout.Write(out); err != nil {
			return err
		}
	}
}

// floorBlast writes 64 MiB to addr in webrtcDatagram-sized datagrams,
// perWrite of them in each system call.
func floorBlast(addr string, perWrite int) error {
	c, err := dialFloor(addr)
	if err != nil {
		return err
	}
	if perWrite > 1 {
		if err := udpSegment(c, webrtcDatagram); err != nil {
			return err
		}
	}
	d := make([]byte, webrtcDatagram*perWrite)
	for sent := 0; sent < benchBulkBytes; sent += len(d) {
		_, _ = c.Write(d) // a refused or dropped datagram is only lost
	}
	return nil
}

// floorCount receives datagrams until none came for a while, then reports
// the bytes received and the time from the first to the last.
func floorCount() error {
	c, err := listenFloor()
	if err != nil {
		return err
	}
	buf := make([]byte, 64<<10)
	var first, last time.Time
	total := 0
	for {
		// The blast's end is the first silence of 300 ms: not a timing
		// being waited for, only how the count knows it is over.
		_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		n, _, err := c.ReadFromUDP(buf)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			if total > 0 {
				break
			}
			continue
		}
		if err != nil {
			return err
		}
		if total == 0 {
			first = time.Now()
		}
		last = time.Now()
		total += n
	}
	ev, _ := json.Marshal(map[string]string{
		"event": "count", "bytes": strconv.Itoa(total),
		"seconds": strconv.FormatFloat(last.Sub(first).Seconds(), 'f', 6, 64),
	})
	fmt.Println(string(ev))
	return nil
}

// tcpAESGCMCeiling sends 64 MiB in 16 KiB AES-128-GCM records through a
// loopback TCP socket and returns MB/s: what this machine allows an
// encrypted stream without WebRTC's layers.
func tcpAESGCMCeiling(b *testing.B) float64 {
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	got := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- err
			return
		}
		defer c.Close()
		r := bufio.NewReaderSize(c, 256<<10)
		var hdr [4]byte
		buf := make([]byte, benchBulkMessage+aead.Overhead())
		nonce := make([]byte, aead.NonceSize())
		total := 0
		for seq := uint64(0); total < benchBulkBytes; seq++ {
			if _, err := io.ReadFull(r, hdr[:]); err != nil {
				got <- err
				return
			}
			rec := buf[:binary.BigEndian.Uint32(hdr[:])]
			if _, err := io.ReadFull(r, rec); err != nil {
				got <- err
				return
			}
			binary.BigEndian.PutUint64(nonce[4:], seq)
			plain, err := aead.Open(rec[:0], nonce, rec, nil)
			if err != nil {
				got <- err
				return
			}
			total += len(plain)
		}
		got <- nil
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	w := bufio.NewWriterSize(c, 256<<10)
	msg := []byte(strings.Repeat("x", benchBulkMessage))
	out := make([]byte, 4, 4+benchBulkMessage+aead.Overhead())
	nonce := make([]byte, aead.NonceSize())
	start := time.Now()
	for seq := uint64(0); seq < benchBulkBytes/benchBulkMessage; seq++ {
		binary.BigEndian.PutUint64(nonce[4:], seq)
		rec := aead.Seal(out[:4], nonce, msg, nil)
		binary.BigEndian.PutUint32(rec[:4], uint32(len(rec)-4))
		if _, err := w.Write(rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := <-got; err != nil {
		b.Fatal(err)
	}
	return float64(benchBulkBytes) / 1e6 / time.Since(start).Seconds()
}
