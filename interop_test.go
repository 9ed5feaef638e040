package main

// Interop tests: gopeer against aiortc, the WebRTC stack pypeer runs on,
// driven by interop/pypeer_peer.py, which speaks pypeer's protocol. Like the
// end-to-end tests they run inside TestMain's private network namespace,
// through gopeer -serve, with no ICE servers. aiortc skips 127.0.0.1, so it
// meets its peers on 127.0.0.2.

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pion/webrtc/v4"
)

const (
	systemPython = "/usr/bin/python3" // Debian's, which sees python3-aiortc
	pypeerScript = "interop/pypeer_peer.py"
)

var (
	pypeerOnce sync.Once
	pypeerErr  error
)

// pypeerPeer returns the command that runs the aiortc peer, or ends t when
// aiortc is missing: a failure in CI (.ci/run installs it), a skip elsewhere.
func pypeerPeer(t testing.TB) []string {
	t.Helper()
	gopeerBin(t) // the namespace, or fail/skip as the end-to-end tests do
	pypeerOnce.Do(func() {
		out, err := exec.Command(systemPython, "-c", "import aiortc, httpx, cryptography").CombinedOutput()
		if err != nil {
			pypeerErr = fmt.Errorf("%s cannot import aiortc, httpx and cryptography (apt-get install python3-aiortc python3-httpx python3-cryptography): %v\n%s", systemPython, err, out)
		}
	})
	if pypeerErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(pypeerErr)
		}
		t.Skip(pypeerErr)
	}
	script, err := filepath.Abs(pypeerScript)
	if err != nil {
		t.Fatal(err)
	}
	return []string{systemPython, "-u", script}
}

// startPypeer starts the aiortc peer with JSON events on a board. env holds
// PYPEER_PASSWORD when there is one.
func startPypeer(t testing.TB, env []string, board string, args ...string) *proc {
	t.Helper()
	argv := append(pypeerPeer(t), append([]string{"--json", "--db", board, "--timeout", "60"}, args...)...)
	return startCommand(t, append([]string{"PYTHONIOENCODING=utf-8"}, env...), argv...)
}

// startCommand runs argv the way startGopeer runs gopeer: stdout read line by
// line, stderr kept and shown when the test fails, killed at cleanup.
func startCommand(t testing.TB, env []string, argv ...string) *proc {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	return startProc(t, cmd)
}

// nextEvent waits for the next event named want, passing over warnings and the
// aiortc peer's reports of keep-alives received (unless they are wanted).
func nextEvent(p *proc, want string) map[string]string {
	p.t.Helper()
	for {
		ev := p.nextJSON()
		if ev["event"] != want && (ev["event"] == "warning" || ev["event"] == "ping") {
			continue
		}
		if ev["event"] != want {
			p.t.Fatalf("got event %v, want %q", abbreviateEvent(ev), want)
		}
		return ev
	}
}

func abbreviateEvent(ev map[string]string) map[string]string {
	out := make(map[string]string, len(ev))
	for k, v := range ev {
		out[k] = abbreviate(v)
	}
	return out
}

// sendAll writes one JSON input line per text, from a goroutine, so a full
// pipe cannot deadlock the test against the reader.
func sendAll(p *proc, texts []string) {
	var buf strings.Builder
	for _, s := range texts {
		b, _ := json.Marshal(map[string]string{"text": s})
		buf.Write(b)
		buf.WriteByte('\n')
	}
	go func() { _, _ = p.stdin.Write([]byte(buf.String())) }()
}

// interopMessages are sent each way: ASCII, unicode, newlines, a 60 KiB
// message, and one of exactly 64 KiB, the most aiortc accepts.
func interopMessages() []string {
	big := strings.Repeat("0123456789 héllo wörld 👋 世界 ✓\n", 2048)
	big = big[:60<<10]
	for !utf8.ValidString(big) {
		big = big[:len(big)-1]
	}
	return []string{
		"hello from the other stack",
		"héllo wörld 👋 世界 ✓ — ﷽ 𝄞",
		"two\nlines\tand a tab",
		big,
		strings.Repeat("y", pypeerChannel.maxBytes),
	}
}

