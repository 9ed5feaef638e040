package main

// This file is the interactive terminal session: pypeer's four screens
// (start, host, join, chat) in gopeer's line mode, in raw mode from the first
// key to the last, with the terminal restored on every way out.

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
	"golang.org/x/term"
)

// Display bounds for one received message: a 64 KiB wall of text would push
// the whole conversation off the screen.
const (
	displayMaxBytes = 4 << 10
	displayMaxLines = 40
)

// tui owns the terminal for an interactive session.
type tui struct {
	fd    int
	out   io.Writer
	ed    *editor
	keys  chan key
	sizes chan int // new widths after a resize
	color bool
	o     options
	e     env

	restoreOnce sync.Once
	state       *term.State
}

// errQuit ends the interactive session at the user's request.
var errQuit = errors.New("quit")

// runTerminal is gopeer on a terminal: menu, host or join, chat, and back to
// the menu when the peer leaves, until the user quits.
func runTerminal(ctx context.Context, o options, e env) (code int) {
	state, err := term.MakeRaw(e.stdinFd)
	if err != nil {
		fmt.Fprintf(e.stderr, "gopeer: cannot use the terminal: %v\n", err)
		return exitFailure
	}
	width, _, _ := term.GetSize(e.stdinFd)
	t := &tui{
		fd: e.stdinFd, out: e.stdout, state: state,
		ed:    newEditor(e.stdout, width),
		keys:  make(chan key, 256),
		sizes: make(chan int, 1),
		color: e.getenv("NO_COLOR") == "" && e.getenv("TERM") != "dumb",
		o:     o, e: e,
	}
	defer t.restore()
	defer func() {
		if p := recover(); p != nil {
			t.restore()
			panic(p)
		}
	}()
	io.WriteString(t.out, "\x1b[?2004h") // bracketed paste on
	t.goSafe(func() { t.readKeys(e.stdin) })
	stopResize := watchResize(func() {
		if w, _, err := term.GetSize(t.fd); err == nil {
			select {
			case t.sizes <- w:
			default:
			}
		}
	})
	defer stopResize()

	err = t.session(ctx)
	if errors.Is(err, errQuit) || errors.Is(err, context.Canceled) {
		return exitOK
	}
	if err != nil {
		t.restore()
		fmt.Fprintf(e.stderr, "gopeer: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// restore gives the terminal back as it was: paste mode off, the input
// area cleared, cooked mode. It is safe to call more than once.
func (t *tui) restore() {
	t.restoreOnce.Do(func() {
		t.ed.hide()
		io.WriteString(t.out, "\x1b[?2004l")
		_ = term.Restore(t.fd, t.state)
	})
}

// goSafe runs f in a goroutine that restores the terminal if f panics, so a
// crash never leaves the user's shell in raw mode.
func (t *tui) goSafe(f func()) {
	go func() {
		defer func() {
			if p := recover(); p != nil {
				t.restore()
				panic(p)
			}
		}()
		f()
	}()
}

// readKeys turns stdin into keys until it ends.
func (t *tui) readKeys(in io.Reader) {
	var p keyParser
	buf := make([]byte, 4096)
	for {
		n, err := in.Read(buf)
		for _, k := range p.parse(buf[:n]) {
			t.keys <- k
		}
		if err != nil {
			t.keys <- key{kind: keyEOF}
			close(t.keys)
			return
		}
	}
}

// nextKey waits for a key, handling resizes meanwhile.
func (t *tui) nextKey(ctx context.Context) (key, error) {
	for {
		select {
		case k, ok := <-t.keys:
			if !ok {
				return key{}, errQuit
			}
			return k, nil
		case w := <-t.sizes:
			t.ed.setWidth(w)
		case <-ctx.Done():
			return key{}, ctx.Err()
		}
	}
}

// session loops over the screens.
func (t *tui) session(ctx context.Context) error {
	mode := ""
	switch {
	case t.o.host:
		mode = "host"
	case t.o.join != "":
		mode = "join"
	}
	for {
		if mode == "" {
			var err error
			if mode, err = t.menu(ctx); err != nil {
				return err
			}
		}
		var link *peerLink
		var room string
		var err error
		if mode == "host" {
			link, room, err = t.host(ctx)
		} else {
			link, room, err = t.join(ctx)
		}
		mode = ""
		if errors.Is(err, errBack) {
			continue
		}
		if err != nil {
			return err
		}
		if err := t.chat(ctx, link, room); err != nil {
			return err
		}
	}
}

// errBack returns from a screen to the menu.
var errBack = errors.New("back to the menu")

// menu is the start screen: one key to host, one to join.
func (t *tui) menu(ctx context.Context) (string, error) {
	t.ed.printAbove("\r\n" + t.bold("gopeer") + " · peer-to-peer chat, end-to-end encrypted\r\n\r\n" +
		"  " + t.bold("h") + "  Host a room\r\n" +
		"  " + t.bold("j") + "  Join a room\r\n" +
		"  " + t.bold("q") + "  Quit")
	t.ed.setPrompt("Choose h, j or q: ", true)
	defer t.ed.setPrompt("", true)
	for {
		k, err := t.nextKey(ctx)
		if err != nil {
			return "", err
		}
		switch {
		case k.kind == keyRune && (k.r == 'h' || k.r == 'H'):
			return "host", nil
		case k.kind == keyRune && (k.r == 'j' || k.r == 'J'):
			return "join", nil
		case k.kind == keyRune && (k.r == 'q' || k.r == 'Q'),
			k.kind == keyEsc, k.kind == keyInterrupt, k.kind == keyEOF:
			return "", errQuit
		}
	}
}

// prompt reads one line at the given prompt; Esc or Ctrl-C go back.
func (t *tui) prompt(ctx context.Context, prompt string, hidden bool) (string, error) {
	t.ed.setPrompt(prompt, hidden)
	defer t.ed.setPrompt("", true)
	for {
		k, err := t.nextKey(ctx)
		if err != nil {
			return "", err
		}
		switch k.kind {
		case keyEsc, keyInterrupt:
			return "", errBack
		case keyEOF:
			return "", errQuit
		}
		if line, _, done := t.ed.handle(k); done {
			return line, nil
		}
	}
}

// password asks for the room password unless -password-file or
// $GOPEER_PASSWORD gave it.
func (t *tui) password(ctx context.Context) (string, error) {
	if t.o.passwordFile != "" || t.e.getenv("GOPEER_PASSWORD") != "" {
		return readPassword(t.o, env{getenv: t.e.getenv})
	}
	pw, err := t.prompt(ctx, "Password (optional, hidden): ", true)
	return strings.TrimSpace(pw), err
}

// host is the host screen.
func (t *tui) host(ctx context.Context) (*peerLink, string, error) {
	pw, err := t.password(ctx)
	if err != nil {
		return nil, "", err
	}
	code := t.o.room
	if code == "" {
		if code, err = newRoomCode(); err != nil {
			return nil, "", err
		}
	}
	link, err := t.runFlow(ctx, code, func(ctx context.Context, f *roomFlow) (*peerLink, error) {
		return f.host(ctx, code, pw, t.o.room != "")
	})
	return link, code, t.showFailure(err)
}

// join is the join screen: a wrong password returns to the code prompt.
func (t *tui) join(ctx context.Context) (*peerLink, string, error) {
	code := t.o.join
	for {
		if code == "" {
			typed, err := t.prompt(ctx, "Room code: ", false)
			if err != nil {
				return nil, "", err
			}
			if code, err = normalizeRoomCode(typed); err != nil {
				t.ed.printAbove(t.red("! " + sanitize(err.Error())))
				code = ""
				continue
			}
		}
		pw, err := t.password(ctx)
		if err != nil {
			return nil, "", err
		}
		link, err := t.runFlow(ctx, code, func(ctx context.Context, f *roomFlow) (*peerLink, error) {
			return f.join(ctx, code, pw)
		})
		var fl *failure
		if errors.As(err, &fl) && fl.kind == kindWrongPassword {
			t.ed.printAbove(t.red("! Incorrect password for room " + code + "."))
			code = ""
			continue
		}
		return link, code, t.showFailure(err)
	}
}

// showFailure prints a failed flow and goes back to the menu; a quit or an
// interrupt passes through.
func (t *tui) showFailure(err error) error {
	var fl *failure
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errQuit):
		return err
	case errors.As(err, &fl) && fl.kind == kindCancelled:
		t.ed.printAbove("Cancelled; the room is off the board.")
		return errBack
	}
	t.ed.printAbove(t.red("! " + sanitize(err.Error())))
	return errBack
}

// tuiNotes shows reports at once, for work done before the status line runs.
type tuiNotes struct{ t *tui }

func (n tuiNotes) status(msg string) { n.t.ed.printAbove(sanitize(msg)) }
func (n tuiNotes) warn(msg string)   { n.t.ed.printAbove(n.t.yellow("! " + sanitize(msg))) }
func (n tuiNotes) roomPosted(string) {}

// flowEvent is what a room flow reports to the screen.
type flowEvent struct {
	kind string // "status", "warn", "room"
	text string
}

// tuiEvents passes a flow's reports to the screen loop.
type tuiEvents chan flowEvent

func (c tuiEvents) status(msg string)      { c <- flowEvent{"status", msg} }
func (c tuiEvents) warn(msg string)        { c <- flowEvent{"warn", msg} }
func (c tuiEvents) roomPosted(code string) { c <- flowEvent{"room", code} }

// runFlow runs a host or join flow and shows its progress on a status line
// that updates in place, with a spinner and the time waited. Esc or Ctrl-C
// cancel it (the flow removes its room from the board).
func (t *tui) runFlow(ctx context.Context, code string, run func(context.Context, *roomFlow) (*peerLink, error)) (*peerLink, error) {
	board, stopBoard, err := boardFor(ctx, &t.o, tuiNotes{t})
	if err != nil {
		return nil, err
	}
	// The board (when this process serves one) is needed only until the
	// peers connect: the room is off it by then.
	defer stopBoard()
	events := make(tuiEvents)
	flow, err := newRoomFlow(board, t.o, t.e, events)
	if err != nil {
		return nil, err
	}
	fctx, cancel := context.WithTimeout(ctx, t.o.timeout)
	defer cancel()
	type result struct {
		link *peerLink
		err  error
	}
	done := make(chan result, 1)
	t.goSafe(func() {
		l, err := run(fctx, flow)
		done <- result{l, err}
	})
	keys := t.keys
	start := time.Now()
	status := "starting"
	spin := time.NewTicker(150 * time.Millisecond)
	defer spin.Stop()
	defer t.ed.setPrompt("", true)
	for frame := 0; ; frame++ {
		t.ed.setPrompt(t.statusLine(frame, status, time.Since(start)), true)
		select {
		case ev := <-events:
			switch ev.kind {
			case "status":
				status = ev.text
			case "warn":
				t.ed.printAbove(t.yellow("! " + sanitize(ev.text)))
			case "room":
				t.ed.printAbove(t.roomBanner(ev.text))
			}
		case k, ok := <-keys:
			if !ok {
				keys = nil // stdin is gone: nothing more will come
			}
			switch {
			case k.kind == keyEsc || k.kind == keyInterrupt || k.kind == keyEOF:
				cancel()
				status = "cancelling"
			case k.kind == keyRune && (k.r == 'c' || k.r == 'C'):
				t.ed.write(osc52(code))
				t.ed.printAbove("Copied " + code + " to the clipboard (if your terminal allows it).")
			}
		case w := <-t.sizes:
			t.ed.setWidth(w)
		case <-spin.C:
		case r := <-done:
			if r.err != nil && ctx.Err() == nil && errors.Is(r.err, context.Canceled) {
				r.err = &failure{kind: kindCancelled, msg: "cancelled"}
			}
			return r.link, r.err
		}
	}
}

var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (t *tui) statusLine(frame int, status string, waited time.Duration) string {
	waited = waited.Truncate(time.Second)
	return fmt.Sprintf("%s %s… %d:%02d  (Esc cancels)", spinnerFrames[frame%len(spinnerFrames)],
		status, int(waited.Minutes()), int(waited.Seconds())%60)
}

// roomBanner shows the room code and how the other person joins.
func (t *tui) roomBanner(code string) string {
	join := "gopeer -join " + code
	if t.o.db != defaultBoardURL {
		join += " -db " + boardURLForDisplay(t.o.db)
	}
	return "\r\nRoom ready! Share this code:  " + t.bold(code) + "\r\n" +
		"The other person runs:        " + join + "\r\n" +
		"Press c to copy the code to the clipboard.\r\n"
}

// osc52 asks the terminal to put text on the clipboard; it works over SSH
// and in tmux (with set-clipboard on).
func osc52(text string) string {
	return "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(text)) + "\x07"
}

// Colours, unless NO_COLOR is set or TERM=dumb.
func (t *tui) paint(code, s string) string {
	if !t.color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}
func (t *tui) bold(s string) string   { return t.paint("1", s) }
func (t *tui) dim(s string) string    { return t.paint("2", s) }
func (t *tui) red(s string) string    { return t.paint("31", s) }
func (t *tui) green(s string) string  { return t.paint("1;32", s) }
func (t *tui) yellow(s string) string { return t.paint("33", s) }
func (t *tui) cyan(s string) string   { return t.paint("1;36", s) }

// chat is the chat screen. It returns nil when the peer is gone (back to the
// menu) and errQuit when the user quits.
func (t *tui) chat(ctx context.Context, link *peerLink, room string) error {
	defer link.close()
	t.ed.printAbove(t.green("Secure P2P tunnel established.") + " Room " + room + ", " +
		link.remoteCandidateType() + " path. /help lists commands; /quit or Ctrl-D leaves.")
	t.ed.setPrompt("> ", false)
	defer t.ed.setPrompt("", true)
	for {
		select {
		case m := <-link.incoming:
			t.ed.printAbove(t.formatMessage("Peer", m))
		case k, ok := <-t.keys:
			if !ok || k.kind == keyEOF || k.kind == keyInterrupt {
				return t.leave(ctx, link)
			}
			line, pasted, done := t.ed.handle(k)
			if !done {
				continue
			}
			if err := t.submit(ctx, link, room, line, pasted); err != nil {
				return err
			}
		case w := <-t.sizes:
			t.ed.setWidth(w)
		case n := <-link.notices:
			t.ed.printAbove(t.yellow("! " + n))
		case <-link.closed:
			link.lastMessages(func(m peerMessage) { t.ed.printAbove(t.formatMessage("Peer", m)) })
			if errors.Is(link.err(), errConnectionLost) {
				t.ed.printAbove(t.red("Peer connection lost.") + " Back to the menu.")
			} else {
				t.ed.printAbove(t.yellow("The peer left the chat.") + " Back to the menu.")
			}
			return nil
		case <-ctx.Done():
			return t.leave(ctx, link)
		}
	}
}

// submit acts on a line typed in the chat: a command, or a message.
func (t *tui) submit(ctx context.Context, link *peerLink, room, line string, pasted bool) error {
	cmd, text := parseChatLine(line, pasted)
	switch cmd {
	case "":
	case "/quit", "/exit":
		return t.leave(ctx, link)
	case "/help":
		t.ed.printAbove(chatHelp)
		return nil
	case "/clear":
		t.ed.write("\x1b[H\x1b[2J")
		return nil
	case "/info":
		t.ed.printAbove(t.info(link, room))
		return nil
	default:
		t.ed.printAbove(t.yellow("! unknown command " + sanitize(cmd) + "; /help lists them, and // at the start sends a /"))
		return nil
	}
	if strings.TrimSpace(text) == "" {
		return nil
	}
	if err := link.send(ctx, text); err != nil {
		t.ed.printAbove(t.red("! not sent: " + sanitize(err.Error())))
		return nil
	}
	t.ed.printAbove(t.formatMessage("You", peerMessage{text: text}))
	return nil
}

// parseChatLine splits a typed line into a command (its first word, when it
// starts with one /) or the text to send. A pasted line is always text, and
// "//" at the start sends a single "/".
func parseChatLine(line string, pasted bool) (cmd, text string) {
	switch {
	case pasted:
		return "", line
	case strings.HasPrefix(line, "//"):
		return "", line[1:]
	case strings.HasPrefix(line, "/"):
		return strings.Fields(line + " ")[0], ""
	}
	return "", line
}

const chatHelp = `Keys:  Enter send · Ctrl-J or a trailing \ new line · Up/Down history
       Left/Right, Home/End, Ctrl-A/E, Alt-B/F move · Ctrl-U/K/W delete
       Ctrl-L redraw · Ctrl-D or Ctrl-C quit · a paste is sent as typed text
Commands:  /help  this list · /info  room, path and round trip
           /clear  clear the screen · /quit  leave`

// info describes the session for /info.
func (t *tui) info(link *peerLink, room string) string {
	rtt := "unknown"
	if d, ok := roundTrip(link); ok {
		rtt = d.Round(100 * time.Microsecond).String()
	}
	return fmt.Sprintf("Room %s · peer path: %s · round trip: %s · board: %s",
		room, link.remoteCandidateType(), rtt, boardURLForDisplay(t.o.db))
}

// formatMessage renders one message for the screen: time, who, and the
// sanitized text, its later lines indented, cut short if it is huge.
func (t *tui) formatMessage(who string, m peerMessage) string {
	stamp := t.dim(time.Now().Format("15:04"))
	label := t.green(who + ":")
	if who == "Peer" {
		label = t.cyan(who + ":")
	}
	if m.binary {
		return stamp + " " + label + " " + t.yellow(fmt.Sprintf("[%d bytes of binary data, not shown]", len(m.text)))
	}
	text, note := truncateForDisplay(m.text)
	indent := strings.Repeat(" ", len("15:04 ")+len(who)+2)
	body := strings.ReplaceAll(sanitize(text), "\n", "\n"+indent)
	if note != "" {
		body += "\n" + indent + t.yellow(note)
	}
	return stamp + " " + label + " " + body
}

// truncateForDisplay cuts a message to what fits on a screen, and says so.
func truncateForDisplay(s string) (string, string) {
	cut := s
	if len(cut) > displayMaxBytes {
		cut = cut[:displayMaxBytes]
	}
	if lines := strings.SplitAfterN(cut, "\n", displayMaxLines+1); len(lines) > displayMaxLines {
		cut = strings.Join(lines[:displayMaxLines], "")
	}
	if cut == s {
		return s, ""
	}
	return strings.ToValidUTF8(cut, ""), fmt.Sprintf("[message cut short on screen: %d bytes, %d lines in all]",
		len(s), strings.Count(s, "\n")+1)
}

// leave ends the chat at the user's request: deliver what was sent, close.
func (t *tui) leave(ctx context.Context, link *peerLink) error {
	t.ed.setPrompt("", true)
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout)
	defer cancel()
	_ = link.drain(dctx)
	link.close()
	return errQuit
}

// roundTrip is the current round-trip time on the link's selected ICE
// candidate pair, as measured by ICE's own checks.
func roundTrip(l *peerLink) (time.Duration, bool) {
	for _, st := range l.pc.GetStats() {
		pair, ok := st.(webrtc.ICECandidatePairStats)
		if ok && pair.Nominated && pair.State == webrtc.StatsICECandidatePairStateSucceeded && pair.CurrentRoundTripTime > 0 {
			return time.Duration(pair.CurrentRoundTripTime * float64(time.Second)), true
		}
	}
	return 0, false
}
