package main

// This file turns what a terminal sends into keys: characters, control
// keys, escape sequences (CSI and SS3 cursor keys, Alt combinations) and
// bracketed pastes, a chunk of input at a time.

import (
	"strings"
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
	keyTab       // Tab: completes a path after /send; a space elsewhere
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
		return key{kind: keyTab}, 1
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
