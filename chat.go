package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// readLimitedLine reads one line of at most max bytes, without its "\n". A
// longer line is consumed to its end and reported with errLineTooLong, so one
// huge line can neither exhaust memory nor desynchronise what follows.
func readLimitedLine(r *bufio.Reader, max int) (string, error) {
	chunk, err := r.ReadSlice('\n')
	if err == nil && len(chunk) <= max+1 { // the whole line was buffered: one copy
		return string(chunk[:len(chunk)-1]), nil
	}
	return readLongLine(r, chunk, err, max)
}

// readLongLine is readLimitedLine for a line that did not fit in r's buffer
// (or was cut short by an error), starting from the chunk and error of its
// first read.
func readLongLine(r *bufio.Reader, chunk []byte, err error, max int) (string, error) {
	var line []byte
	tooLong := false
	for {
		if !tooLong {
			if len(line)+len(chunk) > max+1 { // +1: the newline
				tooLong = true
				line = nil
			} else {
				line = append(line, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			chunk, err = r.ReadSlice('\n')
			continue
		}
		if err != nil && (len(line) == 0 || tooLong) {
			if tooLong && errors.Is(err, io.EOF) {
				return "", errLineTooLong
			}
			return "", err
		}
		if tooLong {
			return "", errLineTooLong
		}
		return strings.TrimSuffix(string(line), "\n"), nil
	}
}

var errLineTooLong = errors.New("line too long")

// lineChat is the chat when stdin is not a terminal: one message per stdin
// line, one received message per stdout line, status on stderr. With asJSON,
// both directions are JSON objects, so any text can travel.
type lineChat struct {
	link   *peerLink
	in     io.Reader
	out    *jsonOrText
	status func(string)
	warn   func(string)
	notice func(linkNotice) // news of the link
	echo   bool             // send every received message straight back; ignore stdin

	reported uint64 // the last id a delivered event covered
}

// inputLineMax bounds one input line: a maximal message, escaped as JSON
// with -json (six bytes for \u00XX at worst).
func (c *lineChat) inputLineMax() int {
	if c.out.json {
		return 6*c.link.rules.maxBytes + 64
	}
	return c.link.rules.maxBytes
}

// run chats until stdin ends (then what was sent is delivered first), the
// peer leaves, or ctx is done. It returns nil when the session ended normally.
func (c *lineChat) run(ctx context.Context) error {
	lines := make(chan string)
	inputDone := make(chan error, 1)
	if !c.echo {
		go c.readInput(ctx, lines, inputDone)
	}
	if c.link.mustCompare() {
		if err := c.compare(ctx, lines, inputDone); err != nil {
			c.link.close()
			return err
		}
	}
	if c.link.files != nil {
		go c.declineFiles(ctx)
	}
	for {
		select {
		case m := <-c.link.incoming:
			if !c.echo || m.binary {
				c.show(m)
				continue
			}
			if err := c.send(ctx, m.text); err != nil {
				return c.finish()
			}
		case line := <-lines:
			text, ok := c.decode(line)
			if !ok {
				continue
			}
			if err := c.send(ctx, text); err != nil {
				return c.finish()
			}
		case err := <-inputDone:
			if err != nil {
				c.warn("reading input: " + err.Error())
			}
			return c.leave(ctx)
		case n := <-c.link.notices:
			c.notice(n)
		case <-c.link.receipts.changed:
			c.reportDelivered()
		case <-c.link.closed:
			c.link.lastMessages(c.show)
			return c.finish()
		case <-ctx.Done():
			return c.leave(ctx)
		}
	}
}

// send sends one message. It returns an error only when the link is gone;
// a message the link refuses (too long) is reported and skipped.
func (c *lineChat) send(ctx context.Context, text string) error {
	err := c.link.send(ctx, text)
	if err == nil || errors.Is(err, errPeerLeft) || errors.Is(err, errConnectionLost) {
		return err
	}
	c.warn("not sent: " + err.Error())
	return nil
}

// declineFiles answers the peer's file offers (a terminal user's /send)
// with no: a chat in line mode reads stdin as messages, and gopeer
// -receive is the way to take files.
func (c *lineChat) declineFiles(ctx context.Context) {
	for {
		entries, h, err := readOffer(ctx, c.link.files.in)
		if errors.Is(err, errPeerLeft) || errors.Is(err, errConnectionLost) || ctx.Err() != nil {
			return
		}
		if err == nil {
			c.warn("the peer offered " + offerSummary(entries, h) + "; a chat in line mode takes no files (gopeer -receive CODE does)")
		}
		refuse(c.link.files.in, errors.New("the peer's gopeer is in line mode, which takes no files: ask them to run gopeer -receive"))
	}
}

// compare asks this side's user whether the peer sees the same
// verification string (-verify, on either side): the first input line
// answers, "yes" or "no" (with -json, {"same":true} or {"same":false}).
// The chat starts only when both said yes.
func (c *lineChat) compare(ctx context.Context, lines <-chan string, inputDone <-chan error) error {
	if c.echo {
		return &failure{kind: kindNotVerified, msg: "the peer asked (-verify) to compare the numbers, and -echo has nobody to ask"}
	}
	_, _, verify := c.link.protocol()
	c.out.compare(verify)
	ask := "compare " + verify + " with the peer (aloud, or in person): type yes if the peer sees the same, no if not"
	if c.out.json {
		ask = `compare ` + verify + ` with the peer: send {"same":true} if the peer sees the same, {"same":false} if not`
	}
	c.status(ask)
	ctx, cancel := context.WithTimeout(ctx, compareTimeout)
	defer cancel()
	for {
		select {
		case line := <-lines:
			same, ok := parseYesNo(line, c.out.json, "same")
			if !ok {
				c.warn("not understood; " + ask)
				continue
			}
			if same {
				c.status("waiting for the peer to compare")
			}
			if err := c.link.settleComparison(ctx, same); err != nil {
				return err
			}
			c.status("the peer sees the same number: the chat starts")
			c.out.compared()
			return nil
		case err := <-inputDone:
			if err == nil {
				err = io.EOF
			}
			return &failure{kind: kindNotVerified, msg: "the input ended before the numbers were compared", err: err,
				hint: "-verify needs an answer on the input: yes or no"}
		case <-c.link.closed:
			return &failure{kind: kindNotVerified, msg: "the peer left before the numbers were compared", err: c.link.err()}
		case <-ctx.Done():
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return ctx.Err()
			}
			return &failure{kind: kindNotVerified, msg: "nobody answered the comparison in time", err: ctx.Err(),
				hint: fmt.Sprintf("answer within %v", compareTimeout)}
		}
	}
}

// readInput sends each input line to lines.
func (c *lineChat) readInput(ctx context.Context, lines chan<- string, done chan<- error) {
	r := bufio.NewReaderSize(c.in, 64<<10)
	max := c.inputLineMax()
	for {
		line, err := readLimitedLine(r, max)
		if errors.Is(err, errLineTooLong) {
			c.warn(fmt.Sprintf("not sent: a line over %d bytes", max))
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			done <- err
			return
		}
		select {
		case lines <- line:
		case <-ctx.Done():
			return
		case <-c.link.closed:
			return
		}
	}
}

// decode turns an input line into a message. Plain empty lines are
// skipped; with -json, an empty text is refused with a warning, since a
// script asked for it.
func (c *lineChat) decode(line string) (string, bool) {
	if !c.out.json {
		return line, line != ""
	}
	text, ok := decodeTextLine(line)
	switch {
	case !ok:
		c.warn(`not sent: each input line must be a JSON object like {"text":"hello"}`)
	case text == "":
		c.warn("not sent: an empty message")
		ok = false
	}
	return text, ok
}

// show prints one received message. While more are queued behind it, it
// may stay in the output buffer: a burst goes out in few writes, and the
// last message of a burst is written at once.
func (c *lineChat) show(m peerMessage) {
	if m.binary {
		c.warn(fmt.Sprintf("the peer sent %d bytes of binary data; ignored", len(m.text)))
		return
	}
	c.out.message(m.text, len(c.link.incoming) > 0)
	c.link.acknowledge()
}

// reportDelivered emits a delivered event for each message the peer's
// latest receipt covers and no event has covered yet.
func (c *lineChat) reportDelivered() {
	for n := c.link.receipts.delivered.Load(); c.reported < n; {
		c.reported++
		c.out.delivered(c.reported)
	}
}

// leave is our side ending the session: deliver what was sent, then close.
func (c *lineChat) leave(ctx context.Context) error {
	if err := c.link.leave(ctx); err != nil {
		c.out.closed("left before everything was delivered")
		return err
	}
	c.status("you left")
	c.out.closed("you left")
	return nil
}

// finish reports the peer's side ending the session.
func (c *lineChat) finish() error {
	c.link.close()
	if err := c.link.endFailure(); err != nil {
		c.out.closed("connection lost")
		return err
	}
	c.status("the peer left the chat")
	c.out.closed("peer left")
	return nil
}

// jsonOrText writes events to stdout: JSON objects with -json, otherwise
// received messages only, sanitized, one per line.
type jsonOrText struct {
	mu      sync.Mutex
	w       io.Writer
	json    bool
	pending []byte // messages not yet written: see message
}

// outputBatch is the most message output held back while more is queued.
const outputBatch = 64 << 10

// emit writes one event, after any messages held back.
func (o *jsonOrText) emit(v map[string]any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.json {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(v)
		o.pending = append(o.pending, b.Bytes()...)
	}
	o.flushLocked()
}

// message writes a received message. With more (others are queued right
// behind it) it may hold the line back, up to outputBatch, to write a burst
// at once; the next message without more, or any event, writes it.
func (o *jsonOrText) message(text string, more bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.json {
		o.pending = appendMessageEvent(o.pending, text)
	} else {
		o.pending = append(append(o.pending, sanitize(text)...), '\n')
	}
	if !more || len(o.pending) >= outputBatch {
		o.flushLocked()
	}
}

func (o *jsonOrText) flushLocked() {
	if len(o.pending) == 0 {
		return
	}
	_, _ = o.w.Write(o.pending)
	if cap(o.pending) > 4*outputBatch { // one huge message: don't keep its buffer
		o.pending = nil
		return
	}
	o.pending = o.pending[:0]
}

// room announces a posted room: "code" is what a gopeer joins with,
// "room" what a pypeer user types, "web" (when the board serves the web
// client) what a browser opens.
func (o *jsonOrText) room(code joinCode, db, web string) {
	ev := map[string]any{"event": "room", "room": code.room, "code": code.String(), "db": db}
	if web != "" {
		ev["web"] = web
	}
	o.emit(ev)
}

// connected says the chat is up, and what protects it: "protocol" is
// "gopeer" (confirmed with the code's secret part) or "pypeer"; "verify"
// is the string both people may compare, in a gopeer session.
func (o *jsonOrText) connected(link *peerLink) {
	protocol, verified, verify := link.protocol()
	ev := map[string]any{"event": "connected", "protocol": protocol, "verified": verified}
	if verify != "" {
		ev["verify"] = verify
	}
	o.emit(ev)
}

// compare asks for the comparison of the verification string (-verify);
// compared says both people saw the same, and the chat starts.
func (o *jsonOrText) compare(verify string) {
	o.emit(map[string]any{"event": "compare", "verify": verify})
}
func (o *jsonOrText) compared() {
	o.emit(map[string]any{"event": "compared"})
}

// delivered says the peer's gopeer showed this side's id-th message (ids
// count from 1 in the order sent); -json only.
func (o *jsonOrText) delivered(id uint64) {
	o.emit(map[string]any{"event": "delivered", "id": id})
}
func (o *jsonOrText) closed(reason string) {
	o.emit(map[string]any{"event": "closed", "reason": reason})
}
func (o *jsonOrText) warning(msg string) {
	o.emit(map[string]any{"event": "warning", "message": msg})
}
func (o *jsonOrText) failed(f *failure) {
	ev := map[string]any{"event": "error", "kind": f.kind, "message": f.msg}
	if f.hint != "" {
		ev["hint"] = f.hint
	}
	o.emit(ev)
}

// lineUI is line mode's screen: progress, warnings and errors on stderr,
// and with -json the events on stdout.
type lineUI struct {
	mu  sync.Mutex
	e   env
	cfg config
	out *jsonOrText
}

func newLineUI(e env, cfg config) *lineUI {
	return &lineUI{e: e, cfg: cfg, out: &jsonOrText{w: e.stdout, json: cfg.json}}
}

// session hosts or joins the room the config names, then chats until one
// side leaves.
func (u *lineUI) session(ctx context.Context) error {
	password, err := readPassword(u.cfg, u.e.getenv)
	if err != nil {
		return err
	}
	var offer *outgoing
	if u.cfg.mode == modeSend {
		// Hashed before the room opens: the receiver's wait starts with
		// the files ready to go.
		if offer, err = u.prepareOffer(); err != nil {
			return err
		}
	}
	s := u.cfg.mode.side()
	m, err := chooseBoard(ctx, u.cfg, s, u, nil)
	if err != nil {
		return err
	}
	flow := newRoomFlow(m, u.cfg, u.e, lineEvents{ui: u, joinCommand: func(code string) string {
		return u.cfg.joinCommand(code, m.url)
	}, boardURL: m.url, password: kindOfPassword(password)})
	link, err := u.connect(ctx, flow, s, password)
	// The board (when this process serves one) is needed only until the
	// peers connect: the room is off it by then.
	m.stop()
	if err != nil {
		return err
	}
	u.status("connected, " + pathDescription(link.remoteCandidateType()) + "; " + sessionDescription(link))
	u.out.connected(link)
	chat := &lineChat{link: link, in: u.e.stdin, out: u.out, status: u.status, warn: u.warn, notice: u.notice, echo: u.cfg.echo}
	if u.cfg.mode == modeSend || u.cfg.mode == modeReceive {
		return u.transfer(ctx, chat, offer)
	}
	return chat.run(ctx)
}

// connect runs the host or the join flow, within -timeout.
func (u *lineUI) connect(ctx context.Context, flow *roomFlow, s side, password string) (*peerLink, error) {
	ctx, cancel := context.WithTimeout(ctx, u.cfg.timeout)
	defer cancel()
	if s == joinSide {
		return flow.join(ctx, u.cfg.room, password)
	}
	code := u.cfg.room
	if code == "" {
		var err error
		if code, err = newRoomCode(); err != nil {
			return nil, err
		}
	}
	return flow.host(ctx, code, password, u.cfg.room != "")
}

func (u *lineUI) status(msg string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	fmt.Fprintf(u.e.stderr, "gopeer: %s\n", sanitizeLine(msg))
}

// notice shows news of the link: a warning, or a restart's start and end
// (on stderr, and as their own -json events).
func (u *lineUI) notice(n linkNotice) {
	if n.event == noticeWarning {
		u.warn(n.text)
		return
	}
	u.status(n.text)
	u.out.emit(map[string]any{"event": n.event, "message": n.text})
}

func (u *lineUI) warn(msg string) {
	u.mu.Lock()
	fmt.Fprintf(u.e.stderr, "gopeer: warning: %s\n", sanitizeLine(msg))
	u.mu.Unlock()
	u.out.warning(msg)
}

// lineEvents are what one flow reports in line mode: the UI's, and the
// room's announcement, which needs the flow's board.
type lineEvents struct {
	ui          *lineUI
	joinCommand func(code string) string
	boardURL    string
	password    passwordKind
}

func (ev lineEvents) status(msg string)    { ev.ui.status(msg) }
func (ev lineEvents) warn(msg string)      { ev.ui.warn(msg) }
func (ev lineEvents) wrongKey(code string) { ev.ui.warn(wrongKeyNote(code) + " until -timeout") }
func (ev lineEvents) roomPosted(code, web string) {
	jc, _ := parseJoinCode(code)
	ev.ui.status("room " + jc.room + " is ready; the other person runs: " + ev.joinCommand(code))
	if web != "" {
		ev.ui.status("or opens, in a browser: " + web)
	}
	if jc.secret != "" {
		ev.ui.status(pypeerWayNote(jc.room))
	}
	ev.ui.status(passwordNote(ev.password))
	ev.ui.out.room(jc, boardURLForDisplay(ev.boardURL), web)
}
