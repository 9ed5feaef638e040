package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	ossignal "os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/pion/logging"
	"golang.org/x/term"
)

// env is the process's outside world, passed in so tests can run gopeer in
// process with their own.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	stdinFd        int // -1 when stdin is not a file
	isTerminal     bool
	// command says how the user runs gopeer (commandName); nil means
	// "gopeer". It is a function because finding out looks through $PATH,
	// which only a host, printing the command to join, needs.
	command func() string
	// limitMemory, when set, is called as a chat or a transfer starts:
	// main's applies the budget to the runtime (see limitMemory); tests
	// leave it nil.
	limitMemory func(memoryBudget)
}

func main() {
	ctx, stop := ossignal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	e := env{
		stdin:   os.Stdin,
		stdout:  os.Stdout,
		stderr:  os.Stderr,
		getenv:  os.Getenv,
		stdinFd: int(os.Stdin.Fd()),
		command: func() string { return commandName(os.Args[0]) },

		limitMemory: limitMemory,
	}
	e.isTerminal = term.IsTerminal(e.stdinFd) && term.IsTerminal(int(os.Stdout.Fd()))
	code := run(ctx, os.Args[1:], e)
	stop()
	os.Exit(code)
}

// commandName is how to run this gopeer again, for the command it prints
// for the other person to join with.
func commandName(argv0 string) string {
	self, err := os.Executable()
	if err != nil {
		return "gopeer"
	}
	onPath, _ := exec.LookPath("gopeer")
	return commandFor(argv0, self, onPath)
}

// commandFor is commandName from how gopeer was started (argv0), where its
// binary is (self), and what "gopeer" on $PATH is ("" for nothing): "go run
// ." under go run (whose binary lives in a go-build directory), "gopeer"
// when that finds this very binary, else the path it was started by
// (./gopeer, say), which works where "gopeer" would not.
func commandFor(argv0, self, onPath string) string {
	switch {
	case strings.Contains(filepath.ToSlash(self), "/go-build"):
		return "go run ."
	case onPath != "" && sameFile(onPath, self):
		return "gopeer"
	case strings.ContainsRune(argv0, os.PathSeparator):
		return argv0
	}
	return "gopeer"
}

// sameFile reports whether two paths name one file.
func sameFile(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

// run is gopeer from arguments to exit status.
func run(ctx context.Context, args []string, e env) int {
	cfg, err := parseConfig(args, e)
	if err != nil {
		out := &jsonOrText{w: e.stdout, json: wantsJSON(args)}
		return reportFailure(e.stderr, out, err)
	}
	switch cfg.mode {
	case modeUsage:
		fmt.Fprint(e.stdout, shortUsage)
		return exitOK
	case modeManual:
		fmt.Fprint(e.stdout, manual())
		return exitOK
	case modeVersion:
		fmt.Fprintln(e.stdout, versionString())
		return exitOK
	case modeServe:
		return runServe(ctx, cfg, e)
	case modeJanitor:
		return runJanitor(ctx, cfg.janitor, e)
	}
	return runChat(ctx, cfg, e)
}

// reportFailure renders a failure at the edge, on stderr and, with -json,
// as an error event, and returns its exit status.
func reportFailure(stderr io.Writer, out *jsonOrText, err error) int {
	f := asFailure(err)
	out.failed(f)
	printFailure(stderr, f)
	return exitStatus(f.kind)
}

// memoryBudget is how the Go runtime's own memory (heap, stacks and
// metadata; not the binary's mapped pages) is held down during a run.
type memoryBudget struct {
	// limit is the runtime's soft memory limit. Being soft, it never
	// refuses memory; a bigger live heap is only collected more often.
	limit int64
	// collectOnlyAtLimit turns off the collector's usual pacing (a cycle
	// each time the heap doubles what is live), so the limit alone starts
	// a cycle.
	collectOnlyAtLimit bool
}

// chatMemory is a chat's budget. What a chat holds is bounded (a 1 MiB
// send buffer, SCTP's 1 MiB window, 64 queued messages), but the collector
// lets the heap grow to twice what is live and overshoots in a burst.
// Under a 14 MiB limit it collects sooner: a 64 MiB bulk transfer peaked at
// 22-24 MiB resident instead of 27-31, at the same speed
// (BenchmarkInterop).
var chatMemory = memoryBudget{limit: 14 << 20}

// transferMemory is the budget while files move. A transfer allocates far
// faster than a chat (pion copies every message and every SCTP chunk):
// under the chat's budget the collector took half the sender's CPU and a
// 1 GiB file moved at 8.7 MB/s; under a 24 MiB limit at 21.4 MB/s; with
// the collector started only by that limit (its live heap is a few MiB, so
// the usual pacing ran a cycle every few MiB sent) at 34.9 MB/s, peaking
// at 32 MiB resident each side (BenchmarkFiles, docs/FILES.md), inside
// issue 14's 48 MiB.
var transferMemory = memoryBudget{limit: 24 << 20, collectOnlyAtLimit: true}

// limitMemory applies a budget to the runtime, unless the user chose one
// with $GOMEMLIMIT (then nothing changes) or chose the pacing with $GOGC
// (then only the limit is set). It reads the process's own environment,
// not env.getenv: that is where the runtime found both.
func limitMemory(b memoryBudget) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(b.limit)
	if b.collectOnlyAtLimit && os.Getenv("GOGC") == "" {
		debug.SetGCPercent(-1)
	}
}