// exchangeBothWays checks messages in both directions, then 1,000 in order each way.
func exchangeBothWays(t *testing.T, a, b *proc, aName, bName string) {
	t.Helper()
	for _, m := range interopMessages() {
		a.send(m)
		if got := nextEvent(b, "message")["text"]; got != m {
			t.Fatalf("%s received %q, want %q", bName, abbreviate(got), abbreviate(m))
		}
		b.send(m)
		if got := nextEvent(a, "message")["text"]; got != m {
			t.Fatalf("%s received %q, want %q", aName, abbreviate(got), abbreviate(m))
		}
	}
	const n = 1000
	for _, dir := range []struct {
		from, to *proc
		name     string
	}{{a, b, bName}, {b, a, aName}} {
		texts := make([]string, n)
		for i := range texts {
			texts[i] = fmt.Sprintf("message %d of %d, ✓", i, n)
		}
		sendAll(dir.from, texts)
		for i, want := range texts {
			if got := nextEvent(dir.to, "message")["text"]; got != want {
				t.Fatalf("%s: message %d is %q, want %q", dir.name, i, abbreviate(got), want)
			}
		}
	}
}

// checkPingsHidden: a pypeer keep-alive (the text __ping__ on the channel,
// here sent on demand so the test need not wait) is never shown by gopeer,
// and gopeer's own keep-alives reach the aiortc peer, which reports them.
func checkPingsHidden(t *testing.T, gp, py *proc) {
	t.Helper()
	py.send(pypeerChannel.keepAlive)
	py.send("after the ping")
	if got := nextEvent(gp, "message")["text"]; got != "after the ping" {
		t.Fatalf("gopeer showed %q, want the message after the ping", abbreviate(got))
	}
	nextEvent(py, "ping") // gopeer's keep-alive, every GOPEER_PING_INTERVAL
}

// awaitBoardNull follows url as a board stream until its value is null.
func awaitBoardNull(t *testing.T, url string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/event-stream")
	client := &http.Client{Timeout: eventWait}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var value json.RawMessage
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok || data == "null" {
			continue
		}
		var ev struct {
			Path string          `json:"path"`
			Data json.RawMessage `json:"data"`
		}
		if json.Unmarshal([]byte(data), &ev) != nil {
			continue
		}
		if ev.Path == "/" {
			value = ev.Data
		} else {
			value = json.RawMessage("{}") // a child changed: not null
		}
		if string(value) == "null" {
			return
		}
	}
	t.Fatalf("%s is still %s: %v", url, abbreviate(string(value)), sc.Err())
}

// interopRoom reads one room off the board, as a client that knows its code
// may (a board need not let anyone list every room).
func interopRoom(t *testing.T, board, room string) string {
	t.Helper()
	resp, err := http.Get(board + "/rooms/" + room + ".json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET room %s: %s %s", room, resp.Status, b)
	}
	return strings.TrimSpace(string(b))
}

// interopBoardClean checks the room is gone from the board.
func interopBoardClean(t *testing.T, board, room string) {
	t.Helper()
	if v := interopRoom(t, board, room); v != "null" {
		t.Errorf("room %s after connect holds %s, want nothing", room, abbreviate(v))
	}
}

// fastPings makes gopeer and the aiortc peer send their keep-alives often, so
// the tests see them without waiting pypeer's 15 s.
var fastPings = []string{"GOPEER_PING_INTERVAL=100ms"}

func TestInteropGopeerHosting(t *testing.T) {
	t.Parallel()
	pypeerPeer(t)
	board := startTestBoard(t)
	const room, password = "GOHST1", "pässwörd ✓"
	host := startGopeer(t, append(fastPings, "GOPEER_PASSWORD="+password),
		"-json", "-ice", "none", "-db", board, "-host", "-room", room)
	nextEvent(host, "room")
	guest := startPypeer(t, []string{"PYPEER_PASSWORD=" + password}, board,
		"--join", strings.ToLower(room), "--ping-interval", "0.05", "--report-pings", "--fix-joiner-open")
	// The host announced itself in its offer (native.go); a pypeer joiner
	// reads past it, and the session is labelled for what it is.
	if ev := nextEvent(host, "connected"); ev["protocol"] != "pypeer" || ev["verified"] != "false" {
		t.Errorf("gopeer host connected to aiortc as %v, want an unverified pypeer session", ev)
	}
	t.Logf("DTLS cipher with a gopeer host: %s", nextEvent(guest, "connected")["dtls_cipher"])
	interopBoardClean(t, board, room)

	exchangeBothWays(t, host, guest, "gopeer host", "aiortc joiner")
	checkPingsHidden(t, host, guest)

	host.stdin.Close()
	if ev := nextEvent(host, "closed"); ev["reason"] != "you left" {
		t.Errorf("gopeer host closed with %v", ev)
	}
	if ev := nextEvent(guest, "closed"); ev["reason"] != "peer left" {
		t.Errorf("aiortc joiner closed with %v", ev)
	}
	if code := host.wait(); code != exitOK {
		t.Errorf("gopeer host exit status %d", code)
	}
	if code := guest.wait(); code != exitOK {
		t.Errorf("aiortc joiner exit status %d", code)
	}
}

