package main

// This file is the terminal line editor. gopeer keeps golang.org/x/term for
// raw mode, sizes and the terminal itself, but draws its own input line:
// x/term's Terminal counts one column per rune (so wide characters and
// emoji put the cursor in the wrong place) and cannot hold a multi-line
// draft, which chat needs.

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// keyKind names the keys the editor acts on.
type keyKind int

const (
	keyRune  keyKind = iota // a printable character, in key.r
	keyPaste                // a bracketed paste, in key.text
	keyEnter
	keyNewline // Ctrl-J: a newline inside the message
	keyBackspace
	keyDelete
	keyLeft
	keyRight
	keyUp
	keyDown
	keyHome
	keyEnd
	keyWordLeft
	keyWordRight
	keyKillLine  // Ctrl-U: delete to the start of the line
	keyKillEnd   // Ctrl-K: delete to the end of the line
	keyKillWord  // Ctrl-W: delete the word before the cursor
	keyClear     // Ctrl-L: redraw
	keyEsc       // Escape, alone
	keyInterrupt // Ctrl-C
	keyEOF       // Ctrl-D
	keyUnknown   // a sequence gopeer does not use
)

type key struct {
	kind keyKind
	r    rune
	text string
	cut  bool // a paste longer than maxPaste: text holds its start
}

// Bracketed paste markers (xterm): the terminal wraps pasted text in them.
const (
	pasteStart = "\x1b[200~"
	pasteEnd   = "\x1b[201~"
	// maxPaste bounds a paste kept in memory; what is beyond is dropped
	// (and the paste marked cut), far past what one message carries.
	maxPaste = 1 << 20
)

// keyParser turns raw terminal input into keys. It keeps what it cannot yet
// decide (half a sequence, half a paste) for the next chunk.
type keyParser struct {
	pending  []byte
	inPaste  bool
	paste    strings.Builder
	overflow bool // the paste went past maxPaste
}

// parse consumes a chunk of input and returns the keys it completes.
func (p *keyParser) parse(chunk []byte) []key {
	p.pending = append(p.pending, chunk...)
	var keys []key
	for len(p.pending) > 0 {
		if p.inPaste {
			if !p.consumePaste() {
				break
			}
			keys = append(keys, key{kind: keyPaste, text: p.paste.String(), cut: p.overflow})
			p.paste.Reset()
			continue
		}
		k, n := decodeKey(p.pending)
		if n == 0 {
			break // need more input
		}
		p.pending = p.pending[n:]
		if k.kind == keyPaste {
			p.inPaste, p.overflow = true, false
			continue
		}
		keys = append(keys, k)
	}
	// A lone ESC at the end of a chunk is the Escape key: terminals send a
	// whole sequence in one write.
	if !p.inPaste && len(p.pending) == 1 && p.pending[0] == 0x1b {
		keys = append(keys, key{kind: keyEsc})
		p.pending = p.pending[:0]
	}
	return keys
}

// consumePaste moves pasted bytes into p.paste until the end marker. It
// reports whether the paste is complete.
func (p *keyParser) consumePaste() bool {
	i := strings.Index(string(p.pending), pasteEnd)
	take := p.pending
	if i >= 0 {
		take = p.pending[:i]
	} else if keep := len(pasteEnd) - 1; len(take) > keep {
		// keep a possible partial end marker for the next chunk
		take = take[:len(take)-keep]
	} else {
		return false
	}
	room := maxPaste - p.paste.Len()
	p.paste.Write(take[:min(len(take), max(room, 0))])
	p.overflow = p.overflow || len(take) > room
	if i < 0 {
		p.pending = p.pending[len(take):]
		return false
	}
	p.pending = p.pending[i+len(pasteEnd):]
	p.inPaste = false
	return true
}

