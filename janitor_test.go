package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	janitorTestSecret = "janitor-test-secret"
	janitorTestMs     = 1_750_000_000_000 // the janitor's clock in these tests
	janitorTestMaxAge = 10 * time.Minute
)

func janitorTestNow() time.Time { return time.UnixMilli(janitorTestMs) }

// janitorTestCode is the i-th room code: six characters of A-Z0-9.
func janitorTestCode(i int) string {
	s := strings.ToUpper(strconv.FormatInt(int64(i), 36))
	return strings.Repeat("0", 6-len(s)) + s
}

// janitorTestRoom is a room as gopeer's client leaves it: an offer (and
// maybe an answer) stamped age ago by the janitor's clock.
func janitorTestRoom(age time.Duration, answered bool) map[string]any {
	ts := janitorTestNow().Add(-age).UnixMilli()
	room := map[string]any{"offer": map[string]any{"payload": "gAAAAAsealed-offer", "timestamp": ts}}
	if answered {
		room["answer"] = map[string]any{"payload": "gAAAAAsealed-answer", "timestamp": ts + 1000}
	}
	return room
}

// janitorTestMalformed are rooms with no readable offer, and one with a
// timestamp too far ahead to be a clock's. Each must be purged.
var janitorTestMalformed = map[string]any{
	"MAL001":     "a bare string",
	"MAL002":     42,
	"MAL003":     map[string]any{"answer": map[string]any{"payload": "x", "timestamp": janitorTestMs}},
	"MAL004":     map[string]any{"offer": "not an object"},
	"MAL005":     map[string]any{"offer": map[string]any{"payload": "no timestamp"}},
	"MAL006":     map[string]any{"offer": map[string]any{"payload": "x", "timestamp": "1750000000000"}},
	"MAL007":     map[string]any{"offer": map[string]any{"payload": "x", "timestamp": map[string]any{"ms": 1}}},
	"MAL008":     map[string]any{"offer": map[string]any{"payload": "x", "timestamp": true}},
	"MAL009":     map[string]any{"offer": map[string]any{"payload": "x", "timestamp": janitorTestMs + 48*3600*1000}},
	"MAL010":     map[string]any{"offer": map[string]any{"payload": "x", "timestamp": -1}},
	"not a code": map[string]any{"junk": true},
}

// janitorTestEdges are rooms at the edges of max-age and of the future.
func janitorTestEdges() (stale, fresh map[string]any) {
	at := func(ms int64) map[string]any {
		return map[string]any{"offer": map[string]any{"payload": "x", "timestamp": ms}}
	}
	maxAgeMs := janitorTestMaxAge.Milliseconds()
	return map[string]any{
			"EDGE01": at(janitorTestMs - maxAgeMs - 1), // a millisecond too old
		}, map[string]any{
			"EDGE02": at(janitorTestMs - maxAgeMs),     // exactly max-age: not older
			"EDGE03": at(janitorTestMs + 3600*1000),    // an hour ahead: a clock off by a time zone
			"EDGE04": at(janitorTestMs - maxAgeMs + 1), // young by a millisecond
			"EDGE05": at(janitorTestMs + 24*3600*1000 - 1),
		}
}

// janitorTestData is a database of stale, fresh and malformed rooms.
type janitorTestData struct {
	stale, fresh map[string]any
}

func newJanitorTestData(nStale, nFresh int) janitorTestData {
	d := janitorTestData{stale: make(map[string]any), fresh: make(map[string]any)}
	for i := range nStale {
		// Stale from a second to a day past max-age, half of them answered.
		d.stale[janitorTestCode(i)] = janitorTestRoom(janitorTestMaxAge+time.Second+time.Duration(i%86400)*time.Second, i%2 == 0)
	}
	for i := range nFresh {
		d.fresh[janitorTestCode(nStale+i)] = janitorTestRoom(time.Duration(i%600)*time.Second, i%3 == 0)
	}
	edgeStale, edgeFresh := janitorTestEdges()
	for k, v := range janitorTestMalformed {
		d.stale[k] = v
	}
	for k, v := range edgeStale {
		d.stale[k] = v
	}
	for k, v := range edgeFresh {
		d.fresh[k] = v
	}
	return d
}

// janitorTestBoard is gopeer's board with an admin secret, no limits and
// no room expiry of its own, served on loopback, with an optional
// middleware in front.
type janitorTestBoard struct {
	b   *board
	srv *httptest.Server
}

