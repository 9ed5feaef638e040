package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// serveTestRun runs runServe with args in process and returns the first
// stdout line (the base URL), a function that stops it and returns its
// exit status, and its stderr.
func serveTestRun(t *testing.T, environ map[string]string, args ...string) (string, func() int, *syncBuffer) {
	t.Helper()
	o, err := parseConfig(append([]string{"-serve", "127.0.0.1:0"}, args...), env{getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatalf("parseConfig: %v", err)
	}
	outR, outW := io.Pipe()
	stderr := &syncBuffer{}
	e := env{stdout: outW, stderr: stderr, getenv: func(k string) string { return environ[k] }, stdinFd: -1}
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() {
		code <- runServe(ctx, o, e)
		outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	go func() { _, _ = io.Copy(io.Discard, outR) }()
	stop := sync.OnceValue(func() int {
		cancel()
		select {
		case c := <-code:
			return c
		case <-time.After(boardTestWait):
			t.Error("runServe did not return")
		}
		return -1
	})
	t.Cleanup(func() { stop() })
	if err != nil {
		stop()
		t.Fatalf("no URL on stdout (%v); stderr:\n%s", err, stderr.String())
	}
	return strings.TrimSpace(line), stop, stderr
}

// TestServeTLS: with -tls-cert and -tls-key the board speaks HTTPS and
// its first stdout line says so.
func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := serveTestCert(t)
	base, stop, _ := serveTestRun(t, nil, "-tls-cert", certFile, "-tls-key", keyFile)
	if !strings.HasPrefix(base, "https://127.0.0.1:") {
		t.Fatalf("first line %q, want an https:// base URL", base)
	}
	// Streams over HTTP/1.1 and HTTP/2 take different paths in the board.
	for i, h2 := range []bool{false, true} {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: h2}}
		defer client.CloseIdleConnections()
		code := fmt.Sprintf("TLS00%d", i)
		events := boardTestOpenStream(t, client, base+"/rooms/"+code+"/offer.json")
		if ev := boardTestNext(t, events); ev != (boardTestEvent{"put", `{"path":"/","data":null}`}) {
			t.Fatalf("HTTP/2 %v: first event %v", h2, ev)
		}
		boardTestSendMust(t, client, base, boardTestReq{method: "PUT", path: "/rooms/" + code + "/offer.json", body: `{"payload":"p","timestamp":1}`, anon: true})
		if ev := boardTestNext(t, events); ev != (boardTestEvent{"put", `{"path":"/","data":{"payload":"p","timestamp":1}}`}) {
			t.Fatalf("HTTP/2 %v: event %v", h2, ev)
		}
	}
	if code := stop(); code != exitOK {
		t.Errorf("exit status %d, want 0", code)
	}
}

// TestServeBadConfig: a configuration mistake is a usage error, reported
// before anything is served.
func TestServeBadConfig(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-tls-cert", filepath.Join(dir, "cert.pem")},
		{"-tls-cert", filepath.Join(dir, "cert.pem"), "-tls-key", filepath.Join(dir, "key.pem")},
		{"-secret-file", filepath.Join(dir, "missing")},
		{"-secret-file", empty},
	} {
		o, err := parseConfig(append([]string{"-serve", "127.0.0.1:0"}, args...), env{getenv: func(string) string { return "" }})
		if err != nil {
			t.Fatalf("%v: parseConfig: %v", args, err)
		}
		var stdout, stderr strings.Builder
		if code := runServe(context.Background(), o, env{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}); code != exitUsage {
			t.Errorf("%v: exit status %d, want %d", args, code, exitUsage)
		}
		if stdout.Len() != 0 || stderr.Len() == 0 {
			t.Errorf("%v: stdout %q, stderr %q; want nothing served and a reason", args, stdout.String(), stderr.String())
		}
	}
}

