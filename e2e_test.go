package main

// End-to-end tests: real gopeer processes, a real board, real WebRTC, all on
// loopback inside a private network namespace that TestMain creates, so no
// packet can leave the machine and no ICE server is ever contacted.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	netnsEnv = "GOPEER_TEST_NETNS" // set inside the namespace TestMain made
	binEnv   = "GOPEER_TEST_BIN"   // the gopeer binary built for the tests

	// eventWait bounds every wait for a process: generous, since CI machines
	// are slow, but a hang still fails instead of running forever.
	eventWait = 60 * time.Second
)

// TestMain builds gopeer, then runs the tests again inside a fresh network
// namespace with only loopback up: the end-to-end tests cannot reach any
// address but 127.0.0.1 and ::1.
func TestMain(m *testing.M) {
	if role := os.Getenv(floorEnv); role != "" { // a benchmark's trivial process
		os.Exit(runFloorProcess(role))
	}
	if os.Getenv(netnsEnv) != "" {
		raiseParallelism()
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "gopeer-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin := filepath.Join(dir, "gopeer")
	// Built as releases are (scripts/build-all.sh): static, without cgo and
	// so without libc, whose pages would count in the benchmarks' resident
	// size.
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building gopeer:", err)
		os.Exit(1)
	}
	code := runInNetns(m, bin)
	os.RemoveAll(dir)
	os.Exit(code)
}

// testParallelism is how many parallel tests run at once unless -parallel
// says otherwise. The parallel tests (end to end, terminal, interop) spend
// most of their time waiting on timers and on other processes, not on the
// CPU, so more of them than cores keeps the suite short; the tests that
// time the CPU or hold shared ports run alone, before them.
const testParallelism = "4"

func raiseParallelism() {
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		_ = flag.Set("test.parallel", testParallelism)
	}
}

// runInNetns runs this test binary again in a new network namespace: as root
// with unshare -n, else in a user namespace (unshare -rn). When neither
// works, the end-to-end tests fail in CI and are skipped elsewhere.
func runInNetns(m *testing.M, bin string) int {
	// aiortc (pypeer's stack) skips 127.0.0.1, so loopback also carries
	// 127.0.0.2 for the interop tests.
	script := `ip link set lo up && ip addr add 127.0.0.2/8 dev lo && exec "$0" "$@"`
	for _, flags := range [][]string{{"--net"}, {"--user", "--map-root-user", "--net"}} {
		probe := exec.Command("unshare", append(flags, "--", "/bin/sh", "-c", "ip link set lo up")...)
		if probe.Run() != nil {
			continue
		}
		args := append(flags, "--", "/bin/sh", "-c", script, os.Args[0])
		cmd := exec.Command("unshare", append(args, os.Args[1:]...)...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		cmd.Env = append(os.Environ(), netnsEnv+"=1", binEnv+"="+bin)
		if err := cmd.Run(); err != nil {
			if exit, ok := err.(*exec.ExitError); ok {
				return exit.ExitCode()
			}
			fmt.Fprintln(os.Stderr, "running tests in a network namespace:", err)
			return 1
		}
		return 0
	}
	fmt.Fprintln(os.Stderr, "gopeer tests: cannot create a network namespace (unshare -n); end-to-end tests will not run")
	os.Setenv(binEnv, bin)
	return m.Run()
}

// gopeerBin returns the binary under test, or ends t when the end-to-end
// tests cannot run here: a failure in CI, a skip elsewhere.
func gopeerBin(t testing.TB) string {
	t.Helper()
	if os.Getenv(netnsEnv) == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("end-to-end tests need a private network namespace (run as root, or allow unshare -rn)")
		}
		t.Skip("needs a private network namespace: run as root or allow user namespaces")
	}
	return os.Getenv(binEnv)
}

