// Command gopeer is a terminal peer-to-peer chat. Two people meet through a
// six-character room code and an optional password; their terminals swap
// encrypted WebRTC offers through a board (a Firebase Realtime Database, or
// gopeer's own), then talk directly over an encrypted data channel. It speaks
// pypeer's protocol, so a gopeer user can chat with a pypeer user.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	ossignal "os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pion/logging"
	"golang.org/x/term"
)

// defaultBoardURL is pypeer's public board, so both programs meet there.
const defaultBoardURL = "https://liminalport-default-rtdb.firebaseio.com/"

// Exit statuses: scripts rely on them.
const (
	exitOK            = 0
	exitFailure       = 1
	exitUsage         = 2
	exitWrongPassword = 3
	exitInterrupted   = 130
)

const (
	defaultTimeout = 180 * time.Second // pypeer's wait for an offer or an answer
	gatherTimeout  = 5 * time.Second
	drainTimeout   = 30 * time.Second
	maxPasswordLen = 4096
)

const usage = `Usage:
    gopeer                      ask whether to host or join (on a terminal)
    gopeer -host [-room CODE]   create a room and wait for a peer
    gopeer -join CODE           join a room
    gopeer -serve ADDR          run a board (signaling server) on ADDR
    gopeer -janitor             purge stale rooms from a Firebase board

Options:
    -db URL             Board to meet on. Default: $PYPEER_URL, else pypeer's
                        public board.
    -ice URLS           Comma-separated stun: and turn: URLs, or "none".
                        Default: pypeer's Google STUN servers.
    -timeout DURATION   How long to wait for the peer. Default: 3m.
    -password-file FILE Read the room password from the first line of FILE.
    -json               Line mode with JSON events on stdout and JSON input
                        lines like {"text":"hi"} on stdin.
    -echo               Send every received message straight back, like ping's
                        far end, to measure a path's round trip. Ignores stdin.

The password is asked at a hidden prompt on a terminal; otherwise it comes
from -password-file or $GOPEER_PASSWORD. It may be empty, as in pypeer.

When stdin is not a terminal, each stdin line is a message and each received
message is a stdout line. Exit status: 0 done, 1 failed, 2 usage, 3 wrong
password.

Examples:
    $ gopeer -host
    $ gopeer -join K7P2M0
    $ gopeer -serve 127.0.0.1:8765 &
    $ gopeer -host -db http://127.0.0.1:8765
`

// options are the parsed command line.
type options struct {
	host, janitor bool
	join, serve   string
	room, db, ice string
	passwordFile  string
	timeout       time.Duration
	json          bool
	dbGiven       bool // -db was given, or this run serves its own board
	echo          bool
	board         boardOptions
	janitorOpts   janitorOptions
}

// env is the process's outside world, passed in so tests can run gopeer in
// process with their own.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	stdinFd        int // -1 when stdin is not a file
	isTerminal     bool
	// limitMemory, when set, is called as a chat starts: main's sets the
	// runtime's soft memory limit (see limitChatMemory); tests leave it nil.
	limitMemory func()
}

func main() {
	ctx, stop := ossignal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	e := env{
		stdin:   os.Stdin,
		stdout:  os.Stdout,
		stderr:  os.Stderr,
		getenv:  os.Getenv,
		stdinFd: int(os.Stdin.Fd()),

		limitMemory: limitChatMemory,
	}
	e.isTerminal = term.IsTerminal(e.stdinFd) && term.IsTerminal(int(os.Stdout.Fd()))
	code := run(ctx, os.Args[1:], e)
	stop()
	os.Exit(code)
}

// run is gopeer from flags to exit status.
func run(ctx context.Context, args []string, e env) int {
	opts, err := parseFlags(args, e)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(e.stdout, usage+boardUsage+janitorUsage)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "gopeer: %v\n", err)
		fmt.Fprintf(e.stderr, "Run gopeer -h for usage.\n")
		return exitUsage
	}
	switch {
	case opts.serve != "" && !opts.host:
		return runServe(ctx, opts, e)
	case opts.janitor:
		return runJanitor(ctx, opts.janitorOpts.withShared(opts), e)
	}
	return runChat(ctx, opts, e)
}

