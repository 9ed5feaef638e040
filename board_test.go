package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// boardTestMs is the injected clock's reading.
const boardTestMs = 1700000000000

// boardTestWait bounds every wait in these tests; it is a failure guard,
// never a way to synchronise.
const boardTestWait = 10 * time.Second

func boardTestNow() time.Time { return time.UnixMilli(boardTestMs) }

// newBoardTestServer serves a fresh board. Cleanup closes the board before
// the server, so open streams end instead of holding srv.Close up.
func newBoardTestServer(t *testing.T, opts boardOptions) (*httptest.Server, *board) {
	t.Helper()
	b := newBoard(opts)
	srv := httptest.NewServer(b)
	t.Cleanup(srv.Close)
	t.Cleanup(b.Close)
	return srv, b
}

type boardTestReq struct {
	method, path, query string
	header              map[string]string
	body                string
}

func boardTestDo(t *testing.T, srv *httptest.Server, rq boardTestReq) (int, http.Header, []byte) {
	t.Helper()
	target := srv.URL + rq.path
	if rq.query != "" {
		target += "?" + rq.query
	}
	var body io.Reader = http.NoBody
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	req, err := http.NewRequest(rq.method, target, body)
	if err != nil {
		t.Fatalf("%s %s: %v", rq.method, target, err)
	}
	for k, v := range rq.header {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", rq.method, target, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", rq.method, target, err)
	}
	return resp.StatusCode, resp.Header, got
}

// boardTestMust performs rq and fails unless it answers 200.
func boardTestMust(t *testing.T, srv *httptest.Server, rq boardTestReq) []byte {
	t.Helper()
	status, _, body := boardTestDo(t, srv, rq)
	if status != http.StatusOK {
		t.Fatalf("%s %s: status %d, body %s", rq.method, rq.path, status, body)
	}
	return body
}

func boardTestGet(t *testing.T, srv *httptest.Server, path string) any {
	t.Helper()
	return boardTestDecode(t, boardTestMust(t, srv, boardTestReq{method: "GET", path: path}))
}

// boardTestDecode decodes JSON the way the board does, keeping numbers
// exact, so values compare with reflect.DeepEqual.
func boardTestDecode(t *testing.T, data []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("invalid JSON %q: %v", data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("trailing data after JSON in %q", data)
	}
	return v
}

func boardTestJSONEqual(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	g, w := boardTestDecode(t, got), boardTestDecode(t, []byte(want))
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

// boardTestCheckError asserts a Firebase-style error body.
func boardTestCheckError(t *testing.T, body []byte) {
	t.Helper()
	var e map[string]any
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %q is not a JSON object: %v", body, err)
	}
	if text, ok := e["error"].(string); !ok || text == "" || len(e) != 1 {
		t.Errorf(`error body %s, want {"error": "<text>"}`, body)
	}
}

// boardTestNest returns n levels of {"d": ...} around leaf.
func boardTestNest(n int, leaf string) string {
	return strings.Repeat(`{"d":`, n) + leaf + strings.Repeat("}", n)
}

