package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"
)

func TestSanitize(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"plain", "hello", "hello"},
		{"unicode", "héllo 👋 世界", "héllo 👋 世界"},
		{"newline kept", "a\nb", "a\nb"},
		{"crlf", "a\r\nb", "a\nb"},
		{"lone cr", "a\rb", "a␍b"},
		{"tab", "a\tb", "a    b"},
		{"nul", "a\x00b", "a␀b"},
		{"bell", "\a", "␇"},
		{"csi", "\x1b[2J", "␛[2J"},
		{"osc 52 clipboard", "\x1b]52;c;aGk=\x07", "␛]52;c;aGk=␇"},
		{"osc title", "\x1b]0;pwned\x1b\\", "␛]0;pwned␛\\"},
		{"del", "a\x7fb", "a␡b"},
		{"c1 csi", "\u009b2J", "<U+009B>2J"},
		{"c1 osc", "\u009d0;x\u009c", "<U+009D>0;x<U+009C>"},
		{"bidi override", "abc\u202edcba", "abc<U+202E>dcba"},
		{"bidi isolate", "\u2066x\u2069", "<U+2066>x<U+2069>"},
		{"invalid utf-8", "a\xffb\xc3", "a\ufffdb\ufffd"},
		{"raw c1 byte", "\x9b", "\ufffd"},
	}
	for _, c := range cases {
		if got := sanitize(c.in); got != c.want {
			t.Errorf("%s: sanitize(%q) = %q, want %q", c.name, c.in, got, c.want)
		}
	}
}

// FuzzSanitize checks that nothing a terminal interprets survives sanitize.
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"\x1b[31m", "\u009b", "a\r\nb", "\xff", "\u202e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := sanitize(s)
		for _, r := range out {
			if (r < 0x20 && r != '\n') || r == 0x7f || (r >= 0x80 && r < 0xa0) || isBidiControl(r) {
				t.Fatalf("sanitize(%q) kept control %U", s, r)
			}
		}
	})
}

func TestReadLimitedLine(t *testing.T) {
	// Lines up to 8 bytes fit the reader's 16-byte buffer; the cases with
	// max 40 cross it and take the long-line path.
	cases := []struct {
		name  string
		in    string
		lines []string
		errs  []error
		max   int // 8 when 0
	}{
		{"lines", "a\nbb\n", []string{"a", "bb"}, []error{nil, nil}, 0},
		{"no final newline", "a\nbb", []string{"a", "bb"}, []error{nil, nil}, 0},
		{"at the limit", "12345678\n", []string{"12345678"}, []error{nil}, 0},
		{"too long, then fine", "123456789\nok\n", []string{"", "ok"}, []error{errLineTooLong, nil}, 0},
		{"too long at eof", "123456789012", []string{""}, []error{errLineTooLong}, 0},
		{"empty line", "\nx\n", []string{"", "x"}, []error{nil, nil}, 0},
		{"keeps cr", "a\r\n", []string{"a\r"}, []error{nil}, 0},
		{"longer than the buffer", strings.Repeat("a", 40) + "\nb\n", []string{strings.Repeat("a", 40), "b"}, []error{nil, nil}, 40},
		{"longer than the buffer, no newline", strings.Repeat("a", 33), []string{strings.Repeat("a", 33)}, []error{nil}, 40},
		{"longer than the buffer and max", strings.Repeat("a", 41) + "\nb\n", []string{"", "b"}, []error{errLineTooLong, nil}, 40},
	}
	for _, c := range cases {
		max := c.max
		if max == 0 {
			max = 8
		}
		r := bufio.NewReaderSize(strings.NewReader(c.in), 16)
		for i, want := range c.lines {
			got, err := readLimitedLine(r, max)
			if got != want || !errors.Is(err, c.errs[i]) {
				t.Errorf("%s: line %d = %q, %v; want %q, %v", c.name, i, got, err, want, c.errs[i])
			}
		}
		if _, err := readLimitedLine(r, max); !errors.Is(err, io.EOF) {
			t.Errorf("%s: after the last line got %v, want EOF", c.name, err)
		}
	}
}