func newJanitorTestBoard(t testing.TB, wrap func(b *board) http.Handler) *janitorTestBoard {
	t.Helper()
	b := newBoard(boardOptions{
		secret:   janitorTestSecret,
		roomTTL:  -1,
		maxRooms: -1,
		maxBody:  -1,
	})
	var h http.Handler = b
	if wrap != nil {
		h = wrap(b)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &janitorTestBoard{b: b, srv: srv}
}

// janitorTestAdmin sends one admin request straight to the board's handler.
func janitorTestAdmin(t testing.TB, b http.Handler, method, path string, body any) []byte {
	t.Helper()
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req := httptest.NewRequest(method, path+"?auth="+janitorTestSecret, r)
	rec := httptest.NewRecorder()
	b.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

func (tb *janitorTestBoard) seed(t testing.TB, rooms ...map[string]any) {
	t.Helper()
	for _, m := range rooms {
		janitorTestAdmin(t, tb.b, http.MethodPatch, "/rooms.json", m)
	}
}

// rooms returns the codes of the rooms on the board.
func (tb *janitorTestBoard) rooms(t testing.TB) map[string]bool {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(janitorTestAdmin(t, tb.b, http.MethodGet, "/rooms.json", nil), &m); err != nil {
		t.Fatal(err)
	}
	codes := make(map[string]bool, len(m))
	for k := range m {
		codes[k] = true
	}
	return codes
}

// janitorTestRun runs the janitor once on url with the secret given
// through the environment, as the GitHub Action does.
type janitorTestResult struct {
	code           int
	stdout, stderr string
}

// janitorTestBackoff waits a millisecond between tries.
var janitorTestBackoff = backoff{first: time.Millisecond, max: time.Millisecond}

func janitorTestRun(t testing.TB, jo janitorOptions, env map[string]string) janitorTestResult {
	t.Helper()
	if jo.maxAge == 0 {
		jo.maxAge = janitorTestMaxAge
	}
	if jo.now == nil {
		jo.now = janitorTestNow
	}
	if jo.backoff == (backoff{}) {
		jo.backoff = janitorTestBackoff // the retries, not their pace, are under test
	}
	var stdout, stderr bytes.Buffer
	code := runJanitor(context.Background(), jo, janitorTestEnvOf(&stdout, &stderr, env))
	return janitorTestResult{code, stdout.String(), stderr.String()}
}

func janitorTestEnvOf(stdout, stderr io.Writer, vars map[string]string) env {
	return env{
		stdin:   strings.NewReader(""),
		stdout:  stdout,
		stderr:  stderr,
		getenv:  func(k string) string { return vars[k] },
		stdinFd: -1,
	}
}

func janitorTestEnv(url string) map[string]string {
	return map[string]string{"FIREBASE_DB_URL": url, "FIREBASE_DB_SECRET": janitorTestSecret}
}

// janitorTestSummaryRE matches the closing line.
var janitorTestSummaryRE = regexp.MustCompile(`^gopeer: janitor(?: \(dry run\))?: (\d+) rooms seen, (\d+) (?:purged|to purge), (\d+) kept, (\d+) errors$`)

// janitorTestCounts are a summary line's counts.
type janitorTestCounts struct{ seen, purged, kept, errors int }

// summary parses stdout, which must be the one summary line.
func (res janitorTestResult) summary(t testing.TB) janitorTestCounts {
	t.Helper()
	m := janitorTestSummaryRE.FindStringSubmatch(strings.TrimSuffix(res.stdout, "\n"))
	if m == nil {
		t.Fatalf("stdout is not one summary line: %q (stderr %q)", res.stdout, res.stderr)
	}
	n := make([]int, 4)
	for i := range n {
		n[i], _ = strconv.Atoi(m[i+1])
	}
	return janitorTestCounts{n[0], n[1], n[2], n[3]}
}

// janitorTestCheckClean checks that exactly the fresh rooms are left, and
// that the output names no room.
func janitorTestCheckClean(t *testing.T, tb *janitorTestBoard, d janitorTestData, extra map[string]bool, res janitorTestResult) {
	t.Helper()
	left := tb.rooms(t)
	for code := range d.fresh {
		if !left[code] {
			t.Errorf("fresh room %s was purged", code)
		}
	}
	for code := range extra {
		if !left[code] {
			t.Errorf("room %s, made during the run, was purged", code)
		}
	}
	stale := 0
	for code := range left {
		if d.stale[code] != nil {
			stale++
			if stale <= 5 {
				t.Errorf("stale room %q was kept", code)
			}
		}
	}
	if stale > 0 {
		t.Errorf("%d stale rooms kept in all", stale)
	}
	janitorTestNoCodes(t, res, d)
}

func janitorTestNoCodes(t *testing.T, res janitorTestResult, d janitorTestData) {
	t.Helper()
	out := res.stdout + res.stderr
	for _, m := range []map[string]any{d.stale, d.fresh} {
		for code := range m {
			if strings.Contains(out, code) {
				t.Fatalf("the output names room %q:\n%s", code, out)
			}
		}
	}
}

// janitorTestRace reports whether the race detector is on: the 100,000
// room case runs without it (it takes minutes with it, on two cores), the
// 10,000 room case always.
func janitorTestRace() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// janitorTestWant checks the exit status and the counts.
func janitorTestWant(t *testing.T, res janitorTestResult, code int, want janitorTestCounts) {
	t.Helper()
	if res.code != code {
		t.Errorf("exit status %d, want %d; stderr:\n%s", res.code, code, res.stderr)
	}
	if got := res.summary(t); got != want {
		t.Errorf("counts %+v, want %+v; stderr:\n%s", got, want, res.stderr)
	}
}

// TestJanitorPurgesStaleKeepsFresh: in a database of stale, fresh and
// malformed rooms, every stale and malformed room is purged, every fresh
// one kept, with counts and no room codes in the output.
func TestJanitorPurgesStaleKeepsFresh(t *testing.T) {
	t.Parallel()
	sizes := []int{10_000}
	if !testing.Short() && !janitorTestRace() {
		sizes = append(sizes, 100_000)
	}
	for _, n := range sizes {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			tb := newJanitorTestBoard(t, nil)
			d := newJanitorTestData(n, 1000)
			tb.seed(t, d.stale, d.fresh)
			res := janitorTestRun(t, janitorOptions{}, janitorTestEnv(tb.srv.URL))
			janitorTestWant(t, res, exitOK, janitorTestCounts{len(d.stale) + len(d.fresh), len(d.stale), len(d.fresh), 0})
			janitorTestCheckClean(t, tb, d, nil, res)
			if res.stderr != "" {
				t.Errorf("stderr: %s", res.stderr)
			}
		})
	}
}