func TestBoardRequests(t *testing.T) {
	const seed = `{"rooms":{"ABC123":{"offer":{"payload":"o","timestamp":1700000000000}}},"n":9007199254740993}`
	const seedWithoutRooms = `{"n":9007199254740993}`
	deep32 := "/" + strings.Repeat("d/", 32) + ".json"
	deep33 := "/" + strings.Repeat("d/", 33) + ".json"
	deep31 := "/" + strings.Repeat("d/", 31) + ".json"
	deep30 := "/" + strings.Repeat("d/", 30) + ".json"
	key768 := strings.Repeat("k", 768)
	sse := map[string]string{"Accept": "text/event-stream"}
	etag := map[string]string{"X-Firebase-ETag": "true"}

	tests := []struct {
		name       string
		maxBody    int64
		seed       string // PUT at the root first; "" for an empty board
		req        boardTestReq
		wantStatus int
		wantBody   string // JSON; "" means an empty body (unless wantErr)
		wantErr    bool   // body is {"error": "..."}, and equals wantBody if set
		wantRoot   string // root afterwards; "" means unchanged
		skipRoot   bool
	}{
		// Reads.
		{name: "get empty root", req: boardTestReq{method: "GET", path: "/.json"}, wantStatus: 200, wantBody: `null`},
		{name: "get root", seed: seed, req: boardTestReq{method: "GET", path: "/.json"}, wantStatus: 200, wantBody: seed},
		{name: "get leaf keeps integer", seed: seed, req: boardTestReq{method: "GET", path: "/n.json"}, wantStatus: 200, wantBody: `9007199254740993`},
		{name: "get absent", seed: seed, req: boardTestReq{method: "GET", path: "/rooms/NOPE.json"}, wantStatus: 200, wantBody: `null`},
		{name: "get below primitive", seed: seed, req: boardTestReq{method: "GET", path: "/n/x.json"}, wantStatus: 200, wantBody: `null`},
		{name: "empty segments ignored", seed: seed, req: boardTestReq{method: "GET", path: "//rooms//ABC123/offer/.json"}, wantStatus: 200, wantBody: `{"payload":"o","timestamp":1700000000000}`},
		{name: "auth ignored for now", seed: seed, req: boardTestReq{method: "GET", path: "/n.json", query: "auth=secret"}, wantStatus: 200, wantBody: `9007199254740993`},
		{name: "etag absent value", req: boardTestReq{method: "GET", path: "/x.json", header: etag}, wantStatus: 200, wantBody: `null`},

		// PUT.
		{name: "put", seed: seed, req: boardTestReq{method: "PUT", path: "/rooms/ABC123/answer.json", body: `{"payload":"a","timestamp":1700000000001}`},
			wantStatus: 200, wantBody: `{"payload":"a","timestamp":1700000000001}`,
			wantRoot: `{"rooms":{"ABC123":{"offer":{"payload":"o","timestamp":1700000000000},"answer":{"payload":"a","timestamp":1700000000001}}},"n":9007199254740993}`},
		{name: "put url-decoded key", req: boardTestReq{method: "PUT", path: "/rooms/A%20B.json", body: `1`}, wantStatus: 200, wantBody: `1`, wantRoot: `{"rooms":{"A B":1}}`},
		{name: "put keeps big integer", req: boardTestReq{method: "PUT", path: "/n.json", body: `123456789012345678901234567890`},
			wantStatus: 200, wantBody: `123456789012345678901234567890`, wantRoot: `{"n":123456789012345678901234567890}`},
		{name: "put root", seed: seed, req: boardTestReq{method: "PUT", path: "/.json", body: `{"x":true}`}, wantStatus: 200, wantBody: `{"x":true}`, wantRoot: `{"x":true}`},
		{name: "put through primitive", seed: `{"a":1}`, req: boardTestReq{method: "PUT", path: "/a/b.json", body: `2`}, wantStatus: 200, wantBody: `2`, wantRoot: `{"a":{"b":2}}`},
		{name: "put null deletes and parents vanish", seed: seed, req: boardTestReq{method: "PUT", path: "/rooms/ABC123/offer.json", body: `null`},
			wantStatus: 200, wantBody: `null`, wantRoot: seedWithoutRooms},
		{name: "put empty object deletes", seed: seed, req: boardTestReq{method: "PUT", path: "/rooms/ABC123.json", body: `{}`},
			wantStatus: 200, wantBody: `null`, wantRoot: seedWithoutRooms},
		{name: "put drops nested empties", req: boardTestReq{method: "PUT", path: "/a.json", body: `{"b":{},"c":null,"d":{"e":[]},"f":1}`},
			wantStatus: 200, wantBody: `{"f":1}`, wantRoot: `{"a":{"f":1}}`},
		{name: "put array stored as object", req: boardTestReq{method: "PUT", path: "/a.json", body: `[1,null,"x"]`},
			wantStatus: 200, wantBody: `{"0":1,"2":"x"}`, wantRoot: `{"a":{"0":1,"2":"x"}}`},
		{name: "put depth 32", req: boardTestReq{method: "PUT", path: deep32, body: `1`}, wantStatus: 200, wantBody: `1`, wantRoot: boardTestNest(32, `1`)},
		{name: "put object reaching depth 32", req: boardTestReq{method: "PUT", path: deep30, body: `{"d":{"d":1}}`}, wantStatus: 200, wantBody: `{"d":{"d":1}}`, wantRoot: boardTestNest(32, `1`)},
		{name: "put key of 768 bytes", req: boardTestReq{method: "PUT", path: "/" + key768 + ".json", body: `1`}, wantStatus: 200, wantBody: `1`, wantRoot: `{"` + key768 + `":1}`},
		{name: "put with etag", req: boardTestReq{method: "PUT", path: "/a.json", body: `1`, header: etag}, wantStatus: 200, wantBody: `1`, wantRoot: `{"a":1}`},

		// DELETE.
		{name: "delete", seed: seed, req: boardTestReq{method: "DELETE", path: "/rooms/ABC123.json"}, wantStatus: 200, wantBody: `null`, wantRoot: seedWithoutRooms},
		{name: "delete leaf parents vanish", seed: seed, req: boardTestReq{method: "DELETE", path: "/rooms/ABC123/offer/payload.json"},
			wantStatus: 200, wantBody: `null`, wantRoot: `{"rooms":{"ABC123":{"offer":{"timestamp":1700000000000}}},"n":9007199254740993}`},
		{name: "delete absent", seed: seed, req: boardTestReq{method: "DELETE", path: "/nope.json"}, wantStatus: 200, wantBody: `null`},
		{name: "delete below primitive", seed: `{"a":1}`, req: boardTestReq{method: "DELETE", path: "/a/b.json"}, wantStatus: 200, wantBody: `null`},
		{name: "delete root", seed: seed, req: boardTestReq{method: "DELETE", path: "/.json"}, wantStatus: 200, wantBody: `null`, wantRoot: `null`},
		{name: "delete ignores print=silent", seed: seed, req: boardTestReq{method: "DELETE", path: "/n.json", query: "print=silent"},
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
		{name: "patch empty object", seed: seed, req: boardTestReq{method: "PATCH", path: "/a.json", body: `{}`}, wantStatus: 200, wantBody: `{}`},
		{name: "patch not an object", seed: seed, req: boardTestReq{method: "PATCH", path: "/a.json", body: `[1]`}, wantStatus: 400, wantErr: true},
		{name: "patch overlapping paths", seed: seed, req: boardTestReq{method: "PATCH", path: "/.json", body: `{"a":1,"a/b":2}`}, wantStatus: 400, wantErr: true},
		{name: "patch duplicate paths", seed: seed, req: boardTestReq{method: "PATCH", path: "/.json", body: `{"a/b":1,"a//b/":2}`}, wantStatus: 400, wantErr: true},
		{name: "patch empty key", seed: seed, req: boardTestReq{method: "PATCH", path: "/.json", body: `{"":1}`}, wantStatus: 400, wantErr: true},
		{name: "patch slash key", seed: seed, req: boardTestReq{method: "PATCH", path: "/.json", body: `{"/":1}`}, wantStatus: 400, wantErr: true},
		{name: "patch bad key segment", seed: seed, req: boardTestReq{method: "PATCH", path: "/.json", body: `{"a/b.c":1}`}, wantStatus: 400, wantErr: true},
		{name: "patch too deep", req: boardTestReq{method: "PATCH", path: deep31, body: `{"d/d":1}`}, wantStatus: 400, wantErr: true},

		// shallow.
		{name: "shallow", seed: `{"a":{"b":1},"c":"s","d":2,"e":false}`, req: boardTestReq{method: "GET", path: "/.json", query: "shallow=true"},
			wantStatus: 200, wantBody: `{"a":true,"c":"s","d":2,"e":false}`},
		{name: "shallow primitive", seed: `{"c":"s"}`, req: boardTestReq{method: "GET", path: "/c.json", query: "shallow=true"}, wantStatus: 200, wantBody: `"s"`},
		{name: "shallow absent", req: boardTestReq{method: "GET", path: "/c.json", query: "shallow=true"}, wantStatus: 200, wantBody: `null`},
		{name: "shallow false", seed: `{"a":{"b":1}}`, req: boardTestReq{method: "GET", path: "/.json", query: "shallow=false"}, wantStatus: 200, wantBody: `{"a":{"b":1}}`},
		{name: "shallow bad value", req: boardTestReq{method: "GET", path: "/.json", query: "shallow=yes"}, wantStatus: 400, wantErr: true},
		{name: "shallow on put", req: boardTestReq{method: "PUT", path: "/a.json", query: "shallow=true", body: `1`}, wantStatus: 400, wantErr: true},
		{name: "shallow on stream", req: boardTestReq{method: "GET", path: "/.json", query: "shallow=true", header: sse}, wantStatus: 400, wantErr: true},

		// print.
		{name: "silent get", seed: seed, req: boardTestReq{method: "GET", path: "/.json", query: "print=silent"}, wantStatus: 204},
		{name: "silent put", req: boardTestReq{method: "PUT", path: "/a.json", query: "print=silent", body: `1`}, wantStatus: 204, wantRoot: `{"a":1}`},
		{name: "silent patch", req: boardTestReq{method: "PATCH", path: "/a.json", query: "print=silent", body: `{"b/c":1}`}, wantStatus: 204, wantRoot: `{"a":{"b":{"c":1}}}`},
		{name: "silent post", req: boardTestReq{method: "POST", path: "/a.json", query: "print=silent", body: `1`}, wantStatus: 204, skipRoot: true},
		{name: "pretty", seed: seed, req: boardTestReq{method: "GET", path: "/.json", query: "print=pretty"}, wantStatus: 200, wantBody: seed},
		{name: "print bad value", req: boardTestReq{method: "GET", path: "/.json", query: "print=loud"}, wantStatus: 400, wantErr: true},

		// Methods and overrides.
		{name: "override header put", req: boardTestReq{method: "POST", path: "/a.json", header: map[string]string{"X-HTTP-Method-Override": "PUT"}, body: `1`},
			wantStatus: 200, wantBody: `1`, wantRoot: `{"a":1}`},
		{name: "override query delete", seed: seed, req: boardTestReq{method: "POST", path: "/rooms.json", query: "x-http-method-override=DELETE"},
			wantStatus: 200, wantBody: `null`, wantRoot: seedWithoutRooms},
		{name: "override query patch lower case", req: boardTestReq{method: "POST", path: "/a.json", query: "x-http-method-override=patch", body: `{"b":1}`},
			wantStatus: 200, wantBody: `{"b":1}`, wantRoot: `{"a":{"b":1}}`},
		{name: "override get", seed: seed, req: boardTestReq{method: "POST", path: "/n.json", header: map[string]string{"X-HTTP-Method-Override": "GET"}},
			wantStatus: 200, wantBody: `9007199254740993`},
		{name: "override unknown method", req: boardTestReq{method: "POST", path: "/a.json", query: "x-http-method-override=TRACE", body: `1`}, wantStatus: 405, wantErr: true},
		{name: "options not allowed", req: boardTestReq{method: "OPTIONS", path: "/a.json"}, wantStatus: 405, wantErr: true},
		{name: "unknown method", req: boardTestReq{method: "BREW", path: "/a.json", body: `1`}, wantStatus: 405, wantErr: true},

		// Server values.
		{name: "timestamp", req: boardTestReq{method: "PUT", path: "/a.json", body: `{"t":{".sv":"timestamp"},"deep":{"x":[{".sv":"timestamp"}]}}`},
			wantStatus: 200, wantBody: `{"t":1700000000000,"deep":{"x":{"0":1700000000000}}}`, wantRoot: `{"a":{"t":1700000000000,"deep":{"x":{"0":1700000000000}}}}`},
		{name: "timestamp bare", req: boardTestReq{method: "PUT", path: "/t.json", body: `{".sv":"timestamp"}`}, wantStatus: 200, wantBody: `1700000000000`, wantRoot: `{"t":1700000000000}`},
		{name: "timestamp in patch", req: boardTestReq{method: "PATCH", path: "/.json", body: `{"r/t":{".sv":"timestamp"}}`},
			wantStatus: 200, wantBody: `{"r/t":1700000000000}`, wantRoot: `{"r":{"t":1700000000000}}`},
		{name: "unknown server value", req: boardTestReq{method: "PUT", path: "/a.json", body: `{".sv":"increment"}`}, wantStatus: 400, wantErr: true},
		{name: "server value with sibling", req: boardTestReq{method: "PUT", path: "/a.json", body: `{".sv":"timestamp","x":1}`}, wantStatus: 400, wantErr: true},

		// Bad JSON and bodies.
		{name: "bad json", seed: seed, req: boardTestReq{method: "PUT", path: "/a.json", body: `{"a":`}, wantStatus: 400, wantErr: true,
			wantBody: `{"error":"Invalid data; couldn't parse JSON object, array, or value."}`},
		{name: "trailing data", req: boardTestReq{method: "PUT", path: "/a.json", body: `1 2`}, wantStatus: 400, wantErr: true},
		{name: "empty put body", req: boardTestReq{method: "PUT", path: "/a.json"}, wantStatus: 400, wantErr: true},
		{name: "not json", req: boardTestReq{method: "POST", path: "/a.json", body: `NaN`}, wantStatus: 400, wantErr: true},
		{name: "body over cap", maxBody: 16, req: boardTestReq{method: "PUT", path: "/a.json", body: `"` + strings.Repeat("x", 20) + `"`}, wantStatus: 413, wantErr: true},
		{name: "body at cap", maxBody: 16, req: boardTestReq{method: "PUT", path: "/a.json", body: `"` + strings.Repeat("x", 14) + `"`},
			wantStatus: 200, wantBody: `"xxxxxxxxxxxxxx"`, wantRoot: `{"a":"xxxxxxxxxxxxxx"}`},

		// Keys and depth.
		{name: "path key with dot", req: boardTestReq{method: "PUT", path: "/a.b.json", body: `1`}, wantStatus: 400, wantErr: true},
		{name: "path key with dollar", req: boardTestReq{method: "PUT", path: "/a$b.json", body: `1`}, wantStatus: 400, wantErr: true},
		{name: "path key with hash", req: boardTestReq{method: "PUT", path: "/a%23b.json", body: `1`}, wantStatus: 400, wantErr: true},
		{name: "path key with open bracket", req: boardTestReq{method: "PUT", path: "/a%5Bb.json", body: `1`}, wantStatus: 400, wantErr: true},
		{name: "path key with close bracket", req: boardTestReq{method: "PUT", path: "/a%5Db.json", body: `1`}, wantStatus: 400, wantErr: true},
		{name: "path key with encoded slash", req: boardTestReq{method: "PUT", path: "/a%2Fb.json", body: `1`}, wantStatus: 400, wantErr: true},
		{name: "path key with control char", req: boardTestReq{method: "PUT", path: "/a%01b.json", body: `1`}, wantStatus: 400, wantErr: true},
		{name: "path key with DEL", req: boardTestReq{method: "PUT", path: "/a%7Fb.json", body: `1`}, wantStatus: 400, wantErr: true},
		{name: "path key not UTF-8", req: boardTestReq{method: "PUT", path: "/a%FFb.json", body: `1`}, wantStatus: 400, wantErr: true},
		{name: "path key of 769 bytes", req: boardTestReq{method: "GET", path: "/" + key768 + "k.json"}, wantStatus: 400, wantErr: true},
		{name: "path key of 385 two-byte runes", req: boardTestReq{method: "GET", path: "/" + strings.Repeat("é", 385) + ".json"}, wantStatus: 400, wantErr: true},
		{name: "path depth 33", req: boardTestReq{method: "GET", path: deep33}, wantStatus: 400, wantErr: true},
		{name: "post at depth 32", req: boardTestReq{method: "POST", path: deep32, body: `1`}, wantStatus: 400, wantErr: true},
		{name: "body key with dot", req: boardTestReq{method: "PUT", path: "/a.json", body: `{"a.b":1}`}, wantStatus: 400, wantErr: true},
		{name: "body key with slash", req: boardTestReq{method: "PUT", path: "/a.json", body: `{"a/b":1}`}, wantStatus: 400, wantErr: true},
		{name: "body key empty", req: boardTestReq{method: "PUT", path: "/a.json", body: `{"":1}`}, wantStatus: 400, wantErr: true},
		{name: "body key nested with bracket", req: boardTestReq{method: "PUT", path: "/a.json", body: `{"k":{"x[":1}}`}, wantStatus: 400, wantErr: true},
		{name: "body key of 769 bytes", req: boardTestReq{method: "PUT", path: "/a.json", body: `{"` + key768 + `k":1}`}, wantStatus: 400, wantErr: true},
		{name: "body too deep", req: boardTestReq{method: "PUT", path: deep31, body: `{"d":{"d":1}}`}, wantStatus: 400, wantErr: true},

		// Paths without .json.
		{name: "missing .json", req: boardTestReq{method: "GET", path: "/rooms"}, wantStatus: 404, wantErr: true},
		{name: "missing .json at root", req: boardTestReq{method: "GET", path: "/"}, wantStatus: 404, wantErr: true},
		{name: "missing .json on write", seed: seed, req: boardTestReq{method: "PUT", path: "/rooms/ABC123/offer", body: `1`}, wantStatus: 404, wantErr: true},

		// Queries are not implemented and say so.
		{name: "orderBy", seed: seed, req: boardTestReq{method: "GET", path: "/rooms.json", query: `orderBy=%22$key%22`}, wantStatus: 400, wantErr: true},
		{name: "limitToFirst", seed: seed, req: boardTestReq{method: "GET", path: "/rooms.json", query: `limitToFirst=1`}, wantStatus: 400, wantErr: true},
		{name: "orderBy on stream", req: boardTestReq{method: "GET", path: "/rooms.json", query: `orderBy=%22$key%22&startAt=1`, header: sse}, wantStatus: 400, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := newBoardTestServer(t, boardOptions{maxBody: tc.maxBody, keepAlive: time.Hour, now: boardTestNow})
			if tc.seed != "" {
				boardTestMust(t, srv, boardTestReq{method: "PUT", path: "/.json", body: tc.seed})
			}
			status, header, body := boardTestDo(t, srv, tc.req)
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
			root := boardTestMust(t, srv, boardTestReq{method: "GET", path: "/.json"})
			boardTestJSONEqual(t, "root afterwards", root, wantRoot)
		})
	}
}

