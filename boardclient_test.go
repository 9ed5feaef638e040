package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// clientTestSecret is the auth value tests put in the base URL's query; no
// error message may contain it.
const clientTestSecret = "s3cret"

// testBoardOptions are a client's, with reconnect delays short enough for
// tests.
var testBoardOptions = clientOptions{reconnect: backoff{first: time.Millisecond, max: 4 * time.Millisecond}}

// newClientForTest returns a client for base with the test secret in the
// query and reconnect delays short enough for tests.
func newClientForTest(t *testing.T, base string) *boardClient {
	t.Helper()
	c, err := newBoardClient(base+"/?auth="+clientTestSecret, testBoardOptions)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.hc.CloseIdleConnections)
	return c
}

// testBoardNoSecret fails the test if err's text leaks the secret.
func testBoardNoSecret(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), clientTestSecret) {
		t.Errorf("error leaks the secret: %v", err)
	}
}

func TestNewBoardClient(t *testing.T) {
	tests := []struct {
		base      string
		wantStr   string // String(); "" means an error is expected
		wantQuery string
	}{
		{"https://liminalport-default-rtdb.firebaseio.com/", "https://liminalport-default-rtdb.firebaseio.com", ""},
		{"http://127.0.0.1:8765", "http://127.0.0.1:8765", ""},
		{" http://127.0.0.1:8765/// ", "http://127.0.0.1:8765", ""},
		{"HTTPS://example.com/db/?auth=hunter2", "https://example.com/db", "auth=hunter2"},
		{"http://localhost:9000/?ns=x&auth=a%2Fb", "http://localhost:9000", "ns=x&auth=a%2Fb"},
		{"", "", ""},
		{"example.com", "", ""},
		{"ftp://example.com", "", ""},
		{"http://", "", ""},
		{"http://:8765", "", ""},
		{"mailto:someone@example.com", "", ""},
		{"https://user:hunter2@example.com", "", ""},
		{"https://example.com/#top", "", ""},
		{"https://example.com/?auth=hunter2;x", "", ""},
		{"http://exa mple.com/?auth=hunter2", "", ""},
		{"https://example.com/#auth=hunter2", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.base, func(t *testing.T) {
			c, err := newBoardClient(tt.base, clientOptions{})
			if tt.wantStr == "" {
				if err == nil {
					t.Fatalf("newBoardClient(%q) = %v, want an error", tt.base, c)
				}
				if !strings.Contains(err.Error(), "https://") || strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error %q should show a valid URL and hide secrets", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.String(); got != tt.wantStr {
				t.Errorf("String() = %q, want %q", got, tt.wantStr)
			}
			if c.rawQuery != tt.wantQuery {
				t.Errorf("query = %q, want %q", c.rawQuery, tt.wantQuery)
			}
		})
	}
}

func TestNewBoardClientDefaultHTTPClient(t *testing.T) {
	c, err := newBoardClient("http://127.0.0.1:8765", clientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.hc.Timeout != 0 {
		t.Errorf("Timeout = %v, want none: it would cut streams", c.hc.Timeout)
	}
	tr, ok := c.hc.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("Transport is %T, want *http.Transport", c.hc.Transport)
	}
	if tr.TLSHandshakeTimeout <= 0 || tr.ResponseHeaderTimeout <= 0 || tr.DialContext == nil {
		t.Errorf("transport lacks connection timeouts: %+v", tr)
	}
}

func TestNewBoardClientKeepsCallerClient(t *testing.T) {
	hc := &http.Client{}
	if _, err := newBoardClient("http://127.0.0.1:8765", clientOptions{http: hc}); err != nil {
		t.Fatal(err)
	}
	if hc.CheckRedirect != nil {
		t.Error("newBoardClient modified the caller's http.Client")
	}
}

