package main

// The Firebase data model, the one both ends of gopeer's board traffic
// use: the board client (boardclient.go) keeps a stream's copy of a
// location in it, and the board (board.go) holds its whole database in it.
// One model means one key rule and one set of limits, so the client never
// sends a path the board would refuse, and neither accepts what Firebase
// would not (docs/PROTOCOL.md, "Firebase facts").
//
// A value is JSON decoded as encoding/json does, with two rules of
// Firebase's: numbers stay json.Number (millisecond timestamps and other
// large integers survive exactly), and a value is normalized on the way
// in: arrays become objects keyed "0", "1", ..., and nulls and empty
// objects vanish, so an absent value is nil and nothing stores "nothing".

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Firebase's limits on keys and values.
const (
	treeMaxKeyBytes = 768      // UTF-8 bytes of one key
	treeMaxDepth    = 32       // levels of a location, counted from the root
	treeMaxString   = 10 << 20 // bytes of a string value
	// treeMaxNumber bounds a number's text. Firebase stores doubles, and
	// the longest shortest form of a double is 24 characters; a number of
	// 60,000 digits would only make comparing it slow (queries compare
	// numbers under the board's lock).
	treeMaxNumber = 40
)

// Why a key, a location or a value is refused. The board answers them
// with a 400 saying whether the URL or the body was at fault; the client
// refuses to send such a path at all.
var (
	errTreeKeyEmpty    = errors.New("a key must not be empty")
	errTreeKeyLong     = fmt.Errorf("a key must be at most %d bytes", treeMaxKeyBytes)
	errTreeKeyUTF8     = errors.New("a key must be valid UTF-8")
	errTreeKeyChar     = errors.New(`a key must not contain ".", "$", "#", "[", "]", "/" or ASCII control characters`)
	errTreeTooDeep     = fmt.Errorf("the location is deeper than %d levels", treeMaxDepth)
	errTreeStringLong  = errors.New("a string value must be at most 10 MB")
	errTreeNumberRange = errors.New("a number is out of range")
	errTreeNumberLong  = fmt.Errorf("a number is longer than %d characters, more than any double needs", treeMaxNumber)
	errTreeServerValue = errors.New("unsupported server value")
	errTreeNotJSON     = errors.New("not a JSON value")
)

// treeCheckKey applies Firebase's key rule: 1 to 768 bytes of UTF-8, none
// of . $ # [ ] / and no ASCII control character (C1 controls are allowed,
// as Firebase allows them).
func treeCheckKey(key string) error {
	switch {
	case key == "":
		return errTreeKeyEmpty
	case len(key) > treeMaxKeyBytes:
		return errTreeKeyLong
	case !utf8.ValidString(key):
		return errTreeKeyUTF8
	}
	for i := 0; i < len(key); i++ {
		switch c := key[i]; {
		case c < 0x20, c == 0x7f, strings.IndexByte(".$#[]/", c) >= 0:
			return errTreeKeyChar
		}
	}
	return nil
}