// janitorTestNoIndex answers every ordered query as a Firebase database
// without the rules' index does.
func janitorTestNoIndex(next http.Handler) http.Handler {
	return janitorTestRefusesQueries(next, `Index not defined, add ".indexOn": "offer/timestamp", for path "/rooms", to the rules`)
}

// janitorTestRefusesQueries answers every ordered query with 400 and the
// given text, as a board that cannot answer it does.
func janitorTestRefusesQueries(next http.Handler, text string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("orderBy") {
			body, _ := json.Marshal(map[string]string{"error": text})
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write(body)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// TestJanitorWithoutIndex: when the board refuses the index query, in
// Firebase's words or any other's, the janitor says why and how to deploy
// the index, and checks rooms one by one, with the same result.
func TestJanitorWithoutIndex(t *testing.T) {
	t.Parallel()
	for _, text := range []string{
		`Index not defined, add ".indexOn": "offer/timestamp", for path "/rooms", to the rules`,
		"orderBy is not supported by this emulator",
		"",
	} {
		t.Run(text, func(t *testing.T) {
			tb := newJanitorTestBoard(t, func(b *board) http.Handler { return janitorTestRefusesQueries(b, text) })
			d := newJanitorTestData(2000, 300)
			tb.seed(t, d.stale, d.fresh)
			res := janitorTestRun(t, janitorOptions{}, janitorTestEnv(tb.srv.URL))
			janitorTestWant(t, res, exitOK, janitorTestCounts{len(d.stale) + len(d.fresh), len(d.stale), len(d.fresh), 0})
			janitorTestCheckClean(t, tb, d, nil, res)
			for _, want := range []string{"answered 400 " + text, "checking rooms one by one", "index on rooms/offer/timestamp", "firebase deploy --only database"} {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr does not say %q:\n%s", want, res.stderr)
				}
			}
		})
	}
}

// TestJanitorRoomLevelError: a room the board refuses to show is counted
// as an error and left alone; the others are purged; the run exits 1 and
// says why, without naming the room.
func TestJanitorRoomLevelError(t *testing.T) {
	t.Parallel()
	const bad = "STALE1"
	tb := newJanitorTestBoard(t, func(b *board) http.Handler {
		return janitorTestNoIndex(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/rooms/"+bad+"/") {
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, `{"error":"Invalid path"}`)
				return
			}
			b.ServeHTTP(w, r)
		}))
	})
	d := newJanitorTestData(100, 10)
	d.stale[bad] = janitorTestRoom(time.Hour, false)
	tb.seed(t, d.stale, d.fresh)
	res := janitorTestRun(t, janitorOptions{}, janitorTestEnv(tb.srv.URL))
	janitorTestWant(t, res, exitFailure, janitorTestCounts{len(d.stale) + len(d.fresh), len(d.stale) - 1, len(d.fresh), 1})
	if !strings.Contains(res.stderr, "1 rooms could not be checked or deleted") || !strings.Contains(res.stderr, "400 Invalid path") {
		t.Errorf("stderr does not say what went wrong:\n%s", res.stderr)
	}
	janitorTestNoCodes(t, res, d)
	if left := tb.rooms(t); !left[bad] || len(left) != len(d.fresh)+1 {
		t.Errorf("%d rooms left (the bad one: %v), want the %d fresh ones and the bad one", len(left), left[bad], len(d.fresh))
	}
}

// janitorTestDuringRun makes rooms while the janitor runs: after each
// delete it applies, a room with a new code and one with the lowest code
// it just deleted, both fresh; and, right after the first listing, a fresh
// room in place of a listed stale one not yet checked.
type janitorTestDuringRun struct {
	b        *board
	t        testing.TB
	replace  string // a stale room replaced right after the listing
	mu       sync.Mutex
	made     map[string]bool
	listings int
}

func (m *janitorTestDuringRun) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	m.b.ServeHTTP(w, r)
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case r.Method == http.MethodPatch && r.URL.Path == "/rooms.json":
		var batch map[string]any
		if err := json.Unmarshal(body, &batch); err != nil {
			m.t.Errorf("PATCH body: %v", err)
			return
		}
		lowest := ""
		for code := range batch {
			if lowest == "" || code < lowest {
				lowest = code
			}
		}
		fresh := fmt.Sprintf("NEW%03d", len(m.made))
		m.add(fresh, lowest)
	case r.URL.Query().Get("shallow") == "true" && m.listings == 0 && m.replace != "":
		m.listings++
		m.add(m.replace)
	}
}

