package main

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"
)

// TestWebClientServed: every path not ending in .json is the web client's,
// served read-only with its policy; the REST API is untouched by it.
func TestWebClientServed(t *testing.T) {
	srv := httptest.NewServer(newBoard(boardOptions{}))
	defer srv.Close()
	tests := []struct {
		method, path string
		wantStatus   int
		wantType     string // a prefix of Content-Type
		wantBody     string // a substring
		wantPolicy   bool
	}{
		{"GET", "/", 200, "text/html", `<script type="module" src="app.js">`, true},
		{"GET", "/?ice=none", 200, "text/html", "<title>gopeer</title>", true},
		{"HEAD", "/", 200, "text/html", "", true},
		{"GET", "/app.js", 200, "text/javascript", "takeCodeFromFragment", true},
		{"GET", "/style.css", 200, "text/css", "", true},
		{"GET", "/favicon.svg", 200, "image/svg+xml", "<svg", true},
		{"GET", "/rooms", 404, "text/plain", "not found", true},
		{"GET", "/../board.go", 404, "text/plain", "not found", true},
		{"GET", "/%83", 404, "text/plain", "not found", false},
		{"PUT", "/rooms/ABC123/offer", 405, "text/plain", "read-only", false},
		{"POST", "/", 405, "text/plain", "read-only", false},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader("1"))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tt.wantStatus, body)
			}
			if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, tt.wantType) {
				t.Errorf("Content-Type %q, want %q", got, tt.wantType)
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body does not contain %q:\n%.300s", tt.wantBody, body)
			}
			if got := resp.Header.Get("Content-Security-Policy"); tt.wantPolicy && got != webContentSecurityPolicy {
				t.Errorf("Content-Security-Policy %q", got)
			}
			if tt.wantPolicy && resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no X-Content-Type-Options: nosniff")
			}
		})
	}
}

// TestWebClientPolicy: the policy keeps scripts, styles and connections to
// the page's own origin, and the page from being framed.
func TestWebClientPolicy(t *testing.T) {
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(webContentSecurityPolicy, want) {
			t.Errorf("the policy lacks %q", want)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*", "data:", "http:", "https:"} {
		if strings.Contains(webContentSecurityPolicy, bad) {
			t.Errorf("the policy allows %q", bad)
		}
	}
}

