package main

// This file runs gopeer's board as a process of its own (-serve), inside a
// host (LAN mode), or as a host's fallback when the public board is out of
// reach.

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// boardUsage documents the board's flags; it follows the main usage text.
const boardUsage = `
Board options (gopeer -serve ADDR, and a host's own board with -host -serve):
    -secret-file FILE   The admin secret: the first line of FILE, else
                        $FIREBASE_DB_SECRET. A client that passes it as
                        ?auth=SECRET reads and writes anything, as with a
                        Firebase database secret; others may only read and
                        write a room's offer and answer. Without a secret,
                        nobody can list the rooms.
    -tls-cert FILE      Serve HTTPS with this certificate chain (PEM)...
    -tls-key FILE       ...and this private key (PEM).
    -room-ttl DURATION  Remove a room this long after it appears (by the
                        board's clock); its streams get cancel. Default: 10m.
    -max-body BYTES     Largest request body. Default: 65536.
    -max-payload BYTES  Largest offer or answer payload. Default: 16384.
    -max-rooms N        Rooms held at once. Default: 10000.
    -max-streams N      Streams open at once. Default: 10000.
    -max-streams-per-addr N
                        Streams open at once from one client address (an
                        IPv6 /64 counts as one). Default: 64.
    -write-rate N       Writes per second from one client address... Default: 10.
    -write-burst N      ...with bursts of up to N. Default: 100.
    -header-timeout DURATION
                        Time to send a request's headers. Default: 10s.
    -read-timeout DURATION
                        Time to send a whole request. Default: 30s.
    -idle-timeout DURATION
                        Time a connection may wait between requests. Default: 2m.
    -trust-proxy        Take the client address from X-Forwarded-For when the
                        connection comes from this machine (a reverse proxy).
    A limit or timeout of 0 turns it off. The admin is held to none of the
    limits but -max-streams (its bodies may reach 256 MiB, as on Firebase).
    The board logs counts to stderr once a minute, never room codes,
    payloads, addresses or secrets.
`

// registerBoardFlags adds the board's own flags to fs.
func registerBoardFlags(fs *flag.FlagSet, bo *boardOptions) {
	fs.StringVar(&bo.secretFile, "secret-file", "", "")
	fs.StringVar(&bo.tlsCert, "tls-cert", "", "")
	fs.StringVar(&bo.tlsKey, "tls-key", "", "")
	fs.BoolVar(&bo.trustProxy, "trust-proxy", false, "")
	boardLimitVar(fs, "room-ttl", &bo.roomTTL, boardDefaultRoomTTL, time.ParseDuration)
	boardLimitVar(fs, "max-body", &bo.maxBody, boardDefaultMaxBody, boardParseInt[int64])
	boardLimitVar(fs, "max-payload", &bo.maxPayload, boardDefaultMaxPayload, boardParseInt[int])
	boardLimitVar(fs, "max-rooms", &bo.maxRooms, boardDefaultMaxRooms, boardParseInt[int])
	boardLimitVar(fs, "max-streams", &bo.maxStreams, boardDefaultMaxStreams, boardParseInt[int])
	boardLimitVar(fs, "max-streams-per-addr", &bo.maxStreamsPerAddr, boardDefaultMaxStreamsPerAddr, boardParseInt[int])
	boardLimitVar(fs, "write-rate", &bo.writeRate, boardDefaultWriteRate, boardParseRate)
	boardLimitVar(fs, "write-burst", &bo.writeBurst, boardDefaultWriteBurst, boardParseInt[int])
	boardLimitVar(fs, "header-timeout", &bo.headerTimeout, boardDefaultHeaderTimeout, time.ParseDuration)
	boardLimitVar(fs, "read-timeout", &bo.readTimeout, boardDefaultReadTimeout, time.ParseDuration)
	boardLimitVar(fs, "idle-timeout", &bo.idleTimeout, boardDefaultIdleTimeout, time.ParseDuration)
}

