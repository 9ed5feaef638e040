package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestParseChatLine(t *testing.T) {
	cases := []struct {
		line      string
		pasted    bool
		cmd, text string
	}{
		{"hello", false, "", "hello"},
		{"/quit", false, "/quit", ""},
		{"/info now", false, "/info", ""},
		{"/nope", false, "/nope", ""},
		{"//slash", false, "", "/slash"},
		{"/quit", true, "", "/quit"},
		{"a /quit", false, "", "a /quit"},
	}
	for _, c := range cases {
		cmd, text := parseChatLine(c.line, c.pasted)
		if cmd != c.cmd || text != c.text {
			t.Errorf("parseChatLine(%q, %v) = %q, %q; want %q, %q", c.line, c.pasted, cmd, text, c.cmd, c.text)
		}
	}
}

func TestTruncateForDisplay(t *testing.T) {
	cases := []struct {
		in       string
		cut      bool
		maxBytes int
	}{
		{"short", false, 5},
		{strings.Repeat("x", displayMaxBytes), false, displayMaxBytes},
		{strings.Repeat("x", 10<<20), true, displayMaxBytes},
		{strings.Repeat("line\n", 100), true, 5 * displayMaxLines},
		{strings.Repeat("世", displayMaxBytes), true, displayMaxBytes},
	}
	for i, c := range cases {
		got, note := truncateForDisplay(c.in)
		if (note != "") != c.cut || len(got) > c.maxBytes || !strings.HasPrefix(c.in, got) {
			t.Errorf("case %d: %d bytes shown, note %q", i, len(got), note)
		}
		if c.cut && !strings.Contains(note, fmt.Sprint(len(c.in))) {
			t.Errorf("case %d: note %q does not give the full size", i, note)
		}
	}
}

// TestWrapText: a received message wraps to the screen's width with every
// line aligned under the first (formatMessage indents them), at a space
// when it can, and never inside a grapheme cluster.
func TestWrapText(t *testing.T) {
	family := "👨\u200d👩\u200d👧"
	tests := []struct {
		name  string
		text  string
		width int
		want  []string
	}{
		{"fits", "hello there", 20, []string{"hello there"}},
		{"breaks at a space", "hello there general kenobi", 12, []string{"hello there", "general", "kenobi"}},
		{"a long word breaks anywhere", strings.Repeat("x", 25), 10, []string{strings.Repeat("x", 10), strings.Repeat("x", 10), strings.Repeat("x", 5)}},
		{"its own newlines", "one\ntwo", 20, []string{"one", "two"}},
		{"an emoji is never split", strings.Repeat("x", 9) + family + "y", 10, []string{strings.Repeat("x", 9), family + "y"}},
		{"wide characters", strings.Repeat("世", 7), 10, []string{strings.Repeat("世", 5), strings.Repeat("世", 2)}},
		{"too narrow to wrap", "hello there", 5, []string{"hello there"}},
	}
	for _, tt := range tests {
		got := wrapText(tt.text, tt.width)
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tt.want) {
			t.Errorf("%s: wrapText(%q, %d) = %q, want %q", tt.name, tt.text, tt.width, got, tt.want)
		}
		for _, line := range got {
			if tt.width >= 10 && textWidth(line) > tt.width {
				t.Errorf("%s: line %q is %d columns, over %d", tt.name, line, textWidth(line), tt.width)
			}
		}
	}
}

// TestFormatMessageAligns: a long received message's later lines start
// under its text, not under the time.
func TestFormatMessageAligns(t *testing.T) {
	tu := &tui{ed: newEditor(&strings.Builder{}, 30)}
	got := strings.Split(tu.formatMessage("Peer", peerMessage{text: "the quick brown fox jumps over the lazy dog"}), "\n")
	const indent = "            " // "15:04 Peer: "
	if len(got) < 2 {
		t.Fatalf("not wrapped at 30 columns: %q", got)
	}
	for _, line := range got[1:] {
		if !strings.HasPrefix(line, indent) || line[len(indent)] == ' ' {
			t.Errorf("line %q does not start under the text (%d columns in)", line, len(indent))
		}
	}
	for _, line := range got {
		if textWidth(line) > 30 {
			t.Errorf("line %q is over 30 columns", line)
		}
	}
}

// TestDeliveryMarks: a receipt marks every message up to its count, once,
// in order; a lying or repeated receipt marks nothing more; and a peer
// that never sends one cannot grow the list past its bound.
func TestDeliveryMarks(t *testing.T) {
	var d deliveryMarks
	for id := uint64(1); id <= 5; id++ {
		d.add(id, place{row: int(id)})
	}
	var marked []int
	mark := func(p place) { marked = append(marked, p.row) }
	steps := []struct {
		receipt uint64
		want    []int
	}{
		{2, []int{1, 2}},
		{2, []int{1, 2}},
		{1, []int{1, 2}},
		{5, []int{1, 2, 3, 4, 5}},
		{9, []int{1, 2, 3, 4, 5}},
	}
	for _, s := range steps {
		d.deliver(s.receipt, mark)
		if !slices.Equal(marked, s.want) {
			t.Fatalf("after receipt %d: marked %v, want %v", s.receipt, marked, s.want)
		}
	}
	for id := uint64(10); id < 10+3*deliveryMarksMax; id++ {
		d.add(id, place{})
	}
	if len(d.pending) != deliveryMarksMax {
		t.Errorf("%d marks pending, want at most %d", len(d.pending), deliveryMarksMax)
	}
}

// TestTerminalLinkNotices: news of the link reads as the screen's rules
// say (docs/TERMINAL.md): a warning or a lost path in yellow after "!", a
// restored one in green, every one sanitized.
func TestTerminalLinkNotices(t *testing.T) {
	tu := &tui{color: true}
	for _, tt := range []struct {
		n    linkNotice
		want string
	}{
		{linkNotice{event: noticeWarning, text: "connection interrupted; waiting"}, "\x1b[33m! Connection interrupted; waiting\x1b[0m"},
		{linkNotice{event: noticeReconnecting, text: "connection lost, reconnecting…"}, "\x1b[33m! Connection lost, reconnecting…\x1b[0m"},
		{linkNotice{event: noticeReconnected, text: "reconnected"}, "\x1b[1;32mReconnected.\x1b[0m"},
		{linkNotice{event: noticeWarning, text: "a peer's \x1b[2J"}, "\x1b[33m! A peer's ␛[2J\x1b[0m"},
	} {
		if got := tu.linkNotice(tt.n); got != tt.want {
			t.Errorf("%+v reads %q, want %q", tt.n, got, tt.want)
		}
	}
}