func TestInteropGopeerJoining(t *testing.T) {
	t.Parallel()
	pypeerPeer(t)
	board := startTestBoard(t)
	const room, password = "PYHST1", "correct horse battery staple"
	host := startPypeer(t, []string{"PYPEER_PASSWORD=" + password}, board,
		"--host", room, "--ping-interval", "0.05", "--report-pings")
	if ev := nextEvent(host, "room"); ev["room"] != room {
		t.Fatalf("room event %v", ev)
	}
	guest := startGopeer(t, append(fastPings, "GOPEER_PASSWORD="+password),
		"-json", "-ice", "none", "-db", board, "-join", room)
	if ev := nextEvent(guest, "connected"); ev["protocol"] != "pypeer" {
		t.Errorf("gopeer joiner connected to aiortc as %v, want a pypeer session", ev)
	}
	t.Logf("DTLS cipher with a gopeer joiner: %s", nextEvent(host, "connected")["dtls_cipher"])
	// The joiner removes the room beside the chat, at once.
	awaitBoardNull(t, board+"/rooms/"+room+".json")

	exchangeBothWays(t, host, guest, "aiortc host", "gopeer joiner")
	checkPingsHidden(t, guest, host)

	guest.stdin.Close()
	if ev := nextEvent(guest, "closed"); ev["reason"] != "you left" {
		t.Errorf("gopeer joiner closed with %v", ev)
	}
	if ev := nextEvent(host, "closed"); ev["reason"] != "peer left" {
		t.Errorf("aiortc host closed with %v", ev)
	}
	if code := guest.wait(); code != exitOK {
		t.Errorf("gopeer joiner exit status %d", code)
	}
	if code := host.wait(); code != exitOK {
		t.Errorf("aiortc host exit status %d", code)
	}
}

// TestInteropAiortcBoth: gopeer's board serves pypeer's client unchanged:
// two aiortc peers meet through gopeer -serve.
func TestInteropAiortcBoth(t *testing.T) {
	t.Parallel()
	pypeerPeer(t)
	board := startTestBoard(t)
	const room = "PYPY01"
	env := []string{"PYPEER_PASSWORD=both sides"}
	host := startPypeer(t, env, board, "--host", room)
	nextEvent(host, "room")
	guest := startPypeer(t, env, board, "--join", room)
	nextEvent(guest, "connected")
	nextEvent(host, "connected")
	interopBoardClean(t, board, room)
	exchangeBothWays(t, host, guest, "aiortc host", "aiortc joiner")
	host.stdin.Close()
	nextEvent(host, "closed")
	nextEvent(guest, "closed")
	if code := host.wait(); code != exitOK {
		t.Errorf("aiortc host exit status %d", code)
	}
	if code := guest.wait(); code != exitOK {
		t.Errorf("aiortc joiner exit status %d", code)
	}
}

