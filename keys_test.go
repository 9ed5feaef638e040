package main

import (
	"bytes"
	"reflect"
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
