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
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
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

// boardTestSecret is the admin secret of the tests' boards. Requests carry
// it unless they say they are anonymous.
const boardTestSecret = "board-test-secret"

func boardTestNow() time.Time { return time.UnixMilli(boardTestMs) }

// newBoardTestServer serves a fresh board whose admin secret is
// boardTestSecret. Cleanup closes the board before the server, so open
// streams end instead of holding srv.Close up.
func newBoardTestServer(t *testing.T, opts boardOptions) (*httptest.Server, *board) {
	t.Helper()
	opts.secret = cmp.Or(opts.secret, boardTestSecret)
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
	anon                bool // without the admin secret
}

func boardTestDo(t *testing.T, srv *httptest.Server, rq boardTestReq) (int, http.Header, []byte) {
	t.Helper()
	return boardTestSend(t, srv.Client(), srv.URL+rq.path, boardTestSecret, rq)
}

// boardTestWithAuth adds ?auth=secret to a URL.
func boardTestWithAuth(target, secret string) string {
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	return target + sep + "auth=" + url.QueryEscape(secret)
}

// boardTestSend sends rq to target (its path included) with secret unless
// rq is anonymous.
func boardTestSend(t *testing.T, client *http.Client, target, secret string, rq boardTestReq) (int, http.Header, []byte) {
	t.Helper()
	if rq.query != "" {
		target += "?" + rq.query
	}
	if !rq.anon {
		target = boardTestWithAuth(target, secret)
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
	resp, err := client.Do(req)
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

// boardTestClient is an HTTP client for a test's own server.
func boardTestClient(t *testing.T) *http.Client {
	c := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// boardTestSendMust sends rq to the board at base and fails unless it
// answers 200.
func boardTestSendMust(t *testing.T, client *http.Client, base string, rq boardTestReq) []byte {
	t.Helper()
	status, _, body := boardTestSend(t, client, base+rq.path, boardTestSecret, rq)
	if status != http.StatusOK {
		t.Fatalf("%s %s: status %d, body %s", rq.method, rq.path, status, body)
	}
	return body
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

// boardTestApply does what a Firebase client does with an event, with the
// board client's own code: so the board's events are checked against the
// one data model both ends share.
func boardTestApply(t *testing.T, value any, ev boardTestEvent) any {
	t.Helper()
	next, touched, err := clientApplyEvent(value, streamEvent{Name: ev.name, Data: json.RawMessage(ev.data)})
	if err != nil || !touched {
		t.Fatalf("event %s %s: touched %v, %v", ev.name, ev.data, touched, err)
	}
	return next
}

// boardTestFollow opens a stream at path and returns its events and the
// value rebuilt from its first event, checked against a GET.
func boardTestFollow(t *testing.T, srv *httptest.Server, path string) (<-chan boardTestEvent, any) {
	t.Helper()
	events := boardTestOpenStream(t, srv.Client(), boardTestWithAuth(srv.URL+path, boardTestSecret))
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

func TestBoardStreamKeepAlive(t *testing.T) {
	srv, _ := newBoardTestServer(t, boardOptions{keepAlive: 5 * time.Millisecond})
	// print=silent does not apply to streams.
	events := boardTestOpenStream(t, srv.Client(), boardTestWithAuth(srv.URL+"/rooms/A.json?print=silent", boardTestSecret))
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
			b := newBoard(boardOptions{keepAlive: time.Hour, secret: boardTestSecret, maxBody: 1 << 20})
			w := newBoardTestWriter()
			served := startBoardTestStream(t, context.Background(), b, w, "/rooms/A.json")
			boardTestAwait(t, w.wrote, "the first event") // the handler is now stuck writing it

			body := `"` + strings.Repeat("x", tc.size) + `"`
			writersDone := make(chan struct{})
			go func() {
				defer close(writersDone)
				for i := range tc.writes {
					rec := httptest.NewRecorder()
					req := httptest.NewRequest("PUT", fmt.Sprintf("/rooms/A/m%d.json?auth=%s", i, boardTestSecret), strings.NewReader(body))
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
	srv := newBoardHTTPServer(newBoard(boardOptions{}), boardOptions{})
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 || srv.WriteTimeout != 0 {
		t.Errorf("server timeouts: header %v, read %v, idle %v, max header %d, write %v",
			srv.ReadHeaderTimeout, srv.ReadTimeout, srv.IdleTimeout, srv.MaxHeaderBytes, srv.WriteTimeout)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts := boardOptions{keepAlive: time.Hour}
	b := newBoard(opts)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- serveBoard(ctx, ln, b, opts, nil) }()

	base := "http://" + ln.Addr().String()
	client := &http.Client{}
	defer client.CloseIdleConnections()
	req, _ := http.NewRequest("PUT", base+"/rooms/ABC123/offer.json", strings.NewReader(`{"payload":"p","timestamp":1}`))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT: status %d", resp.StatusCode)
	}
	events := boardTestOpenStream(t, client, base+"/rooms/ABC123/offer.json")
	if ev := boardTestNext(t, events); ev != (boardTestEvent{"put", `{"path":"/","data":{"payload":"p","timestamp":1}}`}) {
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
	srv := newBoardHTTPServer(b, boardOptions{})
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
	events := boardTestOpenStream(t, client, "http://"+ln.Addr().String()+"/rooms/A/offer.json")
	boardTestNext(t, events)
	for start := time.Now(); time.Since(start) < 4*srv.ReadTimeout; {
		if ev := boardTestNext(t, events); ev.name != "keep-alive" {
			t.Fatalf("event %v, want keep-alive", ev)
		}
	}
}

// FuzzBoardRequest sends one arbitrary request to a board holding a room
// and a value outside rooms/. Whatever it is, the answer is JSON (or 204,
// or an empty answer to a CORS preflight), errors are Firebase-style,
// except at the web client's paths, which answer what a file server does, the tree stays valid, and a request without
// the admin secret changes nothing but a room's offer and answer, which
// keep pypeer's shape. The seed corpus is in testdata/fuzz/FuzzBoardRequest.
func FuzzBoardRequest(f *testing.F) {
	const secret = "fuzz-secret"
	const seed = `{"rooms":{"ABC123":{"offer":{"payload":"o","timestamp":1}}},"n":1}`
	f.Fuzz(func(t *testing.T, method, target, body string) {
		req, err := http.NewRequest(method, "http://board"+target, strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		b := newBoard(boardOptions{maxBody: 1 << 16, now: boardTestNow, secret: secret, writeRate: -1})
		defer b.Close()
		b.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("PUT", "/.json?auth="+secret, strings.NewReader(seed)))

		rec := httptest.NewRecorder()
		b.ServeHTTP(rec, req)
		got := rec.Body.Bytes()
		switch {
		case isWebClientPath(req):
			if !slices.Contains([]int{200, 301, 304, 400, 404, 405}, rec.Code) {
				t.Errorf("the web client answered %s %q with status %d", method, target, rec.Code)
			}
		case len(got) == 0 && req.Method == http.MethodOptions:
			if rec.Code != http.StatusOK {
				t.Errorf("a preflight answered status %d", rec.Code)
			}
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
		b.ServeHTTP(root, httptest.NewRequest("GET", "/.json?auth="+secret, nil))
		if root.Code != http.StatusOK || !json.Valid(root.Body.Bytes()) {
			t.Fatalf("root afterwards: status %d, body %q", root.Code, root.Body.Bytes())
		}
		if req.URL.Query().Get("auth") != secret {
			boardFuzzCheckAnonymous(t, b, boardTestDecode(t, root.Body.Bytes()))
		}
	})
}

// boardFuzzCheckAnonymous checks what an anonymous request may leave
// behind: n untouched, and rooms holding only well-formed offers and
// answers.
func boardFuzzCheckAnonymous(t *testing.T, b *board, root any) {
	t.Helper()
	if n := treeGet(root, []string{"n"}); n != json.Number("1") {
		t.Errorf("an anonymous request changed n to %v", n)
	}
	rooms, _ := treeGet(root, []string{"rooms"}).(map[string]any)
	for code, room := range rooms {
		m, ok := room.(map[string]any)
		if !ok {
			t.Errorf("room %q is %v, not an object", code, room)
			continue
		}
		for k, v := range m {
			if !slices.Contains(boardRoomSlots, k) || !validSlotValue(v, b.maxPayload) {
				t.Errorf("an anonymous request left rooms/%s/%s = %v", code, k, v)
			}
		}
	}
}
