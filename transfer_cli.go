package main

// This file is gopeer -send and -receive: the file protocol (transfer.go)
// in line mode, with -json events for scripts:
//
//	{"event":"offer","summary":"...","files":3,"dirs":1,"bytes":18}
//	{"event":"progress","name":"...","bytes":N,"total":N,"resumed":N,"rate":N,"eta":S}
//	{"event":"file_done","name":"...","size":N,"sha256":"..."}
//	{"event":"done","files":3,"bytes":18}
//
// and an error event, as every failure, at the end of a failed one.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Failure kinds of a transfer.
const (
	kindRefused  = "refused"  // the receiver said no, or refused the offer
	kindTransfer = "transfer" // a file did not arrive whole and checked
)

// prepareOffer walks and hashes what -send names, before the room opens.
func (u *lineUI) prepareOffer() (*outgoing, error) {
	u.status(fmt.Sprintf("reading and hashing %s", strings.Join(u.cfg.sendPaths, ", ")))
	o, err := buildOffer(u.cfg.sendPaths)
	if err != nil {
		return nil, &failure{kind: kindUsage, msg: err.Error(), err: err}
	}
	for _, s := range o.skipped {
		u.warn("skipped " + s)
	}
	h := o.header()
	if h.Files == 0 && h.Dirs == 0 {
		return nil, &failure{kind: kindUsage, msg: "nothing to send: every path named was skipped"}
	}
	u.status("ready to send " + offerSummary(o.entries, h))
	return o, nil
}

// transfer runs -send or -receive on a connected link. stdin answers the
// questions: the comparison under -verify, and the receiver's yes or no.
func (u *lineUI) transfer(ctx context.Context, chat *lineChat, offer *outgoing) (err error) {
	link := chat.link
	defer link.close()
	if link.files == nil {
		return &failure{kind: kindConnection, msg: "the peer is not a gopeer: files travel only between two gopeers"}
	}
	lines := make(chan string)
	inputDone := make(chan error, 1)
	go chat.readInput(ctx, lines, inputDone)
	if link.mustCompare() {
		if err := chat.compare(ctx, lines, inputDone); err != nil {
			return err
		}
	}
	stop := u.showPeerMeanwhile(link)
	defer stop()
	ev := &transferReport{ui: u}
	if u.cfg.mode == modeSend {
		err = sendFiles(ctx, link.files.out, offer, ev)
	} else {
		err = u.receive(ctx, link, lines, ev)
	}
	if err != nil {
		return transferFailure(err)
	}
	ev.finished()
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout)
	defer cancel()
	_ = link.files.out.drain(dctx)
	_ = link.files.in.drain(dctx)
	return nil
}

// receive takes the sender's offer into -to, asking first unless -yes.
func (u *lineUI) receive(ctx context.Context, link *peerLink, lines <-chan string, ev *transferReport) error {
	land, err := openLanding(u.cfg.receiveTo, u.cfg.overwrite)
	if err != nil {
		return &failure{kind: kindUsage, msg: err.Error(), err: err, hint: "-to names a folder that exists"}
	}
	defer land.close()
	ask := func(ctx context.Context, summary string, h offerHeader) (bool, error) {
		u.out.emit(map[string]any{"event": "offer", "summary": summary, "files": h.Files, "dirs": h.Dirs, "bytes": h.Bytes})
		u.status("the peer offers " + summary)
		if u.cfg.yes {
			return true, nil
		}
		return u.askYesNo(ctx, lines, "receive it into "+sanitizeLine(u.cfg.receiveTo)+"?", "accept")
	}
	return receiveFiles(ctx, link.files.in, receiveOptions{land: land, ask: ask}, ev)
}

// askYesNo asks a question on stderr and reads the answer from stdin: yes
// or no, or with -json {"<field>":true|false}.
func (u *lineUI) askYesNo(ctx context.Context, lines <-chan string, question, field string) (bool, error) {
	hint := "type yes or no"
	if u.cfg.json {
		hint = fmt.Sprintf(`send {"%s":true} or {"%s":false}`, field, field)
	}
	u.status(question + " " + hint)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				return false, errors.New("the input ended before an answer")
			}
			if yes, ok := parseYesNo(line, u.cfg.json, field); ok {
				return yes, nil
			}
			u.warn("not understood; " + hint)
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// parseYesNo reads a yes or a no: a word (yes, y, no, n), or with asJSON
// an object with field set to a boolean. Line mode's questions (-verify's
// comparison, an offer) and the chat's offer prompt all read it so.
func parseYesNo(line string, asJSON bool, field string) (yes, ok bool) {
	if asJSON {
		var in map[string]json.RawMessage
		if json.Unmarshal([]byte(line), &in) != nil {
			return false, false
		}
		err := json.Unmarshal(in[field], &yes)
		return yes, err == nil
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "yes", "y":
		return true, true
	case "no", "n":
		return false, true
	}
	return false, false
}