func TestBoardETag(t *testing.T) {
	srv, _ := newBoardTestServer(t, boardOptions{})
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
		status, h, body := boardTestDo(t, srv, boardTestReq{method: st.method, path: "/rooms/A.json", header: header, body: st.body})
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
	if _, h, _ := boardTestDo(t, srv, boardTestReq{method: "GET", path: "/rooms/A.json"}); h.Get("ETag") != "" {
		t.Errorf("ETag sent without X-Firebase-ETag")
	}
}

func TestBoardPushIDs(t *testing.T) {
	var clock atomic.Int64
	clock.Store(boardTestMs)
	srv, _ := newBoardTestServer(t, boardOptions{now: func() time.Time { return time.UnixMilli(clock.Load()) }})
	post := func(i int) string {
		body := boardTestMust(t, srv, boardTestReq{method: "POST", path: "/msgs.json", body: fmt.Sprint(i)})
		var reply map[string]string
		if err := json.Unmarshal(body, &reply); err != nil || len(reply) != 1 {
			t.Fatalf("POST reply %s, want {\"name\": id}", body)
		}
		return reply["name"]
	}
	phases := []struct {
		step   int64 // clock change before the phase
		wantMs int64 // time every id of the phase encodes
	}{
		{0, boardTestMs},         // many ids in one millisecond
		{1, boardTestMs + 1},     // the next millisecond
		{-1000, boardTestMs + 1}, // the clock goes back: ids stay ordered
	}
	var ids []string
	for _, ph := range phases {
		clock.Add(ph.step)
		for range 40 {
			id := post(len(ids))
			if got := boardTestPushTime(id); got != ph.wantMs {
				t.Errorf("id %s encodes %d ms, want %d", id, got, ph.wantMs)
			}
			ids = append(ids, id)
		}
	}
	want := map[string]any{}
	for i, id := range ids {
		if len(id) != 20 || strings.Trim(id, boardPushAlphabet) != "" {
			t.Errorf("id %q is not 20 push-id characters", id)
		}
		if i > 0 && ids[i-1] >= id {
			t.Errorf("ids out of order: %q then %q", ids[i-1], id)
		}
		want[id] = json.Number(fmt.Sprint(i))
	}
	if got := boardTestGet(t, srv, "/msgs.json"); !reflect.DeepEqual(got, want) {
		t.Errorf("GET /msgs = %v, want %v", got, want)
	}
}

