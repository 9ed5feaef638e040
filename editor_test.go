package main

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// screen is a tiny terminal emulator, enough to check what the editor draws:
// text with wide characters and autowrap (deferred, as xterm does), \r, \n,
// and CSI A (up), B (down), C (right), J (erase below), H and 2J.
type screen struct {
	width   int
	rows    [][]string // cells; "" is blank, a wide character's second cell is "\x00"
	x, y    int
	pending bool // at the right margin, waiting to wrap
}

func newScreen(width int) *screen { return &screen{width: width, rows: [][]string{nil}} }

func (s *screen) row(y int) []string {
	for len(s.rows) <= y {
		s.rows = append(s.rows, nil)
	}
	for len(s.rows[y]) < s.width {
		s.rows[y] = append(s.rows[y], "")
	}
	return s.rows[y]
}

func (s *screen) Write(p []byte) (int, error) {
	str := string(p)
	for i := 0; i < len(str); {
		switch {
		case str[i] == '\r':
			s.x, s.pending = 0, false
			i++
		case str[i] == '\n':
			s.y, s.pending = s.y+1, false
			i++
		case strings.HasPrefix(str[i:], "\x1b["):
			j := i + 2
			for j < len(str) && (str[j] < 0x40 || str[j] > 0x7e) {
				j++
			}
			n, _ := strconv.Atoi(str[i+2 : j])
			n = max(n, 1)
			switch str[j] {
			case 'A':
				s.y = max(s.y-n, 0)
			case 'B':
				s.y += n
			case 'C':
				s.x = min(s.x+n, s.width-1)
			case 'J':
				r := s.row(s.y)
				for x := s.x; x < s.width; x++ {
					r[x] = ""
				}
				s.rows = s.rows[:s.y+1]
			case 'H':
				s.x, s.y = 0, 0
			}
			s.pending = false
			i = j + 1
		default:
			// A modern terminal draws a grapheme cluster (an emoji with a
			// skin tone, a flag) as one character.
			n := graphemeLenString(str[i:])
			cluster := str[i : i+n]
			i += n
			w := graphemeWidthString(cluster)
			if s.pending || s.x+w > s.width {
				s.x, s.y, s.pending = 0, s.y+1, false
			}
			row := s.row(s.y)
			row[s.x] = cluster
			if w == 2 {
				row[s.x+1] = "\x00"
			}
			s.x += w
			if s.x >= s.width {
				s.x, s.pending = s.width-1, true
			}
		}
	}
	return len(p), nil
}

// reflow narrows the screen to width as tmux does: every row longer than
// the new width is split into rows of that width, and the cursor moves
// with the cell it was on.
func (s *screen) reflow(width int) {
	var rows [][]string
	cy, cx := s.y, s.x
	for y := range s.rows {
		row := s.row(y)
		used := len(row)
		for used > 0 && row[used-1] == "" {
			used--
		}
		if y == s.y {
			used = max(used, s.x+1)
		}
		parts := max(1, (used+width-1)/width)
		for p := range parts {
			if y == s.y && s.x >= p*width && (s.x < (p+1)*width || p == parts-1) {
				cy, cx = len(rows), s.x-p*width
			}
			part := make([]string, width)
			copy(part, row[min(p*width, len(row)):min((p+1)*width, len(row))])
			rows = append(rows, part)
		}
	}
	s.rows, s.width, s.x, s.y, s.pending = rows, width, min(cx, width-1), cy, false
}