// showPeerMeanwhile shows what the peer says in the chat during a
// transfer (a terminal user may type), so that its channel never backs
// up; it returns a function that stops it.
func (u *lineUI) showPeerMeanwhile(link *peerLink) func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case m := <-link.incoming:
				if !m.binary {
					u.out.emit(map[string]any{"event": "message", "text": m.text})
					u.status("the peer says: " + sanitizeLine(m.text))
					link.acknowledge()
				}
			case n := <-link.notices:
				u.notice(n)
			case <-done:
				return
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// transferFailure gives a transfer's error its kind.
func transferFailure(err error) error {
	var f *failure
	switch {
	case errors.As(err, &f):
		return f
	case errors.Is(err, errTransferRefused):
		return &failure{kind: kindRefused, msg: err.Error(), err: err}
	case errors.Is(err, context.Canceled):
		return &failure{kind: kindCancelled, msg: "cancelled; what arrived stays as a part file, and sending again resumes it", err: err}
	case errors.Is(err, errTransferCancelled):
		return &failure{kind: kindCancelled, msg: err.Error() + "; what arrived stays as a part file, and sending again resumes it", err: err}
	case errors.Is(err, errPeerLeft), errors.Is(err, errConnectionLost):
		return &failure{kind: kindConnection, msg: "the connection ended mid-transfer", err: err,
			hint: "send again: the receiver keeps what arrived, and the transfer resumes there"}
	}
	var refused *transferRefusal
	if errors.As(err, &refused) {
		return &failure{kind: kindRefused, msg: err.Error(), err: err}
	}
	return &failure{kind: kindTransfer, msg: err.Error(), err: err}
}

// transferReport shows a transfer's progress: -json events at most ten a
// second, and on stderr a line a second, the files as they finish.
type transferReport struct {
	ui       *lineUI
	mu       sync.Mutex
	lastLine time.Time
	said     bool // the resume was announced
	files    int
	bytes    int64
}

func (r *transferReport) progress(p transferProgress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ui.out.emit(map[string]any{"event": "progress", "name": p.name, "bytes": p.done, "total": p.total,
		"resumed": p.resumed, "rate": int64(p.rate), "eta": p.eta.Round(time.Second).Seconds()})
	if p.resumed > 0 && !r.said && p.total > 0 {
		r.said = true
		r.ui.status(fmt.Sprintf("resuming at %d%%", p.resumed*100/p.total))
	}
	if time.Since(r.lastLine) < time.Second || p.total == 0 {
		return
	}
	r.lastLine = time.Now()
	r.ui.status(progressLine(p))
}

// progressLine is one progress report for people.
func progressLine(p transferProgress) string {
	line := fmt.Sprintf("%s %d%% (%s of %s), %.1f MB/s", sanitizeLine(p.name), p.done*100/max(p.total, 1),
		formatBytes(p.done), formatBytes(p.total), p.rate/1e6)
	if p.eta > 0 {
		line += fmt.Sprintf(", about %v left", p.eta.Round(time.Second))
	}
	return line
}

func (r *transferReport) fileDone(e offerEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.files++
	r.bytes += e.Size
	r.ui.out.emit(map[string]any{"event": "file_done", "name": e.Path, "size": e.Size, "sha256": e.SHA256})
	verb := "received"
	if r.ui.cfg.mode == modeSend {
		verb = "sent"
	}
	r.ui.status(fmt.Sprintf("%s %s (%s), SHA-256 checked", verb, sanitizeLine(e.Path), formatBytes(e.Size)))
}

// finished reports the whole transfer done.
func (r *transferReport) finished() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ui.out.emit(map[string]any{"event": "done", "files": r.files, "bytes": r.bytes})
	if r.ui.cfg.mode == modeSend {
		r.ui.status("done: the receiver has every file, and every SHA-256 matched")
	} else {
		r.ui.status("done: every file arrived in " + sanitizeLine(r.ui.cfg.receiveTo) + ", and every SHA-256 matched")
	}
}
