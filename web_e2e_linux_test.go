package main

// The web client in a real browser: headless Chromium (browser_linux_test.go)
// in a network namespace of its own, beside gopeer and aiortc peers in the
// same namespace, all meeting on a board in this namespace's loopback that
// they reach through a relay (boardProcess).

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const webWait = 30 * time.Second

// webScene is the world of the browser tests.
type webScene struct {
	ns      string
	board   *boardProcess
	browser *browser
}

func newWebScene(t *testing.T) *webScene {
	t.Helper()
	gopeerBin(t)
	ns := newBrowserNamespace(t)
	return &webScene{ns: ns, board: startBoardProcess(t, ns), browser: startBrowser(t, ns)}
}

// boardURL is the board as the peers and the page in the namespace reach it.
func (s *webScene) boardURL() string { return s.board.url("127.0.0.1") }

// open opens the web client in a new tab, with no ICE servers (nothing
// may leave the namespace), at fragment ("" for none).
func (s *webScene) open(t *testing.T, fragment string) *webPage {
	t.Helper()
	u := s.boardURL() + "/?ice=none"
	if fragment != "" {
		u += "#" + fragment
	}
	return &webPage{page: s.browser.open(t, u), t: t}
}

// gopeer starts gopeer in the namespace.
func (s *webScene) gopeer(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	return startCommand(t, env, append([]string{"nsenter", "-t", s.ns, "-n", "--", gopeerBin(t)}, args...)...)
}

// pypeer starts the aiortc peer (pypeer's stack) in the namespace.
func (s *webScene) pypeer(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	argv := append(pypeerPeer(t), append([]string{"--json", "--db", s.boardURL(), "--timeout", "60"}, args...)...)
	return startCommand(t, append([]string{"PYTHONIOENCODING=utf-8"}, env...), append([]string{"nsenter", "-t", s.ns, "-n", "--"}, argv...)...)
}

// webPage is the web client in a tab, used as a person would: through
// the keyboard, reading what the screen shows.
type webPage struct {
	*page
	t *testing.T
}

// js runs expr and decodes its value into out.
func (p *webPage) js(expr string, out any) {
	p.t.Helper()
	if err := p.eval(expr, webWait, out); err != nil {
		p.t.Fatalf("%s: %v; the page reported %q", expr, err, p.problems())
	}
}

// focus moves the keyboard's focus to the element id.
func (p *webPage) focus(id string) {
	p.t.Helper()
	p.js(fmt.Sprintf("document.getElementById(%q).focus()", id), nil)
}

// join types a room code and password into the join form and presses
// Enter.
func (p *webPage) join(code, password string) {
	p.t.Helper()
	p.focus("join-code")
	if code != "" { // "": the link brought it
		p.insertText(p.t, code)
	}
	p.press(p.t, "Tab")
	p.insertText(p.t, password)
	p.press(p.t, "Enter")
}

// host hosts a room with password and returns its code, once the offer
// is on the board.
func (p *webPage) host(password string) string {
	p.t.Helper()
	p.focus("host-password")
	p.insertText(p.t, password)
	p.press(p.t, "Enter")
	p.waitFor(p.t, webWait, `document.getElementById("status").textContent.startsWith("waiting for a peer")`, "the page did not post its room")
	var code string
	p.js(`document.getElementById("room-code").textContent`, &code)
	return code
}

// hostCode is host, with the code parsed.
func (p *webPage) hostCode(password string) joinCode {
	p.t.Helper()
	code, err := parseJoinCode(p.host(password))
	if err != nil {
		p.t.Fatal(err)
	}
	return code
}

// anotherSecret is the nth code for code's room with a secret part other
// than its own: a code that checks out but opens nothing.
func anotherSecret(code joinCode, n int) joinCode {
	var others []string
	for _, s := range []string{"1111", "2222", "3333", "4444"} {
		if s != code.secret {
			others = append(others, s)
		}
	}
	return joinCode{room: code.room, secret: others[n]}
}

// connected waits for the chat screen and returns the mode it shows.
func (p *webPage) connected() string {
	p.t.Helper()
	p.waitFor(p.t, webWait, `!document.getElementById("chat").hidden || !document.getElementById("ended").hidden`, "the page did not connect")
	var s struct{ Mode, Ended string }
	p.js(`({mode: document.getElementById("mode").textContent, ended: document.getElementById("chat").hidden ? document.getElementById("ended-reason").textContent : ""})`, &s)
	if s.Ended != "" {
		p.t.Fatalf("the page ended: %s", s.Ended)
	}
	return s.Mode
}

// connectedAs waits for the chat screen and fails the test unless it
// shows mode.
func (p *webPage) connectedAs(mode string) {
	p.t.Helper()
	if got := p.connected(); got != mode {
		p.t.Errorf("the page connected as %q, want %q", got, mode)
	}
}

