package main

// This file is file transfer in the terminal chat: /send PATH offers a
// file or a folder, an offer from the peer is asked about above the
// draft, and each transfer's progress is drawn on the status row of the
// input area, so the chat and the line being typed carry on.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// tuiFiles are one chat's transfers: at most one each way.
type tuiFiles struct {
	t      *tui
	ctx    context.Context // the chat's: it ends every transfer
	link   *peerLink
	dir    string // where received files land: the current folder
	events chan fileEvent

	sending, receiving *tuiTransfer
	question           *offerQuestion // an offer waiting for y or n
	running            sync.WaitGroup // the goroutines, for stop
}

// tuiTransfer is one transfer under way.
type tuiTransfer struct {
	cancel   context.CancelFunc
	progress transferProgress
	said     bool // its resume was announced
}

// offerQuestion is the peer's offer, waiting for this user's answer.
type offerQuestion struct {
	summary string
	answer  chan bool
	cancel  context.CancelFunc
}

// fileEvent is what a transfer's goroutine tells the chat loop.
type fileEvent struct {
	outgoing bool // this side sends
	kind     string
	progress transferProgress
	entry    offerEntry
	err      error
	question *offerQuestion
	summary  string
}

// startFiles sets up transfers for a chat; in a pypeer session there are
// none. It starts listening for the peer's offers.
func (t *tui) startFiles(ctx context.Context, link *peerLink) *tuiFiles {
	f := &tuiFiles{t: t, ctx: ctx, link: link, events: make(chan fileEvent, 16), dir: "."}
	if link.files != nil {
		f.running.Go(func() { f.listen(ctx) })
	}
	return f
}

// stop cancels what is under way and waits for its goroutines; the
// chat's context has ended.
func (f *tuiFiles) stop() {
	for _, x := range []*tuiTransfer{f.sending, f.receiving} {
		if x != nil {
			x.cancel()
		}
	}
	if f.question != nil {
		f.question.cancel()
	}
	f.running.Wait()
}

// emit passes an event to the chat loop, unless the chat has ended.
func (f *tuiFiles) emit(ctx context.Context, ev fileEvent) {
	select {
	case f.events <- ev:
	case <-ctx.Done():
	}
}

// listen takes the peer's offers, one after another, until the chat ends.
func (f *tuiFiles) listen(ctx context.Context) {
	for ctx.Err() == nil {
		land, err := openLanding(f.dir, false)
		if err != nil {
			f.emit(ctx, fileEvent{kind: "failed", err: err})
			return
		}
		tctx, cancel := context.WithCancel(ctx)
		ask := func(ctx context.Context, summary string, h offerHeader) (bool, error) {
			q := &offerQuestion{summary: summary, answer: make(chan bool, 1), cancel: cancel}
			f.emit(ctx, fileEvent{kind: "offer", question: q})
			select {
			case yes := <-q.answer:
				return yes, nil
			case <-ctx.Done():
				return false, ctx.Err()
			}
		}
		err = receiveFiles(tctx, f.link.files.in, receiveOptions{land: land, ask: ask}, fileReporter{f, ctx, false})
		cancel()
		land.close()
		if ctx.Err() != nil {
			return
		}
		f.emit(ctx, fileEvent{kind: "end", err: err})
	}
}

// fileReporter turns a transfer's reports into events for the chat loop.
type fileReporter struct {
	f        *tuiFiles
	ctx      context.Context
	outgoing bool
}

func (r fileReporter) progress(p transferProgress) {
	r.f.emit(r.ctx, fileEvent{outgoing: r.outgoing, kind: "progress", progress: p})
}
func (r fileReporter) fileDone(e offerEntry) {
	r.f.emit(r.ctx, fileEvent{outgoing: r.outgoing, kind: "file", entry: e})
}

