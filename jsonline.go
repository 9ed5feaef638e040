package main

import (
	"encoding/json"
	"unicode/utf8"
)

// The -json chat carries every message as one line each way: {"text":"…"}
// in, {"event":"message","text":"…"} out. encoding/json validates a line in
// one pass and decodes it in a second, and spent about a tenth of a bulk
// transfer's CPU doing so; these two functions handle the common shape in
// one pass and leave everything else to encoding/json, so what they accept
// and produce is exactly what encoding/json would.

// decodeTextLine returns the text of an input line {"text":"…"}. A line of
// exactly that shape, whose text needs no unescaping and is valid UTF-8, is
// sliced without copying; any other line goes through encoding/json. ok is
// false when the line is not a JSON object with a string "text".
func decodeTextLine(line string) (text string, ok bool) {
	const prefix, suffix = `{"text":"`, `"}`
	if len(line) >= len(prefix)+len(suffix) && line[:len(prefix)] == prefix && line[len(line)-len(suffix):] == suffix {
		body := line[len(prefix) : len(line)-len(suffix)]
		if isPlainJSONString(body) {
			return body, true
		}
	}
	var in struct {
		Text *string `json:"text"`
	}
	if err := json.Unmarshal([]byte(line), &in); err != nil || in.Text == nil {
		return "", false
	}
	return *in.Text, true
}

// isPlainJSONString reports whether s, placed between quotes, is a JSON
// string that decodes to s itself: valid UTF-8 with no quote, backslash or
// control character.
func isPlainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return utf8.ValidString(s)
}

// appendMessageEvent appends {"event":"message","text":…} and a newline,
// byte for byte what encoding/json's Encoder (with SetEscapeHTML(false))
// writes for that map.
func appendMessageEvent(dst []byte, text string) []byte {
	dst = append(dst, `{"event":"message","text":`...)
	dst = appendJSONString(dst, text)
	return append(dst, "}\n"...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string the way encoding/json does
// without HTML escaping: short escapes for \b \f \n \r \t " and \, \u00XX
// for other control characters, \u2028 and \u2029 escaped (JavaScript
// treats them as line ends), invalid UTF-8 as \ufffd.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
