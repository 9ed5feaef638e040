package main

// The conformance rules: how the board answers the Firebase REST subset of
// docs/PROTOCOL.md, "Firebase facts", each rule stated once. They run against gopeer's
// board, and against a real Firebase database when one is given:
//
//	GOPEER_CONFORMANCE_FIREBASE_URL=https://NAME.firebaseio.com \
//	GOPEER_CONFORMANCE_FIREBASE_SECRET=... go test -run Conformance .
//
// Against Firebase every location lives below a fresh prefix that is
// deleted afterwards, and the rules marked boardOnly are skipped: they pin
// what only this board promises (its limits, its clock, its index on
// rooms, its error texts) or where it knowingly differs (Firebase answers
// an array as an array and stores numbers as doubles).
// All requests carry the admin secret, so access rules do not apply here;
// board_rules_test.go covers them.

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// boardTarget is a database the conformance rules run against.
type boardTarget struct {
	base    string // scheme and host, no trailing slash
	secret  string // the admin secret
	prefix  string // every location lives below it; "" on the board
	depth   int    // levels in prefix
	client  *http.Client
	isBoard bool
}

// url is the address of path (which ends in .json) below the prefix.
func (tg *boardTarget) url(path string) string { return tg.base + tg.prefix + path }

func (tg *boardTarget) do(t *testing.T, rq boardTestReq) (int, http.Header, []byte) {
	t.Helper()
	return boardTestSend(t, tg.client, tg.url(rq.path), tg.secret, rq)
}

func (tg *boardTarget) must(t *testing.T, rq boardTestReq) []byte {
	t.Helper()
	status, _, body := tg.do(t, rq)
	if status != http.StatusOK {
		t.Fatalf("%s %s: status %d, body %s", rq.method, rq.path, status, body)
	}
	return body
}

// boardTargetKind opens a fresh, empty target for one rule.
type boardTargetKind struct {
	name  string
	skip  string // why this kind cannot run here
	depth int    // levels in its targets' prefix
	open  func(t *testing.T, opts boardOptions) *boardTarget
}

func boardTargetKinds() []boardTargetKind {
	board := boardTargetKind{name: "board", open: func(t *testing.T, opts boardOptions) *boardTarget {
		srv, _ := newBoardTestServer(t, opts)
		return &boardTarget{base: srv.URL, secret: boardTestSecret, client: srv.Client(), isBoard: true}
	}}
	base := strings.TrimSuffix(os.Getenv("GOPEER_CONFORMANCE_FIREBASE_URL"), "/")
	secret := os.Getenv("GOPEER_CONFORMANCE_FIREBASE_SECRET")
	firebase := boardTargetKind{name: "firebase", depth: 2, open: func(t *testing.T, _ boardOptions) *boardTarget {
		var run [8]byte
		_, _ = rand.Read(run[:])
		tg := &boardTarget{base: base, secret: secret, prefix: "/gopeer-conformance/" + hex.EncodeToString(run[:]), depth: 2, client: &http.Client{Timeout: 30 * time.Second}}
		t.Cleanup(func() { tg.do(t, boardTestReq{method: "DELETE", path: "/.json"}) })
		return tg
	}}
	if base == "" || secret == "" {
		firebase.skip = "no Firebase database given: set GOPEER_CONFORMANCE_FIREBASE_URL and GOPEER_CONFORMANCE_FIREBASE_SECRET to run these rules against one"
	}
	return []boardTargetKind{board, firebase}
}

// boardConform runs fn once per target kind.
func boardConform(t *testing.T, fn func(t *testing.T, kind boardTargetKind)) {
	for _, kind := range boardTargetKinds() {
		t.Run(kind.name, func(t *testing.T) {
			if kind.skip != "" {
				t.Skip(kind.skip)
			}
			fn(t, kind)
		})
	}
}

// boardRequestRule is one request and how the database answers it.
type boardRequestRule struct {
	name       string
	boardOnly  bool
	maxBody    int64
	seed       string // PUT at the prefix first; "" for an empty database
	req        boardTestReq
	wantStatus int
	wantBody   string // JSON; "" means an empty body (unless wantErr)
	wantErr    bool   // body is {"error": "..."}, and equals wantBody if set
	wantRoot   string // value at the prefix afterwards; "" means unchanged
	skipRoot   bool
}

