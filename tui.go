package main

// This file is the interactive terminal session: pypeer's four screens
// (start, host, join, chat) in gopeer's line mode, in raw mode from the first
// key to the last, with the terminal restored on every way out.
//
// Plain gopeer is the menu: it hosts or joins, chats, and comes back to the
// menu until the user quits. gopeer -host and gopeer -join CODE do their one
// task and exit with line mode's statuses: 0 when the chat ends, 130 when
// the user cancels (Esc or Ctrl-C), and a failure's own status otherwise.

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
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
	sizes chan termSize // the new size after a resize
	color bool
	cfg   config
	e     env
	// boards carries every request to a board in this run, so that the
	// connection warmBoard opens while the user types is the flow's.
	boards *http.Client

	restoreOnce sync.Once
	state       *term.State
}

// termSize is the terminal's size, in columns and rows.
type termSize struct{ width, height int }

// resize takes a new terminal size.
func (t *tui) resize(sz termSize) {
	t.ed.setHeight(sz.height)
	t.ed.setWidth(sz.width)
}

// How a screen ends, besides a failure.
var (
	errQuit = errors.New("quit")             // the user quit gopeer, or left the chat
	errBack = errors.New("back to the menu") // Esc or Ctrl-C at a prompt
)

// runTerminal is gopeer on a terminal.
func runTerminal(ctx context.Context, cfg config, e env) int {
	state, err := term.MakeRaw(e.stdinFd)
	if err != nil {
		printFailure(e.stderr, &failure{kind: kindUsage, msg: "cannot use the terminal: " + err.Error(), err: err,
			hint: "run gopeer in a terminal, or give it a pipe for line mode"})
		return exitFailure
	}
	width, height, _ := term.GetSize(e.stdinFd)
	t := &tui{
		fd: e.stdinFd, out: e.stdout, state: state,
		ed:    newEditor(e.stdout, width),
		keys:  make(chan key, 256),
		sizes: make(chan termSize, 1),
		color: e.getenv("NO_COLOR") == "" && e.getenv("TERM") != "dumb",
		cfg:   cfg, e: e,
		boards: clientHTTP(),
	}
	t.ed.setHeight(height)
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
		if w, h, err := term.GetSize(t.fd); err == nil {
			// The newest size wins: drop one not yet taken.
			select {
			case <-t.sizes:
			default:
			}
			t.sizes <- termSize{w, h}
		}
	})
	defer stopResize()

	err = t.session(ctx)
	t.restore()
	return t.exit(err)
}

// exit turns how a session ended into the exit status, printing a failure
// once the terminal is back to normal.
func (t *tui) exit(err error) int {
	var f *failure
	switch {
	case errors.As(err, &f):
	case err == nil, errors.Is(err, errQuit):
		return exitOK
	case errors.Is(err, errBack), errors.Is(err, context.Canceled):
		f = &failure{kind: kindCancelled, msg: "cancelled", err: err}
	default:
		f = asFailure(err)
	}
	printFailure(t.e.stderr, f)
	return exitStatus(f.kind)
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
		case sz := <-t.sizes:
			t.resize(sz)
		case <-ctx.Done():
			return key{}, ctx.Err()
		}
	}
}

// session is the whole interactive run: one task for -host or -join, the
// menu again and again for plain gopeer.
func (t *tui) session(ctx context.Context) error {
	if t.cfg.mode != modeMenu {
		return t.task(ctx, t.cfg.mode)
	}
	for {
		m, err := t.menu(ctx)
		if err != nil {
			return err
		}
		err = t.task(ctx, m)
		switch {
		case err == nil, errors.Is(err, errBack):
		case errors.Is(err, errQuit), ctx.Err() != nil:
			return err
		default:
			t.showFailure(err)
		}
	}
}

// task hosts or joins a room, then chats. It returns nil when the peer
// left, errQuit when the user did, and a failure otherwise.
func (t *tui) task(ctx context.Context, m mode) error {
	var (
		link *peerLink
		room string
		url  string
		err  error
	)
	if m == modeHost {
		link, room, url, err = t.host(ctx)
	} else {
		link, room, url, err = t.join(ctx)
	}
	if err != nil {
		return err
	}
	if link.mustCompare() {
		if err := t.compare(ctx, link); err != nil {
			link.close()
			return err
		}
	}
	return t.chat(ctx, link, room, url)
}