// say types text into the message box and presses Enter.
func (p *webPage) say(text string) {
	p.t.Helper()
	p.focus("message")
	p.insertText(p.t, text)
	p.press(p.t, "Enter")
}

// heard waits until the page shows n messages from the peer, and
// returns them as shown.
func (p *webPage) heard(n int) []string {
	p.t.Helper()
	p.waitFor(p.t, webWait, fmt.Sprintf(`document.querySelectorAll("#log li.peer").length >= %d`, n), "the page did not show the peer's messages")
	var got []string
	p.js(`[...document.querySelectorAll("#log li.peer .text")].map((span) => span.textContent)`, &got)
	return got
}

// verifyDigits is the verification string the chat screen shows.
func (p *webPage) verifyDigits() string {
	p.t.Helper()
	var digits string
	p.js(`document.getElementById("verify-digits").textContent`, &digits)
	return digits
}

// hears fails the test unless the page's first message from the peer,
// once it shows one, is want.
func (p *webPage) hears(want string) {
	p.t.Helper()
	if got := p.heard(1); got[0] != want {
		p.t.Errorf("the page shows %q, want %q first", got, want)
	}
}

// ended waits for the end screen and returns the reason it gives.
func (p *webPage) ended() string {
	p.t.Helper()
	p.waitFor(p.t, webWait, `!document.getElementById("ended").hidden`, "the page did not end")
	var reason string
	p.js(`document.getElementById("ended-reason").textContent`, &reason)
	return reason
}

// clean fails the test if the page reported any error or warning.
func (p *webPage) clean() {
	p.t.Helper()
	if probs := p.problems(); len(probs) > 0 {
		p.t.Errorf("the page reported:\n%s", strings.Join(probs, "\n"))
	}
}

// shot saves a screenshot for docs/ when GOPEER_SCREENSHOTS names a
// directory (docs/web/ holds the committed ones).
func (p *webPage) shot(name string) {
	p.t.Helper()
	dir := os.Getenv("GOPEER_SCREENSHOTS")
	if dir == "" {
		return
	}
	p.screenshot(p.t, filepath.Join(dir, name+".png"), 390, 700)
}