// runChat hosts or joins a room, then chats: on a terminal interactively,
// otherwise in line mode.
func runChat(ctx context.Context, cfg config, e env) int {
	transfer := cfg.mode == modeSend || cfg.mode == modeReceive
	if e.limitMemory != nil {
		budget := chatMemory
		if transfer {
			budget = transferMemory
		}
		e.limitMemory(budget)
	}
	if e.isTerminal && !cfg.json && !cfg.echo && !transfer {
		return runTerminal(ctx, cfg, e)
	}
	ui := newLineUI(e, cfg)
	if err := ui.session(ctx); err != nil {
		return reportFailure(e.stderr, ui.out, err)
	}
	return exitOK
}

// newRoomFlow sets up the handshake on a board chosen for it, reporting to
// events.
func newRoomFlow(m meeting, cfg config, e env, events roomEvents) *roomFlow {
	restartLimit := cfg.reconnect
	if m.own {
		restartLimit = 0 // the board stops once the peers are connected
	}
	return &roomFlow{
		board: m.board,
		dialect: func(code joinCode, password string, s side) dialect {
			if code.secret == "" {
				return newPypeerDialect(code.room, password, time.Now)
			}
			return newNativeDialect(code, password, s == hostSide, cfg.secure, time.Now)
		},
		peer: peerConfig{
			iceServers:    cfg.iceServers,
			gatherTimeout: gatherTimeout,
			pingInterval:  cfg.pingInterval,
			logs:          pionLogs(cfg, e),
		},
		unreachableHint: m.unreachableHint,
		events:          events,
		askCompare:      cfg.verify,
		restartLimit:    restartLimit,
	}
}

// readPassword gets the room password: from -password-file, else
// $GOPEER_PASSWORD, else none. (On a terminal, tui.go asks at a hidden
// prompt when neither is given.) It is trimmed, as pypeer trims it, so both
// derive the same key.
func readPassword(cfg config, getenv func(string) string) (string, error) {
	switch {
	case cfg.passwordFile != "":
		line, err := readFirstLine(cfg.passwordFile, maxPasswordLen)
		if err != nil {
			return "", usageError("-password-file: %v", err)
		}
		return strings.TrimSpace(line), nil
	case getenv("GOPEER_PASSWORD") != "":
		return strings.TrimSpace(getenv("GOPEER_PASSWORD")), nil
	}
	return "", nil
}

// passwordGiven reports whether the password comes from a file or the
// environment rather than a prompt.
func passwordGiven(cfg config, getenv func(string) string) bool {
	return cfg.passwordFile != "" || getenv("GOPEER_PASSWORD") != ""
}

// readCredential reads a secret or a token, which must not be empty, from
// the first line of the file a flag names.
func readCredential(flag, path string) (string, error) {
	line, err := readFirstLine(path, 16<<10)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flag, err)
	}
	value := strings.TrimSpace(line)
	if value == "" {
		return "", fmt.Errorf("%s: the first line is empty", flag)
	}
	return value, nil
}

// readFirstLine reads the first line of a file, at most max bytes of it.
func readFirstLine(path string, max int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max))
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(data), "\n")
	return line, nil
}

// pionLogs sends pion's own logs to stderr only when $GOPEER_DEBUG is set:
// they would scramble the terminal chat, and at debug level they hold ICE
// credentials.
func pionLogs(cfg config, e env) logging.LoggerFactory {
	f := logging.NewDefaultLoggerFactory()
	f.Writer = io.Discard
	if cfg.debug {
		f.Writer = e.stderr
	}
	return f
}
