package main

// Firebase REST queries: orderBy with startAt, startAfter, endAt,
// endBefore, equalTo, limitToFirst and limitToLast (docs/PROTOCOL.md, "Firebase facts").
// Results are an object of the matching children, unordered, as Firebase
// answers them. Over REST, ordering by a child or by value needs an index
// in Firebase's rules; this board's only index is the one the janitor
// needs, rooms by offer/timestamp, and it answers any other such query with
// Firebase's "Index not defined" error, so a query that works here works on
// a Firebase database with the same index.

import (
	"cmp"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// boardIndexes are the ".indexOn" entries of this board's rules, by
// location.
var boardIndexes = map[string][]string{
	"/" + pypeerRooms: {janitorIndex},
}

var boardQueryParams = []string{"orderBy", "startAt", "startAfter", "endAt", "endBefore", "equalTo", "limitToFirst", "limitToLast"}

// boardQuery is a parsed query.
type boardQuery struct {
	by         string   // "$key", "$value", "$priority" or "" for a child
	child      []string // when ordering by a child
	start, end *boardBound
	limit      int  // 0: none
	fromLast   bool // limitToLast rather than limitToFirst
}

// boardBound is one end of the range.
type boardBound struct {
	value     any // a JSON primitive, normalized as the tree stores it
	exclusive bool
}

// boardParseQuery reads a query from the request's parameters; nil when
// there is none.
func boardParseQuery(q url.Values, at []string) (*boardQuery, error) {
	given := false
	for _, name := range boardQueryParams {
		given = given || q.Has(name)
	}
	if !given {
		return nil, nil
	}
	if !q.Has("orderBy") {
		return nil, boardErrorf(http.StatusBadRequest, "orderBy must be defined when other query parameters are defined")
	}
	bq := &boardQuery{}
	if err := bq.parseOrderBy(q.Get("orderBy"), at); err != nil {
		return nil, err
	}
	if err := bq.parseBounds(q); err != nil {
		return nil, err
	}
	if err := bq.parseLimit(q); err != nil {
		return nil, err
	}
	return bq, nil
}

func (bq *boardQuery) parseOrderBy(raw string, at []string) error {
	var by string
	if json.Unmarshal([]byte(raw), &by) != nil || by == "" {
		return boardErrorf(http.StatusBadRequest, "orderBy must be a valid JSON encoded path")
	}
	location := "/" + strings.Join(at, "/")
	switch by {
	case "$key", "$priority":
		bq.by = by
		return nil
	case "$value":
		bq.by = by
		return boardNeedIndex(location, ".value")
	}
	for seg := range strings.SplitSeq(by, "/") {
		if seg == "" {
			continue
		}
		if err := treeCheckKey(seg); err != nil {
			return boardErrorf(http.StatusBadRequest, "orderBy must be a valid JSON encoded path")
		}
		bq.child = append(bq.child, seg)
	}
	if len(bq.child) == 0 {
		return boardErrorf(http.StatusBadRequest, "orderBy must be a valid JSON encoded path")
	}
	return boardNeedIndex(location, strings.Join(bq.child, "/"))
}

// boardNeedIndex refuses an ordering the rules do not index, in
// Firebase's words.
func boardNeedIndex(location, index string) error {
	if slices.Contains(boardIndexes[location], index) {
		return nil
	}
	return boardErrorf(http.StatusBadRequest,
		"Index not defined, add \".indexOn\": \"%s\", for path \"%s\", to the rules", index, location)
}

func (bq *boardQuery) parseBounds(q url.Values) error {
	bounds := []struct {
		name      string
		dst       **boardBound
		exclusive bool
	}{
		{"startAt", &bq.start, false}, {"startAfter", &bq.start, true},
		{"endAt", &bq.end, false}, {"endBefore", &bq.end, true},
	}
	for _, bd := range bounds {
		if !q.Has(bd.name) {
			continue
		}
		if *bd.dst != nil {
			return boardErrorf(http.StatusBadRequest, "startAt and startAfter (or endAt and endBefore) cannot both be set")
		}
		v, err := bq.parseBoundValue(q.Get(bd.name))
		if err != nil {
			return err
		}
		*bd.dst = &boardBound{value: v, exclusive: bd.exclusive}
	}
	if q.Has("equalTo") {
		if bq.start != nil || bq.end != nil {
			return boardErrorf(http.StatusBadRequest, "equalTo cannot be combined with startAt, startAfter, endAt or endBefore")
		}
		v, err := bq.parseBoundValue(q.Get("equalTo"))
		if err != nil {
			return err
		}
		bq.start, bq.end = &boardBound{value: v}, &boardBound{value: v}
	}
	return nil
}

// parseBoundValue decodes a bound: a JSON primitive, and a string when
// ordering by key.
func (bq *boardQuery) parseBoundValue(raw string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return nil, boardErrorf(http.StatusBadRequest, "Constraint index field must be a JSON primitive")
	}
	switch v.(type) {
	case nil, bool, json.Number, string:
	default:
		return nil, boardErrorf(http.StatusBadRequest, "Constraint index field must be a JSON primitive")
	}
	if _, isString := v.(string); bq.by == "$key" && !isString {
		return nil, boardErrorf(http.StatusBadRequest, "Provided key index type is invalid, must be string")
	}
	return v, nil
}