// decodeKey decodes the first key in b; n is 0 when b holds only part of one.
func decodeKey(b []byte) (key, int) {
	switch c := b[0]; {
	case c == 0x1b:
		return decodeEscape(b)
	case c == '\r':
		return key{kind: keyEnter}, 1
	case c == '\n':
		return key{kind: keyNewline}, 1
	case c == 0x7f || c == 0x08:
		return key{kind: keyBackspace}, 1
	case c == 0x01:
		return key{kind: keyHome}, 1
	case c == 0x05:
		return key{kind: keyEnd}, 1
	case c == 0x02:
		return key{kind: keyLeft}, 1
	case c == 0x06:
		return key{kind: keyRight}, 1
	case c == 0x10:
		return key{kind: keyUp}, 1
	case c == 0x0e:
		return key{kind: keyDown}, 1
	case c == 0x15:
		return key{kind: keyKillLine}, 1
	case c == 0x0b:
		return key{kind: keyKillEnd}, 1
	case c == 0x17:
		return key{kind: keyKillWord}, 1
	case c == 0x0c:
		return key{kind: keyClear}, 1
	case c == 0x03:
		return key{kind: keyInterrupt}, 1
	case c == 0x04:
		return key{kind: keyEOF}, 1
	case c == '\t':
		return key{kind: keyRune, r: ' '}, 1
	case c < 0x20:
		return key{kind: keyUnknown}, 1
	}
	if !utf8.FullRune(b) {
		return key{}, 0
	}
	r, n := utf8.DecodeRune(b)
	return key{kind: keyRune, r: r}, n
}

// decodeEscape decodes an escape sequence: CSI (ESC [) and SS3 (ESC O)
// cursor keys, Alt-b/Alt-f, and the paste marker.
func decodeEscape(b []byte) (key, int) {
	if len(b) < 2 {
		return key{}, 0
	}
	switch b[1] {
	case '[':
		return decodeCSI(b)
	case 'O':
		if len(b) < 3 {
			return key{}, 0
		}
		return key{kind: csiFinalKey(b[2], "")}, 3
	case 'b':
		return key{kind: keyWordLeft}, 2
	case 'f':
		return key{kind: keyWordRight}, 2
	case 0x7f:
		return key{kind: keyKillWord}, 2
	case 0x1b:
		return key{kind: keyEsc}, 1
	}
	return key{kind: keyEsc}, 1 // Escape, then an ordinary key
}

// decodeCSI decodes ESC [ params final.
func decodeCSI(b []byte) (key, int) {
	for i := 2; i < len(b); i++ {
		c := b[i]
		if c >= 0x40 && c <= 0x7e {
			params := string(b[2:i])
			if c == '~' && params == "200" {
				return key{kind: keyPaste}, i + 1
			}
			return key{kind: csiFinalKey(c, params)}, i + 1
		}
		if i > 32 { // no key is this long: drop it
			return key{kind: keyUnknown}, i + 1
		}
	}
	return key{}, 0
}

func csiFinalKey(final byte, params string) keyKind {
	ctrl := strings.HasSuffix(params, ";5") || strings.HasSuffix(params, ";3")
	switch final {
	case 'A':
		return keyUp
	case 'B':
		return keyDown
	case 'C':
		if ctrl {
			return keyWordRight
		}
		return keyRight
	case 'D':
		if ctrl {
			return keyWordLeft
		}
		return keyLeft
	case 'H':
		return keyHome
	case 'F':
		return keyEnd
	case '~':
		switch strings.SplitN(params, ";", 2)[0] {
		case "1", "7":
			return keyHome
		case "4", "8":
			return keyEnd
		case "3":
			return keyDelete
		}
	}
	return keyUnknown
}

// runeWidth is the number of terminal columns r takes: 0 for combining
// marks and invisible formatting, 2 for East Asian wide characters and
// emoji, 1 otherwise.
func runeWidth(r rune) int {
	switch {
	case r == 0:
		return 0
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0
	case r >= 0xfe00 && r <= 0xfe0f: // variation selectors
		return 0
	case isWide(r):
		return 2
	}
	return 1
}

