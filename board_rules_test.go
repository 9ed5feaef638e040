package main

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestBoardAnonymousRules states what a client without the admin secret
// may do, each rule once. Every case starts from the same board and checks
// the whole tree afterwards (read with the secret).
func TestBoardAnonymousRules(t *testing.T) {
	// The offer is fresh by the injected clock; STALE1's says it is older
	// than the TTL, though the board got both at once.
	const offer = `{"payload":"o","timestamp":1700000000000}`
	const stale = `{"payload":"s","timestamp":1699999000000}`
	const seed = `{"rooms":{"ABC123":{"offer":` + offer + `},"STALE1":{"offer":` + stale + `}},"n":1}`
	const noRoom = `{"rooms":{"STALE1":{"offer":` + stale + `}},"n":1}`
	const valid = `{"payload":"a","timestamp":2}`
	withAnswer := func(answer string) string {
		return `{"rooms":{"ABC123":{"offer":` + offer + `,"answer":` + answer + `},"STALE1":{"offer":` + stale + `}},"n":1}`
	}
	sse := map[string]string{"Accept": "text/event-stream"}
	payload32 := strings.Repeat("p", 32) // the cap of these boards
	tests := []struct {
		name       string
		req        boardTestReq
		wantStatus int
		wantBody   string // JSON, checked when set
		wantRoot   string // "" means unchanged
	}{
		// Reads: a room whose code you know, never the list or anything else.
		{"read offer", boardTestReq{method: "GET", path: "/rooms/ABC123/offer.json"}, 200, offer, ""},
		{"read a room whose code is not a code", boardTestReq{method: "GET", path: "/rooms/not-a-code/offer.json"}, 200, `null`, ""},
		{"read absent answer", boardTestReq{method: "GET", path: "/rooms/NOPE12/answer.json"}, 200, `null`, ""},
		{"read a room", boardTestReq{method: "GET", path: "/rooms/ABC123.json"}, 200, `{"offer":` + offer + `}`, ""},
		{"read below a slot", boardTestReq{method: "GET", path: "/rooms/ABC123/offer/payload.json"}, 200, `"o"`, ""},
		{"list rooms", boardTestReq{method: "GET", path: "/rooms.json"}, 401, `{"error":"Permission denied"}`, ""},
		{"list rooms shallow", boardTestReq{method: "GET", path: "/rooms.json", query: "shallow=true"}, 401, "", ""},
		{"query rooms", boardTestReq{method: "GET", path: "/rooms.json", query: `orderBy="$key"&limitToFirst=1`}, 401, "", ""},
		{"stream rooms", boardTestReq{method: "GET", path: "/rooms.json", header: sse}, 401, "", ""},
		{"read root", boardTestReq{method: "GET", path: "/.json"}, 401, "", ""},
		{"read outside rooms", boardTestReq{method: "GET", path: "/n.json"}, 401, "", ""},
		{"wrong secret", boardTestReq{method: "GET", path: "/rooms/ABC123/offer.json", query: "auth=guess"}, 401, `{"error":"Could not parse auth token."}`, ""},

		// Writes outside a room's slots.
		{"write outside rooms", boardTestReq{method: "PUT", path: "/n.json", body: `2`}, 401, "", ""},
		{"create outside rooms", boardTestReq{method: "PUT", path: "/x.json", body: valid}, 401, "", ""},
		{"write rooms", boardTestReq{method: "PUT", path: "/rooms.json", body: `null`}, 401, "", ""},
		{"delete rooms", boardTestReq{method: "DELETE", path: "/rooms.json"}, 401, "", ""},
		{"delete root", boardTestReq{method: "DELETE", path: "/.json"}, 401, "", ""},
		{"patch root", boardTestReq{method: "PATCH", path: "/.json", body: `{"rooms/ABC123/answer":` + valid + `}`}, 401, "", ""},
		{"patch rooms", boardTestReq{method: "PATCH", path: "/rooms.json", body: `{"ABC123/answer":` + valid + `}`}, 401, "", ""},
		{"write another key in a room", boardTestReq{method: "PUT", path: "/rooms/ABC123/chat.json", body: valid}, 401, "", ""},
		{"post in a room", boardTestReq{method: "POST", path: "/rooms/ABC123.json", body: valid}, 401, "", ""},
		{"post in a slot", boardTestReq{method: "POST", path: "/rooms/NEW123/answer.json", body: valid}, 401, "", ""},
		{"write a room whole", boardTestReq{method: "PUT", path: "/rooms/NEW123.json", body: `{"offer":` + valid + `}`}, 401, "", ""},
		{"patch a room leaving a slot", boardTestReq{method: "PATCH", path: "/rooms/ABC123.json", body: `{"answer":` + valid + `}`}, 401, "", ""},

		// Writing a slot: once, in pypeer's shape.
		{"write answer", boardTestReq{method: "PUT", path: "/rooms/ABC123/answer.json", body: valid}, 200, valid, withAnswer(valid)},
		{"write a stranger's garbage answer", boardTestReq{method: "PUT", path: "/rooms/ABC123/answer.json", body: `{"payload":"gAAAAABnot-a-real-token==","timestamp":1}`},
			200, "", withAnswer(`{"payload":"gAAAAABnot-a-real-token==","timestamp":1}`)},
		{"write answer with server time", boardTestReq{method: "PUT", path: "/rooms/ABC123/answer.json", body: `{"payload":"a","timestamp":{".sv":"timestamp"}}`},
			200, "", withAnswer(fmt.Sprintf(`{"payload":"a","timestamp":%d}`, boardTestMs))},
		{"write answer by patch", boardTestReq{method: "PATCH", path: "/rooms/ABC123/answer.json", body: valid}, 200, "", withAnswer(valid)},
		{"write answer through override", boardTestReq{method: "POST", path: "/rooms/ABC123/answer.json", query: "x-http-method-override=PUT", body: valid}, 200, "", withAnswer(valid)},
		{"write offer of a new room", boardTestReq{method: "PUT", path: "/rooms/NEW123/offer.json", body: valid},
			200, "", `{"rooms":{"ABC123":{"offer":` + offer + `},"STALE1":{"offer":` + stale + `},"NEW123":{"offer":` + valid + `}},"n":1}`},
		{"write offer of a room whose code is not a code", boardTestReq{method: "PUT", path: "/rooms/abc123/offer.json", body: valid}, 401, "", ""},
		{"write offer of a room with a long code", boardTestReq{method: "PUT", path: "/rooms/ABC1234/offer.json", body: valid}, 401, "", ""},
		{"answer with no offer", boardTestReq{method: "PUT", path: "/rooms/NEW123/answer.json", body: valid}, 401, "", ""},
		{"replace the offer", boardTestReq{method: "PUT", path: "/rooms/ABC123/offer.json", body: `{"payload":"evil","timestamp":1700000000000}`}, 401, `{"error":"Permission denied"}`, ""},
		// The board's clock decides staleness, not the writer's timestamp:
		// STALE1's offer claims to be old, but the board got it just now.
		{"replace an offer that only claims to be old", boardTestReq{method: "PUT", path: "/rooms/STALE1/offer.json", body: valid}, 401, "", ""},
		{"replace the offer's payload", boardTestReq{method: "PUT", path: "/rooms/ABC123/offer/payload.json", body: `"evil"`}, 401, "", ""},
		{"patch the offer", boardTestReq{method: "PATCH", path: "/rooms/ABC123/offer.json", body: `{"timestamp":5}`}, 401, "", ""},
		{"retry the offer identically", boardTestReq{method: "PUT", path: "/rooms/ABC123/offer.json", body: `{"timestamp":1700000000000,"payload":"o"}`}, 200, offer, ""},
		{"retry the offer's payload identically", boardTestReq{method: "PUT", path: "/rooms/ABC123/offer/payload.json", body: `"o"`}, 200, `"o"`, ""},
		{"write half an answer", boardTestReq{method: "PUT", path: "/rooms/ABC123/answer/payload.json", body: `"a"`}, 401, "", ""},
		{"answer without timestamp", boardTestReq{method: "PUT", path: "/rooms/ABC123/answer.json", body: `{"payload":"a"}`}, 401, "", ""},
		{"answer with an extra key", boardTestReq{method: "PUT", path: "/rooms/ABC123/answer.json", body: `{"payload":"a","timestamp":2,"x":1}`}, 401, "", ""},
		{"answer payload empty", boardTestReq{method: "PUT", path: "/rooms/ABC123/answer.json", body: `{"payload":"","timestamp":2}`}, 401, "", ""},
		{"answer payload not a string", boardTestReq{method: "PUT", path: "/rooms/ABC123/answer.json", body: `{"payload":7,"timestamp":2}`}, 401, "", ""},
		{"answer timestamp not a number", boardTestReq{method: "PUT", path: "/rooms/ABC123/answer.json", body: `{"payload":"a","timestamp":"2"}`}, 401, "", ""},
		{"answer timestamp out of range", boardTestReq{method: "PUT", path: "/rooms/ABC123/answer.json", body: `{"payload":"a","timestamp":1e999}`}, 400, "", ""},
		{"answer a string", boardTestReq{method: "PUT", path: "/rooms/ABC123/answer.json", body: `"a"`}, 401, "", ""},
		{"answer an array", boardTestReq{method: "PUT", path: "/rooms/ABC123/answer.json", body: `["a",2]`}, 401, "", ""},
		{"answer payload at the cap", boardTestReq{method: "PUT", path: "/rooms/ABC123/answer.json", body: `{"payload":"` + payload32 + `","timestamp":2}`},
			200, "", withAnswer(`{"payload":"` + payload32 + `","timestamp":2}`)},
		{"answer payload over the cap", boardTestReq{method: "PUT", path: "/rooms/ABC123/answer.json", body: `{"payload":"` + payload32 + `x","timestamp":2}`}, 401, "", ""},
		{"malformed answer", boardTestReq{method: "PUT", path: "/rooms/ABC123/answer.json", body: `{"payload":`}, 400, "", ""},

		// Deletes: a slot or the whole room, never part of a slot.
		{"delete the offer", boardTestReq{method: "DELETE", path: "/rooms/ABC123/offer.json"}, 200, `null`, noRoom},
		{"put null at the offer", boardTestReq{method: "PUT", path: "/rooms/ABC123/offer.json", body: `null`}, 200, `null`, noRoom},
		{"delete an absent answer", boardTestReq{method: "DELETE", path: "/rooms/ABC123/answer.json"}, 200, `null`, ""},
		{"delete the room", boardTestReq{method: "DELETE", path: "/rooms/ABC123.json"}, 200, `null`, noRoom},
		{"put null at the room", boardTestReq{method: "PUT", path: "/rooms/ABC123.json", body: `null`}, 200, `null`, noRoom},
		{"patch the room away", boardTestReq{method: "PATCH", path: "/rooms/ABC123.json", body: `{"offer":null,"answer":null}`}, 200, "", noRoom},
		{"delete part of the offer", boardTestReq{method: "DELETE", path: "/rooms/ABC123/offer/payload.json"}, 401, "", ""},
		{"delete a room whose code is not a code", boardTestReq{method: "DELETE", path: "/rooms/not-a-code.json"}, 200, `null`, ""},

		// Paths that try to leave the room.
		{"dot-dot segments", boardTestReq{method: "GET", path: "/rooms/../n.json"}, 400, "", ""},
		{"encoded dot-dot and slash", boardTestReq{method: "GET", path: "/rooms/..%2F..%2Fn.json"}, 400, "", ""},
		{"encoded slash in a code", boardTestReq{method: "PUT", path: "/rooms/A%2Fb/offer.json", body: valid}, 400, "", ""},
		{"room key with a dot", boardTestReq{method: "PUT", path: "/rooms/A.B/offer.json", body: valid}, 400, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := newBoardTestServer(t, boardOptions{now: boardTestNow, maxPayload: 32})
			boardTestMust(t, srv, boardTestReq{method: "PUT", path: "/.json", body: seed})
			rq := tc.req
			rq.anon = true // some cases carry their own wrong auth
			status, _, body := boardTestDo(t, srv, rq)
			if status != tc.wantStatus {
				t.Fatalf("status %d, want %d (body %s)", status, tc.wantStatus, body)
			}
			if status >= 400 {
				boardTestCheckError(t, body)
			}
			if tc.wantBody != "" {
				boardTestJSONEqual(t, "body", body, tc.wantBody)
			}
			boardTestJSONEqual(t, "tree afterwards", boardTestMust(t, srv, boardTestReq{method: "GET", path: "/.json"}), cmp.Or(tc.wantRoot, seed))
		})
	}
}

