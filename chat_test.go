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
	const max = 8
	cases := []struct {
		name  string
		in    string
		lines []string
		errs  []error
	}{
		{"lines", "a\nbb\n", []string{"a", "bb"}, []error{nil, nil}},
		{"no final newline", "a\nbb", []string{"a", "bb"}, []error{nil, nil}},
		{"at the limit", "12345678\n", []string{"12345678"}, []error{nil}},
		{"too long, then fine", "123456789\nok\n", []string{"", "ok"}, []error{errLineTooLong, nil}},
		{"too long at eof", "123456789012", []string{""}, []error{errLineTooLong}},
		{"empty line", "\nx\n", []string{"", "x"}, []error{nil, nil}},
		{"keeps cr", "a\r\n", []string{"a\r"}, []error{nil}},
	}
	for _, c := range cases {
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
	link := newPeerLink(pc)
	const n = 100
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