func TestReadLimitedLineHugeInput(t *testing.T) {
	// 64 MiB in one line must not be held in memory: the reader skips it.
	huge := io.MultiReader(io.LimitReader(zeros{}, 64<<20), strings.NewReader("\nnext\n"))
	r := bufio.NewReaderSize(huge, 4096)
	if _, err := readLimitedLine(r, 1024); !errors.Is(err, errLineTooLong) {
		t.Fatalf("got %v, want errLineTooLong", err)
	}
	if got, err := readLimitedLine(r, 1024); got != "next" || err != nil {
		t.Fatalf("after the huge line got %q, %v", got, err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'z'
	}
	return len(p), nil
}

// TestLineChatShowsEverythingBeforeClosed: when the peer leaves right after
// sending, every message it sent is written before the closed event, in
// order, even though both are ready at once.
func TestLineChatShowsEverythingBeforeClosed(t *testing.T) {
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	link := newPeerLink(pc, pypeerChannel)
	const n = incomingQueue // all the link can hold
	for i := range n {
		link.incoming <- peerMessage{text: fmt.Sprint("m", i)}
	}
	close(link.readDone)
	link.end(errPeerLeft)

	var out bytes.Buffer
	stdin, _ := io.Pipe() // never ends: only the peer's leaving ends this chat
	chat := &lineChat{link: link, in: stdin, out: &jsonOrText{w: &out, json: true},
		status: func(string) {}, warn: func(string) {}}
	if err := chat.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != n+1 || !strings.Contains(lines[n], `"closed"`) {
		t.Fatalf("got %d lines, the last %q; want %d messages then closed", len(lines), lines[len(lines)-1], n)
	}
	for i := range n {
		if want := fmt.Sprintf(`"text":"m%d"`, i); !strings.Contains(lines[i], want) {
			t.Fatalf("line %d is %s, want %s", i, lines[i], want)
		}
	}
}

// writeLog records each Write as one entry.
type writeLog struct{ writes []string }

func (w *writeLog) Write(p []byte) (int, error) {
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

// TestJSONOrTextBatchesBursts: a message with more queued behind it may
// wait in the buffer, but the last of a burst, any event, and a full batch
// are written at once, in order.
func TestJSONOrTextBatchesBursts(t *testing.T) {
	for _, asJSON := range []bool{true, false} {
		w := &writeLog{}
		o := &jsonOrText{w: w, json: asJSON}
		o.message("first", true)
		o.message("second", true)
		if len(w.writes) != 0 {
			t.Fatalf("json=%v: written while more were queued: %q", asJSON, w.writes)
		}
		o.message("third", false)
		if len(w.writes) != 1 || strings.Count(w.writes[0], "\n") != 3 {
			t.Fatalf("json=%v: the end of a burst gave writes %q, want the three lines in one", asJSON, w.writes)
		}
		o.message("fourth", true)
		o.closed("peer left")
		if len(w.writes) != 2 || !strings.Contains(w.writes[1], "fourth") {
			t.Fatalf("json=%v: an event did not write the held message first: %q", asJSON, w.writes)
		}
		big := strings.Repeat("x", outputBatch)
		o.message(big, true)
		if len(w.writes) != 3 {
			t.Fatalf("json=%v: a full batch was held back", asJSON)
		}
		got := strings.Join(w.writes, "")
		if i1, i2, i3, i4 := strings.Index(got, "first"), strings.Index(got, "second"),
			strings.Index(got, "third"), strings.Index(got, "fourth"); !(i1 < i2 && i2 < i3 && i3 < i4) {
			t.Fatalf("json=%v: out of order: %q", asJSON, abbreviate(got))
		}
	}
}