// boardRequestRules states the rules for a target: depths and locations in
// error texts depend on its prefix.
func boardRequestRules(tg *boardTarget) []boardRequestRule {
	const seed = `{"rooms":{"ABC123":{"offer":{"payload":"o","timestamp":1700000000000}}},"n":9007199254740993}`
	const seedWithoutRooms = `{"n":9007199254740993}`
	deep := func(n int) string { return "/" + strings.Repeat("d/", n-tg.depth) + ".json" }
	deep32, deep33, deep31, deep30 := deep(32), deep(33), deep(31), deep(30)
	key768 := strings.Repeat("k", 768)
	sse := map[string]string{"Accept": "text/event-stream"}
	etag := map[string]string{"X-Firebase-ETag": "true"}
	const scores = `{"a":{"s":3},"b":{"s":1},"c":{"s":2},"10":{"s":0},"9":{"s":5}}`
	const rooms = `{"rooms":{"OLD":{"offer":{"payload":"o","timestamp":100}},"NEW":{"offer":{"payload":"n","timestamp":900}},"BARE":{"answer":{"payload":"a","timestamp":1}}}}`
	indexErr := func(index, at string) string {
		return fmt.Sprintf(`{"error":"Index not defined, add \".indexOn\": \"%s\", for path \"%s\", to the rules"}`, index, tg.prefix+at)
	}

	return []boardRequestRule{
		// Reads.
		{name: "get empty root", req: boardTestReq{method: "GET", path: "/.json"}, wantStatus: 200, wantBody: `null`},
		{name: "get root", seed: seed, req: boardTestReq{method: "GET", path: "/.json"}, wantStatus: 200, wantBody: seed},
		{name: "get leaf keeps integer", seed: seed, req: boardTestReq{method: "GET", path: "/n.json"}, wantStatus: 200, wantBody: `9007199254740993`},
		{name: "get absent", seed: seed, req: boardTestReq{method: "GET", path: "/rooms/NOPE.json"}, wantStatus: 200, wantBody: `null`},
		{name: "get below primitive", seed: seed, req: boardTestReq{method: "GET", path: "/n/x.json"}, wantStatus: 200, wantBody: `null`},
		{name: "empty segments ignored", seed: seed, req: boardTestReq{method: "GET", path: "//rooms//ABC123/offer/.json"}, wantStatus: 200, wantBody: `{"payload":"o","timestamp":1700000000000}`},
		{name: "etag absent value", req: boardTestReq{method: "GET", path: "/x.json", header: etag}, wantStatus: 200, wantBody: `null`},

		// PUT.
		{name: "put", seed: seed, req: boardTestReq{method: "PUT", path: "/rooms/ABC123/answer.json", body: `{"payload":"a","timestamp":1700000000001}`},
			wantStatus: 200, wantBody: `{"payload":"a","timestamp":1700000000001}`,
			wantRoot: `{"rooms":{"ABC123":{"offer":{"payload":"o","timestamp":1700000000000},"answer":{"payload":"a","timestamp":1700000000001}}},"n":9007199254740993}`},
		{name: "put url-decoded key", req: boardTestReq{method: "PUT", path: "/rooms/A%20B.json", body: `1`}, wantStatus: 200, wantBody: `1`, wantRoot: `{"rooms":{"A B":1}}`},
		{name: "put keeps big integer", boardOnly: true, req: boardTestReq{method: "PUT", path: "/n.json", body: `123456789012345678901234567890`},
			wantStatus: 200, wantBody: `123456789012345678901234567890`, wantRoot: `{"n":123456789012345678901234567890}`},
		{name: "put root", seed: seed, req: boardTestReq{method: "PUT", path: "/.json", body: `{"x":true}`}, wantStatus: 200, wantBody: `{"x":true}`, wantRoot: `{"x":true}`},
		{name: "put through primitive", seed: `{"a":1}`, req: boardTestReq{method: "PUT", path: "/a/b.json", body: `2`}, wantStatus: 200, wantBody: `2`, wantRoot: `{"a":{"b":2}}`},
		{name: "put null deletes and parents vanish", seed: seed, req: boardTestReq{method: "PUT", path: "/rooms/ABC123/offer.json", body: `null`},
			wantStatus: 200, wantBody: `null`, wantRoot: seedWithoutRooms},
		{name: "put empty object deletes", seed: seed, req: boardTestReq{method: "PUT", path: "/rooms/ABC123.json", body: `{}`},
			wantStatus: 200, wantBody: `null`, wantRoot: seedWithoutRooms},
		{name: "put drops nested empties", boardOnly: true, req: boardTestReq{method: "PUT", path: "/a.json", body: `{"b":{},"c":null,"d":{"e":[]},"f":1}`},
			wantStatus: 200, wantBody: `{"f":1}`, wantRoot: `{"a":{"f":1}}`},
		{name: "put array stored as object", boardOnly: true, req: boardTestReq{method: "PUT", path: "/a.json", body: `[1,null,"x"]`},
			wantStatus: 200, wantBody: `{"0":1,"2":"x"}`, wantRoot: `{"a":{"0":1,"2":"x"}}`},
		{name: "put depth 32", boardOnly: true, req: boardTestReq{method: "PUT", path: deep32, body: `1`}, wantStatus: 200, wantBody: `1`, wantRoot: boardTestNest(32-tg.depth, `1`)},
		{name: "put object reaching depth 32", boardOnly: true, req: boardTestReq{method: "PUT", path: deep30, body: `{"d":{"d":1}}`}, wantStatus: 200, wantBody: `{"d":{"d":1}}`, wantRoot: boardTestNest(32-tg.depth, `1`)},
		{name: "put key of 768 bytes", req: boardTestReq{method: "PUT", path: "/" + key768 + ".json", body: `1`}, wantStatus: 200, wantBody: `1`, wantRoot: `{"` + key768 + `":1}`},
		{name: "put with etag", req: boardTestReq{method: "PUT", path: "/a.json", body: `1`, header: etag}, wantStatus: 200, wantBody: `1`, wantRoot: `{"a":1}`},

		// DELETE.
		{name: "delete", seed: seed, req: boardTestReq{method: "DELETE", path: "/rooms/ABC123.json"}, wantStatus: 200, wantBody: `null`, wantRoot: seedWithoutRooms},
		{name: "delete leaf parents vanish", seed: seed, req: boardTestReq{method: "DELETE", path: "/rooms/ABC123/offer/payload.json"},
			wantStatus: 200, wantBody: `null`, wantRoot: `{"rooms":{"ABC123":{"offer":{"timestamp":1700000000000}}},"n":9007199254740993}`},
		{name: "delete absent", seed: seed, req: boardTestReq{method: "DELETE", path: "/nope.json"}, wantStatus: 200, wantBody: `null`},
		{name: "delete below primitive", seed: `{"a":1}`, req: boardTestReq{method: "DELETE", path: "/a/b.json"}, wantStatus: 200, wantBody: `null`},
		{name: "delete root", seed: seed, req: boardTestReq{method: "DELETE", path: "/.json"}, wantStatus: 200, wantBody: `null`, wantRoot: `null`},
		{name: "delete ignores print=silent", boardOnly: true, seed: seed, req: boardTestReq{method: "DELETE", path: "/n.json", query: "print=silent"},
			wantStatus: 200, wantBody: `null`, wantRoot: `{"rooms":{"ABC123":{"offer":{"payload":"o","timestamp":1700000000000}}}}`},

		// PATCH.
		{name: "patch multi-path", seed: seed, req: boardTestReq{method: "PATCH", path: "/rooms.json",
			body: `{"ABC123/offer":null,"XYZ789/answer":{"payload":"p"},"XYZ789/offer/timestamp":5}`},
			wantStatus: 200, wantBody: `{"ABC123/offer":null,"XYZ789/answer":{"payload":"p"},"XYZ789/offer/timestamp":5}`,
			wantRoot: `{"rooms":{"XYZ789":{"answer":{"payload":"p"},"offer":{"timestamp":5}}},"n":9007199254740993}`},
		{name: "patch merges children", seed: `{"a":{"b":1,"c":2}}`, req: boardTestReq{method: "PATCH", path: "/a.json", body: `{"b":3}`},
			wantStatus: 200, wantBody: `{"b":3}`, wantRoot: `{"a":{"b":3,"c":2}}`},
		{name: "patch null deletes", seed: seed, req: boardTestReq{method: "PATCH", path: "/.json", body: `{"rooms":null}`},
			wantStatus: 200, wantBody: `{"rooms":null}`, wantRoot: seedWithoutRooms},
		{name: "patch empty object", boardOnly: true, seed: seed, req: boardTestReq{method: "PATCH", path: "/a.json", body: `{}`}, wantStatus: 200, wantBody: `{}`},
		{name: "patch not an object", seed: seed, req: boardTestReq{method: "PATCH", path: "/a.json", body: `[1]`}, wantStatus: 400, wantErr: true},
		{name: "patch overlapping paths", boardOnly: true, seed: seed, req: boardTestReq{method: "PATCH", path: "/.json", body: `{"a":1,"a/b":2}`}, wantStatus: 400, wantErr: true},
		{name: "patch duplicate paths", boardOnly: true, seed: seed, req: boardTestReq{method: "PATCH", path: "/.json", body: `{"a/b":1,"a//b/":2}`}, wantStatus: 400, wantErr: true},
		{name: "patch empty key", boardOnly: true, seed: seed, req: boardTestReq{method: "PATCH", path: "/.json", body: `{"":1}`}, wantStatus: 400, wantErr: true},
		{name: "patch slash key", boardOnly: true, seed: seed, req: boardTestReq{method: "PATCH", path: "/.json", body: `{"/":1}`}, wantStatus: 400, wantErr: true},
		{name: "patch bad key segment", seed: seed, req: boardTestReq{method: "PATCH", path: "/.json", body: `{"a/b.c":1}`}, wantStatus: 400, wantErr: true},
		{name: "patch too deep", boardOnly: true, req: boardTestReq{method: "PATCH", path: deep31, body: `{"d/d":1}`}, wantStatus: 400, wantErr: true},

		// shallow.
		{name: "shallow", seed: `{"a":{"b":1},"c":"s","d":2,"e":false}`, req: boardTestReq{method: "GET", path: "/.json", query: "shallow=true"},
			wantStatus: 200, wantBody: `{"a":true,"c":"s","d":2,"e":false}`},
		{name: "shallow primitive", seed: `{"c":"s"}`, req: boardTestReq{method: "GET", path: "/c.json", query: "shallow=true"}, wantStatus: 200, wantBody: `"s"`},
		{name: "shallow absent", req: boardTestReq{method: "GET", path: "/c.json", query: "shallow=true"}, wantStatus: 200, wantBody: `null`},
		{name: "shallow false", seed: `{"a":{"b":1}}`, req: boardTestReq{method: "GET", path: "/.json", query: "shallow=false"}, wantStatus: 200, wantBody: `{"a":{"b":1}}`},
		{name: "shallow bad value", boardOnly: true, req: boardTestReq{method: "GET", path: "/.json", query: "shallow=yes"}, wantStatus: 400, wantErr: true},
		{name: "shallow on put", boardOnly: true, req: boardTestReq{method: "PUT", path: "/a.json", query: "shallow=true", body: `1`}, wantStatus: 400, wantErr: true},
		{name: "shallow on stream", boardOnly: true, req: boardTestReq{method: "GET", path: "/.json", query: "shallow=true", header: sse}, wantStatus: 400, wantErr: true},

		// print.
		{name: "silent get", seed: seed, req: boardTestReq{method: "GET", path: "/.json", query: "print=silent"}, wantStatus: 204},
		{name: "silent put", req: boardTestReq{method: "PUT", path: "/a.json", query: "print=silent", body: `1`}, wantStatus: 204, wantRoot: `{"a":1}`},
		{name: "silent patch", req: boardTestReq{method: "PATCH", path: "/a.json", query: "print=silent", body: `{"b/c":1}`}, wantStatus: 204, wantRoot: `{"a":{"b":{"c":1}}}`},
		{name: "silent post", req: boardTestReq{method: "POST", path: "/a.json", query: "print=silent", body: `1`}, wantStatus: 204, skipRoot: true},
		{name: "pretty", seed: seed, req: boardTestReq{method: "GET", path: "/.json", query: "print=pretty"}, wantStatus: 200, wantBody: seed},
		{name: "print bad value", boardOnly: true, req: boardTestReq{method: "GET", path: "/.json", query: "print=loud"}, wantStatus: 400, wantErr: true},

		// Methods and overrides.
		{name: "override header put", req: boardTestReq{method: "POST", path: "/a.json", header: map[string]string{"X-HTTP-Method-Override": "PUT"}, body: `1`},
			wantStatus: 200, wantBody: `1`, wantRoot: `{"a":1}`},
		{name: "override query delete", seed: seed, req: boardTestReq{method: "POST", path: "/rooms.json", query: "x-http-method-override=DELETE"},
			wantStatus: 200, wantBody: `null`, wantRoot: seedWithoutRooms},
		{name: "override query patch lower case", req: boardTestReq{method: "POST", path: "/a.json", query: "x-http-method-override=patch", body: `{"b":1}`},
			wantStatus: 200, wantBody: `{"b":1}`, wantRoot: `{"a":{"b":1}}`},
		{name: "override get", seed: seed, req: boardTestReq{method: "POST", path: "/n.json", header: map[string]string{"X-HTTP-Method-Override": "GET"}},
			wantStatus: 200, wantBody: `9007199254740993`},
		{name: "override unknown method", boardOnly: true, req: boardTestReq{method: "POST", path: "/a.json", query: "x-http-method-override=TRACE", body: `1`}, wantStatus: 405, wantErr: true},
		{name: "unknown method", boardOnly: true, req: boardTestReq{method: "BREW", path: "/a.json", body: `1`}, wantStatus: 405, wantErr: true},

		// Server values.
		{name: "timestamp", boardOnly: true, req: boardTestReq{method: "PUT", path: "/a.json", body: `{"t":{".sv":"timestamp"},"deep":{"x":[{".sv":"timestamp"}]}}`},
			wantStatus: 200, wantBody: `{"t":1700000000000,"deep":{"x":{"0":1700000000000}}}`, wantRoot: `{"a":{"t":1700000000000,"deep":{"x":{"0":1700000000000}}}}`},
		{name: "timestamp bare", boardOnly: true, req: boardTestReq{method: "PUT", path: "/t.json", body: `{".sv":"timestamp"}`}, wantStatus: 200, wantBody: `1700000000000`, wantRoot: `{"t":1700000000000}`},
		{name: "timestamp in patch", boardOnly: true, req: boardTestReq{method: "PATCH", path: "/.json", body: `{"r/t":{".sv":"timestamp"}}`},
			wantStatus: 200, wantBody: `{"r/t":1700000000000}`, wantRoot: `{"r":{"t":1700000000000}}`},
		{name: "unknown server value", boardOnly: true, req: boardTestReq{method: "PUT", path: "/a.json", body: `{".sv":"increment"}`}, wantStatus: 400, wantErr: true},
		{name: "server value with sibling", boardOnly: true, req: boardTestReq{method: "PUT", path: "/a.json", body: `{".sv":"timestamp","x":1}`}, wantStatus: 400, wantErr: true},

		// Bad JSON and bodies.
		{name: "bad json", seed: seed, req: boardTestReq{method: "PUT", path: "/a.json", body: `{"a":`}, wantStatus: 400, wantErr: true,
			wantBody: `{"error":"Invalid data; couldn't parse JSON object, array, or value."}`},
		{name: "trailing data", boardOnly: true, req: boardTestReq{method: "PUT", path: "/a.json", body: `1 2`}, wantStatus: 400, wantErr: true},
		{name: "empty put body", boardOnly: true, req: boardTestReq{method: "PUT", path: "/a.json"}, wantStatus: 400, wantErr: true},
		{name: "not json", boardOnly: true, req: boardTestReq{method: "POST", path: "/a.json", body: `NaN`}, wantStatus: 400, wantErr: true},
		// The body cap binds anonymous writers; the admin may write up to Firebase's 256 MB.
		{name: "body over cap", boardOnly: true, maxBody: 29, req: boardTestReq{method: "PUT", path: "/rooms/ABC123/offer.json", anon: true, body: `{"payload":"p", "timestamp":1}`}, wantStatus: 413, wantErr: true},
		{name: "body at cap", boardOnly: true, maxBody: 29, req: boardTestReq{method: "PUT", path: "/rooms/ABC123/offer.json", anon: true, body: `{"payload":"p","timestamp":1}`},
			wantStatus: 200, wantBody: `{"payload":"p","timestamp":1}`, wantRoot: `{"rooms":{"ABC123":{"offer":{"payload":"p","timestamp":1}}}}`},
		{name: "body over cap, admin", boardOnly: true, maxBody: 29, req: boardTestReq{method: "PUT", path: "/a.json", body: `"` + strings.Repeat("x", 40) + `"`},
			wantStatus: 200, wantBody: `"` + strings.Repeat("x", 40) + `"`, wantRoot: `{"a":"` + strings.Repeat("x", 40) + `"}`},

		// Keys and depth.
		{name: "path key with dot", req: boardTestReq{method: "PUT", path: "/a.b.json", body: `1`}, wantStatus: 400, wantErr: true},
		{name: "path key with dollar", req: boardTestReq{method: "PUT", path: "/a$b.json", body: `1`}, wantStatus: 400, wantErr: true},
		{name: "path key with hash", req: boardTestReq{method: "PUT", path: "/a%23b.json", body: `1`}, wantStatus: 400, wantErr: true},
		{name: "path key with open bracket", req: boardTestReq{method: "PUT", path: "/a%5Bb.json", body: `1`}, wantStatus: 400, wantErr: true},
		{name: "path key with close bracket", req: boardTestReq{method: "PUT", path: "/a%5Db.json", body: `1`}, wantStatus: 400, wantErr: true},
		{name: "path key with encoded slash", boardOnly: true, req: boardTestReq{method: "PUT", path: "/a%2Fb.json", body: `1`}, wantStatus: 400, wantErr: true},
		{name: "path key with control char", boardOnly: true, req: boardTestReq{method: "PUT", path: "/a%01b.json", body: `1`}, wantStatus: 400, wantErr: true},
		{name: "path key with DEL", boardOnly: true, req: boardTestReq{method: "PUT", path: "/a%7Fb.json", body: `1`}, wantStatus: 400, wantErr: true},
		{name: "path key not UTF-8", boardOnly: true, req: boardTestReq{method: "PUT", path: "/a%FFb.json", body: `1`}, wantStatus: 400, wantErr: true},
		{name: "path key of 769 bytes", req: boardTestReq{method: "GET", path: "/" + key768 + "k.json"}, wantStatus: 400, wantErr: true},
		{name: "path key of 385 two-byte runes", req: boardTestReq{method: "GET", path: "/" + strings.Repeat("é", 385) + ".json"}, wantStatus: 400, wantErr: true},
		{name: "path depth 33", boardOnly: true, req: boardTestReq{method: "GET", path: deep33}, wantStatus: 400, wantErr: true},
		{name: "post at depth 32", boardOnly: true, req: boardTestReq{method: "POST", path: deep32, body: `1`}, wantStatus: 400, wantErr: true},
		{name: "body key with dot", req: boardTestReq{method: "PUT", path: "/a.json", body: `{"a.b":1}`}, wantStatus: 400, wantErr: true},
		{name: "body key with slash", req: boardTestReq{method: "PUT", path: "/a.json", body: `{"a/b":1}`}, wantStatus: 400, wantErr: true},
		{name: "body key empty", req: boardTestReq{method: "PUT", path: "/a.json", body: `{"":1}`}, wantStatus: 400, wantErr: true},
		{name: "body key nested with bracket", req: boardTestReq{method: "PUT", path: "/a.json", body: `{"k":{"x[":1}}`}, wantStatus: 400, wantErr: true},
		{name: "body key of 769 bytes", req: boardTestReq{method: "PUT", path: "/a.json", body: `{"` + key768 + `k":1}`}, wantStatus: 400, wantErr: true},
		{name: "body too deep", boardOnly: true, req: boardTestReq{method: "PUT", path: deep31, body: `{"d":{"d":1}}`}, wantStatus: 400, wantErr: true},
		// Paths without .json are the web client's (web_test.go).

		// Auth.
		{name: "wrong secret", seed: seed, req: boardTestReq{method: "GET", path: "/n.json", anon: true, query: "auth=not-the-secret"}, wantStatus: 401, wantErr: true},

		// Queries: results are an object of the matching children.
		{name: "orderBy key", seed: scores, req: boardTestReq{method: "GET", path: "/.json", query: `orderBy="$key"`}, wantStatus: 200, wantBody: scores},
		{name: "orderBy key, integer keys first", seed: scores, req: boardTestReq{method: "GET", path: "/.json", query: `orderBy="$key"&limitToFirst=2`},
			wantStatus: 200, wantBody: `{"9":{"s":5},"10":{"s":0}}`},
		{name: "orderBy key, limitToLast", seed: scores, req: boardTestReq{method: "GET", path: "/.json", query: `orderBy="$key"&limitToLast=2`},
			wantStatus: 200, wantBody: `{"b":{"s":1},"c":{"s":2}}`},
		{name: "orderBy key, range", seed: scores, req: boardTestReq{method: "GET", path: "/.json", query: `orderBy="$key"&startAt="b"&endAt="c"`},
			wantStatus: 200, wantBody: `{"b":{"s":1},"c":{"s":2}}`},
		{name: "orderBy key, startAfter and endBefore", seed: scores, req: boardTestReq{method: "GET", path: "/.json", query: `orderBy="$key"&startAfter="10"&endBefore="b"`},
			wantStatus: 200, wantBody: `{"a":{"s":3}}`},
		{name: "orderBy key, equalTo", seed: scores, req: boardTestReq{method: "GET", path: "/.json", query: `orderBy="$key"&equalTo="c"`},
			wantStatus: 200, wantBody: `{"c":{"s":2}}`},
		{name: "orderBy key, nothing matches", seed: scores, req: boardTestReq{method: "GET", path: "/.json", query: `orderBy="$key"&equalTo="zz"`},
			wantStatus: 200, wantBody: `null`},
		{name: "orderBy key, bound not a string", seed: scores, req: boardTestReq{method: "GET", path: "/.json", query: `orderBy="$key"&startAt=1`},
			wantStatus: 400, wantErr: true, wantBody: `{"error":"Provided key index type is invalid, must be string"}`},
		{name: "orderBy not JSON", seed: scores, req: boardTestReq{method: "GET", path: "/.json", query: `orderBy=$key`},
			wantStatus: 400, wantErr: true, wantBody: `{"error":"orderBy must be a valid JSON encoded path"}`},
		{name: "query without orderBy", seed: scores, req: boardTestReq{method: "GET", path: "/.json", query: `limitToFirst=1`},
			wantStatus: 400, wantErr: true, wantBody: `{"error":"orderBy must be defined when other query parameters are defined"}`},
		{name: "orderBy child needs an index", seed: `{"scores":` + scores + `}`, req: boardTestReq{method: "GET", path: "/scores.json", query: `orderBy="s"`},
			wantStatus: 400, wantErr: true, wantBody: indexErr("s", "/scores")},
		{name: "orderBy value needs an index", seed: `{"scores":` + scores + `}`, req: boardTestReq{method: "GET", path: "/scores.json", query: `orderBy="$value"`},
			wantStatus: 400, wantErr: true, wantBody: indexErr(".value", "/scores")},
		{name: "orderBy indexed child: the janitor's query", boardOnly: true, seed: rooms,
			req:        boardTestReq{method: "GET", path: "/rooms.json", query: `orderBy="offer/timestamp"&endAt=500`},
			wantStatus: 200, wantBody: `{"OLD":{"offer":{"payload":"o","timestamp":100}},"BARE":{"answer":{"payload":"a","timestamp":1}}}`},
		{name: "orderBy indexed child, nulls first", boardOnly: true, seed: rooms,
			req:        boardTestReq{method: "GET", path: "/rooms.json", query: `orderBy="offer/timestamp"&limitToFirst=2`},
			wantStatus: 200, wantBody: `{"OLD":{"offer":{"payload":"o","timestamp":100}},"BARE":{"answer":{"payload":"a","timestamp":1}}}`},
		{name: "orderBy indexed child, limitToLast", boardOnly: true, seed: rooms,
			req:        boardTestReq{method: "GET", path: "/rooms.json", query: `orderBy="offer/timestamp"&limitToLast=1`},
			wantStatus: 200, wantBody: `{"NEW":{"offer":{"payload":"n","timestamp":900}}}`},
		{name: "orderBy indexed child, startAt", boardOnly: true, seed: rooms,
			req:        boardTestReq{method: "GET", path: "/rooms.json", query: `orderBy="offer/timestamp"&startAt=100`},
			wantStatus: 200, wantBody: `{"OLD":{"offer":{"payload":"o","timestamp":100}},"NEW":{"offer":{"payload":"n","timestamp":900}}}`},
		{name: "orderBy bound not a primitive", boardOnly: true, seed: rooms, req: boardTestReq{method: "GET", path: "/rooms.json", query: `orderBy="offer/timestamp"&startAt={}`}, wantStatus: 400, wantErr: true},
		{name: "orderBy both limits", boardOnly: true, seed: scores, req: boardTestReq{method: "GET", path: "/.json", query: `orderBy="$key"&limitToFirst=1&limitToLast=1`}, wantStatus: 400, wantErr: true},
		{name: "orderBy zero limit", boardOnly: true, seed: scores, req: boardTestReq{method: "GET", path: "/.json", query: `orderBy="$key"&limitToFirst=0`}, wantStatus: 400, wantErr: true},
		{name: "orderBy equalTo with a range", boardOnly: true, seed: scores, req: boardTestReq{method: "GET", path: "/.json", query: `orderBy="$key"&equalTo="a"&startAt="a"`}, wantStatus: 400, wantErr: true},
		{name: "orderBy on a primitive", boardOnly: true, seed: seed, req: boardTestReq{method: "GET", path: "/n.json", query: `orderBy="$key"`}, wantStatus: 200, wantBody: `9007199254740993`},
		{name: "orderBy with shallow", boardOnly: true, seed: scores, req: boardTestReq{method: "GET", path: "/.json", query: `orderBy="$key"&shallow=true`}, wantStatus: 400, wantErr: true},
		{name: "orderBy on a write", boardOnly: true, req: boardTestReq{method: "PUT", path: "/a.json", query: `orderBy="$key"`, body: `1`}, wantStatus: 400, wantErr: true},
		{name: "orderBy on a stream", boardOnly: true, req: boardTestReq{method: "GET", path: "/rooms.json", query: `orderBy="$key"`, header: sse}, wantStatus: 400, wantErr: true},
	}
}

