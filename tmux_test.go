//go:build unix

package main

// Terminal end-to-end tests: the real gopeer binary in terminal mode, on a
// real pseudo-terminal that a private tmux server provides, driven by
// keystrokes and checked by what the screen shows.

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// tmuxPoll is how often a screen is looked at while waiting for it.
const tmuxPoll = 20 * time.Millisecond

// tmuxSessions makes each tmux server's socket name unique in this process.
var tmuxSessions atomic.Int64

// tmuxSession is one pane of a private tmux server.
type tmuxSession struct {
	t      *testing.T
	tmux   string   // the tmux binary
	socket string   // -L name, private to this test
	env    []string // the environment of every tmux command, so of the server
	target string
}

// tmuxPath finds tmux, or ends t: a failure in CI, a skip elsewhere.
func tmuxPath(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("tmux")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the terminal tests need tmux on PATH")
		}
		t.Skip("tmux is not on PATH")
	}
	return path
}

// tmuxScript is the pane's shell script: it records the terminal settings
// before and after gopeer runs with $TMUX_GOPEER_ARGS, writes gopeer's exit
// status, says so on screen, and then waits on a read so that the pane stays
// for capture. Paths and arguments travel in the environment.
const tmuxScript = `
stty -g > "$TMUX_GOPEER_OUT/stty-before"
cd "$TMUX_GOPEER_DIR"
"$TMUX_GOPEER_BIN" $TMUX_GOPEER_ARGS
rc=$?
stty -g > "$TMUX_GOPEER_OUT/stty-after"
echo "$rc" > "$TMUX_GOPEER_OUT/status"
echo "[gopeer exited $rc]"
read _
`

// tmuxStartJoiner runs gopeer in terminal mode joining room on board, with
// the password in its environment.
func tmuxStartJoiner(t *testing.T, board, room, password string, args ...string) (*tmuxSession, string) {
	t.Helper()
	return tmuxStart(t, []string{"GOPEER_PASSWORD=" + password}, append([]string{"-ice", "none", "-db", board, "-join", room}, args...)...)
}

// tmuxStart starts a private tmux server whose one 100x30 pane runs gopeer
// with args in terminal mode, with env added to its environment. It returns
// the session and the directory where the pane's script writes its files.
func tmuxStart(t *testing.T, env []string, args ...string) (*tmuxSession, string) {
	t.Helper()
	bin := gopeerBin(t)
	tmux := tmuxPath(t)
	out := t.TempDir()
	tmp := t.TempDir() // registered before the kill-server cleanup: removed after it
	s := &tmuxSession{
		t:      t,
		tmux:   tmux,
		socket: fmt.Sprintf("gopeer-test-%d-%d", os.Getpid(), tmuxSessions.Add(1)),
		env: append([]string{
			"PATH=" + os.Getenv("PATH"),
			"HOME=" + t.TempDir(),
			"TMUX_TMPDIR=" + tmp,
			"SHELL=/bin/sh",
			"TERM=xterm-256color",
			"LANG=C.UTF-8",
			"TMUX_GOPEER_BIN=" + bin,
			"TMUX_GOPEER_ARGS=" + strings.Join(args, " "),
			"TMUX_GOPEER_OUT=" + out,
			"TMUX_GOPEER_DIR=" + filepath.Join(out, "cwd"), // gopeer's folder: received files land there
		}, env...),
		target: "gopeer",
	}
	if err := os.Mkdir(filepath.Join(out, "cwd"), 0o755); err != nil {
		t.Fatal(err)
	}
	s.run("new-session", "-d", "-s", s.target, "-x", "100", "-y", "30", "sh", "-c", tmuxScript)
	t.Cleanup(func() {
		if t.Failed() {
			if screen, err := s.tmux1("capture-pane", "-p", "-t", s.target); err == nil {
				t.Logf("screen at the end:\n%s", screen)
			}
		}
		_, _ = s.tmux1("kill-server")
	})
	return s, out
}

// tmux1 runs one tmux command against this session's server.
func (s *tmuxSession) tmux1(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), eventWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.tmux, append([]string{"-L", s.socket, "-f", "/dev/null"}, args...)...)
	cmd.Env = s.env
	cmd.WaitDelay = time.Second
	b, err := cmd.CombinedOutput()
	if err != nil {
		return string(b), fmt.Errorf("tmux %s: %v: %s", strings.Join(args, " "), err, b)
	}
	return string(b), nil
}