// TestWebClient: the web client against gopeer, aiortc and itself, in
// pypeer's dialect, in a real browser.
func TestWebClient(t *testing.T) {
	gopeerBin(t)
	t.Parallel() // in a namespace of its own
	s := newWebScene(t)

	t.Run("page", func(t *testing.T) {
		p := s.open(t, "")
		if got := p.header("Content-Security-Policy"); got != webContentSecurityPolicy {
			t.Errorf("Content-Security-Policy %q", got)
		}
		var focused string
		p.js(`document.activeElement.id`, &focused)
		if focused != "join-code" {
			t.Errorf("focus starts on %q, want the room code", focused)
		}
		p.shot("start")
		p.clean()
	})

	t.Run("vectors", func(t *testing.T) {
		p := s.open(t, "")
		var failures []string
		p.js(webVectorScript(t), &failures)
		if len(failures) > 0 {
			t.Errorf("in the browser:\n%s", strings.Join(failures, "\n"))
		}
		p.clean()
	})

	t.Run("board refusal", func(t *testing.T) {
		// What the board says when it refuses reaches the user, through
		// the reader that keeps only an answer's first kilobyte.
		p := s.open(t, "")
		var msg string
		p.js(`import("/board.js").then((b) => new b.Board(location.origin).put("elsewhere", 1)).then(() => "written", (e) => e.message)`, &msg)
		if !strings.Contains(msg, "refused PUT (401): Permission denied") {
			t.Errorf("the page says %q", msg)
		}
		for _, prob := range p.problems() {
			if !strings.Contains(prob, "status of 401") {
				t.Errorf("the page reported %q", prob)
			}
		}
	})

	t.Run("browser joins gopeer, pypeer", func(t *testing.T) {
		host := s.gopeer(t, []string{"GOPEER_PASSWORD=pw1"}, "-json", "-ice", "none", "-db", s.boardURL(), "-host", "-room", "WEBGP1")
		host.event("room")
		p := s.open(t, "WEBGP1")
		p.join("", "pw1") // the code came with the link
		p.connectedAs("pypeer · unconfirmed")
		if ev := host.event("connected"); ev["protocol"] != "pypeer" {
			t.Errorf("gopeer connected as %v", ev)
		}
		p.say("hello from the browser")
		if got := host.event("message")["text"]; got != "hello from the browser" {
			t.Errorf("gopeer received %q", got)
		}
		hostile := []string{
			`<img src=x onerror="document.title='owned'">`,
			"\x1b[31mred\x1b[0m and a bell\a",
			"right-to-left \u202egnp.exe",
			"two\nlines",
		}
		for _, h := range hostile {
			host.send(h)
		}
		got := p.heard(len(hostile))
		want := []string{
			`<img src=x onerror="document.title='owned'">`,
			`\u{1b}[31mred\u{1b}[0m and a bell\u{7}`,
			`right-to-left \u{202e}gnp.exe`,
			"two\nlines",
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("the page shows %q, want %q", got, want)
		}
		var inert struct {
			Images int
			Title  string
		}
		p.js(`({images: document.querySelectorAll("img").length, title: document.title})`, &inert)
		if inert.Images != 0 || inert.Title != "gopeer" {
			t.Errorf("hostile text took effect: %+v", inert)
		}
		p.shot("chat")
		p.clean()
	})

	t.Run("gopeer joins browser, pypeer", func(t *testing.T) {
		p := s.open(t, "")
		code := p.host("pw2")
		room := code[:6] // a pypeer user's: the room code and the password
		guest := s.gopeer(t, []string{"GOPEER_PASSWORD=pw2"}, "-json", "-ice", "none", "-db", s.boardURL(), "-join", room)
		if ev := guest.event("connected"); ev["protocol"] != "pypeer" {
			t.Errorf("gopeer connected as %v", ev)
		}
		p.connectedAs("pypeer · unconfirmed")
		guest.send("hello from gopeer")
		p.hears("hello from gopeer")
		p.say("hello from the browser")
		if got := guest.event("message")["text"]; got != "hello from the browser" {
			t.Errorf("gopeer received %q", got)
		}
		awaitBoardNull(t, "http://"+s.board.here()+"/rooms/"+room+".json")
		p.clean()
	})

	t.Run("gopeer joins browser, native", func(t *testing.T) {
		p := s.open(t, "")
		code := p.host("pw5")
		p.shot("hosting")
		guest := s.gopeer(t, []string{"GOPEER_PASSWORD=pw5"}, "-json", "-ice", "none", "-db", s.boardURL(), "-join", code)
		ev := guest.event("connected")
		if ev["protocol"] != "gopeer" || ev["verified"] != "true" {
			t.Errorf("gopeer connected as %v", ev)
		}
		p.connectedAs("gopeer · verified")
		if got := p.verifyDigits(); got != ev["verify"] {
			t.Errorf("the page shows verification %q, gopeer %q", got, ev["verify"])
		}
		p.say("one")
		p.say("two")
		for _, want := range []string{"one", "two"} {
			if got := guest.event("message")["text"]; got != want {
				t.Errorf("gopeer received %q, want %q", got, want)
			}
		}
		p.waitFor(t, webWait, `document.querySelectorAll("#log li.mine.delivered").length === 2`, "the page did not mark its messages delivered")
		guest.send("three")
		p.hears("three")
		if ev := guest.event("delivered"); ev["id"] != "1" {
			t.Errorf("gopeer's receipt %v", ev)
		}
		p.shot("chat-native")
		awaitBoardNull(t, "http://"+s.board.here()+"/rooms/"+code[:6]+".json")
		p.clean()
	})

	t.Run("browser joins gopeer, native, compared", func(t *testing.T) {
		host := s.gopeer(t, nil, "-json", "-ice", "none", "-db", s.boardURL(), "-host", "-verify")
		room := host.event("room")
		// The host's link, with its -ice none in it.
		if want := s.boardURL() + "/?ice=none#" + room["code"]; room["web"] != want {
			t.Fatalf("the host's web link is %q, want %q", room["web"], want)
		}
		p := &webPage{page: s.browser.open(t, room["web"]), t: t}
		p.join("", "")
		connected := host.event("connected")
		digits := host.event("compare")["verify"]
		if digits != connected["verify"] {
			t.Errorf("gopeer connected with %q, compares %q", connected["verify"], digits)
		}
		p.waitFor(t, webWait, `!document.getElementById("compare").hidden`, "the page did not ask to compare")
		var shown, focused string
		p.js(`document.getElementById("compare-digits").textContent`, &shown)
		p.js(`document.activeElement.id`, &focused)
		if shown != digits || focused != "compare-same" {
			t.Errorf("the page shows %q (focus on %q), gopeer %q", shown, focused, digits)
		}
		p.shot("compare")
		p.press(t, "Enter") // Same
		if _, err := host.stdin.Write([]byte(`{"same":true}` + "\n")); err != nil {
			t.Fatal(err)
		}
		host.event("compared")
		p.connectedAs("gopeer · verified")
		host.send("compared and chatting")
		p.hears("compared and chatting")
		p.clean()
	})

	t.Run("browser to browser", func(t *testing.T) {
		host := s.open(t, "")
		code := host.host("")
		guest := s.open(t, code)
		guest.join("", "")
		for _, p := range []*webPage{host, guest} {
			p.connectedAs("gopeer · verified")
		}
		if a, b := host.verifyDigits(), guest.verifyDigits(); a != b || a == "" {
			t.Errorf("verification strings %q and %q", a, b)
		}
		host.say("from the host's tab")
		guest.say("from the guest's tab")
		guest.hears("from the host's tab")
		host.hears("from the guest's tab")
		host.focus("leave")
		host.press(t, "Enter")
		if reason := guest.ended(); reason != "the peer left" {
			t.Errorf("the guest's tab says %q", reason)
		}
		host.clean()
		guest.clean()
	})

	t.Run("wrong secret", func(t *testing.T) {
		host := s.gopeer(t, nil, "-json", "-ice", "none", "-db", s.boardURL(), "-host")
		code, err := parseJoinCode(host.event("room")["code"])
		if err != nil {
			t.Fatal(err)
		}
		p := s.open(t, anotherSecret(code, 0).String())
		p.join("", "")
		if reason := p.ended(); !strings.Contains(reason, "did not prove it holds this code") {
			t.Errorf("the page ended with %q", reason)
		}
		host.warning("could not prove it holds the code")
		p.clean()
	})

	t.Run("wrong secret, the page hosts", func(t *testing.T) {
		// As the terminal's host: a joiner that fails the confirmation
		// costs one of three tries, and the room is posted afresh.
		p := s.open(t, "")
		code := p.hostCode("")
		stranger := s.gopeer(t, nil, "-json", "-ice", "none", "-db", s.boardURL(), "-join", anotherSecret(code, 0).String())
		if ev := stranger.event("error"); ev["kind"] != kindWrongPassword {
			t.Errorf("the stranger ended with %v", ev)
		}
		p.waitFor(t, webWait, `document.getElementById("warnings").textContent.includes("stays open (1 of 3 tries used)")`, "the page did not say the room stays open")
		p.waitFor(t, webWait, `document.getElementById("status").textContent.startsWith("waiting for a peer")`, "the page did not post its room again")
		guest := s.gopeer(t, nil, "-json", "-ice", "none", "-db", s.boardURL(), "-join", code.String())
		if ev := guest.event("connected"); ev["verified"] != "true" {
			t.Errorf("the real joiner connected as %v", ev)
		}
		p.connectedAs("gopeer · verified")
		guest.send("the real one")
		p.hears("the real one")
		p.clean()
	})

	t.Run("three wrong secrets close the page's room", func(t *testing.T) {
		p := s.open(t, "")
		code := p.hostCode("")
		for i := range 3 {
			if i > 0 {
				p.waitFor(t, webWait, `document.getElementById("status").textContent.startsWith("waiting for a peer")`, "the page did not post its room again")
			}
			stranger := s.gopeer(t, nil, "-json", "-ice", "none", "-db", s.boardURL(), "-join", anotherSecret(code, i).String())
			stranger.event("error")
		}
		if reason := p.ended(); !strings.Contains(reason, "room "+code.room+" is closed: 3 joiners could not prove") {
			t.Errorf("the page ended with %q", reason)
		}
		awaitBoardNull(t, "http://"+s.board.here()+"/rooms/"+code.room+".json")
		p.clean()
	})

	t.Run("downgrade refused", func(t *testing.T) {
		// A pypeer offer where a gopeer code expects a gopeer's: what
		// someone on the board who strips the announcement would post.
		host := s.pypeer(t, nil, "--host", "WEBDG1")
		nextEvent(host, "room")
		p := s.open(t, joinCode{room: "WEBDG1", secret: "ABCD"}.String())
		p.join("", "")
		if reason := p.ended(); !strings.Contains(reason, "is not a gopeer's") {
			t.Errorf("the page ended with %q", reason)
		}
		p.clean()
	})

	data := make([]byte, 3<<20+12345) // several chunks, and a short last one
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	want := hex.EncodeToString(sum[:])

	t.Run("file, browser to gopeer", func(t *testing.T) {
		// The page hosts and drops a file on itself; gopeer receives.
		p := s.open(t, "")
		code := p.host("")
		dir := t.TempDir()
		receiver := s.gopeer(t, nil, "-json", "-ice", "none", "-db", s.boardURL(), "-receive", code, "-yes", "-to", dir)
		receiver.event("connected")
		p.connected()
		p.js(fmt.Sprintf(`(() => {
  const bytes = Uint8Array.from(atob(%q), (c) => c.charCodeAt(0));
  const dt = new DataTransfer();
  dt.items.add(new File([bytes], "from the browser.bin"));
  document.body.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
})()`, base64.StdEncoding.EncodeToString(data)), nil)
		if ev := receiver.event("offer"); ev["files"] != "1" || ev["bytes"] != fmt.Sprint(len(data)) {
			t.Errorf("gopeer was offered %v", ev)
		}
		if ev := nextOf(receiver, "file_done"); ev["sha256"] != want || ev["name"] != "from the browser.bin" {
			t.Errorf("gopeer received %v, want SHA-256 %s", ev, want)
		}
		nextOf(receiver, "done")
		if got, err := os.ReadFile(filepath.Join(dir, "from the browser.bin")); err != nil || !bytes.Equal(got, data) {
			t.Errorf("the file on disk: %d bytes, %v", len(got), err)
		}
		p.waitFor(t, webWait, `document.getElementById("file-status").textContent.startsWith("sent from the browser.bin")`, "the page did not report the file sent")
		p.clean()
	})

	t.Run("file, gopeer to browser", func(t *testing.T) {
		// gopeer sends it back; the page joins, is asked, accepts by
		// keyboard, and offers the checked file for saving.
		path := filepath.Join(t.TempDir(), "back again.bin")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		sender := s.gopeer(t, nil, "-json", "-ice", "none", "-db", s.boardURL(), "-send", path)
		q := s.open(t, sender.event("room")["code"])
		q.join("", "")
		q.waitFor(t, webWait, `!document.getElementById("file-offer").hidden`, "the page did not show the offer")
		var offer, focused string
		q.js(`document.getElementById("file-offer-text").textContent`, &offer)
		q.js(`document.activeElement.id`, &focused)
		if !strings.Contains(offer, "back again.bin") || focused != "file-accept" {
			t.Errorf("the offer reads %q, focus on %q", offer, focused)
		}
		q.shot("file-offer")
		q.press(t, "Enter")
		if ev := nextOf(sender, "file_done"); ev["sha256"] != want {
			t.Errorf("gopeer sent %v", ev)
		}
		nextOf(sender, "done")
		q.waitFor(t, webWait, `document.querySelectorAll("#file-list a").length === 1`, "the page did not offer the file")
		var got struct{ Name, Sum string }
		q.js(`(async () => {
  const a = document.querySelector("#file-list a");
  const buf = await a.blob.arrayBuffer();
  const sum = [...new Uint8Array(await crypto.subtle.digest("SHA-256", buf))].map((b) => b.toString(16).padStart(2, "0")).join("");
  return { name: a.download, sum };
})()`, &got)
		if got.Sum != want || got.Name != "back again.bin" {
			t.Errorf("the page holds %q with SHA-256 %s, want %s", got.Name, got.Sum, want)
		}
		if code := sender.wait(); code != 0 {
			t.Errorf("gopeer -send exited %d", code)
		}
		// The sender is gone; the file stays to be saved.
		q.waitFor(t, webWait, `!document.getElementById("ended").hidden && !document.getElementById("received").hidden`, "the received file went with the session")
		q.shot("file-received")
		q.clean()
	})

	t.Run("browser joins aiortc", func(t *testing.T) {
		host := s.pypeer(t, []string{"PYPEER_PASSWORD=pw3"}, "--host", "WEBPY1")
		nextEvent(host, "room")
		p := s.open(t, "WEBPY1")
		p.join("", "pw3")
		p.connected()
		nextEvent(host, "connected")
		p.say("hello, aiortc")
		if got := nextEvent(host, "message")["text"]; got != "hello, aiortc" {
			t.Errorf("aiortc received %q", got)
		}
		host.send("hello, browser")
		p.hears("hello, browser")
		p.clean()
	})

	t.Run("published copy, another origin", func(t *testing.T) {
		// scripts/publish-web.sh's copy, served from another origin as a
		// static host would, reaches the board across origins (CORS) under
		// the policy in its meta tag.
		dir := t.TempDir()
		if out, err := exec.Command("scripts/publish-web.sh", s.boardURL(), dir).CombinedOutput(); err != nil {
			t.Fatalf("publish-web.sh: %v\n%s", err, out)
		}
		l := listenIn(t, s.ns, "127.0.0.1:0")
		go func() { _ = http.Serve(l, http.FileServer(http.Dir(dir))) }()
		p := &webPage{page: s.browser.open(t, "http://"+l.Addr().String()+"/?ice=none"), t: t}
		code := p.host("pw4")
		guest := s.gopeer(t, []string{"GOPEER_PASSWORD=pw4"}, "-json", "-ice", "none", "-db", s.boardURL(), "-join", code)
		guest.event("connected")
		p.connected()
		guest.send("across origins")
		p.hears("across origins")
		var policy string
		p.js(`document.querySelector('meta[http-equiv="Content-Security-Policy"]').content`, &policy)
		if !strings.Contains(policy, "connect-src "+s.boardURL()+";") {
			t.Errorf("the published policy is %q", policy)
		}
		p.clean()
	})

	t.Run("wrong password", func(t *testing.T) {
		host := s.gopeer(t, []string{"GOPEER_PASSWORD=right"}, "-json", "-ice", "none", "-db", s.boardURL(), "-host", "-room", "WEBPW1")
		host.event("room")
		p := s.open(t, "WEBPW1")
		p.join("", "wrong")
		if reason := p.ended(); !strings.Contains(reason, "does not open with this password") {
			t.Errorf("the page ended with %q", reason)
		}
		p.shot("refused")
		var answer json.RawMessage
		p.js(`fetch("/rooms/WEBPW1/answer.json").then((r) => r.json())`, &answer)
		if string(answer) != "null" {
			t.Errorf("the page answered anyway: %s", answer)
		}
		p.clean()
	})
}

