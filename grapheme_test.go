package main

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// graphemeCases are texts written as the clusters they must split into.
var graphemeCases = []struct {
	name     string
	clusters []string
}{
	{"empty", nil},
	{"ascii", []string{"h", "i", " ", "!"}},
	{"crlf", []string{"a", "\r\n", "b"}},
	{"cr cr lf", []string{"\r", "\r\n"}},
	{"lf cr", []string{"\n", "\r"}},
	{"combining acute", []string{"e\u0301", "x"}},
	{"two marks", []string{"a\u0316\u0301", "b"}},
	{"mark at start", []string{"\u0301", "a"}},
	{"space takes a mark", []string{" \u0308"}},
	{"jamo L V T", []string{"\u1100\u1161\u11a8", "\u1100"}},
	{"jamo L L V", []string{"\u1100\u1100\u1161"}},
	{"jamo V then L", []string{"\u1161", "\u1100"}},
	{"jamo T then V", []string{"\u11a8", "\u1161"}},
	{"extended jamo", []string{"\ua960\ud7b0\ud7cb"}},
	{"syllables", []string{"\ud55c", "\uae00"}},
	{"LV + T", []string{"\uac00\u11a8"}},
	{"LV + V", []string{"\uac00\u1161"}},
	{"LVT + T", []string{"\uac01\u11a8"}},
	{"LVT + V", []string{"\uac01", "\u1161"}},
	{"thumbs up medium skin", []string{"\U0001f44d\U0001f3fd", "!"}},
	{"skin tone alone", []string{"a\U0001f3fd"}},
	{"family", []string{"\U0001f468\u200d\U0001f469\u200d\U0001f467"}},
	{"family and a man", []string{"\U0001f468\u200d\U0001f469\u200d\U0001f467", "\U0001f468"}},
	{"skin tone inside zwj", []string{"\U0001f468\U0001f3fd\u200d\U0001f9b0"}},
	{"rainbow flag", []string{"\U0001f3f3\ufe0f\u200d\U0001f308"}},
	{"heart on fire", []string{"\u2764\ufe0f\u200d\U0001f525"}},
	{"zwj after a letter", []string{"a\u200d", "\U0001f308"}},
	{"double zwj", []string{"\U0001f468\u200d\u200d", "\U0001f469"}},
	{"lone zwj", []string{"\u200d"}},
	{"zwj between letters", []string{"a\u200d", "b"}},
	{"two flags", []string{"\U0001f1eb\U0001f1f7", "\U0001f1e9\U0001f1ea"}},
	{"three indicators", []string{"\U0001f1eb\U0001f1f7", "\U0001f1e9"}},
	{"indicator after a letter", []string{"a", "\U0001f1eb\U0001f1f7", "\U0001f1e9\u0301"}},
	{"flag and a mark", []string{"\U0001f1eb\U0001f1f7\u0301", "\U0001f1e9"}},
	{"keycap", []string{"1\ufe0f\u20e3", "2"}},
	{"devanagari spacing mark", []string{"\u0915\u093f", "\u0928\u0903"}},
	{"devanagari conjunct", []string{"\u0928", "\u092e", "\u0938\u094d\u0924\u0947"}},
	{"conjunct ksha", []string{"\u0915\u094d\u0937"}},
	{"conjunct with zwj", []string{"\u0915\u094d\u200d\u0937"}},
	{"zwnj stops a conjunct", []string{"\u0915\u094d\u200c", "\u0937"}},
	{"virama without a consonant", []string{"a\u094d", "\u0937"}},
	{"thai sara am", []string{"\u0e01\u0e33"}},
	{"myanmar tall aa is no spacing mark", []string{"\u1000", "\u102b"}},
	{"prepend", []string{"\u06001", "2"}},
	{"prepend repha", []string{"\u0d4e\u0d15"}},
	{"prepend at the end", []string{"a", "\u0600"}},
	{"prepend before a control", []string{"\u0600", "\n"}},
	{"controls break", []string{"a", "\t", "\u0301", "\x00", "b"}},
	{"control takes no mark", []string{"\x7f", "\u0301"}},
	{"format char is a control", []string{"a", "\u200b", "\u0301"}},
	{"zwnj extends", []string{"a\u200c", "b"}},
	{"line separator", []string{"a", "\u2028", "b"}},
	{"replacement char", []string{"\ufffd\u0301", "a"}},
	{"tag sequence flag", []string{"\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"}},
	{"cjk", []string{"\u4e2d", "\u6587", "\U00020000"}},
}

