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

	// status is a line of gopeer's own (a transfer's progress) drawn at
	// the top of the input area, above the prompt, never in the draft.
	status string

	shown     bool  // the input area is on screen
	cursorRow int   // rows from the top of the input area to the cursor
	cursorCol int   // the cursor's column
	rowWidths []int // columns used by each row drawn, for a resize

	// Where printed lines are, for marking one later (mark): rows printed
	// above the input area so far, the terminal's height, and an epoch
	// that changes whenever the rows above can no longer be counted (a
	// resize rewraps them, a raw write may move anything).
	printed int
	height  int
	epoch   int
}

// place is where a mark can go on a printed line: its row, counted in
// rows printed, and the column after its text.
type place struct {
	epoch, row, col int
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
	e.epoch++
	e.redrawLocked()
}

// setHeight records the terminal's height, which bounds the lines a mark
// can still reach (0: unknown, no marks).
func (e *editor) setHeight(height int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.height = height
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
	e.printAboveAt(text)
}

// printAboveAt is printAbove, and it says where a mark can go after the
// text's last line (mark). The caller leaves room for the mark: two
// columns on that line.
func (e *editor) printAboveAt(text string) place {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.clearLocked()
	text = strings.TrimSuffix(text, "\n")
	io.WriteString(e.out, strings.ReplaceAll(text, "\n", "\r\n")+"\r\n")
	last := 0
	for line := range strings.SplitSeq(text, "\n") {
		last = visibleWidth(line)
		e.printed += max(1, (last+e.width-1)/e.width)
	}
	e.redrawLocked()
	return place{epoch: e.epoch, row: e.printed - 1, col: last + 1}
}

// mark draws glyph (one column wide, safe for the terminal) at p, on a
// line printed before, and reports whether it could: not when the
// terminal was resized or written to raw since, nor when the line has
// scrolled off the screen. The input area and the cursor stay as they are.
func (e *editor) mark(p place, glyph string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	areaRows, cursorRow := 0, 0
	if e.shown {
		areaRows, cursorRow = len(e.rowWidths), e.cursorRow
	}
	above := e.printed - p.row // rows from the line to the input area's top
	if p.epoch != e.epoch || p.col >= e.width || above < 1 || above+max(areaRows, 1) > e.height {
		return false
	}
	up := above + cursorRow
	var b strings.Builder
	b.WriteString("\x1b[" + itoa(up) + "A\r")
	if p.col > 0 {
		b.WriteString("\x1b[" + itoa(p.col) + "C")
	}
	b.WriteString(glyph + "\x1b[" + itoa(up) + "B\r")
	if e.cursorCol > 0 && e.shown {
		b.WriteString("\x1b[" + itoa(e.cursorCol) + "C")
	}
	io.WriteString(e.out, b.String())
	return true
}

// visibleWidth is how many columns line takes on the terminal: its text,
// without the colour sequences (CSI ... m) gopeer writes.
func visibleWidth(line string) int {
	var b strings.Builder
	for len(line) > 0 {
		i := strings.Index(line, "\x1b[")
		if i < 0 {
			b.WriteString(line)
			break
		}
		b.WriteString(line[:i])
		end := strings.IndexFunc(line[i+2:], func(r rune) bool { return r >= 0x40 && r <= 0x7e })
		if end < 0 {
			break
		}
		line = line[i+2+end+1:]
	}
	return textWidth(strings.ReplaceAll(b.String(), "\r", ""))
}

// write sends raw bytes to the terminal with the input area out of the way.
// What it writes may move anything: no mark reaches above it.
func (e *editor) write(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.clearLocked()
	io.WriteString(e.out, s)
	e.epoch++
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
	case keyTab: // what completion leaves to the editor: a space, as before
		if !e.insert([]rune{' '}) {
			ed.refused = fmt.Sprintf("the message is full: one carries at most %d bytes", e.limit)
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

// draft is the text being typed.
func (e *editor) draft() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return string(e.buf)
}

// setDraft replaces the text being typed, the cursor at its end (a
// completion).
func (e *editor) setDraft(text string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.buf = []rune(text)
	e.pos = len(e.buf)
	e.redrawLocked()
}

// setStatus shows line (safe for the terminal, one row) above the
// prompt, or nothing for "". The draft and the cursor stay as they are.
func (e *editor) setStatus(line string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if line == e.status {
		return
	}
	e.status = line
	e.redrawLocked()
}

// paste inserts pasted text, its line ends (CR LF, or a bare CR, as
// terminals send them) made newlines. A paste that does not fit in the
// message is refused whole rather than cut where nobody can see.
func (e *editor) paste(k key) string {
	text := strings.ReplaceAll(strings.ReplaceAll(k.text, "\r\n", "\n"), "\r", "\n")
	if k.cut || runeBytes(e.buf)+len(text) > e.limit {
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
	if runeBytes(e.buf)+runeBytes(rs) > e.limit {
		return false
	}
	e.buf = append(e.buf[:e.pos], append(rs, e.buf[e.pos:]...)...)
	e.pos = e.snap(e.pos + len(rs))
	return true
}

// runeBytes is how many bytes rs takes as UTF-8, without making the string.
func runeBytes(rs []rune) int {
	n := 0
	for _, r := range rs {
		n += utf8.RuneLen(r)
	}
	return n
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
	if e.prompt == "" && len(e.buf) == 0 && e.status == "" {
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
	if e.status != "" {
		// One row, never wrapped: cut to the width, a cluster at a time.
		w := 0
		for p := e.status; len(p) > 0; {
			n := graphemeLenString(p)
			cw := graphemeWidthString(p[:n])
			if w+cw > e.width-1 {
				break
			}
			b.WriteString(p[:n])
			w, p = w+cw, p[n:]
		}
		col = w
		newRow()
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