// TestServeSecretAndLogs: the admin secret comes from -secret-file, else
// $FIREBASE_DB_SECRET; the log counts what happened and holds no room
// code, payload, secret or client address.
func TestServeSecretAndLogs(t *testing.T) {
	const envSecret, fileSecret = "env-secret-canary", "file-secret-canary"
	file := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(file, []byte(fileSecret+"\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	environ := map[string]string{"FIREBASE_DB_SECRET": envSecret}
	for _, tc := range []struct {
		name   string
		args   []string
		secret string
	}{
		{"from the environment", nil, envSecret},
		{"from a file", []string{"-secret-file", file}, fileSecret},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, stop, stderr := serveTestRun(t, environ, tc.args...)
			client := boardTestClient(t)
			now := time.Now().UnixMilli()
			boardTestSendMust(t, client, base, boardTestReq{method: "PUT", path: "/rooms/QZ7XK9/offer.json", body: fmt.Sprintf(`{"payload":"payload-canary","timestamp":%d}`, now), anon: true})
			boardTestSend(t, client, base+"/rooms/QZ7XK9/offer.json", "", boardTestReq{method: "PUT", body: fmt.Sprintf(`{"payload":"other-canary","timestamp":%d}`, now), anon: true})
			boardTestSend(t, client, base+"/.json", "", boardTestReq{method: "GET", query: "auth=guess-canary", anon: true})
			if status, _, _ := boardTestSend(t, client, base+"/.json", tc.secret, boardTestReq{method: "GET"}); status != http.StatusOK {
				t.Errorf("admin read: status %d", status)
			}
			if code := stop(); code != exitOK {
				t.Errorf("exit status %d", code)
			}
			log := stderr.String()
			if !strings.Contains(log, "4 requests, 2 writes") || !strings.Contains(log, "2 401 denied") {
				t.Errorf("log does not count the requests:\n%s", log)
			}
			for _, secret := range []string{"QZ7XK9", "canary", "127.0.0.1"} {
				if strings.Contains(log, secret) {
					t.Errorf("log holds %q:\n%s", secret, log)
				}
			}
		})
	}
}

