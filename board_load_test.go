package main

// A load generator for the board, as a benchmark. In one run, on loopback,
// twice (with the board's per-address limits at their defaults, and with
// every limit off) it measures:
//   - idle streams held at once, and the board's RSS per stream;
//   - complete room handshakes per second while those streams are held:
//     PUT offer, open a stream on the answer, PUT answer, the stream's
//     event, DELETE the room;
//   - p50 and p99 from the PUT of an answer to its event on the stream;
//   - lost events: every waiting stream must get its event.
//
//	go test -run '^$' -bench BoardLoad -benchtime 1x .
//
// Every user is a client address of its own, as on the internet: each
// handshake's host and joiner, each idle joiner (8 to an address, as
// behind a NAT) and each idle room's host dial from their own address in
// 127.0.0.0/8, which is all loopback on Linux. So "limits=default" shows
// what the limits cost legitimate load: the per-address caps are at their
// defaults, and only the totals (-max-streams, -max-rooms) are raised to
// fit the run. Elsewhere every client is 127.0.0.1 and only "limits=off"
// runs.
//
// The board is a `gopeer -serve` process (the binary TestMain builds), so
// its RSS is its own. With GOPEER_BOARD_LOAD_INPROCESS=1 it runs inside
// the benchmark instead, for -cpuprofile and -memprofile; RSS then counts
// both sides. GOPEER_BOARD_LOAD_STREAMS and GOPEER_BOARD_LOAD_SECONDS
// change the number of idle streams (10000) and the length of the
// handshake phase (10).

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	loadDefaultStreams = 10000
	loadDefaultSeconds = 10
	loadWorkers        = 32               // concurrent handshakes
	loadPayloadBytes   = 2000             // about a sealed SDP with a few candidates
	loadWait           = 30 * time.Second // a lost event, not a slow one
)

func BenchmarkBoardLoad(b *testing.B) {
	files := loadRaiseFileLimit(b)
	streams := loadEnvInt(b, "GOPEER_BOARD_LOAD_STREAMS", loadDefaultStreams)
	if os.Getenv("GOPEER_BOARD_LOAD_INPROCESS") != "" && uint64(2*streams+4*loadWorkers+100) > files {
		// Both ends of every connection are this process's: past its
		// limit the board cannot accept, and the run would only stall.
		b.Fatalf("in process, %d streams need %d open files and the limit is %d; set GOPEER_BOARD_LOAD_STREAMS=%d",
			streams, 2*streams+4*loadWorkers+100, files, (int(files)-4*loadWorkers-100)/2)
	}
	phase := time.Duration(loadEnvInt(b, "GOPEER_BOARD_LOAD_SECONDS", loadDefaultSeconds)) * time.Second
	totals := strconv.Itoa(2*streams + 2*loadWorkers)
	for _, run := range []struct {
		name  string
		flags []string
	}{
		{"limits=default", []string{"-max-streams", totals, "-max-rooms", totals}},
		{"limits=off", []string{"-max-streams", "0", "-max-streams-per-addr", "0", "-max-conns-per-addr", "0",
			"-write-rate", "0", "-read-rate", "0", "-max-rooms", "0", "-max-rooms-per-addr", "0", "-max-bytes", "0"}},
	} {
		b.Run(run.name, func(b *testing.B) {
			if run.name == "limits=default" && runtime.GOOS != "linux" {
				b.Skip("every client would be 127.0.0.1: distinct loopback addresses need Linux")
			}
			loadRun(b, streams, phase, run.flags)
		})
	}
}

func loadRun(b *testing.B, streams int, phase time.Duration, flags []string) {
	addr, rss := loadStartBoard(b, flags)
	for b.Loop() {
		before := rss()
		idle := loadOpenIdleStreams(b, addr, streams)
		held := rss()
		b.ReportMetric(float64(len(idle.streams)), "idle-streams")
		b.ReportMetric(float64(held-before)/float64(len(idle.streams))/1024, "KiB-RSS/stream")
		b.ReportMetric(float64(held)/(1<<20), "MiB-RSS")

		hs := loadHandshakes(b, addr, phase)
		b.ReportMetric(float64(hs.done)/hs.elapsed.Seconds(), "handshakes/s")
		b.ReportMetric(loadPercentile(hs.latencies, 50), "p50-ms")
		b.ReportMetric(loadPercentile(hs.latencies, 99), "p99-ms")

		lostIdle := idle.wakeAll(b, addr)
		lost := hs.lost + lostIdle
		b.ReportMetric(float64(lost), "lost")
		if lost > 0 {
			b.Errorf("%d events lost: %d of %d handshakes, %d of %d idle streams", lost, hs.lost, hs.done+hs.lost, lostIdle, len(idle.streams))
		}
		if hs.errors > 0 {
			b.Errorf("%d handshakes failed: %v", hs.errors, hs.firstErr)
		}
		idle.close()
	}
}