// compare has both people compare the verification string before the chat
// starts (-verify, on either side). Nothing from the peer is shown until
// both said it is the same.
func (t *tui) compare(ctx context.Context, link *peerLink) error {
	ctx, cancel := context.WithTimeout(ctx, compareTimeout)
	defer cancel()
	defer t.ed.setPrompt("", true)
	_, _, verify := link.protocol()
	t.ed.printAbove("Connected; before the chat starts, compare this number with the peer, aloud or in person: " + t.bold(verify))
	t.ed.setPrompt("Does the peer see the same number? (y/n) ", true)
	// Once the answer is given, settleComparison watches the link and
	// the time; until then, this loop does.
	var settled chan error
	closed, expired := link.closed, ctx.Done()
	for {
		select {
		case k, ok := <-t.keys:
			switch {
			case !ok, k.kind == keyEsc, k.kind == keyInterrupt, k.kind == keyEOF:
				return errBack
			case settled != nil || k.kind != keyRune:
			case k.r == 'y' || k.r == 'Y', k.r == 'n' || k.r == 'N':
				same := k.r == 'y' || k.r == 'Y'
				settled, closed, expired = make(chan error, 1), nil, nil
				t.goSafe(func() { settled <- link.settleComparison(ctx, same) })
				t.ed.setPrompt("Waiting for the peer to compare… (Esc cancels)", true)
			}
		case err := <-settled:
			if err != nil {
				return err
			}
			t.ed.printAbove(t.green("The peer sees the same number."))
			return nil
		case <-closed:
			return &failure{kind: kindNotVerified, msg: "the peer left before the numbers were compared", err: link.err()}
		case sz := <-t.sizes:
			t.resize(sz)
		case <-expired:
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return ctx.Err()
			}
			return &failure{kind: kindNotVerified, msg: "nobody answered the comparison in time", err: ctx.Err()}
		}
	}
}

// menu is the start screen: one key to host, one to join.
func (t *tui) menu(ctx context.Context) (mode, error) {
	t.ed.printAbove("\r\n" + t.bold("gopeer") + " · peer-to-peer chat, end-to-end encrypted\r\n\r\n" +
		"  " + t.bold("h") + "  Host a room\r\n" +
		"  " + t.bold("j") + "  Join a room\r\n" +
		"  " + t.bold("q") + "  Quit")
	t.ed.setPrompt("Choose h, j or q: ", true)
	defer t.ed.setPrompt("", true)
	for {
		k, err := t.nextKey(ctx)
		if err != nil {
			return modeMenu, err
		}
		switch {
		case k.kind == keyRune && (k.r == 'h' || k.r == 'H'):
			return modeHost, nil
		case k.kind == keyRune && (k.r == 'j' || k.r == 'J'):
			return modeJoin, nil
		case k.kind == keyRune && (k.r == 'q' || k.r == 'Q'),
			k.kind == keyEsc, k.kind == keyInterrupt, k.kind == keyEOF:
			return modeMenu, errQuit
		}
	}
}

// prompt reads one line at the given prompt; Esc or Ctrl-C go back (for
// -host and -join, that cancels), and Ctrl-D on an empty line quits the
// menu, or cancels the one task.
func (t *tui) prompt(ctx context.Context, prompt string, hidden bool) (string, error) {
	t.ed.setPrompt(prompt, hidden)
	defer t.ed.setPrompt("", true)
	for {
		k, err := t.nextKey(ctx)
		if err != nil {
			return "", err
		}
		switch {
		case k.kind == keyEsc, k.kind == keyInterrupt:
			return "", errBack
		case k.kind == keyEOF && t.ed.empty() && t.cfg.mode == modeMenu:
			return "", errQuit
		case k.kind == keyEOF && t.ed.empty():
			return "", errBack
		}
		ed := t.ed.handle(k)
		if ed.refused != "" {
			t.ed.printAbove(t.yellow("! " + sentence(ed.refused)))
		}
		if ed.done {
			return ed.line, nil
		}
	}
}

// password asks for the room password unless -password-file or
// $GOPEER_PASSWORD gave it.
func (t *tui) password(ctx context.Context) (string, error) {
	if passwordGiven(t.cfg, t.e.getenv) {
		return readPassword(t.cfg, t.e.getenv)
	}
	pw, err := t.prompt(ctx, "Password (optional, hidden): ", true)
	return strings.TrimSpace(pw), err
}

