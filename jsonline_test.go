package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// jsonLineCases are texts whose encoding and decoding must agree with
// encoding/json exactly: every escape encoding/json writes, invalid UTF-8,
// the JavaScript line separators and a maximal message.
var jsonLineCases = []string{
	"",
	"hello",
	"héllo wörld ✓ 你好 🎉",
	`quote " and backslash \`,
	"new\nline, tab\t, cr\r, bell\a, nul\x00, backspace\b, form feed\f, esc\x1b, del\x7f",
	"invalid \xff\xfe utf-8 \xc3",
	"line sep \u2028 para sep \u2029",
	"<html> & 'quotes'",
	"\u202eevil bidi",
	strings.Repeat("x", pypeerChannel.maxBytes),
	strings.Repeat("é\n", 1000),
}

func TestAppendMessageEventMatchesEncodingJSON(t *testing.T) {
	for _, text := range jsonLineCases {
		if got, want := string(appendMessageEvent(nil, text)), encodingJSONEvent(text); got != want {
			t.Errorf("appendMessageEvent(%q)\n got %q\nwant %q", abbreviate(text), abbreviate(got), abbreviate(want))
		}
	}
}

func TestDecodeTextLine(t *testing.T) {
	for _, text := range jsonLineCases {
		line, _ := json.Marshal(map[string]string{"text": text})
		got, ok := decodeTextLine(string(line))
		if want := encodingJSONText(t, line); !ok || got != want {
			t.Errorf("decodeTextLine(%q) = %q, %v; want %q", abbreviate(string(line)), abbreviate(got), ok, abbreviate(want))
		}
	}
	for _, tc := range []struct {
		line, want string
		ok         bool
	}{
		{`{"text":"plain"}`, "plain", true},
		{`{"text":"caf\u00e9"}`, "café", true},
		{`{"text":"a\"b"}`, `a"b`, true},
		{` {"text": "spaced"} `, "spaced", true},
		{`{"TEXT":"any case, as encoding/json"}`, "any case, as encoding/json", true},
		{`{"text":"first","text":"last wins"}`, "last wins", true},
		{`{"text":"raw ` + "\xff" + `"}`, "raw \uFFFD", true},
		{`{"text":""}`, "", true},
		{`{"text":"unterminated}`, "", false},
		{`{"text":"a"}"}`, "", false},
		{`{"text":"raw` + "\n" + `newline"}`, "", false},
		{`{"text":5}`, "", false},
		{`{"other":"x"}`, "", false},
		{`"text"`, "", false},
		{`hello`, "", false},
		{``, "", false},
	} {
		got, ok := decodeTextLine(tc.line)
		if got != tc.want || ok != tc.ok {
			t.Errorf("decodeTextLine(%q) = %q, %v; want %q, %v", tc.line, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzJSONLine checks both fast paths against encoding/json on any input:
// the line {"text":s} decodes as encoding/json decodes it, s encodes as
// encoding/json encodes it, and any line at all decodes the same way.
func FuzzJSONLine(f *testing.F) {
	for _, s := range jsonLineCases {
		f.Add(s)
	}
	f.Add(`{"text":"x"}`)
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendMessageEvent(nil, s)), encodingJSONEvent(s); got != want {
			t.Fatalf("appendMessageEvent(%q) = %q, want %q", s, got, want)
		}
		for _, line := range []string{`{"text":"` + s + `"}`, s} {
			got, ok := decodeTextLine(line)
			var in struct {
				Text *string `json:"text"`
			}
			err := json.Unmarshal([]byte(line), &in)
			wantOK := err == nil && in.Text != nil
			if ok != wantOK || (ok && got != *in.Text) {
				t.Fatalf("decodeTextLine(%q) = %q, %v; encoding/json: %v, %v", line, got, ok, in.Text, err)
			}
		}
	})
}

func encodingJSONEvent(text string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]string{"event": "message", "text": text})
	return b.String()
}

func encodingJSONText(t *testing.T, line []byte) string {
	t.Helper()
	var in struct{ Text string }
	if err := json.Unmarshal(line, &in); err != nil {
		t.Fatal(err)
	}
	return in.Text
}

func BenchmarkJSONLine(b *testing.B) {
	text := strings.Repeat("x", 16<<10)
	line, _ := json.Marshal(map[string]string{"text": text})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			if _, ok := decodeTextLine(string(line)); !ok {
				b.Fatal("not decoded")
			}
		}
	})
	b.Run("decode-encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			var in struct{ Text *string }
			if err := json.Unmarshal(line, &in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		var buf []byte
		for b.Loop() {
			buf = appendMessageEvent(buf[:0], text)
		}
	})
	b.Run("encode-encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(map[string]string{"event": "message", "text": text})
		}
	})
}