// treeSplitPath splits a slash-separated location ("rooms/ABC123/offer",
// leading, trailing and doubled slashes ignored) into checked keys at
// most treeMaxDepth deep. The root is an empty path.
func treeSplitPath(p string) ([]string, error) {
	var keys []string
	for key := range strings.SplitSeq(p, "/") {
		if key == "" {
			continue
		}
		if len(keys) == treeMaxDepth { // a hostile path stops here, not at its end
			return nil, errTreeTooDeep
		}
		if err := treeCheckKey(key); err != nil {
			return nil, err
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// treeDecode decodes exactly one JSON value, numbers as json.Number. An
// empty input is null. The result is not normalized.
func treeDecode(raw []byte) (any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

// treeResolver replaces a server value ({".sv": sv}) by what it stands
// for. Only the board resolves them; a client has none and refuses them
// (".sv" is not a valid key).
type treeResolver func(sv any) (any, error)

// treeNormalize returns v as the tree stores it when written depth levels
// deep: keys checked, arrays turned into objects, server values resolved,
// numbers a double can hold, and nulls and empty objects dropped (nil when
// nothing is left). The result shares no map with v.
func treeNormalize(v any, depth int, resolve treeResolver) (any, error) {
	switch v := v.(type) {
	case nil, bool:
		return v, nil
	case json.Number:
		// Firebase numbers are doubles: refuse what no client could read.
		if len(v) > treeMaxNumber {
			return nil, errTreeNumberLong
		}
		if _, err := strconv.ParseFloat(string(v), 64); err != nil {
			return nil, errTreeNumberRange
		}
		return v, nil
	case string:
		if len(v) > treeMaxString {
			return nil, errTreeStringLong
		}
		return v, nil
	case []any:
		m := make(map[string]any, len(v))
		for i, e := range v {
			m[strconv.Itoa(i)] = e
		}
		return treeNormalizeObject(m, depth, resolve)
	case map[string]any:
		if sv, ok := v[".sv"]; ok && len(v) == 1 && resolve != nil {
			return resolve(sv)
		}
		return treeNormalizeObject(v, depth, resolve)
	}
	return nil, errTreeNotJSON
}

func treeNormalizeObject(m map[string]any, depth int, resolve treeResolver) (any, error) {
	out := make(map[string]any, len(m))
	for k, child := range m {
		if err := treeCheckKey(k); err != nil {
			return nil, err
		}
		if depth+1 > treeMaxDepth {
			return nil, errTreeTooDeep
		}
		c, err := treeNormalize(child, depth+1, resolve)
		if err != nil {
			return nil, err
		}
		if c != nil {
			out[k] = c
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// treeEncode encodes compactly (so an event's data fits on one SSE line),
// with object keys sorted (so equal values encode to equal bytes) and
// without HTML escaping.
func treeEncode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// treeNumber reads a number of the data model (a json.Number) as the
// double Firebase holds; ok is false for anything else.
func treeNumber(v any) (n float64, ok bool) {
	num, isNumber := v.(json.Number)
	if !isNumber {
		return 0, false
	}
	f, err := num.Float64()
	return f, err == nil
}

// treeGet returns the value at path below v, or nil.
func treeGet(v any, path []string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// treeSet sets path below node to v (normalized; nil deletes) in place
// and returns the new node. Objects left empty vanish, a primitive in the
// way of a non-null value is replaced by an object, and deleting below a
// primitive changes nothing, as in Firebase.
func treeSet(node any, path []string, v any) any {
	if len(path) == 0 {
		return v
	}
	m, ok := node.(map[string]any)
	if !ok {
		if v == nil {
			return node
		}
		m = make(map[string]any, 1)
	}
	if child := treeSet(m[path[0]], path[1:], v); child != nil {
		m[path[0]] = child
	} else {
		delete(m, path[0])
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// treeShallow replaces an object's object children by true.
func treeShallow(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := make(map[string]any, len(m))
	for k, child := range m {
		if _, isObject := child.(map[string]any); isObject {
			out[k] = true
		} else {
			out[k] = child
		}
	}
	return out
}

// treeEqual reports whether two normalized values are the same.
func treeEqual(a, b any) bool {
	am, ok := a.(map[string]any)
	if !ok {
		_, bIsMap := b.(map[string]any)
		return !bIsMap && a == b
	}
	bm, ok := b.(map[string]any)
	if !ok || len(am) != len(bm) {
		return false
	}
	for k, av := range am {
		bv, ok := bm[k]
		if !ok || !treeEqual(av, bv) {
			return false
		}
	}
	return true
}

// treeClone copies the maps of a normalized value, so that a write can be
// tried on the copy.
func treeClone(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := make(map[string]any, len(m))
	for k, c := range m {
		out[k] = treeClone(c)
	}
	return out
}

// treeSize is about the length of a normalized value encoded, without
// counting escapes: what the board weighs a room by.
func treeSize(v any) int64 {
	switch v := v.(type) {
	case bool:
		return 5
	case json.Number:
		return int64(len(v))
	case string:
		return int64(len(v)) + 2
	case map[string]any:
		n := int64(2)
		for k, c := range v {
			n += int64(len(k)) + 4 + treeSize(c)
		}
		return n
	}
	return 4 // null
}

// treeHasPrefix reports whether path lies at or below prefix.
func treeHasPrefix(path, prefix []string) bool {
	return len(path) >= len(prefix) && slices.Equal(path[:len(prefix)], prefix)
}