// webVectorScript is a script that runs the Fernet specification's
// vectors and pypeer's sealed signals (testdata/) through the page's own
// module, and resolves with the failures.
func webVectorScript(t *testing.T) string {
	t.Helper()
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	return `(async () => {
  const m = await import("/pypeer.js");
  const generate = ` + read("fernet/generate.json") + `;
  const verify = ` + read("fernet/verify.json") + `;
  const invalid = ` + read("fernet/invalid.json") + `;
  const signals = ` + read("pypeer/signal-vectors.json") + `;
  const cpace = ` + read("cpace/ristretto255-sha512.json") + `;
  const native = ` + nativeCrossVectors(t) + `;
  const n = await import("/native.js");
  const failures = [];
  const secs = (s) => Date.parse(s) / 1000;
  const text = new TextEncoder(), untext = new TextDecoder();
  for (const v of generate) {
    const key = await m.fernetKey(m.base64urlDecode(v.secret));
    const got = await m.fernetEncrypt(key, text.encode(v.src), secs(v.now), new Uint8Array(v.iv));
    if (got !== v.token) failures.push("generate " + v.src + ": " + got);
  }
  for (const v of verify) {
    const key = await m.fernetKey(m.base64urlDecode(v.secret));
    const got = untext.decode(await m.fernetDecrypt(key, v.token, secs(v.now), v.ttl_sec, 60));
    if (got !== v.src) failures.push("verify: " + got);
  }
  for (const v of invalid) {
    try {
      const key = await m.fernetKey(m.base64urlDecode(v.secret));
      await m.fernetDecrypt(key, v.token, secs(v.now), v.ttl_sec, 60);
      failures.push("invalid " + v.desc + ": opened");
    } catch (e) {
      if (!(e instanceof m.FernetError)) failures.push("invalid " + v.desc + ": " + e);
    }
  }
  for (const v of signals) {
    const key = await m.roomKey(v.room, v.password);
    const sealedAt = Number(new DataView(m.base64urlDecode(v.board_value.payload).buffer).getBigUint64(1));
    const got = await m.open(key, v.board_value.payload, sealedAt);
    if (got.sdp !== v.plain.sdp || got.type !== v.plain.type) failures.push("signal " + v.room + ": " + JSON.stringify(got));
    const again = await m.open(key, await m.seal(key, v.plain, sealedAt), sealedAt);
    if (again.sdp !== v.plain.sdp) failures.push("signal " + v.room + ": does not survive sealing again");
    try {
      await m.open(await m.roomKey(v.room, v.password + "x"), v.board_value.payload, sealedAt);
      failures.push("signal " + v.room + ": opened with another password");
    } catch (e) {
      if (e.kind !== "mac") failures.push("signal " + v.room + ": another password gave " + e);
    }
  }
  const hex = (s) => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
  const unhex = (b) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("").toUpperCase();
  const v = cpace.cpace;
  if (unhex(n.generatorString(hex(v.PRS), hex(v.CI), hex(v.sid))) !== v.generator_string) failures.push("cpace: generator_string");
  const a = n.cpaceStart(hex(v.PRS), hex(v.CI), hex(v.sid), hex(v.ADa), n.bytesToNumberLE(hex(v.ya)));
  const b = n.cpaceStart(hex(v.PRS), hex(v.CI), hex(v.sid), hex(v.ADb), n.bytesToNumberLE(hex(v.yb)));
  if (unhex(a.msg) !== v.Ya || unhex(b.msg) !== v.Yb) failures.push("cpace: Ya, Yb " + unhex(a.msg) + " " + unhex(b.msg));
  if (unhex(n.cpaceFinish(a, b.msg, b.ad, true)) !== v.ISK_IR) failures.push("cpace: ISK_IR, initiator");
  if (unhex(n.cpaceFinish(b, a.msg, a.ad, false)) !== v.ISK_IR) failures.push("cpace: ISK_IR, responder");
  if (unhex(n.scalarMultVerify(n.bytesToNumberLE(hex(v.ya)), b.msg)) !== v.K) failures.push("cpace: K");
  const pv = cpace.points.Valid;
  if (unhex(n.scalarMultVerify(n.bytesToNumberLE(hex(pv.s)), hex(pv.X))) !== pv["G.scalar_mult_vfy(s,X)"]) failures.push("cpace: scalar_mult_vfy");
  for (const bad of [cpace.points["Invalid Y1"], cpace.points["Invalid Y2"]]) {
    try {
      n.scalarMultVerify(n.bytesToNumberLE(hex(pv.s)), hex(bad));
      failures.push("cpace: scalar_mult_vfy took " + bad);
    } catch (e) {
      if (!(e instanceof n.NativeError)) failures.push("cpace: " + e);
    }
  }
  for (const c of native.codes) {
    try {
      const got = n.parseCode(c.typed);
      if (c.typo || got.room !== c.room || got.secret !== c.secret) failures.push("code " + c.typed + ": " + JSON.stringify(got));
      else if (n.codeString(got) !== c.shown) failures.push("code " + c.typed + " shown as " + n.codeString(got));
    } catch (e) {
      if (!c.typo) failures.push("code " + c.typed + ": " + e.message);
    }
  }
  const sess = { isk: hex(native.isk), hostMsg: hex(native.hostMsg), joinerMsg: hex(native.joinerMsg), hostPrint: native.hostPrint, joinerPrint: native.joinerPrint };
  if (n.verifyString(sess.isk) !== native.verify) failures.push("verify string " + n.verifyString(sess.isk));
  if (unhex(await n.tag(sess, "host")) !== native.hostTag) failures.push("host tag");
  if (!(await n.checkTag(sess, "joiner", hex(native.joinerTag)))) failures.push("joiner tag");
  if (await n.checkTag(sess, "host", hex(native.joinerTag))) failures.push("a joiner's tag passed for the host's");
  const f = await import("/files.js");
  for (const [name, ok] of native.names) {
    let took = true;
    try {
      f.checkName(name);
    } catch {
      took = false;
    }
    if (took !== ok) failures.push("file name " + JSON.stringify(name) + (ok ? " refused" : " taken"));
  }
  // A hostile sender, message by message: each of these must be refused.
  const sum = async (b) => [...new Uint8Array(await crypto.subtle.digest("SHA-256", b))].map((x) => x.toString(16).padStart(2, "0")).join("");
  const body = new TextEncoder().encode("hello");
  const entry = { path: "a.txt", size: 5, sha256: await sum(body), mode: 420 };
  const header = { version: 1, files: 1, dirs: 0, bytes: 5 };
  const ui = { progress() {}, saved() {} };
  const begin = Uint8Array.of(0, 0);
  const hostile = {
    "totals that do not add up": () => new f.Incoming([entry], { ...header, bytes: 6 }),
    "another version": () => new f.Incoming([entry], { ...header, version: 2 }),
    "a name twice": () => new f.Incoming([entry, entry], { ...header, files: 2, bytes: 10 }),
    "a size that is not a number": () => new f.Incoming([{ ...entry, size: "5" }], header),
    "a hash that is not one": () => new f.Incoming([{ ...entry, sha256: "x" }], header),
    "more bytes than announced": () => { const r = new f.Incoming([entry], header); r.begin(begin); r.data(new Uint8Array(6), ui); },
    "fewer bytes than announced": () => { const r = new f.Incoming([entry], header); r.begin(begin); r.data(body.subarray(0, 4), ui); r.end(ui); },
    "damaged bytes": () => { const r = new f.Incoming([entry], header); r.begin(begin); r.data(new TextEncoder().encode("jello"), ui); r.end(ui); },
    "an offset into nothing": () => { const r = new f.Incoming([entry], header); r.begin(Uint8Array.of(0, 3)); },
    "a file out of range": () => { const r = new f.Incoming([entry], header); r.begin(Uint8Array.of(1, 0)); },
    "done with a file missing": () => { const r = new f.Incoming([entry], header); r.done(); },
    "data outside a file": () => { const r = new f.Incoming([entry], header); r.data(body, ui); },
  };
  for (const [name, attack] of Object.entries(hostile)) {
    try {
      attack();
      failures.push("hostile sender: " + name + " taken");
    } catch { /* refused */ }
  }
  const honest = new f.Incoming([entry], header);
  let saved = null;
  honest.begin(begin);
  honest.data(body, ui);
  honest.end({ ...ui, saved: (name, blob) => { saved = name + " " + blob.size; } });
  honest.done();
  if (saved !== "a.txt 5") failures.push("an honest file: " + saved);
  const s = await import("/session.js");
  const answer = "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=sctp-port:5000\r\n";
  if (s.withMaxMessageSize(answer) !== answer.replace("5000\r\n", "5000\r\na=max-message-size:65536\r\n")) failures.push("max-message-size added as " + JSON.stringify(s.withMaxMessageSize(answer)));
  const stated = answer + "a=max-message-size:262144\r\n";
  if (s.withMaxMessageSize(stated) !== stated) failures.push("max-message-size changed");
  for (const [sdp, want] of native.announcements) {
    let got;
    try {
      const a = n.readAnnouncement(sdp);
      got = a === null ? "none" : a.msg ? "v" + a.version + " " + unhex(a.msg) : "v" + a.version;
    } catch {
      got = "malformed";
    }
    if (got !== want) failures.push("announcement " + JSON.stringify(sdp) + ": " + got + ", want " + want);
  }
  return failures;
})()`
}

