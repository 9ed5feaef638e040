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
	"unicode"
	"unicode/utf8"
)

// sanitize makes text from the peer safe to print on a terminal. Nothing it
// returns is interpreted by a terminal: C0 controls and DEL become their
// Unicode control pictures (ESC shows as ␛), C1 controls and bidirectional
// overrides become <U+XXXX>, invalid UTF-8 becomes U+FFFD. Newlines stay; a
// tab becomes four spaces; a CR before a newline is dropped.
func sanitize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\n':
			b.WriteByte('\n')
		case r == '\t':
			b.WriteString("    ")
		case r == '\r' && i < len(s) && s[i] == '\n':
			// a Windows line ending: the newline that follows is enough
		case r < 0x20:
			b.WriteRune(0x2400 + r)
		case r == 0x7f:
			b.WriteRune('\u2421')
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		case unicode.Is(unicode.Cc, r) || isBidiControl(r):
			fmt.Fprintf(&b, "<U+%04X>", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isBidiControl reports the invisible characters that reorder text, with
// which a peer could make a message read differently from what it says.
func isBidiControl(r rune) bool {
	switch {
	case r == 0x061c, r == 0x200e, r == 0x200f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

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
	echo   bool // send every received message straight back; ignore stdin
}

// jsonLineMax bounds one -json input line: a maximal message escaped as JSON.
const jsonLineMax = 6*maxMessageBytes + 64

// run chats until stdin ends (then what was sent is delivered first), the
// peer leaves, or ctx is done. It returns nil when the session ended normally.
func (c *lineChat) run(ctx context.Context) error {
	lines := make(chan string)
	inputDone := make(chan error, 1)
	if !c.echo {
		go c.readInput(ctx, lines, inputDone)
	}
	for {
		select {
		case m := <-c.link.incoming:
			if !c.echo || m.binary {
				c.show(m)
				continue
			}
			if err := c.send(ctx, m.text); err != nil {
				return c.finish(err)
			}
		case text := <-lines:
			if err := c.send(ctx, text); err != nil {
				return c.finish(err)
			}
		case err := <-inputDone:
			if err != nil {
				c.warn("reading input: " + err.Error())
			}
			return c.leave(ctx)
		case n := <-c.link.notices:
			c.warn(n)
		case <-c.link.closed:
			c.link.lastMessages(c.show)
			return c.finish(c.link.err())
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

// readInput sends each input line (decoded, with -json) to lines.
func (c *lineChat) readInput(ctx context.Context, lines chan<- string, done chan<- error) {
	r := bufio.NewReaderSize(c.in, 64<<10)
	max := maxMessageBytes
	if c.out.json {
		max = jsonLineMax
	}
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
		text, ok := c.decode(line)
		if !ok {
			continue
		}
		select {
		case lines <- text:
		case <-ctx.Done():
			return
		case <-c.link.closed:
			return
		}
	}
}

// decode turns an input line into a message. Plain empty lines are skipped.
func (c *lineChat) decode(line string) (string, bool) {
	if !c.out.json {
		return line, line != ""
	}
	text, ok := decodeTextLine(line)
	if !ok {
		c.warn(`not sent: each input line must be a JSON object like {"text":"hello"}`)
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
}

// leave is our side ending the session: deliver what was sent, then close.
func (c *lineChat) leave(ctx context.Context) error {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout)
	defer cancel()
	err := c.link.drain(dctx)
	c.link.close()
	if err != nil && !errors.Is(err, errPeerLeft) {
		c.out.closed("left before everything was delivered")
		return &failure{kind: kindConnection, msg: "some messages may not have been delivered: " + err.Error(), err: err}
	}
	c.out.closed("you left")
	return nil
}

// finish reports the peer's side ending the session.
func (c *lineChat) finish(reason error) error {
	c.link.close()
	if errors.Is(reason, errConnectionLost) {
		c.out.closed("connection lost")
		return &failure{kind: kindConnection, msg: "peer disconnected: the connection was lost", err: reason}
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
func (o *jsonOrText) emit(v map[string]string) {
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

func (o *jsonOrText) room(code, db string) {
	o.emit(map[string]string{"event": "room", "room": code, "db": db})
}
func (o *jsonOrText) connected() { o.emit(map[string]string{"event": "connected"}) }
func (o *jsonOrText) closed(reason string) {
	o.emit(map[string]string{"event": "closed", "reason": reason})
}
func (o *jsonOrText) warning(msg string) {
	o.emit(map[string]string{"event": "warning", "message": msg})
}
func (o *jsonOrText) failed(kind, msg string) {
	o.emit(map[string]string{"event": "error", "kind": kind, "message": msg})
}