// parseFlags parses and checks the command line.
func parseFlags(args []string, e env) (options, error) {
	var o options
	fs := flag.NewFlagSet("gopeer", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.BoolVar(&o.host, "host", false, "")
	fs.StringVar(&o.join, "join", "", "")
	fs.StringVar(&o.serve, "serve", "", "")
	fs.BoolVar(&o.janitor, "janitor", false, "")
	fs.StringVar(&o.room, "room", "", "")
	fs.StringVar(&o.db, "db", "", "")
	fs.StringVar(&o.ice, "ice", strings.Join(defaultICE, ","), "")
	fs.DurationVar(&o.timeout, "timeout", defaultTimeout, "")
	fs.StringVar(&o.passwordFile, "password-file", "", "")
	fs.BoolVar(&o.json, "json", false, "")
	fs.BoolVar(&o.echo, "echo", false, "")
	registerBoardFlags(fs, &o.board)
	registerJanitorFlags(fs, &o.janitorOpts)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	modes := 0
	// -host -serve ADDR is LAN mode: the host runs the board itself.
	serveAlone := o.serve != "" && !o.host
	for _, on := range []bool{o.host, o.join != "", serveAlone, o.janitor} {
		if on {
			modes++
		}
	}
	switch {
	case modes > 1:
		return o, errors.New("choose one of -host, -join, -serve and -janitor")
	case o.room != "" && !o.host:
		return o, errors.New("-room goes with -host")
	case o.serve != "" && o.host && o.db != "":
		return o, errors.New("-host -serve runs its own board: leave out -db")
	case o.timeout <= 0:
		return o, errors.New("-timeout must be positive, like 3m or 90s")
	case modes == 0 && (o.json || !e.isTerminal):
		return o, errors.New("choose -host or -join CODE (the interactive menu needs a terminal)")
	}
	var err error
	if o.join != "" {
		if o.join, err = normalizeRoomCode(o.join); err != nil {
			return o, err
		}
	}
	if o.room != "" {
		if o.room, err = normalizeRoomCode(o.room); err != nil {
			return o, err
		}
	}
	o.dbGiven = o.db != ""
	if o.db == "" {
		o.db = e.getenv("PYPEER_URL")
	}
	if o.db == "" {
		o.db = defaultBoardURL
	}
	if _, err := parseICEServers(o.ice, e.getenv); err != nil {
		return o, err
	}
	return o, nil
}

// chatMemoryLimit is the soft limit on the Go runtime's own memory (heap,
// stacks and metadata; not the binary's mapped pages) during a chat. What a
// chat holds is bounded (a 1 MiB send buffer, SCTP's 1 MiB window, 64 queued
// messages), but the collector lets the heap grow to twice what is live and
// overshoots in a burst. Under this limit it collects sooner: a 64 MiB bulk
// transfer peaked at 22-24 MiB resident instead of 27-31, at the same speed
// (BenchmarkInterop). Being soft, it never refuses memory; a bigger live heap
// is only collected more often.
const chatMemoryLimit = 14 << 20

// limitChatMemory sets chatMemoryLimit, unless $GOMEMLIMIT chose a limit.
// It reads the process's own environment, not env.getenv: that is where the
// runtime found $GOMEMLIMIT.
func limitChatMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(chatMemoryLimit)
	}
}

// runChat hosts or joins a room, then chats: on a terminal interactively,
// otherwise in line mode.
func runChat(ctx context.Context, o options, e env) int {
	if e.limitMemory != nil {
		e.limitMemory()
	}
	if e.isTerminal && !o.json && !o.echo {
		return runTerminal(ctx, o, e)
	}
	out := &jsonOrText{w: e.stdout, json: o.json}
	ui := &lineUI{stderr: e.stderr, out: out, o: o}
	password, err := readPassword(o, e)
	if err != nil {
		return ui.fail(err)
	}
	board, stopBoard, err := boardFor(ctx, &o, ui)
	defer stopBoard()
	if err != nil {
		return ui.fail(err)
	}
	ui.o = o
	flow, err := newRoomFlow(board, o, e, ui)
	if err != nil {
		return ui.fail(err)
	}
	setupCtx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	var link *peerLink
	if o.host {
		code := o.room
		if code == "" {
			if code, err = newRoomCode(); err != nil {
				return ui.fail(err)
			}
		}
		link, err = flow.host(setupCtx, code, password, o.room != "")
	} else {
		link, err = flow.join(setupCtx, o.join, password)
	}
	if err != nil {
		return ui.fail(err)
	}
	ui.status("connected (" + link.remoteCandidateType() + " path)")
	out.connected()
	chat := &lineChat{link: link, in: e.stdin, out: out, status: ui.status, warn: ui.warn, echo: o.echo}
	if err := chat.run(ctx); err != nil {
		return ui.fail(err)
	}
	return exitOK
}