// TestBoardAnonymousStream: a stream in a room works without the secret.
func TestBoardAnonymousStream(t *testing.T) {
	srv, _ := newBoardTestServer(t, boardOptions{keepAlive: time.Hour})
	boardTestMust(t, srv, boardTestReq{method: "PUT", path: "/rooms/ABC123/offer.json", body: `{"payload":"o","timestamp":1}`, anon: true})
	events := boardTestOpenStream(t, srv.Client(), srv.URL+"/rooms/ABC123/answer.json")
	if ev := boardTestNext(t, events); ev != (boardTestEvent{"put", `{"path":"/","data":null}`}) {
		t.Fatalf("first event %v", ev)
	}
	boardTestMust(t, srv, boardTestReq{method: "PUT", path: "/rooms/ABC123/answer.json", body: `{"payload":"a","timestamp":2}`, anon: true})
	if ev := boardTestNext(t, events); ev != (boardTestEvent{"put", `{"path":"/","data":{"payload":"a","timestamp":2}}`}) {
		t.Fatalf("event %v", ev)
	}
}

// TestBoardNoSecretNoAdmin: a board without a secret has no admin, and
// an empty auth parameter is not one.
func TestBoardNoSecretNoAdmin(t *testing.T) {
	b := newBoard(boardOptions{})
	for _, target := range []string{"/.json", "/.json?auth=", "/rooms.json?auth="} {
		rec := boardTestRequest(b, "GET", target, "")
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("GET %s: status %d, want 401", target, rec.Code)
		}
	}
}