// run runs a tmux command and ends the test if it fails.
func (s *tmuxSession) run(args ...string) string {
	s.t.Helper()
	out, err := s.tmux1(args...)
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

// send types text literally, with no Enter.
func (s *tmuxSession) send(text string) {
	s.t.Helper()
	s.run("send-keys", "-t", s.target, "-l", text)
}

// key presses one named key, like Enter.
func (s *tmuxSession) key(name string) {
	s.t.Helper()
	s.run("send-keys", "-t", s.target, name)
}

// capture returns the visible screen as text.
func (s *tmuxSession) capture() string {
	s.t.Helper()
	return s.run("capture-pane", "-p", "-t", s.target)
}

// captureJoined returns the screen with the lines the terminal wrapped
// joined again, for text longer than a row.
func (s *tmuxSession) captureJoined() string {
	s.t.Helper()
	return s.run("capture-pane", "-p", "-J", "-t", s.target)
}

// captureHistory returns all the pane ever showed, scrolled-off lines
// included, wrapped lines joined.
func (s *tmuxSession) captureHistory() string {
	s.t.Helper()
	return s.run("capture-pane", "-p", "-J", "-S", "-", "-t", s.target)
}

// waitForJoinedText waits until the screen, wrapped lines joined, contains
// text.
func (s *tmuxSession) waitForJoinedText(text string) string {
	s.t.Helper()
	var joined string
	s.waitFor(fmt.Sprintf("%q (wrapped lines joined)", text), func(string) bool {
		joined = s.captureJoined()
		return strings.Contains(joined, text)
	})
	return joined
}

// captureEscapes returns the visible screen with its attributes and colours
// as escape sequences.
func (s *tmuxSession) captureEscapes() string {
	s.t.Helper()
	return s.run("capture-pane", "-e", "-p", "-t", s.target)
}

// waitFor polls the screen until ok accepts it, and returns that screen;
// after eventWait it fails the test, showing the last screen.
func (s *tmuxSession) waitFor(what string, ok func(screen string) bool) string {
	s.t.Helper()
	deadline := time.Now().Add(eventWait)
	tick := time.NewTicker(tmuxPoll)
	defer tick.Stop()
	for {
		screen := s.capture()
		if ok(screen) {
			return screen
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the screen did not show %s within %v; it shows:\n%s", what, eventWait, screen)
		}
		<-tick.C
	}
}

// waitForText waits until the screen contains text.
func (s *tmuxSession) waitForText(text string) string {
	s.t.Helper()
	return s.waitFor(fmt.Sprintf("%q", text), func(screen string) bool {
		return strings.Contains(screen, text)
	})
}

// tmuxLines splits a captured screen into lines without trailing blanks.
func tmuxLines(screen string) []string {
	lines := strings.Split(strings.TrimRight(screen, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return lines
}

// tmuxLineIndex is the index of the last screen line equal to want, or -1.
func tmuxLineIndex(lines []string, want string) int {
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i] == want {
			return i
		}
	}
	return -1
}

// tmuxLastLine is the last non-empty line of a screen.
func tmuxLastLine(screen string) string {
	lines := tmuxLines(screen)
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i] != "" {
			return lines[i]
		}
	}
	return ""
}

// tmuxSGR matches the SGR (colour and attribute) sequences capture-pane -e writes.
var tmuxSGR = regexp.MustCompile("\x1b\\[([0-9;:]*)m")

// tmuxColours returns the SGR sequences in a screen that set a foreground or
// background colour (resetting to the default colour is not setting one).
func tmuxColours(screen string) []string {
	var found []string
	for _, m := range tmuxSGR.FindAllStringSubmatch(screen, -1) {
		for _, p := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ';' || r == ':' }) {
			var n int
			if _, err := fmt.Sscan(p, &n); err != nil {
				continue
			}
			if (n >= 30 && n <= 38) || (n >= 40 && n <= 48) || (n >= 90 && n <= 97) || (n >= 100 && n <= 107) {
				found = append(found, fmt.Sprintf("%q", m[0]))
				break
			}
		}
	}
	return found
}