func (m *janitorTestDuringRun) add(codes ...string) {
	for _, code := range codes {
		janitorTestAdmin(m.t, m.b, http.MethodPut, "/rooms/"+code+".json", janitorTestRoom(time.Minute, false))
		m.made[code] = true
	}
}

// TestJanitorRoomsMadeDuringRunSurvive: a room made while the janitor
// runs is never purged, even one that takes the code of a room just
// purged, or of a stale room listed but not yet checked.
func TestJanitorRoomsMadeDuringRunSurvive(t *testing.T) {
	t.Parallel()
	for _, indexed := range []bool{true, false} {
		t.Run(map[bool]string{true: "indexed", false: "one by one"}[indexed], func(t *testing.T) {
			var during *janitorTestDuringRun
			tb := newJanitorTestBoard(t, func(b *board) http.Handler {
				during = &janitorTestDuringRun{b: b, t: t, made: make(map[string]bool)}
				if indexed {
					return during
				}
				during.replace = janitorTestCode(2999) // checked in the last chunk
				return janitorTestNoIndex(during)
			})
			d := newJanitorTestData(3000, 100)
			tb.seed(t, d.stale, d.fresh)
			res := janitorTestRun(t, janitorOptions{}, janitorTestEnv(tb.srv.URL))
			if res.code != exitOK {
				t.Fatalf("exit status %d; stderr:\n%s", res.code, res.stderr)
			}
			during.mu.Lock()
			made := during.made
			during.mu.Unlock()
			if len(made) < 3 {
				t.Fatalf("only %d rooms were made during the run", len(made))
			}
			if !indexed && !made[janitorTestCode(2999)] {
				t.Fatal("the listed stale room was not replaced")
			}
			for code := range made {
				delete(d.stale, code) // no longer stale
			}
			janitorTestCheckClean(t, tb, d, made, res)
			if left := tb.rooms(t); len(left) != len(d.fresh)+len(made) {
				t.Errorf("%d rooms left, want %d fresh and %d made during the run", len(left), len(d.fresh), len(made))
			}
		})
	}
}

// TestJanitorAuthFailure: a refused credential is a clear error, and
// nothing is deleted. Neither the secret nor a room code is printed.
func TestJanitorAuthFailure(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, want string
		env        map[string]string
	}{
		{"wrong secret", "401 Could not parse auth token", map[string]string{"FIREBASE_DB_SECRET": "wrong-secret"}},
		{"token the board does not honour", "401 Permission denied", map[string]string{"FIREBASE_ACCESS_TOKEN": "ya29.not-admin"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tb := newJanitorTestBoard(t, nil)
			d := newJanitorTestData(500, 50)
			tb.seed(t, d.stale, d.fresh)
			tc.env["FIREBASE_DB_URL"] = tb.srv.URL
			res := janitorTestRun(t, janitorOptions{}, tc.env)
			janitorTestWant(t, res, exitFailure, janitorTestCounts{})
			if !strings.Contains(res.stderr, "the database refused the credential ("+tc.want) || !strings.Contains(res.stderr, "FIREBASE_DB_SECRET") {
				t.Errorf("stderr does not explain the refusal:\n%s", res.stderr)
			}
			if n := len(tb.rooms(t)); n != len(d.stale)+len(d.fresh) {
				t.Errorf("%d rooms left, want all %d", n, len(d.stale)+len(d.fresh))
			}
			for _, secret := range tc.env {
				if secret != tb.srv.URL && strings.Contains(res.stdout+res.stderr, secret) {
					t.Errorf("the output shows the credential:\n%s", res.stderr)
				}
			}
			janitorTestNoCodes(t, res, d)
		})
	}
}

// janitorTestFlaky fails one request in three of each method: with 503
// or 429; by cutting the connection before the board sees the request;
// for a GET, by cutting its answer's body short; for a write, by applying
// it and cutting the connection before the answer (a delete that happened
// though the janitor cannot know). No request fails more than twice in a
// row, so every step succeeds within the janitor's attempts, whatever
// order concurrent requests come in.
type janitorTestFlaky struct {
	next   http.Handler
	t      testing.TB
	mu     sync.Mutex
	seen   map[string]int // requests, by method
	streak map[string]int // failures in a row, by request
	failed map[string]int // failures served, by method
	kinds  map[string]int // failures served, by method and kind
}

// janitorTestFlakyKinds are the failures by method, served in turn.
var janitorTestFlakyKinds = map[string][]string{
	http.MethodGet:   {"503", "429", "cut before", "cut mid-body"},
	http.MethodPatch: {"503", "429", "cut before", "cut after"},
}

func (f *janitorTestFlaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	key := r.Method + " " + r.URL.String() + " " + string(body)
	f.mu.Lock()
	f.seen[r.Method]++
	kind := ""
	if kinds := janitorTestFlakyKinds[r.Method]; kinds != nil && f.seen[r.Method]%3 == 1 && f.streak[key] < 2 {
		kind = kinds[f.failed[r.Method]%len(kinds)]
		f.failed[r.Method]++
		f.streak[key]++
		f.kinds[r.Method+" "+kind]++
	} else {
		delete(f.streak, key)
	}
	f.mu.Unlock()
	switch kind {
	case "":
		f.next.ServeHTTP(w, r)
	case "503", "429":
		code, _ := strconv.Atoi(kind)
		w.WriteHeader(code)
		fmt.Fprint(w, `{"error":"try again later"}`)
	case "cut before":
		f.cut(w, nil)
	case "cut after":
		f.next.ServeHTTP(httptest.NewRecorder(), r)
		f.cut(w, nil)
	case "cut mid-body":
		rec := httptest.NewRecorder()
		f.next.ServeHTTP(rec, r)
		f.cut(w, rec)
	}
}