func (bq *boardQuery) parseLimit(q url.Values) error {
	first, last := q.Has("limitToFirst"), q.Has("limitToLast")
	if first && last {
		return boardErrorf(http.StatusBadRequest, "limitToFirst and limitToLast cannot both be set")
	}
	name := "limitToFirst"
	if last {
		name = "limitToLast"
	} else if !first {
		return nil
	}
	n, err := strconv.Atoi(q.Get(name))
	if err != nil || n <= 0 {
		return boardErrorf(http.StatusBadRequest, "%s must be a positive integer", name)
	}
	bq.limit, bq.fromLast = n, last
	return nil
}

// boardQueryEntry is one child with what it is ordered by.
type boardQueryEntry struct {
	key   string
	value any // the child's value
	sort  any // what the ordering looks at
}

// apply runs the query on v, the value at its location. A primitive has
// no children to choose from and is answered as it is.
func (bq *boardQuery) apply(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	entries := make([]boardQueryEntry, 0, len(m))
	for k, child := range m {
		e := boardQueryEntry{key: k, value: child}
		switch {
		case bq.by == "$value":
			e.sort = child
		case bq.child != nil:
			e.sort = treeGet(child, bq.child)
		}
		if bq.inRange(e) {
			entries = append(entries, e)
		}
	}
	if bq.limit > 0 && len(entries) > bq.limit {
		// The answer is unordered: only which entries make the cut
		// matters, so select them rather than sort them all.
		order := bq.compare
		if bq.fromLast {
			order = func(a, b boardQueryEntry) int { return bq.compare(b, a) }
		}
		entries = boardFirst(entries, bq.limit, order)
	}
	if len(entries) == 0 {
		return nil
	}
	out := make(map[string]any, len(entries))
	for _, e := range entries {
		out[e.key] = e.value
	}
	return out
}

// compare orders entries by their sort value, then by key; $key and
// $priority (this board keeps no priorities, so all are null) order by key
// alone.
func (bq *boardQuery) compare(a, b boardQueryEntry) int {
	if bq.by == "$key" || bq.by == "$priority" {
		return boardCompareKeys(a.key, b.key)
	}
	return cmp.Or(boardCompareValues(a.sort, b.sort), boardCompareKeys(a.key, b.key))
}

func (bq *boardQuery) inRange(e boardQueryEntry) bool {
	at := func(bound any) int {
		if bq.by == "$key" {
			return boardCompareKeys(e.key, bound.(string))
		}
		return boardCompareValues(e.sort, bound)
	}
	if bq.start != nil {
		if c := at(bq.start.value); c < 0 || (c == 0 && bq.start.exclusive) {
			return false
		}
	}
	if bq.end != nil {
		if c := at(bq.end.value); c > 0 || (c == 0 && bq.end.exclusive) {
			return false
		}
	}
	return true
}

