package main

// This file is gopeer -janitor: it keeps a board clean of stale rooms, as
// pypeer's hourly janitor does (PROTOCOL.md section 1).

import (
	"context"
	"flag"
	"fmt"
)

// janitorUsage documents the janitor's flags; it follows the main usage text.
const janitorUsage = ``

// janitorOptions are the janitor's flags.
type janitorOptions struct{}

// registerJanitorFlags adds the janitor's flags to fs.
func registerJanitorFlags(fs *flag.FlagSet, jo *janitorOptions) {}

// runJanitor purges stale rooms once and returns the exit status.
func runJanitor(ctx context.Context, jo janitorOptions, e env) int {
	fmt.Fprintln(e.stderr, "gopeer: -janitor is not built yet")
	return exitUsage
}