// cut closes the connection: with nothing sent, or with the headers of
// rec's response and half its body.
func (f *janitorTestFlaky) cut(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		f.t.Errorf("hijack: %v", err)
		return
	}
	defer conn.Close()
	if rec != nil {
		body := rec.Body.Bytes()
		fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
			rec.Code, http.StatusText(rec.Code), len(body))
		buf.Write(body[:len(body)/2])
		buf.Flush()
	}
}

// TestJanitorFlakyBoard: on a board that fails some requests (5xx, 429,
// cut connections, deletes applied whose answer is lost), a run still ends
// clean after retries, with exact counts.
func TestJanitorFlakyBoard(t *testing.T) {
	t.Parallel()
	for _, indexed := range []bool{true, false} {
		t.Run(map[bool]string{true: "indexed", false: "one by one"}[indexed], func(t *testing.T) {
			var flaky *janitorTestFlaky
			tb := newJanitorTestBoard(t, func(b *board) http.Handler {
				flaky = &janitorTestFlaky{next: b, t: t, seen: make(map[string]int), streak: make(map[string]int),
					failed: make(map[string]int), kinds: make(map[string]int)}
				if indexed {
					return flaky
				}
				return janitorTestNoIndex(flaky)
			})
			d := newJanitorTestData(3000, 200)
			tb.seed(t, d.stale, d.fresh)
			// Small pages make many deletes, so every kind of failure
			// meets one.
			res := janitorTestRun(t, janitorOptions{pageSize: 100}, janitorTestEnv(tb.srv.URL))
			janitorTestWant(t, res, exitOK, janitorTestCounts{len(d.stale) + len(d.fresh), len(d.stale), len(d.fresh), 0})
			janitorTestCheckClean(t, tb, d, nil, res)
			flaky.mu.Lock()
			defer flaky.mu.Unlock()
			for method, kinds := range janitorTestFlakyKinds {
				for _, kind := range kinds {
					if flaky.kinds[method+" "+kind] == 0 {
						t.Errorf("no %s failed with %q: the test lost its teeth", method, kind)
					}
				}
			}
		})
	}
}

// TestJanitorDryRun: a dry run deletes nothing and counts what a run
// would purge.
func TestJanitorDryRun(t *testing.T) {
	t.Parallel()
	tb := newJanitorTestBoard(t, nil)
	d := newJanitorTestData(1000, 100)
	tb.seed(t, d.stale, d.fresh)
	res := janitorTestRun(t, janitorOptions{dryRun: true}, janitorTestEnv(tb.srv.URL))
	janitorTestWant(t, res, exitOK, janitorTestCounts{len(d.stale) + len(d.fresh), len(d.stale), len(d.fresh), 0})
	if !strings.Contains(res.stdout, "(dry run)") {
		t.Errorf("the summary does not say it was a dry run: %q", res.stdout)
	}
	if n := len(tb.rooms(t)); n != len(d.stale)+len(d.fresh) {
		t.Errorf("a dry run left %d rooms of %d", n, len(d.stale)+len(d.fresh))
	}
	janitorTestNoCodes(t, res, d)
}

// TestJanitorUnreachable: a board that cannot be reached ends the run
// with a reason and status 1, after retrying.
func TestJanitorUnreachable(t *testing.T) {
	t.Parallel()
	// Nothing listens on port 9 of loopback, and no other test can take
	// it (a closed test server's port could be taken by a parallel test).
	res := janitorTestRun(t, janitorOptions{}, janitorTestEnv("http://127.0.0.1:9"))
	janitorTestWant(t, res, exitFailure, janitorTestCounts{})
	if !strings.Contains(res.stderr, "could not finish: querying the rooms index: ") || !strings.Contains(res.stderr, "refused") {
		t.Errorf("stderr does not say why:\n%s", res.stderr)
	}
}

// TestJanitorInterrupted: an interrupt ends the run at once, with status
// 130 and a line saying so.
func TestJanitorInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tb := newJanitorTestBoard(t, func(b *board) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cancel() // the user presses ^C while the first request is out
			<-r.Context().Done()
		})
	})
	var stdout, stderr bytes.Buffer
	jo := janitorOptions{maxAge: janitorTestMaxAge, now: janitorTestNow, backoff: janitorTestBackoff}
	code := runJanitor(ctx, jo, janitorTestEnvOf(&stdout, &stderr, janitorTestEnv(tb.srv.URL)))
	if code != exitInterrupted || !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("exit status %d, stderr %q; want %d and a line saying it was interrupted", code, stderr.String(), exitInterrupted)
	}
}

