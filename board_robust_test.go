package main

// Robustness: what a board on the open internet meets. Every case must end
// in a clear error or a clean close, never a crash, a leak or unbounded
// memory.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// boardTestStartServer starts serveBoard on loopback with opts and returns its
// base URL; cleanup shuts it down and checks it returned cleanly.
func boardTestStartServer(t *testing.T, opts boardOptions) (string, *board, context.CancelFunc, <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts.secret = boardTestSecret
	b := newBoard(opts)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serveBoard(ctx, ln, b, opts, nil) }()
	t.Cleanup(cancel)
	return "http://" + ln.Addr().String(), b, cancel, served
}

// boardTestGoroutinesBack waits for the goroutine count to come back to
// baseline: no handler, connection or stream goroutine outlives its client.
func boardTestGoroutinesBack(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(boardTestWait)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, baseline %d:\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBoardHostileBodies: bodies built to hurt get a 4xx, and the board
// goes on answering.
func TestBoardHostileBodies(t *testing.T) {
	base, _, _, _ := boardTestStartServer(t, boardOptions{writeRate: -1})
	client := boardTestClient(t)
	tests := []struct {
		name   string
		path   string
		body   string
		status int
	}{
		{"nested arrays past the decoder's depth", "/rooms/ABC123/answer.json", strings.Repeat("[", 20000), 400},
		{"nested objects past Firebase's depth", "/rooms/ABC123/answer.json", strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40), 400},
		{"a body over the cap", "/rooms/ABC123/answer.json", `{"payload":"` + strings.Repeat("x", 1<<20) + `","timestamp":1}`, 413},
		{"a key over 768 bytes", "/x.json?auth=" + boardTestSecret, `{"` + strings.Repeat("k", 769) + `":1}`, 400},
		{"a number out of range", "/x.json?auth=" + boardTestSecret, `1e400`, 400},
		{"a number of 60,000 digits, even from the admin", "/x.json?auth=" + boardTestSecret, "0." + strings.Repeat("7", 60000), 400},
		{"an offer stamped with 60,000 digits", "/rooms/ABC123/offer.json", `{"payload":"a","timestamp":1.` + strings.Repeat("5", 60000) + `}`, 400},
		{"a wrong type for the payload", "/rooms/ABC123/answer.json", `{"payload":{"sdp":"x"},"timestamp":1}`, 401},
		{"not JSON at all", "/rooms/ABC123/answer.json", "\x00\x01\x02", 400},
		{"two values", "/rooms/ABC123/answer.json", `{"payload":"a","timestamp":1} {}`, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := boardTestSend(t, client, base+tc.path, "", boardTestReq{method: "PUT", body: tc.body, anon: true})
			if status != tc.status {
				t.Errorf("status %d, want %d (body %.200s)", status, tc.status, body)
			}
			boardTestCheckError(t, body)
			if v := boardTestSendMust(t, client, base, boardTestReq{method: "GET", path: "/rooms/ABC123/answer.json", anon: true}); string(v) != "null" {
				t.Errorf("answer afterwards %s, want null", v)
			}
		})
	}
}

// TestBoardSlowClients: thousands of clients that send their headers or
// their body too slowly cost bounded memory while they last, do not keep
// others out, and are cut off by the timeouts.
func TestBoardSlowClients(t *testing.T) {
	const n = 2000
	baseline := runtime.NumGoroutine()
	base, _, cancel, served := boardTestStartServer(t, boardOptions{
		writeRate: -1, readRate: -1, maxStreamsPerAddr: -1, maxConnsPerAddr: -1,
		headerTimeout: 500 * time.Millisecond, readTimeout: time.Second,
	})
	addr := strings.TrimPrefix(base, "http://")
	before := boardTestMemory()
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		conns = append(conns, c)
		partial := "GET /rooms/ABC123/offer.json HTTP/1.1\r\nHost: board\r\nX-Slow: "
		if i%2 == 1 {
			partial = "PUT /rooms/ABC123/answer.json HTTP/1.1\r\nHost: board\r\nContent-Length: 1000\r\n\r\n{\"payload\":"
		}
		if _, err := io.WriteString(c, partial); err != nil {
			t.Fatal(err)
		}
	}
	// Others are still served while the slow ones hang on.
	client := boardTestClient(t)
	boardTestSendMust(t, client, base, boardTestReq{method: "GET", path: "/rooms/ABC123/offer.json", anon: true})
	if perClient := (boardTestMemory() - before) / n; perClient > 64<<10 {
		t.Errorf("%d bytes per slow client, want at most 64 KiB", perClient)
	}
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			_ = c.SetReadDeadline(time.Now().Add(boardTestWait))
			_, err := io.Copy(io.Discard, c)
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Errorf("a slow client was not cut off")
			}
		})
	}
	wg.Wait()
	cancel()
	if err := <-served; err != nil {
		t.Errorf("serveBoard: %v", err)
	}
	client.CloseIdleConnections()
	boardTestGoroutinesBack(t, baseline)
}

