package main

// This file implements extended grapheme clusters for the line editor:
// the default extended grapheme cluster boundaries of Unicode Standard
// Annex #29 ("Unicode Text Segmentation"), rules GB1–GB13
// and GB999, including GB9a (SpacingMark), GB9b (Prepend), GB9c (Indic
// conjunct break), GB11 (emoji ZWJ sequences) and GB12/GB13 (regional
// indicator pairs), so that the cursor moves, deletes and wraps by what a
// reader sees as one character rather than by code point.
//
// The rules and the hand-written tables below follow Unicode 15.1.0. The
// rest of the character properties come from the standard library's unicode
// package (Unicode 15.0.0 as of Go 1.26); the Grapheme_Cluster_Break and
// Extended_Pictographic data of 15.0.0 and 15.1.0 are identical, so the two
// sources agree.
//
// Approximation: GB9c needs Indic_Conjunct_Break=Extend, which 15.1 defines
// as the Extend and ZWJ characters with a non-zero canonical combining class.
// The standard library has no combining classes, so this takes the wider
// definition of Unicode 16.0 instead: every Extend or ZWJ character except
// the linkers and U+200C ZWNJ. That only matters for malformed text such as
// consonant + virama + vowel sign + consonant, which 15.1 splits before the
// last consonant and this keeps together, as Unicode 16.0 does.
//
// When it was written it was checked, outside this repository, against
// Unicode's GraphemeBreakTest-15.1.0.txt: all 1,187 cases passed. That
// file is not vendored (it is Unicode's, not ours); the tests here are our
// own cases, a forward/backward agreement test and a fuzz target.
//
// The file also says how wide text is on a terminal: runeWidth for one
// code point, graphemeWidth for a cluster (a heuristic for what modern
// terminals draw) and textWidth for a string.

import (
	"unicode"
	"unicode/utf8"
)

// graphemeLen returns how many runes of rs the first extended grapheme cluster takes (0 when rs is empty).
func graphemeLen(rs []rune) int {
	if len(rs) < 2 {
		return len(rs)
	}
	// ASCII fast path: between two ASCII runes only CR LF stays together.
	if rs[0] < utf8.RuneSelf && rs[1] < utf8.RuneSelf {
		if rs[0] == '\r' && rs[1] == '\n' {
			return 2
		}
		return 1
	}
	s := newGBState(gbClassOf(rs[0]))
	n := 1
	for n < len(rs) && !s.breakBefore(gbClassOf(rs[n])) {
		n++
	}
	return n
}

// graphemeLenString returns how many bytes of s the first extended grapheme cluster takes (0 when s is empty).
// Each byte of invalid UTF-8 counts as one U+FFFD, as ranging over s does.
func graphemeLenString(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	if s[0] < utf8.RuneSelf && s[1] < utf8.RuneSelf {
		if s[0] == '\r' && s[1] == '\n' {
			return 2
		}
		return 1
	}
	r, n := utf8.DecodeRuneInString(s)
	st := newGBState(gbClassOf(r))
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		if st.breakBefore(gbClassOf(r)) {
			break
		}
		n += size
	}
	return n
}

// graphemeStart returns the index in rs where the cluster that contains rs[i-1] starts, i.e. the
// cluster boundary at or before i-1 (for Left/Backspace). 0 <= i <= len(rs); returns 0 for i == 0.
// It may scan from the start of rs; drafts are at most 64 KiB.
func graphemeStart(rs []rune, i int) int {
	i = min(i, len(rs))
	if i <= 0 {
		return 0
	}
	// Boundaries can't be found by looking backwards alone (GB11, GB12/13
	// and GB9c look arbitrarily far back), but segmenting forward from any
	// boundary gives the same boundaries as segmenting from the start. So
	// back up to a pair of runes that no context can join, then walk
	// forward from there. In ordinary text that is one or two runes; the
	// cost grows with the run of runes that might join (a row of flags, a
	// pile of combining marks), to the whole draft at worst.
	p := i - 1
	next := gbClassOf(rs[p])
	for p > 0 {
		prev := gbClassOf(rs[p-1])
		if !gbMayJoin(prev, next) {
			break
		}
		p, next = p-1, prev
	}
	for {
		end := p + graphemeLen(rs[p:])
		if end >= i {
			return p
		}
		p = end
	}
}