// TestJanitorThroughRun: gopeer -janitor with FIREBASE_DB_URL and
// FIREBASE_DB_SECRET, as the GitHub Action runs it, on the real clock.
func TestJanitorThroughRun(t *testing.T) {
	tb := newJanitorTestBoard(t, nil)
	now := time.Now()
	at := func(age time.Duration) map[string]any {
		return map[string]any{"offer": map[string]any{"payload": "x", "timestamp": now.Add(-age).UnixMilli()}}
	}
	tb.seed(t, map[string]any{"OLD001": at(time.Hour), "OLD002": at(11 * time.Minute), "NEW001": at(time.Minute)})
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-janitor"}, janitorTestEnvOf(&stdout, &stderr, janitorTestEnv(tb.srv.URL)))
	res := janitorTestResult{code, stdout.String(), stderr.String()}
	janitorTestWant(t, res, exitOK, janitorTestCounts{3, 2, 1, 0})
	if left := tb.rooms(t); len(left) != 1 || !left["NEW001"] {
		t.Errorf("rooms left: %v, want NEW001 alone", left)
	}
}

// TestJanitorFlags: the janitor's own flags, and the ones it shares: -db
// only when given (never $PYPEER_URL or the public board), -secret-file.
func TestJanitorFlags(t *testing.T) {
	e := janitorTestEnvOf(io.Discard, io.Discard, map[string]string{"PYPEER_URL": "https://pypeer.example"})
	c, err := parseConfig([]string{"-janitor", "-db", "https://db.example", "-secret-file", "s.txt",
		"-access-token-file", "t.txt", "-max-age", "5m", "-dry-run"}, e)
	if err != nil {
		t.Fatal(err)
	}
	// The flags' part of janitorOptions; the rest are tests' seams.
	type flags struct {
		maxAge                          time.Duration
		dryRun                          bool
		accessTokenFile, db, secretFile string
	}
	of := func(jo janitorOptions) flags {
		return flags{jo.maxAge, jo.dryRun, jo.accessTokenFile, jo.db, jo.secretFile}
	}
	want := flags{5 * time.Minute, true, "t.txt", "https://db.example", "s.txt"}
	if got := of(c.janitor); got != want {
		t.Errorf("options %+v, want %+v", got, want)
	}
	c, err = parseConfig([]string{"-janitor"}, e)
	if err != nil {
		t.Fatal(err)
	}
	if got := of(c.janitor); got != (flags{maxAge: janitorDefaultMaxAge}) {
		t.Errorf("defaults %+v, want max-age %v and nothing else", got, janitorDefaultMaxAge)
	}
}

// TestJanitorConfig: where the URL and the credential come from, and the
// mistakes refused before anything is sent.
func TestJanitorConfig(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	secretFile := file("secret", "from-file\nsecond line\n")
	tokenFile := file("token", "ya29.token\n")
	emptyFile := file("empty", "\n")
	const base = "https://db.example"
	cases := []struct {
		name    string
		jo      janitorOptions
		env     map[string]string
		want    string // the query, or the error's text
		wantErr bool
	}{
		{"env", janitorOptions{}, map[string]string{"FIREBASE_DB_URL": base + "/", "FIREBASE_DB_SECRET": " s3cret\n"}, "auth=s3cret", false},
		{"flags over env", janitorOptions{db: base, secretFile: secretFile}, map[string]string{"FIREBASE_DB_URL": "https://other.example", "FIREBASE_DB_SECRET": "env"}, "auth=from-file", false},
		{"token file over env secret", janitorOptions{db: base, accessTokenFile: tokenFile}, map[string]string{"FIREBASE_DB_SECRET": "env"}, "access_token=ya29.token", false},
		{"secret over token in env", janitorOptions{db: base}, map[string]string{"FIREBASE_DB_SECRET": "env", "FIREBASE_ACCESS_TOKEN": "tok"}, "auth=env", false},
		{"token env", janitorOptions{db: base}, map[string]string{"FIREBASE_ACCESS_TOKEN": "tok"}, "access_token=tok", false},
		{"auth already in the URL", janitorOptions{db: base + "?auth=inline"}, nil, "auth=inline", false},
		{"a given secret replaces the URL's", janitorOptions{db: base + "?auth=inline"}, map[string]string{"FIREBASE_DB_SECRET": "env"}, "auth=env", false},
		{"loopback over http", janitorOptions{db: "http://127.0.0.1:8765"}, map[string]string{"FIREBASE_DB_SECRET": "s"}, "auth=s", false},
		{"no URL", janitorOptions{}, map[string]string{"FIREBASE_DB_SECRET": "s"}, "no database: set FIREBASE_DB_URL or pass -db URL", true},
		{"no credential", janitorOptions{db: base}, nil, "no credential: set FIREBASE_DB_SECRET", true},
		{"two credential files", janitorOptions{db: base, secretFile: secretFile, accessTokenFile: tokenFile}, nil, "give one credential, not two", true},
		{"empty secret file", janitorOptions{db: base, secretFile: emptyFile}, nil, "-secret-file: the first line is empty", true},
		{"empty token file", janitorOptions{db: base, accessTokenFile: emptyFile}, nil, "-access-token-file: the first line is empty", true},
		{"missing token file", janitorOptions{db: base, accessTokenFile: filepath.Join(dir, "none")}, nil, "-access-token-file: open", true},
		{"plain http elsewhere", janitorOptions{db: "http://db.example"}, map[string]string{"FIREBASE_DB_SECRET": "s3cret"}, "refusing to send the credential over plain http", true},
		{"not a URL", janitorOptions{db: "db.example?auth=s3cret"}, nil, "invalid board URL", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := janitorBoardURL(tc.jo, func(k string) string { return tc.env[k] })
			if tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want one saying %q", err, tc.want)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("the error shows the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, query, _ := strings.Cut(got, "?"); query != tc.want {
				t.Errorf("URL %q, want the query %q", got, tc.want)
			}
		})
	}
	var stderr bytes.Buffer
	code := runJanitor(context.Background(), janitorOptions{}, janitorTestEnvOf(io.Discard, &stderr, map[string]string{"FIREBASE_DB_URL": base, "FIREBASE_DB_SECRET": "s"}))
	if code != exitUsage || !strings.Contains(stderr.String(), "-max-age must be positive") {
		t.Errorf("-max-age 0: exit status %d, stderr %q", code, stderr.String())
	}
}