// proc is a running gopeer process.
type proc struct {
	t      testing.TB
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string // stdout, line by line
	stderr *syncBuffer
	done   chan struct{}
	err    error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startGopeer starts gopeer with args and extra environment variables.
func startGopeer(t testing.TB, env []string, args ...string) *proc {
	t.Helper()
	return startGopeerIn(t, "", env, args...)
}

// startGopeerIn starts gopeer in the working directory dir ("" for this
// one). env comes after the defaults, so it may override HOME.
func startGopeerIn(t testing.TB, dir string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(gopeerBin(t), args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	return startProc(t, cmd)
}

// startProc starts cmd with its stdio connected to a new proc.
func startProc(t testing.TB, cmd *exec.Cmd) *proc {
	t.Helper()
	args := cmd.Args[1:]
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, stdin: stdin, lines: make(chan string, 4096), stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 8<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if t.Failed() {
			// A process still running when its test failed may be the
			// one that hung: have it print its stacks on the way out.
			askForStacks(cmd.Process, p.done)
		}
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%s stderr:\n%s", strings.Join(args, " "), p.stderr.String())
		}
	})
	return p
}

// line waits for the next stdout line.
func (p *proc) line() string {
	p.t.Helper()
	select {
	case l, ok := <-p.lines:
		if !ok {
			p.t.Fatalf("stdout ended; stderr:\n%s", p.stderr.String())
		}
		return l
	case <-time.After(eventWait):
		p.t.Fatalf("no output within %v; stderr:\n%s", eventWait, p.stderr.String())
	}
	return ""
}