func TestBoardClientEndpoint(t *testing.T) {
	tests := []struct {
		base, path, want string // want "" means an error
	}{
		{"http://h:1", "rooms/ABC123/offer", "http://h:1/rooms/ABC123/offer.json"},
		{"http://h:1/?auth=S", "/rooms/ABC123/", "http://h:1/rooms/ABC123.json?auth=S"},
		{"https://h/db/", "rooms", "https://h/db/rooms.json"},
		{"http://h:1?auth=S", "", "http://h:1/.json?auth=S"},
		{"http://h:1", "rooms/a b?", "http://h:1/rooms/a%20b%3F.json"},
		{"http://h:1", "rooms/../x", ""},
		{"http://h:1", "rooms//x", "http://h:1/rooms/x.json"}, // as the board reads it
		{"http://h:1", "rooms/" + strings.Repeat("k", treeMaxKeyBytes+1), ""},
		{"http://h:1", "rooms/a.b", ""},
		{"http://h:1", "rooms/$x", ""},
		{"http://h:1", "rooms/a\nb", ""},
	}
	for _, tt := range tests {
		t.Run(tt.base+" "+tt.path, func(t *testing.T) {
			c, err := newBoardClient(tt.base, clientOptions{})
			if err != nil {
				t.Fatal(err)
			}
			u, err := c.endpoint(tt.path)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("endpoint(%q) = %v, want an error", tt.path, u)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := u.String(); got != tt.want {
				t.Errorf("endpoint(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

// clientSeenRequest is what a REST test server saw.
type clientSeenRequest struct {
	method, path, auth, contentType, body string
}

func TestBoardClientMethods(t *testing.T) {
	type offer struct {
		Payload   string `json:"payload"`
		Timestamp int64  `json:"timestamp"`
	}
	tests := []struct {
		name      string
		call      func(context.Context, *boardClient) (json.RawMessage, error)
		reply     string
		status    int
		want      clientSeenRequest
		wantValue string
	}{
		{
			name: "put",
			call: func(ctx context.Context, c *boardClient) (json.RawMessage, error) {
				return nil, c.put(ctx, "rooms/ABC123/offer", offer{"tok", 1700000000123})
			},
			reply: `{"payload":"tok","timestamp":1700000000123}`,
			want:  clientSeenRequest{"PUT", "/rooms/ABC123/offer.json", clientTestSecret, "application/json", `{"payload":"tok","timestamp":1700000000123}`},
		},
		{
			name: "patch",
			call: func(ctx context.Context, c *boardClient) (json.RawMessage, error) {
				return nil, c.patch(ctx, "rooms/ABC123/offer", map[string]any{"payload": nil, "x/y": 1})
			},
			reply: `{"payload":null,"x/y":1}`,
			want:  clientSeenRequest{"PATCH", "/rooms/ABC123/offer.json", clientTestSecret, "application/json", `{"payload":null,"x/y":1}`},
		},
		{
			name: "delete",
			call: func(ctx context.Context, c *boardClient) (json.RawMessage, error) {
				return nil, c.delete(ctx, "rooms/ABC123/offer")
			},
			reply: "null",
			want:  clientSeenRequest{"DELETE", "/rooms/ABC123/offer.json", clientTestSecret, "", ""},
		},
		{
			name: "get",
			call: func(ctx context.Context, c *boardClient) (json.RawMessage, error) {
				return c.get(ctx, "rooms/ABC123/offer")
			},
			reply:     `{"payload":"tok","timestamp":9007199254740993}` + "\n",
			want:      clientSeenRequest{"GET", "/rooms/ABC123/offer.json", clientTestSecret, "", ""},
			wantValue: `{"payload":"tok","timestamp":9007199254740993}`,
		},
		{
			name: "get absent",
			call: func(ctx context.Context, c *boardClient) (json.RawMessage, error) {
				return c.get(ctx, "rooms/ABC123/offer")
			},
			reply:     "null",
			want:      clientSeenRequest{"GET", "/rooms/ABC123/offer.json", clientTestSecret, "", ""},
			wantValue: "null",
		},
		{
			name: "get no content",
			call: func(ctx context.Context, c *boardClient) (json.RawMessage, error) {
				return c.get(ctx, "rooms/ABC123/offer")
			},
			status:    http.StatusNoContent,
			want:      clientSeenRequest{"GET", "/rooms/ABC123/offer.json", clientTestSecret, "", ""},
			wantValue: "null",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := make(chan clientSeenRequest, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				seen <- clientSeenRequest{r.Method, r.URL.Path, r.URL.Query().Get("auth"), r.Header.Get("Content-Type"), string(body)}
				if tt.status != 0 {
					w.WriteHeader(tt.status)
				}
				io.WriteString(w, tt.reply)
			}))
			defer srv.Close()
			c := newClientForTest(t, srv.URL)

			value, err := tt.call(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			if got := <-seen; got != tt.want {
				t.Errorf("request = %+v, want %+v", got, tt.want)
			}
			if string(value) != tt.wantValue {
				t.Errorf("value = %q, want %q", value, tt.wantValue)
			}
		})
	}
}

func TestBoardClientConcurrentUse(t *testing.T) {
	var puts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		puts.Add(1)
		io.WriteString(w, "null")
	}))
	defer srv.Close()
	c := newClientForTest(t, srv.URL)

	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() { errs <- c.put(context.Background(), fmt.Sprintf("rooms/R%d/offer", i), i) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if puts.Load() != n {
		t.Errorf("server saw %d requests, want %d", puts.Load(), n)
	}
}

func TestBoardClientPutFollowsRedirect(t *testing.T) {
	seen := make(chan clientSeenRequest, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/rooms/ABC123/offer.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/moved/rooms/ABC123/offer.json") // query dropped
		w.WriteHeader(http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/moved/rooms/ABC123/offer.json", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		seen <- clientSeenRequest{r.Method, r.URL.Path, r.URL.Query().Get("auth"), r.Header.Get("Content-Type"), string(body)}
		io.WriteString(w, string(body))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := newClientForTest(t, srv.URL)

	if err := c.put(context.Background(), "rooms/ABC123/offer", "x"); err != nil {
		t.Fatal(err)
	}
	want := clientSeenRequest{"PUT", "/moved/rooms/ABC123/offer.json", clientTestSecret, "application/json", `"x"`}
	if got := <-seen; got != want {
		t.Errorf("redirected request = %+v, want %+v", got, want)
	}
}

func TestBoardClientErrorStatus(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		body        string
		wantMessage string
		retryAfter  string
		wantWait    time.Duration
	}{
		{"permission denied", 401, `{"error": "Permission denied"}`, "Permission denied", "", 0},
		{"missing index", 400, `{"error": "Index not defined, add \".indexOn\": \"x\", for path \"/y\", to the rules"}`,
			`Index not defined, add ".indexOn": "x", for path "/y", to the rules`, "", 0},
		{"html page", 502, "<html><body>Bad gateway</body></html>", "Bad Gateway", "", 0},
		{"empty body", 503, "", "Service Unavailable", "", 0},
		{"json without error", 500, `{"status": "down"}`, "Internal Server Error", "", 0},
		{"unknown status", 599, "oops", "unexpected status", "", 0},
		{"terminal escapes", 403, `{"error": "no\u001b[2J\u202eway\nmore"}`, "no␛[2J<U+202E>way␤more", "", 0},
		{"huge body", 500, `{"error": "` + strings.Repeat("x", 2*clientMaxErrorBody) + `"}`, "Internal Server Error", "", 0},
		{"long message", 400, `{"error": "` + strings.Repeat("é", clientMaxMessage) + `"}`, strings.Repeat("é", clientMaxMessage/2) + "...", "", 0},
		{"full, retry later", 503, `{"error": "full"}`, "full", "7", 7 * time.Second},
		{"retry after an hour", 429, "", "Too Many Requests", "3600", retryAfterMax},
		{"retry at a date", 503, "", "Service Unavailable", "Wed, 21 Oct 2037 07:28:00 GMT", 0},
		{"retry garbled", 503, "", "Service Unavailable", "-5", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			c := newClientForTest(t, srv.URL)

			calls := map[string]func() error{
				"GET":    func() error { _, err := c.get(context.Background(), "rooms/ABC123/offer"); return err },
				"PUT":    func() error { return c.put(context.Background(), "rooms/ABC123/offer", 1) },
				"PATCH":  func() error { return c.patch(context.Background(), "rooms/ABC123/offer", map[string]int{"a": 1}) },
				"DELETE": func() error { return c.delete(context.Background(), "rooms/ABC123/offer") },
			}
			for method, call := range calls {
				err := call()
				var be *statusError
				if !errors.As(err, &be) {
					t.Fatalf("%s error = %v (%T), want *statusError", method, err, err)
				}
				want := statusError{Method: method, URL: srv.URL + "/rooms/ABC123/offer.json", Status: tt.status, Message: tt.wantMessage, RetryAfter: tt.wantWait}
				if *be != want {
					t.Errorf("%s error = %+v, want %+v", method, *be, want)
				}
				if isBoardUnreachable(err) {
					t.Errorf("isBoardUnreachable(%v) = true for an answer from the board", err)
				}
				testBoardNoSecret(t, err)
			}
		})
	}
}

func TestBoardErrorString(t *testing.T) {
	tests := []struct {
		err  statusError
		want string
	}{
		{statusError{Method: "PUT", URL: "http://127.0.0.1:8765/rooms/ABC123/offer.json", Status: 401, Message: "Permission denied"},
			"PUT http://127.0.0.1:8765/rooms/ABC123/offer.json: 401 Permission denied"},
		{statusError{Method: "GET", URL: "https://x.firebaseio.com/rooms.json", Status: 503},
			"GET https://x.firebaseio.com/rooms.json: 503 Service Unavailable"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestBoardClientGetBadBody(t *testing.T) {
	tests := []struct {
		name, body string
		wantErr    error
	}{
		{"invalid JSON", `{"payload":`, nil},
		{"too large", `"` + strings.Repeat("x", clientMaxResponse) + `"`, errBoardTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			c := newClientForTest(t, srv.URL)

			_, err := c.get(context.Background(), "rooms/ABC123/offer")
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("get = %v, want an error (%v)", err, tt.wantErr)
			}
			testBoardNoSecret(t, err)
		})
	}
}

func TestBoardClientTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release) // runs before srv.Close, freeing the handler
	c := newClientForTest(t, srv.URL)
	c.timeout = 20 * time.Millisecond

	err := c.put(context.Background(), "rooms/ABC123/offer", 1)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("put = %v, want a deadline error", err)
	}
	if !isBoardUnreachable(err) {
		t.Errorf("isBoardUnreachable(%v) = false for a timeout", err)
	}
	wantPrefix := `PUT "` + srv.URL + `/rooms/ABC123/offer.json": `
	if !strings.HasPrefix(err.Error(), wantPrefix) {
		t.Errorf("error = %q, want prefix %q", err, wantPrefix)
	}
	testBoardNoSecret(t, err)
}