func TestBoardConformance(t *testing.T) {
	boardConform(t, func(t *testing.T, kind boardTargetKind) {
		// The rules' texts depend on the target's prefix, which exists
		// only once the target is opened; their number and names do not.
		for i, tc := range boardRequestRules(&boardTarget{depth: kind.depth}) {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				if tc.boardOnly && kind.name != "board" {
					t.Skip("a rule of this board only")
				}
				tg := kind.open(t, boardOptions{maxBody: tc.maxBody, keepAlive: time.Hour, now: boardTestNow})
				boardCheckRule(t, tg, boardRequestRules(tg)[i])
			})
		}
	})
}

func boardCheckRule(t *testing.T, tg *boardTarget, tc boardRequestRule) {
	if tc.seed != "" {
		tg.must(t, boardTestReq{method: "PUT", path: "/.json", body: tc.seed})
	}
	status, header, body := tg.do(t, tc.req)
	if status != tc.wantStatus {
		t.Fatalf("status = %d, want %d (body %s)", status, tc.wantStatus, body)
	}
	if ct := header.Get("Content-Type"); len(body) > 0 && ct != boardJSONType {
		t.Errorf("Content-Type = %q, want %q", ct, boardJSONType)
	}
	switch {
	case tc.wantErr:
		boardTestCheckError(t, body)
		if tc.wantBody != "" {
			boardTestJSONEqual(t, "error body", body, tc.wantBody)
		}
	case tc.wantBody == "":
		if len(body) != 0 {
			t.Errorf("body = %q, want none", body)
		}
	default:
		boardTestJSONEqual(t, "body", body, tc.wantBody)
	}
	if tc.req.header["X-Firebase-ETag"] != "" && header.Get("ETag") == "" {
		t.Errorf("no ETag header")
	}
	if tc.skipRoot {
		return
	}
	wantRoot := cmp.Or(tc.wantRoot, tc.seed, "null")
	root := tg.must(t, boardTestReq{method: "GET", path: "/.json"})
	boardTestJSONEqual(t, "value afterwards", root, wantRoot)
}

