package main

// The one sanitizer: everything gopeer prints that it did not write itself
// (a peer's messages, a board's answers, text quoted in an error) goes
// through sanitize or sanitizeLine first, on every output path.

import (
	"fmt"
	"strings"
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

// sanitizeLine is sanitize for text that must stay on one line, such as an
// error or a log line: a newline shows as ␤ rather than starting a line
// someone else wrote.
func sanitizeLine(s string) string {
	return strings.ReplaceAll(sanitize(s), "\n", "\u2424")
}