// boardTestPushTime decodes the milliseconds in a push id.
func boardTestPushTime(id string) int64 {
	var ms int64
	for i := range 8 {
		ms = ms*64 + int64(strings.IndexByte(boardPushAlphabet, id[i]))
	}
	return ms
}

// boardTestEvent is one SSE event as received.
type boardTestEvent struct {
	name, data string
}

// boardTestOpenStream opens an event stream at url and returns its events;
// the channel closes when the stream ends. It checks the response headers
// and, while reading, the exact form "event: NAME\ndata: JSON\n\n": a
// violation arrives as an event named "!malformed".
func boardTestOpenStream(t *testing.T, client *http.Client, url string) <-chan boardTestEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("stream %s: status %d, body %s", url, resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream; charset=utf-8" {
		t.Errorf("stream Content-Type = %q", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("stream Cache-Control = %q", cc)
	}
	events := make(chan boardTestEvent, 4096)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(events)
		boardTestReadSSE(ctx, resp.Body, events)
	}()
	t.Cleanup(func() {
		cancel()
		resp.Body.Close()
		<-done
	})
	return events
}

func boardTestReadSSE(ctx context.Context, body io.Reader, out chan<- boardTestEvent) {
	r := bufio.NewReader(body)
	line := func(prefix string) (string, bool) {
		s, err := r.ReadString('\n')
		rest, ok := strings.CutPrefix(s, prefix)
		if err != nil || !ok || strings.Contains(rest, "\r") {
			if err == nil || s != "" {
				select {
				case out <- boardTestEvent{"!malformed", s}:
				case <-ctx.Done():
				}
			}
			return "", false
		}
		return strings.TrimSuffix(rest, "\n"), true
	}
	for {
		name, ok := line("event: ")
		if !ok {
			return
		}
		data, ok := line("data: ")
		if !ok {
			return
		}
		if _, ok := line("\n"); !ok {
			return
		}
		select {
		case out <- boardTestEvent{name, data}:
		case <-ctx.Done():
			return
		}
	}
}