func TestBoardClientContextCancelled(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := newClientForTest(t, srv.URL)

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	_, err := c.get(ctx, "rooms/ABC123/offer")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("get = %v, want context.Canceled", err)
	}
	if isBoardUnreachable(err) {
		t.Errorf("isBoardUnreachable(%v) = true for the caller's own cancellation", err)
	}
}

func TestBoardClientConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now

	c := newClientForTest(t, "http://"+addr)
	err = c.put(context.Background(), "rooms/ABC123/offer", 1)
	if !isBoardUnreachable(err) {
		t.Fatalf("isBoardUnreachable(%v) = false for a refused connection", err)
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Errorf("error %v does not wrap *net.OpError", err)
	}
	wantPrefix := `PUT "http://` + addr + `/rooms/ABC123/offer.json": `
	if !strings.HasPrefix(err.Error(), wantPrefix) {
		t.Errorf("error = %q, want prefix %q", err, wantPrefix)
	}
	testBoardNoSecret(t, err)
}

func TestBoardClientTLSFailure(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "null")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake failure is expected
	srv.StartTLS()
	defer srv.Close()
	c := newClientForTest(t, srv.URL) // default client: does not trust the test CA

	_, err := c.get(context.Background(), "rooms/ABC123/offer")
	if err == nil || !isBoardUnreachable(err) {
		t.Fatalf("get = %v, want an unreachable-board TLS error", err)
	}
	testBoardNoSecret(t, err)
}

func TestIsBoardUnreachable(t *testing.T) {
	wrap := func(err error) error { return &url.Error{Op: "GET", URL: "http://h/x.json", Err: err} }
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"board error", &statusError{Method: "GET", URL: "http://h/x.json", Status: 503, Message: "Service Unavailable"}, false},
		{"cancelled", wrap(context.Canceled), false},
		{"plain", errors.New("something"), false},
		{"deadline", wrap(context.DeadlineExceeded), true},
		{"refused", wrap(&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}), true},
		{"dns", wrap(&net.DNSError{Err: "no such host", Name: "nowhere.invalid", IsNotFound: true}), true},
		{"certificate", wrap(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), true},
		{"not TLS", wrap(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), true},
		{"alert", wrap(tls.AlertError(40)), true},
	}
	for _, tt := range tests {
		if got := isBoardUnreachable(tt.err); got != tt.want {
			t.Errorf("%s: isBoardUnreachable(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

// testStreamEventStrings renders events as "name|data" for comparison.
func testStreamEventStrings(evs []streamEvent) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Name+"|"+string(ev.Data))
	}
	return out
}