// lines is the screen as text, trailing blanks trimmed.
func (s *screen) lines() []string {
	var out []string
	for y := range s.rows {
		var b strings.Builder
		for _, c := range s.row(y) {
			switch c {
			case "":
				b.WriteByte(' ')
			case "\x00":
			default:
				b.WriteString(c)
			}
		}
		out = append(out, strings.TrimRight(b.String(), " "))
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// cursor is where the next character would go, as a user sees the cursor.
func (s *screen) cursor() (int, int) {
	if s.pending {
		return s.width - 1, s.y
	}
	return s.x, s.y
}

func typeText(e *editor, text string) {
	for _, r := range text {
		e.handle(key{kind: keyRune, r: r})
	}
}

func TestEditorDrawsLikeATerminal(t *testing.T) {
	cases := []struct {
		name   string
		width  int
		typed  string
		keys   []keyKind
		lines  []string
		cx, cy int
	}{
		{"short", 20, "hello", nil, []string{"> hello"}, 7, 0},
		{"cursor moved left", 20, "hello", []keyKind{keyLeft, keyLeft}, []string{"> hello"}, 5, 0},
		{"wraps at the width", 10, "abcdefghijkl", nil, []string{"> abcdefgh", "ijkl"}, 4, 1},
		{"exactly full row puts the cursor on the next", 10, "abcdefgh", nil, []string{"> abcdefgh"}, 0, 1},
		{"wide characters", 20, "世界👋", nil, []string{"> 世界👋"}, 8, 0},
		{"a wide character never straddles rows", 9, "a世界世界", nil, []string{"> a世界世", "界"}, 2, 1},
		{"cursor among wide characters", 20, "世界世界", []keyKind{keyLeft, keyLeft, keyLeft}, []string{"> 世界世界"}, 4, 0},
		{"home on a wrapped line", 10, "abcdefghijkl", []keyKind{keyHome}, []string{"> abcdefgh", "ijkl"}, 2, 0},
		{"multi-line draft", 20, "one", []keyKind{keyNewline}, []string{"> one"}, 2, 1},
		{"multi-line draft, second line", 20, "one\ntwo", nil, []string{"> one", "  two"}, 5, 1},
		{"escape typed is drawn inert", 20, "a\x1bb", nil, []string{"> a␛b"}, 5, 0},
		{"an emoji with a skin tone is one character", 20, "a👍🏽b", []keyKind{keyLeft, keyLeft}, []string{"> a👍🏽b"}, 3, 0},
		{"a flag never straddles rows", 7, "abcd🇫🇷", nil, []string{"> abcd", "🇫🇷"}, 2, 1},
		{"a family never straddles rows", 7, "abcd👨\u200d👩\u200d👧", nil, []string{"> abcd", "👨\u200d👩\u200d👧"}, 2, 1},
	}
	for _, c := range cases {
		scr := newScreen(c.width)
		e := newEditor(scr, c.width)
		e.setPrompt("> ", false)
		typeText(e, c.typed)
		for _, k := range c.keys {
			e.handle(key{kind: k})
		}
		if got := scr.lines(); !reflect.DeepEqual(got, c.lines) {
			t.Errorf("%s: screen %q, want %q", c.name, got, c.lines)
		}
		if x, y := scr.cursor(); x != c.cx || y != c.cy {
			t.Errorf("%s: cursor at %d,%d, want %d,%d", c.name, x, y, c.cx, c.cy)
		}
	}
}

// TestEditorPrintAbove: output goes above the draft, which is drawn again
// whole below it, however many rows it takes.
func TestEditorPrintAbove(t *testing.T) {
	scr := newScreen(10)
	e := newEditor(scr, 10)
	e.setPrompt("> ", false)
	typeText(e, "abcdefghijkl") // two rows
	e.handle(key{kind: keyLeft})
	e.printAbove("Peer: hi")
	e.printAbove("Peer: two\nlines")
	want := []string{"Peer: hi", "Peer: two", "lines", "> abcdefgh", "ijkl"}
	if got := scr.lines(); !reflect.DeepEqual(got, want) {
		t.Errorf("screen %q, want %q", got, want)
	}
	if x, y := scr.cursor(); x != 3 || y != 4 {
		t.Errorf("cursor at %d,%d, want 3,4", x, y)
	}
	e.hide()
	if got := scr.lines(); !reflect.DeepEqual(got, want[:3]) {
		t.Errorf("after hide: screen %q, want %q", got, want[:3])
	}
}

func TestEditorEditing(t *testing.T) {
	cases := []struct {
		name   string
		steps  []key
		line   string
		pasted bool
	}{
		{"type and enter", keys("hi", keyEnter), "hi", false},
		{"backspace", keys("hix", keyBackspace, keyEnter), "hi", false},
		{"delete under cursor", keys("hxi", keyLeft, keyLeft, keyDelete, keyEnter), "hi", false},
		{"insert in the middle", append(keys("hi", keyLeft), key{kind: keyRune, r: 'e'}, key{kind: keyEnter}), "hei", false},
		{"ctrl-u kills to line start", keys("abc", keyKillLine, keyEnter), "", false},
		{"ctrl-k kills to line end", keys("abc", keyHome, keyRight, keyKillEnd, keyEnter), "a", false},
		{"ctrl-w kills a word", keys("one two", keyKillWord, keyEnter), "one ", false},
		{"ctrl-j newline", keys("a", keyNewline, keyEnter), "a\n", false},
		{"trailing backslash continues", keys("a\\", keyEnter, keyEnter), "a\n", false},
		{"paste is marked", []key{{kind: keyPaste, text: "/quit\r\nnow"}, {kind: keyEnter}}, "/quit\nnow", true},
	}
	for _, c := range cases {
		e := newEditor(&bytes.Buffer{}, 80)
		e.setPrompt("> ", false)
		var line string
		var pasted, done bool
		for _, k := range c.steps {
			if ed := e.handle(k); ed.done {
				line, pasted, done = ed.line, ed.pasted, true
			}
		}
		if !done || line != c.line || pasted != c.pasted {
			t.Errorf("%s: got %q pasted=%v done=%v, want %q pasted=%v", c.name, line, pasted, done, c.line, c.pasted)
		}
	}
}

// TestEditorMovesByCluster: Left, Right, Backspace and Delete move over and
// delete what reads as one character: an emoji with a skin tone, a flag, a
// ZWJ family, a letter with a combining accent.
func TestEditorMovesByCluster(t *testing.T) {
	const (
		thumbs = "👍🏽"
		flag   = "🇫🇷"
		family = "👨\u200d👩\u200d👧"
		accent = "e\u0301"
	)
	tests := []struct {
		name  string
		steps []key
		want  string // the draft, with | at the cursor
	}{
		{"backspace a skin tone", keys("a"+thumbs, keyBackspace), "a|"},
		{"backspace a flag", keys("a"+flag+flag, keyBackspace), "a" + flag + "|"},
		{"backspace a family", keys(family+"b", keyLeft, keyBackspace), "|b"},
		{"backspace an accent", keys("x"+accent, keyBackspace), "x|"},
		{"left over a family", keys("a"+family, keyLeft), "a|" + family},
		{"right over a flag", keys(flag+"b", keyHome, keyRight), flag + "|b"},
		{"delete a skin tone", keys(thumbs+"b", keyHome, keyDelete), "|b"},
		{"ctrl-d deletes under the cursor", keys("abc", keyLeft, keyLeft, keyEOF), "a|c"},
		{"ctrl-d at the end changes nothing", keys("abc", keyEOF), "abc|"},
		{"a mark typed after a letter joins it", keys("ab", keyLeft, "\u0301"), "a\u0301|b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEditor(&bytes.Buffer{}, 80)
			e.setPrompt("> ", false)
			for _, k := range tt.steps {
				e.handle(k)
			}
			got := string(e.buf[:e.pos]) + "|" + string(e.buf[e.pos:])
			if got != tt.want {
				t.Errorf("draft %q, want %q", got, tt.want)
			}
		})
	}
}

// TestEditorPasteLineEnds: terminals separate pasted lines with a bare CR
// (tmux, xterm) or CR LF; either becomes one newline of the message.
func TestEditorPasteLineEnds(t *testing.T) {
	for in, want := range map[string]string{
		"one\rtwo\rthree":    "one\ntwo\nthree",
		"one\r\ntwo\r\n":     "one\ntwo\n",
		"one\ntwo":           "one\ntwo",
		"mixed\r\n\r\rend\n": "mixed\n\n\nend\n",
	} {
		e := newEditor(&bytes.Buffer{}, 80)
		e.setPrompt("> ", false)
		e.handle(key{kind: keyPaste, text: in})
		if ed := e.handle(key{kind: keyEnter}); ed.line != want || !ed.pasted {
			t.Errorf("paste %q sent %q (pasted %v), want %q", in, ed.line, ed.pasted, want)
		}
	}
}

// TestEditorCtrlLRedraws: Ctrl-L draws the input area again in place; it
// never clears the conversation above it.
func TestEditorCtrlLRedraws(t *testing.T) {
	scr := newScreen(20)
	e := newEditor(scr, 20)
	e.printAbove("Peer: hello")
	e.setPrompt("> ", false)
	typeText(e, "draft")
	e.handle(key{kind: keyClear})
	want := []string{"Peer: hello", "> draft"}
	if got := scr.lines(); !reflect.DeepEqual(got, want) {
		t.Errorf("after Ctrl-L the screen is %q, want %q", got, want)
	}
}

// TestEditorResizeLeavesNoGhost: when a terminal narrows, it rewraps what
// is on screen (tmux, VTE, kitty, iTerm2 do), so the input area starts
// rows higher; the redraw clears from there and no copy of the draft is
// left behind.
func TestEditorResizeLeavesNoGhost(t *testing.T) {
	scr := newScreen(40)
	e := newEditor(scr, 40)
	e.printAbove("Peer: hello")
	e.setPrompt("> ", false)
	typeText(e, strings.Repeat("x", 30)+" "+strings.Repeat("y", 20)) // two rows at 40
	scr.reflow(20)
	e.setWidth(20)
	want := []string{"Peer: hello", "> " + strings.Repeat("x", 18), strings.Repeat("x", 12) + " " + strings.Repeat("y", 7), strings.Repeat("y", 13)}
	if got := scr.lines(); !reflect.DeepEqual(got, want) {
		t.Errorf("after narrowing the screen is\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// keys builds a key sequence: strings are typed, kinds are pressed.
func keys(steps ...any) []key {
	var out []key
	for _, s := range steps {
		switch v := s.(type) {
		case string:
			for _, r := range v {
				out = append(out, key{kind: keyRune, r: r})
			}
		case keyKind:
			out = append(out, key{kind: v})
		}
	}
	return out
}

func TestEditorHistory(t *testing.T) {
	e := newEditor(&bytes.Buffer{}, 80)
	e.setPrompt("> ", false)
	for _, k := range keys("first", keyEnter, "second", keyEnter, "draft") {
		e.handle(k)
	}
	steps := []struct {
		k    keyKind
		want string
	}{
		{keyUp, "second"}, {keyUp, "first"}, {keyUp, "first"}, {keyDown, "second"}, {keyDown, "draft"},
	}
	for i, s := range steps {
		e.handle(key{kind: s.k})
		if got := string(e.buf); got != s.want {
			t.Errorf("step %d: draft %q, want %q", i, got, s.want)
		}
	}
}

// TestEditorHiddenPrompt: a password never reaches the screen.
func TestEditorHiddenPrompt(t *testing.T) {
	var out bytes.Buffer
	e := newEditor(&out, 80)
	e.setPrompt("Password: ", true)
	var line string
	for _, k := range keys("s3cret", keyEnter) {
		if ed := e.handle(k); ed.done {
			line = ed.line
		}
	}
	if line != "s3cret" {
		t.Errorf("got %q", line)
	}
	if strings.Contains(out.String(), "s3cret") || strings.Contains(out.String(), "s3") {
		t.Errorf("the password was drawn: %q", out.String())
	}
	if len(e.history) != 0 {
		t.Errorf("the password went into the history")
	}
}

// TestEditorCapsDraft: a draft never grows past what one message carries,
// and what would not fit is refused whole, with a reason, never cut.
func TestEditorCapsDraft(t *testing.T) {
	limit := pypeerChannel.maxBytes
	tests := []struct {
		name    string
		steps   []key
		want    int  // bytes in the draft after
		refused bool // the last step was refused with a reason
	}{
		{"a paste that fits", []key{{kind: keyPaste, text: strings.Repeat("é", limit/2)}}, limit, false},
		{"a paste one byte over", []key{{kind: keyPaste, text: strings.Repeat("x", limit+1)}}, 0, true},
		{"a paste over, after a draft", []key{{kind: keyRune, r: 'a'}, {kind: keyPaste, text: strings.Repeat("x", limit)}}, 1, true},
		{"a paste cut by the parser", []key{{kind: keyPaste, text: "x", cut: true}}, 0, true},
		{"typing past the limit", []key{{kind: keyPaste, text: strings.Repeat("x", limit)}, {kind: keyRune, r: 'y'}}, limit, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEditor(&bytes.Buffer{}, 80)
			e.setPrompt("> ", false)
			var last edit
			for _, k := range tt.steps {
				last = e.handle(k)
			}
			if n := len(string(e.buf)); n != tt.want {
				t.Errorf("draft is %d bytes, want %d", n, tt.want)
			}
			if (last.refused != "") != tt.refused || (tt.refused && !strings.Contains(last.refused, fmt.Sprint(limit))) {
				t.Errorf("refused %q, want a refusal naming the limit: %v", last.refused, tt.refused)
			}
		})
	}
}

// TestEditorMarks: a mark lands after the text of the line it was given
// for, however many lines came since, while the draft and the cursor stay
// put; it is not drawn once the line may have moved (a resize, a raw
// write) or scrolled off the screen.
func TestEditorMarks(t *testing.T) {
	tests := []struct {
		name      string
		height    int
		after     []string // printed after the marked line
		between   func(e *editor)
		wantDrawn bool
	}{
		{name: "the last line", height: 24, wantDrawn: true},
		{name: "lines printed since", height: 24, after: []string{"one", "two\nthree"}, wantDrawn: true},
		{name: "colour sequences take no room", height: 24, after: []string{"\x1b[1;36mPeer:\x1b[0m hi"}, wantDrawn: true},
		{name: "a line the terminal wraps counts twice", height: 24, after: []string{strings.Repeat("x", 25)}, wantDrawn: true},
		{name: "scrolled off", height: 4, after: []string{"one", "two", "three"}},
		{name: "still on screen", height: 4, after: []string{"one", "two"}, wantDrawn: true},
		{name: "resized", height: 24, between: func(e *editor) { e.setWidth(30) }},
		{name: "a raw write", height: 24, between: func(e *editor) { e.write("\x1b[H\x1b[2J") }},
		{name: "height unknown", height: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scr := newScreen(20)
			e := newEditor(scr, 20)
			e.setHeight(tt.height)
			e.setPrompt("> ", false)
			e.printAbove("before")
			p := e.printAboveAt("12:00 You: hello")
			for _, l := range tt.after {
				e.printAbove(l)
			}
			if tt.between != nil {
				tt.between(e)
			}
			typeText(e, "draft")
			cx, cy := scr.cursor()
			if drawn := e.mark(p, "✓"); drawn != tt.wantDrawn {
				t.Fatalf("mark drawn: %v, want %v", drawn, tt.wantDrawn)
			}
			lines := scr.lines()
			if tt.wantDrawn && !slices.Contains(lines, "12:00 You: hello ✓") {
				t.Errorf("screen %q: the mark is not after the line", lines)
			}
			if got := strings.Count(strings.Join(lines, "\n"), "✓"); got != map[bool]int{true: 1}[tt.wantDrawn] {
				t.Errorf("screen %q has %d marks", lines, got)
			}
			if last := lines[len(lines)-1]; last != "> draft" {
				t.Errorf("the input area reads %q, want the draft", last)
			}
			if x, y := scr.cursor(); x != cx || y != cy {
				t.Errorf("cursor moved from %d,%d to %d,%d", cx, cy, x, y)
			}
		})
	}
}