// waitStderr waits until the process has written substr to stderr, which
// a goroutine of os/exec copies in behind the process's other output.
func (p *proc) waitStderr(substr string) {
	p.t.Helper()
	deadline := time.Now().Add(eventWait)
	for !strings.Contains(p.stderr.String(), substr) {
		if time.Now().After(deadline) {
			p.t.Fatalf("stderr did not say %q within %v:\n%s", substr, eventWait, p.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// event waits for the next -json event and checks its name.
// parseEvent reads one -json event line, its values as text: a JSON
// true is "true", so tests compare every field the same way.
func parseEvent(line string) (map[string]string, error) {
	var raw map[string]any
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber() // 5242885 stays 5242885, not 5.242885e+06
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	ev := make(map[string]string, len(raw))
	for k, v := range raw {
		if s, ok := v.(string); ok {
			ev[k] = s
		} else {
			ev[k] = fmt.Sprint(v)
		}
	}
	return ev, nil
}

// nextJSON waits for the next stdout line, which must be a -json event.
func (p *proc) nextJSON() map[string]string {
	p.t.Helper()
	l := p.line()
	ev, err := parseEvent(l)
	if err != nil {
		p.t.Fatalf("stdout line is not a JSON event: %q", l)
	}
	return ev
}

func (p *proc) event(want string) map[string]string {
	p.t.Helper()
	for {
		ev := p.nextJSON()
		if ev["event"] == "warning" && want != "warning" {
			continue
		}
		if ev["event"] != want {
			p.t.Fatalf("got event %v, want %q; stderr:\n%s", ev, want, p.stderr.String())
		}
		return ev
	}
}

// warning waits for a warning event that mentions substr, passing over
// other warnings.
func (p *proc) warning(substr string) {
	p.t.Helper()
	for {
		if ev := p.event("warning"); strings.Contains(ev["message"], substr) {
			return
		}
	}
}

// send writes one -json input line.
func (p *proc) send(text string) {
	p.t.Helper()
	b, _ := json.Marshal(map[string]string{"text": text})
	if _, err := p.stdin.Write(append(b, '\n')); err != nil {
		p.t.Fatal(err)
	}
}

// wait waits for the process to exit and returns its status.
func (p *proc) wait() int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(eventWait):
		p.t.Fatalf("did not exit within %v; stderr:\n%s", eventWait, p.stderr.String())
	}
	if p.cmd.ProcessState == nil {
		p.t.Fatal("no process state")
	}
	return p.cmd.ProcessState.ExitCode()
}

// e2eBoardSecret is the test boards' admin secret: only with it can a test
// read the whole board, as an anonymous client cannot.
const e2eBoardSecret = "e2e-board-secret"

// startTestBoard runs gopeer -serve on a free loopback port and returns its URL.
func startTestBoard(t testing.TB) string {
	t.Helper()
	b := startGopeer(t, []string{"FIREBASE_DB_SECRET=" + e2eBoardSecret}, "-serve", "127.0.0.1:0")
	u := b.line()
	if !strings.HasPrefix(u, "http://127.0.0.1:") {
		t.Fatalf("-serve printed %q, want a base URL", u)
	}
	return u
}

// boardRoot reads the whole board.
func boardRoot(t testing.TB, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/.json?auth=" + e2eBoardSecret)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b))
}

// pair is a host and a joiner connected through a board.
type pair struct {
	board       string
	host, guest *proc
}

// connectPair starts a host in room, joins it (with guestArgs added), and
// waits for both to connect.
func connectPair(t testing.TB, room, password string, guestArgs ...string) pair {
	t.Helper()
	board := startTestBoard(t)
	env := []string{"GOPEER_PASSWORD=" + password}
	common := []string{"-json", "-ice", "none", "-db", board}
	host := startGopeer(t, env, append(common, "-host", "-room", room)...)
	if ev := host.event("room"); ev["room"] != room {
		t.Fatalf("room event %v, want room %s", ev, room)
	}
	guest := startGopeer(t, env, append(append(common, "-join", strings.ToLower(room)), guestArgs...)...)
	host.event("connected")
	guest.event("connected")
	return pair{board: board, host: host, guest: guest}
}

func TestEndToEndChat(t *testing.T) {
	t.Parallel()
	p := connectPair(t, "E2E123", "correct horse")

	messages := []string{
		"hello",
		"héllo wörld 👋 世界 ✓",
		strings.Repeat("0123456789abcdef", 1024), // 16 KiB
		"\x1b[31mred\x1b[0m \x1b]52;c;aGk=\x07 \u009b2J \u202eevil",
		"two\nlines",
	}
	for _, m := range messages {
		p.guest.send(m)
		if got := p.host.event("message")["text"]; got != m {
			t.Errorf("host received %q, want %q", abbreviate(got), abbreviate(m))
		}
		p.host.send(m)
		if got := p.guest.event("message")["text"]; got != m {
			t.Errorf("joiner received %q, want %q", abbreviate(got), abbreviate(m))
		}
	}

	if root := boardRoot(t, p.board); root != "null" {
		t.Errorf("board after connect holds %s, want nothing", root)
	}

	p.guest.stdin.Close()
	if ev := p.guest.event("closed"); ev["reason"] != "you left" {
		t.Errorf("joiner closed with %v", ev)
	}
	if ev := p.host.event("closed"); ev["reason"] != "peer left" {
		t.Errorf("host closed with %v", ev)
	}
	if code := p.guest.wait(); code != exitOK {
		t.Errorf("joiner exit status %d, want 0", code)
	}
	if code := p.host.wait(); code != exitOK {
		t.Errorf("host exit status %d, want 0", code)
	}
}

// TestEndToEndDeliversBeforeExit checks that at stdin EOF everything already
// written reaches the peer before gopeer exits.
func TestEndToEndDeliversBeforeExit(t *testing.T) {
	t.Parallel()
	p := connectPair(t, "FLUSH1", "")
	const n = 500
	var in bytes.Buffer
	for i := range n {
		b, _ := json.Marshal(map[string]string{"text": fmt.Sprintf("message %d %s", i, strings.Repeat("x", 1000))})
		in.Write(append(b, '\n'))
	}
	if _, err := p.host.stdin.Write(in.Bytes()); err != nil {
		t.Fatal(err)
	}
	p.host.stdin.Close()
	for i := range n {
		want := fmt.Sprintf("message %d ", i)
		if got := p.guest.event("message")["text"]; !strings.HasPrefix(got, want) {
			t.Fatalf("message %d: got %q", i, abbreviate(got))
		}
	}
	if code := p.host.wait(); code != exitOK {
		t.Errorf("host exit status %d, want 0", code)
	}
	p.guest.event("closed")
	if code := p.guest.wait(); code != exitOK {
		t.Errorf("joiner exit status %d, want 0", code)
	}
}

// TestEndToEndPlainLineMode checks the non-JSON line mode: stdin lines out,
// received messages on stdout, sanitized so no escape sequence reaches a
// terminal.
func TestEndToEndPlainLineMode(t *testing.T) {
	t.Parallel()
	board := startTestBoard(t)
	common := []string{"-ice", "none", "-db", board}
	host := startGopeer(t, nil, append(common, "-json", "-host", "-room", "PLAIN1")...)
	host.event("room")
	guest := startGopeer(t, nil, append(common, "-join", "PLAIN1")...)
	host.event("connected")

	host.send("\x1b[2Jwiped?")
	if got, want := guest.line(), "␛[2Jwiped?"; got != want {
		t.Errorf("plain line mode printed %q, want %q", got, want)
	}
	if _, err := io.WriteString(guest.stdin, "hi from a pipe\n"); err != nil {
		t.Fatal(err)
	}
	if got := host.event("message")["text"]; got != "hi from a pipe" {
		t.Errorf("host received %q", got)
	}
	host.stdin.Close()
	if code := guest.wait(); code != exitOK {
		t.Errorf("joiner exit status %d after the host left, want 0", code)
	}
	if !strings.Contains(guest.stderr.String(), "peer left") {
		t.Errorf("joiner stderr does not say the peer left:\n%s", guest.stderr.String())
	}
}

func TestEndToEndWrongPassword(t *testing.T) {
	t.Parallel()
	board := startTestBoard(t)
	common := []string{"-json", "-ice", "none", "-db", board}
	host := startGopeer(t, []string{"GOPEER_PASSWORD=right"}, append(common, "-host", "-room", "PWD123")...)
	host.event("room")
	before := boardRoot(t, board)

	// The joiner says at once that the offer does not open, and watches
	// the room (a stranger may have replaced the offer) until -timeout.
	guest := startGopeer(t, []string{"GOPEER_PASSWORD=wrong"}, append(common, "-join", "PWD123", "-timeout", "2s")...)
	guest.warning("does not open with this password: a wrong password, or someone replaced it")
	ev := guest.event("error")
	if ev["kind"] != "wrong_password" || !strings.Contains(ev["message"], "wrong password") {
		t.Errorf("joiner error event %v, want kind wrong_password", ev)
	}
	if code := guest.wait(); code != exitWrongPassword {
		t.Errorf("joiner exit status %d, want %d", code, exitWrongPassword)
	}
	if after := boardRoot(t, board); after != before {
		t.Errorf("board changed by a wrong-password join:\nbefore %s\nafter  %s", before, after)
	}

	// The host is still waiting, and cleans the room up when stopped.
	if err := host.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	host.event("error")
	host.wait()
	if root := boardRoot(t, board); root != "null" {
		t.Errorf("board after the host stopped holds %s, want nothing", root)
	}
}

// TestEndToEndStrangerAnswer: garbage in the answer slot neither kills the
// host (pypeer's weakness) nor keeps the real joiner out.
func TestEndToEndStrangerAnswer(t *testing.T) {
	t.Parallel()
	board := startTestBoard(t)
	common := []string{"-json", "-ice", "none", "-db", board}
	host := startGopeer(t, nil, append(common, "-host", "-room", "STRNG1")...)
	host.event("room")

	req, _ := http.NewRequest(http.MethodPut, board+"/rooms/STRNG1/answer.json",
		strings.NewReader(`{"payload":"gAAAAABnot-a-real-token==","timestamp":1}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ev := host.event("warning"); !strings.Contains(ev["message"], "ignored an answer") {
		t.Errorf("host warning %v", ev)
	}

	guest := startGopeer(t, nil, append(common, "-join", "STRNG1")...)
	host.event("connected")
	guest.event("connected")
}

// TestEndToEndLANMode: -host -serve runs the board inside the host, and the
// room event says where it is.
func TestEndToEndLANMode(t *testing.T) {
	t.Parallel()
	host := startGopeer(t, nil, "-json", "-ice", "none", "-host", "-serve", "127.0.0.1:0")
	ev := host.event("room")
	if !strings.HasPrefix(ev["db"], "http://127.0.0.1:") {
		t.Fatalf("room event %v does not name the embedded board", ev)
	}
	guest := startGopeer(t, nil, "-json", "-ice", "none", "-db", ev["db"], "-join", ev["room"])
	host.event("connected")
	guest.event("connected")
}

// TestEndToEndFallbackBoard: a host whose default board is out of reach (no
// internet) serves a board itself instead of failing.
func TestEndToEndFallbackBoard(t *testing.T) {
	unreachable := []string{"PYPEER_URL=http://127.0.0.1:9"}
	host := startGopeer(t, unreachable, "-json", "-ice", "none", "-host")
	if ev := host.event("warning"); !strings.Contains(ev["message"], "serving a board here at http://127.0.0.1:8765") {
		t.Errorf("host warning %v, want it to say it serves a board", ev)
	}
	ev := host.event("room")
	if ev["db"] != "http://127.0.0.1:8765" {
		t.Fatalf("room event %v, want the fallback board http://127.0.0.1:8765", ev)
	}
	guest := startGopeer(t, unreachable, "-json", "-ice", "none", "-db", ev["db"], "-join", ev["room"])
	host.event("connected")
	guest.event("connected")
}

// TestEndToEndHostTimeout: a host nobody joins gives up after -timeout and
// leaves nothing on the board.
func TestEndToEndHostTimeout(t *testing.T) {
	board := startTestBoard(t)
	host := startGopeer(t, nil, "-json", "-ice", "none", "-db", board, "-host", "-room", "TIMEO1", "-timeout", "1s")
	host.event("room")
	if ev := host.event("error"); ev["kind"] != "timeout" {
		t.Errorf("error event %v, want kind timeout", ev)
	}
	if code := host.wait(); code != exitFailure {
		t.Errorf("exit status %d, want %d", code, exitFailure)
	}
	if root := boardRoot(t, board); root != "null" {
		t.Errorf("board after the timeout holds %s, want nothing", root)
	}
}

func TestEndToEndBoardUnreachable(t *testing.T) {
	t.Parallel()
	// Nothing listens on port 9 of loopback: the board is unreachable.
	p := startGopeer(t, nil, "-json", "-ice", "none", "-db", "http://127.0.0.1:9", "-join", "ABC123", "-timeout", "20s")
	ev := p.event("error")
	if ev["kind"] != "board" || !strings.Contains(ev["message"], "http://127.0.0.1:9") {
		t.Errorf("error event %v, want kind board naming the URL", ev)
	}
	if code := p.wait(); code != exitFailure {
		t.Errorf("exit status %d, want %d", code, exitFailure)
	}
}

func TestEndToEndUsage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-join", "ABC12"}, "not a room code"},
		{[]string{"-join", "ABC/../"}, "not a room code"},
		{[]string{"-host", "-join", "ABC123"}, "choose one of"},
		{[]string{"-room", "ABC123"}, "-room goes with -host"},
		{[]string{"-host", "-ice", "http://x"}, "not a stun: or turn: URL"},
		{[]string{"-nosuchflag"}, "flag provided but not defined"},
		{[]string{}, "choose -host or -join"},
	}
	for _, c := range cases {
		p := startGopeer(t, nil, c.args...)
		if code := p.wait(); code != exitUsage {
			t.Errorf("%v: exit status %d, want %d", c.args, code, exitUsage)
		}
		if !strings.Contains(p.stderr.String(), c.want) {
			t.Errorf("%v: stderr %q, want it to mention %q", c.args, p.stderr.String(), c.want)
		}
	}
}

// BenchmarkConnect measures the time from starting a host to both sides
// connected, through gopeer's board on loopback, and reports the median.
func BenchmarkConnect(b *testing.B) {
	// Without the board's rate limits: every session here comes from one
	// address, and from about the 18th on every other one waited a second
	// for the write limit.
	board := startUnlimitedBoard(b)
	// Both modes in one loop, alternating, so noise hits them alike: the
	// joiner with the host's gopeer code (CPace and the confirmation) and
	// with the room code alone (pypeer's session).
	times := map[string][]time.Duration{}
	for i := 0; b.Loop(); i++ {
		for _, mode := range []string{"gopeer", "pypeer"} {
			room := fmt.Sprintf("BEN%03d", i%1000)
			common := []string{"-json", "-ice", "none", "-db", board}
			start := time.Now()
			host := startGopeer(b, nil, append(common, "-host", "-room", room)...)
			ev := host.event("room")
			code := map[string]string{"gopeer": ev["code"], "pypeer": ev["room"]}[mode]
			guest := startGopeer(b, nil, append(common, "-join", code)...)
			if got := host.event("connected")["protocol"]; got != mode {
				b.Fatalf("connected as %s, want %s", got, mode)
			}
			guest.event("connected")
			times[mode] = append(times[mode], time.Since(start))
			host.stdin.Close()
			guest.stdin.Close()
			host.wait()
			guest.wait()
		}
	}
	reportConnectModes(b, times)
}

// reportConnectModes reports the median connect time of each mode, by
// protocol, and how much more native mode takes.
func reportConnectModes(b *testing.B, times map[string][]time.Duration) {
	native, pypeer := median(times["gopeer"]), median(times["pypeer"])
	b.ReportMetric(float64(native.Microseconds())/1000, "ms/connect-gopeer")
	b.ReportMetric(float64(pypeer.Microseconds())/1000, "ms/connect-pypeer")
	b.ReportMetric(float64((native-pypeer).Microseconds())/1000, "ms/native-extra")
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func abbreviate(s string) string {
	if len(s) > 80 {
		return fmt.Sprintf("%s… (%d bytes)", s[:60], len(s))
	}
	return s
}

// TestEndToEndEcho: an -echo peer sends every message straight back, in
// order, and ignores its own stdin.
func TestEndToEndEcho(t *testing.T) {
	t.Parallel()
	p := connectPair(t, "ECHO01", "", "-echo")
	p.guest.stdin.Close() // an echo peer does not leave at stdin EOF
	for i := range 50 {
		p.host.send(fmt.Sprintf("ping %d", i))
	}
	for i := range 50 {
		if got, want := p.host.event("message")["text"], fmt.Sprintf("ping %d", i); got != want {
			t.Fatalf("echo %d: got %q, want %q", i, got, want)
		}
	}
}

// TestEndToEndLeavesNoFiles: a whole session, host and joiner, creates or
// changes no file in the working directory, $HOME or $TMPDIR: messages never
// touch disk.
func TestEndToEndLeavesNoFiles(t *testing.T) {
	t.Parallel()
	dirs := map[string]string{"cwd": t.TempDir(), "HOME": t.TempDir(), "TMPDIR": t.TempDir()}
	board := startTestBoard(t)
	env := []string{"HOME=" + dirs["HOME"], "TMPDIR=" + dirs["TMPDIR"], "GOPEER_PASSWORD=pw"}
	common := []string{"-json", "-ice", "none", "-db", board}
	host := startGopeerIn(t, dirs["cwd"], env, append(common, "-host", "-room", "NOFILE")...)
	host.event("room")
	guest := startGopeerIn(t, dirs["cwd"], env, append(common, "-join", "NOFILE")...)
	host.event("connected")
	guest.event("connected")
	host.send("a secret that must not reach the disk")
	guest.event("message")
	guest.stdin.Close()
	guest.wait()
	host.wait()
	for name, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			t.Errorf("the session left %s in %s", e.Name(), name)
		}
	}
}

// TestEndToEndBoardKilledMidHandshake: the board process is killed after
// the host posts its offer and comes back empty on the same address. The
// host notices its offer is gone, posts it again, and the joiner gets in.
func TestEndToEndBoardKilledMidHandshake(t *testing.T) {
	t.Parallel()
	first := startGopeer(t, nil, "-serve", "127.0.0.1:0")
	board := first.line()
	common := []string{"-json", "-ice", "none", "-db", board}
	host := startGopeer(t, nil, append(common, "-host", "-room", "KILLB1")...)
	host.event("room")

	if err := first.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	first.wait()
	again := startGopeer(t, nil, "-serve", strings.TrimPrefix(board, "http://"))
	if u := again.line(); u != board {
		t.Fatalf("restarted board at %s, want %s", u, board)
	}
	host.warning("posting it again")
	guest := startGopeer(t, nil, append(common, "-join", "KILLB1")...)
	host.event("connected")
	guest.event("connected")
}

// TestEndToEndPeerKilled: a peer killed mid-chat (no goodbye) is noticed:
// the survivor reports the lost connection and exits 1, and the board holds
// nothing.
func TestEndToEndPeerKilled(t *testing.T) {
	t.Parallel()
	p := connectPair(t, "KILLP1", "")
	p.host.send("are you there?")
	p.guest.event("message")
	if err := p.guest.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if ev := p.host.event("closed"); ev["reason"] != "connection lost" {
		t.Errorf("host closed with %v, want connection lost", ev)
	}
	if ev := p.host.event("error"); !strings.Contains(ev["message"], "peer disconnected") {
		t.Errorf("host error %v, want it to say the peer disconnected", ev)
	}
	if code := p.host.wait(); code != exitFailure {
		t.Errorf("host exit status %d, want %d", code, exitFailure)
	}
	if root := boardRoot(t, p.board); root != "null" {
		t.Errorf("board holds %s, want nothing", root)
	}
}

// TestEndToEndMessageSizes: a message of exactly the most a peer accepts
// goes through; one byte more is refused with a warning, and the session
// goes on.
func TestEndToEndMessageSizes(t *testing.T) {
	t.Parallel()
	p := connectPair(t, "SIZES1", "")
	p.host.send(strings.Repeat("x", pypeerChannel.maxBytes+1))
	if ev := p.host.event("warning"); !strings.Contains(ev["message"], "not sent") {
		t.Errorf("warning %v, want not sent", ev)
	}
	p.host.send(strings.Repeat("y", pypeerChannel.maxBytes))
	if got := p.guest.event("message")["text"]; got != strings.Repeat("y", pypeerChannel.maxBytes) {
		t.Errorf("joiner received %d bytes, want %d", len(got), pypeerChannel.maxBytes)
	}
}

// TestEndToEndRefusedMessages: what a peer would not take as a message is
// refused with a warning, and the chat goes on: an empty -json text, and
// pypeer's keep-alive text, which every peer drops unseen.
func TestEndToEndRefusedMessages(t *testing.T) {
	t.Parallel()
	p := connectPair(t, "REFUSE", "pw")
	p.guest.send("")
	p.guest.warning("not sent: an empty message")
	p.guest.send(pypeerChannel.keepAlive)
	p.guest.warning("not sent: \"__ping__\" is the keep-alive text")
	p.guest.send("after")
	if got := p.host.event("message")["text"]; got != "after" {
		t.Errorf("host received %q, want only %q", got, "after")
	}

	// Plain line mode says so on stderr.
	board := startTestBoard(t)
	host := startGopeer(t, nil, "-json", "-ice", "none", "-db", board, "-host", "-room", "REFUS2")
	host.event("room")
	guest := startGopeer(t, nil, "-ice", "none", "-db", board, "-join", "REFUS2")
	host.event("connected")
	if _, err := io.WriteString(guest.stdin, "__ping__\nafter\n"); err != nil {
		t.Fatal(err)
	}
	if got := host.event("message")["text"]; got != "after" {
		t.Errorf("host received %q, want only %q", got, "after")
	}
	guest.waitStderr("gopeer: warning: not sent: \"__ping__\" is the keep-alive text")
}

// TestEndToEndUnreachableBoardHost: a host whose board cannot be reached
// says so in one error line and one hint, with no warning before it about
// cleaning up a room it never posted.
func TestEndToEndUnreachableBoardHost(t *testing.T) {
	t.Parallel()
	p := startGopeer(t, nil, "-ice", "none", "-db", "http://127.0.0.1:9", "-host")
	if code := p.wait(); code != exitFailure {
		t.Errorf("exit status %d, want %d", code, exitFailure)
	}
	stderr := p.stderr.String()
	if strings.Contains(stderr, "warning") || strings.Count(stderr, "gopeer: error: ") != 1 || strings.Count(stderr, "gopeer: hint: ") != 1 {
		t.Errorf("stderr, want no warning, one error and one hint:\n%s", stderr)
	}
	if !strings.Contains(stderr, "gopeer: error: cannot reach the board at http://127.0.0.1:9: connection refused\ngopeer: hint: ") {
		t.Errorf("stderr does not name the board and the cause, then a hint:\n%s", stderr)
	}
}

// TestEndToEndJSONUsageErrors: with -json, even a command line that does
// not parse is an error event, with its hint.
func TestEndToEndJSONUsageErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"-json", "-join", "bad"},
		{"-json", "-nosuchflag"},
		{"-json", "-host", "-db", "ftp://x"},
	} {
		p := startGopeer(t, nil, args...)
		ev := p.event("error")
		if ev["kind"] != kindUsage || ev["message"] == "" || ev["hint"] == "" {
			t.Errorf("%v: error event %v, want kind usage with a message and a hint", args, ev)
		}
		if code := p.wait(); code != exitUsage {
			t.Errorf("%v: exit status %d, want %d", args, code, exitUsage)
		}
	}
}

// TestEndToEndBusyPort: a board that cannot listen says why, with the hint
// for that cause, not the one for a missing internet connection.
func TestEndToEndBusyPort(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()

	p := startGopeer(t, nil, "-serve", addr)
	if code := p.wait(); code != exitFailure {
		t.Errorf("-serve: exit status %d, want %d", code, exitFailure)
	}
	want := "gopeer: error: cannot serve a board on " + addr + ": address already in use\ngopeer: hint: another program"
	if !strings.Contains(p.stderr.String(), want) {
		t.Errorf("-serve: stderr %q, want %q", p.stderr.String(), want)
	}

	host := startGopeer(t, nil, "-json", "-ice", "none", "-host", "-serve", addr)
	ev := host.event("error")
	if ev["kind"] != kindBoard || !strings.Contains(ev["message"], "address already in use") ||
		!strings.Contains(ev["hint"], "another program") || strings.Contains(ev["hint"], "internet") {
		t.Errorf("LAN mode: error event %v, want the busy port and its hint", ev)
	}
}

// TestEndToEndSelfDescription: -h is a short usage, -help the manual (the
// one go doc prints), -version the version and the Go it was built with.
func TestEndToEndSelfDescription(t *testing.T) {
	t.Parallel()
	out := func(args ...string) string {
		p := startGopeer(t, nil, args...)
		var lines []string
		for l := range p.lines {
			lines = append(lines, l)
		}
		if code := p.wait(); code != exitOK {
			t.Errorf("%v: exit status %d", args, code)
		}
		return strings.Join(lines, "\n")
	}
	short := out("-h")
	if n := strings.Count(short, "\n") + 1; n > 20 || !strings.Contains(short, "gopeer -join CODE") || !strings.Contains(short, "-help") {
		t.Errorf("-h printed %d lines:\n%s", n, short)
	}
	manual := out("-help")
	for _, want := range []string{"USAGE", "EXIT STATUS", "Ctrl-D", "-max-age DURATION", "-write-rate N", "GOPEER_PASSWORD"} {
		if !strings.Contains(manual, want) {
			t.Errorf("-help lacks %q", want)
		}
	}
	if strings.Contains(manual, "//") && strings.Contains(manual, "package main") {
		t.Errorf("-help shows Go source:\n%s", manual)
	}
	if v := out("-version"); !strings.HasPrefix(v, "gopeer ") || !strings.Contains(v, "go1.") || !strings.Contains(v, "speaks "+pypeerDialectVersion) {
		t.Errorf("-version printed %q", v)
	}
}