// boardCompareKeys is Firebase's key order: keys that read as 32-bit
// integers first, numerically, then the others as strings.
func boardCompareKeys(a, b string) int {
	ai, aInt := boardIntKey(a)
	bi, bInt := boardIntKey(b)
	switch {
	case aInt && bInt:
		return cmp.Compare(ai, bi)
	case aInt:
		return -1
	case bInt:
		return 1
	}
	return strings.Compare(a, b)
}

// boardIntKey reports whether a key is a 32-bit integer in canonical form
// ("7", "-3"; not "07" or "+7").
func boardIntKey(k string) (int64, bool) {
	if _, ok := boardSmallInt(k); !ok {
		return 0, false // not even digits: spare ParseInt its error allocation
	}
	n, err := strconv.ParseInt(k, 10, 32)
	if err != nil || strconv.FormatInt(n, 10) != k {
		return 0, false
	}
	return n, true
}

// boardCompareValues is Firebase's value order: null, false, true,
// numbers, strings, then objects (all equal to each other).
func boardCompareValues(a, b any) int {
	ra, rb := boardValueRank(a), boardValueRank(b)
	if ra != rb {
		return cmp.Compare(ra, rb)
	}
	switch a := a.(type) {
	case json.Number:
		return boardCompareNumbers(a, b.(json.Number))
	case string:
		return strings.Compare(a, b.(string))
	}
	return 0
}

func boardValueRank(v any) int {
	switch v := v.(type) {
	case nil:
		return 0
	case bool:
		if v {
			return 2
		}
		return 1
	case json.Number:
		return 3
	case string:
		return 4
	}
	return 5
}

// boardCompareNumbers compares numbers with 128 bits of mantissa, so
// millisecond timestamps and other large integers that collide in float64
// still compare right. (Not big.Rat: "1e999999999" would make it build a
// billion-digit integer.)
func boardCompareNumbers(a, b json.Number) int {
	if a == b {
		return 0
	}
	if x, ok := boardSmallInt(string(a)); ok {
		if y, ok := boardSmallInt(string(b)); ok {
			return cmp.Compare(x, y)
		}
	}
	x, _, errx := big.ParseFloat(string(a), 10, 128, big.ToNearestEven)
	y, _, erry := big.ParseFloat(string(b), 10, 128, big.ToNearestEven)
	if errx != nil || erry != nil {
		return strings.Compare(string(a), string(b))
	}
	return x.Cmp(y)
}

// boardSmallInt parses a canonical integer of at most 18 digits, exactly
// and without allocating: the common case of millisecond timestamps.
func boardSmallInt(s string) (int64, bool) {
	digits := strings.TrimPrefix(s, "-")
	if len(digits) == 0 || len(digits) > 18 || (digits[0] == '0' && len(digits) > 1) {
		return 0, false
	}
	var n int64
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if len(digits) != len(s) {
		n = -n
	}
	return n, true
}

// boardFirst returns the n least entries by order (n < len(entries)), in
// no particular order, in O(len(entries) log n): a max-heap of the n least
// so far, whose root is the first to give way.
func boardFirst(entries []boardQueryEntry, n int, order func(a, b boardQueryEntry) int) []boardQueryEntry {
	h := slices.Clone(entries[:n])
	down := func(i int) {
		for {
			largest, l, r := i, 2*i+1, 2*i+2
			if l < n && order(h[l], h[largest]) > 0 {
				largest = l
			}
			if r < n && order(h[r], h[largest]) > 0 {
				largest = r
			}
			if largest == i {
				return
			}
			h[i], h[largest] = h[largest], h[i]
			i = largest
		}
	}
	for i := n/2 - 1; i >= 0; i-- {
		down(i)
	}
	for _, e := range entries[n:] {
		if order(e, h[0]) < 0 {
			h[0] = e
			down(0)
		}
	}
	return h
}