// send starts /send: the offer is read and hashed, then sent, in the
// background.
func (f *tuiFiles) send(path string) {
	switch {
	case f.link.files == nil:
		f.t.ed.printAbove(f.t.yellow("! Files travel only between two gopeers: this is a pypeer session."))
		return
	case path == "":
		f.t.ed.printAbove(f.t.yellow("! /send needs a file or a folder: /send PATH (Tab completes it)."))
		return
	case f.sending != nil:
		f.t.ed.printAbove(f.t.yellow("! A transfer is already going out; /cancel stops it."))
		return
	}
	ctx := f.ctx
	f.allowTransferMemory()
	tctx, cancel := context.WithCancel(ctx)
	f.sending = &tuiTransfer{cancel: cancel}
	f.t.ed.printAbove("Reading and hashing " + sanitizeLine(path) + "…")
	f.running.Go(func() {
		defer cancel()
		o, err := buildOffer([]string{expandHome(path)})
		if err != nil {
			f.emit(ctx, fileEvent{outgoing: true, kind: "end", err: err})
			return
		}
		for _, s := range o.skipped {
			f.emit(ctx, fileEvent{outgoing: true, kind: "note", summary: "skipped " + s})
		}
		f.emit(ctx, fileEvent{outgoing: true, kind: "offered", summary: offerSummary(o.entries, o.header())})
		err = sendFiles(tctx, f.link.files.out, o, fileReporter{f, ctx, true})
		f.emit(ctx, fileEvent{outgoing: true, kind: "end", err: err})
	})
}

// allowTransferMemory switches to a transfer's memory budget (see
// transferMemory) for the rest of the run: files move at a quarter of
// the speed under the chat's.
func (f *tuiFiles) allowTransferMemory() {
	if f.t.e.limitMemory != nil {
		f.t.e.limitMemory(transferMemory)
	}
}

// expandHome reads a leading ~/ as the home folder, as a shell would.
func expandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return p
}

// cancel stops both transfers, if any, and declines a pending offer.
func (f *tuiFiles) cancel() {
	any := false
	for _, x := range []*tuiTransfer{f.sending, f.receiving} {
		if x != nil {
			x.cancel()
			any = true
		}
	}
	if f.question != nil {
		f.answer(false)
		any = true
	}
	if !any {
		f.t.ed.printAbove(f.t.yellow("! No transfer to cancel."))
	}
}

// answer gives the user's answer to the pending offer.
func (f *tuiFiles) answer(yes bool) {
	q := f.question
	f.question = nil
	q.answer <- yes
	if yes {
		f.allowTransferMemory()
		f.receiving = &tuiTransfer{cancel: q.cancel}
		f.t.ed.printAbove("Receiving into " + sanitizeLine(absDir(f.dir)) + ".")
	} else {
		f.t.ed.printAbove("Declined.")
	}
	f.drawStatus()
}

