package main

// This file resolves the command line and the environment, once, into a
// config that says what this run does. Nothing changes a config after
// parseConfig returns it: a board chosen for one room (a fallback, a LAN
// board) belongs to that room's flow, never to the config.

import (
	"cmp"
	"errors"
	"flag"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/pion/webrtc/v4"
)

// defaultBoardURL is pypeer's public board, so both programs meet there.
const defaultBoardURL = "https://liminalport-default-rtdb.firebaseio.com/"

const (
	defaultTimeout = 180 * time.Second // pypeer's wait for an offer or an answer
	gatherTimeout  = 5 * time.Second
	drainTimeout   = 30 * time.Second
	maxPasswordLen = 4096
)

// mode is what a run does.
type mode int

const (
	modeMenu    mode = iota // plain gopeer on a terminal: host or join, again and again
	modeHost                // -host: host one room
	modeJoin                // -join CODE: join one room
	modeServe               // -serve ADDR: run a board
	modeJanitor             // -janitor: purge stale rooms
	modeUsage               // -h: the short usage
	modeManual              // -help: the whole manual
	modeVersion             // -version
	modeSend                // -send PATH...: host a secure room and send files
	modeReceive             // -receive CODE: join a sender's room and receive files
)

// side is the end of a room a host or join run takes.
func (m mode) side() side {
	if m == modeHost || m == modeSend {
		return hostSide
	}
	return joinSide
}

// config is one run of gopeer, resolved.
type config struct {
	mode mode

	// The chat: host, join and the menu.
	room         string             // -room for a host, the code for a joiner (a room code or a gopeer code); normalized
	secure       bool               // -secure (or -verify): a host accepts only a confirmed gopeer
	verify       bool               // -verify: both users compare the verification string before the chat
	sendPaths    []string           // -send: the files and folders to send
	receiveTo    string             // -receive -to DIR: where files land
	yes          bool               // -receive -yes: take the offer without asking
	overwrite    bool               // -receive -overwrite: replace files already there
	board        string             // the board to meet on: -db, else $PYPEER_URL, else pypeer's public board
	boardGiven   bool               // -db was given: a host never falls back to a board of its own
	lan          string             // -host -serve ADDR: the host serves its room's board there
	iceServers   []webrtc.ICEServer // from -ice, with TURN credentials from the environment
	timeout      time.Duration      // -timeout
	reconnect    time.Duration      // -reconnect: how long a broken gopeer session tries to come back; 0 never
	passwordFile string             // -password-file
	json         bool               // -json
	echo         bool               // -echo
	pingInterval time.Duration      // $GOPEER_PING_INTERVAL; 0 keeps the dialect's
	debug        bool               // $GOPEER_DEBUG: pion's logs on stderr
	command      string             // how the user runs gopeer, for the commands it prints

	// A board of one's own (-serve, and -host -serve) and the janitor.
	serve     string // -serve ADDR
	boardOpts boardOptions
	janitor   janitorOptions
}

// parseConfig parses and checks the command line. Errors are usage
// failures.
func parseConfig(args []string, e env) (config, error) {
	c := config{command: "gopeer"}
	var host, send, help, showVersion bool
	var join, receive, ice, db string
	fs := flag.NewFlagSet("gopeer", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.BoolVar(&host, "host", false, "")
	fs.StringVar(&join, "join", "", "")
	fs.StringVar(&c.serve, "serve", "", "")
	fs.BoolVar(&help, "help", false, "")
	fs.BoolVar(&showVersion, "version", false, "")
	janitor := fs.Bool("janitor", false, "")
	fs.StringVar(&c.room, "room", "", "")
	fs.StringVar(&db, "db", "", "")
	fs.StringVar(&ice, "ice", strings.Join(defaultICE, ","), "")
	fs.DurationVar(&c.timeout, "timeout", defaultTimeout, "")
	fs.DurationVar(&c.reconnect, "reconnect", defaultReconnect, "")
	fs.StringVar(&c.passwordFile, "password-file", "", "")
	fs.BoolVar(&c.json, "json", false, "")
	fs.BoolVar(&c.echo, "echo", false, "")
	fs.BoolVar(&c.secure, "secure", false, "")
	fs.BoolVar(&c.verify, "verify", false, "")
	fs.BoolVar(&send, "send", false, "")
	fs.StringVar(&receive, "receive", "", "")
	fs.StringVar(&c.receiveTo, "to", "", "")
	fs.BoolVar(&c.yes, "yes", false, "")
	fs.BoolVar(&c.overwrite, "overwrite", false, "")
	registerBoardFlags(fs, &c.boardOpts)
	registerJanitorFlags(fs, &c.janitor)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		c.mode = modeUsage
		return c, nil
	case err != nil:
		return c, usageError("%v", err)
	case fs.NArg() > 0 && !send:
		return c, usageError("unexpected argument %q", fs.Arg(0))
	case help:
		c.mode = modeManual
		return c, nil
	case showVersion:
		c.mode = modeVersion
		return c, nil
	}
	// -host -serve ADDR is LAN mode: the host runs the room's board itself.
	if host && c.serve != "" {
		c.lan, c.serve = c.serve, ""
	}
	c.sendPaths = fs.Args()
	if err := c.chooseMode(host, join != "", *janitor, e.isTerminal, send, receive != ""); err != nil {
		return c, err
	}
	if receive != "" {
		join = receive
	}
	if err := c.resolve(join, db, ice, e.getenv); err != nil {
		return c, err
	}
	if e.command != nil && (c.mode == modeHost || c.mode == modeMenu || c.mode == modeSend) {
		c.command = e.command()
	}
	return c, nil
}

