package main

// How gopeer fails: every error a user sees is a failure with a kind (what
// scripts and the exit status go by), a message (what went wrong) and,
// where there is one, a hint (what to try). Failures are made where the
// cause is known and rendered at the edge, once: on stderr as an error
// line and a hint line, in -json as one error event, on the interactive
// screen as a red line and a plain one.
//
// UI rules, for every message gopeer prints:
//   - A message says what happened, in the user's terms, starting lower
//     case, with no trailing period; a hint says what to do about it.
//   - Nothing that gopeer did not write itself (a peer's text, a board's
//     answer, a path) reaches the terminal unsanitized.
//   - Secrets never appear: board URLs are shown without their query.
//   - One failure is one error line and at most one hint line; warnings
//     are for what went wrong while gopeer carries on.

import (
	"errors"
	"fmt"
	"io"
)

// failure is an error a user sees.
type failure struct {
	kind string // one of the kinds below
	msg  string // what went wrong
	hint string // what to try; "" when there is nothing to add
	err  error  // the cause, for errors.Is and errors.As
}

func (f *failure) Error() string { return f.msg }
func (f *failure) Unwrap() error { return f.err }

// Failure kinds, as -json reports them.
const (
	kindUsage         = "usage"
	kindWrongPassword = "wrong_password"
	kindTimeout       = "timeout"
	kindBoard         = "board"
	kindConnection    = "connection"
	kindRoomInUse     = "room_in_use"
	kindCancelled     = "cancelled"
	kindNotVerified   = "not_verified" // the verification strings differed (-verify)
)

// Exit statuses: scripts rely on them, and a terminal session exits with
// the same ones as line mode.
const (
	exitOK            = 0
	exitFailure       = 1
	exitUsage         = 2
	exitWrongPassword = 3
	exitInterrupted   = 130
)

// exitStatus is the exit status of a failure of this kind.
func exitStatus(kind string) int {
	switch kind {
	case kindUsage:
		return exitUsage
	case kindWrongPassword:
		return exitWrongPassword
	case kindCancelled:
		return exitInterrupted
	}
	return exitFailure
}

// usageError is a failure of the command line itself.
func usageError(format string, args ...any) *failure {
	return &failure{kind: kindUsage, msg: fmt.Sprintf(format, args...), hint: "gopeer -h shows the usage"}
}

// asFailure views any error as a failure; one that is not already one is
// a failed connection, the only kind left.
func asFailure(err error) *failure {
	var f *failure
	if errors.As(err, &f) {
		return f
	}
	return &failure{kind: kindConnection, msg: err.Error(), err: err}
}

// printFailure writes a failure to a terminal or log as age does: an
// error line, then the hint on a line of its own. Both are sanitized:
// a message may quote what a board or a peer sent.
func printFailure(w io.Writer, f *failure) {
	if f.kind == kindCancelled { // the user's own doing: no error
		fmt.Fprintf(w, "gopeer: %s\n", sanitizeLine(f.msg))
		return
	}
	fmt.Fprintf(w, "gopeer: error: %s\n", sanitizeLine(f.msg))
	if f.hint != "" {
		fmt.Fprintf(w, "gopeer: hint: %s\n", sanitizeLine(f.hint))
	}
}