func boardTestNext(t *testing.T, events <-chan boardTestEvent) boardTestEvent {
	t.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatal("stream ended")
		}
		return ev
	case <-time.After(boardTestWait):
		t.Fatal("timed out waiting for an event")
	}
	panic("unreachable")
}

// boardTestEnd asserts that the stream ends with no further events.
func boardTestEnd(t *testing.T, events <-chan boardTestEvent) {
	t.Helper()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return
			}
			t.Errorf("unexpected event before end: %s %s", ev.name, ev.data)
		case <-time.After(boardTestWait):
			t.Fatal("timed out waiting for the stream to end")
		}
	}
}

// boardTestApply does what a Firebase client does with an event: a put
// replaces the value at path, a patch sets each child path, null deletes,
// and empty objects vanish.
func boardTestApply(t *testing.T, value any, ev boardTestEvent) any {
	t.Helper()
	var msg struct {
		Path string `json:"path"`
		Data any    `json:"data"`
	}
	dec := json.NewDecoder(strings.NewReader(ev.data))
	dec.UseNumber()
	if err := dec.Decode(&msg); err != nil || !strings.HasPrefix(msg.Path, "/") {
		t.Fatalf("bad event data %q: %v", ev.data, err)
	}
	at := boardTestSplit(msg.Path)
	switch ev.name {
	case "put":
		value = boardTestSetAt(value, at, msg.Data)
	case "patch":
		children, ok := msg.Data.(map[string]any)
		if !ok {
			t.Fatalf("patch data is not an object: %s", ev.data)
		}
		for k, v := range children {
			value = boardTestSetAt(value, slices.Concat(at, boardTestSplit(k)), v)
		}
	default:
		t.Fatalf("unexpected event %s %s", ev.name, ev.data)
	}
	return boardTestPrune(value)
}

func boardTestSplit(path string) []string {
	return strings.FieldsFunc(path, func(r rune) bool { return r == '/' })
}

func boardTestSetAt(v any, path []string, x any) any {
	if len(path) == 0 {
		return x
	}
	m, ok := v.(map[string]any)
	if !ok {
		if x == nil {
			return v // nothing to delete below a primitive
		}
		m = map[string]any{}
	}
	m[path[0]] = boardTestSetAt(m[path[0]], path[1:], x)
	return m
}