// TestBoardConformanceETag walks conditional writes step by step.
func TestBoardConformanceETag(t *testing.T) {
	boardConform(t, func(t *testing.T, kind boardTargetKind) {
		tg := kind.open(t, boardOptions{})
		steps := []struct {
			method, body string
			ifMatch      string // "$name" refers to a captured tag
			wantStatus   int
			wantBody     string
			wantETag     string // literal, "$name" to compare, "+name" to capture a new tag
		}{
			{method: "GET", wantStatus: 200, wantBody: `null`, wantETag: "null_etag"},
			{method: "PUT", ifMatch: "null_etag", body: `{"x":1}`, wantStatus: 200, wantBody: `{"x":1}`, wantETag: "+e1"},
			{method: "GET", wantStatus: 200, wantBody: `{"x":1}`, wantETag: "$e1"},
			{method: "PUT", ifMatch: "null_etag", body: `{"x":9}`, wantStatus: 412, wantBody: `{"x":1}`, wantETag: "$e1"},
			{method: "PUT", ifMatch: "bogus", body: `{"x":9}`, wantStatus: 412, wantBody: `{"x":1}`, wantETag: "$e1"},
			{method: "PUT", ifMatch: "$e1", body: `{"x":2}`, wantStatus: 200, wantBody: `{"x":2}`, wantETag: "+e2"},
			{method: "DELETE", ifMatch: "$e1", wantStatus: 412, wantBody: `{"x":2}`, wantETag: "$e2"},
			{method: "PUT", body: `{"x":1}`, wantStatus: 200, wantBody: `{"x":1}`, wantETag: "$e1"}, // equal values, equal tags
			{method: "DELETE", ifMatch: "$e1", wantStatus: 200, wantBody: `null`, wantETag: "null_etag"},
			{method: "DELETE", ifMatch: "$e1", wantStatus: 412, wantBody: `null`, wantETag: "null_etag"},
			{method: "PATCH", ifMatch: "null_etag", body: `{"x":1}`, wantStatus: 400},
			{method: "POST", ifMatch: "null_etag", body: `1`, wantStatus: 400},
			{method: "GET", wantStatus: 200, wantBody: `null`, wantETag: "null_etag"},
		}
		tags := map[string]string{}
		resolve := func(ref string) string {
			if name, ok := strings.CutPrefix(ref, "$"); ok {
				return tags[name]
			}
			return ref
		}
		for i, st := range steps {
			header := map[string]string{"X-Firebase-ETag": "true"}
			if st.ifMatch != "" {
				header["If-Match"] = resolve(st.ifMatch)
			}
			status, h, body := tg.do(t, boardTestReq{method: st.method, path: "/rooms/A.json", header: header, body: st.body})
			if status != st.wantStatus {
				t.Fatalf("step %d %s: status %d, want %d (body %s)", i, st.method, status, st.wantStatus, body)
			}
			if st.wantStatus == 400 {
				boardTestCheckError(t, body)
				continue
			}
			boardTestJSONEqual(t, fmt.Sprintf("step %d body", i), body, st.wantBody)
			got := h.Get("ETag")
			if name, ok := strings.CutPrefix(st.wantETag, "+"); ok {
				if got == "" || got == boardNullETag || slices.Contains(slices.Collect(maps.Values(tags)), got) {
					t.Fatalf("step %d: new ETag %q is empty, null_etag or not new", i, got)
				}
				tags[name] = got
			} else if want := resolve(st.wantETag); got != want {
				t.Errorf("step %d: ETag = %q, want %q", i, got, want)
			}
		}
		if _, h, _ := tg.do(t, boardTestReq{method: "GET", path: "/rooms/A.json"}); h.Get("ETag") != "" {
			t.Errorf("ETag sent without X-Firebase-ETag")
		}
	})
}

