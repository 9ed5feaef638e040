package main

import (
	"errors"
	"strings"
	"testing"
)

// TestTreeCheckKey: Firebase's key rule, the one the board client and the
// board both apply.
func TestTreeCheckKey(t *testing.T) {
	tests := []struct {
		key  string
		want error
	}{
		{"ABC123", nil},
		{"a b", nil},
		{"ключ", nil},
		{"\u0085C1 controls are allowed", nil}, // Firebase forbids only ASCII controls
		{strings.Repeat("k", treeMaxKeyBytes), nil},
		{strings.Repeat("é", treeMaxKeyBytes/2), nil},
		{"", errTreeKeyEmpty},
		{strings.Repeat("k", treeMaxKeyBytes+1), errTreeKeyLong},
		{"\xff", errTreeKeyUTF8},
		{"a.b", errTreeKeyChar},
		{"a$", errTreeKeyChar},
		{"#", errTreeKeyChar},
		{"[", errTreeKeyChar},
		{"]", errTreeKeyChar},
		{"a/b", errTreeKeyChar},
		{"tab\t", errTreeKeyChar},
		{"del\x7f", errTreeKeyChar},
	}
	for _, tt := range tests {
		if err := treeCheckKey(tt.key); !errors.Is(err, tt.want) {
			t.Errorf("treeCheckKey(%q) = %v, want %v", tt.key, err, tt.want)
		}
	}
}

func TestTreeSplitPath(t *testing.T) {
	tests := []struct {
		path string
		want string // keys joined by "|", or "!" for an error
	}{
		{"", ""},
		{"/", ""},
		{"rooms/ABC123/offer", "rooms|ABC123|offer"},
		{"/rooms//ABC123/", "rooms|ABC123"},
		{"rooms/../x", "!"},
		{"rooms/a.json", "!"},
		{strings.Repeat("a/", treeMaxDepth), strings.TrimSuffix(strings.Repeat("a|", treeMaxDepth), "|")},
		{strings.Repeat("a/", treeMaxDepth+1), "!"},
	}
	for _, tt := range tests {
		keys, err := treeSplitPath(tt.path)
		got := strings.Join(keys, "|")
		if err != nil {
			got = "!"
		}
		if got != tt.want {
			t.Errorf("treeSplitPath(%q) = %q (%v), want %q", tt.path, got, err, tt.want)
		}
	}
}

func TestTreeNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            error
	}{
		{"nulls and empty objects vanish", `{"a":null,"b":{},"c":{"d":{}},"e":1}`, `{"e":1}`, nil},
		{"nothing left is null", `{"a":{"b":null}}`, "null", nil},
		{"arrays become objects", `["x",null,"z"]`, `{"0":"x","2":"z"}`, nil},
		{"integers stay exact", `9007199254740993`, `9007199254740993`, nil},
		{"a number no double holds", `1e400`, "", errTreeNumberRange},
		{"a number of 60,000 digits", "0." + strings.Repeat("1", 60000), "", errTreeNumberLong},
		{"the longest double", `-2.2250738585072014e-308`, `-2.2250738585072014e-308`, nil},
		{"a bad key", `{"a.b":1}`, "", errTreeKeyChar},
		{"a server value without a resolver is a bad key", `{".sv":"timestamp"}`, "", errTreeKeyChar},
		{"too deep", strings.Repeat(`{"a":`, treeMaxDepth+1) + "1" + strings.Repeat("}", treeMaxDepth+1), "", errTreeTooDeep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := treeDecode([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			got, err := treeNormalize(v, 0, nil)
			if !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if err == nil {
				if g := testBoardTreeJSON(t, got); g != tt.want {
					t.Errorf("normalized %s = %s, want %s", tt.in, g, tt.want)
				}
			}
		})
	}
}

// TestTreeSet: setting a value at a location, as a put event or a board
// write does.
func TestTreeSet(t *testing.T) {
	tests := []struct {
		name, start, path, data, want string
	}{
		{"root put on null", "null", "/", `{"a":1}`, `{"a":1}`},
		{"root put replaces", `{"a":1}`, "/", `{"b":{"c":2}}`, `{"b":{"c":2}}`},
		{"root put null", `{"a":1}`, "/", "null", "null"},
		{"root put primitive", `{"a":1}`, "", `"x"`, `"x"`},
		{"nested put creates parents", "null", "/rooms/X/offer", `"o"`, `{"rooms":{"X":{"offer":"o"}}}`},
		{"nested put keeps siblings", `{"a":1,"b":{"c":2}}`, "/b/d", "3", `{"a":1,"b":{"c":2,"d":3}}`},
		{"nested put replaces subtree", `{"b":{"c":{"x":1},"d":2}}`, "/b/c", `{"y":2}`, `{"b":{"c":{"y":2},"d":2}}`},
		{"path without slashes", `{"a":{"b":1}}`, "a/b/", "2", `{"a":{"b":2}}`},
		{"put null deletes and collapses parents", `{"a":1,"b":{"c":{"d":2}}}`, "/b/c/d", "null", `{"a":1}`},
		{"put null on the last child empties the root", `{"b":{"c":1}}`, "/b/c", "null", "null"},
		{"put null on missing child", `{"a":"x"}`, "/a/b", "null", `{"a":"x"}`},
		{"put over a primitive", `{"a":"x"}`, "/a/b", "1", `{"a":{"b":1}}`},
		{"put empty object deletes", `{"a":1,"b":2}`, "/b", "{}", `{"a":1}`},
		{"integers stay exact", "null", "/t", "9007199254740993", `{"t":9007199254740993}`},
		{"html is not escaped", "null", "/s", `"<a&b>"`, `{"s":"<a&b>"}`},
		{"array was made an object", `{"l":["x","y",null,"z"]}`, "/l/1", "null", `{"l":{"0":"x","3":"z"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, err := treeSplitPath(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			got := treeSet(testBoardTree(t, tt.start), at, testBoardTree(t, tt.data))
			if g := testBoardTreeJSON(t, got); g != tt.want {
				t.Errorf("set(%s, %q, %s) = %s, want %s", tt.start, tt.path, tt.data, g, tt.want)
			}
		})
	}
}
