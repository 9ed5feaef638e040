package main

// This file runs the file protocol (transfer.go) from either end: the
// sender, which offers and streams, and the receiver, which checks, asks,
// writes and verifies (transferdisk.go).

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// transferEvents is what a transfer tells its user.
type transferEvents interface {
	// progress reports bytes moved; at most progressEvery apart, and
	// once at the end of each file.
	progress(p transferProgress)
	// fileDone says one file arrived (receiver) or was sent whole
	// (sender), checked.
	fileDone(e offerEntry)
}

// transferProgress is how far a transfer is.
type transferProgress struct {
	name    string        // the file moving now
	done    int64         // bytes of the whole transfer moved or held
	total   int64         // bytes of the whole transfer
	resumed int64         // bytes held before this transfer began (resume)
	rate    float64       // bytes a second, this transfer's own
	eta     time.Duration // 0 when unknown
}

// progressEvery spaces progress reports: at most ten a second.
const progressEvery = 100 * time.Millisecond

// acceptance is the receiver's answer to an offer: which files it holds
// whole, and which in part (with the part's SHA-256, for the sender to
// check before sending only the rest).
type acceptance struct {
	Whole []int        `json:"whole,omitempty"`
	Parts []acceptPart `json:"parts,omitempty"`
}

type acceptPart struct {
	Index  int    `json:"i"`
	Have   int64  `json:"have"`
	SHA256 string `json:"sha256"`
}

// progressMeter turns bytes moved into throttled progress reports.
type progressMeter struct {
	ev      transferEvents
	total   int64
	resumed int64
	done    int64
	start   time.Time
	last    time.Time
}

func newProgressMeter(ev transferEvents, total, resumed int64) *progressMeter {
	now := time.Now()
	return &progressMeter{ev: ev, total: total, resumed: resumed, done: resumed, start: now}
}

// add counts n more bytes of name; force reports even if one was just made.
func (m *progressMeter) add(name string, n int64, force bool) {
	m.done += n
	now := time.Now()
	if !force && now.Sub(m.last) < progressEvery {
		return
	}
	m.last = now
	p := transferProgress{name: name, done: m.done, total: m.total, resumed: m.resumed}
	if secs := now.Sub(m.start).Seconds(); secs > 0 {
		p.rate = float64(m.done-m.resumed) / secs
	}
	if p.rate > 0 {
		p.eta = time.Duration(float64(m.total-m.done) / p.rate * float64(time.Second))
	}
	m.ev.progress(p)
}

// sendFiles offers o on ch and sends what the receiver asks for. It
// returns nil only when the receiver said every file arrived and checked
// out.
func sendFiles(ctx context.Context, ch *fileChannel, o *outgoing, ev transferEvents) (err error) {
	if err := ch.waitOpen(ctx); err != nil {
		return err
	}
	defer func() { tellPeerWhy(ch, err) }()
	if err := sendOffer(ctx, ch, o); err != nil {
		return err
	}
	typ, body, err := ch.next(ctx)
	for err == nil && (typ == tFailed || typ == tCancel || typ == tReceived) {
		// The receiver's end of a transfer that ended on this side
		// first: anything that ends this one before it starts is a
		// refusal.
		typ, body, err = ch.next(ctx)
	}
	if err != nil {
		return err
	}
	switch typ {
	case tAccept:
	case tRefuse:
		return &peerEndedError{fmt.Errorf("%w: %s", errTransferRefused, peerText(body))}
	default:
		return peerEnded(typ, body)
	}
	var a acceptance
	if len(body) > transferMaxControl || json.Unmarshal(body, &a) != nil {
		return fmt.Errorf("%w: a bad acceptance", errTransferProtocol)
	}
	offsets, err := o.offsets(a)
	if err != nil {
		return err
	}
	var total, resumed int64
	for i, e := range o.entries {
		if !e.Dir {
			total += e.Size
			resumed += offsets[i]
		}
	}
	meter := newProgressMeter(ev, total, resumed)
	for i, e := range o.entries {
		if e.Dir || isWhole(a, i) {
			continue
		}
		if err := sendOne(ctx, ch, o.sources[i], i, e, offsets[i], meter); err != nil {
			return err
		}
		ev.fileDone(e)
	}
	if err := ch.send(ctx, tDone, nil); err != nil {
		return err
	}
	typ, body, err = ch.next(ctx)
	switch {
	case err != nil:
		return err
	case typ != tReceived:
		return peerEnded(typ, body)
	}
	return nil
}