// graphemeBoundaries returns the end of every cluster of rs, walking forward
// with graphemeLen.
func graphemeBoundaries(t testing.TB, rs []rune) []int {
	var ends []int
	for p := 0; p < len(rs); {
		n := graphemeLen(rs[p:])
		if n < 1 || n > len(rs)-p {
			t.Fatalf("graphemeLen(%+q) = %d", string(rs[p:]), n)
		}
		p += n
		ends = append(ends, p)
	}
	return ends
}

// graphemeBoundariesBack returns the same ends found by walking backwards
// from the end of rs with graphemeStart.
func graphemeBoundariesBack(t testing.TB, rs []rune) []int {
	var ends []int
	for i := len(rs); i > 0; {
		ends = append(ends, i)
		j := graphemeStart(rs, i)
		if j < 0 || j >= i {
			t.Fatalf("graphemeStart(%+q, %d) = %d", string(rs), i, j)
		}
		i = j
	}
	slices.Reverse(ends)
	return ends
}

// checkGraphemeStart checks graphemeStart at every index of rs against the
// forward boundaries ends.
func checkGraphemeStart(t testing.TB, rs []rune, ends []int) {
	if got := graphemeStart(rs, 0); got != 0 {
		t.Errorf("graphemeStart(%+q, 0) = %d, want 0", string(rs), got)
	}
	start := 0
	for _, end := range ends {
		for i := start + 1; i <= end; i++ {
			if got := graphemeStart(rs, i); got != start {
				t.Errorf("graphemeStart(%+q, %d) = %d, want %d", string(rs), i, got, start)
			}
		}
		start = end
	}
}

func TestGraphemeLen(t *testing.T) {
	for _, tc := range graphemeCases {
		rs := []rune(strings.Join(tc.clusters, ""))
		var got []string
		start := 0
		for _, end := range graphemeBoundaries(t, rs) {
			got = append(got, string(rs[start:end]))
			start = end
		}
		if !slices.Equal(got, tc.clusters) {
			t.Errorf("%s: clusters %+q, want %+q", tc.name, got, tc.clusters)
		}
	}
	if n := graphemeLen(nil); n != 0 {
		t.Errorf("graphemeLen(nil) = %d", n)
	}
}

func TestGraphemeLenString(t *testing.T) {
	for _, tc := range graphemeCases {
		s := strings.Join(tc.clusters, "")
		var got []string
		for len(s) > 0 {
			n := graphemeLenString(s)
			if n < 1 || n > len(s) {
				t.Fatalf("%s: graphemeLenString(%+q) = %d", tc.name, s, n)
			}
			got = append(got, s[:n])
			s = s[n:]
		}
		if !slices.Equal(got, tc.clusters) {
			t.Errorf("%s: clusters %+q, want %+q", tc.name, got, tc.clusters)
		}
	}
	if n := graphemeLenString(""); n != 0 {
		t.Errorf(`graphemeLenString("") = %d`, n)
	}
}

// Invalid UTF-8 reads as one U+FFFD per bad byte, which is an ordinary base.
func TestGraphemeLenStringInvalidUTF8(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want []string
	}{
		{"a\xffb", []string{"a", "\xff", "b"}},
		{"\xe2\x82", []string{"\xe2", "\x82"}},             // a truncated sequence
		{"\xed\xa0\x80", []string{"\xed", "\xa0", "\x80"}}, // an encoded surrogate
		{"\xff\u0301x", []string{"\xff\u0301", "x"}},
		{"\r\xff", []string{"\r", "\xff"}},
	} {
		var got []string
		for s := tc.s; len(s) > 0; {
			n := graphemeLenString(s)
			got = append(got, s[:n])
			s = s[n:]
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%+q: clusters %+q, want %+q", tc.s, got, tc.want)
		}
	}
}

// Runes that no valid UTF-8 decodes to still segment sensibly: like U+FFFD.
func TestGraphemeLenOddRunes(t *testing.T) {
	for _, tc := range []struct {
		rs   []rune
		want int
	}{
		{[]rune{0xd800, 0x0301, 'a'}, 2}, // an unpaired surrogate takes marks
		{[]rune{0xdfff, 0xd800}, 1},      // two surrogates are two clusters
		{[]rune{0x110000, 0x0301}, 2},    // past MaxRune
		{[]rune{-1, 0x0301}, 2},
		{[]rune{0x0301, 0xd800}, 1},
	} {
		if got := graphemeLen(tc.rs); got != tc.want {
			t.Errorf("graphemeLen(%U) = %d, want %d", tc.rs, got, tc.want)
		}
		checkGraphemeStart(t, tc.rs, graphemeBoundaries(t, tc.rs))
	}
}