func boardTestPrune(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	for k, c := range m {
		if c = boardTestPrune(c); c == nil {
			delete(m, k)
		} else {
			m[k] = c
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// boardTestFollow opens a stream at path and returns its events and the
// value rebuilt from its first event, checked against a GET.
func boardTestFollow(t *testing.T, srv *httptest.Server, path string) (<-chan boardTestEvent, any) {
	t.Helper()
	events := boardTestOpenStream(t, srv.Client(), srv.URL+path)
	first := boardTestNext(t, events)
	var msg struct {
		Path string          `json:"path"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal([]byte(first.data), &msg); first.name != "put" || err != nil || msg.Path != "/" {
		t.Fatalf("first event %s %s, want put at /", first.name, first.data)
	}
	value := boardTestApply(t, nil, first)
	if want := boardTestGet(t, srv, path); !reflect.DeepEqual(value, want) {
		t.Fatalf("first event value %v, want %v", value, want)
	}
	return events, value
}

// TestBoardStreamInvariant checks that a client rebuilding the value from
// a stream has exactly the board's value after every write, and gets one
// event per write that changes it and none otherwise.
func TestBoardStreamInvariant(t *testing.T) {
	srv, b := newBoardTestServer(t, boardOptions{keepAlive: time.Hour, now: boardTestNow})
	paths := []string{"/rooms/ABC123/answer.json", "/rooms/ABC123.json", "/.json"}
	writes := []boardTestReq{
		{method: "PUT", path: "/rooms/ABC123/offer.json", body: `{"payload":"o1","timestamp":1}`},
		{method: "PUT", path: "/rooms/ABC123/answer.json", body: `{"payload":"a1","timestamp":2}`},
		{method: "PUT", path: "/rooms/ABC123/answer/payload.json", body: `"a2"`},
		{method: "PUT", path: "/rooms/ABC123/answer/payload.json", body: `"a2"`},
		{method: "PUT", path: "/rooms/ABC123.json", body: `{"offer":{"payload":"o1"},"answer":{"payload":"a3"}}`},
		{method: "PATCH", path: "/rooms/ABC123/answer.json", body: `{"payload":"a4","extra/deep":1,"timestamp":null}`},
		{method: "PATCH", path: "/.json", body: `{"rooms/ABC123/answer/payload":"a5","rooms/OTHER/offer":{"payload":"x"}}`},
		{method: "PATCH", path: "/.json", body: `{"rooms/ABC123/answer":{"payload":"a6"}}`},
		{method: "PATCH", path: "/rooms.json", body: `{"ABC123":{"answer":{"payload":"a7"}},"OTHER":null}`},
		{method: "PUT", path: "/rooms/OTHER/offer.json", body: `"zz"`},
		{method: "DELETE", path: "/rooms/ABC123/answer/payload.json"},
		{method: "PUT", path: "/rooms/ABC123/answer/payload.json", body: `"b"`},
		{method: "PUT", path: "/.json", body: `{"rooms":{"ABC123":{"answer":"prim"}}}`},
		{method: "PUT", path: "/rooms/ABC123/answer/x.json", body: `1`},
		{method: "PATCH", path: "/rooms/ABC123.json", body: `{"answer/y":null}`},
		{method: "PATCH", path: "/rooms/ABC123.json", body: `{"answer":"prim2","offer/payload":"o2"}`},
		{method: "PATCH", path: "/rooms/ABC123/answer.json", body: `{"y":null}`},
		{method: "DELETE", path: "/rooms/ABC123.json"},
		{method: "DELETE", path: "/rooms/ABC123.json"},
		{method: "POST", path: "/rooms/ABC123/answer.json", body: `{"payload":"p"}`},
		{method: "PUT", path: "/rooms/ABC123/answer.json", body: `{"payload":"q","timestamp":{".sv":"timestamp"}}`},
		{method: "POST", path: "/rooms.json", query: "x-http-method-override=PATCH", body: `{"ABC123/answer/timestamp":null,"ABC123/offer":{"payload":"o3"}}`},
		{method: "PATCH", path: "/.json", body: `{"rooms":null,"elsewhere":1}`},
	}
	type follower struct {
		path   string
		events <-chan boardTestEvent
		value  any
	}
	var followers []*follower
	for _, p := range paths {
		events, value := boardTestFollow(t, srv, p)
		followers = append(followers, &follower{p, events, value})
	}
	for i, wr := range writes {
		before := make([]any, len(followers))
		for j, f := range followers {
			before[j] = boardTestGet(t, srv, f.path)
		}
		boardTestMust(t, srv, wr)
		for j, f := range followers {
			after := boardTestGet(t, srv, f.path)
			if !reflect.DeepEqual(before[j], after) {
				f.value = boardTestApply(t, f.value, boardTestNext(t, f.events))
			}
			if !reflect.DeepEqual(f.value, after) {
				t.Fatalf("write %d (%s %s %s): stream %s rebuilt %v, board has %v",
					i, wr.method, wr.path, wr.body, f.path, f.value, after)
			}
		}
	}
	b.Close()
	for _, f := range followers {
		boardTestEnd(t, f.events)
	}
}

// TestBoardStreamEvents pins the exact events for key cases. A sentinel
// write after the write under test marks where its events end, so "no
// event" is checked too.
func TestBoardStreamEvents(t *testing.T) {
	const seed = `{"rooms":{"ABC123":{"offer":{"payload":"o"},"answer":{"payload":"a","timestamp":1}}}}`
	const answer = "rooms/ABC123/answer"
	tests := []struct {
		name   string
		seed   string
		stream string
		write  boardTestReq
		want   []string // "NAME DATA"
	}{
		{"delete parent", seed, answer, boardTestReq{method: "DELETE", path: "/rooms/ABC123.json"},
			[]string{`put {"path":"/","data":null}`}},
		{"delete root", seed, answer, boardTestReq{method: "DELETE", path: "/.json"},
			[]string{`put {"path":"/","data":null}`}},
		{"put at", seed, answer, boardTestReq{method: "PUT", path: "/rooms/ABC123/answer.json", body: `{"payload":"b"}`},
			[]string{`put {"path":"/","data":{"payload":"b"}}`}},
		{"put below", seed, answer, boardTestReq{method: "PUT", path: "/rooms/ABC123/answer/payload.json", body: `"c"`},
			[]string{`put {"path":"/payload","data":"c"}`}},
		{"put unchanged", seed, answer, boardTestReq{method: "PUT", path: "/rooms/ABC123/answer/payload.json", body: `"a"`}, nil},
		{"put sibling", seed, answer, boardTestReq{method: "PUT", path: "/rooms/ABC123/offer/payload.json", body: `"z"`}, nil},
		{"put other room", seed, answer, boardTestReq{method: "PUT", path: "/rooms/OTHER/answer.json", body: `1`}, nil},
		{"put above", seed, answer, boardTestReq{method: "PUT", path: "/rooms/ABC123.json", body: `{"answer":{"payload":"d"}}`},
			[]string{`put {"path":"/","data":{"payload":"d"}}`}},
		{"put above, unchanged here", seed, answer, boardTestReq{method: "PUT", path: "/rooms/ABC123.json", body: `{"offer":1,"answer":{"payload":"a","timestamp":1}}`}, nil},
		{"patch at", seed, answer, boardTestReq{method: "PATCH", path: "/rooms/ABC123/answer.json", body: `{"payload":"p","x/y":1,"timestamp":null}`},
			[]string{`patch {"path":"/","data":{"payload":"p","x/y":1,"timestamp":null}}`}},
		{"patch root covering", seed, answer, boardTestReq{method: "PATCH", path: "/.json", body: `{"rooms/ABC123/answer":{"payload":"q"},"other":1}`},
			[]string{`put {"path":"/","data":{"payload":"q"}}`}},
		{"patch root deleting parent", seed, answer, boardTestReq{method: "PATCH", path: "/.json", body: `{"rooms/ABC123":null}`},
			[]string{`put {"path":"/","data":null}`}},
		{"patch root inside", seed, answer, boardTestReq{method: "PATCH", path: "/.json", body: `{"rooms/ABC123/answer/payload":"r","rooms/ABC123/answer/t/u":5,"rooms/ABC123/offer":null}`},
			[]string{`patch {"path":"/","data":{"payload":"r","t/u":5}}`}},
		{"patch above, unrelated", seed, answer, boardTestReq{method: "PATCH", path: "/rooms.json", body: `{"ABC123/offer":null}`}, nil},
		{"patch at, unchanged", seed, answer, boardTestReq{method: "PATCH", path: "/rooms/ABC123/answer.json", body: `{"payload":"a","gone":null}`}, nil},
		{"room stream, put below", seed, "rooms/ABC123", boardTestReq{method: "PUT", path: "/rooms/ABC123/answer/payload.json", body: `"s"`},
			[]string{`put {"path":"/answer/payload","data":"s"}`}},
		{"room stream, last leaf deleted", `{"rooms":{"ABC123":{"answer":{"payload":"a"}}}}`, "rooms/ABC123",
			boardTestReq{method: "DELETE", path: "/rooms/ABC123/answer/payload.json"},
			[]string{`put {"path":"/answer/payload","data":null}`}},
		{"root stream, patch", seed, "", boardTestReq{method: "PATCH", path: "/rooms.json", body: `{"ABC123/offer":null,"NEW/offer":{"payload":"n"}}`},
			[]string{`patch {"path":"/rooms","data":{"ABC123/offer":null,"NEW/offer":{"payload":"n"}}}`}},
		{"timestamp", seed, answer, boardTestReq{method: "PUT", path: "/rooms/ABC123/answer/timestamp.json", body: `{".sv":"timestamp"}`},
			[]string{`put {"path":"/timestamp","data":1700000000000}`}},
		{"write through primitive", `{"rooms":{"ABC123":{"answer":"prim"}}}`, answer, boardTestReq{method: "PUT", path: "/rooms/ABC123/answer/x.json", body: `1`},
			[]string{`put {"path":"/x","data":1}`}},
		{"delete below primitive", `{"rooms":{"ABC123":{"answer":"prim"}}}`, answer, boardTestReq{method: "DELETE", path: "/rooms/ABC123/answer/x.json"}, nil},
		{"absent, patch above creates", "", answer, boardTestReq{method: "PATCH", path: "/.json", body: `{"rooms/ABC123/answer/payload":"n"}`},
			[]string{`patch {"path":"/","data":{"payload":"n"}}`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := newBoardTestServer(t, boardOptions{keepAlive: time.Hour, now: boardTestNow})
			if tc.seed != "" {
				boardTestMust(t, srv, boardTestReq{method: "PUT", path: "/.json", body: tc.seed})
			}
			events, _ := boardTestFollow(t, srv, "/"+tc.stream+".json")
			boardTestMust(t, srv, tc.write)
			boardTestMust(t, srv, boardTestReq{method: "PUT", path: "/" + tc.stream + "/~sentinel.json", body: `true`})
			var got []boardTestEvent
			for {
				ev := boardTestNext(t, events)
				if ev.data == `{"path":"/~sentinel","data":true}` {
					break
				}
				got = append(got, ev)
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
}

func TestBoardStreamKeepAlive(t *testing.T) {
	srv, _ := newBoardTestServer(t, boardOptions{keepAlive: 5 * time.Millisecond})
	// print=silent does not apply to streams.
	events := boardTestOpenStream(t, srv.Client(), srv.URL+"/rooms/A.json?print=silent")
	if ev := boardTestNext(t, events); ev != (boardTestEvent{"put", `{"path":"/","data":null}`}) {
		t.Fatalf("first event %v", ev)
	}
	for range 3 {
		if ev := boardTestNext(t, events); ev != (boardTestEvent{"keep-alive", "null"}) {
			t.Fatalf("event %v, want keep-alive with null data", ev)
		}
	}
}

func TestBoardCloseEndsStreams(t *testing.T) {
	srv, b := newBoardTestServer(t, boardOptions{keepAlive: time.Hour})
	a, _ := boardTestFollow(t, srv, "/rooms/A.json")
	root, _ := boardTestFollow(t, srv, "/.json")
	b.Close()
	b.Close() // idempotent
	boardTestEnd(t, a)
	boardTestEnd(t, root)

	status, _, body := boardTestDo(t, srv, boardTestReq{method: "GET", path: "/.json", header: map[string]string{"Accept": "text/event-stream"}})
	if status != http.StatusServiceUnavailable {
		t.Errorf("stream after Close: status %d, want 503", status)
	}
	boardTestCheckError(t, body)
	boardTestMust(t, srv, boardTestReq{method: "PUT", path: "/a.json", body: `1`})
}

// boardTestWriter is a ResponseWriter whose Write waits for release, to
// stand in for a client that does not read.
type boardTestWriter struct {
	header  http.Header
	wrote   chan struct{} // closed at the first Write
	once    sync.Once
	release chan struct{}

	mu  sync.Mutex
	buf bytes.Buffer
}

func newBoardTestWriter() *boardTestWriter {
	return &boardTestWriter{header: http.Header{}, wrote: make(chan struct{}), release: make(chan struct{})}
}

func (w *boardTestWriter) Header() http.Header { return w.header }
func (w *boardTestWriter) WriteHeader(int)     {}
func (w *boardTestWriter) Flush()              {}

func (w *boardTestWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.wrote) })
	<-w.release
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *boardTestWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func boardTestStreamCount(b *board) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs.collect(nil))
}

func boardTestAwait(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(boardTestWait):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// startBoardTestStream runs a stream handler at path on w and returns a
// channel closed when the handler returns.
func startBoardTestStream(t *testing.T, ctx context.Context, b *board, w http.ResponseWriter, path string) <-chan struct{} {
	t.Helper()
	req := httptest.NewRequestWithContext(ctx, "GET", path, nil)
	req.Header.Set("Accept", "text/event-stream")
	served := make(chan struct{})
	go func() {
		defer close(served)
		b.ServeHTTP(w, req)
	}()
	return served
}

func TestBoardStreamClientGone(t *testing.T) {
	b := newBoard(boardOptions{keepAlive: time.Hour})
	w := newBoardTestWriter()
	close(w.release)
	ctx, cancel := context.WithCancel(context.Background())
	served := startBoardTestStream(t, ctx, b, w, "/rooms/A.json")
	boardTestAwait(t, w.wrote, "the first event")
	if n := boardTestStreamCount(b); n != 1 {
		t.Fatalf("%d streams open, want 1", n)
	}
	cancel()
	boardTestAwait(t, served, "the handler to return")
	if n := boardTestStreamCount(b); n != 0 {
		t.Errorf("%d streams open after the client left, want 0", n)
	}
}

// TestBoardSlowStream checks that a client that never reads neither blocks
// writers nor makes the board buffer without bound: its stream is dropped.
func TestBoardSlowStream(t *testing.T) {
	tests := []struct {
		name   string
		writes int
		size   int
	}{
		{"many small events", boardStreamQueueLen + 10, 16},
		{"few large events", 8, 900 << 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBoard(boardOptions{keepAlive: time.Hour})
			w := newBoardTestWriter()
			served := startBoardTestStream(t, context.Background(), b, w, "/rooms/A.json")
			boardTestAwait(t, w.wrote, "the first event") // the handler is now stuck writing it

			body := `"` + strings.Repeat("x", tc.size) + `"`
			writersDone := make(chan struct{})
			go func() {
				defer close(writersDone)
				for i := range tc.writes {
					rec := httptest.NewRecorder()
					req := httptest.NewRequest("PUT", fmt.Sprintf("/rooms/A/m%d.json", i), strings.NewReader(body))
					b.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						t.Errorf("write %d: status %d", i, rec.Code)
					}
				}
			}()
			boardTestAwait(t, writersDone, "writers")
			if n := boardTestStreamCount(b); n != 0 {
				t.Errorf("%d streams open, want the slow one dropped", n)
			}
			close(w.release)
			boardTestAwait(t, served, "the dropped stream's handler to return")
			if n := strings.Count(w.String(), "event: put"); n > boardStreamQueueLen+1 {
				t.Errorf("slow stream got %d events, more than its queue holds", n)
			}
		})
	}
}

// TestBoardStreamConcurrentWriters checks the invariant with writers
// racing each other: every stream sees the writes in the order applied.
func TestBoardStreamConcurrentWriters(t *testing.T) {
	srv, _ := newBoardTestServer(t, boardOptions{keepAlive: time.Hour, now: boardTestNow})
	paths := []string{"/rooms/R0/answer.json", "/rooms/R0.json", "/.json"}
	type follower struct {
		path   string
		events <-chan boardTestEvent
		value  any
	}
	var followers []*follower
	for _, p := range paths {
		events, value := boardTestFollow(t, srv, p)
		followers = append(followers, &follower{p, events, value})
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for range 40 {
				room := fmt.Sprintf("R%d", rng.IntN(3))
				side := []string{"offer", "answer"}[rng.IntN(2)]
				field := []string{"payload", "timestamp"}[rng.IntN(2)]
				var rq boardTestReq
				switch rng.IntN(4) {
				case 0:
					rq = boardTestReq{method: "PUT", path: "/rooms/" + room + "/" + side + "/" + field + ".json", body: fmt.Sprint(rng.IntN(5))}
				case 1:
					rq = boardTestReq{method: "PATCH", path: "/rooms.json", body: fmt.Sprintf(`{"%s/%s":{"%s":%d},"R9/x":null}`, room, side, field, rng.IntN(5))}
				case 2:
					rq = boardTestReq{method: "DELETE", path: "/rooms/" + room + "/" + side + ".json"}
				default:
					rq = boardTestReq{method: "PUT", path: "/rooms/" + room + ".json", body: fmt.Sprintf(`{"answer":{"payload":%d}}`, rng.IntN(5))}
				}
				if status, _, body := boardTestDo(t, srv, rq); status != http.StatusOK {
					t.Errorf("%s %s: status %d body %s", rq.method, rq.path, status, body)
				}
			}
		})
	}
	wg.Wait()
	boardTestMust(t, srv, boardTestReq{method: "PUT", path: "/rooms/R0/answer/~end.json", body: `true`})
	for _, f := range followers {
		for {
			ev := boardTestNext(t, f.events)
			f.value = boardTestApply(t, f.value, ev)
			if strings.Contains(ev.data, `~end","data":true}`) {
				break
			}
		}
		if want := boardTestGet(t, srv, f.path); !reflect.DeepEqual(f.value, want) {
			t.Errorf("stream %s rebuilt %v, board has %v", f.path, f.value, want)
		}
	}
}

func TestServeBoard(t *testing.T) {
	srv := newBoardHTTPServer(newBoard(boardOptions{}))
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 || srv.WriteTimeout != 0 {
		t.Errorf("server timeouts: header %v, read %v, idle %v, max header %d, write %v",
			srv.ReadHeaderTimeout, srv.ReadTimeout, srv.IdleTimeout, srv.MaxHeaderBytes, srv.WriteTimeout)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := newBoard(boardOptions{keepAlive: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- serveBoard(ctx, ln, b) }()

	base := "http://" + ln.Addr().String()
	client := &http.Client{}
	defer client.CloseIdleConnections()
	req, _ := http.NewRequest("PUT", base+"/rooms/A.json", strings.NewReader(`{"x":1}`))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT: status %d", resp.StatusCode)
	}
	events := boardTestOpenStream(t, client, base+"/rooms/A.json")
	if ev := boardTestNext(t, events); ev != (boardTestEvent{"put", `{"path":"/","data":{"x":1}}`}) {
		t.Fatalf("first event %v", ev)
	}

	cancel()
	boardTestEnd(t, events)
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("serveBoard: %v", err)
		}
	case <-time.After(boardTestWait):
		t.Fatal("serveBoard did not return")
	}
	if _, err := client.Get(base + "/.json"); err == nil {
		t.Error("board still answers after shutdown")
	}
}