// loadStartBoard starts a board with the given flags and returns its
// address and a function that reads its RSS in bytes.
func loadStartBoard(b *testing.B, flags []string) (string, func() int64) {
	b.Helper()
	if os.Getenv("GOPEER_BOARD_LOAD_INPROCESS") != "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		cfg, err := parseConfig(append([]string{"-serve", ln.Addr().String()}, flags...), env{getenv: func(string) string { return "" }})
		if err != nil {
			b.Fatal(err)
		}
		opts := cfg.boardOpts
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = serveBoard(ctx, ln, newBoard(opts), opts, nil)
		}()
		b.Cleanup(func() { cancel(); <-done })
		return ln.Addr().String(), func() int64 { return loadRSS(b, os.Getpid()) }
	}
	p := startGopeer(b, nil, append([]string{"-serve", "127.0.0.1:0"}, flags...)...)
	base := p.line()
	addr, ok := strings.CutPrefix(base, "http://")
	if !ok {
		b.Fatalf("-serve printed %q", base)
	}
	return addr, func() int64 { return loadRSS(b, p.cmd.Process.Pid) }
}

// loadRSS reads a process's resident set size.
func loadRSS(b *testing.B, pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				b.Fatalf("VmRSS %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

func loadEnvInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q is not a positive number", name, s)
	}
	return n
}

func loadPercentile(ms []float64, p int) float64 {
	if len(ms) == 0 {
		return 0
	}
	s := slices.Clone(ms)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

// loadConn is a keep-alive connection for plain requests, with a
// hand-written client: the load generator shares the two cores with the
// board, so it must cost little.
type loadConn struct {
	c net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

// loadDial connects to the board from the loopback address from.
func loadDial(addr string, from netip.Addr) (*loadConn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: from.AsSlice()}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		// Close with a reset: no TIME_WAIT, so the run does not run out
		// of ports.
		_ = tc.SetLinger(0)
	}
	return &loadConn{c: c, r: bufio.NewReaderSize(c, 4096), w: bufio.NewWriterSize(c, 4096)}, nil
}

// do sends one request and reads the whole answer.
func (lc *loadConn) do(method, path, body string) error {
	fmt.Fprintf(lc.w, "%s %s HTTP/1.1\r\nHost: board\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", method, path, len(body), body)
	if err := lc.w.Flush(); err != nil {
		return err
	}
	resp, err := http.ReadResponse(lc.r, nil)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s %s: status %d", method, path, resp.StatusCode)
	}
	return err
}

// loadStream is one open event stream.
type loadStream struct {
	lc   *loadConn
	body *bufio.Reader
}

func loadOpenStream(addr, path string, from netip.Addr) (*loadStream, error) {
	lc, err := loadDial(addr, from)
	if err != nil {
		return nil, err
	}
	// Bounded until the first event: a board that cannot accept (out of
	// file descriptors) must fail the run, not stall it.
	_ = lc.c.SetDeadline(time.Now().Add(loadWait))
	fmt.Fprintf(lc.w, "GET %s HTTP/1.1\r\nHost: board\r\nAccept: text/event-stream\r\n\r\n", path)
	if err := lc.w.Flush(); err != nil {
		lc.c.Close()
		return nil, err
	}
	resp, err := http.ReadResponse(lc.r, nil)
	if err != nil {
		lc.c.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		lc.c.Close()
		return nil, fmt.Errorf("stream %s: status %d", path, resp.StatusCode)
	}
	s := &loadStream{lc: lc, body: bufio.NewReaderSize(resp.Body, 512)}
	if _, err := s.next(); err != nil { // the first put
		lc.c.Close()
		return nil, err
	}
	_ = lc.c.SetDeadline(time.Time{})
	return s, nil
}

// next returns the data of the next event other than a keep-alive.
func (s *loadStream) next() (string, error) {
	for {
		var name, data string
		for {
			line, err := s.body.ReadString('\n')
			if err != nil {
				return "", err
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case line == "":
				if name != "keep-alive" {
					return data, nil
				}
				name = ""
				continue
			case strings.HasPrefix(line, "event: "):
				name = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				data = line[len("data: "):]
			}
		}
	}
}

func (s *loadStream) close() { s.lc.c.Close() }

// loadIdle is a crowd of joiners waiting for an offer that comes only at
// the end.
type loadIdle struct {
	streams []*loadStream
	got     []chan string
}

func loadOpenIdleStreams(b *testing.B, addr string, n int) *loadIdle {
	b.Helper()
	idle := &loadIdle{streams: make([]*loadStream, n), got: make([]chan string, n)}
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	for range 64 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				s, err := loadOpenStream(addr, "/rooms/"+loadCode(i)+"/offer.json", loadClient(loadIdleJoiners, i/8))
				if err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
				idle.streams[i] = s
				got := make(chan string, 1)
				idle.got[i] = got
				go func() {
					data, err := s.next()
					if err == nil {
						got <- data
					}
					close(got)
				}()
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		idle.close()
		b.Fatalf("opening idle streams: %v", *err)
	}
	return idle
}