// nativeCrossVectors is what the Go code computes, for the page's
// native.js to match: join codes (and typos of them), a verification
// string, both confirmation tags, and announcements as the Go reader
// judges them.
func nativeCrossVectors(t *testing.T) string {
	t.Helper()
	type code struct {
		Typed  string `json:"typed"`
		Room   string `json:"room"`
		Secret string `json:"secret"`
		Shown  string `json:"shown"`
		Typo   bool   `json:"typo"`
	}
	var codes []code
	for _, seed := range []string{"K7P2M0", "ABC123", "000000", "ZZZZZZ"} {
		c, err := newJoinCode(seed, nil)
		if err != nil {
			t.Fatal(err)
		}
		shown := c.String()
		typo := []byte(shown)
		typo[8] = map[bool]byte{true: '2', false: '3'}[typo[8] == '3']
		codes = append(codes,
			code{Typed: shown, Room: c.room, Secret: c.secret, Shown: shown},
			code{Typed: strings.ToLower(strings.ReplaceAll(shown, "-", " ")), Room: c.room, Secret: c.secret, Shown: shown},
			code{Typed: string(typo), Typo: true},
		)
	}
	codes = append(codes, code{Typed: "K7P2M0", Room: "K7P2M0", Shown: "K7P2M0"}, code{Typed: "K7P2M", Typo: true})
	for _, c := range codes {
		if got, err := parseJoinCode(c.Typed); (err != nil) != c.Typo || (err == nil && got.String() != c.Shown) {
			t.Fatalf("Go parses %q as %v, %v", c.Typed, got, err)
		}
	}
	msg := func(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }
	sess := nativeSession{isk: bytes.Repeat([]byte{7}, 64), hostMsg: msg(1), joinerMsg: msg(2),
		hostPrint: "sha-256 AA:BB", joinerPrint: "sha-256 CC:DD"}
	var announcements [][2]string
	for _, sdp := range []string{
		"v=0\r\n" + "a=x-gopeer:1 " + base64.RawURLEncoding.EncodeToString(msg(9)) + "\r\nm=application 9\r\n",
		"v=0\r\nm=application 9\r\na=x-gopeer:1 " + base64.RawURLEncoding.EncodeToString(msg(9)) + "\r\n",
		"v=0\r\na=x-gopeer:2 anything\r\n",
		"v=0\r\na=x-gopeer:1 short\r\n",
		"v=0\r\na=x-gopeer:01 " + base64.RawURLEncoding.EncodeToString(msg(9)) + "\r\n",
		"v=0\r\na=x-gopeer:1 " + base64.RawURLEncoding.EncodeToString(msg(9)) + "\r\na=x-gopeer:1 " + base64.RawURLEncoding.EncodeToString(msg(9)) + "\r\n",
	} {
		a, found, err := readNativeAnnouncement(sdp)
		want := "none"
		switch {
		case err != nil:
			want = "malformed"
		case found && a.msg != nil:
			want = fmt.Sprintf("v%d %X", a.version, a.msg)
		case found:
			want = fmt.Sprintf("v%d", a.version)
		}
		announcements = append(announcements, [2]string{sdp, want})
	}
	// File names as the terminal's receiver judges them.
	var names [][2]any
	for _, name := range []string{"a.txt", "photos/a.jpg", "../up", "a/../../b", "/abs", `a\b`, "C:x", "a//b", "./a", "x.gopeer-part", "a\x00b", strings.Repeat("n", 256), ""} {
		names = append(names, [2]any{name, checkOfferPath(name) == nil})
	}
	b, err := json.Marshal(map[string]any{
		"names": names,
		"codes": codes, "verify": sess.verifyString(),
		"isk": fmt.Sprintf("%X", sess.isk), "hostMsg": fmt.Sprintf("%X", sess.hostMsg), "joinerMsg": fmt.Sprintf("%X", sess.joinerMsg),
		"hostPrint": sess.hostPrint, "joinerPrint": sess.joinerPrint,
		"hostTag": fmt.Sprintf("%X", sess.tag("host")), "joinerTag": fmt.Sprintf("%X", sess.tag("joiner")),
		"announcements": announcements,
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