// TestBoardConformanceStreams pins the exact events for writes above, at
// and below a stream. A sentinel write after the write under test marks
// where its events end, so "no event" is checked too.
func TestBoardConformanceStreams(t *testing.T) {
	const seed = `{"rooms":{"ABC123":{"offer":{"payload":"o"},"answer":{"payload":"a","timestamp":1}}}}`
	const answer = "rooms/ABC123/answer"
	tests := []struct {
		name      string
		boardOnly bool // Firebase may announce a write that changes nothing; the board does not
		seed      string
		stream    string
		write     boardTestReq
		want      []string // "NAME DATA"
	}{
		{"delete parent", false, seed, answer, boardTestReq{method: "DELETE", path: "/rooms/ABC123.json"},
			[]string{`put {"path":"/","data":null}`}},
		{"delete root", false, seed, answer, boardTestReq{method: "DELETE", path: "/.json"},
			[]string{`put {"path":"/","data":null}`}},
		{"put at", false, seed, answer, boardTestReq{method: "PUT", path: "/rooms/ABC123/answer.json", body: `{"payload":"b"}`},
			[]string{`put {"path":"/","data":{"payload":"b"}}`}},
		{"put below", false, seed, answer, boardTestReq{method: "PUT", path: "/rooms/ABC123/answer/payload.json", body: `"c"`},
			[]string{`put {"path":"/payload","data":"c"}`}},
		{"put unchanged", true, seed, answer, boardTestReq{method: "PUT", path: "/rooms/ABC123/answer/payload.json", body: `"a"`}, nil},
		{"put sibling", false, seed, answer, boardTestReq{method: "PUT", path: "/rooms/ABC123/offer/payload.json", body: `"z"`}, nil},
		{"put other room", false, seed, answer, boardTestReq{method: "PUT", path: "/rooms/OTHER/answer.json", body: `1`}, nil},
		{"put above", false, seed, answer, boardTestReq{method: "PUT", path: "/rooms/ABC123.json", body: `{"answer":{"payload":"d"}}`},
			[]string{`put {"path":"/","data":{"payload":"d"}}`}},
		{"put above, unchanged here", true, seed, answer, boardTestReq{method: "PUT", path: "/rooms/ABC123.json", body: `{"offer":1,"answer":{"payload":"a","timestamp":1}}`}, nil},
		{"patch at", false, seed, answer, boardTestReq{method: "PATCH", path: "/rooms/ABC123/answer.json", body: `{"payload":"p","x/y":1,"timestamp":null}`},
			[]string{`patch {"path":"/","data":{"payload":"p","x/y":1,"timestamp":null}}`}},
		{"patch root covering", false, seed, answer, boardTestReq{method: "PATCH", path: "/.json", body: `{"rooms/ABC123/answer":{"payload":"q"},"other":1}`},
			[]string{`put {"path":"/","data":{"payload":"q"}}`}},
		{"patch root deleting parent", false, seed, answer, boardTestReq{method: "PATCH", path: "/.json", body: `{"rooms/ABC123":null}`},
			[]string{`put {"path":"/","data":null}`}},
		{"patch root inside", false, seed, answer, boardTestReq{method: "PATCH", path: "/.json", body: `{"rooms/ABC123/answer/payload":"r","rooms/ABC123/answer/t/u":5,"rooms/ABC123/offer":null}`},
			[]string{`patch {"path":"/","data":{"payload":"r","t/u":5}}`}},
		{"patch above, unrelated", false, seed, answer, boardTestReq{method: "PATCH", path: "/rooms.json", body: `{"ABC123/offer":null}`}, nil},
		{"patch at, unchanged", true, seed, answer, boardTestReq{method: "PATCH", path: "/rooms/ABC123/answer.json", body: `{"payload":"a","gone":null}`}, nil},
		{"room stream, put below", false, seed, "rooms/ABC123", boardTestReq{method: "PUT", path: "/rooms/ABC123/answer/payload.json", body: `"s"`},
			[]string{`put {"path":"/answer/payload","data":"s"}`}},
		{"room stream, last leaf deleted", false, `{"rooms":{"ABC123":{"answer":{"payload":"a"}}}}`, "rooms/ABC123",
			boardTestReq{method: "DELETE", path: "/rooms/ABC123/answer/payload.json"},
			[]string{`put {"path":"/answer/payload","data":null}`}},
		{"root stream, patch", false, seed, "", boardTestReq{method: "PATCH", path: "/rooms.json", body: `{"ABC123/offer":null,"NEW/offer":{"payload":"n"}}`},
			[]string{`patch {"path":"/rooms","data":{"ABC123/offer":null,"NEW/offer":{"payload":"n"}}}`}},
		{"timestamp", true, seed, answer, boardTestReq{method: "PUT", path: "/rooms/ABC123/answer/timestamp.json", body: `{".sv":"timestamp"}`},
			[]string{`put {"path":"/timestamp","data":1700000000000}`}},
		{"write through primitive", false, `{"rooms":{"ABC123":{"answer":"prim"}}}`, answer, boardTestReq{method: "PUT", path: "/rooms/ABC123/answer/x.json", body: `1`},
			[]string{`put {"path":"/x","data":1}`}},
		{"delete below primitive", true, `{"rooms":{"ABC123":{"answer":"prim"}}}`, answer, boardTestReq{method: "DELETE", path: "/rooms/ABC123/answer/x.json"}, nil},
		{"absent, patch above creates", false, "", answer, boardTestReq{method: "PATCH", path: "/.json", body: `{"rooms/ABC123/answer/payload":"n"}`},
			[]string{`patch {"path":"/","data":{"payload":"n"}}`}},
	}
	boardConform(t, func(t *testing.T, kind boardTargetKind) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				if tc.boardOnly && kind.name != "board" {
					t.Skip("a rule of this board only")
				}
				tg := kind.open(t, boardOptions{keepAlive: time.Hour, now: boardTestNow})
				if tc.seed != "" {
					tg.must(t, boardTestReq{method: "PUT", path: "/.json", body: tc.seed})
				}
				events := boardTestOpenStream(t, tg.client, boardTestWithAuth(tg.url("/"+tc.stream+".json"), tg.secret))
				if first := boardTestNext(t, events); first.name != "put" {
					t.Fatalf("first event %v, want a put", first)
				}
				tg.must(t, tc.write)
				tg.must(t, boardTestReq{method: "PUT", path: "/" + tc.stream + "/~sentinel.json", body: `true`})
				var got []boardTestEvent
				for {
					ev := boardTestNext(t, events)
					if ev.data == `{"path":"/~sentinel","data":true}` {
						break
					}
					if ev.name != "keep-alive" {
						got = append(got, ev)
					}
				}
				if len(got) != len(tc.want) {
					t.Fatalf("got %d events %v, want %v", len(got), got, tc.want)
				}
				for i, w := range tc.want {
					name, data, _ := strings.Cut(w, " ")
					if got[i].name != name {
						t.Errorf("event %d is %q, want %q", i, got[i].name, name)
					}
					boardTestJSONEqual(t, fmt.Sprintf("event %d data", i), []byte(got[i].data), data)
				}
			})
		}
	})
}