// TestInteropWrongPasswordAiortcJoiner: an aiortc joiner with the wrong
// password says so and exits; the gopeer host never notices and still takes
// the joiner with the right one.
func TestInteropWrongPasswordAiortcJoiner(t *testing.T) {
	t.Parallel()
	pypeerPeer(t)
	board := startTestBoard(t)
	host := startGopeer(t, []string{"GOPEER_PASSWORD=right"}, "-json", "-ice", "none", "-db", board, "-host", "-room", "PWDPY1")
	nextEvent(host, "room")
	before := interopRoom(t, board, "PWDPY1")

	wrong := startPypeer(t, []string{"PYPEER_PASSWORD=wrong"}, board, "--join", "PWDPY1")
	if ev := nextEvent(wrong, "error"); ev["kind"] != "wrong_password" || ev["message"] != "Incorrect Password" {
		t.Errorf("aiortc joiner error %v, want wrong_password, Incorrect Password", ev)
	}
	if code := wrong.wait(); code != 3 {
		t.Errorf("aiortc joiner exit status %d, want 3", code)
	}
	if after := interopRoom(t, board, "PWDPY1"); after != before {
		t.Errorf("room changed by a wrong-password join:\nbefore %s\nafter  %s", abbreviate(before), abbreviate(after))
	}

	right := startPypeer(t, []string{"PYPEER_PASSWORD=right"}, board, "--join", "PWDPY1")
	nextEvent(host, "connected")
	nextEvent(right, "connected")
	right.send("in at last")
	if got := nextEvent(host, "message")["text"]; got != "in at last" {
		t.Errorf("gopeer host received %q", got)
	}
}

// TestInteropWrongPasswordGopeerJoiner: a gopeer joiner with the wrong
// password says so (kind wrong_password, exit status 3) without touching the
// board; the aiortc host keeps waiting, takes the right joiner, and a host
// stopped while waiting exits and clears its room.
func TestInteropWrongPasswordGopeerJoiner(t *testing.T) {
	t.Parallel()
	pypeerPeer(t)
	board := startTestBoard(t)
	host := startPypeer(t, []string{"PYPEER_PASSWORD=right"}, board, "--host", "PWDGO1")
	nextEvent(host, "room")
	before := interopRoom(t, board, "PWDGO1")

	wrong := startGopeer(t, []string{"GOPEER_PASSWORD=wrong"}, "-json", "-ice", "none", "-db", board, "-join", "PWDGO1", "-timeout", "2s")
	if ev := nextEvent(wrong, "warning"); !strings.Contains(ev["message"], "does not open with this password") {
		t.Errorf("gopeer joiner warning %v, want one saying the offer does not open", ev)
	}
	if ev := nextEvent(wrong, "error"); ev["kind"] != kindWrongPassword || !strings.Contains(ev["message"], "wrong password") {
		t.Errorf("gopeer joiner error %v, want kind wrong_password", ev)
	}
	if code := wrong.wait(); code != exitWrongPassword {
		t.Errorf("gopeer joiner exit status %d, want %d", code, exitWrongPassword)
	}
	if after := interopRoom(t, board, "PWDGO1"); after != before {
		t.Errorf("room changed by a wrong-password join:\nbefore %s\nafter  %s", abbreviate(before), abbreviate(after))
	}

	right := startGopeer(t, []string{"GOPEER_PASSWORD=right"}, "-json", "-ice", "none", "-db", board, "-join", "PWDGO1")
	nextEvent(right, "connected")
	nextEvent(host, "connected")
	host.send("welcome")
	if got := nextEvent(right, "message")["text"]; got != "welcome" {
		t.Errorf("gopeer joiner received %q", got)
	}

	// An aiortc host stopped before anyone joins exits and clears its room.
	lone := startPypeer(t, nil, board, "--host", "PWDGO2")
	nextEvent(lone, "room")
	if err := lone.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	nextEvent(lone, "error")
	if code := lone.wait(); code != 130 {
		t.Errorf("interrupted aiortc host exit status %d, want 130", code)
	}
	if v := interopRoom(t, board, "PWDGO2"); v != "null" {
		t.Errorf("interrupted aiortc host left its room: %s", abbreviate(v))
	}
}