// boardLimitFlag is a limit on the command line, where 0 turns it off; in
// boardOptions, whose zero value means "the default", off is negative.
type boardLimitFlag[T int | int64 | float64 | time.Duration] struct {
	p     *T
	parse func(string) (T, error)
}

func boardLimitVar[T int | int64 | float64 | time.Duration](fs *flag.FlagSet, name string, p *T, def T, parse func(string) (T, error)) {
	*p = def
	fs.Var(boardLimitFlag[T]{p, parse}, name, "")
}

func (f boardLimitFlag[T]) Set(s string) error {
	v, err := f.parse(s)
	switch {
	case err != nil:
		return err
	case v < 0:
		return errors.New("must not be negative (0 turns the limit off)")
	case v == 0:
		v = -1
	}
	*f.p = v
	return nil
}

func (f boardLimitFlag[T]) String() string {
	if f.p == nil || *f.p < 0 {
		return "0"
	}
	return fmt.Sprint(*f.p)
}

func boardParseInt[T int | int64](s string) (T, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || int64(T(n)) != n {
		return 0, errors.New("not a whole number")
	}
	return T(n), nil
}

func boardParseRate(s string) (float64, error) {
	r, err := strconv.ParseFloat(s, 64)
	if err != nil || r != r || r > 1e9 {
		return 0, errors.New("not a number of writes per second")
	}
	return r, nil
}

// prepareBoard reads what the board's flags point to: the admin secret
// (from -secret-file, else $FIREBASE_DB_SECRET when getenv is given) and
// the TLS certificate. Problems are reported now, before the board's URL is
// printed.
func prepareBoard(bo boardOptions, getenv func(string) string) (boardOptions, *tls.Config, error) {
	switch {
	case bo.secretFile != "":
		secret, err := readSecretFile(bo.secretFile)
		if err != nil {
			return bo, nil, err
		}
		bo.secret = secret
	case getenv != nil:
		bo.secret = strings.TrimSpace(getenv("FIREBASE_DB_SECRET"))
	}
	if (bo.tlsCert == "") != (bo.tlsKey == "") {
		return bo, nil, errors.New("-tls-cert and -tls-key go together")
	}
	if bo.tlsCert == "" {
		return bo, nil, nil
	}
	cert, err := tls.LoadX509KeyPair(bo.tlsCert, bo.tlsKey)
	if err != nil {
		return bo, nil, fmt.Errorf("-tls-cert, -tls-key: %w", err)
	}
	return bo, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// readSecretFile reads the secret from the first line of path.
func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("-secret-file: %w", err)
	}
	defer f.Close()
	line, err := bufio.NewReader(io.LimitReader(f, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("-secret-file: %w", err)
	}
	secret := strings.TrimSpace(line)
	if secret == "" {
		return "", errors.New("-secret-file: the first line is empty")
	}
	return secret, nil
}