// TestJanitorStaleRule: what counts as stale, and as no readable offer.
func TestJanitorStaleRule(t *testing.T) {
	now := janitorTestNow()
	ms := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).UnixMilli(), 10) }
	cases := []struct {
		room  string
		stale bool
	}{
		{`{"offer":{"payload":"p","timestamp":` + ms(-time.Minute) + `}}`, false},
		{`{"offer":{"payload":"p","timestamp":` + ms(-janitorTestMaxAge) + `}}`, false},
		{`{"offer":{"payload":"p","timestamp":` + ms(-janitorTestMaxAge-time.Millisecond) + `}}`, true},
		{`{"offer":{"payload":"p","timestamp":` + ms(-janitorTestMaxAge) + `.5}}`, false},
		{`{"offer":{"payload":"p","timestamp":` + ms(janitorMaxAhead-time.Millisecond) + `}}`, false},
		{`{"offer":{"payload":"p","timestamp":` + ms(janitorMaxAhead) + `}}`, true},
		{`{"offer":{"payload":"p","timestamp":1e400}}`, true},
		{`{"offer":{"payload":"p","timestamp":"` + ms(0) + `"}}`, true},
		{`{"offer":{"payload":"p","timestamp":null}}`, true},
		{`{"offer":{"payload":"p"}}`, true},
		{`{"offer":null,"answer":{"payload":"p","timestamp":` + ms(0) + `}}`, true},
		{`{"offer":[1,2]}`, true},
		{`"bare"`, true},
		{`[{"offer":1}]`, true},
	}
	for _, tc := range cases {
		if got := janitorRoomStale(json.RawMessage(tc.room), now, janitorTestMaxAge); got != tc.stale {
			t.Errorf("room %s: stale %v, want %v", tc.room, got, tc.stale)
		}
	}
}

// TestJanitorArrays: Firebase answers an object with mostly small integer
// keys as an array; the janitor reads both listings and pages that way.
func TestJanitorArrays(t *testing.T) {
	t.Parallel()
	rooms := make(map[string]bool)
	d := json.NewDecoder(strings.NewReader(`[true,null,5]`))
	if err := janitorDecodeListing(d, rooms); err != nil {
		t.Fatal(err)
	}
	if len(rooms) != 2 || rooms["0"] != true || rooms["2"] != false {
		t.Errorf("listing %v, want 0 (an object) and 2 (a bare value)", rooms)
	}
	page, err := janitorChildren(json.RawMessage(`[{"offer":null},null,"x"]`))
	if err != nil || len(page) != 2 || string(page["2"]) != `"x"` {
		t.Errorf("page %v, %v; want keys 0 and 2", page, err)
	}
	for _, bad := range []string{`5`, `"x"`} {
		if err := janitorDecodeListing(json.NewDecoder(strings.NewReader(bad)), rooms); err == nil {
			t.Errorf("listing %s: no error", bad)
		}
		if _, err := janitorChildren(json.RawMessage(bad)); err == nil {
			t.Errorf("page %s: no error", bad)
		}
	}
}

// BenchmarkJanitorPurge purges 100,000 stale rooms (next to 1,000 fresh)
// from gopeer's board over loopback, then does the same the way pypeer's
// janitor does (GET all rooms, then one DELETE per stale room), and reports
// both, their ratio, and the requests each sent: on loopback a request
// costs microseconds, on the internet a round trip.
func BenchmarkJanitorPurge(b *testing.B) {
	const nStale, nFresh = 100_000, 1_000
	d := newJanitorTestData(nStale, nFresh)
	var (
		janitorTime, perRoomTime         time.Duration
		janitorRequests, perRoomRequests int64
	)
	for i := 0; i < b.N; i++ {
		var requests atomic.Int64
		count := func(b *board) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				b.ServeHTTP(w, r)
			})
		}
		tb := newJanitorTestBoard(b, count)
		tb.seed(b, d.stale, d.fresh)
		start := time.Now()
		res := janitorTestRun(b, janitorOptions{}, janitorTestEnv(tb.srv.URL))
		janitorTime += time.Since(start)
		janitorRequests += requests.Swap(0)
		if res.code != exitOK {
			b.Fatalf("janitor: %+v", res)
		}

		tb = newJanitorTestBoard(b, count)
		tb.seed(b, d.stale, d.fresh)
		start = time.Now()
		janitorTestPerRoom(b, tb.srv.URL)
		perRoomTime += time.Since(start)
		perRoomRequests += requests.Swap(0)
		if n := len(tb.rooms(b)); n != len(d.fresh) {
			b.Fatalf("one DELETE per room left %d rooms, want %d", n, len(d.fresh))
		}
	}
	n := float64(b.N)
	b.ReportMetric(0, "ns/op") // mostly seeding; the figures are below
	b.ReportMetric(janitorTime.Seconds()/n, "janitor-s/op")
	b.ReportMetric(perRoomTime.Seconds()/n, "per-room-s/op")
	b.ReportMetric(perRoomTime.Seconds()/janitorTime.Seconds(), "speedup-x")
	b.ReportMetric(float64(janitorRequests)/n, "janitor-requests/op")
	b.ReportMetric(float64(perRoomRequests)/n, "per-room-requests/op")
}