func isWhole(a acceptance, i int) bool {
	for _, w := range a.Whole {
		if w == i {
			return true
		}
	}
	return false
}

// sendOffer sends the offer's entries in parts that each fit a message,
// then its totals.
func sendOffer(ctx context.Context, ch *fileChannel, o *outgoing) error {
	const budget = transferChunk - 1024
	var part []offerEntry
	size := 2
	flush := func() error {
		if len(part) == 0 {
			return nil
		}
		b, err := json.Marshal(part)
		if err != nil {
			return err
		}
		part, size = part[:0], 2
		return ch.send(ctx, tOfferPart, b)
	}
	for _, e := range o.entries {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if size+len(b)+1 > budget {
			if err := flush(); err != nil {
				return err
			}
		}
		part = append(part, e)
		size += len(b) + 1
	}
	if err := flush(); err != nil {
		return err
	}
	h, err := json.Marshal(o.header())
	if err != nil {
		return err
	}
	return ch.send(ctx, tOfferEnd, h)
}

// offsets is where each file starts, given the receiver's acceptance:
// after a part the receiver holds, when the part is this file's own
// start (the sender hashes its own first bytes to check), else at 0; a
// file the receiver holds whole is at its end.
func (o *outgoing) offsets(a acceptance) ([]int64, error) {
	offsets := make([]int64, len(o.entries))
	valid := func(i int) bool { return i >= 0 && i < len(o.entries) && !o.entries[i].Dir }
	for _, i := range a.Whole {
		if !valid(i) {
			return nil, fmt.Errorf("%w: a bad index in the acceptance", errTransferProtocol)
		}
		offsets[i] = o.entries[i].Size
	}
	for _, p := range a.Parts {
		if !valid(p.Index) || p.Have < 0 || p.Have > o.entries[p.Index].Size {
			return nil, fmt.Errorf("%w: a bad part in the acceptance", errTransferProtocol)
		}
		if sum, err := hashPrefix(o.sources[p.Index], p.Have); err == nil && sum == p.SHA256 {
			offsets[p.Index] = p.Have
		}
	}
	return offsets, nil
}

// hashPrefix is the SHA-256, in hex, of the first n bytes of the file at p.
func hashPrefix(p string, n int64) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyN(h, f, n); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// sendOne streams one file from offset, checking on the way that the
// receiver has not given up.
func sendOne(ctx context.Context, ch *fileChannel, source string, index int, e offerEntry, offset int64, meter *progressMeter) error {
	f, err := os.Open(source)
	if err != nil {
		return fmt.Errorf("cannot send %s: %w", source, bareError(err))
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return fmt.Errorf("cannot send %s: %w", source, bareError(err))
	}
	if err := ch.send(ctx, tFileBegin, fileBegin(index, offset)); err != nil {
		return err
	}
	msg := make([]byte, 1+transferChunk) // a data message, read into in place
	msg[0] = tData
	left := e.Size - offset
	for left > 0 {
		select {
		case m := <-ch.in: // the receiver never speaks mid-file unless it gives up
			return peerEnded(m[0], m[1:])
		default:
		}
		n, err := io.ReadFull(f, msg[1:1+min(int64(transferChunk), left)])
		if err != nil {
			return fmt.Errorf("%s changed since it was offered: send it again", source)
		}
		if err := ch.sendMessage(ctx, msg[:1+n]); err != nil {
			return err
		}
		left -= int64(n)
		meter.add(e.Path, int64(n), left == 0)
	}
	if e.Size == 0 {
		meter.add(e.Path, 0, true)
	}
	return ch.send(ctx, tFileEnd, nil)
}

// peerEnded is the error for a message that ends the transfer from the
// peer's side, or that has no business where it came.
func peerEnded(typ byte, body []byte) error {
	switch typ {
	case tFailed:
		return &peerEndedError{fmt.Errorf("the peer's side failed: %s", peerText(body))}
	case tCancel:
		return &peerEndedError{fmt.Errorf("the peer cancelled: %w", errTransferCancelled)}
	}
	return fmt.Errorf("%w: message type %d out of place", errTransferProtocol, typ)
}

