package main

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestKeyParser(t *testing.T) {
	cases := []struct {
		name   string
		chunks []string
		want   []key
	}{
		{"letters", []string{"hi"}, []key{{kind: keyRune, r: 'h'}, {kind: keyRune, r: 'i'}}},
		{"utf-8 split across reads", []string{"\xe4\xb8", "\x96"}, []key{{kind: keyRune, r: '世'}}},
		{"enter and ctrl-j", []string{"\r\n"}, []key{{kind: keyEnter}, {kind: keyNewline}}},
		{"arrows", []string{"\x1b[A\x1b[B\x1b[C\x1b[D"}, []key{{kind: keyUp}, {kind: keyDown}, {kind: keyRight}, {kind: keyLeft}}},
		{"ss3 arrows", []string{"\x1bOA\x1bOH"}, []key{{kind: keyUp}, {kind: keyHome}}},
		{"home end delete", []string{"\x1b[1~\x1b[4~\x1b[3~\x1b[H\x1b[F"}, []key{{kind: keyHome}, {kind: keyEnd}, {kind: keyDelete}, {kind: keyHome}, {kind: keyEnd}}},
		{"ctrl-arrows move words", []string{"\x1b[1;5D\x1b[1;5C"}, []key{{kind: keyWordLeft}, {kind: keyWordRight}}},
		{"alt-b alt-f", []string{"\x1bb\x1bf"}, []key{{kind: keyWordLeft}, {kind: keyWordRight}}},
		{"control keys", []string{"\x01\x05\x15\x0b\x17\x0c\x03\x04\x7f"}, []key{{kind: keyHome}, {kind: keyEnd}, {kind: keyKillLine}, {kind: keyKillEnd}, {kind: keyKillWord}, {kind: keyClear}, {kind: keyInterrupt}, {kind: keyEOF}, {kind: keyBackspace}}},
		{"lone escape", []string{"\x1b"}, []key{{kind: keyEsc}}},
		{"sequence split across reads", []string{"\x1b[", "A"}, []key{{kind: keyUp}}},
		{"unknown sequence", []string{"\x1b[99zq"}, []key{{kind: keyUnknown}, {kind: keyRune, r: 'q'}}},
		{"other controls", []string{"\x07"}, []key{{kind: keyUnknown}}},
		{"paste", []string{"\x1b[200~/quit\r\nx\x1b[201~"}, []key{{kind: keyPaste, text: "/quit\r\nx"}}},
		{"paste split across reads", []string{"\x1b[200~ab", "c\x1b[2", "01~d"}, []key{{kind: keyPaste, text: "abc"}, {kind: keyRune, r: 'd'}}},
		{"escape inside a paste is text", []string{"\x1b[200~\x1b[31m\x1b[201~"}, []key{{kind: keyPaste, text: "\x1b[31m"}}},
	}
	for _, c := range cases {
		var p keyParser
		var got []key
		for _, ch := range c.chunks {
			got = append(got, p.parse([]byte(ch))...)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
	}
}

// TestKeyParserHugePaste: a 10 MB paste is cut to what one message may carry
// and does not hold 10 MB.
func TestKeyParserHugePaste(t *testing.T) {
	var p keyParser
	var keys []key
	keys = append(keys, p.parse([]byte(pasteStart))...)
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	for range 160 {
		keys = append(keys, p.parse(chunk)...)
	}
	keys = append(keys, p.parse([]byte(pasteEnd+"y"))...)
	if len(keys) != 2 || keys[0].kind != keyPaste || len(keys[0].text) != maxPaste || keys[1].r != 'y' {
		t.Fatalf("got %d keys, first a %v of %d bytes", len(keys), keys[0].kind, len(keys[0].text))
	}
}

func TestRuneWidth(t *testing.T) {
	cases := []struct {
		r    rune
		want int
	}{
		{'a', 1}, {'é', 1}, {'世', 2}, {'한', 2}, {'ｱ', 1}, {'Ａ', 2},
		{'👋', 2}, {'🚀', 2}, {'\u0301', 0}, {'\u200d', 0}, {'\ufe0f', 0},
		{'␛', 1}, {'→', 1},
	}
	for _, c := range cases {
		if got := runeWidth(c.r); got != c.want {
			t.Errorf("runeWidth(%q) = %d, want %d", c.r, got, c.want)
		}
	}
}

// screen is a tiny terminal emulator, enough to check what the editor draws:
// text with wide characters and autowrap (deferred, as xterm does), \r, \n,
// and CSI A (up), C (right), J (erase below), H and 2J.
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
			r := []rune(str[i:])[0]
			i += len(string(r))
			w := runeWidth(r)
			if s.pending || s.x+w > s.width {
				s.x, s.y, s.pending = 0, s.y+1, false
			}
			row := s.row(s.y)
			row[s.x] = string(r)
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