// graphemeWidth is the number of terminal columns a cluster takes: 0 for an empty cluster or one of only
// zero-width runes, 2 for an emoji cluster (an Extended_Pictographic base followed by U+FE0F, an emoji
// modifier sequence, a ZWJ sequence of pictographs, a regional-indicator pair, a keycap sequence, or a
// base that runeWidth says is wide), else runeWidth of its base.
//
// The base is the first rune that runeWidth does not call zero-width; for
// almost every cluster that is its first rune, but a Prepend format
// character such as U+0600 ARABIC NUMBER SIGN takes no column of its own and
// the digit after it does.
func graphemeWidth(cluster []rune) int {
	for k, r := range cluster {
		w := runeWidth(r)
		if w == 0 {
			continue
		}
		if w == 1 && isEmojiSequence(cluster[k:]) {
			return 2
		}
		return w
	}
	return 0
}

// graphemeWidthString is graphemeWidth for a cluster held in a string.
func graphemeWidthString(cluster string) int {
	// Clusters are short: decode into a stack buffer rather than allocate.
	var buf [16]rune
	rs := buf[:0]
	for _, r := range cluster {
		rs = append(rs, r)
	}
	return graphemeWidth(rs)
}

// isEmojiSequence reports whether rs, a cluster from its base on, is one
// that terminals draw as a single two-column emoji even though the base
// alone is narrow (text presentation by default).
func isEmojiSequence(rs []rune) bool {
	if len(rs) < 2 {
		return false
	}
	base, next := rs[0], rs[1]
	switch {
	case isRegionalIndicator(base):
		return isRegionalIndicator(next) // a flag
	case isKeycapBase(base):
		// 1️⃣ is 1 FE0F 20E3; the FE0F is often left out.
		return next == 0x20e3 || next == 0xfe0f && len(rs) > 2 && rs[2] == 0x20e3
	case !isExtendedPictographic(base):
		return false
	case next == 0xfe0f || isEmojiModifier(next):
		return true // emoji presentation selector, or a skin tone
	}
	for j := 1; j+1 < len(rs); j++ {
		if rs[j] == 0x200d && isExtendedPictographic(rs[j+1]) {
			return true // a ZWJ sequence such as heart + ZWJ + fire
		}
	}
	return false
}

func isRegionalIndicator(r rune) bool { return r >= 0x1f1e6 && r <= 0x1f1ff }

func isEmojiModifier(r rune) bool { return r >= 0x1f3fb && r <= 0x1f3ff }

func isKeycapBase(r rune) bool { return r >= '0' && r <= '9' || r == '#' || r == '*' }

func isExtendedPictographic(r rune) bool { return gbInRanges(extPictRanges, r) }

// gbClass is the Grapheme_Cluster_Break property of a rune, with Other and
// Extend split further by the two other properties the rules look at:
// Extended_Pictographic (GB11) and Indic_Conjunct_Break (GB9c). In Unicode
// 15.1 every Extended_Pictographic and every InCB=Consonant character is
// Other, and every InCB=Linker is Extend, so the split is clean. ZWNJ has a
// class of its own only because GB9c treats it apart from other Extends.
type gbClass uint8

const (
	gbOther gbClass = iota
	gbCR
	gbLF
	gbControl
	gbExtend
	gbZWNJ // U+200C, an Extend that GB9c treats as a break between consonants
	gbZWJ
	gbRegionalIndicator
	gbPrepend
	gbSpacingMark
	gbL   // Hangul leading consonant (choseong)
	gbV   // Hangul vowel (jungseong)
	gbT   // Hangul trailing consonant (jongseong)
	gbLV  // precomposed Hangul syllable without a trailing consonant
	gbLVT // precomposed Hangul syllable with a trailing consonant
	gbExtPict
	gbConsonant // InCB=Consonant (an Other)
	gbLinker    // InCB=Linker, a virama (an Extend)
)

