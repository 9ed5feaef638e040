//go:build linux

package main

// BenchmarkFiles (issue 14, "Fast"): gopeer -send/-receive side by side
// with croc, one run, everything on loopback inside TestMain's network
// namespace:
//
//	go test -run '^$' -bench '^BenchmarkFiles$' -benchtime 1x -timeout 30m .
//
// (or interop/files_bench.sh). One file of random bytes (1 GiB unless
// GOPEER_BENCH_FILE_MB says how many MiB) goes from a sender to a receiver,
// gopeer and croc taking turns (GOPEER_BENCH_FILE_ROUNDS rounds, 3 unless
// told; medians). The window is the receiver's: from starting the receiving
// process to its exit with status 0; then the test checks the file's
// SHA-256 against the source's (not timed). Both senders hash what they
// send before a receiver can reach them, so that is outside the window and
// reported on its own. Peak RSS is each process's VmHWM (watchRSS).
//
// croc is github.com/schollz/croc/v10 at crocVersion, built for this run
// only: init, in the process that TestMain runs first (the only one with
// the network the Go module proxy needs), runs go install into a temporary
// GOBIN from a temporary directory, never touching go.mod or go.sum;
// GOPEER_CROC names a croc binary to use instead. croc runs with its own
// relay in the namespace (croc relay --host 127.0.0.1, which croc widens to
// 0.0.0.0: here that is loopback, and later the impaired wire), and with
// flags that keep it off every other address: the sender's --no-local (no
// local relay, no multicast announcements), the receiver's --multicast
// 127.0.0.1 (the discovery it always tries first goes to loopback, not to
// 239.255.255.250), --relay on both (not croc.schollz.com). Whatever the
// flags, croc looks up croc.schollz.com as it starts and the receiver also
// tries ff02::c; in the namespace neither has a route, so both fail in
// the system call without a packet sent (strace shows ENETUNREACH).
//
// Then the same over an impaired path, an 80 ms round trip with 1% loss
// each way (impairedFiles, below), with a smaller file:
// GOPEER_BENCH_IMPAIRED_MB MiB, 16 unless told; 0 skips it.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

const (
	crocModule  = "github.com/schollz/croc/v10"
	crocVersion = "v10.7.0"

	crocBinEnv    = "GOPEER_CROC"           // a croc binary; init sets it after installing one
	crocTempEnv   = "GOPEER_BENCH_CROC_TMP" // the temporary GOBIN init made, for the benchmark to remove
	crocErrEnv    = "GOPEER_BENCH_CROC_ERR" // why init could not install croc
	fileMBEnv     = "GOPEER_BENCH_FILE_MB"
	fileRoundsEnv = "GOPEER_BENCH_FILE_ROUNDS"
	// gopeerEnvEnv adds environment variables to every gopeer process
	// (space-separated NAME=value), to measure a setting: GOMEMLIMIT=off,
	// for one.
	gopeerEnvEnv = "GOPEER_BENCH_GOPEER_ENV"

	crocRelayHost  = "127.0.0.1"
	crocRelayPorts = "9009,9010,9011,9012,9013"

	filesSpeedGoal         = 3.0      // gopeer's MB/s over croc's, on loopback
	filesImpairedSpeedGoal = 1.0      // the same over the impaired path
	filesRSSGoalKiB        = 48 << 10 // each gopeer side's peak RSS, for a 2 GiB file
	filesFileName          = "random.bin"
)

// init installs croc for BenchmarkFiles, in the first process only and
// only when that benchmark is to run: TestMain runs the benchmarks again
// in a network namespace that cannot reach the module proxy.
func init() {
	if os.Getenv(netnsEnv) != "" || os.Getenv(floorEnv) != "" || os.Getenv(crocBinEnv) != "" ||
		!benchSelected("BenchmarkFiles", os.Args[1:]) {
		return
	}
	bin, dir, err := installCroc()
	if err != nil {
		os.Setenv(crocErrEnv, err.Error())
		return
	}
	os.Setenv(crocBinEnv, bin)
	os.Setenv(crocTempEnv, dir)
}

// benchSelected says whether go test's -test.bench pattern in args selects
// the top-level benchmark name.
func benchSelected(name string, args []string) bool {
	for i, a := range args {
		a = strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		var pattern string
		switch {
		case strings.HasPrefix(a, "test.bench="):
			pattern = strings.TrimPrefix(a, "test.bench=")
		case a == "test.bench" && i+1 < len(args):
			pattern = args[i+1]
		default:
			continue
		}
		top, _, _ := strings.Cut(pattern, "/")
		re, err := regexp.Compile(top)
		return pattern != "" && err == nil && re.MatchString(name)
	}
	return false
}