// host is the host screen.
func (t *tui) host(ctx context.Context) (*peerLink, string, string, error) {
	warmBoard(ctx, t.cfg, t.boards) // while the password is typed
	pw, err := t.password(ctx)
	if err != nil {
		return nil, "", "", err
	}
	code := t.cfg.room
	if code == "" {
		if code, err = newRoomCode(); err != nil {
			return nil, "", "", err
		}
	}
	link, url, err := t.runFlow(ctx, hostSide, code, kindOfPassword(pw), func(ctx context.Context, f *roomFlow) (*peerLink, error) {
		return f.host(ctx, code, pw, t.cfg.room != "")
	})
	return link, code, url, err
}

// join is the join screen. A wrong password asks again: for the code too
// from the menu, as pypeer's join screen does, for the password alone when
// the code came with -join; a password given by file or environment cannot
// be asked again, so it fails.
func (t *tui) join(ctx context.Context) (*peerLink, string, string, error) {
	warmBoard(ctx, t.cfg, t.boards) // while the code and password are typed
	code := t.cfg.room
	for {
		if code == "" {
			typed, err := t.prompt(ctx, "Room code: ", false)
			if err != nil {
				return nil, "", "", err
			}
			jc, err := parseJoinCode(typed)
			if err == nil && t.cfg.verify && jc.secret == "" {
				err = errCompareNeedsGopeerCode
			}
			if err != nil {
				t.ed.printAbove(t.red("! " + capitalize(sanitize(failureMessage(err)))))
				continue
			}
			code = jc.String()
		}
		pw, err := t.password(ctx)
		if err != nil {
			return nil, "", "", err
		}
		link, url, err := t.runFlow(ctx, joinSide, code, kindOfPassword(pw), func(ctx context.Context, f *roomFlow) (*peerLink, error) {
			return f.join(ctx, code, pw)
		})
		if errors.Is(err, errRetype) {
			continue // the same code, a new password
		}
		var fl *failure
		if errors.Is(err, errNotConfirmed) && t.cfg.mode == modeMenu {
			// The password opened the offer; the code's secret part did
			// not match, or someone sat in the middle: that attempt is
			// spent, and only the code can be wrong. (With -join, the
			// failure is printed as any other.)
			t.ed.printAbove(t.red("! "+capitalize(sanitize(failureMessage(err)))+".") + " " + t.dim("Check the whole code with the host, character by character."))
			code = ""
			continue
		}
		if errors.As(err, &fl) && fl.kind == kindWrongPassword && !passwordGiven(t.cfg, t.e.getenv) {
			t.ed.printAbove(t.red("! Incorrect password for room "+code+".") + " " + t.dim("Check it, and the code, with the host."))
			if t.cfg.mode == modeMenu {
				code = ""
			}
			continue
		}
		return link, code, url, err
	}
}

// showFailure prints a failed task on the screen, for the menu to carry on.
func (t *tui) showFailure(err error) {
	f := asFailure(err)
	if f.kind == kindCancelled {
		t.ed.printAbove(sentence(f.msg))
		return
	}
	t.ed.printAbove(t.red("! " + sentence(sanitizeLine(f.msg))))
	if f.hint != "" {
		t.ed.printAbove("  " + sentence(sanitizeLine(f.hint)))
	}
}

// sentence capitalizes a message and ends it with a period, for the
// screen; messages themselves follow the UI rules (failure.go).
func sentence(s string) string {
	if s == "" {
		return s
	}
	return capitalize(s) + "."
}

// capitalize starts a message with a capital letter, for the screen; a
// warning gets no period, as it may end with a URL to copy.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// tuiNotes shows reports at once, for work done before the status line runs.
type tuiNotes struct{ t *tui }

func (n tuiNotes) status(msg string) { n.t.ed.printAbove(sanitize(msg)) }
func (n tuiNotes) warn(msg string)   { n.t.ed.printAbove(n.t.yellow("! " + capitalize(sanitize(msg)))) }

// flowEvent is what a room flow reports to the screen.
type flowEvent struct {
	kind string // "status", "warn", "room", "web", "wrongkey"
	text string
}

// errRetype is the user asking to type the password again, after a
// room's offer did not open with it.
var errRetype = errors.New("type the password again")

// tuiEvents passes a flow's reports to the screen loop.
type tuiEvents chan flowEvent

func (c tuiEvents) status(msg string) { c <- flowEvent{"status", msg} }
func (c tuiEvents) warn(msg string)   { c <- flowEvent{"warn", msg} }
func (c tuiEvents) roomPosted(code, web string) {
	c <- flowEvent{"room", code}
	if web != "" {
		c <- flowEvent{"web", web}
	}
}
func (c tuiEvents) wrongKey(code string) { c <- flowEvent{"wrongkey", code} }