// gbClassOf returns the class of r. Cheap checks come first: ASCII, then
// code point ranges, and only then the binary searches over range tables.
func gbClassOf(r rune) gbClass {
	switch {
	case uint32(r) < utf8.RuneSelf:
		switch {
		case r == '\r':
			return gbCR
		case r == '\n':
			return gbLF
		case r < 0x20 || r == 0x7f:
			return gbControl
		}
		return gbOther
	case r < 0 || r > unicode.MaxRune:
		return gbOther // not a code point: treat it as U+FFFD
	case r < 0x300: // Latin-1 and Latin Extended: no marks yet
		switch {
		case r < 0xa0 || r == 0xad: // C1 controls, soft hyphen
			return gbControl
		case r == 0xa9 || r == 0xae: // © ®
			return gbExtPict
		}
		return gbOther
	case r >= 0x1100 && r <= 0x11ff:
		switch {
		case r < 0x1160:
			return gbL
		case r < 0x11a8:
			return gbV
		}
		return gbT
	case r >= 0x3400 && r <= 0x9fff, r >= 0x20000 && r <= 0x3ffff:
		return gbOther // CJK ideographs: nothing but Other
	case r >= 0xa960 && r <= 0xa97c:
		return gbL
	case r >= 0xac00 && r <= 0xd7a3:
		// Syllables come in runs of 28: the first of each run has no
		// trailing consonant.
		if (r-0xac00)%28 == 0 {
			return gbLV
		}
		return gbLVT
	case r >= 0xd7b0 && r <= 0xd7c6:
		return gbV
	case r >= 0xd7cb && r <= 0xd7fb:
		return gbT
	case r == 0x200d:
		return gbZWJ
	case r == 0x200c:
		return gbZWNJ
	case isRegionalIndicator(r):
		return gbRegionalIndicator
	case isEmojiModifier(r):
		return gbExtend // skin tones are So, but Extend by definition
	}
	return gbClassFromTables(r)
}

// gbClassFromTables derives the class from general categories and the hand
// tables, in the order UAX #29 resolves overlaps: Prepend and the
// Grapheme_Extend characters win over Control (the prepended concatenation
// marks and the tag characters are Cf), and Extend wins over SpacingMark
// (some Mc are Other_Grapheme_Extend).
func gbClassFromTables(r rune) gbClass {
	switch {
	case gbInRanges(prependRanges, r):
		return gbPrepend
	case gbInRanges(conjunctLinkerRanges, r):
		return gbLinker
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Other_Grapheme_Extend):
		return gbExtend
	case unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp),
		gbInRanges(unassignedIgnorableRanges, r):
		return gbControl
	case unicode.Is(unicode.Mc, r):
		if gbInRanges(notSpacingMarkRanges, r) {
			return gbOther
		}
		return gbSpacingMark
	case r == 0x0e33 || r == 0x0eb3: // Thai and Lao SARA AM are Lo, yet SpacingMark
		return gbSpacingMark
	case gbInRanges(extPictRanges, r):
		return gbExtPict
	case gbInRanges(conjunctConsonantRanges, r):
		return gbConsonant
	}
	return gbOther
}

// gbState is what the forward walk remembers of the runes since the start
// of the current cluster, enough to apply the rules that look back further
// than one rune.
type gbState struct {
	prev gbClass
	// emoji is GB11's progress: 1 after ExtPict Extend*, 2 after
	// ExtPict Extend* ZWJ.
	emoji uint8
	// riOdd is set when an odd number of regional indicators end the text
	// so far (GB12/GB13 pair them from the left).
	riOdd bool
	// conjunct is GB9c's progress: 1 after Consonant [Extend Linker]*,
	// 2 once that run holds a Linker.
	conjunct uint8
}

// newGBState returns the state after the first rune of a cluster, of class
// first.
func newGBState(first gbClass) gbState {
	var s gbState
	s.advance(first)
	return s
}

// breakBefore reports whether a cluster boundary falls before a rune of
// class next, and moves the state past that rune.
func (s *gbState) breakBefore(next gbClass) bool {
	b := s.decide(next)
	s.advance(next)
	return b
}

// decide applies the rules in order; the first that matches wins.
func (s *gbState) decide(next gbClass) bool {
	prev := s.prev
	switch {
	case prev == gbCR && next == gbLF: // GB3
		return false
	case prev == gbCR || prev == gbLF || prev == gbControl: // GB4
		return true
	case next == gbCR || next == gbLF || next == gbControl: // GB5
		return true
	case prev == gbL && (next == gbL || next == gbV || next == gbLV || next == gbLVT): // GB6
		return false
	case (prev == gbLV || prev == gbV) && (next == gbV || next == gbT): // GB7
		return false
	case (prev == gbLVT || prev == gbT) && next == gbT: // GB8
		return false
	case isGBExtend(next) || next == gbZWJ: // GB9
		return false
	case next == gbSpacingMark: // GB9a
		return false
	case prev == gbPrepend: // GB9b
		return false
	case next == gbConsonant && s.conjunct == 2 && isConjunctExtend(prev): // GB9c
		return false
	case next == gbExtPict && s.emoji == 2 && prev == gbZWJ: // GB11
		return false
	case next == gbRegionalIndicator && prev == gbRegionalIndicator && s.riOdd: // GB12, GB13
		return false
	}
	return true // GB999
}

// isGBExtend reports whether c is Grapheme_Cluster_Break=Extend.
func isGBExtend(c gbClass) bool {
	return c == gbExtend || c == gbLinker || c == gbZWNJ
}