// wideRanges are the East Asian Wide and Fullwidth blocks and the emoji
// blocks that terminals draw two columns wide.
var wideRanges = [][2]rune{
	{0x1100, 0x115f}, {0x231a, 0x231b}, {0x2329, 0x232a}, {0x23e9, 0x23ec},
	{0x23f0, 0x23f0}, {0x23f3, 0x23f3}, {0x25fd, 0x25fe}, {0x2614, 0x2615},
	{0x2648, 0x2653}, {0x267f, 0x267f}, {0x2693, 0x2693}, {0x26a1, 0x26a1},
	{0x26aa, 0x26ab}, {0x26bd, 0x26be}, {0x26c4, 0x26c5}, {0x26ce, 0x26ce},
	{0x26d4, 0x26d4}, {0x26ea, 0x26ea}, {0x26f2, 0x26f3}, {0x26f5, 0x26f5},
	{0x26fa, 0x26fa}, {0x26fd, 0x26fd}, {0x2705, 0x2705}, {0x270a, 0x270b},
	{0x2728, 0x2728}, {0x274c, 0x274c}, {0x274e, 0x274e}, {0x2753, 0x2755},
	{0x2757, 0x2757}, {0x2795, 0x2797}, {0x27b0, 0x27b0}, {0x27bf, 0x27bf},
	{0x2b1b, 0x2b1c}, {0x2b50, 0x2b50}, {0x2b55, 0x2b55}, {0x2e80, 0x303e},
	{0x3041, 0x33ff}, {0x3400, 0x4dbf}, {0x4e00, 0x9fff}, {0xa000, 0xa4cf},
	{0xa960, 0xa97f}, {0xac00, 0xd7a3}, {0xf900, 0xfaff}, {0xfe10, 0xfe19},
	{0xfe30, 0xfe6f}, {0xff00, 0xff60}, {0xffe0, 0xffe6}, {0x16fe0, 0x16fe4},
	{0x17000, 0x18cff}, {0x1b000, 0x1b2ff}, {0x1f004, 0x1f004}, {0x1f0cf, 0x1f0cf},
	{0x1f18e, 0x1f18e}, {0x1f191, 0x1f19a}, {0x1f200, 0x1f251}, {0x1f300, 0x1f64f},
	{0x1f680, 0x1f6ff}, {0x1f7e0, 0x1f7eb}, {0x1f90c, 0x1f9ff}, {0x1fa70, 0x1faff},
	{0x20000, 0x3fffd},
}

func isWide(r rune) bool {
	if r < 0x1100 {
		return false
	}
	for _, w := range wideRanges {
		if r < w[0] {
			return false
		}
		if r <= w[1] {
			return true
		}
	}
	return false
}

// textWidth is the number of columns s takes on one line, a grapheme
// cluster at a time (an emoji with a skin tone is one, two columns wide).
func textWidth(s string) int {
	n := 0
	for len(s) > 0 {
		size := graphemeLenString(s)
		n += graphemeWidthString(s[:size])
		s = s[size:]
	}
	return n
}

// editor is the input area at the bottom of the screen: a prompt and a
// draft that may span several lines. Everything written to the terminal
// while it is shown goes through it, so output lands above the draft and
// never scrambles it. The cursor moves, deletes and wraps by grapheme
// cluster (grapheme.go): what a reader sees as one character.
type editor struct {
	mu     sync.Mutex
	out    io.Writer
	width  int
	prompt string
	hidden bool // a password: nothing of the draft is drawn
	limit  int  // bytes a draft may hold: what one message carries

	buf     []rune
	pos     int  // cursor index in buf, always at a cluster boundary
	pasted  bool // the draft holds pasted text: Enter sends it, never as a command
	history []string
	histAt  int    // index into history while browsing; len(history) when not
	saved   []rune // the draft put aside while browsing history

	shown     bool  // the input area is on screen
	cursorRow int   // rows from the top of the input area to the cursor
	cursorCol int   // the cursor's column
	rowWidths []int // columns used by each row drawn, for a resize
}

// editorHistoryMax bounds the history kept in memory.
const editorHistoryMax = 200

// editorDefaultLimit is the draft's limit until setLimit: pypeer's
// message size.
const editorDefaultLimit = 65536

func newEditor(out io.Writer, width int) *editor {
	if width <= 0 {
		width = 80
	}
	return &editor{out: out, width: width, limit: editorDefaultLimit}
}

// setPrompt shows a new prompt with an empty draft.
func (e *editor) setPrompt(prompt string, hidden bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.prompt, e.hidden = prompt, hidden
	e.buf, e.pos, e.pasted = nil, 0, false
	e.histAt = len(e.history)
	e.redrawLocked()
}