// installCroc runs go install for croc into a new temporary directory, from
// that directory, and checks that this module's go.mod and go.sum did not
// change.
func installCroc() (bin, dir string, err error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	dir, err = os.MkdirTemp("", "gopeer-croc-")
	if err != nil {
		return "", "", err
	}
	before := modFiles()
	fmt.Fprintf(os.Stderr, "BenchmarkFiles: go install %s@%s into %s (for the benchmark only)\n", crocModule, crocVersion, dir)
	// Built as gopeer is for the benchmarks (TestMain): static, without
	// cgo, stripped, so neither carries libc's pages in its RSS.
	cmd := exec.Command(goCmd, "install", "-trimpath", "-ldflags=-s -w", crocModule+"@"+crocVersion)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-mod=mod", "GOWORK=off", "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if after := modFiles(); after != before {
		err = errors.Join(err, errors.New("go.mod or go.sum changed while croc was installed; restore them"))
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", "", fmt.Errorf("go install %s@%s: %w\n%s", crocModule, crocVersion, err, lastLines(string(out), 20))
	}
	return filepath.Join(dir, "croc"), dir, nil
}

func modFiles() string {
	mod, _ := os.ReadFile("go.mod")
	sum, _ := os.ReadFile("go.sum")
	return string(mod) + "\x00" + string(sum)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// crocBin returns the croc binary to compare with, or fails b saying why
// there is none.
func crocBin(b *testing.B) (bin, version string) {
	b.Helper()
	bin = os.Getenv(crocBinEnv)
	if bin == "" {
		why := os.Getenv(crocErrEnv)
		if why == "" {
			why = "the benchmark did not install it (it does so before entering the network namespace)"
		}
		b.Fatalf("BenchmarkFiles needs croc %s: %s\nset %s to a croc binary, or let go test reach the Go module proxy", crocVersion, why, crocBinEnv)
	}
	if dir := os.Getenv(crocTempEnv); dir != "" {
		b.Cleanup(func() { os.RemoveAll(dir) })
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		b.Fatalf("%s --version: %v\n%s", bin, err, out)
	}
	return bin, strings.TrimSpace(string(out))
}

// filesRun is one transfer's figures.
type filesRun struct {
	ready            time.Duration // sender start to ready for a receiver (walk and hash): outside the window
	elapsed          time.Duration // receiver start to its exit with status 0
	connect          time.Duration // gopeer: receiver start to the offer
	transfer         time.Duration // gopeer: the offer to the done event
	finish           time.Duration // gopeer: the done event to the exit
	rssSend, rssRecv int64         // KiB
	cpuSend, cpuRecv time.Duration // user + system
	cpuRelay         time.Duration // croc's relay, while the receiver ran
}

func (r filesRun) mbps(size int64) float64 { return float64(size) / 1e6 / r.elapsed.Seconds() }

// filesFigures are one tool's runs.
type filesFigures struct{ runs []filesRun }

func (f *filesFigures) median(pick func(filesRun) time.Duration) time.Duration {
	var ds []time.Duration
	for _, r := range f.runs {
		ds = append(ds, pick(r))
	}
	return median(ds)
}

func (f *filesFigures) peak(pick func(filesRun) int64) int64 {
	var m int64
	for _, r := range f.runs {
		m = max(m, pick(r))
	}
	return m
}

func (f *filesFigures) throughputs(size int64) []float64 {
	var xs []float64
	for _, r := range f.runs {
		xs = append(xs, r.mbps(size))
	}
	return xs
}

// filesPath is where one comparison runs: loopback, or an impaired path.
type filesPath struct {
	// gopeer and croc run one transfer of src (whose SHA-256 is sum) and
	// return its figures; n numbers the run.
	gopeer, croc func(b *testing.B, src, sum string, size int64, n int) filesRun
	wire         *wire // the impaired path's, or nil
}

func BenchmarkFiles(b *testing.B) {
	gopeerBin(b)
	croc, crocVer := crocBin(b)
	size := int64(envInt(b, fileMBEnv, 1024)) << 20
	rounds := envInt(b, fileRoundsEnv, 3)
	for b.Loop() {
		src := filepath.Join(b.TempDir(), filesFileName)
		sum := writeRandomFile(b, src, size)
		load := loadAverage()
		relay := startCrocRelay(b, croc, crocRelayHost)
		g, c := compareFiles(b, loopbackFiles(b, croc, relay), src, sum, size, rounds)
		dWrite, dSync := diskCeiling(b, size)
		printFilesTable(filesHeader{
			title: fmt.Sprintf("gopeer vs %s: one file of %d MiB of random bytes, loopback in a private network namespace", crocVer, size>>20),
			size:  size, speedGoal: filesSpeedGoal, rounds: rounds, writeMBps: dWrite, syncMBps: dSync, loadBefore: load, relayRSS: peakRSSSoFar(relay),
		}, g, c)
		reportFiles(b, "", size, g, c)

		if mb := envInt(b, impairedMBEnv, 16); mb > 0 {
			isize := int64(mb) << 20
			isrc := filepath.Join(b.TempDir(), filesFileName)
			isum := writeRandomFile(b, isrc, isize)
			load := loadAverage()
			setImpairment(b)
			path := impairedFiles(b, croc, relay)
			g, c := compareFiles(b, path, isrc, isum, isize, rounds)
			printFilesTable(filesHeader{
				title: fmt.Sprintf("gopeer vs %s: one file of %d MiB over an impaired path: %s", crocVer, isize>>20, impairedDescription()),
				size:  isize, speedGoal: filesImpairedSpeedGoal, rounds: rounds, loadBefore: load, relayRSS: peakRSSSoFar(relay),
			}, g, c)
			fmt.Printf("the wire: %d packets passed, %d dropped at random, %d dropped for a full queue\n\n",
				path.wire.passed.Load(), path.wire.dropped.Load(), path.wire.overflow.Load())
			reportFiles(b, "impaired-", isize, g, c)
		}
	}
}

// compareFiles runs rounds of both tools on path, taking turns at going
// first so neither always follows the other.
func compareFiles(b *testing.B, path filesPath, src, sum string, size int64, rounds int) (g, c filesFigures) {
	for r := range rounds {
		runG := func() { g.runs = append(g.runs, path.gopeer(b, src, sum, size, r)) }
		runC := func() { c.runs = append(c.runs, path.croc(b, src, sum, size, r)) }
		order := []func(){runG, runC}
		if r%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		for _, run := range order {
			run()
		}
	}
	return g, c
}

// loopbackFiles runs both tools on loopback: gopeer through a gopeer
// -serve board, croc through its relay.
func loopbackFiles(b *testing.B, croc string, relay *proc) filesPath {
	board := startUnlimitedBoard(b)
	return filesPath{
		gopeer: func(b *testing.B, src, sum string, size int64, n int) filesRun {
			start := func(args ...string) *proc { return startGopeer(b, gopeerBenchEnv(), args...) }
			return gopeerFilesRun(b, start, start, board, src, sum, size)
		},
		croc: func(b *testing.B, src, sum string, size int64, n int) filesRun {
			start := func(env []string, dir string, args ...string) *proc {
				return startCroc(b, croc, env, dir, args...)
			}
			return crocFilesRun(b, start, start, relay, crocRelayHost, src, sum, size, n)
		},
	}
}

// gopeerBenchEnv is what GOPEER_BENCH_GOPEER_ENV adds to gopeer's
// environment.
func gopeerBenchEnv() []string { return strings.Fields(os.Getenv(gopeerEnvEnv)) }

// gopeerFilesRun sends src with gopeer -send (started by startSend) to
// gopeer -receive -yes (started by startRecv) through board.
func gopeerFilesRun(b *testing.B, startSend, startRecv func(args ...string) *proc, board, src, sum string, size int64) filesRun {
	var run filesRun
	dst := b.TempDir()
	common := []string{"-json", "-ice", "none", "-db", board}
	t0 := time.Now()
	sender := watchRSS(startSend(append(common, "-send", src)...))
	code := nextEvent(sender, "room")["code"]
	run.ready = time.Since(t0)
	sendOut := drainLines(sender, nil)

	t0 = time.Now()
	receiver := watchRSS(startRecv(append(common, "-receive", code, "-to", dst, "-yes")...))
	marks := map[string]time.Duration{}
	var mu sync.Mutex
	recvOut := drainLines(receiver, func(l string) {
		ev, err := parseEvent(l)
		if err != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if _, ok := marks[ev["event"]]; !ok {
			marks[ev["event"]] = time.Since(t0)
		}
	})
	waitExit(b, receiver, transferLimit(size), recvOut)
	run.elapsed = time.Since(t0)
	<-recvOut.done
	run.connect, run.transfer, run.finish = marks["offer"], marks["done"]-marks["offer"], run.elapsed-marks["done"]
	waitExit(b, sender, eventWait, sendOut)
	run.rssSend, run.rssRecv = maxRSS(b, sender), maxRSS(b, receiver)
	run.cpuSend, run.cpuRecv = cpuTime(sender), cpuTime(receiver)
	verifyReceived(b, "gopeer", filepath.Join(dst, filesFileName), sum, size)
	os.RemoveAll(dst)
	return run
}

// crocFilesRun sends src with croc send to croc (receiving, --yes) through
// the croc relay at relayHost, port 9009.
func crocFilesRun(b *testing.B, startSend, startRecv func(env []string, dir string, args ...string) *proc,
	relay *proc, relayHost, src, sum string, size int64, n int) filesRun {
	var run filesRun
	dst := b.TempDir()
	relayAddr := net.JoinHostPort(relayHost, "9009")
	// The relay's room comes from the code's first four characters.
	env := []string{fmt.Sprintf("CROC_SECRET=%04d-gopeer-bench-files", 1000+n)}
	t0 := time.Now()
	sender := watchRSS(startSend(env, filepath.Dir(src), "--ignore-stdin", "--disable-clipboard", "--relay", relayAddr,
		"send", "--no-local", src))
	waitStderrWithin(b, sender, "Code is:", transferLimit(size))
	run.ready = time.Since(t0)
	sendOut := drainLines(sender, nil)
	// croc's relay takes the first of two in a room for the sender: a
	// receiver there first fails ("problem with decoding"). The sender
	// joins its room right after saying its code, over a few round trips
	// that follow its connection.
	waitRelayConnection(b, sender, 9009)
	time.Sleep(crocJoinGrace)

	relayCPU := procCPU(relay)
	t0 = time.Now()
	receiver := watchRSS(startRecv(env, dst, "--yes", "--relay", relayAddr, "--multicast", crocRelayHost, "--out", dst))
	recvOut := drainLines(receiver, nil)
	waitExit(b, receiver, transferLimit(size), recvOut)
	run.elapsed = time.Since(t0)
	run.cpuRelay = procCPU(relay) - relayCPU
	waitExit(b, sender, eventWait, sendOut)
	run.rssSend, run.rssRecv = maxRSS(b, sender), maxRSS(b, receiver)
	run.cpuSend, run.cpuRecv = cpuTime(sender), cpuTime(receiver)
	verifyReceived(b, "croc", filepath.Join(dst, filesFileName), sum, size)
	os.RemoveAll(dst)
	return run
}

// crocJoinGrace is how long a croc sender gets, once connected to its
// relay, to join its room: four round trips of the relay's handshake, with
// room for a retransmission on the impaired path. Outside every window.
const crocJoinGrace = 2 * time.Second

// waitRelayConnection waits until this namespace holds an established TCP
// connection to local port (the relay's side of the sender's connection;
// no other is open when a run starts).
func waitRelayConnection(b *testing.B, sender *proc, port int) {
	b.Helper()
	local := fmt.Sprintf(":%04X ", port)
	deadline := time.Now().Add(eventWait)
	for {
		tcp, err := os.ReadFile("/proc/net/tcp")
		if err != nil {
			b.Fatal(err)
		}
		for _, l := range strings.Split(string(tcp), "\n")[1:] {
			// sl local_address rem_address st ...; 01 is ESTABLISHED
			if f := strings.Fields(l); len(f) > 3 && strings.HasSuffix(f[1]+" ", local) && f[3] == "01" {
				return
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("croc's sender did not connect to its relay within %v:\n%s", eventWait, lastLines(sender.stderr.String(), 20))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// startCroc runs croc with args in dir, with a HOME of its own (croc keeps
// settings there) and env.
func startCroc(b *testing.B, croc string, env []string, dir string, args ...string) *proc {
	b.Helper()
	cmd := exec.Command(croc, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + b.TempDir()}, env...)
	return startProc(b, cmd)
}

// startCrocRelay runs croc's relay on host and waits until all its ports
// take connections.
func startCrocRelay(b *testing.B, croc, host string) *proc {
	b.Helper()
	relay := watchRSS(startCroc(b, croc, nil, b.TempDir(), "relay", "--host", host, "--ports", crocRelayPorts))
	drainLines(relay, nil)
	deadline := time.Now().Add(eventWait)
	for _, port := range strings.Split(crocRelayPorts, ",") {
		for {
			c, err := net.DialTimeout("tcp", net.JoinHostPort(host, port), time.Second)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("croc relay: port %s not open within %v: %v\n%s", port, eventWait, err, relay.stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return relay
}

// drained is a process whose stdout a goroutine reads to the end.
type drained struct {
	done chan struct{}
	mu   sync.Mutex
	tail []string // the last lines, for a failure's message
}

func (d *drained) String() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strings.Join(d.tail, "\n")
}

// drainLines reads p's stdout until it ends, handing each line to each
// (if not nil), so that the process never blocks on a full pipe. Nothing
// else may read p's lines after.
func drainLines(p *proc, each func(string)) *drained {
	d := &drained{done: make(chan struct{})}
	go func() {
		defer close(d.done)
		for l := range p.lines {
			if each != nil {
				each(l)
			}
			d.mu.Lock()
			d.tail = append(d.tail, abbreviate(l))
			if len(d.tail) > 20 {
				d.tail = d.tail[1:]
			}
			d.mu.Unlock()
		}
	}()
	return d
}

// waitExit waits up to limit for p to exit with status 0.
func waitExit(b *testing.B, p *proc, limit time.Duration, out *drained) {
	b.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		b.Fatalf("%s did not exit within %v; stdout ends:\n%s\nstderr ends:\n%s", strings.Join(p.cmd.Args, " "),
			limit, out, lastLines(p.stderr.String(), 20))
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		b.Fatalf("%s exited with status %d; stdout ends:\n%s\nstderr ends:\n%s", strings.Join(p.cmd.Args, " "),
			code, out, lastLines(p.stderr.String(), 20))
	}
}

// waitStderrWithin is proc.waitStderr with a limit of its own.
func waitStderrWithin(b *testing.B, p *proc, substr string, limit time.Duration) {
	b.Helper()
	deadline := time.Now().Add(limit)
	for !strings.Contains(p.stderr.String(), substr) {
		select {
		case <-p.done:
			b.Fatalf("%s exited before saying %q:\n%s", p.cmd.Args[0], substr, lastLines(p.stderr.String(), 20))
		default:
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s did not say %q within %v:\n%s", p.cmd.Args[0], substr, limit, lastLines(p.stderr.String(), 20))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// transferLimit bounds a transfer of size bytes: generous, at least five
// minutes and 1 MB/s, but a hang still fails.
func transferLimit(size int64) time.Duration {
	return max(5*time.Minute, time.Duration(size/1e6)*time.Second)
}

func cpuTime(p *proc) time.Duration {
	return p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()
}

// procCPU is a running process's user and system time so far, from
// /proc/PID/stat, in clock ticks of 10 ms (Linux's USER_HZ).
func procCPU(p *proc) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which ends with the last ")":
	// state is the first, utime the 12th, stime the 13th.
	i := bytes.LastIndex(b, []byte(") "))
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// peakRSSSoFar is a watched process's peak RSS so far, KiB, while it runs.
func peakRSSSoFar(p *proc) int64 {
	v, ok := rssWatches.Load(p)
	if !ok {
		return 0
	}
	return v.(*rssMonitor).kib.Load()
}

// writeRandomFile writes size random bytes to path and returns their
// SHA-256, hex.
func writeRandomFile(b *testing.B, path string, size int64) string {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	var seed [32]byte
	for i := range seed {
		seed[i] = byte(rand.Uint32())
	}
	r := rand.NewChaCha8(seed)
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for left := size; left > 0; left -= int64(len(buf)) {
		chunk := buf[:min(int64(len(buf)), left)]
		_, _ = r.Read(chunk)
		h.Write(chunk)
		if _, err := f.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// verifyReceived checks that path holds size bytes whose SHA-256 is sum.
func verifyReceived(b *testing.B, tool, path, sum string, size int64) {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatalf("%s: the received file: %v", tool, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		b.Fatalf("%s: reading the received file: %v", tool, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); n != size || got != sum {
		b.Fatalf("%s: the received file has %d bytes with SHA-256 %s; sent %d bytes with %s", tool, n, got, size, sum)
	}
}

// diskCeiling writes size bytes to a new file next to where the receivers
// write, and returns MB/s without and with an fsync at the end (gopeer's
// receiver syncs each file before giving it its name; croc does not).
func diskCeiling(b *testing.B, size int64) (writeMBps, syncMBps float64) {
	b.Helper()
	buf := make([]byte, 1<<20)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(buf)
	for _, sync := range []bool{false, true} {
		path := filepath.Join(b.TempDir(), "ceiling.bin")
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for left := size; left > 0; left -= int64(len(buf)) {
			if _, err := f.Write(buf[:min(int64(len(buf)), left)]); err != nil {
				b.Fatal(err)
			}
		}
		if sync {
			if err := f.Sync(); err != nil {
				b.Fatal(err)
			}
		}
		mbps := float64(size) / 1e6 / time.Since(start).Seconds()
		f.Close()
		os.Remove(path)
		if sync {
			syncMBps = mbps
		} else {
			writeMBps = mbps
		}
	}
	return writeMBps, syncMBps
}

func envInt(b *testing.B, name string, def int) int {
	b.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		b.Fatalf("%s=%q: want a whole number", name, s)
	}
	return n
}

type filesHeader struct {
	title               string
	size                int64
	speedGoal           float64 // the goal for gopeer's MB/s over croc's
	rounds              int
	writeMBps, syncMBps float64 // 0 when not measured
	loadBefore          string
	relayRSS            int64 // croc's relay's peak so far, KiB
}

// loadAverage is /proc/loadavg's 1, 5 and 15 minute figures: other work
// on the machine shows in every figure here.
func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

func printFilesTable(h filesHeader, g, c filesFigures) {
	w := os.Stdout
	sec := func(d time.Duration) string { return fmt.Sprintf("%.3f s", d.Seconds()) }
	mb := func(x float64) string { return fmt.Sprintf("%.1f MB/s", x) }
	mib := func(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }
	row := func(name, gv, cv, ratio, note string) {
		fmt.Fprintf(w, "| %-52s | %12s | %12s | %7s | %s\n", name, gv, cv, ratio, note)
	}
	ratio := func(x, y float64) string {
		if y == 0 {
			return ""
		}
		return fmt.Sprintf("%.3f", x/y)
	}
	gt, ct := medianOf(g.throughputs(h.size)), medianOf(c.throughputs(h.size))
	elapsed := func(r filesRun) time.Duration { return r.elapsed }
	ge, ce := g.median(elapsed), c.median(elapsed)
	rssGoal := fmt.Sprintf("gopeer < 48 MiB (goal for 2 GiB; this file %d MiB)", h.size>>20)

	fmt.Fprintf(w, "\n%s\n", h.title)
	fmt.Fprintf(w, "machine: %s, %d CPUs, %s; %s; load average before %s, after %s\n", cpuModel(), runtime.NumCPU(), kernelRelease(), runtime.Version(),
		h.loadBefore, loadAverage())
	if env := gopeerBenchEnv(); len(env) > 0 {
		fmt.Fprintf(w, "gopeer's environment adds %s (%s)\n", strings.Join(env, " "), gopeerEnvEnv)
	}
	fmt.Fprintf(w, "medians of %d interleaved rounds per tool; peak RSS the largest over the rounds; the window is the receiver's: start to exit 0, the file's SHA-256 checked after\n\n", h.rounds)
	fmt.Fprintf(w, "| %-52s | %12s | %12s | %7s | %s\n", "figure", "gopeer", "croc", "ratio", "goal (gopeer/croc)")
	fmt.Fprintf(w, "|%s|%s|%s|%s|%s\n", strings.Repeat("-", 54), strings.Repeat("-", 14), strings.Repeat("-", 14), strings.Repeat("-", 9), "---")
	row(fmt.Sprintf("throughput: %d MiB, receiver start to exit", h.size>>20), mb(gt), mb(ct), ratio(gt, ct), goalMark(gt/ct >= h.speedGoal, fmt.Sprintf(">= %.0f", h.speedGoal)))
	row("time: receiver start to exit", sec(ge), sec(ce), ratio(ge.Seconds(), ce.Seconds()), "")
	row("  gopeer: receiver start to the offer (connect)", sec(g.median(func(r filesRun) time.Duration { return r.connect })), "", "", "")
	gx := g.median(func(r filesRun) time.Duration { return r.transfer })
	row("  gopeer: the offer to done (data, hashed, synced)", sec(gx), "", "", fmt.Sprintf("%.1f MB/s", float64(h.size)/1e6/gx.Seconds()))
	row("  gopeer: done to exit", sec(g.median(func(r filesRun) time.Duration { return r.finish })), "", "", "")
	gs, cs := g.peak(func(r filesRun) int64 { return r.rssSend }), c.peak(func(r filesRun) int64 { return r.rssSend })
	gr, cr := g.peak(func(r filesRun) int64 { return r.rssRecv }), c.peak(func(r filesRun) int64 { return r.rssRecv })
	row("peak RSS, sender", mib(gs), mib(cs), ratio(float64(gs), float64(cs)), goalMark(gs < filesRSSGoalKiB, rssGoal))
	row("peak RSS, receiver", mib(gr), mib(cr), ratio(float64(gr), float64(cr)), goalMark(gr < filesRSSGoalKiB, rssGoal))
	if h.relayRSS > 0 {
		row("peak RSS, croc's relay (all its runs so far)", "", mib(h.relayRSS), "", "croc's data passes through it; gopeer's board carries only signalling")
	}
	cpu := func(pick func(filesRun) time.Duration) (string, string, string) {
		x, y := g.median(pick), c.median(pick)
		return sec(x), sec(y), ratio(x.Seconds(), y.Seconds())
	}
	a, bb, r := cpu(func(r filesRun) time.Duration { return r.cpuSend })
	row("CPU time (user+system), sender", a, bb, r, "")
	a, bb, r = cpu(func(r filesRun) time.Duration { return r.cpuRecv })
	row("CPU time (user+system), receiver", a, bb, r, "")
	row("CPU time, croc's relay, during the receiver's run", "", sec(c.median(func(r filesRun) time.Duration { return r.cpuRelay })), "", "")
	a, bb, r = cpu(func(r filesRun) time.Duration { return r.ready })
	row("sender start to ready (hashing): not timed", a, bb, r, "gopeer: SHA-256; croc: xxhash; outside the window")
	if h.writeMBps > 0 {
		row(fmt.Sprintf("ceiling: write %d MiB to the receivers' disk", h.size>>20), mb(h.writeMBps), "", ratio(gt, h.writeMBps), "gopeer / ceiling; into the page cache")
		row("ceiling: the same, then fsync", mb(h.syncMBps), "", ratio(gt, h.syncMBps), "gopeer syncs each file before naming it; croc does not")
	}
	fmt.Fprintf(w, "\nMB/s per round: gopeer %.1f; croc %.1f\n", g.throughputs(h.size), c.throughputs(h.size))
	times := func(f filesFigures, pick func(filesRun) time.Duration) []time.Duration {
		var ds []time.Duration
		for _, r := range f.runs {
			ds = append(ds, pick(r).Round(time.Millisecond))
		}
		return ds
	}
	fmt.Fprintf(w, "receiver start to exit per round: gopeer %v; croc %v\n", times(g, elapsed), times(c, elapsed))
	fmt.Fprintf(w, "peak RSS per round, sender/receiver, MiB: gopeer %v; croc %v\n\n", rssPairs(g), rssPairs(c))
}

func rssPairs(f filesFigures) []string {
	var out []string
	for _, r := range f.runs {
		out = append(out, fmt.Sprintf("%.1f/%.1f", float64(r.rssSend)/1024, float64(r.rssRecv)/1024))
	}
	return out
}

func reportFiles(b *testing.B, prefix string, size int64, g, c filesFigures) {
	gt, ct := medianOf(g.throughputs(size)), medianOf(c.throughputs(size))
	b.ReportMetric(gt, prefix+"gopeer-MB/s")
	b.ReportMetric(ct, prefix+"croc-MB/s")
	b.ReportMetric(gt/ct, prefix+"throughput-x")
	b.ReportMetric(float64(g.peak(func(r filesRun) int64 { return r.rssSend }))/1024, prefix+"gopeer-send-MiB")
	b.ReportMetric(float64(g.peak(func(r filesRun) int64 { return r.rssRecv }))/1024, prefix+"gopeer-recv-MiB")
}

// The impaired path: loopback has no tc netem here, so the sender runs in a
// network namespace of its own whose only link to the test's namespace is a
// wire in this process: a TUN device on each side, and between them two
// goroutines per direction that drop impairedLossPercent of the packets at
// random and hold every other one impairedDelay before passing it on, in
// order. Both tools cross it the same way: gopeer's sender reaches the
// board and the receiver through it, croc's sender its relay (the relay and
// the receivers stay on the test namespace's side). The addresses,
// 10.98.0.1 here and 10.98.0.2 there, exist only in these two namespaces.
const (
	impairedMBEnv       = "GOPEER_BENCH_IMPAIRED_MB"     // the impaired comparison's file, MiB; 0 skips it
	impairedRTTEnv      = "GOPEER_BENCH_IMPAIRED_RTT_MS" // the round trip the wire adds, 80 unless told
	impairedLossEnv     = "GOPEER_BENCH_IMPAIRED_LOSS"   // percent lost each way, 1 unless told
	impairedQueue       = 1 << 14                        // packets held per direction; more are dropped
	wireHere, wireThere = "10.98.0.1", "10.98.0.2"
)

// The wire's impairment: half the round trip each way, and the loss.
var (
	impairedDelay       = 40 * time.Millisecond
	impairedLossPercent = 1.0
)

// setImpairment reads the impairment from the environment.
func setImpairment(b *testing.B) {
	b.Helper()
	impairedDelay = time.Duration(envInt(b, impairedRTTEnv, 80)) * time.Millisecond / 2
	if s := os.Getenv(impairedLossEnv); s != "" {
		loss, err := strconv.ParseFloat(s, 64)
		if err != nil || loss < 0 || loss > 100 {
			b.Fatalf("%s=%q: want a percentage", impairedLossEnv, s)
		}
		impairedLossPercent = loss
	}
}

func impairedDescription() string {
	return fmt.Sprintf("%v each way (%v round trip), %g%% loss each way, no rate limit: a user-space wire between two namespaces",
		impairedDelay, 2*impairedDelay, impairedLossPercent)
}

// wire is the impaired link's counters.
type wire struct {
	passed, dropped, overflow atomic.Int64
}

type wirePacket struct {
	due time.Time
	b   []byte
}

// carry passes packets read from from to to, impaired.
func (w *wire) carry(from, to *os.File) {
	q := make(chan wirePacket, impairedQueue)
	go func() {
		defer close(q)
		for {
			buf := make([]byte, 2048)
			n, err := from.Read(buf)
			if err != nil {
				return
			}
			if rand.Float64()*100 < impairedLossPercent {
				w.dropped.Add(1)
				continue
			}
			select {
			case q <- wirePacket{time.Now().Add(impairedDelay), buf[:n]}:
				w.passed.Add(1)
			default:
				w.overflow.Add(1)
			}
		}
	}()
	go func() {
		for p := range q {
			if d := time.Until(p.due); d > 0 {
				time.Sleep(d)
			}
			_, _ = to.Write(p.b)
		}
	}()
}

// openTUN creates a TUN device (no packet information header) in this
// network namespace.
func openTUN(b *testing.B, name string) *os.File {
	b.Helper()
	fd, err := syscall.Open("/dev/net/tun", syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		b.Fatalf("opening /dev/net/tun: %v", err)
	}
	var ifr [40]byte // struct ifreq: the name, then the flags
	copy(ifr[:15], name)
	const iffTUN, iffNoPI, tunSetIff = 0x0001, 0x1000, 0x400454ca
	binary.NativeEndian.PutUint16(ifr[16:], iffTUN|iffNoPI)
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), tunSetIff, uintptr(unsafe.Pointer(&ifr[0]))); errno != 0 {
		syscall.Close(fd)
		b.Fatalf("TUNSETIFF %s: %v", name, errno)
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		b.Fatal(err)
	}
	return os.NewFile(uintptr(fd), name) // non-blocking: reads and writes go through the runtime's poller
}

// farNamespace is a network namespace joined to this one by the impaired
// wire; pid is a process that holds it.
type farNamespace struct {
	pid  string
	wire *wire
}

// startImpairedNamespace makes the far namespace and the wire to it.
func startImpairedNamespace(b *testing.B) *farNamespace {
	b.Helper()
	cmd := exec.Command("unshare", "--net", "--", "/bin/sh", "-c", "echo ready; exec sleep 86400")
	holder := startProc(b, cmd)
	if l := holder.line(); l != "ready" {
		b.Fatalf("the far namespace's holder said %q", l)
	}
	pid := strconv.Itoa(cmd.Process.Pid)
	here, there := openTUN(b, "gpwire0"), openTUN(b, "gpwire1")
	b.Cleanup(func() { here.Close(); there.Close() }) // before the holder dies: the devices go with the files
	ipIn(b, "", "link", "set", "gpwire1", "netns", pid)
	ipIn(b, "", "addr", "add", wireHere, "peer", wireThere, "dev", "gpwire0")
	ipIn(b, "", "link", "set", "gpwire0", "up")
	ipIn(b, pid, "link", "set", "lo", "up")
	ipIn(b, pid, "addr", "add", wireThere, "peer", wireHere, "dev", "gpwire1")
	ipIn(b, pid, "link", "set", "gpwire1", "up")
	w := &wire{}
	w.carry(here, there)
	w.carry(there, here)
	return &farNamespace{pid: pid, wire: w}
}

// command runs argv in the far namespace: nsenter enters it and execs argv,
// so the process is argv's own (its peak RSS and CPU time are argv's).
func (f *farNamespace) command(argv ...string) *exec.Cmd {
	return exec.Command("nsenter", append([]string{"-t", f.pid, "-n", "--"}, argv...)...)
}

// impairedFiles runs both tools with the sender beyond the impaired wire.
func impairedFiles(b *testing.B, croc string, relay *proc) filesPath {
	far := startImpairedNamespace(b)
	boardURL := startUnlimitedBoardOn(b, "0.0.0.0:0")
	boardURL = onHost(b, boardURL, wireHere)
	farGopeer := func(args ...string) *proc {
		cmd := far.command(append([]string{gopeerBin(b)}, args...)...)
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + b.TempDir()}, gopeerBenchEnv()...)
		return startProc(b, cmd)
	}
	nearGopeer := func(args ...string) *proc { return startGopeer(b, gopeerBenchEnv(), args...) }
	farCroc := func(env []string, dir string, args ...string) *proc {
		cmd := far.command(append([]string{croc}, args...)...)
		cmd.Dir = dir
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + b.TempDir()}, env...)
		return startProc(b, cmd)
	}
	nearCroc := func(env []string, dir string, args ...string) *proc { return startCroc(b, croc, env, dir, args...) }
	return filesPath{
		gopeer: func(b *testing.B, src, sum string, size int64, n int) filesRun {
			before := far.wire.passed.Load()
			run := gopeerFilesRun(b, farGopeer, nearGopeer, boardURL, src, sum, size)
			checkCrossed(b, "gopeer", far.wire, before, size)
			return run
		},
		croc: func(b *testing.B, src, sum string, size int64, n int) filesRun {
			before := far.wire.passed.Load()
			// croc's relay listens on every address of this namespace
			// (it turns 127.0.0.1 into 0.0.0.0), so also on the wire's.
			run := crocFilesRun(b, farCroc, nearCroc, relay, wireHere, src, sum, size, 100+n)
			checkCrossed(b, "croc", far.wire, before, size)
			return run
		},
		wire: far.wire,
	}
}

// checkCrossed fails b unless the file's packets took the wire: at least
// one per 1,500 bytes.
func checkCrossed(b *testing.B, tool string, w *wire, before, size int64) {
	b.Helper()
	if n := w.passed.Load() - before; n < size/1500 {
		b.Fatalf("%s: only %d packets crossed the impaired wire for %d bytes: the transfer took another path", tool, n, size)
	}
}

// startUnlimitedBoardOn is startUnlimitedBoard listening on addr.
func startUnlimitedBoardOn(b *testing.B, addr string) string {
	b.Helper()
	p := startGopeer(b, []string{"FIREBASE_DB_SECRET=" + e2eBoardSecret}, "-serve", addr, "-write-rate", "0", "-read-rate", "0")
	return p.line()
}

// onHost is u with its host (not its port) replaced by host.
func onHost(b *testing.B, u, host string) string {
	b.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		b.Fatalf("board URL %q: %v", u, err)
	}
	parsed.Host = net.JoinHostPort(host, parsed.Port())
	return parsed.String()
}