// janitorTestPerRoom is pypeer's janitor: the whole of rooms, then one
// DELETE per room older than max-age or without an offer timestamp.
func janitorTestPerRoom(b *testing.B, base string) {
	resp, err := http.Get(base + "/rooms.json?auth=" + janitorTestSecret)
	if err != nil {
		b.Fatal(err)
	}
	var rooms map[string]json.RawMessage
	err = json.NewDecoder(resp.Body).Decode(&rooms)
	resp.Body.Close()
	if err != nil {
		b.Fatal(err)
	}
	cutoff := janitorTestNow().Add(-janitorTestMaxAge)
	for code, room := range rooms {
		if !janitorRoomStale(room, cutoff.Add(janitorTestMaxAge), janitorTestMaxAge) {
			continue
		}
		req, _ := http.NewRequest(http.MethodDelete, base+"/rooms/"+url.PathEscape(code)+".json?auth="+janitorTestSecret, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("DELETE: %s", resp.Status)
		}
	}
}

// TestJanitorPageSize: pages grow while they come back full and small,
// and shrink when they are large.
func TestJanitorPageSize(t *testing.T) {
	t.Parallel()
	cases := []struct {
		size, got int
		bytes     int64
		want      int
	}{
		{1000, 1000, 1 << 20, 2000},
		{8000, 8000, 1 << 20, janitorMaxPageSize},
		{1000, 999, 1 << 20, 1000}, // the last page
		{1000, 1000, 3 << 20, 1000},
		{1000, 1000, 9 << 20, 500},
		{1, 1, 9 << 20, 1},
	}
	for _, tc := range cases {
		if got := janitorNextPageSize(tc.size, tc.got, tc.bytes, janitorMaxPageSize); got != tc.want {
			t.Errorf("after %d of %d rooms in %d bytes: %d, want %d", tc.got, tc.size, tc.bytes, got, tc.want)
		}
	}
}

// TestJanitorLongKeys: deletes stay under 64 KiB however long the keys,
// so a reverse proxy's body limit never stops them, and odd keys (spaces,
// non-ASCII) are read and deleted as they are.
func TestJanitorLongKeys(t *testing.T) {
	t.Parallel()
	for _, indexed := range []bool{true, false} {
		t.Run(map[bool]string{true: "indexed", false: "one by one"}[indexed], func(t *testing.T) {
			tb := newJanitorTestBoard(t, func(b *board) http.Handler {
				h := http.MaxBytesHandler(b, 64<<10) // a proxy in front
				if !indexed {
					h = janitorTestNoIndex(h)
				}
				return h
			})
			d := janitorTestData{stale: make(map[string]any), fresh: make(map[string]any)}
			for i := range 300 {
				d.stale[fmt.Sprintf("%04d %s", i, strings.Repeat("é", 350))] = janitorTestRoom(time.Hour, false)
			}
			d.fresh["fresh room ✓"] = janitorTestRoom(time.Minute, false)
			tb.seed(t, d.stale, d.fresh)
			res := janitorTestRun(t, janitorOptions{}, janitorTestEnv(tb.srv.URL))
			janitorTestWant(t, res, exitOK, janitorTestCounts{len(d.stale) + 1, len(d.stale), 1, 0})
			janitorTestCheckClean(t, tb, d, nil, res)
		})
	}
}

// TestJanitorRefusesRedirectWithSecret: a board that redirects the
// janitor to another origin (here another port; in the review, plain http
// on another host) gets its redirect refused, with a reason, and the other
// origin never sees the secret.
func TestJanitorRefusesRedirectWithSecret(t *testing.T) {
	t.Parallel()
	var leaked atomic.Int64
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.RawQuery, janitorTestSecret) {
			leaked.Add(1)
		}
		io.WriteString(w, "null")
	}))
	defer elsewhere.Close()
	board := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect) // the query dropped, as Firebase does
	}))
	defer board.Close()
	res := janitorTestRun(t, janitorOptions{}, janitorTestEnv(board.URL))
	if res.code != exitFailure || !strings.Contains(res.stderr, "redirect refused") || !strings.Contains(res.stderr, "credential") {
		t.Errorf("exit %d, stderr:\n%s\nwant a refused redirect that says why", res.code, res.stderr)
	}
	if n := leaked.Load(); n != 0 {
		t.Errorf("the other origin got the secret %d times", n)
	}
}