func TestGraphemeStart(t *testing.T) {
	for _, tc := range graphemeCases {
		rs := []rune(strings.Join(tc.clusters, ""))
		fwd := graphemeBoundaries(t, rs)
		if back := graphemeBoundariesBack(t, rs); !slices.Equal(back, fwd) {
			t.Errorf("%s: backward boundaries %v, forward %v", tc.name, back, fwd)
		}
		checkGraphemeStart(t, rs, fwd)
	}
	// Out of range indexes are clamped rather than panicking.
	rs := []rune("ab")
	if got := graphemeStart(rs, 5); got != 1 {
		t.Errorf("graphemeStart(ab, 5) = %d, want 1", got)
	}
	if got := graphemeStart(rs, -1); got != 0 {
		t.Errorf("graphemeStart(ab, -1) = %d, want 0", got)
	}
}

// A long run of regional indicators pairs up from its start, however far
// back that is.
func TestGraphemeStartLongIndicatorRun(t *testing.T) {
	rs := []rune("x")
	for range 501 {
		rs = append(rs, 0x1f1eb)
	}
	// x, then 250 flags, then one lone indicator.
	if got, want := graphemeStart(rs, len(rs)), len(rs)-1; got != want {
		t.Errorf("graphemeStart at the end = %d, want %d", got, want)
	}
	if got, want := graphemeStart(rs, len(rs)-1), len(rs)-3; got != want {
		t.Errorf("graphemeStart before the lone one = %d, want %d", got, want)
	}
}

func TestGraphemeWidth(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cluster string
		want    int
	}{
		{"empty", "", 0},
		{"letter", "a", 1},
		{"e acute", "e\u0301", 1},
		{"lone acute", "\u0301", 0},
		{"lone zwj", "\u200d", 0},
		{"marks only", "\u0301\u0316", 0},
		{"hangul syllable", "\ud55c", 2},
		{"hangul jamo", "\u1100\u1161\u11a8", 2},
		{"cjk", "\u4e2d", 2},
		{"thumbs up medium skin", "\U0001f44d\U0001f3fd", 2},
		{"index up medium skin", "\u261d\U0001f3fd", 2},
		{"french flag", "\U0001f1eb\U0001f1f7", 2},
		{"keycap", "1\ufe0f\u20e3", 2},
		{"bare keycap", "#\u20e3", 2},
		{"digit with selector", "1\ufe0f", 1},
		{"red heart", "\u2764\ufe0f", 2},
		{"copyright emoji", "\u00a9\ufe0f", 2},
		{"heart on fire", "\u2764\u200d\U0001f525", 2},
		{"family", "\U0001f468\u200d\U0001f469\u200d\U0001f467", 2},
		{"rainbow flag", "\U0001f3f3\ufe0f\u200d\U0001f308", 2},
		{"letter with selector", "a\ufe0f", 1},
		{"letter with zwj", "a\u200d", 1},
		{"arabic number sign", "\u06001", 1},
		{"devanagari ki", "\u0915\u093f", 1},
	} {
		if got := graphemeWidth([]rune(tc.cluster)); got != tc.want {
			t.Errorf("%s: graphemeWidth(%+q) = %d, want %d", tc.name, tc.cluster, got, tc.want)
		}
		if got := graphemeWidthString(tc.cluster); got != tc.want {
			t.Errorf("%s: graphemeWidthString(%+q) = %d, want %d", tc.name, tc.cluster, got, tc.want)
		}
	}
}

// graphemePool is the stuff of random texts: runes whose properties make
// the rules interact.
var graphemePool = []rune{
	'a', '1', '#', ' ', '\r', '\n', '\t', 0x00, 0x7f, 0x85, 0xad, 0xa9,
	0x0301, 0x0308, 0x034f, 0x200c, 0x200d, 0x200b, 0xfe0f, 0x20e3, 0xe0067, 0xe007f,
	0x1f3fb, 0x1f3fd, 0x1f44d, 0x1f468, 0x1f469, 0x1f308, 0x1f3f3, 0x2764, 0x261d, 0x1f000,
	0x1f1eb, 0x1f1f7, 0x1f1e9,
	0x1100, 0x1161, 0x11a8, 0xa960, 0xd7b0, 0xd7cb, 0xac00, 0xac01, 0xd55c,
	0x0600, 0x0d4e, 0x0903, 0x093f, 0x0e33, 0x102b, 0x1a61,
	0x0915, 0x0937, 0x094d, 0x09cd, 0x0995, 0x093c,
	0x4e2d, 0xfffd, 0x2065, 0xd800, 0x2028,
}

func randomGraphemeText(r *rand.Rand) []rune {
	rs := make([]rune, r.IntN(24))
	for i := range rs {
		rs[i] = graphemePool[r.IntN(len(graphemePool))]
	}
	return rs
}