// TestBoardRoomCap: a new room is refused when the board is full, with a
// retryable status; existing rooms go on working.
func TestBoardRoomCap(t *testing.T) {
	srv, _ := newBoardTestServer(t, boardOptions{maxRooms: 2})
	offer := `{"payload":"o","timestamp":1}`
	for _, code := range []string{"ROOM01", "ROOM02"} {
		boardTestMust(t, srv, boardTestReq{method: "PUT", path: "/rooms/" + code + "/offer.json", body: offer, anon: true})
	}
	status, _, body := boardTestDo(t, srv, boardTestReq{method: "PUT", path: "/rooms/ROOM03/offer.json", body: offer, anon: true})
	if status != http.StatusServiceUnavailable {
		t.Fatalf("third room: status %d, want 503 (body %s)", status, body)
	}
	boardTestCheckError(t, body)
	boardTestMust(t, srv, boardTestReq{method: "PUT", path: "/rooms/ROOM01/answer.json", body: offer, anon: true})
	boardTestMust(t, srv, boardTestReq{method: "DELETE", path: "/rooms/ROOM02.json", anon: true})
	boardTestMust(t, srv, boardTestReq{method: "PUT", path: "/rooms/ROOM03/offer.json", body: offer, anon: true})
}

// boardTestRequest runs one request through b's handler.
func boardTestRequest(b *board, method, target, body string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	b.ServeHTTP(rec, httptest.NewRequest(method, target, strings.NewReader(body)))
	return rec
}