// TestBoardStreamOutlivesReadTimeout checks that the server's ReadTimeout,
// meant for request bodies, does not cut streams short.
func TestBoardStreamOutlivesReadTimeout(t *testing.T) {
	b := newBoard(boardOptions{keepAlive: 10 * time.Millisecond})
	srv := newBoardHTTPServer(b)
	srv.ReadTimeout = 50 * time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		b.Close()
		srv.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	client := &http.Client{}
	events := boardTestOpenStream(t, client, "http://"+ln.Addr().String()+"/a.json")
	boardTestNext(t, events)
	for start := time.Now(); time.Since(start) < 4*srv.ReadTimeout; {
		if ev := boardTestNext(t, events); ev.name != "keep-alive" {
			t.Fatalf("event %v, want keep-alive", ev)
		}
	}
}

func FuzzBoardRequest(f *testing.F) {
	seeds := []struct{ method, target, body string }{
		{"GET", "/.json", ""},
		{"PUT", "/rooms/ABC123/offer.json", `{"payload":"x","timestamp":1700000000000}`},
		{"PATCH", "/rooms.json", `{"ABC123/offer":null,"X/answer":{"payload":"p"}}`},
		{"POST", "/rooms.json?print=silent", `{"a":[1,2,{".sv":"timestamp"}]}`},
		{"DELETE", "/rooms/ABC123.json", ""},
		{"GET", "/.json?shallow=true", ""},
		{"GET", "/rooms.json?print=pretty", ""},
		{"POST", "/a.json?x-http-method-override=PATCH", `{"a/b":1,"a":2}`},
		{"PUT", "/a%2Fb.json", `1`},
		{"GET", "/rooms.json?orderBy=%22$key%22", ""},
		{"PUT", "/a.json", `{"a":`},
		{"PUT", "/" + strings.Repeat("d/", 40) + ".json", `{"x":{"y":[[[]]]}}`},
		{"BREW", "/a", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.body)
	}
	f.Fuzz(func(t *testing.T, method, target, body string) {
		req, err := http.NewRequest(method, "http://board"+target, strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		b := newBoard(boardOptions{maxBody: 1 << 16, now: boardTestNow})
		defer b.Close()
		seed := httptest.NewRequest("PUT", "/.json", strings.NewReader(`{"rooms":{"ABC123":{"offer":{"payload":"o"}}},"n":1}`))
		b.ServeHTTP(httptest.NewRecorder(), seed)

		rec := httptest.NewRecorder()
		b.ServeHTTP(rec, req)
		got := rec.Body.Bytes()
		switch {
		case len(got) == 0:
			if rec.Code != http.StatusNoContent {
				t.Errorf("status %d with an empty body", rec.Code)
			}
		case !json.Valid(got):
			t.Errorf("status %d, invalid JSON body %q", rec.Code, got)
		case rec.Code >= 400 && rec.Code != http.StatusPreconditionFailed:
			boardTestCheckError(t, got)
		}
		root := httptest.NewRecorder()
		b.ServeHTTP(root, httptest.NewRequest("GET", "/.json", nil))
		if root.Code != http.StatusOK || !json.Valid(root.Body.Bytes()) {
			t.Errorf("root afterwards: status %d, body %q", root.Code, root.Body.Bytes())
		}
	})
}