// setLimit sets how many bytes a draft may hold: the most the chat's
// channel carries in one message.
func (e *editor) setLimit(bytes int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.limit = bytes
}

// setWidth records a new terminal width and redraws. The terminal has
// rewrapped what was drawn to the new width already, as tmux, VTE, kitty,
// iTerm2 and Windows Terminal do, so the input area now starts higher up
// when it got narrower; clearing from where it starts now leaves no ghost
// copy of the draft behind.
func (e *editor) setWidth(width int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if width > 0 && e.shown {
		e.cursorRow = rewrappedRows(e.rowWidths[:e.cursorRow], width) + e.cursorCol/width
	}
	if width > 0 {
		e.width = width
	}
	e.redrawLocked()
}

// columns is the terminal's width.
func (e *editor) columns() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.width
}

// rewrappedRows is how many rows rows of these widths take once rewrapped
// to width columns.
func rewrappedRows(widths []int, width int) int {
	n := 0
	for _, w := range widths {
		n += max(1, (w+width-1)/width)
	}
	return n
}

// hide takes the input area off the screen (before the program moves on).
func (e *editor) hide() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.clearLocked()
}

// printAbove writes text (which must be safe for the terminal) above the
// input area, then redraws the draft below it.
func (e *editor) printAbove(text string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.clearLocked()
	text = strings.TrimSuffix(text, "\n")
	io.WriteString(e.out, strings.ReplaceAll(text, "\n", "\r\n")+"\r\n")
	e.redrawLocked()
}

// write sends raw bytes to the terminal with the input area out of the way.
func (e *editor) write(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.clearLocked()
	io.WriteString(e.out, s)
	e.redrawLocked()
}

// edit is what one key did to the draft.
type edit struct {
	line    string // with done: the line Enter completed
	pasted  bool   // with done: it holds pasted text
	done    bool   // Enter completed a line
	refused string // what the editor would not take, and why; "" when all went in
}

// handle applies one key.
func (e *editor) handle(k key) edit {
	e.mu.Lock()
	defer e.mu.Unlock()
	var ed edit
	switch k.kind {
	case keyRune:
		if !e.insert([]rune{k.r}) {
			ed.refused = fmt.Sprintf("the message is full: one carries at most %d bytes", e.limit)
		}
	case keyPaste:
		ed.refused = e.paste(k)
	case keyNewline:
		if !e.hidden {
			e.insert([]rune{'\n'})
		}
	case keyEnter:
		if e.pos == len(e.buf) && e.pos > 0 && e.buf[e.pos-1] == '\\' && !e.pasted && !e.hidden {
			e.buf[e.pos-1] = '\n' // a trailing backslash continues the message
			break
		}
		ed = edit{line: string(e.buf), pasted: e.pasted, done: true}
		e.addHistory(ed.line)
		e.buf, e.pos, e.pasted = nil, 0, false
	case keyBackspace:
		e.cut(e.clusterBefore(e.pos), e.pos)
	case keyDelete, keyEOF:
		// Ctrl-D deletes under the cursor, as in readline; on an empty
		// draft the caller takes it as leaving.
		e.cut(e.pos, e.clusterAfter(e.pos))
	case keyLeft:
		e.pos = e.clusterBefore(e.pos)
	case keyRight:
		e.pos = e.clusterAfter(e.pos)
	case keyHome:
		e.pos = e.lineStart()
	case keyEnd:
		e.pos = e.lineEnd()
	case keyWordLeft:
		e.pos = e.snap(e.wordLeft())
	case keyWordRight:
		for e.pos < len(e.buf) && unicode.IsSpace(e.buf[e.pos]) {
			e.pos++
		}
		for e.pos < len(e.buf) && !unicode.IsSpace(e.buf[e.pos]) {
			e.pos++
		}
		e.pos = e.snap(e.pos)
	case keyKillLine:
		e.cut(e.lineStart(), e.pos)
	case keyKillEnd:
		e.cut(e.pos, e.lineEnd())
	case keyKillWord:
		e.cut(e.wordLeft(), e.pos)
	case keyUp:
		e.browseHistory(-1)
	case keyDown:
		e.browseHistory(+1)
	case keyClear:
		// Ctrl-L redraws the input area, below, in place.
	}
	e.redrawLocked()
	return ed
}