// peerEndedError is the peer's own end of a transfer: nothing to tell it.
type peerEndedError struct{ error }

func (e *peerEndedError) Unwrap() error { return e.error }

// tellPeerWhy tells the peer, best effort, why this side ends the
// transfer: cancelled (ctx), or failed; not when the peer ended it, left,
// or was told already.
func tellPeerWhy(ch *fileChannel, err error) {
	var ended *peerEndedError
	var refused *transferRefusal
	if err == nil || errors.Is(err, errPeerLeft) || errors.As(err, &ended) || errors.As(err, &refused) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if errors.Is(err, context.Canceled) {
		_ = ch.send(ctx, tCancel, nil)
	} else {
		_ = ch.send(ctx, tFailed, []byte(err.Error()))
	}
	_ = ch.drain(ctx)
}

// receiveOptions are what the receiving user decided.
type receiveOptions struct {
	land *landing
	// ask shows the offer and returns the user's answer.
	ask func(ctx context.Context, summary string, h offerHeader) (bool, error)
}

// receiveFiles takes an offer on ch into opts.land. It returns nil only
// when every file arrived and its SHA-256 matched.
func receiveFiles(ctx context.Context, ch *fileChannel, opts receiveOptions, ev transferEvents) (err error) {
	if err := ch.waitOpen(ctx); err != nil {
		return err
	}
	defer func() { tellPeerWhy(ch, err) }()
	entries, h, err := readOffer(ctx, ch)
	if err != nil {
		return refuse(ch, err)
	}
	arrivals, err := opts.land.prepare(entries)
	if err != nil {
		return refuse(ch, err)
	}
	yes, err := opts.ask(ctx, offerSummary(entries, h), h)
	if err != nil {
		return refuse(ch, err)
	}
	if !yes {
		return refuse(ch, errTransferRefused)
	}
	a, err := acceptEntries(opts.land, entries, arrivals)
	if err != nil {
		return refuse(ch, err)
	}
	body, err := json.Marshal(a)
	if err != nil {
		return err
	}
	if err := ch.send(ctx, tAccept, body); err != nil {
		return err
	}
	var resumed int64
	for i, ar := range arrivals {
		resumed += ar.have
		if ar.whole {
			resumed += entries[i].Size
		}
	}
	r := &receiving{land: opts.land, entries: entries, arrivals: arrivals, ev: ev,
		meter: newProgressMeter(ev, h.Bytes, resumed), next: 0}
	return r.run(ctx, ch)
}