// TestInteropStrangerAnswer: garbage in a gopeer host's answer slot (an
// answer sealed with another password, then a token that is not Fernet at
// all) is ignored with a warning, and the real aiortc joiner still gets in.
// pypeer's host would die on the first (docs/PROTOCOL.md, "Sealing").
func TestInteropStrangerAnswer(t *testing.T) {
	t.Parallel()
	pypeerPeer(t)
	board := startTestBoard(t)
	const room = "STRPY1"
	host := startGopeer(t, []string{"GOPEER_PASSWORD=secret"}, "-json", "-ice", "none", "-db", board, "-host", "-room", room)
	nextEvent(host, "room")

	forged, err := sealSignal(roomKey(room, "not the password"), signal{SDP: "v=0\r\n", Type: "answer"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{
		fmt.Sprintf(`{"payload":%q,"timestamp":%d}`, forged, time.Now().UnixMilli()),
		`{"payload":"gAAAAABnot-a-real-token==","timestamp":1}`,
	} {
		req, _ := http.NewRequest(http.MethodPut, board+"/rooms/"+room+"/answer.json", strings.NewReader(v))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if ev := nextEvent(host, "warning"); !strings.Contains(ev["message"], "ignored an answer") {
			t.Errorf("host warning %v, want it to say the answer was ignored", ev)
		}
		// The host clears the bad answer, so the next write lands on an
		// empty slot, as a pypeer joiner expects.
		awaitBoardNull(t, board+"/rooms/"+room+"/answer.json")
	}

	guest := startPypeer(t, []string{"PYPEER_PASSWORD=secret"}, board, "--join", room)
	nextEvent(host, "connected")
	nextEvent(guest, "connected")
	// This joiner behaves as pypeer's does with aiortc 1.4 (it never
	// DELETEs the room); the gopeer host does it for both.
	interopBoardClean(t, board, room)
	guest.send("the real joiner")
	if got := nextEvent(host, "message")["text"]; got != "the real joiner" {
		t.Errorf("host received %q", got)
	}
}

// TestInteropKeepAliveRacesMessages: gopeer's keep-alive and its messages
// are written by two goroutines. pion gives a message its stream sequence
// number, then queues it for a TSN, with nothing holding the two together,
// so two writers at once could go out with the two numbers in opposite
// orders; aiortc's reassembly then waits forever for the lower sequence
// number, and the pypeer peer never sees another message from gopeer.
// gopeer sends one message at a time. Here its keep-alives go every 10 ms
// while it sends thousands of messages: every one must arrive, in order.
func TestInteropKeepAliveRacesMessages(t *testing.T) {
	t.Parallel()
	pypeerPeer(t)
	board := startTestBoard(t)
	const room, password = "RACE01", "pw"
	host := startPypeer(t, []string{"PYPEER_PASSWORD=" + password}, board, "--host", room, "--ping-interval", "60")
	nextEvent(host, "room")
	guest := startGopeer(t, []string{"GOPEER_PING_INTERVAL=10ms", "GOPEER_PASSWORD=" + password},
		"-json", "-ice", "none", "-db", board, "-join", room)
	nextEvent(guest, "connected")
	nextEvent(host, "connected")
	const n = 5000
	texts := make([]string, n)
	for i := range texts {
		texts[i] = fmt.Sprintf("message %d of %d", i, n)
	}
	sendAll(guest, texts)
	for i, want := range texts {
		if got := nextEvent(host, "message")["text"]; got != want {
			t.Fatalf("aiortc host: message %d is %q, want %q", i, abbreviate(got), want)
		}
	}
}

// announcingDialect is pypeer's dialect with a native announcement added
// to what it seals, as a gopeer end will speak in a pypeer room. sealed
// gets each description it sealed.
type announcingDialect struct {
	dialect
	msg    []byte
	sealed chan<- string
}

func (d announcingDialect) seal(desc webrtc.SessionDescription) (any, error) {
	desc.SDP = withNativeAnnouncement(desc.SDP, d.msg)
	select {
	case d.sealed <- desc.SDP:
	default:
	}
	return d.dialect.seal(desc)
}

// extraKeyDialect is pypeer's dialect sealing one JSON key more than
// "sdp" and "type": the announcement's other possible home.
type extraKeyDialect struct {
	dialect
	key fernetKey
}

func (d extraKeyDialect) seal(desc webrtc.SessionDescription) (any, error) {
	js, err := json.Marshal(map[string]any{"sdp": desc.SDP, "type": desc.Type.String(), "gopeer": nativeVersion})
	if err != nil {
		return nil, err
	}
	var packed bytes.Buffer
	zw := zlib.NewWriter(&packed)
	_, _ = zw.Write(js)
	_ = zw.Close()
	now := time.Now()
	token, err := d.key.encrypt(packed.Bytes(), now, nil)
	return boardSignal{Payload: token, Timestamp: now.UnixMilli()}, err
}

// TestInteropAiortcIgnoresNativeAnnouncement proves what issue 13's
// native mode rests on: a gopeer end may announce itself with an
// a=x-gopeer line inside the description it seals, and a pypeer peer
// (aiortc, handed the JSON as RTCSessionDescription(**data)) connects and
// chats as before, whether the line is in the offer it reads or in the
// answer it gets; one JSON key more, instead, breaks it.
func TestInteropAiortcIgnoresNativeAnnouncement(t *testing.T) {
	t.Parallel()
	pypeerPeer(t)
	board := startTestBoard(t)
	const password = "correct horse battery staple"
	party, err := cpaceStart([]byte("4F9Q"), []byte("interop"), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	announce := func(t *testing.T, f *roomFlow) <-chan string {
		sealed := make(chan string, 4)
		f.dialect = func(code joinCode, pw string, _ side) dialect {
			return announcingDialect{newPypeerDialect(code.room, pw, time.Now), party.msg, sealed}
		}
		return sealed
	}
	checkAnnounced := func(t *testing.T, sdp string) {
		t.Helper()
		a, found, err := readNativeAnnouncement(sdp)
		if !found || err != nil || !bytes.Equal(a.msg, party.msg) {
			t.Fatalf("the sealed description does not announce gopeer (%v, %v):\n%s", found, err, sdp)
		}
	}
	chat := func(t *testing.T, ctx context.Context, link *peerLink, py *proc) {
		t.Helper()
		if err := link.send(ctx, "hello aiortc"); err != nil {
			t.Fatal(err)
		}
		if got := nextEvent(py, "message")["text"]; got != "hello aiortc" {
			t.Fatalf("aiortc received %q", got)
		}
		py.send("hello gopeer")
		select {
		case m := <-link.incoming:
			if m.text != "hello gopeer" {
				t.Fatalf("gopeer received %q", m.text)
			}
		case <-ctx.Done():
			t.Fatal("gopeer received nothing")
		}
	}

	t.Run("in the offer", func(t *testing.T) {
		const room = "NATOF1"
		p := newFlowPair(t, board)
		sealed := announce(t, p.host)
		ctx, cancel := context.WithTimeout(context.Background(), eventWait)
		defer cancel()
		type hosted struct {
			link *peerLink
			err  error
		}
		done := make(chan hosted, 1)
		go func() {
			link, err := p.host.host(ctx, room, password, true)
			done <- hosted{link, err}
		}()
		checkAnnounced(t, <-sealed)
		guest := startPypeer(t, []string{"PYPEER_PASSWORD=" + password}, board, "--join", room, "--fix-joiner-open")
		nextEvent(guest, "connected")
		h := <-done
		if h.err != nil {
			t.Fatalf("host: %v", h.err)
		}
		defer h.link.close()
		chat(t, ctx, h.link, guest)
	})

	t.Run("an extra JSON key instead", func(t *testing.T) {
		const room = "NATJS1"
		p := newFlowPair(t, board)
		p.host.dialect = func(code joinCode, pw string, _ side) dialect {
			return extraKeyDialect{newPypeerDialect(code.room, pw, time.Now), roomKey(code.room, pw)}
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() { _, _ = p.host.host(ctx, room, password, true) }()
		<-p.hostEvents.posted
		guest := startPypeer(t, []string{"PYPEER_PASSWORD=" + password}, board, "--join", room)
		guest.waitStderr("unexpected keyword argument 'gopeer'")
		if code := guest.wait(); code == exitOK {
			t.Error("the aiortc joiner took an offer with an extra JSON key")
		}
	})

	t.Run("in the answer", func(t *testing.T) {
		const room = "NATAN1"
		host := startPypeer(t, []string{"PYPEER_PASSWORD=" + password}, board, "--host", room)
		nextEvent(host, "room")
		p := newFlowPair(t, board)
		sealed := announce(t, p.guest)
		ctx, cancel := context.WithTimeout(context.Background(), eventWait)
		defer cancel()
		link, err := p.guest.join(ctx, room, password)
		if err != nil {
			t.Fatalf("join: %v", err)
		}
		defer link.close()
		checkAnnounced(t, <-sealed)
		nextEvent(host, "connected")
		chat(t, ctx, link, host)
	})
}