// runFlow runs a host or join flow on a board chosen for it, and shows its
// progress on a status line that updates in place, with a spinner and the
// time waited. Esc or Ctrl-C cancel it (the flow removes what it posted).
// It returns the link and the board's URL.
func (t *tui) runFlow(ctx context.Context, s side, code string, password passwordKind, run func(context.Context, *roomFlow) (*peerLink, error)) (*peerLink, string, error) {
	m, err := chooseBoard(ctx, t.cfg, s, tuiNotes{t}, t.boards)
	if err != nil {
		return nil, "", err
	}
	// The board (when this process serves one) is needed only until the
	// peers connect: the room is off it by then.
	defer m.stop()
	events := make(tuiEvents)
	flow := newRoomFlow(m, t.cfg, t.e, events)
	fctx, cancel := context.WithTimeout(ctx, t.cfg.timeout)
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
	retype := false   // the offer did not open: p types the password again
	share := code     // what c copies: the room code, then the gopeer code once posted
	retyping := false // p was pressed: the flow is ending for that
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
				t.ed.printAbove(t.yellow("! " + capitalize(sanitize(ev.text))))
			case "room":
				share = ev.text // the gopeer code, for c
				t.ed.printAbove(t.roomBanner(ev.text, m.url, password))
			case "web":
				t.ed.printAbove("Or open, in a browser: " + t.bold(sanitize(ev.text)))
			case "wrongkey":
				note := t.yellow("! " + capitalize(wrongKeyNote(ev.text)) + ".")
				if !passwordGiven(t.cfg, t.e.getenv) {
					retype = true
					note += " Press p to type the password again."
				}
				t.ed.printAbove(note)
			}
		case k, ok := <-keys:
			if !ok {
				keys = nil // stdin is gone: nothing more will come
			}
			switch {
			case k.kind == keyEsc || k.kind == keyInterrupt || k.kind == keyEOF:
				cancel()
				status = "cancelling"
			case k.kind == keyRune && (k.r == 'c' || k.r == 'C') && s == hostSide:
				t.ed.write(osc52(share))
				t.ed.printAbove("Copied " + share + " to the clipboard (if your terminal allows it).")
			case k.kind == keyRune && (k.r == 'p' || k.r == 'P') && retype:
				cancel() // the flow's end says what it removed; then the prompt
				retyping = true
				status = "cancelling"
			}
		case sz := <-t.sizes:
			t.resize(sz)
		case <-spin.C:
		case r := <-done:
			if retyping && r.err != nil {
				return nil, m.url, errRetype
			}
			return r.link, m.url, r.err
		}
	}
}

var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

func (t *tui) statusLine(frame int, status string, waited time.Duration) string {
	waited = waited.Truncate(time.Second)
	return fmt.Sprintf("%s %s… %d:%02d  (Esc cancels)", spinnerFrames[frame%len(spinnerFrames)],
		sanitizeLine(status), int(waited.Minutes()), int(waited.Seconds())%60)
}

// roomBanner shows the room code, how the other person joins, and what the
// password (or its lack) means.
func (t *tui) roomBanner(code, boardURL string, password passwordKind) string {
	jc, _ := parseJoinCode(code)
	pypeerWay := ""
	if jc.secret != "" {
		pypeerWay = t.dim(sentence(pypeerWayNote(jc.room))) + "\r\n"
	}
	return "\r\nRoom ready! Share this code:  " + t.bold(code) + "\r\n" +
		"The other person runs:        " + sanitizeLine(t.cfg.joinCommand(code, boardURL)) + "\r\n" +
		pypeerWay +
		sentence(passwordNote(password)) + "\r\n" +
		"Press c to copy the code to the clipboard.\r\n"
}