// refuse tells the sender no, and why: everything that ends a transfer
// before the acceptance is a refusal, so that the sender, waiting for
// one answer, can tell it from what was still in flight from the
// transfer before. A connection gone or the peer's own end need no
// answer.
func refuse(ch *fileChannel, why error) error {
	var ended *peerEndedError
	if errors.Is(why, errPeerLeft) || errors.Is(why, errConnectionLost) || errors.As(why, &ended) {
		return why
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = ch.send(ctx, tRefuse, []byte(why.Error()))
	_ = ch.drain(ctx)
	return &transferRefusal{why}
}

// transferRefusal is a refusal already told to the peer.
type transferRefusal struct{ error }

func (r *transferRefusal) Unwrap() error { return r.error }

// readOffer reads the offer's parts and totals, bounded, and checks them.
func readOffer(ctx context.Context, ch *fileChannel) ([]offerEntry, offerHeader, error) {
	var entries []offerEntry
	for {
		typ, body, err := ch.next(ctx)
		if err != nil {
			return nil, offerHeader{}, err
		}
		if len(entries) == 0 && inFlight(typ) {
			continue // the end of a transfer that ended on this side first
		}
		switch typ {
		case tOfferPart:
			var part []offerEntry
			if err := json.Unmarshal(body, &part); err != nil {
				return nil, offerHeader{}, fmt.Errorf("%w: a bad offer", errTransferProtocol)
			}
			if len(entries)+len(part) > offerMaxEntries {
				return nil, offerHeader{}, fmt.Errorf("the offer holds more than %d files and folders: send fewer at a time, or an archive", offerMaxEntries)
			}
			entries = append(entries, part...)
		case tOfferEnd:
			var h offerHeader
			if err := json.Unmarshal(body, &h); err != nil {
				return nil, offerHeader{}, fmt.Errorf("%w: a bad offer", errTransferProtocol)
			}
			if err := checkOffer(entries, h); err != nil {
				return nil, offerHeader{}, fmt.Errorf("refused the offer: %w", err)
			}
			return entries, h, nil
		default:
			return nil, offerHeader{}, peerEnded(typ, body)
		}
	}
}

// inFlight reports whether a sender's message of type typ may still
// arrive after its transfer ended on the receiver's side: it is dropped
// before the next offer.
func inFlight(typ byte) bool {
	return typ == tFileBegin || typ == tData || typ == tFileEnd || typ == tDone || typ == tFailed || typ == tCancel
}

// acceptEntries makes the offered folders and says what the receiver
// holds already.
func acceptEntries(land *landing, entries []offerEntry, arrivals []arrival) (acceptance, error) {
	var a acceptance
	for i, e := range entries {
		switch {
		case e.Dir:
			if err := land.makeDir(e); err != nil {
				return a, err
			}
		case arrivals[i].whole:
			a.Whole = append(a.Whole, i)
		case arrivals[i].have > 0:
			sum := cloneHash(arrivals[i].hash).Sum(nil)
			a.Parts = append(a.Parts, acceptPart{Index: i, Have: arrivals[i].have, SHA256: hex.EncodeToString(sum)})
		}
	}
	return a, nil
}

// receiving is the receiver's state while files arrive.
type receiving struct {
	land     *landing
	entries  []offerEntry
	arrivals []arrival
	ev       transferEvents
	meter    *progressMeter
	next     int       // files before this index are done or skipped
	current  *incoming // the file being written, if any
}

func (r *receiving) run(ctx context.Context, ch *fileChannel) (err error) {
	defer func() {
		if r.current != nil {
			r.current.abandon()
		}
	}()
	for {
		typ, body, err := ch.next(ctx)
		if err != nil {
			return err
		}
		switch {
		case typ == tData && r.current != nil:
			if err := r.current.write(body); err != nil {
				return err
			}
			r.meter.add(r.current.entry.Path, int64(len(body)), false)
		case typ == tFileBegin && r.current == nil:
			if err := r.begin(body); err != nil {
				return err
			}
		case typ == tFileEnd && r.current != nil:
			in := r.current
			r.current = nil
			if err := r.land.finish(in); err != nil {
				return err
			}
			r.meter.add(in.entry.Path, 0, true)
			r.ev.fileDone(in.entry)
		case typ == tDone && r.current == nil:
			if missing := r.missing(); missing != "" {
				return fmt.Errorf("the sender finished without sending %s", sanitizeLine(missing))
			}
			return ch.send(ctx, tReceived, nil)
		default:
			return peerEnded(typ, body)
		}
	}
}

// begin starts the file a file begin message names: the next one still
// to come, in the offer's order, at 0 or where its held part ends.
func (r *receiving) begin(body []byte) error {
	i, offset, err := parseFileBegin(body)
	if err != nil {
		return err
	}
	if i < r.next || i >= len(r.entries) || r.entries[i].Dir || r.arrivals[i].whole {
		return fmt.Errorf("%w: file %d out of order", errTransferProtocol, i)
	}
	for j := r.next; j < i; j++ {
		if !r.entries[j].Dir && !r.arrivals[j].whole {
			return fmt.Errorf("%w: file %d skipped", errTransferProtocol, j)
		}
	}
	in, err := r.land.begin(r.entries[i], offset, r.arrivals[i])
	if err != nil {
		return err
	}
	if offset == 0 && r.arrivals[i].have > 0 { // the sender found the part was not its file's start
		r.meter.done -= r.arrivals[i].have
		r.meter.resumed -= r.arrivals[i].have
	}
	r.current, r.next = in, i+1
	return nil
}

// missing names an offered file that neither arrived nor was held.
func (r *receiving) missing() string {
	for j := r.next; j < len(r.entries); j++ {
		if !r.entries[j].Dir && !r.arrivals[j].whole {
			return r.entries[j].Path
		}
	}
	return ""
}
