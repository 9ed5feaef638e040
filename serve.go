package main

// This file runs gopeer's board as a process of its own (-serve), inside a
// host (LAN mode), or as a host's fallback when the public board is out of
// reach.

import (
	"context"
	"flag"
	"fmt"
	"net"
	"strings"
	"time"
)

// boardUsage documents the board's flags; it follows the main usage text.
const boardUsage = ``

// registerBoardFlags adds the board's own flags to fs.
func registerBoardFlags(fs *flag.FlagSet, bo *boardOptions) {}

// runServe runs a board until interrupted.
func runServe(ctx context.Context, o options, e env) int {
	ln, err := net.Listen("tcp", o.serve)
	if err != nil {
		fmt.Fprintf(e.stderr, "gopeer: cannot serve on %s: %v\n", o.serve, err)
		return exitFailure
	}
	fmt.Fprintln(e.stdout, listenURL(ln.Addr()))
	if err := serveBoard(ctx, ln, newBoard(o.board)); err != nil {
		fmt.Fprintf(e.stderr, "gopeer: board: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// embeddedBoard runs a board inside this process, for LAN mode and for a
// host that cannot reach the public board. It returns the URL a peer on
// this network uses, and a stop function.
func embeddedBoard(ctx context.Context, addr string, bo boardOptions) (string, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, &failure{kind: kindBoard, msg: "cannot serve a board on " + addr + ": " + err.Error(), err: err}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = serveBoard(ctx, ln, newBoard(bo))
	}()
	stop := func() { cancel(); <-done }
	return lanURL(ln.Addr()), stop, nil
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
func lanURL(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !(tcp.IP == nil || tcp.IP.IsUnspecified()) {
		return listenURL(a)
	}
	if ip := firstLANAddress(); ip != nil {
		return "http://" + net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
	}
	return listenURL(a)
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
	if board, err = newBoardClient(o.db, nil); err != nil {
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
	board, err = newBoardClient(url, nil)
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
func listenURL(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return "http://" + a.String()
	}
	ip := tcp.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return "http://" + net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}
