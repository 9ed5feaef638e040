package main

// What gopeer says about itself: -h, -help and -version.

import (
	_ "embed"
	"fmt"
	"runtime/debug"
	"strings"
)

// shortUsage is -h: enough to start, and where the rest is.
const shortUsage = `Usage:
    gopeer                      a menu: host or join (on a terminal)
    gopeer -host [-room CODE]   host a room; prints the code to share
    gopeer -join CODE           join a room (a gopeer code, or a room code)
    gopeer -send PATH...        send files and folders to another gopeer
    gopeer -receive CODE        receive them (-to DIR, -yes, -overwrite)
    gopeer -host -serve ADDR    host on a board of your own (LAN mode)
    gopeer -serve ADDR          run a board for others
    gopeer -janitor             purge stale rooms from a Firebase board

Options:
    -db URL              the board (default $PYPEER_URL, else pypeer's public one)
    -ice URLS            stun: and turn: servers, or none (default Google's STUN)
    -timeout DURATION    how long to wait for the peer (default 3m)
    -password-file FILE  the room password (else $GOPEER_PASSWORD, or a prompt)
    -json                line mode with JSON events
    -secure              host: accept only a gopeer that proves the code
    -verify              both compare a number before the chat starts

gopeer -help prints the whole manual (go doc does too); -version the version.
`

// docSource is this package's doc.go, whose comment is the manual: one
// text for go doc and for -help.
//
//go:embed doc.go
var docSource string

// manual renders doc.go's comment for a terminal: the comment markers go,
// headings lose their #, and code blocks keep a four-space indent.
func manual() string {
	var b strings.Builder
	for line := range strings.Lines(docSource) {
		text, ok := strings.CutPrefix(strings.TrimRight(line, "\n"), "//")
		if !ok {
			break // the comment ends at "package main"
		}
		text = strings.TrimPrefix(text, " ")
		switch {
		case strings.HasPrefix(text, "# "):
			text = strings.ToUpper(text[2:])
		case strings.HasPrefix(text, "\t"):
			text = "    " + strings.ReplaceAll(text[1:], "\t", "    ")
		}
		b.WriteString(text + "\n")
	}
	return b.String()
}

// versionString is gopeer's version: the one release builds stamp
// (-ldflags "-X main.version=v1.2.3"), else the module's version from the
// build info (go install gopeer@v1.2.3), else the commit it was built from.
func versionString() string {
	info, ok := debug.ReadBuildInfo()
	v := version
	if v == "dev" && ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v = info.Main.Version
	}
	if !ok {
		return "gopeer " + v + "; speaks " + pypeerDialectVersion
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value[:min(12, len(s.Value))]
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		}
	}
	if v == "dev" && rev != "" {
		v = fmt.Sprintf("dev (%s%s)", rev, modified)
	}
	return fmt.Sprintf("gopeer %s, %s; speaks %s", v, info.GoVersion, pypeerDialectVersion)
}