// empty reports whether the draft holds nothing.
func (e *editor) empty() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.buf) == 0
}

// paste inserts pasted text, its line ends (CR LF, or a bare CR, as
// terminals send them) made newlines. A paste that does not fit in the
// message is refused whole rather than cut where nobody can see.
func (e *editor) paste(k key) string {
	text := strings.ReplaceAll(strings.ReplaceAll(k.text, "\r\n", "\n"), "\r", "\n")
	if k.cut || len(string(e.buf))+len(text) > e.limit {
		size := fmt.Sprintf("%d bytes", len(text))
		if k.cut {
			size = fmt.Sprintf("over %d bytes", maxPaste)
		}
		return fmt.Sprintf("the paste was not inserted: it is %s, and one message carries at most %d bytes (with the draft)", size, e.limit)
	}
	e.insert([]rune(text))
	e.pasted = true
	return ""
}

// insert puts rs at the cursor if the draft can hold them all.
func (e *editor) insert(rs []rune) bool {
	n := 0
	for _, r := range rs {
		n += utf8.RuneLen(r)
	}
	if len(string(e.buf))+n > e.limit {
		return false
	}
	e.buf = append(e.buf[:e.pos], append(rs, e.buf[e.pos:]...)...)
	e.pos = e.snap(e.pos + len(rs))
	return true
}

// cut deletes buf[from:to] and leaves the cursor at from.
func (e *editor) cut(from, to int) {
	if from >= to {
		return
	}
	e.buf = append(e.buf[:from], e.buf[to:]...)
	e.pos = e.snap(from)
}

// clusterBefore is the cluster boundary before i: where Left and
// Backspace go.
func (e *editor) clusterBefore(i int) int {
	if i <= 0 {
		return 0
	}
	return graphemeStart(e.buf, i)
}

// clusterAfter is the cluster boundary after i: where Right goes, and
// what Delete takes.
func (e *editor) clusterAfter(i int) int {
	if i >= len(e.buf) {
		return len(e.buf)
	}
	start := graphemeStart(e.buf, i+1)
	return start + graphemeLen(e.buf[start:])
}

// snap moves i forward to a cluster boundary, for a cursor left inside a
// cluster by an edit (a combining mark typed after the cursor's letter).
func (e *editor) snap(i int) int {
	if i <= 0 || i >= len(e.buf) {
		return min(max(i, 0), len(e.buf))
	}
	start := graphemeStart(e.buf, i)
	return max(i, start+graphemeLen(e.buf[start:]))
}

func (e *editor) lineStart() int {
	i := e.pos
	for i > 0 && e.buf[i-1] != '\n' {
		i--
	}
	return i
}

func (e *editor) lineEnd() int {
	i := e.pos
	for i < len(e.buf) && e.buf[i] != '\n' {
		i++
	}
	return i
}

func (e *editor) wordLeft() int {
	i := e.pos
	for i > 0 && unicode.IsSpace(e.buf[i-1]) {
		i--
	}
	for i > 0 && !unicode.IsSpace(e.buf[i-1]) {
		i--
	}
	return i
}

func (e *editor) addHistory(line string) {
	if e.hidden || strings.TrimSpace(line) == "" {
		return
	}
	if n := len(e.history); n == 0 || e.history[n-1] != line {
		e.history = append(e.history, line)
	}
	if len(e.history) > editorHistoryMax {
		e.history = e.history[len(e.history)-editorHistoryMax:]
	}
	e.histAt = len(e.history)
}

// browseHistory moves through earlier lines with Up and Down. In a
// multi-line draft, Up and Down move between its lines instead.
func (e *editor) browseHistory(step int) {
	if e.hidden {
		return
	}
	if strings.ContainsRune(string(e.buf), '\n') {
		e.moveLine(step)
		return
	}
	next := e.histAt + step
	if next < 0 || next > len(e.history) {
		return
	}
	if e.histAt == len(e.history) {
		e.saved = append([]rune(nil), e.buf...)
	}
	e.histAt = next
	if next == len(e.history) {
		e.buf = e.saved
	} else {
		e.buf = []rune(e.history[next])
	}
	e.pos, e.pasted = len(e.buf), false
}