// newRoomFlow sets up the handshake for this run's board, ICE servers and
// reporting.
func newRoomFlow(board *boardClient, o options, e env, events roomEvents) (*roomFlow, error) {
	ice, err := parseICEServers(o.ice, e.getenv)
	if err != nil {
		return nil, &failure{kind: kindUsage, msg: err.Error()}
	}
	return &roomFlow{
		board: board,
		api:   newAPI(pionLogs(e)),
		peer: peerConfig{
			iceServers:    ice,
			gatherTimeout: gatherTimeout,
			pingInterval:  pingIntervalFrom(e.getenv("GOPEER_PING_INTERVAL")),
		},
		events: events,
		now:    time.Now,
	}, nil
}

// readPassword gets the room password: from -password-file, else
// $GOPEER_PASSWORD, else none. (On a terminal, tui.go asks at a hidden
// prompt when neither is given.) It is
// trimmed, as pypeer trims it, so both derive the same key.
func readPassword(o options, e env) (string, error) {
	switch {
	case o.passwordFile != "":
		f, err := os.Open(o.passwordFile)
		if err != nil {
			return "", &failure{kind: kindUsage, msg: "-password-file: " + err.Error()}
		}
		defer f.Close()
		line, err := bufio.NewReader(io.LimitReader(f, maxPasswordLen)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", &failure{kind: kindUsage, msg: "-password-file: " + err.Error()}
		}
		return strings.TrimSpace(line), nil
	case e.getenv("GOPEER_PASSWORD") != "":
		return strings.TrimSpace(e.getenv("GOPEER_PASSWORD")), nil
	}
	return "", nil
}

// lineUI reports progress on stderr, and events on stdout with -json.
type lineUI struct {
	mu     sync.Mutex
	stderr io.Writer
	out    *jsonOrText
	o      options
}

func (u *lineUI) status(msg string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	fmt.Fprintf(u.stderr, "gopeer: %s\n", msg)
}

func (u *lineUI) warn(msg string) {
	u.mu.Lock()
	fmt.Fprintf(u.stderr, "gopeer: warning: %s\n", msg)
	u.mu.Unlock()
	u.out.warning(msg)
}

func (u *lineUI) roomPosted(code string) {
	join := "gopeer -join " + code
	if u.o.db != defaultBoardURL {
		join += " -db " + boardURLForDisplay(u.o.db)
	}
	u.status("room " + code + " is ready; the other person runs: " + join)
	u.out.room(code, boardURLForDisplay(u.o.db))
}

// fail reports err as one line (and a JSON error event) and picks the exit status.
func (u *lineUI) fail(err error) int {
	var f *failure
	if !errors.As(err, &f) {
		f = &failure{kind: kindConnection, msg: err.Error(), err: err}
	}
	msg := f.msg
	if f.kind == kindBoard && !u.o.dbGiven {
		msg += "; no internet? the host's gopeer serves a board of its own and prints the -db URL to join with"
	}
	u.out.failed(f.kind, msg)
	fmt.Fprintf(u.stderr, "gopeer: %s\n", msg)
	switch f.kind {
	case kindUsage:
		return exitUsage
	case kindWrongPassword:
		return exitWrongPassword
	case kindCancelled:
		return exitInterrupted
	}
	return exitFailure
}

// boardURLForDisplay drops the query string, where secrets travel.
func boardURLForDisplay(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}

// pionLogs sends pion's own logs to stderr only when $GOPEER_DEBUG is set:
// they would scramble the terminal chat, and at debug level they hold ICE
// credentials.
func pionLogs(e env) logging.LoggerFactory {
	f := logging.NewDefaultLoggerFactory()
	f.Writer = io.Discard
	if e.getenv("GOPEER_DEBUG") != "" {
		f.Writer = e.stderr
	}
	return f
}