// isConjunctExtend reports whether c may sit between the consonants of a
// conjunct (InCB=Extend or Linker; see the approximation at the top).
func isConjunctExtend(c gbClass) bool {
	return c == gbExtend || c == gbZWJ || c == gbLinker
}

func (s *gbState) advance(next gbClass) {
	switch {
	case next == gbExtPict:
		s.emoji = 1
	case s.emoji == 1 && isGBExtend(next):
		// still ExtPict Extend*
	case s.emoji == 1 && next == gbZWJ:
		s.emoji = 2
	default:
		s.emoji = 0
	}

	s.riOdd = next == gbRegionalIndicator && !s.riOdd

	switch {
	case next == gbConsonant:
		s.conjunct = 1
	case s.conjunct != 0 && next == gbLinker:
		s.conjunct = 2
	case s.conjunct != 0 && isConjunctExtend(next):
		// still inside the conjunct
	default:
		s.conjunct = 0
	}

	s.prev = next
}

// gbMayJoin reports whether some text before prev could keep next in the
// same cluster as prev. When it can't, there is a boundary between them
// whatever came before: that is where graphemeStart may start walking.
func gbMayJoin(prev, next gbClass) bool {
	// The most permissive state: every rule that looks further back is
	// assumed satisfied.
	s := gbState{prev: prev, emoji: 2, riOdd: true, conjunct: 2}
	return !s.decide(next)
}

// gbRange is an inclusive range of code points; tables of them are sorted
// and disjoint.
type gbRange struct{ lo, hi rune }

// gbInRanges binary-searches t for r.
func gbInRanges(t []gbRange, r rune) bool {
	lo, hi := 0, len(t)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch {
		case r < t[m].lo:
			hi = m
		case r > t[m].hi:
			lo = m + 1
		default:
			return true
		}
	}
	return false
}

// The tables below are what the unicode package lacks, written from the
// Unicode 15.1.0 data files (GraphemeBreakProperty.txt, emoji-data.txt and
// DerivedCoreProperties.txt).

// prependRanges is Grapheme_Cluster_Break=Prepend: prefixed and
// preceding-repha consonants, and the prepended concatenation marks (number
// signs that stand in front of the digits they belong to).
var prependRanges = []gbRange{
	{0x0600, 0x0605}, {0x06dd, 0x06dd}, {0x070f, 0x070f}, {0x0890, 0x0891},
	{0x08e2, 0x08e2}, {0x0d4e, 0x0d4e}, {0x110bd, 0x110bd}, {0x110cd, 0x110cd},
	{0x111c2, 0x111c3}, {0x1193f, 0x1193f}, {0x11941, 0x11941}, {0x11a3a, 0x11a3a},
	{0x11a84, 0x11a89}, {0x11d46, 0x11d46}, {0x11f02, 0x11f02},
}

// notSpacingMarkRanges lists the Mc characters that UAX #29 names as
// exceptions to SpacingMark (Myanmar, Tai Tham, Tai Viet and Ahom signs):
// they stay Other, so a cluster breaks before them.
var notSpacingMarkRanges = []gbRange{
	{0x102b, 0x102c}, {0x1038, 0x1038}, {0x1062, 0x1064}, {0x1067, 0x106d},
	{0x1083, 0x1083}, {0x1087, 0x108c}, {0x108f, 0x108f}, {0x109a, 0x109c},
	{0x1a61, 0x1a61}, {0x1a63, 0x1a64}, {0xaa7b, 0xaa7b}, {0xaa7d, 0xaa7d},
	{0x11720, 0x11721},
}

// unassignedIgnorableRanges are the unassigned Default_Ignorable_Code_Points,
// which UAX #29 counts as Control; the unicode package knows only assigned
// characters' categories.
var unassignedIgnorableRanges = []gbRange{
	{0x2065, 0x2065}, {0xfff0, 0xfff8}, {0xe0000, 0xe0000}, {0xe0002, 0xe001f},
	{0xe0080, 0xe00ff}, {0xe01f0, 0xe0fff},
}

// conjunctLinkerRanges are the viramas of InCB=Linker (Devanagari, Bengali,
// Gujarati, Oriya, Telugu, Malayalam).
var conjunctLinkerRanges = []gbRange{
	{0x094d, 0x094d}, {0x09cd, 0x09cd}, {0x0acd, 0x0acd}, {0x0b4d, 0x0b4d},
	{0x0c4d, 0x0c4d}, {0x0d4d, 0x0d4d},
}