// tmuxCheckExit waits for the pane's script to report gopeer's exit, then
// checks the status and that the terminal settings are as before.
func tmuxCheckExit(t *testing.T, s *tmuxSession, out string, want int) {
	t.Helper()
	screen := s.waitForText("[gopeer exited ")
	for _, l := range tmuxLines(screen) {
		if strings.Contains(l, "[gopeer exited ") && strings.TrimSpace(l) != strings.TrimSpace(l[strings.Index(l, "[gopeer exited "):]) {
			t.Errorf("gopeer left something on the shell's line: %q", l)
		}
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	if got := read("status"); got != fmt.Sprint(want) {
		t.Errorf("gopeer exit status %s, want %d", got, want)
	}
	before, after := read("stty-before"), read("stty-after")
	if before == "" || before != after {
		t.Errorf("terminal not restored: stty -g before gopeer %q, after %q", before, after)
	}
}

// tmuxHost starts a -json host in room on a fresh board and waits for the
// room to be posted.
func tmuxHost(t *testing.T, room, password string) (board string, host *proc) {
	t.Helper()
	gopeerBin(t)
	tmuxPath(t)
	board = startTestBoard(t)
	host = startGopeer(t, []string{"GOPEER_PASSWORD=" + password},
		"-json", "-ice", "none", "-db", board, "-host", "-room", room)
	if ev := host.event("room"); ev["room"] != room {
		t.Fatalf("room event %v, want room %s", ev, room)
	}
	return board, host
}

// tmuxMessageLine matches a chat line: a time, who, and the text, with or
// without the delivered mark after it.
func tmuxMessageLine(who, text string) *regexp.Regexp {
	return regexp.MustCompile(`^\d\d:\d\d ` + who + `: ` + regexp.QuoteMeta(text) + `( ` + deliveredMark + `)?$`)
}

// tmuxLineMatching is the index of the last screen line re matches, or -1.
func tmuxLineMatching(lines []string, re *regexp.Regexp) int {
	for i := len(lines) - 1; i >= 0; i-- {
		if re.MatchString(lines[i]) {
			return i
		}
	}
	return -1
}

// waitForLine waits until a screen line matches re and returns the screen.
func (s *tmuxSession) waitForLine(re *regexp.Regexp) string {
	s.t.Helper()
	return s.waitFor(re.String(), func(screen string) bool {
		return tmuxLineMatching(tmuxLines(screen), re) >= 0
	})
}

// TestTerminalChat chats from a real terminal: the tunnel banner, a message
// arriving while a line is half typed (shown above it, sanitized, the typed
// line intact), sending that line, /quit, and the terminal restored.
func TestTerminalChat(t *testing.T) {
	t.Parallel()
	const password = "tmux horse battery"
	board, host := tmuxHost(t, "TERM01", password)
	s, out := tmuxStartJoiner(t, board, "TERM01", password)

	s.waitForText("Secure P2P tunnel established")
	host.event("connected")

	// A half-typed line, no Enter.
	s.send("half typed")
	s.waitFor(`the input line "> half typed"`, func(screen string) bool {
		return tmuxLastLine(screen) == "> half typed"
	})

	// A message with escape sequences of every kind arrives meanwhile.
	host.send("hello \x1b[31mred\x1b]52;c;aGk=\x07\x1b]0;title\x07\u009b2J\u202eevil\x7f")
	peerLine := tmuxMessageLine("Peer", "hello ␛[31mred␛]52;c;aGk=␇␛]0;title␇<U+009B>2J<U+202E>evil␡")
	screen := s.waitForLine(peerLine)
	screen = s.waitFor(`the input line "> half typed" again below the message`, func(screen string) bool {
		lines := tmuxLines(screen)
		p, in := tmuxLineMatching(lines, peerLine), tmuxLineIndex(lines, "> half typed")
		return p >= 0 && in > p
	})
	if last := tmuxLastLine(screen); last != "> half typed" {
		t.Errorf("the last line is %q, want the input line %q:\n%s", last, "> half typed", screen)
	}
	escaped := s.captureEscapes()
	if strings.Contains(escaped, "\x1b[31m") {
		t.Errorf("the peer's escape sequence turned the screen red: capture-pane -e has \\x1b[31m:\n%q", escaped)
	}
	if title := s.run("display-message", "-p", "-t", s.target, "#{pane_title}"); strings.Contains(title, "title") {
		t.Errorf("the peer changed the terminal title to %q", title)
	}

	// Enter sends the line that was being typed, whole.
	s.key("Enter")
	if got := host.event("message")["text"]; got != "half typed" {
		t.Errorf("host received %q, want %q", got, "half typed")
	}
	s.waitForLine(tmuxMessageLine("You", "half typed"))

	s.send("/quit")
	s.key("Enter")
	if ev := host.event("closed"); ev["reason"] != "peer left" {
		t.Errorf("host closed with %v, want reason peer left", ev)
	}
	tmuxCheckExit(t, s, out, exitOK)
	if code := host.wait(); code != exitOK {
		t.Errorf("host exit status %d, want 0", code)
	}
}

// TestTerminalPeerLeaves: when the host leaves, gopeer -join says so and
// exits 0 (it did the one task it was started for), the terminal restored.
// NO_COLOR turns every colour off.
func TestTerminalPeerLeaves(t *testing.T) {
	t.Parallel()
	const password = "tmux leaves"
	board, host := tmuxHost(t, "TERM02", password)
	s, out := tmuxStart(t, []string{"GOPEER_PASSWORD=" + password, "NO_COLOR=1"},
		"-ice", "none", "-db", board, "-join", "TERM02")

	s.waitForText("Secure P2P tunnel established")
	host.event("connected")
	host.send("colourless")
	s.waitForLine(tmuxMessageLine("Peer", "colourless"))
	if colours := tmuxColours(s.captureEscapes()); len(colours) > 0 {
		t.Errorf("NO_COLOR is set, yet the screen shows colours %v", colours)
	}

	host.stdin.Close()
	s.waitForText("The peer left the chat.")
	tmuxCheckExit(t, s, out, exitOK)
	if screen := s.capture(); strings.Contains(screen, "Choose h, j or q:") {
		t.Errorf("gopeer -join went to the menu:\n%s", screen)
	}
	if code := host.wait(); code != exitOK {
		t.Errorf("host exit status %d, want 0", code)
	}
}

// tmuxRoomCode matches the host's banner line with the code: the gopeer
// code, whose first six characters are the room code.
var tmuxRoomCode = regexp.MustCompile(`Share this code:\s+([A-Z0-9]{6}-[0-9A-Z]{4}-[0-9A-Z]{2})`)

// TestTerminalTwoPeers runs both peers in terminals, through the menus: the
// host picks h and a password; the joiner picks j, mistypes the password,
// is told the offer does not open (a wrong password, or a replaced offer),
// presses p to type it again, and gets in. Then a
// multi-line message (Ctrl-J), a bracketed paste that looks like a command,
// a resize with wide characters, and Ctrl-D to quit.
func TestTerminalTwoPeers(t *testing.T) {
	t.Parallel()
	board := startTestBoard(t)
	args := []string{"-ice", "none", "-db", board}
	host, hostOut := tmuxStart(t, nil, args...)
	guest, guestOut := tmuxStart(t, nil, args...)

	host.waitForText("Choose h, j or q:")
	host.send("h")
	host.waitForText("Password (optional, hidden):")
	host.send("s3cret")
	if screen := host.capture(); strings.Contains(screen, "s3cret") {
		t.Fatalf("the password shows on screen:\n%s", screen)
	}
	host.key("Enter")
	m := tmuxRoomCode.FindStringSubmatch(host.waitFor("the room code", func(screen string) bool {
		return tmuxRoomCode.MatchString(screen)
	}))
	code := m[1]
	host.waitForJoinedText("The other person runs:        " + gopeerBin(t) + " -join " + code + " -db " + board)
	host.waitForJoinedText("Or open, in a browser: " + board + "/?ice=none#" + code) // a gopeer board serves the page
	host.waitForText("The room's password is short: whoever reads the board can test")
	host.waitForText("waiting for a peer to join")
	host.send("c") // copies the gopeer code, not the bare room code
	host.waitForJoinedText("Copied " + code + " to the clipboard")

	guest.waitForText("Choose h, j or q:")
	guest.send("j")
	guest.waitForText("Room code:")
	guest.send("bad")
	guest.key("Enter")
	guest.waitForText("is not a room code")
	guest.send(strings.ToLower(code))
	guest.key("Enter")
	guest.waitForText("Password (optional, hidden):")
	guest.send("wrong")
	guest.key("Enter")
	guest.waitForJoinedText("does not open with this password: a wrong password, or someone replaced it")
	guest.waitForJoinedText("Press p to type the password again.")
	guest.send("p")
	guest.waitFor("the password prompt again", func(screen string) bool {
		return tmuxLastLine(screen) == "Password (optional, hidden):"
	})
	guest.send("s3cret")
	guest.key("Enter")
	guest.waitForJoinedText("Secure P2P tunnel established. Room " + code + ", a direct path; gopeer protocol, confirmed with the code")
	host.waitForJoinedText("Secure P2P tunnel established")
	host.waitForJoinedText("A pypeer user joins room " + code[:roomCodeLen] + " with the password instead")

	// Ctrl-J puts a newline in the message; later lines are indented.
	host.send("line one")
	host.key("C-j")
	host.send("line two")
	host.key("Enter")
	screen := guest.waitForLine(tmuxMessageLine("Peer", "line one"))
	lines := tmuxLines(screen)
	if i := tmuxLineMatching(lines, tmuxMessageLine("Peer", "line one")); i+1 >= len(lines) || lines[i+1] != "            line two" {
		t.Errorf("the second line of the message is not indented under the first:\n%s", screen)
	}

	// A paste is text, even when it looks like a command.
	host.run("set-buffer", "/quit")
	host.run("paste-buffer", "-p", "-t", host.target)
	host.waitFor("the pasted text in the input line", func(screen string) bool {
		return tmuxLastLine(screen) == "> /quit"
	})
	host.key("Enter")
	guest.waitForLine(tmuxMessageLine("Peer", "/quit"))

	// After a resize, wide characters wrap at the new width as the terminal
	// wraps them, and the cursor stays right after the last one.
	guest.run("resize-window", "-t", guest.target, "-x", "30", "-y", "20")
	draft := "a" + strings.Repeat("世界", 10) // 41 columns after "> a"
	guest.send(draft)
	guest.waitFor("the wide draft wrapped at 30 columns", func(screen string) bool {
		lines := tmuxLines(screen)
		n := len(lines)
		// "> a" and 13 wide characters fill 29 columns; the 14th does not fit.
		return n >= 2 && lines[n-2] == "> a"+strings.Repeat("世界", 6)+"世" && lines[n-1] == "界"+strings.Repeat("世界", 3)
	})
	if xy := strings.TrimSpace(guest.run("display-message", "-p", "-t", guest.target, "#{cursor_x}")); xy != "14" {
		t.Errorf("cursor at column %s after the wide draft, want 14", xy)
	}
	guest.key("Enter")
	host.waitForText("Peer: " + draft)

	// /info reports the room, the protocol and the path; /verify gives
	// both sides the same number.
	guest.send("/info")
	guest.key("Enter")
	guest.waitForJoinedText("Room " + code + " · gopeer protocol, confirmed with the code")
	verify := regexp.MustCompile(`Verification: (\d{4} \d{4})\.`)
	host.send("/verify")
	host.key("Enter")
	hostNumber := verify.FindStringSubmatch(strings.ReplaceAll(host.waitFor("the verification number", func(screen string) bool {
		return verify.MatchString(strings.ReplaceAll(screen, "\n", ""))
	}), "\n", ""))
	guest.send("/verify")
	guest.key("Enter")
	if hostNumber == nil {
		t.Fatal("no verification number on the host's screen")
	}
	guest.waitForJoinedText("Verification: " + hostNumber[1] + ".")

	guest.key("C-d")
	guest.waitForText("You left.")
	tmuxCheckExit(t, guest, guestOut, exitOK)
	host.waitForText("The peer left the chat.")
	host.waitForText("Choose h, j or q:")
	host.key("Escape")
	tmuxCheckExit(t, host, hostOut, exitOK)
	if root := boardRoot(t, board); root != "null" {
		t.Errorf("board after the session holds %s, want nothing", root)
	}
}

// TestTerminalRestoredOnSignal: SIGTERM or SIGHUP, while gopeer waits in
// raw mode, ends it cleanly with the terminal restored, and the status a
// cancelled line-mode run has.
func TestTerminalRestoredOnSignal(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			board := startTestBoard(t)
			s, out := tmuxStart(t, []string{"GOPEER_PASSWORD=x"}, "-ice", "none", "-db", board, "-join", "NOHOST")
			s.waitForText("waiting for the host to open room NOHOST")
			if err := syscall.Kill(s.gopeerPID(), sig); err != nil {
				t.Fatal(err)
			}
			tmuxCheckExit(t, s, out, exitInterrupted)
		})
	}
}