func absDir(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// takesAnswer reports whether a typed line answers the pending offer, and
// answers it.
func (f *tuiFiles) takesAnswer(line string) bool {
	if f.question == nil {
		return false
	}
	yes, ok := parseYesNo(line, false, "")
	if ok {
		f.answer(yes)
	}
	return ok
}

// handle acts on one event from a transfer.
func (f *tuiFiles) handle(ev fileEvent) {
	t := f.t
	x := f.receiving
	if ev.outgoing {
		x = f.sending
	}
	switch ev.kind {
	case "offer":
		f.question = ev.question
		t.ed.printAbove(t.bold("The peer offers "+ev.question.summary+".") + " Receive into " +
			sanitizeLine(absDir(f.dir)) + "? Type y or n and press Enter.")
	case "offered":
		t.ed.printAbove("Offered " + ev.summary + "; waiting for the peer to say yes.")
	case "note":
		t.ed.printAbove(t.yellow("! " + capitalize(sanitize(ev.summary)) + "."))
	case "progress":
		if x != nil {
			x.progress = ev.progress
			if ev.progress.resumed > 0 && !x.said && ev.progress.total > 0 {
				x.said = true
				t.ed.printAbove(fmt.Sprintf("Resuming at %d%%.", ev.progress.resumed*100/ev.progress.total))
			}
		}
	case "file":
		if !ev.outgoing {
			t.ed.printAbove(t.green("✓") + " Received " + sanitizeLine(ev.entry.Path) + " (" + formatBytes(ev.entry.Size) + "), SHA-256 checked.")
		}
	case "end":
		f.end(ev)
	case "failed":
		t.ed.printAbove(t.red("! Cannot receive files: " + sanitize(ev.err.Error())))
	}
	f.drawStatus()
}

// end reports a transfer's end, either way.
func (f *tuiFiles) end(ev fileEvent) {
	t := f.t
	way := "receiving"
	if ev.outgoing {
		way = "sending"
		f.sending = nil
	} else {
		f.receiving = nil
		f.question = nil
	}
	var refused *transferRefusal
	switch {
	case !ev.outgoing && errors.As(ev.err, &refused) && errors.Is(ev.err, errTransferRefused):
		// this user said no: "Declined." said it
	case !ev.outgoing && errors.As(ev.err, &refused):
		t.ed.printAbove(t.yellow("! Refused the peer's offer: " + sanitize(ev.err.Error())))
	case ev.err == nil && ev.outgoing:
		t.ed.printAbove(t.green("✓") + " Sent: the peer has every file, and every SHA-256 matched.")
	case ev.err == nil:
		t.ed.printAbove(t.green("✓") + " Done: every file arrived, and every SHA-256 matched.")
	default:
		f.t.ed.printAbove(t.yellow("! Stopped " + way + ": " + sanitize(failureMessage(transferFailure(ev.err)))))
	}
}

// drawStatus shows both transfers' progress on the status row.
func (f *tuiFiles) drawStatus() {
	var parts []string
	if f.sending != nil {
		parts = append(parts, "↑ "+progressBar(f.sending.progress))
	}
	if f.receiving != nil {
		parts = append(parts, "↓ "+progressBar(f.receiving.progress))
	}
	if f.question != nil {
		parts = append(parts, "offer waiting: y or n")
	}
	f.t.ed.setStatus(strings.Join(parts, "  │  "))
}

// progressBar is one transfer's progress in a few columns: a bar, the
// percentage, the bytes, the name, the rate and the time left.
func progressBar(p transferProgress) string {
	if p.total == 0 {
		return "starting…"
	}
	const width = 12
	filled := int(p.done * width / p.total)
	bar := strings.Repeat("█", filled) + strings.Repeat("░", width-filled)
	s := fmt.Sprintf("%s %3d%% %s of %s %s", bar, p.done*100/p.total, formatBytes(p.done), formatBytes(p.total), sanitizeLine(shortName(p.name)))
	if p.rate > 0 {
		s += fmt.Sprintf(" %.1f MB/s", p.rate/1e6)
	}
	if p.eta > 0 {
		s += " " + p.eta.Round(time.Second).String() + " left"
	}
	if p.resumed > 0 {
		s += fmt.Sprintf(" (resumed at %d%%)", p.resumed*100/p.total)
	}
	return s
}

// shortName keeps a long name to its last 24 characters.
func shortName(name string) string {
	r := []rune(name)
	if len(r) > 24 {
		return "…" + string(r[len(r)-23:])
	}
	return name
}

// completePath completes the path at the end of a /send line: to the
// longest prefix all matches share, with a / after a lone folder. It
// returns the new path and, when several match, their names (at most 20).
func completePath(typed string) (string, []string) {
	dir, base := filepath.Split(typed)
	look := expandHome(dir)
	if look == "" {
		look = "."
	}
	entries, err := os.ReadDir(look)
	if err != nil {
		return typed, nil
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, base) || (strings.HasPrefix(n, ".") && !strings.HasPrefix(base, ".")) {
			continue
		}
		if e.IsDir() {
			n += "/"
		}
		names = append(names, n)
		if len(names) > 1000 {
			break
		}
	}
	slices.Sort(names)
	switch len(names) {
	case 0:
		return typed, nil
	case 1:
		return dir + names[0], nil
	}
	common := names[0]
	for _, n := range names[1:] {
		for !strings.HasPrefix(n, common) {
			_, size := utf8.DecodeLastRuneInString(common)
			common = common[:len(common)-size]
		}
	}
	return dir + common, names[:min(len(names), 20)]
}

// complete acts on Tab: after /send, it completes the path; elsewhere the
// editor types a space.
func (f *tuiFiles) complete(k key) bool {
	draft := f.t.ed.draft()
	rest, ok := strings.CutPrefix(draft, "/send ")
	if !ok {
		return false
	}
	done, options := completePath(rest)
	if len(options) > 1 && done == rest {
		shown := make([]string, len(options))
		for i, o := range options {
			shown[i] = sanitizeLine(o)
		}
		f.t.ed.printAbove(strings.Join(shown, "  "))
	}
	f.t.ed.setDraft("/send " + done)
	return true
}
