package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// cdpWait bounds each DevTools command a test makes and each page load:
// generous, since a loaded CI machine may take seconds to start a renderer.
const cdpWait = 20 * time.Second

// browser is a headless Chromium driven through the DevTools protocol over
// the pipes of --remote-debugging-pipe: no port to choose, and nothing that
// another test could connect to by mistake.
type browser struct {
	in   *os.File      // Chromium's fd 3, where our commands go
	done chan struct{} // closed once the reader has stopped

	writeMu sync.Mutex // keeps each message whole on in

	mu    sync.Mutex
	next  int64                     // the last command id used
	calls map[int64]chan cdpMessage // callers waiting for a reply, by id
	pages map[string]*page          // open tabs, by session id
}

// cdpMessage is any message on the pipes: a command, a reply or an event.
type cdpMessage struct {
	ID        int64           `json:"id,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// startBrowser starts headless Chromium in the network namespace of the
// process pid ("" means this namespace), so that it sees the addresses and
// routes the test set up there. It is killed and waited for in t.Cleanup.
func startBrowser(t *testing.T, pid string) *browser {
	t.Helper()
	if _, err := exec.LookPath("chromium"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("browser tests need chromium (apt-get install chromium)")
		}
		t.Skip("needs chromium (apt-get install chromium)")
	}
	args := []string{"chromium", "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
		"--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
		"--user-data-dir=" + t.TempDir(), "--no-first-run", "--no-default-browser-check",
		"--disable-extensions", "--disable-background-networking", "--disable-sync",
		"--disable-component-update", "--disable-default-apps", "--metrics-recording-only",
		"--no-pings", "--password-store=basic", "about:blank"}
	if pid != "" {
		args = append([]string{"nsenter", "-t", pid, "-n", "--"}, args...)
	}
	theirIn, in := pipe(t)
	out, theirOut := pipe(t)
	var stderr bytes.Buffer // D-Bus complaints mostly: shown only on failure
	cmd := exec.Command(args[0], args[1:]...)
	cmd.ExtraFiles = []*os.File{theirIn, theirOut} // fds 3 and 4
	cmd.Stderr = &stderr
	// Its own process group, so that cleanup kills the renderers too; and a
	// bound on Wait, should one of them survive holding stderr open.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Start()
	theirIn.Close()
	theirOut.Close()
	if err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	b := &browser{in: in, done: make(chan struct{}), calls: map[int64]chan cdpMessage{}, pages: map[string]*page{}}
	go b.read(out)
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		out.Close() // ends the reader even if some process still holds fd 4
		<-b.done
		if t.Failed() {
			t.Logf("chromium's stderr:\n%s", stderr.Bytes())
		}
	})
	return b
}

// pipe returns both ends of a pipe, closed when the test ends (closing
// twice is harmless).
func pipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

// read dispatches what Chromium writes until the pipe closes. Messages end
// with a NUL byte and may be megabytes long (screenshots).
func (b *browser) read(out io.Reader) {
	defer close(b.done)
	r := bufio.NewReaderSize(out, 1<<16)
	for {
		raw, err := r.ReadBytes(0)
		if err != nil {
			return
		}
		var m cdpMessage
		if json.Unmarshal(raw[:len(raw)-1], &m) == nil {
			b.dispatch(m)
		}
	}
}

// dispatch hands a reply to its caller and an event to its tab. Events are
// recorded before a later reply is handed over, so a command's caller sees
// what the page reported while running it.
func (b *browser) dispatch(m cdpMessage) {
	b.mu.Lock()
	reply, waiting := b.calls[m.ID]
	p := b.pages[m.SessionID]
	b.mu.Unlock()
	switch {
	case m.ID != 0 && waiting:
		reply <- m // buffered, and only one reply per id
	case m.ID == 0 && p != nil:
		p.record(m.Method, m.Params)
	}
}

// call sends a command to the browser (session "") or to a tab, and
// unmarshals its result into result unless that is nil.
func (b *browser) call(session, method string, params, result any, within time.Duration) error {
	m := cdpMessage{SessionID: session, Method: method}
	if params != nil {
		var err error
		if m.Params, err = json.Marshal(params); err != nil {
			return err
		}
	}
	reply := make(chan cdpMessage, 1)
	b.mu.Lock()
	b.next++
	m.ID = b.next
	b.calls[m.ID] = reply
	b.mu.Unlock()
	defer func() { b.mu.Lock(); delete(b.calls, m.ID); b.mu.Unlock() }()
	if err := b.send(m, within); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	timer := time.NewTimer(within)
	defer timer.Stop()
	select {
	case m = <-reply:
	case <-b.done:
		select {
		case m = <-reply: // it arrived just before the pipe closed
		default:
			return fmt.Errorf("%s: the browser has gone", method)
		}
	case <-timer.C:
		return fmt.Errorf("%s: no reply within %v", method, within)
	}
	if m.Error != nil {
		return fmt.Errorf("%s: %s (code %d)", method, m.Error.Message, m.Error.Code)
	}
	if result == nil {
		return nil
	}
	return json.Unmarshal(m.Result, result)
}

// send writes one message, bounded too: a hung browser stops reading.
func (b *browser) send(m cdpMessage, within time.Duration) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	_ = b.in.SetWriteDeadline(time.Now().Add(within))
	_, err = b.in.Write(append(raw, 0))
	return err
}

// do is call for a test, which cannot go on without the result.
func (b *browser) do(t *testing.T, session, method string, params, result any) {
	t.Helper()
	if err := b.call(session, method, params, result, cdpWait); err != nil {
		t.Fatal(err)
	}
}

// page is one tab, and what it reported since it was opened.
type page struct {
	b       *browser
	session string
	loaded  chan struct{} // a Page.loadEventFired, not yet waited for

	mu       sync.Mutex
	frame    string                       // the main frame's id
	reported []string                     // see problems
	headers  map[string]map[string]string // Document responses' headers, by frame id and lower-case name
}

// open creates a tab and loads url in it, watching its console, its log
// (CSP violations land there) and its main document's response.
func (b *browser) open(t *testing.T, url string) *page {
	t.Helper()
	var target struct{ TargetID string }
	b.do(t, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target)
	var attached struct{ SessionID string }
	b.do(t, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached)
	p := &page{b: b, session: attached.SessionID, loaded: make(chan struct{}, 1), headers: map[string]map[string]string{}}
	b.mu.Lock()
	b.pages[p.session] = p
	b.mu.Unlock()
	for _, domain := range []string{"Runtime", "Log", "Page", "Network"} {
		b.do(t, p.session, domain+".enable", nil, nil)
	}
	select {
	case <-p.loaded: // about:blank's own load, come late
	default:
	}
	var nav struct{ FrameID, ErrorText string }
	b.do(t, p.session, "Page.navigate", map[string]any{"url": url}, &nav)
	if nav.ErrorText != "" {
		t.Fatalf("loading %.100s: %s", url, nav.ErrorText)
	}
	p.mu.Lock()
	p.frame = nav.FrameID
	p.mu.Unlock()
	select {
	case <-p.loaded:
	case <-b.done:
		t.Fatalf("the browser ended while loading %.100s", url)
	case <-time.After(cdpWait):
		t.Fatalf("%.100s did not load within %v; the page reported: %q", url, cdpWait, p.problems())
	}
	return p
}

// remoteObject is a JavaScript value as the protocol describes it.
type remoteObject struct {
	Type        string
	Value       json.RawMessage
	Description string
}

func (o remoteObject) String() string {
	var s string
	switch {
	case o.Description != "":
		return o.Description
	case json.Unmarshal(o.Value, &s) == nil:
		return s
	case o.Value != nil:
		return string(o.Value)
	}
	return o.Type
}

// exceptionDetails is an exception thrown by the page or by eval.
type exceptionDetails struct {
	Text       string
	URL        string
	LineNumber int
	Exception  remoteObject
}

func (e *exceptionDetails) Error() string {
	return fmt.Sprintf("%s %s%s", e.Text, e.Exception, where(e.URL, e.LineNumber+1))
}

// where says where a problem came from, when the page says.
func where(url string, line int) string {
	if url == "" {
		return ""
	}
	return fmt.Sprintf(" (at %.100s:%d)", url, line)
}

// cdpEvent holds the fields of the events a page records.
type cdpEvent struct {
	Type             string // the console call's, or the response's resource type
	Args             []remoteObject
	ExceptionDetails *exceptionDetails
	Entry            struct {
		Source, Level, Text, URL string
		LineNumber               int
	}
	FrameID  string
	Response struct{ Headers map[string]string }
}

// record keeps what tests may ask about later; other events are dropped.
func (p *page) record(method string, params json.RawMessage) {
	var e cdpEvent
	if json.Unmarshal(params, &e) != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case method == "Page.loadEventFired":
		select {
		case p.loaded <- struct{}{}:
		default:
		}
	case method == "Runtime.consoleAPICalled" && (e.Type == "error" || e.Type == "warning" || e.Type == "assert"):
		var args []string
		for _, a := range e.Args {
			args = append(args, a.String())
		}
		p.reported = append(p.reported, fmt.Sprintf("console.%s: %s", e.Type, strings.Join(args, " ")))
	case method == "Runtime.exceptionThrown" && e.ExceptionDetails != nil:
		p.reported = append(p.reported, "exception: "+firstLine(e.ExceptionDetails.Error()))
	case method == "Log.entryAdded" && (e.Entry.Level == "error" || e.Entry.Level == "warning"):
		p.reported = append(p.reported, fmt.Sprintf("log %s %s: %s%s", e.Entry.Source, e.Entry.Level, e.Entry.Text, where(e.Entry.URL, e.Entry.LineNumber+1)))
	case method == "Network.responseReceived" && e.Type == "Document":
		h := map[string]string{}
		for name, value := range e.Response.Headers {
			h[strings.ToLower(name)] = value
		}
		p.headers[e.FrameID] = h
	}
}

// firstLine keeps a problem to one line: a stack trace says little more.
func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// eval evaluates expr in the page, awaiting it if it is a promise, and
// unmarshals its value into out unless that is nil.
func (p *page) eval(expr string, within time.Duration, out any) error {
	var r struct {
		Result           remoteObject
		ExceptionDetails *exceptionDetails
	}
	params := map[string]any{"expression": expr, "awaitPromise": true, "returnByValue": true}
	if err := p.b.call(p.session, "Runtime.evaluate", params, &r, within); err != nil {
		return err
	}
	if r.ExceptionDetails != nil {
		return r.ExceptionDetails
	}
	if out == nil || r.Result.Value == nil {
		return nil
	}
	return json.Unmarshal(r.Result.Value, out)
}

// waitFor polls expr, since the page has no way to tell us when it is true.
func (p *page) waitFor(t *testing.T, within time.Duration, expr, msg string) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var ok bool
		err := p.eval(expr, time.Until(deadline), &ok)
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s still not true after %v (last error: %v); the page reported: %q", msg, expr, within, err, p.problems())
		}
		<-tick.C
	}
}

// problems returns what a clean page must not report: console errors,
// warnings and failed asserts, uncaught exceptions, and log errors and
// warnings.
func (p *page) problems() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.reported...)
}

// header returns a response header of the main document, "" if absent.
func (p *page) header(name string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.headers[p.frame][strings.ToLower(name)]
}

// screenshot saves a PNG of the page as it looks in a width x height window.
func (p *page) screenshot(t *testing.T, path string, width, height int) {
	t.Helper()
	metrics := map[string]any{"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}
	p.b.do(t, p.session, "Emulation.setDeviceMetricsOverride", metrics, nil)
	var shot struct{ Data []byte } // base64 in JSON
	p.b.do(t, p.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot)
	if err := os.WriteFile(path, shot.Data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// insertText types text into the focused element, as an input method would.
func (p *page) insertText(t *testing.T, text string) {
	t.Helper()
	p.b.do(t, p.session, "Input.insertText", map[string]any{"text": text}, nil)
}

// press presses and releases one key: "Enter", "Tab", "Escape" or "Backspace".
func (p *page) press(t *testing.T, key string) {
	t.Helper()
	codes := map[string]int{"Enter": 13, "Tab": 9, "Escape": 27, "Backspace": 8}
	code, ok := codes[key]
	if !ok {
		t.Fatalf("press: unknown key %q", key)
	}
	down := map[string]any{"type": "keyDown", "key": key, "code": key, "windowsVirtualKeyCode": code}
	if key == "Enter" {
		down["text"] = "\r" // what makes a form submit or a textarea break its line
	}
	p.b.do(t, p.session, "Input.dispatchKeyEvent", down, nil)
	up := map[string]any{"type": "keyUp", "key": key, "code": key, "windowsVirtualKeyCode": code}
	p.b.do(t, p.session, "Input.dispatchKeyEvent", up, nil)
}

// newBrowserNamespace creates a network namespace for a browser test and
// returns the pid holding it: loopback up, and a veth pair whose both ends
// stay inside it (v0 10.77.0.1/24, v1 up) with a default route via v0,
// because Chromium gathers no ICE candidates on loopback alone.
func newBrowserNamespace(t *testing.T) string {
	t.Helper()
	gopeerBin(t) // skips or fails where namespaces cannot be made
	return newNamespaceWith(t, "ip link set lo up && ip link add v0 type veth peer name v1 && "+
		"ip addr add 10.77.0.1/24 dev v0 && ip link set v0 up && ip link set v1 up && "+
		"ip route add default via 10.77.0.1 dev v0")
}

// TestBrowserClientDrivesChromium proves the DevTools client: values and
// exceptions come back from eval, console errors and CSP violations are
// reported, typing and screenshots work, and WebRTC connects inside the
// page, which is what the browser tests need it for.
func TestBrowserClientDrivesChromium(t *testing.T) {
	t.Parallel()
	b := startBrowser(t, newBrowserNamespace(t))
	html := `<meta http-equiv="Content-Security-Policy" content="script-src 'nonce-k'">
		<input id=a><input id=b>
		<script nonce=k>window.keys = []; addEventListener("keydown", e => keys.push(e.key))</script>`
	p := b.open(t, "data:text/html;charset=utf-8,"+url.PathEscape(html))
	if got := p.problems(); len(got) != 0 {
		t.Errorf("a clean page reported problems: %q", got)
	}
	if got := p.header("Content-Type"); !strings.HasPrefix(got, "text/html") {
		t.Errorf("the document's Content-Type is %q, want text/html", got)
	}

	var two int
	if err := p.eval("1+1", cdpWait, &two); err != nil || two != 2 {
		t.Errorf("1+1 = %d, %v", two, err)
	}
	if err := p.eval(`(() => { throw new Error("boom") })()`, cdpWait, nil); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("a thrown error came back as %v", err)
	}
	if err := p.eval(`Promise.reject(new Error("nope"))`, cdpWait, nil); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("a rejected promise came back as %v", err)
	}

	var got string
	if err := p.eval(webrtcLoopback, 20*time.Second, &got); err != nil || got != "hi" {
		t.Fatalf("the data channel between two peer connections carried %q, %v", got, err)
	}

	if err := p.eval(`document.getElementById("a").focus()`, cdpWait, nil); err != nil {
		t.Fatal(err)
	}
	p.insertText(t, "héllo")
	p.press(t, "Tab")
	p.press(t, "Enter")
	p.waitFor(t, cdpWait, `document.activeElement.id == "b" && a.value == "héllo" && keys.join() == "Tab,Enter"`, "typing")

	// The page's policy blocks a script without its nonce; the promise ends
	// when the page learns of it.
	const violate = `console.error("x"); new Promise(r => {
		addEventListener("securitypolicyviolation", r);
		document.body.append(Object.assign(document.createElement("script"), {textContent: "1"}));
	})`
	if err := p.eval(violate, cdpWait, nil); err != nil {
		t.Fatal(err)
	}
	problems := strings.Join(p.problems(), "\n")
	if !strings.Contains(problems, "console.error: x") || !strings.Contains(problems, "Content Security Policy") {
		t.Errorf("console.error and a CSP violation should show in problems:\n%s", problems)
	}

	shot := filepath.Join(t.TempDir(), "page.png")
	p.screenshot(t, shot, 640, 480)
	if png, err := os.ReadFile(shot); err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("the screenshot is not a PNG: %v", err)
	}
}

// webrtcLoopback connects two peer connections in the page, trickling each
// one's candidates to the other once it has a remote description to add them
// to, and resolves with what a data channel between them carried.
const webrtcLoopback = `(async () => {
	const a = new RTCPeerConnection(), b = new RTCPeerConnection();
	const relay = (from, to) => {
		const queued = [];
		from.onicecandidate = e => e.candidate && (to.remoteDescription ? to.addIceCandidate(e.candidate) : queued.push(e.candidate));
		return () => queued.forEach(c => to.addIceCandidate(c));
	};
	const toB = relay(a, b), toA = relay(b, a);
	const got = new Promise(r => b.ondatachannel = e => e.channel.onmessage = m => r(m.data));
	const dc = a.createDataChannel("x");
	dc.onopen = () => dc.send("hi");
	await a.setLocalDescription(); await b.setRemoteDescription(a.localDescription); toB();
	await b.setLocalDescription(); await a.setRemoteDescription(b.localDescription); toA();
	let timer;
	const late = new Promise((_, fail) => timer = setTimeout(() => fail(new Error("nothing within 15 s; ICE " + a.iceConnectionState)), 15000));
	try { return await Promise.race([got, late]); } finally { clearTimeout(timer); a.close(); b.close(); }
})()`