func TestReadStreamEvents(t *testing.T) {
	errStop := errors.New("stop")
	tests := []struct {
		name    string
		in      string
		maxLine int
		stopAt  int // fn returns errStop on this event (1-based); 0 never
		want    []string
		wantErr error
	}{
		{"empty", "", 0, 0, nil, io.EOF},
		{"normal",
			"event: put\ndata: {\"path\":\"/\",\"data\":null}\n\nevent: keep-alive\ndata: null\n\n", 0, 0,
			[]string{`put|{"path":"/","data":null}`, "keep-alive|null"}, io.EOF},
		{"crlf", "event: patch\r\ndata: {\"a\":1}\r\n\r\n", 0, 0, []string{`patch|{"a":1}`}, io.EOF},
		{"comments", ": hello\nevent: put\n: in between\ndata: 1\n\n:bye\n", 0, 0, []string{"put|1"}, io.EOF},
		{"multiple data lines", "event: put\ndata: {\"a\":\ndata: 1}\n\n", 0, 0, []string{"put|{\"a\":\n1}"}, io.EOF},
		{"no space after colon", "event:put\ndata:null\n\n", 0, 0, []string{"put|null"}, io.EOF},
		{"value keeps extra spaces", "event: put\ndata:  1 \n\n", 0, 0, []string{"put| 1 "}, io.EOF},
		{"no event name", "data: 1\n\n", 0, 0, []string{"message|1"}, io.EOF},
		{"empty data line", "event: x\ndata\n\n", 0, 0, []string{"x|"}, io.EOF},
		{"no data, no event", "event: put\n\n\n\ndata: 2\n\n", 0, 0, []string{"message|2"}, io.EOF},
		{"missing blank line at EOF", "event: put\ndata: 1\n\nevent: put\ndata: 2\n", 0, 0, []string{"put|1"}, io.EOF},
		{"unterminated last line", "event: put\ndata: 1\n\nevent: put\ndata: 2", 0, 0, []string{"put|1"}, io.EOF},
		{"garbage lines", "garbage\nid: 7\nretry: 10\nbogus: x\n{\"data\": 1}\nevent: put\ndata: 3\n\n", 0, 0, []string{"put|3"}, io.EOF},
		{"name resets between events", "event: put\ndata: 1\n\ndata: 2\n\n", 0, 0, []string{"put|1", "message|2"}, io.EOF},
		{"line at the limit", "data: 1234\n\n", 10, 0, []string{"message|1234"}, io.EOF},
		{"line at the limit with crlf", "data: 1234\r\n\r\n", 10, 0, []string{"message|1234"}, io.EOF},
		{"over-long line", "data: 1\n\ndata: 12345\n\n", 10, 0, []string{"message|1"}, errStreamLineTooLong},
		{"over-long line without newline", "data: " + strings.Repeat("x", 100), 10, 0, nil, errStreamLineTooLong},
		{"over-long event", "data: 12345\ndata: 12345\n\n", 10, 0, nil, errStreamLineTooLong},
		{"fn error", "data: 1\n\ndata: 2\n\ndata: 3\n\n", 0, 2, []string{"message|1", "message|2"}, errStop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []streamEvent
			err := readStreamEvents(strings.NewReader(tt.in), tt.maxLine, func(ev streamEvent) error {
				got = append(got, ev)
				if len(got) == tt.stopAt {
					return errStop
				}
				return nil
			})
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("error = %v, want %v", err, tt.wantErr)
			}
			if g, w := fmt.Sprint(testStreamEventStrings(got)), fmt.Sprint(tt.want); g != w {
				t.Errorf("events = %q, want %q", g, w)
			}
		})
	}
}

// testStreamEndlessReader is a stream of one infinitely long line, counting what
// has been read from it.
type testStreamEndlessReader struct{ n int }

func (r *testStreamEndlessReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	r.n += len(p)
	return len(p), nil
}

func TestReadStreamEventsBoundedMemory(t *testing.T) {
	const maxLine = 1000
	r := &testStreamEndlessReader{}
	err := readStreamEvents(r, maxLine, func(streamEvent) error { return nil })
	if !errors.Is(err, errStreamLineTooLong) {
		t.Fatalf("error = %v, want errStreamLineTooLong", err)
	}
	if r.n > maxLine+64 {
		t.Errorf("read %d bytes of an endless line, want at most about %d", r.n, maxLine)
	}
}

func FuzzReadStreamEvents(f *testing.F) {
	seeds := []string{
		"event: put\ndata: {\"path\":\"/\",\"data\":null}\n\n",
		"event: keep-alive\r\ndata: null\r\n\r\n",
		": comment\n\ndata: a\ndata: b\n\nevent: cancel\ndata: null\n\n",
		"event: patch\ndata: {\"path\":\"/\",\"data\":{\"a/b\":1}}",
		"data: " + strings.Repeat("x", 100) + "\n\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s), uint16(64))
	}
	f.Fuzz(func(t *testing.T, stream []byte, limit uint16) {
		maxLine := int(limit%1024) + 1
		err := readStreamEvents(bytes.NewReader(stream), maxLine, func(ev streamEvent) error {
			if len(ev.Data) > maxLine || (len(ev.Name) > maxLine && ev.Name != "message") {
				t.Fatalf("event %q|%q exceeds maxLine %d", ev.Name, ev.Data, maxLine)
			}
			return nil
		})
		if err != io.EOF && !errors.Is(err, errStreamLineTooLong) {
			t.Fatalf("error = %v, want io.EOF or errStreamLineTooLong", err)
		}
		if err == io.EOF {
			lines := bytes.Split(stream, []byte{'\n'})
			for _, line := range lines[:len(lines)-1] { // the last one is unterminated
				if n := len(bytes.TrimSuffix(line, []byte{'\r'})); n > maxLine {
					t.Fatalf("accepted a %d-byte line with maxLine %d", n, maxLine)
				}
			}
		}
	})
}

// testBoardTree decodes and normalizes JSON for the tree tests.
func testBoardTree(t *testing.T, s string) any {
	t.Helper()
	v, err := treeDecode([]byte(s))
	if err == nil {
		v, err = treeNormalize(v, 0, nil)
	}
	if err != nil {
		t.Fatalf("decoding %s: %v", s, err)
	}
	return v
}