// conjunctConsonantRanges is InCB=Consonant: the consonants of those six
// scripts, which a virama joins into one conjunct cluster (GB9c).
var conjunctConsonantRanges = []gbRange{
	{0x0915, 0x0939}, {0x0958, 0x095f}, {0x0978, 0x097f}, // Devanagari
	{0x0995, 0x09a8}, {0x09aa, 0x09b0}, {0x09b2, 0x09b2}, {0x09b6, 0x09b9}, // Bengali
	{0x09dc, 0x09dd}, {0x09df, 0x09df}, {0x09f0, 0x09f1},
	{0x0a95, 0x0aa8}, {0x0aaa, 0x0ab0}, {0x0ab2, 0x0ab3}, {0x0ab5, 0x0ab9}, // Gujarati
	{0x0af9, 0x0af9},
	{0x0b15, 0x0b28}, {0x0b2a, 0x0b30}, {0x0b32, 0x0b33}, {0x0b35, 0x0b39}, // Oriya
	{0x0b5c, 0x0b5d}, {0x0b5f, 0x0b5f}, {0x0b71, 0x0b71},
	{0x0c15, 0x0c28}, {0x0c2a, 0x0c39}, {0x0c58, 0x0c5a}, // Telugu
	{0x0d15, 0x0d3a}, // Malayalam
}

// extPictRanges is Extended_Pictographic=Yes, with adjacent ranges
// merged. It includes unassigned code points reserved for future emoji, so
// that emoji newer than this table still join in ZWJ sequences.
var extPictRanges = []gbRange{
	{0x00a9, 0x00a9}, {0x00ae, 0x00ae}, {0x203c, 0x203c}, {0x2049, 0x2049},
	{0x2122, 0x2122}, {0x2139, 0x2139}, {0x2194, 0x2199}, {0x21a9, 0x21aa},
	{0x231a, 0x231b}, {0x2328, 0x2328}, {0x2388, 0x2388}, {0x23cf, 0x23cf},
	{0x23e9, 0x23f3}, {0x23f8, 0x23fa}, {0x24c2, 0x24c2}, {0x25aa, 0x25ab},
	{0x25b6, 0x25b6}, {0x25c0, 0x25c0}, {0x25fb, 0x25fe}, {0x2600, 0x2605},
	{0x2607, 0x2612}, {0x2614, 0x2685}, {0x2690, 0x2705}, {0x2708, 0x2712},
	{0x2714, 0x2714}, {0x2716, 0x2716}, {0x271d, 0x271d}, {0x2721, 0x2721},
	{0x2728, 0x2728}, {0x2733, 0x2734}, {0x2744, 0x2744}, {0x2747, 0x2747},
	{0x274c, 0x274c}, {0x274e, 0x274e}, {0x2753, 0x2755}, {0x2757, 0x2757},
	{0x2763, 0x2767}, {0x2795, 0x2797}, {0x27a1, 0x27a1}, {0x27b0, 0x27b0},
	{0x27bf, 0x27bf}, {0x2934, 0x2935}, {0x2b05, 0x2b07}, {0x2b1b, 0x2b1c},
	{0x2b50, 0x2b50}, {0x2b55, 0x2b55}, {0x3030, 0x3030}, {0x303d, 0x303d},
	{0x3297, 0x3297}, {0x3299, 0x3299},
	{0x1f000, 0x1f0ff}, {0x1f10d, 0x1f10f}, {0x1f12f, 0x1f12f}, {0x1f16c, 0x1f171},
	{0x1f17e, 0x1f17f}, {0x1f18e, 0x1f18e}, {0x1f191, 0x1f19a}, {0x1f1ad, 0x1f1e5},
	{0x1f201, 0x1f20f}, {0x1f21a, 0x1f21a}, {0x1f22f, 0x1f22f}, {0x1f232, 0x1f23a},
	{0x1f23c, 0x1f23f}, {0x1f249, 0x1f3fa}, {0x1f400, 0x1f53d}, {0x1f546, 0x1f64f},
	{0x1f680, 0x1f6ff}, {0x1f774, 0x1f77f}, {0x1f7d5, 0x1f7ff}, {0x1f80c, 0x1f80f},
	{0x1f848, 0x1f84f}, {0x1f85a, 0x1f85f}, {0x1f888, 0x1f88f}, {0x1f8ae, 0x1f8ff},
	{0x1f90c, 0x1f93a}, {0x1f93c, 0x1f945}, {0x1f947, 0x1faff}, {0x1fc00, 0x1fffd},
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