// chooseMode sets the mode from the flags that pick one, and refuses flags
// that do not go with it.
func (c *config) chooseMode(host, join, janitor, terminal, send, receive bool) error {
	picked := 0
	for _, on := range []bool{host, join, c.serve != "", janitor, send, receive} {
		if on {
			picked++
		}
	}
	switch {
	case picked > 1:
		return usageError("choose one of -host, -join, -send, -receive, -serve and -janitor")
	case c.room != "" && !host && !send:
		return usageError("-room goes with -host or -send")
	case host:
		c.mode = modeHost
	case join:
		c.mode = modeJoin
	case send:
		c.mode = modeSend
	case receive:
		c.mode = modeReceive
	case c.serve != "":
		c.mode = modeServe
	case janitor:
		c.mode = modeJanitor
	case c.json || !terminal:
		return usageError("choose -host or -join CODE (the menu needs a terminal)")
	default:
		c.mode = modeMenu
	}
	chat := c.mode == modeHost || c.mode == modeJoin || c.mode == modeMenu
	transfer := c.mode == modeSend || c.mode == modeReceive
	switch {
	case c.json && !chat && !transfer || c.json && c.mode == modeMenu:
		return usageError("-json goes with -host, -join, -send or -receive")
	case c.echo && c.mode != modeHost && c.mode != modeJoin:
		return usageError("-echo goes with -host or -join")
	case c.secure && c.mode != modeHost && c.mode != modeMenu:
		return usageError("-secure goes with -host (a joiner with a gopeer code accepts only a gopeer already; -send is always secure)")
	case c.verify && !chat && !transfer:
		return usageError("-verify goes with -host, -join, -send or -receive")
	case c.verify && c.echo:
		return usageError("-verify needs a person at this end to compare the numbers: leave out -echo")
	case c.mode == modeSend && len(c.sendPaths) == 0:
		return usageError("-send needs the files or folders to send, after the flags: gopeer -send PATH...")
	case (c.receiveTo != "" || c.yes || c.overwrite) && c.mode != modeReceive:
		return usageError("-to, -yes and -overwrite go with -receive")
	case c.timeout <= 0:
		return usageError("-timeout must be positive, like 3m or 90s")
	case c.reconnect < 0:
		return usageError("-reconnect must be a duration, like 2m, or 0 to end a session whose path breaks")
	}
	// A pypeer session has nothing to compare, and cannot carry files: a
	// host that must compare, or sends files, takes gopeers only.
	c.secure = c.secure || c.verify || c.mode == modeSend
	if c.mode == modeReceive && c.receiveTo == "" {
		c.receiveTo = "."
	}
	return nil
}

// resolve fills in what the flags and the environment say for the chosen
// mode: the room code, the board, the ICE servers.
func (c *config) resolve(join, db, ice string, getenv func(string) string) error {
	var err error
	switch {
	case c.mode == modeJoin || c.mode == modeReceive:
		code, err := parseJoinCode(join)
		if err != nil {
			return usageError("%v", err)
		}
		if c.verify && code.secret == "" {
			return errCompareNeedsGopeerCode
		}
		if c.mode == modeReceive && code.secret == "" {
			return &failure{kind: kindUsage, msg: "-receive needs the sender's whole gopeer code (like K7P2M0-4F9Q-XW): files travel only between two gopeers",
				hint: "the sender's screen shows it, with the exact command to run"}
		}
		c.room = code.String()
	case c.room != "":
		if c.room, err = normalizeRoomCode(c.room); err != nil {
			return usageError("%v", err)
		}
	}
	if c.lan != "" && db != "" {
		return usageError("-host -serve runs its own board: leave out -db")
	}
	if c.mode == modeJanitor {
		// The janitor never falls back to $PYPEER_URL or the public
		// board: it cleans only the database it is told to.
		c.janitor.db = db
		c.janitor.secretFile = c.boardOpts.secretFile
		return nil
	}
	c.boardGiven = db != ""
	c.board = cmp.Or(db, getenv("PYPEER_URL"), defaultBoardURL)
	if _, err := clientParseBase(c.board); err != nil {
		return usageError("-db: %v", err)
	}
	if c.iceServers, err = parseICEServers(ice, getenv); err != nil {
		return usageError("%v", err)
	}
	c.pingInterval = pingIntervalFrom(getenv("GOPEER_PING_INTERVAL"))
	c.debug = getenv("GOPEER_DEBUG") != ""
	return nil
}

// pingIntervalFrom reads $GOPEER_PING_INTERVAL, a Go duration of 10ms or
// more, so the interop tests see gopeer's keep-alive reach an aiortc peer
// without waiting pypeer's 15 s. Anything else keeps the dialect's.
func pingIntervalFrom(s string) time.Duration {
	if d, err := time.ParseDuration(s); err == nil && d >= 10*time.Millisecond {
		return d
	}
	return 0
}

// wantsJSON reports whether args ask for -json, for reporting a command
// line that does not parse: even that failure is a JSON event then.
func wantsJSON(args []string) bool {
	for _, a := range args {
		if a == "--" {
			break // what follows is not a flag
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name != "json" {
			continue
		}
		on, err := strconv.ParseBool(value)
		return !hasValue || (err == nil && on)
	}
	return false
}

// joinCommand is the command that joins code on this run's board, as the
// other person types it: with -db unless the board is pypeer's public one.
func (c config) joinCommand(code, boardURL string) string {
	verb := " -join "
	if c.mode == modeSend {
		verb = " -receive "
	}
	cmd := c.command + verb + code
	if boardURL != defaultBoardURL {
		cmd += " -db " + boardURLForDisplay(boardURL)
	}
	return cmd
}

// boardURLForDisplay drops the query string, where secrets travel.
func boardURLForDisplay(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}