// TestWebClientFiles: the page and its scripts stay small, load nothing
// from another origin, run no inline script, and never store anything.
func TestWebClientFiles(t *testing.T) {
	const budget = 150_000 // bytes: "150 KB" read the strict way
	total := 0
	remote := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|@import|url\(\s*["']?https?:|import\s*\(?\s*["']https?:`)
	inline := regexp.MustCompile(`(?i)<script(?:[^>](?:[^s]|s[^r]|sr[^c]))*?>|\son[a-z]+\s*=`)
	stored := regexp.MustCompile(`localStorage|sessionStorage|document\.cookie|indexedDB|innerHTML|outerHTML|insertAdjacentHTML|eval\(|new Function`)
	err := fs.WalkDir(webFiles, "web", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := webFiles.ReadFile(path)
		if err != nil {
			return err
		}
		total += len(b)
		if m := remote.Find(b); m != nil {
			t.Errorf("%s loads from another origin: %q", path, m)
		}
		if strings.HasSuffix(path, ".html") {
			for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAll(b, -1) {
				if !strings.Contains(string(tag), "src=") {
					t.Errorf("%s has an inline script: %s", path, tag)
				}
			}
			if m := inline.Find(b); m != nil && !strings.Contains(string(m), "src=") {
				t.Errorf("%s has inline script or an event handler attribute: %q", path, m)
			}
		}
		if m := stored.Find(b); m != nil && !strings.HasPrefix(path, "web/vendor/") {
			t.Errorf("%s uses %q", path, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total > budget {
		t.Errorf("the web client is %d bytes, over its budget of %d", total, budget)
	}
	t.Logf("the web client is %d bytes", total)
}

// TestBoardCrossOrigin: the REST API answers any origin as Firebase does,
// preflights included; the rules stay the rules.
func TestBoardCrossOrigin(t *testing.T) {
	srv := httptest.NewServer(newBoard(boardOptions{}))
	defer srv.Close()
	do := func(method, path, body string, header map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Origin", "https://elsewhere.example")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if header["Accept"] == "" { // a stream never ends
			io.Copy(io.Discard, resp.Body)
		}
		resp.Body.Close()
		return resp
	}

	pre := do("OPTIONS", "/rooms/ABC123/offer.json", "", map[string]string{
		"Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "content-type, x-gopeer-claim"})
	want := map[string]string{
		"Access-Control-Allow-Origin":  "*",
		"Access-Control-Allow-Methods": "GET, PUT, POST, PATCH, DELETE, OPTIONS",
		"Access-Control-Allow-Headers": "content-type, x-gopeer-claim",
		"Access-Control-Max-Age":       "3600",
	}
	if pre.StatusCode != http.StatusOK {
		t.Errorf("preflight status %d", pre.StatusCode)
	}
	for k, v := range want {
		if got := pre.Header.Get(k); got != v {
			t.Errorf("preflight %s = %q, want %q", k, got, v)
		}
	}

	// A stream's answer is written by hand on a hijacked connection.
	stream := do("GET", "/rooms/ABC123.json", "", map[string]string{"Accept": "text/event-stream"})
	if got := stream.Header.Get("Access-Control-Allow-Origin"); got != "*" || stream.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" {
		t.Errorf("a stream's Access-Control-Allow-Origin %q (Content-Type %q)", got, stream.Header.Get("Content-Type"))
	}

	value := `{"payload":"gAAAA","timestamp":1}`
	for _, tc := range []struct {
		method, path, body string
		status             int
	}{
		{"PUT", "/rooms/ABC123/offer.json", value, 200},
		{"GET", "/rooms/ABC123.json", "", 200},
		{"PUT", "/elsewhere.json", `1`, 401}, // the anonymous rules are unchanged
		{"DELETE", "/rooms/ABC123.json", "", 200},
	} {
		resp := do(tc.method, tc.path, tc.body, nil)
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("%s %s: Access-Control-Allow-Origin %q", tc.method, tc.path, got)
		}
	}
}

// TestWebLink: a host learns that its board serves the web client from the
// token a gopeer board hands it (Firebase hands none), and links the page
// with the code in the fragment and its own ICE servers in the query.
func TestWebLink(t *testing.T) {
	board, err := newBoardClient("http://192.168.1.20:8765", clientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	servers := func(spec string) []webrtc.ICEServer {
		s, err := parseICEServers(spec, func(k string) string {
			return map[string]string{"GOPEER_TURN_USERNAME": "u", "GOPEER_TURN_PASSWORD": "p"}[k]
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	jc := joinCode{room: "K7P2M0", secret: "4F9Q"}
	code := "#K7P2M0-4F9Q-" + joinCheck("K7P2M0", "4F9Q")
	tests := []struct {
		name, token, ice, want string
	}{
		{"Firebase", "", strings.Join(defaultICE, ","), ""},
		{"the default servers", "a-token", strings.Join(defaultICE, ","), "http://192.168.1.20:8765/" + code},
		{"none", "a-token", "none", "http://192.168.1.20:8765/?ice=none" + code},
		{"a STUN server of one's own", "a-token", "stun:stun.example:3478", "http://192.168.1.20:8765/?ice=stun%3Astun.example%3A3478" + code},
		{"a TURN server's credentials stay off", "a-token", "turn:turn.example", "http://192.168.1.20:8765/?ice=none" + code},
	}
	for _, tt := range tests {
		f := &roomFlow{board: board, peer: peerConfig{iceServers: servers(tt.ice)}}
		if got := f.webLink(jc, &hosted{token: tt.token}); got != tt.want {
			t.Errorf("%s: link %q, want %q", tt.name, got, tt.want)
		}
	}
}
