//go:build linux

package main

// A board far away, for the benchmark of issue 15. The board runs in the
// test process, over TLS (HTTP/2 and HTTP/1.1, as Firebase's), on an
// address of its own on this namespace's loopback device; each side
// reaches it through its own proxy (HTTPS_PROXY) that puts the board
// oneWay away:
//
//	client --CONNECT--> proxy                                  board
//	        (the reply waits one round trip: TCP's handshake)
//	client <==== TLS, requests, streams: every byte delayed by oneWay ====> board
//
// So a new connection costs what it costs on the internet (TCP's round
// trip, TLS 1.3's round trip, then the request's), and a client that has
// a connection open can use it while another is still being opened. The
// proxies count the connections each side opens; the board counts and
// logs the requests each side sends.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// distantBoardIP is the board's own address, added to this namespace's
// loopback device: Go and httpx never send a loopback address through a
// proxy.
const distantBoardIP = "10.98.1.1"

// distantBoard is a board and the proxies that put it far away.
type distantBoard struct {
	url      string // https://10.98.1.1:PORT
	certFile string // its certificate, for SSL_CERT_FILE
	start    time.Time

	mu    sync.Mutex
	sides map[int]*boardSide // by the proxy's local port towards the board
}

// boardSide is one client's way to the board: give each side its own,
// and the counts are that side's.
type boardSide struct {
	proxyURL string
	oneWay   time.Duration
	conns    atomic.Int64
	requests atomic.Int64

	mu  sync.Mutex
	log []sideRequest
}

// sideRequest is a request and when the board received it, from the
// board's start.
type sideRequest struct {
	at   time.Duration
	line string
}

// startDistantBoard starts a board without rate limits (benchmarks run
// many sessions from one address) over TLS on distantBoardIP.
func startDistantBoard(tb testing.TB) *distantBoard {
	tb.Helper()
	gopeerBin(tb) // the namespace
	if out, err := exec.Command("ip", "addr", "replace", distantBoardIP+"/32", "dev", "lo").CombinedOutput(); err != nil {
		tb.Fatalf("ip addr replace %s dev lo: %v: %s", distantBoardIP, err, out)
	}
	// A CA too: Python's ssl wants its trust anchor to be one.
	der, key := testSelfSigned(tb, x509.Certificate{IPAddresses: []net.IP{net.ParseIP(distantBoardIP)},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign})
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	certFile := filepath.Join(tb.TempDir(), "board.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(distantBoardIP, "0"))
	if err != nil {
		tb.Fatal(err)
	}
	d := &distantBoard{url: "https://" + ln.Addr().String(), certFile: certFile, start: time.Now(), sides: map[int]*boardSide{}}
	b := newBoard(boardOptions{writeRate: -1, readRate: -1, maxRoomsPerAddr: -1, maxStreamsPerAddr: -1})
	srv := &http.Server{Handler: d.counting(b), TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	tb.Cleanup(func() {
		b.abortAll()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return d
}

// counting counts and logs each request by the side it came from.
func (d *distantBoard) counting(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, port, _ := net.SplitHostPort(r.RemoteAddr)
		p, _ := strconv.Atoi(port)
		d.mu.Lock()
		s := d.sides[p]
		d.mu.Unlock()
		if s != nil {
			s.requests.Add(1)
			line := r.Method + " " + r.URL.Path
			if r.Header.Get("Accept") == "text/event-stream" {
				line += " (stream)"
			}
			s.mu.Lock()
			s.log = append(s.log, sideRequest{time.Since(d.start), line})
			s.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

// env is what a process needs to reach the board through s.
func (d *distantBoard) env(s *boardSide) []string {
	return []string{"HTTPS_PROXY=" + s.proxyURL, "SSL_CERT_FILE=" + d.certFile, "NO_PROXY=", "no_proxy="}
}

// side starts a proxy that puts the board oneWay away.
func (d *distantBoard) side(tb testing.TB, oneWay time.Duration) *boardSide {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &boardSide{proxyURL: "http://" + ln.Addr().String(), oneWay: oneWay}
	var open sync.WaitGroup
	tb.Cleanup(func() {
		ln.Close()
		open.Wait()
	})
	target := strings.TrimPrefix(d.url, "https://")
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			open.Go(func() { d.tunnel(s, client, target) })
		}
	}()
	return s
}

// requestLog returns the side's requests so far, in order.
func (s *boardSide) requestLog() []sideRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sideRequest(nil), s.log...)
}

// tunnel answers one CONNECT, a round trip later, and carries the
// connection both ways, each delayed.
func (d *distantBoard) tunnel(s *boardSide, client net.Conn, target string) {
	defer client.Close()
	br := bufio.NewReader(client)
	req, err := http.ReadRequest(br)
	if err != nil || req.Method != http.MethodConnect {
		return
	}
	board, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer board.Close()
	local := board.LocalAddr().(*net.TCPAddr).Port
	d.mu.Lock()
	d.sides[local] = s
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.sides, local)
		d.mu.Unlock()
	}()
	time.Sleep(2 * s.oneWay) // TCP's handshake: the path's delay itself
	if _, err := io.WriteString(client, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	var both sync.WaitGroup
	both.Go(func() { delayLine(board, br, s.oneWay) })
	both.Go(func() { delayLine(client, board, s.oneWay) })
	both.Wait()
}

// delayLine copies src to dst, each chunk written delay after it was
// read, in order. When either side ends, both directions end: a closed
// connection on a real path is closed, not half-open.
func delayLine(dst io.WriteCloser, src io.Reader, delay time.Duration) {
	type chunk struct {
		b  []byte
		at time.Time
	}
	chunks := make(chan chunk, 4096)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer dst.Close()
		for c := range chunks {
			time.Sleep(time.Until(c.at)) // the path's delay itself
			if _, err := dst.Write(c.b); err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			select {
			case chunks <- chunk{bytes.Clone(buf[:n]), time.Now().Add(delay)}:
			case <-done:
				return
			}
		}
		if err != nil {
			close(chunks)
			<-done
			return
		}
	}
}
