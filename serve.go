package main

// This file runs gopeer's board as a process of its own (-serve), inside a
// host (LAN mode), or as a host's fallback when the public board is out of
// reach.

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

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
	boardLimitVar(fs, "max-rooms-per-addr", &bo.maxRoomsPerAddr, boardDefaultMaxRoomsPerAddr, boardParseInt[int])
	boardLimitVar(fs, "max-bytes", &bo.maxBytes, boardDefaultMaxBytes, boardParseInt[int64])
	boardLimitVar(fs, "max-streams", &bo.maxStreams, boardDefaultMaxStreams, boardParseInt[int])
	boardLimitVar(fs, "max-streams-per-addr", &bo.maxStreamsPerAddr, boardDefaultMaxStreamsPerAddr, boardParseInt[int])
	boardLimitVar(fs, "max-conns-per-addr", &bo.maxConnsPerAddr, boardDefaultMaxConnsPerAddr, boardParseInt[int])
	boardLimitVar(fs, "write-rate", &bo.writeRate, boardDefaultWriteRate, boardParseRate)
	boardLimitVar(fs, "write-burst", &bo.writeBurst, boardDefaultWriteBurst, boardParseInt[int])
	boardLimitVar(fs, "read-rate", &bo.readRate, boardDefaultReadRate, boardParseRate)
	boardLimitVar(fs, "read-burst", &bo.readBurst, boardDefaultReadBurst, boardParseInt[int])
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
		secret, err := readCredential("-secret-file", bo.secretFile)
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

// runServe runs a board until interrupted. The first line on stdout is
// the board's base URL, for scripts; the rest goes to stderr.
func runServe(ctx context.Context, cfg config, e env) int {
	bo, tlsCfg, err := prepareBoard(cfg.boardOpts, e.getenv)
	if err != nil {
		printFailure(e.stderr, usageError("%v", err))
		return exitUsage
	}
	bo.logw = e.stderr
	ln, err := net.Listen("tcp", cfg.serve)
	if err != nil {
		f := listenFailure(cfg.serve, err)
		printFailure(e.stderr, f)
		return exitStatus(f.kind)
	}
	fmt.Fprintln(e.stdout, listenURL(ln.Addr(), tlsCfg != nil))
	admin := "no admin secret: nobody can list rooms"
	if bo.secret != "" {
		admin = "admin secret set"
	}
	fmt.Fprintf(e.stderr, "gopeer: serving a board; %s; rooms expire after %v\n", admin, boardTTLText(bo.roomTTL))
	if err := serveBoard(ctx, ln, newBoard(bo), bo, tlsCfg); err != nil {
		printFailure(e.stderr, &failure{kind: kindBoard, msg: "the board stopped: " + err.Error(), err: err})
		return exitFailure
	}
	return exitOK
}

// listenFailure explains why a board cannot listen on addr, with the hint
// that fits the cause: a port in use, a port that needs privileges, an
// address this machine does not have.
func listenFailure(addr string, err error) *failure {
	f := &failure{kind: kindBoard, msg: "cannot serve a board on " + addr + ": " + errorCause(err), err: err}
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		f.hint = "another program (another gopeer?) is using that port: pick another, like :8766, or port 0 for any free one"
	case errors.Is(err, syscall.EACCES):
		f.hint = "ports below 1024 need privileges: pick a port above 1024, like :8765"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		f.hint = "this machine has no such address: use one of its own, or :PORT for all of them"
	default:
		f.hint = "give an address as HOST:PORT or :PORT, like 127.0.0.1:8765"
	}
	return f
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
		return "", nil, usageError("%v", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, listenFailure(addr, err)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
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

// meeting is the board one room's flow meets on, chosen for that flow
// alone: the config's board, a board this process serves for the room (LAN
// mode), or, for a host whose default board is out of reach, one it serves
// as a fallback.
type meeting struct {
	board *boardClient
	url   string // the board's URL as the other person uses it, with any secret
	stop  func() // ends a board this process serves; a no-op otherwise
	own   bool   // this process serves the board: it is gone once the peers connect
	// unreachableHint is what to try when the board cannot be reached.
	unreachableHint string
}

// chooseBoard picks the board for one flow on side s. Only a host falls
// back to a board of its own, and only when no -db was given: a joiner
// needs the host's board, wherever it is.
//
// hc carries the requests (nil: a client of its own): a terminal passes
// the one warmBoard opened its connection with.
func chooseBoard(ctx context.Context, cfg config, s side, ui notifier, hc *http.Client) (meeting, error) {
	m := meeting{url: cfg.board, stop: func() {}, unreachableHint: "check your connection and the board's URL (-db)"}
	if !cfg.boardGiven {
		m.unreachableHint = "no internet? a host that cannot reach this board serves one of its own and prints the -db URL to join with"
	}
	if s == hostSide && cfg.lan != "" {
		url, stop, err := embeddedBoard(ctx, cfg.lan, cfg.boardOpts)
		if err != nil {
			return m, err
		}
		m.url, m.stop, m.own = url, stop, true
		ui.status("serving the board for this room at " + url)
	}
	board, err := newBoardClient(m.url, clientOptions{http: hc})
	if err != nil {
		m.stop()
		return m, usageError("-db: %v", err)
	}
	m.board = board
	if s != hostSide || cfg.boardGiven || cfg.lan != "" || boardReachable(ctx, board) {
		return m, nil
	}
	url, stop, err := embeddedBoard(ctx, fallbackBoardAddr(), cfg.boardOpts)
	if err != nil {
		url, stop, err = embeddedBoard(ctx, strings.Replace(fallbackBoardAddr(), "8765", "0", 1), cfg.boardOpts)
	}
	if err != nil { // the flow reports the unreachable board
		m.unreachableHint = "no internet? serving a board here failed too (" + errorCause(err) + "); try -host -serve ADDR"
		return m, nil
	}
	ui.warn("cannot reach the board at " + board.String() + " (no internet?); serving a board here at " + url)
	if m.board, err = newBoardClient(url, clientOptions{}); err != nil {
		stop()
		return m, err
	}
	m.url, m.stop, m.own = url, stop, true
	return m, nil
}

// boardReachable asks the board for something small, briefly: the offer
// of a room nobody makes (a code drawn at random never has four zeros).
func boardReachable(ctx context.Context, board *boardClient) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := board.get(ctx, boardProbePath())
	return !isBoardUnreachable(err)
}

// boardProbePath is a path on every board that holds nothing: the offer
// of a room nobody makes.
func boardProbePath() string {
	return newPypeerDialect(strings.Repeat("0", roomCodeLen), "", time.Now).slots().offerPath()
}

// warmBoard opens a connection to the board cfg names, through hc, while
// the user is still typing: the code and the password take seconds, a new
// connection two round trips (TCP, TLS), and the flow then finds it open
// in hc's pool. Nothing is said either way: the flow reports the board.
// A host that serves its own board has nothing to open. done is closed
// once the board answered or did not.
func warmBoard(ctx context.Context, cfg config, hc *http.Client) (done <-chan struct{}) {
	finished := make(chan struct{})
	board, err := newBoardClient(cfg.board, clientOptions{http: hc})
	if cfg.lan != "" || err != nil { // err: the flow says what is wrong with the URL
		close(finished)
		return finished
	}
	go func() {
		defer close(finished)
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, _ = board.get(ctx, boardProbePath())
	}()
	return finished
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
