package main

// The web client in a real browser: headless Chromium (browser_linux_test.go)
// in a network namespace of its own, beside gopeer and aiortc peers in the
// same namespace, all meeting on a board in this namespace's loopback that
// they reach through a relay (boardProcess).

import (
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

	t.Run("browser joins gopeer", func(t *testing.T) {
		host := s.gopeer(t, []string{"GOPEER_PASSWORD=pw1"}, "-json", "-ice", "none", "-db", s.boardURL(), "-host", "-room", "WEBGP1")
		host.event("room")
		p := s.open(t, "WEBGP1")
		p.join("", "pw1") // the code came with the link
		if mode := p.connected(); mode != "pypeer · unconfirmed" {
			t.Errorf("mode %q", mode)
		}
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

	t.Run("gopeer joins browser", func(t *testing.T) {
		p := s.open(t, "")
		code := p.host("pw2")
		p.shot("hosting")
		guest := s.gopeer(t, []string{"GOPEER_PASSWORD=pw2"}, "-json", "-ice", "none", "-db", s.boardURL(), "-join", code)
		if ev := guest.event("connected"); ev["protocol"] != "pypeer" {
			t.Errorf("gopeer connected as %v", ev)
		}
		p.connected()
		guest.send("hello from gopeer")
		if got := p.heard(1); got[0] != "hello from gopeer" {
			t.Errorf("the page shows %q", got)
		}
		p.say("hello from the browser")
		if got := guest.event("message")["text"]; got != "hello from the browser" {
			t.Errorf("gopeer received %q", got)
		}
		awaitBoardNull(t, "http://"+s.board.here()+"/rooms/"+code+".json")
		p.clean()
	})

	t.Run("browser to browser", func(t *testing.T) {
		host := s.open(t, "")
		code := host.host("")
		guest := s.open(t, code)
		guest.join("", "")
		host.connected()
		guest.connected()
		host.say("from the host's tab")
		guest.say("from the guest's tab")
		if got := guest.heard(1); got[0] != "from the host's tab" {
			t.Errorf("the guest's tab shows %q", got)
		}
		if got := host.heard(1); got[0] != "from the guest's tab" {
			t.Errorf("the host's tab shows %q", got)
		}
		host.focus("leave")
		host.press(t, "Enter")
		if reason := guest.ended(); reason != "the peer left" {
			t.Errorf("the guest's tab says %q", reason)
		}
		host.clean()
		guest.clean()
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
		if got := p.heard(1); got[0] != "hello, browser" {
			t.Errorf("the page shows %q", got)
		}
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
		if got := p.heard(1); got[0] != "across origins" {
			t.Errorf("the page shows %q", got)
		}
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
  return failures;
})()`
}