// testBoardTreeJSON encodes a tree for the tree tests.
func testBoardTreeJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := treeEncode(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestClientApplyPatch: a patch event sets each child it names, keys being
// paths below the event's path, nulls deleting and parents left empty
// vanishing.
func TestClientApplyPatch(t *testing.T) {
	tests := []struct {
		name, start, path, children, want string
	}{
		{"multi-segment keys", `{"rooms":{"A":{"offer":1}}}`, "/rooms", `{"A/answer":2,"B/offer":3}`,
			`{"rooms":{"A":{"answer":2,"offer":1},"B":{"offer":3}}}`},
		{"nulls delete and collapse", `{"rooms":{"A":{"offer":1},"B":{"offer":2}}}`, "/", `{"rooms/A/offer":null}`,
			`{"rooms":{"B":{"offer":2}}}`},
		{"children are replaced whole", `{"a":{"x":1},"b":2}`, "/", `{"a":{"y":2}}`, `{"a":{"y":2},"b":2}`},
		{"patch below a missing node", "null", "/rooms/A", `{"offer":1,"answer":null}`, `{"rooms":{"A":{"offer":1}}}`},
		{"all nulls", `{"a":1,"b":{"c":2}}`, "/", `{"a":null,"b/c":null}`, "null"},
		{"empty patch", `{"a":1}`, "/", `{}`, `{"a":1}`},
		{"array children become objects", "null", "/", `{"l":["x",null,"z"]}`, `{"l":{"0":"x","2":"z"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := fmt.Sprintf(`{"path":%q,"data":%s}`, tt.path, tt.children)
			got, touched, err := clientApplyEvent(testBoardTree(t, tt.start), streamEvent{"patch", json.RawMessage(data)})
			if err != nil || !touched {
				t.Fatalf("patch(%s, %s) = %v, %v", tt.start, data, touched, err)
			}
			if g := testBoardTreeJSON(t, got); g != tt.want {
				t.Errorf("patch(%s, %q, %s) = %s, want %s", tt.start, tt.path, tt.children, g, tt.want)
			}
		})
	}
}

func TestClientApplyEvent(t *testing.T) {
	tests := []struct {
		name, event, data string
		wantTree          string
		wantTouched       bool
		wantErr           error // errTestAny for "some error"
	}{
		{"put", "put", `{"path":"/a","data":1}`, `{"a":1,"b":2}`, true, nil},
		{"patch", "patch", `{"path":"/","data":{"b":null}}`, "null", true, nil},
		{"patch null data", "patch", `{"path":"/","data":null}`, `{"b":2}`, true, nil},
		{"keep-alive", "keep-alive", "null", `{"b":2}`, false, nil},
		{"unknown", "rules_debug", `"x"`, `{"b":2}`, false, nil},
		{"cancel", "cancel", "null", `{"b":2}`, false, errStreamCancelled},
		{"cancel with reason", "cancel", `"Permission denied"`, `{"b":2}`, false, errStreamCancelled},
		{"auth_revoked", "auth_revoked", `"credential is no longer valid"`, `{"b":2}`, false, errStreamAuthRevoked},
		{"bad JSON", "put", `{"path":`, `{"b":2}`, false, errTestAny},
		{"missing path", "put", `{"data":1}`, `{"b":2}`, false, errTestAny},
		{"patch not an object", "patch", `{"path":"/","data":1}`, `{"b":2}`, false, errTestAny},
		{"a key the data model refuses", "put", `{"path":"/a","data":{"x.y":1}}`, `{"b":2}`, false, errTreeKeyChar},
		{"a path the data model refuses", "put", `{"path":"/a$","data":1}`, `{"b":2}`, false, errTreeKeyChar},
		{"a patch key the data model refuses", "patch", `{"path":"/","data":{"a/[":1}}`, `{"b":2}`, false, errTreeKeyChar},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree, touched, err := clientApplyEvent(testBoardTree(t, `{"b":2}`), streamEvent{tt.event, json.RawMessage(tt.data)})
			switch {
			case tt.wantErr == errTestAny && err == nil, tt.wantErr != errTestAny && !errors.Is(err, tt.wantErr):
				t.Errorf("error = %v, want %v", err, tt.wantErr)
			}
			if g := testBoardTreeJSON(t, tree); g != tt.wantTree || touched != tt.wantTouched {
				t.Errorf("tree, touched = %s, %v; want %s, %v", g, touched, tt.wantTree, tt.wantTouched)
			}
		})
	}
}

// errTestAny stands for "any non-nil error" in tables.
var errTestAny = errors.New("any error")

// testStreamBoard is an httptest server whose stream responses the test
// scripts step by step: each request is handed to the test as a
// testStreamConn, and the handler writes only what the test sends it.
type testStreamBoard struct {
	srv   *httptest.Server
	conns chan *testStreamConn
	done  chan struct{}
}

// testStreamConn is one stream request as the server saw it.
type testStreamConn struct {
	url    *url.URL
	header http.Header
	steps  chan testStreamStep
}

// testStreamStep is one instruction to a stream handler.
type testStreamStep struct {
	status int    // non-zero: answer with this status and text as the body, then end
	text   string // written to the stream and flushed
	end    bool   // end the response after text
}

// newTestStreamBoard starts the server; wrap, if not nil, sits in front of
// the scripted handler (for redirects and auth checks).
func newTestStreamBoard(t *testing.T, wrap func(http.Handler) http.Handler) *testStreamBoard {
	b := &testStreamBoard{conns: make(chan *testStreamConn), done: make(chan struct{})}
	var h http.Handler = http.HandlerFunc(b.serve)
	if wrap != nil {
		h = wrap(h)
	}
	b.srv = httptest.NewServer(h)
	t.Cleanup(b.srv.Close)
	t.Cleanup(func() { close(b.done) }) // runs first, freeing handlers
	return b
}

func (b *testStreamBoard) serve(w http.ResponseWriter, r *http.Request) {
	c := &testStreamConn{url: r.URL, header: r.Header.Clone(), steps: make(chan testStreamStep)}
	select {
	case b.conns <- c:
	case <-r.Context().Done():
		return
	case <-b.done:
		return
	}
	started := false
	for {
		select {
		case <-r.Context().Done():
			return
		case <-b.done:
			return
		case s := <-c.steps:
			if s.status != 0 {
				w.WriteHeader(s.status)
				io.WriteString(w, s.text)
				return
			}
			if !started {
				w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
				w.Header().Set("Cache-Control", "no-cache")
				started = true
			}
			io.WriteString(w, s.text)
			w.(http.Flusher).Flush()
			if s.end {
				return
			}
		}
	}
}

// accept returns the next stream request.
func (b *testStreamBoard) accept(t *testing.T) *testStreamConn {
	t.Helper()
	select {
	case c := <-b.conns:
		return c
	case <-time.After(boardTestWait):
		t.Fatal("no stream request arrived")
		return nil
	}
}

func (c *testStreamConn) step(t *testing.T, s testStreamStep) {
	t.Helper()
	select {
	case c.steps <- s:
	case <-time.After(boardTestWait):
		t.Fatal("stream handler is gone")
	}
}

func (c *testStreamConn) send(t *testing.T, text string) {
	t.Helper()
	c.step(t, testStreamStep{text: text})
}

func (c *testStreamConn) end(t *testing.T) {
	t.Helper()
	c.step(t, testStreamStep{end: true})
}

// testStreamPut and testStreamPatch format Firebase stream events.
func testStreamPut(path, data string) string {
	return fmt.Sprintf("event: put\ndata: {\"path\":%q,\"data\":%s}\n\n", path, data)
}

func testStreamPatch(path, data string) string {
	return fmt.Sprintf("event: patch\ndata: {\"path\":%q,\"data\":%s}\n\n", path, data)
}

const testStreamKeepAlive = "event: keep-alive\ndata: null\n\n"

// testBoardWatch runs watch in a goroutine and exposes what it reports as
// channels. Callbacks block until the test reads them, so the test decides
// the pace.
type testBoardWatch struct {
	values     chan string
	reconnects chan error
	result     chan error
	cancel     context.CancelFunc
}

func startTestBoardWatch(t *testing.T, c *boardClient, path string, idle time.Duration, onValue func(json.RawMessage) error) *testBoardWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &testBoardWatch{
		values:     make(chan string),
		reconnects: make(chan error),
		result:     make(chan error, 1),
		cancel:     cancel,
	}
	if onValue == nil {
		onValue = func(v json.RawMessage) error {
			select {
			case w.values <- string(v):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	opts := watchOptions{idle: idle, onReconnect: func(err error) {
		select {
		case w.reconnects <- err:
		case <-ctx.Done():
		}
	}}
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		w.result <- c.watch(ctx, path, opts, onValue)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-exited:
		case <-time.After(boardTestWait):
			t.Error("watch did not return after cancel")
		}
	})
	return w
}

func (w *testBoardWatch) next(t *testing.T) string {
	t.Helper()
	select {
	case v := <-w.values:
		return v
	case err := <-w.reconnects:
		t.Fatalf("reconnect (%v) while waiting for a value", err)
	case err := <-w.result:
		t.Fatalf("watch returned %v while waiting for a value", err)
	case <-time.After(boardTestWait):
		t.Fatal("no value delivered")
	}
	return ""
}

func (w *testBoardWatch) reconnect(t *testing.T) error {
	t.Helper()
	select {
	case err := <-w.reconnects:
		return err
	case v := <-w.values:
		t.Fatalf("value %s while waiting for a reconnect", v)
	case err := <-w.result:
		t.Fatalf("watch returned %v while waiting for a reconnect", err)
	case <-time.After(boardTestWait):
		t.Fatal("no reconnect")
	}
	return nil
}

func (w *testBoardWatch) finish(t *testing.T) error {
	t.Helper()
	select {
	case err := <-w.result:
		return err
	case v := <-w.values:
		t.Fatalf("value %s while waiting for watch to return", v)
	case err := <-w.reconnects:
		t.Fatalf("reconnect (%v) while waiting for watch to return", err)
	case <-time.After(boardTestWait):
		t.Fatal("watch did not return")
	}
	return nil
}

func TestBoardWatchDelivers(t *testing.T) {
	b := newTestStreamBoard(t, nil)
	c := newClientForTest(t, b.srv.URL)
	w := startTestBoardWatch(t, c, "rooms/ABC123", 0, nil)

	conn := b.accept(t)
	if conn.url.Path != "/rooms/ABC123.json" || conn.url.Query().Get("auth") != clientTestSecret {
		t.Errorf("stream URL = %v, want /rooms/ABC123.json with the auth query", conn.url)
	}
	if got := conn.header.Get("Accept"); got != "text/event-stream" {
		t.Errorf("Accept = %q, want text/event-stream", got)
	}
	steps := []struct {
		name, send, want string
	}{
		{"initial null", testStreamPut("/", "null"), "null"},
		{"put at /offer", testStreamPut("/offer", `{"payload":"tok","timestamp":9007199254740993}`),
			`{"offer":{"payload":"tok","timestamp":9007199254740993}}`},
		{"patch, after a duplicate and a keep-alive",
			testStreamPut("/offer/payload", `"tok"`) + testStreamKeepAlive + ": comment\n\n" +
				testStreamPatch("/", `{"answer/payload":"ans","offer/timestamp":null}`),
			`{"answer":{"payload":"ans"},"offer":{"payload":"tok"}}`},
		{"put null", testStreamPut("/answer", "null"), `{"offer":{"payload":"tok"}}`},
		{"root put", testStreamPut("/", `{"offer":{"payload":"new"}}`), `{"offer":{"payload":"new"}}`},
	}
	for _, s := range steps {
		conn.send(t, s.send)
		if got := w.next(t); got != s.want {
			t.Errorf("%s: value = %s, want %s", s.name, got, s.want)
		}
	}
	w.cancel()
	if err := w.finish(t); !errors.Is(err, context.Canceled) {
		t.Errorf("watch = %v, want context.Canceled", err)
	}
}

func TestBoardWatchReconnects(t *testing.T) {
	tests := []struct {
		name    string
		breakIt func(*testing.T, *testStreamConn)
		wantErr error // errTestAny for "some error"
	}{
		{"server closes the stream", func(t *testing.T, c *testStreamConn) { c.end(t) }, errStreamEnded},
		{"cancel", func(t *testing.T, c *testStreamConn) { c.send(t, "event: cancel\ndata: null\n\n") }, errStreamCancelled},
		{"auth_revoked", func(t *testing.T, c *testStreamConn) {
			c.send(t, "event: auth_revoked\ndata: \"credential is no longer valid\"\n\n")
		}, errStreamAuthRevoked},
		{"over-long line", func(t *testing.T, c *testStreamConn) {
			c.send(t, "data: "+strings.Repeat("x", streamMaxLine)+"\n\n")
		}, errStreamLineTooLong},
		{"malformed put", func(t *testing.T, c *testStreamConn) { c.send(t, "event: put\ndata: {\"path\":\n\n") }, errTestAny},
		{"cut mid-event", func(t *testing.T, c *testStreamConn) {
			c.step(t, testStreamStep{text: "event: put\ndata: {\"path\":\"/\",\"da", end: true})
		}, errStreamEnded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newTestStreamBoard(t, nil)
			c := newClientForTest(t, b.srv.URL)
			w := startTestBoardWatch(t, c, "rooms/ABC123/offer", 0, nil)

			first := b.accept(t)
			first.send(t, testStreamPut("/", `{"payload":"a"}`))
			if got := w.next(t); got != `{"payload":"a"}` {
				t.Fatalf("first value = %s", got)
			}
			tt.breakIt(t, first)
			err := w.reconnect(t)
			if tt.wantErr == errTestAny && err == nil || tt.wantErr != errTestAny && !errors.Is(err, tt.wantErr) {
				t.Errorf("reconnect error = %v, want %v", err, tt.wantErr)
			}

			// The new stream re-syncs: the unchanged snapshot is not
			// delivered again, the next change is.
			second := b.accept(t)
			second.send(t, testStreamPut("/", `{"payload":"a"}`)+testStreamPut("/payload", `"b"`))
			if got := w.next(t); got != `{"payload":"b"}` {
				t.Errorf("value after reconnect = %s, want {\"payload\":\"b\"}", got)
			}
		})
	}
}

func TestBoardWatchResyncDeliversDeletion(t *testing.T) {
	b := newTestStreamBoard(t, nil)
	c := newClientForTest(t, b.srv.URL)
	w := startTestBoardWatch(t, c, "rooms/ABC123", 0, nil)

	first := b.accept(t)
	first.send(t, testStreamPut("/", `{"offer":{"payload":"a"}}`))
	w.next(t)
	first.end(t)
	w.reconnect(t)
	b.accept(t).send(t, testStreamPut("/", "null")) // deleted while we were away
	if got := w.next(t); got != "null" {
		t.Errorf("value after re-sync = %s, want null", got)
	}
}

func TestBoardWatchRetriesServerErrors(t *testing.T) {
	for _, status := range []int{500, 503, 408, 429} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			b := newTestStreamBoard(t, nil)
			c := newClientForTest(t, b.srv.URL)
			w := startTestBoardWatch(t, c, "rooms/ABC123/offer", 0, nil)

			b.accept(t).step(t, testStreamStep{status: status, text: `{"error": "try later"}`})
			var be *statusError
			if err := w.reconnect(t); !errors.As(err, &be) || be.Status != status {
				t.Errorf("reconnect error = %v, want a %d *statusError", err, status)
			}
			b.accept(t).send(t, testStreamPut("/", "null"))
			if got := w.next(t); got != "null" {
				t.Errorf("value = %s, want null", got)
			}
		})
	}
}

func TestBoardWatchIdle(t *testing.T) {
	// The server sends the snapshot by itself, then stays silent until the
	// client gives up on it.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, testStreamPut("/", "null"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close) // after the watch is stopped
	c := newClientForTest(t, srv.URL)
	w := startTestBoardWatch(t, c, "rooms/ABC123/offer", 20*time.Millisecond, nil)

	// Silence is the only way this stream can end, so the first reconnect
	// must be for it; the value may or may not have been seen first.
	for {
		select {
		case <-w.values:
			continue
		case err := <-w.reconnects:
			if !errors.Is(err, errStreamIdle) {
				t.Errorf("reconnect error = %v, want errStreamIdle", err)
			}
		case <-time.After(boardTestWait):
			t.Fatal("the silent stream was never abandoned")
		}
		return
	}
}

func TestBoardWatchPermanentFailure(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		wantStatus  int   // for a *statusError
		wantErr     error // otherwise
	}{
		{"unauthorized", 401, "application/json", `{"error": "Permission denied"}`, 401, nil},
		{"forbidden", 403, "application/json", `{"error": "Forbidden"}`, 403, nil},
		{"not found", 404, "application/json", `{"error": "Firebase error. Please ensure that you spelled the name of your Firebase correctly"}`, 404, nil},
		{"bad request", 400, "application/json", `{"error": "Invalid path"}`, 400, nil},
		{"not a stream", 200, "application/json", `{"payload":"a"}`, 0, errBoardNotStream},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requests atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				w.Header().Set("Content-Type", tt.contentType)
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			t.Cleanup(srv.Close)
			c := newClientForTest(t, srv.URL)
			w := startTestBoardWatch(t, c, "rooms/ABC123/offer", 0, nil)

			err := w.finish(t)
			var be *statusError
			switch {
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("watch = %v, want %v", err, tt.wantErr)
			case tt.wantErr == nil && (!errors.As(err, &be) || be.Status != tt.wantStatus):
				t.Errorf("watch = %v, want a %d *statusError", err, tt.wantStatus)
			}
			if n := requests.Load(); n != 1 {
				t.Errorf("%d requests, want 1 (no retry)", n)
			}
			testBoardNoSecret(t, err)
		})
	}
}

func TestBoardWatchCallbackEnds(t *testing.T) {
	errMine := errors.New("mine")
	tests := []struct {
		name    string
		ret     error
		wantErr error
	}{
		{"errStopWatch", errStopWatch, nil},
		{"wrapped errStopWatch", fmt.Errorf("got the answer: %w", errStopWatch), nil},
		{"own error", errMine, errMine},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newTestStreamBoard(t, nil)
			c := newClientForTest(t, b.srv.URL)
			w := startTestBoardWatch(t, c, "rooms/ABC123/answer", 0, func(v json.RawMessage) error {
				if string(v) == "null" {
					return nil
				}
				return tt.ret
			})
			conn := b.accept(t)
			conn.send(t, testStreamPut("/", "null")+testStreamPut("/", `{"payload":"a"}`))
			if err := w.finish(t); err != tt.wantErr {
				t.Errorf("watch = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestBoardWatchContextCancel(t *testing.T) {
	t.Run("while streaming", func(t *testing.T) {
		b := newTestStreamBoard(t, nil)
		c := newClientForTest(t, b.srv.URL)
		w := startTestBoardWatch(t, c, "rooms/ABC123/offer", 0, nil)
		b.accept(t).send(t, testStreamPut("/", "null"))
		w.next(t)
		w.cancel()
		if err := w.finish(t); !errors.Is(err, context.Canceled) {
			t.Errorf("watch = %v, want context.Canceled", err)
		}
	})
	t.Run("while connecting", func(t *testing.T) {
		b := newTestStreamBoard(t, nil)
		c := newClientForTest(t, b.srv.URL)
		w := startTestBoardWatch(t, c, "rooms/ABC123/offer", 0, nil)
		b.accept(t) // the handler never answers
		w.cancel()
		if err := w.finish(t); !errors.Is(err, context.Canceled) {
			t.Errorf("watch = %v, want context.Canceled", err)
		}
	})
	t.Run("while backing off", func(t *testing.T) {
		b := newTestStreamBoard(t, nil)
		c := newClientForTest(t, b.srv.URL)
		c.reconnect = backoff{first: time.Hour, max: time.Hour}
		w := startTestBoardWatch(t, c, "rooms/ABC123/offer", 0, nil)
		b.accept(t).step(t, testStreamStep{status: 503})
		w.reconnect(t) // watch now sleeps for about an hour
		w.cancel()
		if err := w.finish(t); !errors.Is(err, context.Canceled) {
			t.Errorf("watch = %v, want context.Canceled", err)
		}
	})
}

func TestBoardWatchRedirect(t *testing.T) {
	requireAuth := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("auth") != clientTestSecret {
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, `{"error": "Permission denied"}`)
				return
			}
			if r.URL.Path == "/rooms/ABC123/offer.json" {
				// Like Firebase, to another place; unlike it, without the query.
				w.Header().Set("Location", "/moved/rooms/ABC123/offer.json?ns=x")
				w.WriteHeader(http.StatusTemporaryRedirect)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	b := newTestStreamBoard(t, requireAuth)
	c := newClientForTest(t, b.srv.URL)
	w := startTestBoardWatch(t, c, "rooms/ABC123/offer", 0, nil)

	conn := b.accept(t)
	if conn.url.Path != "/moved/rooms/ABC123/offer.json" || conn.url.Query().Get("ns") != "x" {
		t.Errorf("stream URL = %v, want the redirect target with its own query", conn.url)
	}
	if conn.header.Get("Accept") != "text/event-stream" {
		t.Errorf("Accept lost on redirect: %q", conn.header.Get("Accept"))
	}
	conn.send(t, testStreamPut("/", `{"payload":"a"}`))
	if got := w.next(t); got != `{"payload":"a"}` {
		t.Errorf("value = %s", got)
	}
}

func TestBoardWatchRedirectLoop(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.Redirect(w, r, r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	c := newClientForTest(t, srv.URL)
	w := startTestBoardWatch(t, c, "rooms/ABC123/offer", 0, nil)

	if err := w.finish(t); !errors.Is(err, errBoardRedirect) {
		t.Errorf("watch = %v, want errBoardRedirect", err)
	}
	if n := requests.Load(); n != clientMaxRedirects+1 {
		t.Errorf("%d requests, want %d", n, clientMaxRedirects+1)
	}
}

// TestBoardWatchRefusesHostileEvents: a hostile board's patch of 40,000
// keys and a put at a path of 520,000 segments are refused as garbled (the
// watch reconnects) without applying them, and the next stream is
// followed as usual. (They once cost minutes of CPU and 512 MiB of stack.)
func TestBoardWatchRefusesHostileEvents(t *testing.T) {
	b := newTestStreamBoard(t, nil)
	c := newClientForTest(t, b.srv.URL)
	w := startTestBoardWatch(t, c, "rooms/ABC123", 0, nil)

	var wide strings.Builder
	wide.WriteString("{")
	for i := range 40000 {
		if i > 0 {
			wide.WriteString(",")
		}
		fmt.Fprintf(&wide, `"k%d":%d`, i, i)
	}
	wide.WriteString("}")
	deep := strings.Repeat("/a", 520000)
	for i, hostile := range []string{testStreamPatch("/", wide.String()), testStreamPut(deep, "1")} {
		conn := b.accept(t)
		want := fmt.Sprintf(`{"offer":%d}`, i) // a new value, so it is delivered
		conn.send(t, testStreamPut("/", want))
		if got := w.next(t); got != want {
			t.Fatalf("value %s, want %s", got, want)
		}
		conn.send(t, hostile)
		if err := w.reconnect(t); !errors.Is(err, errStreamGarbled) {
			t.Errorf("reconnect after a hostile event: %v, want errStreamGarbled", err)
		}
	}
	conn := b.accept(t)
	conn.send(t, testStreamPut("/", `{"offer":9}`))
	if got := w.next(t); got != `{"offer":9}` {
		t.Errorf("after the hostile events, value %s", got)
	}
}

// TestCredentialMayFollow: a client carrying a credential follows a
// redirect only within its origin, or over https to a sibling host (as
// Firebase redirects streams); never to plain http elsewhere, nor away.
func TestCredentialMayFollow(t *testing.T) {
	tests := []struct {
		base, target string
		want         bool
	}{
		{"https://p.firebaseio.com", "https://p.firebaseio.com/x.json", true},
		{"https://p.firebaseio.com", "https://s-usc1c-nss-2.firebaseio.com/x.json", true},
		{"https://p.firebaseio.com", "https://s.firebaseio.com:8443/x.json", false},
		{"https://p.firebaseio.com", "http://s.firebaseio.com/x.json", false},
		{"https://p.firebaseio.com", "https://evil.example/x.json", false},
		{"https://p.firebaseio.com", "https://firebaseio.com.evil.example/x.json", false},
		{"https://localhost:8443", "https://other:8443/x.json", false},
		{"http://127.0.0.1:8765", "http://127.0.0.1:8765/moved.json", true},
		{"http://127.0.0.1:8765", "http://127.0.0.2:8765/x.json", false},
		{"http://127.0.0.1:8765", "http://127.0.0.1:9999/x.json", false},
		{"http://127.0.0.1:8765", "https://127.0.0.1:8765/x.json", false},
	}
	for _, tt := range tests {
		base, _ := url.Parse(tt.base)
		target, _ := url.Parse(tt.target)
		if got := credentialMayFollow(base, target); got != tt.want {
			t.Errorf("credentialMayFollow(%s, %s) = %v, want %v", tt.base, tt.target, got, tt.want)
		}
	}
}