func TestBoardFlags(t *testing.T) {
	o, err := parseConfig([]string{"-serve", ":0", "-max-streams", "0", "-room-ttl", "5m", "-write-rate", "2.5", "-max-body", "1000", "-trust-proxy",
		"-read-rate", "0", "-max-bytes", "1048576", "-max-rooms-per-addr", "3", "-max-conns-per-addr", "0"},
		env{getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	bo := o.boardOpts
	if bo.maxStreams >= 0 || bo.roomTTL != 5*time.Minute || bo.writeRate != 2.5 || bo.maxBody != 1000 || !bo.trustProxy ||
		bo.maxStreamsPerAddr != boardDefaultMaxStreamsPerAddr || bo.idleTimeout != boardDefaultIdleTimeout ||
		bo.readRate >= 0 || bo.readBurst != boardDefaultReadBurst || bo.maxBytes != 1<<20 || bo.maxRoomsPerAddr != 3 || bo.maxConnsPerAddr >= 0 {
		t.Errorf("options %+v", bo)
	}
	if b := newBoard(bo); b.maxStreams != 0 || b.roomTTL != 5*time.Minute || b.reads != nil || b.maxBytes != 1<<20 || b.roomsPer != 3 {
		t.Errorf("board: max streams %d (want 0: no cap), TTL %v, read limiter %v (want none), bytes %d, rooms per address %d",
			b.maxStreams, b.roomTTL, b.reads, b.maxBytes, b.roomsPer)
	}
	if b := newBoard(boardOptions{}); b.reads == nil || b.maxBytes != boardDefaultMaxBytes || b.roomsPer != boardDefaultMaxRoomsPerAddr {
		t.Errorf("default board: read limiter %v, bytes %d, rooms per address %d", b.reads, b.maxBytes, b.roomsPer)
	}
	for _, bad := range [][]string{{"-max-rooms", "-1"}, {"-write-rate", "fast"}, {"-room-ttl", "10"}, {"-max-body", "1e3"}} {
		if _, err := parseConfig(append([]string{"-serve", ":0"}, bad...), env{getenv: func(string) string { return "" }}); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

// testSelfSigned signs a server certificate valid for the hour around now,
// for the names tmpl gives (subject, DNS names, addresses; a CA's
// constraints too, for clients that want their trust anchor to be one),
// with a new P-256 key.
func testSelfSigned(t testing.TB, tmpl x509.Certificate) ([]byte, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(1)
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	tmpl.KeyUsage |= x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der, key
}

// serveTestCert writes a self-signed certificate for 127.0.0.1 and returns
// its files and a pool that trusts it.
func serveTestCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	der, key := testSelfSigned(t, x509.Certificate{
		Subject:     pkix.Name{CommonName: "gopeer test board"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	})
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestChooseBoardPerFlow: the board is chosen for each flow alone, never
// kept in the config: a host whose default board is out of reach serves
// one of its own, and after it stops, the next host serves a new one
// instead of dialling the stopped one; a joiner never serves a board; a
// board given with -db is never replaced.
func TestChooseBoardPerFlow(t *testing.T) {
	gopeerBin(t) // listens on 127.0.0.1:8765: only in the tests' namespace
	ctx := context.Background()
	unreachable := env{getenv: func(k string) string {
		return map[string]string{"PYPEER_URL": "http://127.0.0.1:9"}[k]
	}}
	cfg, err := parseConfig([]string{"-host", "-ice", "none"}, unreachable)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		ev := newRecordedEvents()
		m, err := chooseBoard(ctx, cfg, hostSide, ev, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.board.get(ctx, "rooms/ABC123/offer"); err != nil || m.url == cfg.board || !m.own {
			t.Errorf("host %d: board %s (%v, own %v), want a working board of its own", i, m.url, err, m.own)
		}
		if !ev.warned("serving a board here at " + m.url) {
			t.Errorf("host %d did not say it serves a board: %q", i, ev.said())
		}
		m.stop()
	}
	if cfg.board != "http://127.0.0.1:9" {
		t.Errorf("choosing a board changed the config's board to %s", cfg.board)
	}

	ev := newRecordedEvents()
	m, err := chooseBoard(ctx, cfg, joinSide, ev, nil)
	if err != nil || m.url != cfg.board || len(ev.said()) != 0 || m.own {
		t.Errorf("joiner: board %s, warnings %q (%v); want the config's board and no board of its own", m.url, ev.said(), err)
	}
	m.stop()

	given, err := parseConfig([]string{"-host", "-ice", "none", "-db", "http://127.0.0.1:9"}, env{getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	m, err = chooseBoard(ctx, given, hostSide, ev, nil)
	if err != nil || m.url != given.board || len(ev.said()) != 0 {
		t.Errorf("host with -db: board %s, warnings %q (%v); want -db's board", m.url, ev.said(), err)
	}
	m.stop()
}

// TestWarmBoardOpensTheFlowsConnection: a terminal opens the board's
// connection while the user types (warmBoard), and the flow's requests
// then go on it: one connection, where a flow with a client of its own
// opens a second. The board speaks TLS and HTTP/2, as Firebase does, so
// the warmed connection is in the pool from its handshake on.
func TestWarmBoardOpensTheFlowsConnection(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(newBoard(boardOptions{}))
	srv.EnableHTTP2 = true
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	cfg, err := parseConfig([]string{"-join", "ABC123", "-db", srv.URL}, env{getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		shared bool
		want   int32
	}{{"the flow on the warmed client", true, 1}, {"the flow on a client of its own", false, 2}} {
		t.Run(tt.name, func(t *testing.T) {
			conns.Store(0)
			hc := clientHTTP()
			hc.Transport.(*http.Transport).TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
			<-warmBoard(ctx, cfg, hc)
			if got := conns.Load(); got != 1 {
				t.Fatalf("warming the board opened %d connections, want 1", got)
			}
			flows := hc
			if !tt.shared {
				flows = clientHTTP()
				flows.Transport.(*http.Transport).TLSClientConfig = hc.Transport.(*http.Transport).TLSClientConfig.Clone()
			}
			m, err := chooseBoard(ctx, cfg, joinSide, newRecordedEvents(), flows)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.board.get(ctx, "rooms/ABC123"); err != nil {
				t.Fatal(err)
			}
			if got := conns.Load(); got != tt.want {
				t.Errorf("the board saw %d connections, want %d", got, tt.want)
			}
		})
	}
}