// failureMessage is the message of the failure err carries, or err's own.
func failureMessage(err error) string {
	if fl, ok := errors.AsType[*failure](err); ok {
		return fl.msg
	}
	return err.Error()
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

// chat is the chat screen. It returns nil when the peer left, errQuit when
// the user left, and a failure when the connection was lost.
func (t *tui) chat(ctx context.Context, link *peerLink, room, boardURL string) error {
	defer link.close()
	t.ed.printAbove(t.green("Secure P2P tunnel established.") + " Room " + room + ", " +
		pathDescription(link.remoteCandidateType()) + "; " + sessionDescription(link) + ". /help lists commands; /quit or Ctrl-D leaves.")
	t.ed.setLimit(link.rules.maxBytes)
	t.ed.setPrompt("> ", false)
	defer t.ed.setPrompt("", true)
	lastRefused := "" // said once, not for every key typed into a full draft
	marks := &deliveryMarks{}
	fctx, endFiles := context.WithCancel(ctx)
	files := t.startFiles(fctx, link)
	defer func() {
		endFiles()
		files.stop()
		t.ed.setStatus("")
	}()
	for {
		select {
		case ev := <-files.events:
			files.handle(ev)
		case <-link.receipts.changed:
			marks.deliver(link.receipts.delivered.Load(), func(p place) { t.ed.mark(p, t.green(deliveredMark)) })
		case m := <-link.incoming:
			t.ed.printAbove(t.formatMessage("Peer", m))
			if !m.binary {
				link.acknowledge()
			}
		case k, ok := <-t.keys:
			if !ok || k.kind == keyInterrupt || (k.kind == keyEOF && t.ed.empty()) {
				return t.leave(ctx, link)
			}
			if k.kind == keyTab && files.complete(k) {
				continue
			}
			ed := t.ed.handle(k)
			if ed.refused != "" && ed.refused != lastRefused {
				t.ed.printAbove(t.yellow("! " + sentence(ed.refused)))
			}
			lastRefused = ed.refused
			if !ed.done {
				continue
			}
			if err := t.submit(ctx, link, marks, files, room, boardURL, ed.line, ed.pasted); err != nil {
				return err
			}
		case sz := <-t.sizes:
			t.resize(sz)
		case n := <-link.notices:
			t.ed.printAbove(t.linkNotice(n))
		case <-link.closed:
			return t.peerGone(link)
		case <-ctx.Done():
			return t.leave(ctx, link)
		}
	}
}

// linkNotice is how news of the link reads: a warning or a lost path in
// yellow, a restored one in green.
func (t *tui) linkNotice(n linkNotice) string {
	if n.event == noticeReconnected {
		return t.green(capitalize(sanitize(n.text)) + ".")
	}
	return t.yellow("! " + capitalize(sanitize(n.text)))
}

// peerGone shows the end of a chat the peer's side ended: what the peer
// sent before it left, then why it ended.
func (t *tui) peerGone(link *peerLink) error {
	link.lastMessages(func(m peerMessage) { t.ed.printAbove(t.formatMessage("Peer", m)) })
	then := ""
	if t.cfg.mode == modeMenu {
		then = " Back to the menu."
	}
	if err := link.endFailure(); err != nil {
		t.ed.printAbove(t.red("Peer connection lost.") + then)
		if t.cfg.mode == modeMenu {
			return nil
		}
		return err
	}
	t.ed.printAbove(t.yellow("The peer left the chat.") + then)
	return nil
}

// submit acts on a line typed in the chat: a command, or a message.
func (t *tui) submit(ctx context.Context, link *peerLink, marks *deliveryMarks, files *tuiFiles, room, boardURL, line string, pasted bool) error {
	if !pasted && files.takesAnswer(line) {
		return nil
	}
	cmd, text := parseChatLine(line, pasted)
	switch cmd {
	case "/send":
		files.send(strings.TrimSpace(strings.TrimPrefix(line, "/send")))
		return nil
	case "/cancel":
		files.cancel()
		return nil
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
		t.ed.printAbove(t.info(link, room, boardURL))
		return nil
	case "/verify":
		t.ed.printAbove(verifyNote(link))
		return nil
	default:
		t.ed.printAbove(t.yellow("! Unknown command " + sanitize(cmd) + "; /help lists them, and // at the start sends a /"))
		return nil
	}
	if strings.TrimSpace(text) == "" {
		return nil
	}
	if err := link.send(ctx, text); err != nil {
		t.ed.printAbove(t.red("! Not sent: " + sanitize(err.Error())))
		return nil
	}
	at := t.ed.printAboveAt(t.formatMessage("You", peerMessage{text: text}))
	if protocol, _, _ := link.protocol(); protocol == "gopeer" {
		// This goroutine is the session's only sender: the count is
		// this message's id.
		marks.add(link.receipts.sent.Load(), at)
	}
	return nil
}

// deliveredMark follows a message of this side's once the peer's gopeer
// has shown it (a receipt, in a gopeer session).
const deliveredMark = "✓"

// deliveryMarks are the messages sent and not yet marked delivered, by
// id, with where each mark goes.
type deliveryMarks struct {
	pending []pendingMark
}

type pendingMark struct {
	id uint64
	at place
}

// deliveryMarksMax bounds the messages waiting for a receipt: one that
// far back has scrolled off any screen, and a peer that never sends
// receipts must not make the list grow.
const deliveryMarksMax = 512

func (d *deliveryMarks) add(id uint64, at place) {
	if len(d.pending) == deliveryMarksMax {
		d.pending = d.pending[1:]
	}
	d.pending = append(d.pending, pendingMark{id, at})
}

// deliver marks every message up to id delivered (receipts are
// cumulative).
func (d *deliveryMarks) deliver(id uint64, mark func(place)) {
	n := 0
	for n < len(d.pending) && d.pending[n].id <= id {
		mark(d.pending[n].at)
		n++
	}
	d.pending = d.pending[n:]
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
       Ctrl-L redraw · Ctrl-D delete, or leave on an empty line · Ctrl-C leave
       A paste is sent as typed text, never as a command
Commands:  /help  this list · /info  room, protocol, path and round trip
           /verify  the number to compare with the peer (gopeer sessions)
           /send PATH  offer a file or folder (Tab completes) · /cancel  stop a transfer
           /clear  clear the screen · /quit  leave`

// info describes the session for /info.
func (t *tui) info(link *peerLink, room, boardURL string) string {
	rtt := "unknown"
	if d, ok := roundTrip(link); ok {
		rtt = d.Round(100 * time.Microsecond).String()
	}
	kind := link.remoteCandidateType()
	protocol, verified, _ := link.protocol()
	confirmed := "unconfirmed"
	if verified {
		confirmed = "confirmed with the code"
	}
	return fmt.Sprintf("Room %s · %s protocol, %s · path: %s (%s) · round trip: %s · board: %s",
		room, protocol, confirmed, pathDescription(kind), kind, rtt, boardURLForDisplay(boardURL))
}

// formatMessage renders one message for the screen: time, who, and the
// sanitized text, wrapped to the screen with every line aligned under the
// first, and cut short if it is huge.
func (t *tui) formatMessage(who string, m peerMessage) string {
	stamp := time.Now().Format("15:04")
	label := t.green(who + ":")
	if who == "Peer" {
		label = t.cyan(who + ":")
	}
	prefix := t.dim(stamp) + " " + label + " "
	indent := textWidth(stamp + " " + who + ": ")
	if m.binary {
		return prefix + t.yellow(fmt.Sprintf("[%d bytes of binary data, not shown]", len(m.text)))
	}
	text, note := truncateForDisplay(m.text)
	width := t.ed.columns() - indent
	if who == "You" {
		width -= 2 // room for the delivered mark: a space and a ✓
	}
	lines := wrapText(sanitize(text), width)
	if note != "" {
		lines = append(lines, t.yellow(note))
	}
	return prefix + strings.Join(lines, "\n"+strings.Repeat(" ", indent))
}

// wrapText breaks text into lines of at most width columns: at its own
// newlines, then at the last space that fits, or between two grapheme
// clusters for a word longer than a line, never inside one (an emoji is
// never split). A width too narrow to read is left to the terminal.
func wrapText(text string, width int) []string {
	if width < 10 {
		return strings.Split(text, "\n")
	}
	var out []string
	for line := range strings.SplitSeq(text, "\n") {
		out = append(out, wrapLine(line, width)...)
	}
	return out
}

// wrapLine wraps one line of text; see wrapText.
func wrapLine(line string, width int) []string {
	var out []string
	for textWidth(line) > width {
		cut, lastSpace, col := 0, -1, 0
		for cut < len(line) {
			n := graphemeLenString(line[cut:])
			w := graphemeWidthString(line[cut : cut+n])
			if col+w > width {
				break
			}
			if line[cut] == ' ' {
				lastSpace = cut
			}
			cut, col = cut+n, col+w
		}
		if cut == 0 { // a cluster wider than the line: it goes alone
			cut = graphemeLenString(line)
		}
		if lastSpace > 0 && cut < len(line) && line[cut] != ' ' {
			out = append(out, line[:lastSpace])
			line = line[lastSpace+1:]
			continue
		}
		out = append(out, line[:cut])
		line = strings.TrimPrefix(line[cut:], " ")
	}
	return append(out, line)
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

// leave ends the chat at the user's request: deliver what was sent, close,
// and quit. A failure to deliver ends gopeer as it does line mode.
func (t *tui) leave(ctx context.Context, link *peerLink) error {
	t.ed.setPrompt("", true)
	if err := link.leave(ctx); err != nil {
		return errors.Join(errQuit, err)
	}
	t.ed.printAbove("You left.")
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