// Forward and backward segmentation must agree on any text.
func TestGraphemeRandomAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 2911))
	for range 20000 {
		rs := randomGraphemeText(r)
		fwd := graphemeBoundaries(t, rs)
		if back := graphemeBoundariesBack(t, rs); !slices.Equal(back, fwd) {
			t.Fatalf("%U: backward boundaries %v, forward %v", rs, back, fwd)
		}
		checkGraphemeStart(t, rs, fwd)
		if t.Failed() {
			t.Fatalf("text %U", rs)
		}
	}
}

func TestGraphemeTablesSorted(t *testing.T) {
	for name, table := range map[string][]gbRange{
		"prependRanges":             prependRanges,
		"notSpacingMarkRanges":      notSpacingMarkRanges,
		"unassignedIgnorableRanges": unassignedIgnorableRanges,
		"conjunctLinkerRanges":      conjunctLinkerRanges,
		"conjunctConsonantRanges":   conjunctConsonantRanges,
		"extPictRanges":             extPictRanges,
	} {
		for i, rg := range table {
			if rg.lo > rg.hi || i > 0 && table[i-1].hi >= rg.lo {
				t.Errorf("%s[%d] = %U..%U is out of order", name, i, rg.lo, rg.hi)
			}
			for _, r := range []rune{rg.lo, rg.hi, (rg.lo + rg.hi) / 2} {
				if !gbInRanges(table, r) {
					t.Errorf("%s: %U not found", name, r)
				}
			}
			if gbInRanges(table, rg.lo-1) && (i == 0 || table[i-1].hi != rg.lo-1) {
				t.Errorf("%s: %U found", name, rg.lo-1)
			}
		}
	}
}

func FuzzGrapheme(f *testing.F) {
	for _, tc := range graphemeCases {
		f.Add(strings.Join(tc.clusters, ""))
	}
	f.Add("a\xff\u0301\xed\xa0\x80")
	f.Fuzz(func(t *testing.T, s string) {
		// The string walk covers s exactly, in clusters of at least one byte.
		var byteEnds []int
		for p := 0; p < len(s); {
			n := graphemeLenString(s[p:])
			if n < 1 || n > len(s)-p {
				t.Fatalf("graphemeLenString(%+q) = %d", s[p:], n)
			}
			if w := graphemeWidthString(s[p : p+n]); w < 0 || w > 2 {
				t.Fatalf("graphemeWidthString(%+q) = %d", s[p:p+n], w)
			}
			p += n
			byteEnds = append(byteEnds, p)
		}

		// The rune walk does too, and agrees with the string walk: ranging
		// over s reads each bad byte as one U+FFFD, as []rune(s) does.
		rs := []rune(s)
		fwd := graphemeBoundaries(t, rs)
		if len(fwd) != len(byteEnds) {
			t.Fatalf("%+q: %d clusters by rune, %d by byte", s, len(fwd), len(byteEnds))
		}
		start, bstart := 0, 0
		for k, end := range fwd {
			cluster := s[bstart:byteEnds[k]]
			if utf8.RuneCountInString(cluster) != end-start {
				t.Fatalf("%+q: cluster %d is %+q by byte, %+q by rune", s, k, cluster, string(rs[start:end]))
			}
			if a, b := graphemeWidth(rs[start:end]), graphemeWidthString(cluster); a != b {
				t.Fatalf("%+q: width %d by rune, %d by byte", cluster, a, b)
			}
			start, bstart = end, byteEnds[k]
		}

		// Walking backwards finds the same boundaries. Each graphemeStart
		// call may rescan a run of joinable runes (a long row of regional
		// indicators, say), so these walks are quadratic at worst: keep them
		// to inputs the size of a long message.
		if len(rs) > 4096 {
			return
		}
		if back := graphemeBoundariesBack(t, rs); !slices.Equal(back, fwd) {
			t.Fatalf("%+q: backward boundaries %v, forward %v", s, back, fwd)
		}
		if len(rs) <= 256 {
			checkGraphemeStart(t, rs, fwd)
		}
	})
}

// benchText is a draft of mixed scripts and emoji, about 64 KiB.
func benchText() []rune {
	var b strings.Builder
	for b.Len() < 64<<10 {
		b.WriteString("Hello, w\u00f6rld! \u4e2d\u6587 \ud55c\uae00 \u0928\u092e\u0938\u094d\u0924\u0947 " +
			"\U0001f44d\U0001f3fd \U0001f468\u200d\U0001f469\u200d\U0001f467 \U0001f1eb\U0001f1f7 e\u0301\n")
	}
	return []rune(b.String())
}

func BenchmarkGraphemeWalk(b *testing.B) {
	rs := benchText()
	for b.Loop() {
		for p := 0; p < len(rs); p += graphemeLen(rs[p:]) {
		}
	}
}

func BenchmarkGraphemeStartAtEnd(b *testing.B) {
	rs := benchText()
	for b.Loop() {
		graphemeStart(rs, len(rs))
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