// moveLine moves the cursor to the line above or below in the draft.
func (e *editor) moveLine(step int) {
	col := e.pos - e.lineStart()
	if step < 0 {
		start := e.lineStart()
		if start == 0 {
			return
		}
		e.pos = start - 1
		e.pos = e.snap(min(e.lineStart()+col, e.lineEnd()))
		return
	}
	end := e.lineEnd()
	if end == len(e.buf) {
		return
	}
	e.pos = end + 1
	e.pos = e.snap(min(e.pos+col, e.lineEnd()))
}

// clearLocked erases the input area, leaving the cursor where it began.
func (e *editor) clearLocked() {
	if !e.shown {
		return
	}
	var b strings.Builder
	if e.cursorRow > 0 {
		b.WriteString("\x1b[" + itoa(e.cursorRow) + "A")
	}
	b.WriteString("\r\x1b[J")
	io.WriteString(e.out, b.String())
	e.shown, e.cursorRow, e.cursorCol = false, 0, 0
}

// redrawLocked draws the prompt and the draft and puts the cursor in place.
func (e *editor) redrawLocked() {
	e.clearLocked()
	if e.prompt == "" && len(e.buf) == 0 {
		return
	}
	d := e.render()
	var b strings.Builder
	b.WriteString(d.text)
	row := d.endRow
	if d.curRow > row { // the cursor sits past a full last row
		b.WriteString("\r\n")
		row++
		d.rowWidths = append(d.rowWidths, 0)
	}
	b.WriteString("\r")
	if up := row - d.curRow; up > 0 {
		b.WriteString("\x1b[" + itoa(up) + "A")
	}
	if d.curCol > 0 {
		b.WriteString("\x1b[" + itoa(d.curCol) + "C")
	}
	io.WriteString(e.out, b.String())
	e.shown, e.cursorRow, e.cursorCol, e.rowWidths = true, d.curRow, d.curCol, d.rowWidths
}

// continuationIndent starts every line of a multi-line draft after the
// first, so it reads as one message.
const continuationIndent = "  "

// drawing is the input area laid out for the terminal.
type drawing struct {
	text           string // what to write, rows separated by "\r\n"
	endRow         int    // the row the terminal cursor is on after text
	curRow, curCol int    // where the editing cursor belongs
	rowWidths      []int  // columns used by each row
}

// render lays out the prompt and the draft on rows of e.width columns,
// wrapping as a terminal does but a grapheme cluster at a time: a cluster
// that does not fit moves to the next row whole, so neither a wide
// character nor an emoji sequence ever straddles two rows.
func (e *editor) render() drawing {
	var b strings.Builder
	var d drawing
	col := 0
	newRow := func() {
		b.WriteString("\r\n")
		d.rowWidths = append(d.rowWidths, col)
		d.endRow, col = d.endRow+1, 0
	}
	put := func(s string, w int) {
		if col+w > e.width && col > 0 {
			newRow()
		}
		b.WriteString(s)
		col += w
	}
	for p := e.prompt; len(p) > 0; {
		n := graphemeLenString(p)
		put(p[:n], graphemeWidthString(p[:n]))
		p = p[n:]
	}
	d.curRow = -1
	for i := 0; i < len(e.buf) && !e.hidden; {
		n := graphemeLen(e.buf[i:])
		if i == e.pos {
			d.curRow, d.curCol = d.endRow, col
		}
		cluster := string(e.buf[i : i+n])
		i += n
		if cluster == "\n" {
			newRow()
			put(continuationIndent, len(continuationIndent))
			continue
		}
		shown := sanitize(cluster)
		put(shown, textWidth(shown))
	}
	if d.curRow < 0 {
		d.curRow, d.curCol = d.endRow, col
	}
	if d.curCol >= e.width {
		d.curRow, d.curCol = d.curRow+1, 0
	}
	d.rowWidths = append(d.rowWidths, col)
	d.text = b.String()
	return d
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