// runServe runs a board until interrupted. The first line on stdout is
// the board's base URL, for scripts; the rest goes to stderr.
func runServe(ctx context.Context, o options, e env) int {
	bo, tlsCfg, err := prepareBoard(o.board, e.getenv)
	if err != nil {
		fmt.Fprintf(e.stderr, "gopeer: %v\n", err)
		return exitUsage
	}
	bo.logw = e.stderr
	ln, err := net.Listen("tcp", o.serve)
	if err != nil {
		fmt.Fprintf(e.stderr, "gopeer: cannot serve on %s: %v\n", o.serve, err)
		return exitFailure
	}
	fmt.Fprintln(e.stdout, listenURL(ln.Addr(), tlsCfg != nil))
	admin := "no admin secret: nobody can list rooms"
	if bo.secret != "" {
		admin = "admin secret set"
	}
	fmt.Fprintf(e.stderr, "gopeer: serving a board; %s; rooms expire after %v\n", admin, boardTTLText(bo.roomTTL))
	if err := serveBoard(ctx, ln, newBoard(bo), bo, tlsCfg); err != nil {
		fmt.Fprintf(e.stderr, "gopeer: board: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// boardTTLText says when rooms expire, for the startup line.
func boardTTLText(ttl time.Duration) string {
	if ttl = boardLimit(ttl, boardDefaultRoomTTL); ttl == 0 {
		return "never"
	}
	return ttl.String()
}

// embeddedBoard runs a board inside this process, for LAN mode and for a
// host that cannot reach the public board. It returns the URL a peer on
// this network uses, and a stop function. It logs nothing: its host's
// terminal is busy with the chat.
func embeddedBoard(ctx context.Context, addr string, bo boardOptions) (string, func(), error) {
	bo, tlsCfg, err := prepareBoard(bo, nil)
	if err != nil {
		return "", nil, &failure{kind: kindUsage, msg: err.Error(), err: err}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, &failure{kind: kindBoard, msg: "cannot serve a board on " + addr + ": " + err.Error(), err: err}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = serveBoard(ctx, ln, newBoard(bo), bo, tlsCfg)
	}()
	stop := func() { cancel(); <-done }
	return lanURL(ln.Addr(), tlsCfg != nil), stop, nil
}

// fallbackBoardAddr is where a host offers its own board when the public
// one is out of reach: every interface, so a peer on the LAN can use it, or
// loopback alone on a machine with no network.
func fallbackBoardAddr() string {
	if onlyLoopback() {
		return "127.0.0.1:8765"
	}
	return ":8765"
}

// lanURL is the URL for a listening address as a peer elsewhere on the
// network would use it: a wildcard address becomes this machine's first
// LAN address.
func lanURL(a net.Addr, https bool) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !(tcp.IP == nil || tcp.IP.IsUnspecified()) {
		return listenURL(a, https)
	}
	if ip := firstLANAddress(); ip != nil {
		return boardScheme(https) + net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
	}
	return listenURL(a, https)
}

// firstLANAddress is this machine's first global unicast IPv4 address.
func firstLANAddress() net.IP {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && ipn.IP.IsGlobalUnicast() && ipn.IP.To4() != nil {
			return ipn.IP
		}
	}
	return nil
}

// boardFor picks the board for this run: the one given, a board of our own
// (LAN mode), or, for a host whose default board is out of reach, a board of
// our own as the fallback. stop ends an embedded board.
func boardFor(ctx context.Context, o *options, ui roomEvents) (board *boardClient, stop func(), err error) {
	stop = func() {}
	if o.host && o.serve != "" {
		url, s, err := embeddedBoard(ctx, o.serve, o.board)
		if err != nil {
			return nil, stop, err
		}
		o.db, o.dbGiven, stop = url, true, s
		ui.status("serving the board for this room at " + url)
	}
	if board, err = newBoardClient(o.db, clientOptions{}); err != nil {
		return nil, stop, &failure{kind: kindUsage, msg: "-db: " + err.Error()}
	}
	if !o.host || o.dbGiven || boardReachable(ctx, board) {
		return board, stop, nil
	}
	url, s, err := embeddedBoard(ctx, fallbackBoardAddr(), o.board)
	if err != nil {
		url, s, err = embeddedBoard(ctx, strings.Replace(fallbackBoardAddr(), "8765", "0", 1), o.board)
	}
	if err != nil {
		return board, stop, nil // the flow reports the unreachable board
	}
	ui.warn("cannot reach the board at " + board.String() + " (no internet?); serving a board here at " + url)
	o.db, o.dbGiven = url, true
	board, err = newBoardClient(url, clientOptions{})
	return board, s, err
}

// boardReachable asks the board for something small, briefly.
func boardReachable(ctx context.Context, board *boardClient) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := board.get(ctx, "rooms/"+strings.Repeat("0", roomCodeLen)+"/offer")
	return !isBoardUnreachable(err)
}

// listenURL is the base URL clients use for a listening address; a wildcard
// address is shown as loopback, which always reaches it.
func listenURL(a net.Addr, https bool) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return boardScheme(https) + a.String()
	}
	ip := tcp.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return boardScheme(https) + net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}

func boardScheme(https bool) string {
	if https {
		return "https://"
	}
	return "http://"
}