// wakeAll has each idle stream's host post its offer, and returns how
// many streams did not get their event.
func (idle *loadIdle) wakeAll(b *testing.B, addr string) int {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range loadWorkers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(idle.streams); i = int(next.Add(1)) - 1 {
				lc, err := loadDial(addr, loadClient(loadIdleHosts, i))
				if err == nil {
					body := fmt.Sprintf(`{"payload":"idle-%d","timestamp":1}`, i)
					err = lc.do("PUT", "/rooms/"+loadCode(i)+"/offer.json", body)
					lc.c.Close()
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	lost := 0
	deadline := time.After(loadWait)
	for i, got := range idle.got {
		want := fmt.Sprintf(`"payload":"idle-%d"`, i)
		select {
		case data := <-got:
			if !strings.Contains(data, want) {
				lost++
			}
		case <-deadline:
			lost++
		}
	}
	return lost
}

func (idle *loadIdle) close() {
	for _, s := range idle.streams {
		if s != nil {
			s.close()
		}
	}
}

// loadResult is what the handshake phase measured.
type loadResult struct {
	done, lost, errors int
	elapsed            time.Duration
	latencies          []float64 // ms from PUT answer to its event
	firstErr           error
}

// loadHandshakes runs complete room handshakes with loadWorkers at a time
// for d.
func loadHandshakes(b *testing.B, addr string, d time.Duration) loadResult {
	b.Helper()
	payload := strings.Repeat("A", loadPayloadBytes)
	var mu sync.Mutex
	var res loadResult
	var codes atomic.Int64
	codes.Store(loadHandshakeCodes)
	stop := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range loadWorkers {
		wg.Go(func() {
			var lats []float64
			done, lost, errs := 0, 0, 0
			var firstErr error
			var err error
			for err == nil && time.Now().Before(stop) {
				var lat time.Duration
				lat, err = loadHandshake(addr, int(codes.Add(1)), payload)
				switch {
				case errors.Is(err, errLoadLost):
					lost++
					err = nil
				case err == nil:
					done++
					lats = append(lats, float64(lat.Microseconds())/1000)
				}
			}
			if err != nil {
				errs, firstErr = 1, err
			}
			mu.Lock()
			defer mu.Unlock()
			res.done += done
			res.lost += lost
			res.errors += errs
			res.latencies = append(res.latencies, lats...)
			if res.firstErr == nil {
				res.firstErr = firstErr
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

var errLoadLost = errors.New("the answer never reached the host's stream")

// Room codes are six of A-Z0-9, as the board's rules want; the idle
// streams' rooms are numbered from 0 and the handshakes' from here.
const loadHandshakeCodes = 1 << 30

// loadCode is the room code numbered n.
func loadCode(n int) string {
	s := strings.ToUpper(strconv.FormatInt(int64(n), 36))
	return strings.Repeat("0", roomCodeLen-len(s)) + s
}

// loadHandshake is one room's signaling, as gopeer's host and joiner do
// it, each from an address of its own: the host posts an offer and waits
// on the answer; the joiner answers; the host deletes the room. It returns
// the time from the answer's PUT to its event on the host's stream.
func loadHandshake(addr string, n int, payload string) (time.Duration, error) {
	room := "/rooms/" + loadCode(n)
	hostConn, err := loadDial(addr, loadClient(loadHandshakeHosts, n))
	if err != nil {
		return 0, err
	}
	defer hostConn.c.Close()
	if err := hostConn.do("PUT", room+"/offer.json", `{"payload":"`+payload+`","timestamp":1}`); err != nil {
		return 0, err
	}
	host, err := loadOpenStream(addr, room+"/answer.json", loadClient(loadHandshakeHosts, n))
	if err != nil {
		return 0, err
	}
	defer host.close()
	joiner, err := loadDial(addr, loadClient(loadHandshakeJoiners, n))
	if err != nil {
		return 0, err
	}
	defer joiner.c.Close()
	arrived := make(chan time.Time, 1)
	go func() {
		if _, err := host.next(); err == nil {
			arrived <- time.Now()
		}
		close(arrived)
	}()
	sent := time.Now()
	if err := joiner.do("PUT", room+"/answer.json", `{"payload":"`+payload+`","timestamp":2}`); err != nil {
		return 0, err
	}
	var lat time.Duration
	select {
	case at, ok := <-arrived:
		if !ok {
			return 0, errLoadLost
		}
		lat = at.Sub(sent)
	case <-time.After(loadWait):
		return 0, errLoadLost
	}
	return lat, hostConn.do("DELETE", room+".json", "")
}

// The crowds of client addresses, one /16 of 127.0.0.0/8 each.
const (
	loadIdleJoiners = iota + 1
	loadIdleHosts
	loadHandshakeHosts
	loadHandshakeJoiners
)

// loadClient is the address of the n-th client of a crowd: 127.crowd.x.y
// on Linux (n cycles through the /16), 127.0.0.1 elsewhere.
func loadClient(crowd, n int) netip.Addr {
	if runtime.GOOS != "linux" {
		return netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	n %= 1<<16 - 2
	n++ // not .0.0
	return netip.AddrFrom4([4]byte{127, byte(crowd), byte(n >> 8), byte(n)})
}
