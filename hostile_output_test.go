package main

// Text gopeer did not write itself never reaches a terminal or a log raw:
// an on-path attacker's certificate names (quoted by the x509 error that
// refuses them), a hostile board's answers, a hostile client's requests to
// -serve. Every output path is tried: line mode, -json (stderr and
// stdout), the janitor, -serve's log, and the interactive screen.

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// hostileNames are what an attacker's certificate says it is for: a title
// change, a screen clear, a clipboard write, and a newline that would
// start a line of the attacker's in a log.
const hostileNames = "evil\x1b]0;pwned\x07\x1b[2J\x1b]52;c;aGk=\x07\nFORGED log line"

// hostileTLSBoard serves HTTPS on loopback with a certificate made out to
// hostileNames, and returns its URL by name (https://localhost:PORT), so
// that the client's x509 error quotes the names.
func hostileTLSBoard(t *testing.T) string {
	t.Helper()
	der, key := testSelfSigned(t, x509.Certificate{
		Subject:  pkix.Name{CommonName: hostileNames},
		DNSNames: []string{hostileNames},
	})
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.Config.ErrorLog = nil
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
}

// checkInert fails the test if out holds a byte a terminal would act on
// (any C0 control but newline and tab, DEL) or a line the attacker forged,
// and checks the hostile text was shown, as control pictures.
func checkInert(t *testing.T, what, out string, mustShow bool) {
	t.Helper()
	for i := 0; i < len(out); i++ {
		if c := out[i]; (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
			t.Errorf("%s holds the control byte %#x raw:\n%q", what, c, out)
			break
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "FORGED") {
			t.Errorf("%s has a line the attacker wrote: %q", what, line)
		}
	}
	if mustShow && !strings.Contains(out, "evil␛]0;pwned␇␛[2J") {
		t.Errorf("%s does not show the hostile names as text:\n%s", what, out)
	}
}

// TestHostileCertificateNamesInert: a board whose certificate names carry
// escape sequences and a newline is refused, and the refusal, which
// quotes the names, prints them inert on every path.
func TestHostileCertificateNamesInert(t *testing.T) {
	t.Parallel()
	board := hostileTLSBoard(t)
	cases := []struct {
		name string
		env  []string
		args []string
	}{
		{"line mode, joining", nil, []string{"-ice", "none", "-db", board, "-join", "ABC123"}},
		{"line mode, hosting", nil, []string{"-ice", "none", "-db", board, "-host"}},
		{"-json", nil, []string{"-json", "-ice", "none", "-db", board, "-join", "ABC123"}},
		{"the janitor", []string{"FIREBASE_DB_SECRET=s3cret"}, []string{"-janitor", "-db", board}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := startGopeer(t, c.env, c.args...)
			var stdout strings.Builder
			for l := range p.lines {
				stdout.WriteString(l + "\n")
			}
			if code := p.wait(); code == exitOK {
				t.Errorf("exit status 0 with a board whose certificate is refused")
			}
			checkInert(t, "stderr", p.stderr.String(), true)
			checkInert(t, "stdout", stdout.String(), false)
		})
	}
}

// TestHostileRequestsServeLog: requests full of escape sequences and
// newlines, in the path, the query and the headers, leave -serve's log
// inert (it logs counts, and says so).
func TestHostileRequestsServeLog(t *testing.T) {
	t.Parallel()
	base, stop, stderr := serveTestRun(t, nil)
	// Raw requests: Go's own client would refuse to send these headers.
	evil := "%1B%5D0%3Bpwned%07%0AFORGED"
	for _, target := range []string{
		"/rooms/" + evil + ".json",
		"/rooms/ABC123.json?print=" + evil,
		"/" + evil,
	} {
		conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		// The first request reaches the board; net/http itself refuses
		// the second, for its headers.
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n"+
			"GET %s HTTP/1.1\r\nHost: x\r\nX-Firebase-ETag: \x1b]0;pwned\x07\r\nConnection: close\r\n\r\n", target, target)
		_, _ = io.Copy(io.Discard, conn)
		conn.Close()
	}
	if code := stop(); code != exitOK {
		t.Errorf("exit status %d", code)
	}
	checkInert(t, "-serve's log", stderr.String(), false)
	if !strings.Contains(stderr.String(), "requests") {
		t.Errorf("the log does not count the requests:\n%s", stderr.String())
	}
}