// boardTestMemory is the heap and stack in use, after a collection.
func boardTestMemory() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse + m.StackInuse)
}

// boardTestRawStream opens a stream over a bare connection and reads its
// headers and first event, so the test can then vanish without a word.
func boardTestRawStream(t *testing.T, addr, path string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: board\r\nAccept: text/event-stream\r\n\r\n", path)
	_ = c.SetReadDeadline(time.Now().Add(boardTestWait))
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("stream %s: %v, %v", path, err, resp)
	}
	if line, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil || line != "event: put\n" {
		t.Fatalf("stream %s: first line %q, %v", path, line, err)
	}
	return c
}

// TestBoardClientVanishes: clients that drop mid-stream, with events on
// the way to them, leave no stream and no goroutine behind.
func TestBoardClientVanishes(t *testing.T) {
	baseline := runtime.NumGoroutine()
	base, b, cancel, served := boardTestStartServer(t, boardOptions{keepAlive: time.Hour, writeRate: -1, readRate: -1, maxStreamsPerAddr: -1, maxConnsPerAddr: -1, maxRoomsPerAddr: -1})
	addr := strings.TrimPrefix(base, "http://")
	var conns []net.Conn
	for i := range 200 {
		conns = append(conns, boardTestRawStream(t, addr, fmt.Sprintf("/rooms/R%05d/offer.json", i%10)))
	}
	if n := boardTestStreamCount(b); n != 200 {
		t.Fatalf("%d streams open, want 200", n)
	}
	client := boardTestClient(t)
	for i := range 10 {
		boardTestSendMust(t, client, base, boardTestReq{method: "PUT", path: fmt.Sprintf("/rooms/R%05d/offer.json", i), body: `{"payload":"o","timestamp":1}`, anon: true})
	}
	for _, c := range conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // vanish: a reset, no goodbye
		}
		c.Close()
	}
	boardTestEventually(t, "the streams to be forgotten", func() bool { return boardTestStreamCount(b) == 0 })
	cancel()
	if err := <-served; err != nil {
		t.Errorf("serveBoard: %v", err)
	}
	client.CloseIdleConnections()
	boardTestGoroutinesBack(t, baseline)
}

// TestBoardGracefulShutdown: on shutdown every stream gets the events
// already queued for it, then a clean end of response (not a cut
// connection), and serveBoard returns nil.
func TestBoardGracefulShutdown(t *testing.T) {
	baseline := runtime.NumGoroutine()
	base, b, cancel, served := boardTestStartServer(t, boardOptions{keepAlive: time.Hour, writeRate: -1, readRate: -1, maxStreamsPerAddr: -1, maxConnsPerAddr: -1, maxRoomsPerAddr: -1})
	client := boardTestClient(t)
	const n = 50
	bodies := make([]io.ReadCloser, n)
	for i := range n {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/rooms/R%05d/offer.json", base, i), nil)
		req.Header.Set("Accept", "text/event-stream")
		resp, err := client.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("stream %d: %v %v", i, err, resp)
		}
		bodies[i] = resp.Body
	}
	boardTestEventually(t, "the streams to open", func() bool { return boardTestStreamCount(b) == n })
	for i := range n {
		boardTestSendMust(t, client, base, boardTestReq{method: "PUT", path: fmt.Sprintf("/rooms/R%05d/offer.json", i), body: fmt.Sprintf(`{"payload":"p%d","timestamp":1}`, i), anon: true})
	}
	cancel()
	for i, body := range bodies {
		got, err := io.ReadAll(body) // nil only at a clean end of the chunked response
		body.Close()
		if err != nil {
			t.Errorf("stream %d ended with %v, want a clean end", i, err)
		}
		want := fmt.Sprintf(`event: put`+"\n"+`data: {"path":"/","data":{"payload":"p%d","timestamp":1}}`, i)
		if !strings.Contains(string(got), want) {
			t.Errorf("stream %d did not get its event before the end:\n%s", i, got)
		}
	}
	if err := <-served; err != nil {
		t.Errorf("serveBoard: %v", err)
	}
	client.CloseIdleConnections()
	boardTestGoroutinesBack(t, baseline)
}