func boardTestRequestWith(b *board, rec *httptest.ResponseRecorder, req *http.Request) *httptest.ResponseRecorder {
	b.ServeHTTP(rec, req)
	return rec
}

// TestBoardWriteRate: each address gets a burst of writes, then a steady
// rate; refusals are 429 with Retry-After. Reads and the admin are not
// limited, and a wrong secret costs a write.
func TestBoardWriteRate(t *testing.T) {
	var clock atomic.Int64
	clock.Store(boardTestMs)
	now := func() time.Time { return time.UnixMilli(clock.Load()) }
	b := newBoard(boardOptions{now: now, secret: boardTestSecret, writeRate: 2, writeBurst: 3})
	put := func(addr, query string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("PUT", "/rooms/ABC123/offer.json"+query, strings.NewReader(`{"payload":"o","timestamp":1}`))
		req.RemoteAddr = addr
		rec := httptest.NewRecorder()
		b.ServeHTTP(rec, req)
		return rec
	}
	const alice, bob = "192.0.2.1:1000", "192.0.2.2:1000"
	for i := range 3 {
		if rec := put(alice, ""); rec.Code != http.StatusOK {
			t.Fatalf("write %d in the burst: status %d", i, rec.Code)
		}
	}
	rec := put(alice, "")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" {
		t.Fatalf("write past the burst: status %d, Retry-After %q; want 429 and 1", rec.Code, rec.Header().Get("Retry-After"))
	}
	boardTestCheckError(t, rec.Body.Bytes())
	if rec := put(alice, "?auth="+boardTestSecret); rec.Code != http.StatusOK {
		t.Errorf("admin write: status %d, want 200", rec.Code)
	}
	if rec := put(bob, ""); rec.Code != http.StatusOK {
		t.Errorf("another address: status %d, want 200", rec.Code)
	}
	get := httptest.NewRequest("GET", "/rooms/ABC123/offer.json", nil)
	get.RemoteAddr = alice
	if rec := httptest.NewRecorder(); boardTestRequestWith(b, rec, get).Code != http.StatusOK {
		t.Errorf("read while limited: status %d, want 200", rec.Code)
	}

	clock.Add(500) // one token back at 2 per second
	if rec := put(alice, ""); rec.Code != http.StatusOK {
		t.Errorf("write after the refill: status %d, want 200", rec.Code)
	}
	if rec := put(alice, ""); rec.Code != http.StatusTooManyRequests {
		t.Errorf("write with the bucket empty again: status %d, want 429", rec.Code)
	}

	clock.Add(2000) // full again
	for range 3 {
		put(bob, "?auth=guess")
	}
	if rec := put(bob, "?auth=guess"); rec.Code != http.StatusTooManyRequests {
		t.Errorf("guessing secrets: status %d, want 429 once the budget is spent", rec.Code)
	}
}