// gopeerPID is the process ID of gopeer, the child of the pane's shell.
func (s *tmuxSession) gopeerPID() int {
	s.t.Helper()
	shell := strings.TrimSpace(s.run("display-message", "-p", "-t", s.target, "#{pane_pid}"))
	b, err := os.ReadFile("/proc/" + shell + "/task/" + shell + "/children")
	if err != nil {
		s.t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Sscan(string(b), &pid); err != nil {
		s.t.Fatalf("no child of the pane's shell %s: %q", shell, b)
	}
	return pid
}

// TestTerminalHostCancels: Esc while gopeer -host waits cancels the room,
// takes it off the board and exits 130, as Ctrl-C does in line mode.
func TestTerminalHostCancels(t *testing.T) {
	t.Parallel()
	board := startTestBoard(t)
	s, out := tmuxStart(t, []string{"GOPEER_PASSWORD=pw"}, "-ice", "none", "-db", board, "-host", "-room", "CANCL1")
	s.waitForText("waiting for a peer to join")
	if root := boardRoot(t, board); !strings.Contains(root, "CANCL1") {
		t.Fatalf("board holds %s, want room CANCL1", root)
	}
	s.key("Escape")
	s.waitForText("gopeer: cancelled; room CANCL1 is off the board")
	tmuxCheckExit(t, s, out, exitInterrupted)
	if root := boardRoot(t, board); root != "null" {
		t.Errorf("board after cancelling holds %s, want nothing", root)
	}
}

// TestTerminalEditing drives the chat's line editor on a real terminal:
// a pasted block of lines (which tmux, like real terminals, separates with
// bare CRs) is one message with its newlines; Ctrl-D with text deletes
// under the cursor; a typed __ping__ and a paste over the message limit are
// refused with a warning; Ctrl-L redraws without clearing; a narrowed
// window leaves no ghost copy of the draft; a long received message wraps
// aligned under its text; /quit says "You left.".
func TestTerminalEditing(t *testing.T) {
	t.Parallel()
	const password = "tmux editing"
	board, host := tmuxHost(t, "TERM03", password)
	s, out := tmuxStartJoiner(t, board, "TERM03", password)
	s.waitForText("Secure P2P tunnel established")
	host.event("connected")

	s.run("set-buffer", "one\ntwo\nthree")
	s.run("paste-buffer", "-p", "-t", s.target)
	s.key("Enter")
	if got := host.event("message")["text"]; got != "one\ntwo\nthree" {
		t.Errorf("a pasted block arrived as %q, want its three lines", got)
	}

	s.send("abc")
	s.key("Left")
	s.key("Left")
	s.key("C-d")
	s.waitFor(`the draft "> ac"`, func(screen string) bool { return tmuxLastLine(screen) == "> ac" })
	s.key("Enter")
	if got := host.event("message")["text"]; got != "ac" {
		t.Errorf("after Ctrl-D the host received %q, want %q", got, "ac")
	}

	s.send("__ping__")
	s.key("Enter")
	s.waitForText(`! Not sent: "__ping__" is the keep-alive text`)

	big := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(big, []byte(strings.Repeat("x", pypeerChannel.maxBytes+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	s.run("load-buffer", big)
	s.run("paste-buffer", "-p", "-t", s.target)
	s.waitForText("! The paste was not inserted: it is 65537 bytes")
	s.waitFor(`an empty input line`, func(screen string) bool { return tmuxLastLine(screen) == ">" })

	s.send("still here")
	s.key("C-l")
	screen := s.waitFor("the chat after Ctrl-L", func(screen string) bool { return tmuxLastLine(screen) == "> still here" })
	if !strings.Contains(screen, "Secure P2P tunnel established") {
		t.Errorf("Ctrl-L cleared the conversation:\n%s", screen)
	}
	s.key("C-u")

	draft := "ghost-" + strings.Repeat("g", 80)
	s.send(draft)
	s.waitFor("the whole draft drawn at 100 columns", func(screen string) bool {
		return tmuxLastLine(screen) == "> "+draft
	})
	s.run("resize-window", "-t", s.target, "-x", "40", "-y", "30")
	screen = s.waitFor("the draft redrawn at 40 columns", func(screen string) bool {
		lines := tmuxLines(screen)
		return len(lines) >= 3 && lines[len(lines)-3] == "> ghost-"+strings.Repeat("g", 32)
	})
	if n := strings.Count(screen, "ghost-"); n != 1 {
		t.Errorf("after narrowing, the draft shows %d times:\n%s", n, screen)
	}
	s.key("C-u")

	long := strings.TrimSpace(strings.Repeat("word ", 20))
	host.send(long)
	screen = s.waitForText("Peer: word word")
	lines := tmuxLines(screen)
	first := tmuxLineMatching(lines, regexp.MustCompile(`^\d\d:\d\d Peer: word word`))
	for _, l := range lines[first+1 : first+3] {
		if !strings.HasPrefix(l, "            word") {
			t.Errorf("a wrapped line %q does not start under the message's text:\n%s", l, screen)
		}
	}

	s.send("/quit")
	s.key("Enter")
	s.waitForText("You left.")
	tmuxCheckExit(t, s, out, exitOK)
}

// TestTerminalMenuBoards: hosting from the menu falls back to a board of
// its own when the default board is out of reach, and does so again for a
// second room after the first was cancelled (it never dials the stopped
// board); joining from the menu afterwards never serves a board.
func TestTerminalMenuBoards(t *testing.T) {
	s, out := tmuxStart(t, []string{"PYPEER_URL=http://127.0.0.1:9"}, "-ice", "none")
	for round := range 2 {
		s.waitForText("Choose h, j or q:")
		s.send("h")
		s.waitForText("Password (optional, hidden):")
		s.key("Enter")
		m := tmuxRoomCode.FindStringSubmatch(s.waitFor("the room code", func(screen string) bool {
			return strings.Count(screen, "Share this code:") == round+1
		}))
		if m == nil {
			t.Fatalf("round %d: no room code on screen", round)
		}
		s.waitForText("waiting for a peer to join")
		screen := s.captureHistory()
		if n := strings.Count(screen, "serving a board here at http://127.0.0.1:"); n != round+1 {
			t.Fatalf("round %d: %d fallback boards on screen, want %d:\n%s", round, n, round+1, screen)
		}
		if strings.Contains(screen, "connection refused") {
			t.Fatalf("round %d: the host dialled a stopped board:\n%s", round, screen)
		}
		s.key("Escape")
		s.waitForText("Cancelled; room ")
	}

	s.waitForText("Choose h, j or q:")
	s.send("h")
	s.waitForText("Password (optional, hidden):")
	s.key("Escape")
	s.waitForText("Choose h, j or q:")
	s.send("j")
	s.waitForText("Room code:")
	s.send("ABC123")
	s.key("Enter")
	s.waitForText("Password (optional, hidden):")
	s.key("Enter")
	s.waitForJoinedText("! Cannot reach the board at http://127.0.0.1:9")
	screen := s.captureHistory()
	if n := strings.Count(screen, "serving a board here"); n != 2 {
		t.Errorf("%d boards of its own served, want the two hosts' and none for the join:\n%s", n, screen)
	}
	s.waitForText("Choose h, j or q:")
	s.send("q")
	tmuxCheckExit(t, s, out, exitOK)
}

// TestTerminalJoinCancels: Esc while gopeer -join waits for its room exits
// 130, and does not claim to have removed anything: it posted nothing.
func TestTerminalJoinCancels(t *testing.T) {
	t.Parallel()
	board := startTestBoard(t)
	s, out := tmuxStart(t, []string{"GOPEER_PASSWORD=x"}, "-ice", "none", "-db", board, "-join", "NOHOST")
	s.waitForText("waiting for the host to open room NOHOST")
	s.key("Escape")
	screen := s.waitForText("[gopeer exited ")
	if !strings.Contains(screen, "gopeer: cancelled\n") || strings.Contains(screen, "off the board") {
		t.Errorf("the joiner's cancel says, want just \"gopeer: cancelled\":\n%s", screen)
	}
	tmuxCheckExit(t, s, out, exitInterrupted)
}

// TestTerminalSingleTaskFails: gopeer -host on a terminal with a board URL
// that does not parse exits 2 before it takes the terminal, and with a
// board that cannot be reached exits 1, the error and its hint printed
// once the terminal is back; neither falls into the menu.
func TestTerminalSingleTaskFails(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		db   string
		code int
		want string
	}{
		{"ftp://x", exitUsage, "gopeer: error: -db: invalid board URL"},
		{"http://127.0.0.1:9", exitFailure, "gopeer: error: cannot reach the board at http://127.0.0.1:9: connection refused"},
	} {
		s, out := tmuxStart(t, []string{"GOPEER_PASSWORD=x"}, "-ice", "none", "-db", tc.db, "-host")
		s.waitForText("[gopeer exited ")
		screen := s.captureJoined()
		if !strings.Contains(screen, tc.want) || !strings.Contains(screen, "gopeer: hint: ") || strings.Contains(screen, "Choose h, j or q:") {
			t.Errorf("-db %s: the screen, want %q and a hint, and no menu:\n%s", tc.db, tc.want, screen)
		}
		tmuxCheckExit(t, s, out, tc.code)
	}
}

// TestTerminalHostileCertificate: a board whose certificate names carry
// escape sequences is refused on a terminal too, and the names show as
// text: the pane's title is unchanged and nothing was cleared.
func TestTerminalHostileCertificate(t *testing.T) {
	t.Parallel()
	board := hostileTLSBoard(t)
	s, out := tmuxStart(t, []string{"GOPEER_PASSWORD=x"}, "-ice", "none", "-db", board, "-join", "ABC123")
	s.waitForText("[gopeer exited ")
	screen := s.captureJoined()
	if !strings.Contains(screen, "evil␛]0;pwned␇␛[2J") || strings.Contains(screen, "\nFORGED") {
		t.Errorf("the screen does not show the names inert:\n%s", screen)
	}
	if title := s.run("display-message", "-p", "-t", s.target, "#{pane_title}"); strings.Contains(title, "pwned") {
		t.Errorf("the certificate changed the terminal title to %q", title)
	}
	tmuxCheckExit(t, s, out, exitFailure)
}

// TestTerminalNativeWrongCode: from the menu, a code whose secret part is
// wrong gets through the password (it opens the offer) and fails the
// confirmation; the screen says to check the code and asks for it again,
// not for the password.
func TestTerminalNativeWrongCode(t *testing.T) {
	t.Parallel()
	board := startTestBoard(t)
	const password = "pw"
	_, room := nativeHost(t, board, "TUIWC1", password)
	guest, _ := tmuxStart(t, nil, "-ice", "none", "-db", board)
	guest.waitForText("Choose h, j or q:")
	guest.send("j")
	guest.waitForText("Room code:")
	guest.send(wrongSecret(t, room["code"]))
	guest.key("Enter")
	guest.waitForText("Password (optional, hidden):")
	guest.send(password)
	guest.key("Enter")
	guest.waitForJoinedText("did not prove it holds this code: a wrong code, or someone in the middle.")
	guest.waitForJoinedText("Check the whole code with the host, character by character.")
	guest.waitFor("the code prompt again", func(screen string) bool {
		return tmuxLastLine(screen) == "Room code:"
	})
}

// TestTerminalNativeVerify: with -verify, the terminal shows the number
// to compare and asks before the chat starts; y from both starts it, n
// ends it as not_verified (exit 1), the terminal restored.
func TestTerminalNativeVerify(t *testing.T) {
	t.Parallel()
	board := startTestBoard(t)
	const password = "pw"
	for _, same := range []bool{true, false} {
		room := map[bool]string{true: "TUIVF1", false: "TUIVF2"}[same]
		host, ev := nativeHost(t, board, room, password)
		s, out := tmuxStartJoiner(t, board, ev["code"], password, "-verify")
		verify := host.event("connected")["verify"]
		host.event("compare")
		s.waitForJoinedText("compare this number with the peer, aloud or in person: " + verify)
		s.waitFor("the question", func(screen string) bool {
			return tmuxLastLine(screen) == "Does the peer see the same number? (y/n)"
		})
		host.answer(true)
		if !same {
			s.send("n")
			s.waitForJoinedText("gopeer: error: you said the numbers differ: the chat did not start")
			tmuxCheckExit(t, s, out, exitFailure)
			if ev := host.event("error"); ev["kind"] != kindNotVerified {
				t.Errorf("host ended with %v", ev)
			}
			continue
		}
		s.send("y")
		s.waitForText("The peer sees the same number.")
		s.waitForText("Secure P2P tunnel established.")
		host.event("compared")
		host.send("hello after comparing")
		s.waitForLine(tmuxMessageLine("Peer", "hello after comparing"))

		// A receipt marks the message delivered, on its own line, the
		// draft below untouched.
		s.send("to the host")
		s.key("Enter")
		// Two events, in either order: the terminal's receipt for the
		// host's message (control stream) and its own message (chat).
		got := map[string]string{}
		for range 2 {
			l := host.line()
			ev, err := parseEvent(l)
			if err != nil {
				t.Fatalf("host printed %q", l)
			}
			got[ev["event"]] = ev["id"] + ev["text"]
		}
		if want := map[string]string{"delivered": "1", "message": "to the host"}; !maps.Equal(got, want) {
			t.Fatalf("host's events %v, want %v", got, want)
		}
		s.send("a draft")
		screen := s.waitForLine(regexp.MustCompile(`^\d\d:\d\d You: to the host ` + deliveredMark + `$`))
		if last := tmuxLastLine(screen); last != "> a draft" {
			t.Errorf("the input line reads %q after the mark, want the draft", last)
		}
	}
}

// TestTerminalSendFile: two people in terminals; one types /send with Tab
// completing the path, the other is asked and answers y; the file lands in
// the receiver's folder, checked, and both screens say so. A second offer,
// declined, writes nothing.
func TestTerminalSendFile(t *testing.T) {
	t.Parallel()
	board := startTestBoard(t)
	env := []string{"GOPEER_PASSWORD=pw"}
	host, hostOut := tmuxStart(t, env, "-ice", "none", "-db", board, "-host", "-room", "FILES1")
	code := tmuxRoomCode.FindStringSubmatch(host.waitFor("the room code", func(screen string) bool {
		return tmuxRoomCode.MatchString(screen)
	}))[1]
	guest, _ := tmuxStart(t, env, "-ice", "none", "-db", board, "-join", code)
	guest.waitForText("Secure P2P tunnel established")
	host.waitForText("Secure P2P tunnel established")

	src := t.TempDir()
	data := randomBytes(t, 3<<20)
	writeFile(t, filepath.Join(src, "report.bin"), data, 0o644)
	guest.send("/send " + src + "/rep")
	guest.key("Tab")
	guest.waitFor("the completed path", func(screen string) bool {
		return tmuxLastLine(screen) == "> /send "+src+"/report.bin"
	})
	guest.key("Enter")
	host.waitForJoinedText("The peer offers report.bin: 1 file, 3.0 MiB. Receive into " + filepath.Join(hostOut, "cwd") + "? Type y or n and press Enter.")
	host.send("y")
	host.key("Enter")
	host.waitForText("Received report.bin (3.0 MiB), SHA-256 checked.")
	host.waitForText("Done: every file arrived, and every SHA-256 matched.")
	guest.waitForText("Sent: the peer has every file, and every SHA-256 matched.")
	if b, err := os.ReadFile(filepath.Join(hostOut, "cwd", "report.bin")); err != nil || !bytes.Equal(b, data) {
		t.Fatalf("the received file: %v", err)
	}

	writeFile(t, filepath.Join(src, "second.txt"), []byte("no thanks"), 0o644)
	guest.send("/send " + filepath.Join(src, "second.txt"))
	guest.key("Enter")
	host.waitForJoinedText("The peer offers second.txt")
	host.send("n")
	host.key("Enter")
	host.waitForText("Declined.")
	guest.waitForJoinedText("Stopped sending: the receiver refused the files")
	if _, err := os.Stat(filepath.Join(hostOut, "cwd", "second.txt")); err == nil {
		t.Error("a declined file was written")
	}
}