// TestBoardRateLimiterForgets: the limiter's memory follows the addresses
// that wrote recently.
func TestBoardRateLimiterForgets(t *testing.T) {
	l := newBoardRateLimiter(10, 5, "writes")
	t0 := time.UnixMilli(boardTestMs)
	for i := range 5 * boardRateSweepMin {
		_ = l.allow(fmt.Sprintf("198.51.100.%d/%d", i%256, i), t0.Add(time.Duration(i)*time.Second), 1)
	}
	if n := l.size(); n > 2*boardRateSweepMin {
		t.Errorf("the limiter remembers %d addresses, want at most %d", n, 2*boardRateSweepMin)
	}
}

func TestBoardClientAddr(t *testing.T) {
	tests := []struct {
		remote, forwarded string
		trust             bool
		want              string
	}{
		{"192.0.2.7:5000", "", false, "192.0.2.7"},
		{"[2001:db8:1:2:3:4:5:6]:5000", "", false, "2001:db8:1::/48"},
		{"[2001:db8:1:ffff::9]:5000", "", false, "2001:db8:1::/48"}, // another /64 of the same /48: one client
		{"[2001:db8:2::9]:5000", "", false, "2001:db8:2::/48"},
		{"[::ffff:192.0.2.7]:5000", "", false, "192.0.2.7"},
		{"192.0.2.7:5000", "203.0.113.9", true, "192.0.2.7"},             // not from loopback: not believed
		{"127.0.0.1:5000", "203.0.113.9", false, "127.0.0.1"},            // not trusted
		{"127.0.0.1:5000", "10.9.9.9, 203.0.113.9", true, "203.0.113.9"}, // the proxy's own entry
		{"127.0.0.1:5000", "garbage", true, "127.0.0.1"},
		{"[::1]:5000", "2001:db8::1", true, "2001:db8::/48"},
	}
	for _, tc := range tests {
		b := newBoard(boardOptions{trustProxy: tc.trust})
		req := httptest.NewRequest("GET", "/.json", nil)
		req.RemoteAddr = tc.remote
		if tc.forwarded != "" {
			req.Header.Set("X-Forwarded-For", tc.forwarded)
		}
		if got := b.clientAddr(req); got != tc.want {
			t.Errorf("clientAddr(%s, X-Forwarded-For %q, trust %v) = %q, want %q", tc.remote, tc.forwarded, tc.trust, got, tc.want)
		}
	}
}

// TestBoardStreamCaps: streams are capped per address (not for the admin)
// and overall; a closed stream frees its place.
func TestBoardStreamCaps(t *testing.T) {
	srv, b := newBoardTestServer(t, boardOptions{keepAlive: time.Hour, maxStreamsPerAddr: 2, maxStreams: 4})
	open := func(query string) (int, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/rooms/ABC123/offer.json"+query, nil)
		req.Header.Set("Accept", "text/event-stream")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cancel(); resp.Body.Close() })
		return resp.StatusCode, cancel
	}
	_, first := open("")
	open("")
	if status, _ := open(""); status != http.StatusTooManyRequests {
		t.Errorf("third stream from one address: status %d, want 429", status)
	}
	admin := "?auth=" + boardTestSecret
	open(admin)
	open(admin)
	if status, _ := open(admin); status != http.StatusServiceUnavailable {
		t.Errorf("fifth stream: status %d, want 503", status)
	}
	first()
	boardTestEventually(t, "the closed stream to be forgotten", func() bool { return boardTestStreamCount(b) == 3 })
	if status, _ := open(""); status != http.StatusOK {
		t.Errorf("stream after one closed: status %d, want 200", status)
	}
}

// boardTestEventually waits, within boardTestWait, for cond: for effects
// that have no event to wait on, such as a server noticing a closed
// connection.
func boardTestEventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(boardTestWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBoardStaleByItsOwnClock: whether an offer is stale enough to be
// replaced is judged by when the board got it, never by the timestamp its
// writer put in it: one stamped 1 (1970) cannot be replaced at once, and
// one the board has held for longer than the TTL can.
func TestBoardStaleByItsOwnClock(t *testing.T) {
	clock := newBoardTestClock()
	srv, _ := newBoardTestServer(t, boardOptions{now: clock.now, roomTTL: -1})
	put := func(body string) int {
		status, _, _ := boardTestDo(t, srv, boardTestReq{method: "PUT", path: "/rooms/OLD123/offer.json", body: body, anon: true})
		return status
	}
	if status := put(`{"payload":"first","timestamp":1}`); status != 200 {
		t.Fatalf("first offer: status %d", status)
	}
	if status := put(`{"payload":"second","timestamp":2}`); status != 401 {
		t.Errorf("replacing an offer that only claims to be from 1970: status %d, want 401", status)
	}
	clock.add(boardDefaultRoomTTL + time.Second)
	if status := put(`{"payload":"third","timestamp":3}`); status != 200 {
		t.Errorf("replacing an offer held longer than the TTL: status %d, want 200", status)
	}
	if status := put(`{"payload":"fourth","timestamp":4}`); status != 401 {
		t.Errorf("replacing the offer just written: status %d, want 401", status)
	}
}

// TestBoardRoomOwner: a host that claims its room gets a token, and only a
// request carrying it may replace or delete the room's offer (or the
// room); the answer slot stays open to joiners, and a room nobody claimed
// (pypeer's) stays as open as on Firebase.
func TestBoardRoomOwner(t *testing.T) {
	srv, _ := newBoardTestServer(t, boardOptions{now: boardTestNow})
	const offer = `{"payload":"o","timestamp":1700000000000}`
	const answer = `{"payload":"a","timestamp":1700000000000}`
	send := func(method, path, body, token string, claim bool) (int, http.Header) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if claim {
			req.Header.Set(roomClaimHeader, "room")
		}
		if token != "" {
			req.Header.Set(roomTokenHeader, token)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	status, h := send("PUT", "/rooms/OWNED1/offer.json", offer, "", true)
	token := h.Get(roomTokenHeader)
	if status != 200 || len(token) < 20 {
		t.Fatalf("claiming: status %d, token %q", status, token)
	}
	steps := []struct {
		name         string
		method, path string
		body, token  string
		want         int
	}{
		{"a stranger deletes the room", "DELETE", "/rooms/OWNED1.json", "", "", 401},
		{"a stranger deletes the offer", "DELETE", "/rooms/OWNED1/offer.json", "", "", 401},
		{"a stranger with a wrong token", "DELETE", "/rooms/OWNED1.json", "", "not-the-token-at-all-xx", 401},
		{"a stranger patches the offer away", "PATCH", "/rooms/OWNED1.json", `{"offer":null}`, "", 401},
		{"a joiner answers", "PUT", "/rooms/OWNED1/answer.json", answer, "", 200},
		{"the host clears the answer", "DELETE", "/rooms/OWNED1/answer.json", "", "", 200},
		{"the host deletes its room", "DELETE", "/rooms/OWNED1.json", "", token, 200},
	}
	for _, s := range steps {
		if status, _ := send(s.method, s.path, s.body, s.token, false); status != s.want {
			t.Errorf("%s: status %d, want %d", s.name, status, s.want)
		}
	}
	// A room nobody claimed: anyone may delete its offer, as on Firebase;
	// and a claim on an offer that did not create the room gets no token.
	if status, h := send("PUT", "/rooms/OPEN01/offer.json", offer, "", false); status != 200 || h.Get(roomTokenHeader) != "" {
		t.Errorf("an unclaimed offer: status %d, token %q", status, h.Get(roomTokenHeader))
	}
	if status, h := send("PUT", "/rooms/OPEN01/offer.json", offer, "", true); status != 200 || h.Get(roomTokenHeader) != "" {
		t.Errorf("claiming someone else's room by writing its offer again: status %d, token %q", status, h.Get(roomTokenHeader))
	}
	if status, _ := send("DELETE", "/rooms/OPEN01/offer.json", "", "", false); status != 200 {
		t.Errorf("deleting an unclaimed offer: status %d", status)
	}
}
