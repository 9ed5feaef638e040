package main

// This file is the room flow: how a host and a joiner meet through a board
// and connect. It drives the board and WebRTC and rides out what goes
// wrong on the way (a board that restarts, strangers in the room, a wrong
// password), while the dialect (signal.go) decides what is said and where.

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// Room codes are pypeer's: 6 characters drawn uniformly from A-Z0-9.
const (
	roomCodeAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	roomCodeLen      = 6
)

// newRoomCode draws a room code from crypto/rand. Bytes at or above the
// largest multiple of the alphabet's size are redrawn, so every character is
// equally likely.
func newRoomCode() (string, error) {
	const limit = 256 - 256%len(roomCodeAlphabet)
	code := make([]byte, 0, roomCodeLen)
	buf := make([]byte, 16)
	for len(code) < roomCodeLen {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("room code: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(code) < roomCodeLen {
				code = append(code, roomCodeAlphabet[int(b)%len(roomCodeAlphabet)])
			}
		}
	}
	return string(code), nil
}

// isRoomCode reports whether code is a room code as pypeer and gopeer make
// them: six of A-Z0-9.
func isRoomCode(code string) bool {
	return len(code) == roomCodeLen && strings.Trim(code, roomCodeAlphabet) == ""
}

// normalizeRoomCode trims and upper-cases what a person typed, as pypeer's
// join screen does, and checks it is a room code.
func normalizeRoomCode(s string) (string, error) {
	code := strings.ToUpper(strings.TrimSpace(s))
	if !isRoomCode(code) {
		return "", fmt.Errorf("%q is not a room code: a code is %d letters and digits, like K7P2M0", s, roomCodeLen)
	}
	return code, nil
}

// notifier tells the user what is happening.
type notifier interface {
	status(msg string) // progress, replaced by the next one
	warn(msg string)   // something went wrong but gopeer goes on
}

// roomEvents is how the host and join flows tell the user what is
// happening.
type roomEvents interface {
	notifier
	// roomPosted: the host's offer is on the board; web is the link a
	// browser joins by, when the board serves the web client, else "".
	roomPosted(code, web string)
	// wrongKey says the room's offer does not open with this password: a
	// wrong password, or a stranger's offer in its place. The joiner
	// keeps watching the room for one that opens.
	wrongKey(code string)
}

// noRoomNotice is how long a joiner waits in silence for a room that is
// not on the board before saying so: long enough for a host who is still
// gathering candidates, short enough that a mistyped code is caught early.
const noRoomNotice = 5 * time.Second

// roomFlow runs the host and join sides of a dialect's handshake.
type roomFlow struct {
	board *boardClient
	// dialect binds the room's protocol to a code and password: pypeer's
	// for a bare room code, the native one (native.go) for a gopeer code.
	dialect func(code joinCode, password string, s side) dialect
	peer    peerConfig
	events  roomEvents
	// askCompare: this side's user asked (-verify) to compare the
	// verification string with the peer before the chat starts.
	askCompare bool
	// noRoomAfter is noRoomNotice, or shorter in tests.
	noRoomAfter time.Duration
	// restartLimit bounds the restoration of a broken gopeer session
	// (restart.go): -reconnect, or 0 where this side cannot restore one
	// (turned off, or the board is this process's own, which stops once
	// the peers are connected).
	restartLimit time.Duration
	// unreachableHint is what to try when the board cannot be reached;
	// it depends on how the board was chosen (meeting).
	unreachableHint string

	// reached is set once the board has answered: from then on a failing
	// board is a blip to ride out (a restart, a 503), not a wrong URL.
	reached atomic.Bool
}

// progress is how far one flow got, so that its ending says truly what
// happened and what was cleaned up.
type progress struct {
	found   bool // the joiner opened the host's offer
	posted  bool // this side's offer or answer may be on the board
	cleaned bool // and it was removed again
}

// host posts an offer for room code and waits for a joiner, until ctx
// ends. Its code for gopeer joiners adds a secret part to the room code
// (joincode.go). A joiner that fails the native confirmation has used up
// one attempt: the room is posted afresh, with a new CPace run, up to
// nativeMaxAttempts times.
func (f *roomFlow) host(ctx context.Context, code, password string, chosenCode bool) (*peerLink, error) {
	jc, err := newJoinCode(code, nil)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		link, err := f.hostOnce(ctx, jc, password, chosenCode && attempt == 1, attempt == 1)
		if !errors.Is(err, errNotConfirmed) || ctx.Err() != nil {
			return link, err
		}
		if attempt == nativeMaxAttempts {
			return nil, &failure{kind: kindWrongPassword, err: err,
				msg:  fmt.Sprintf("room %s is closed: %d joiners could not prove they hold its code", code, attempt),
				hint: "someone may be guessing the code: host a new room, and share its code only with your peer"}
		}
		f.events.warn(fmt.Sprintf("a joiner could not prove it holds the code (a wrong code, or someone in the middle); room %s stays open (%d of %d tries used)",
			code, attempt, nativeMaxAttempts))
	}
}

// nativeMaxAttempts is how many failed confirmations close a room: each
// is one online guess at the code's secret part.
const nativeMaxAttempts = 3

// hostOnce is one attempt of host: one offer, one joiner. The room is
// removed from the board on every way out. first says to announce the
// room: later attempts post it again under the same code.
func (f *roomFlow) hostOnce(ctx context.Context, jc joinCode, password string, chosenCode, first bool) (_ *peerLink, err error) {
	code := jc.room
	d := f.dialect(jc, password, hostSide)
	slots := d.slots()
	var p progress
	defer func() {
		if err != nil {
			err = f.explain(ctx, hostSide, code, p, err)
		}
	}()
	pc, link, err := f.newPeer(d)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			link.close()
		}
	}()
	dc, err := pc.CreateDataChannel(d.channel().label, nil)
	if err != nil {
		return nil, fmt.Errorf("webrtc: %w", err)
	}
	link.attach(dc)

	// The look at the room goes out while ICE gathers: it also opens the
	// board connection that the offer is then posted on, so TCP's and
	// TLS's round trips are paid during gathering rather than after it. A
	// chosen code is posted only where it replaces no live offer; for a
	// random one the look only opens the connection, and the offer does
	// not wait for it. Later attempts post where this host's room was.
	look := make(chan error, 1)
	lookDone := sync.OnceValue(func() error { return <-look })
	defer lookDone()
	gctx, stopGathering := context.WithCancel(ctx)
	defer stopGathering() // first: it ends a look still under way
	if first {
		go func() {
			err := f.checkRoomFree(gctx, d, code)
			if err != nil && chosenCode {
				stopGathering() // the room cannot be posted: say why now
			}
			look <- err
		}()
	} else {
		look <- nil
	}
	offer, err := f.sealLocal(gctx, pc, d, webrtc.SDPTypeOffer)
	if chosenCode {
		if lerr := lookDone(); lerr != nil {
			return nil, lerr
		}
	}
	if err != nil {
		return nil, err
	}
	h := &hosted{slots: slots, offer: offer}
	var removed chan bool // the removal under way once the answer is in
	defer func() {
		// Host-led deletion: whatever happens from here, leave nothing
		// behind, unless nothing can be there.
		switch {
		case removed != nil:
			p.cleaned = <-removed
		case p.posted:
			p.cleaned = f.removeHosted(ctx, h)
		}
	}()
	err = f.postOffer(ctx, h)
	p.posted = err == nil || f.mayHaveLanded(err)
	if err != nil {
		return nil, err
	}
	if first {
		f.events.roomPosted(jc.String(), f.webLink(jc, h))
	}
	f.events.status("waiting for a peer to join")
	if err := f.awaitAnswer(ctx, d, code, pc, h); err != nil {
		return nil, err
	}
	// The board has nothing more to give: the room comes off it while the
	// peers connect, not a board round trip after.
	removed = make(chan bool, 1)
	go func() { removed <- f.removeHosted(ctx, h) }()
	f.events.status("connecting to the peer")
	if err := link.waitOpen(ctx); err != nil {
		return nil, err
	}
	if err := f.confirmNative(ctx, d, link, hostSide); err != nil {
		return nil, err
	}
	go link.keepAlive()
	return link, nil
}

// confirmNative runs the native key confirmation (native.go, control.go)
// when both ends spoke the native dialect, and records on link what the
// session is. Nothing the peer sent is shown before it succeeds: the link
// is not handed to the chat until then.
func (f *roomFlow) confirmNative(ctx context.Context, d dialect, link *peerLink, s side) error {
	nd, ok := d.(*nativeDialect)
	if !ok {
		return nil
	}
	ctrl := link.control
	sess, native := nd.session()
	if !native {
		ctrl.close() // a pypeer peer, welcome without -secure
		link.files.close()
		link.files = nil
		link.setNative(nil, nil, false)
		return nil
	}
	f.events.status("confirming the peer holds the code")
	role, peerRole := nativeHostRole, nativeJoinerRole
	if s == joinSide {
		role, peerRole = peerRole, role
	}
	var wishes byte
	if f.askCompare {
		wishes |= wishCompare
	}
	if f.restartLimit > 0 {
		wishes |= wishRestart
	}
	cctx, cancel := context.WithTimeout(ctx, nativeConfirmTimeout)
	defer cancel()
	peerWishes, err := ctrl.confirm(cctx, sess, role, peerRole, wishes)
	if err != nil {
		// The tag was sent before the peer's was checked: it leaves
		// before the link closes, so the peer fails now, not at its
		// timeout.
		ctrl.flush(ctx, link.closed)
		ctrl.close()
		if !errors.Is(err, errNotConfirmed) && ctx.Err() == nil {
			err = fmt.Errorf("%w (%w)", errNotConfirmed, err)
		}
		return err
	}
	link.setNative(&sess, ctrl, f.askCompare || peerWishes&wishCompare != 0)
	if wishes&peerWishes&wishRestart != 0 {
		f.startRestarts(link, sess, s, f.restartLimit)
	}
	return nil
}

// errCompareNeedsGopeerCode: -verify with a bare room code, which can only
// make a pypeer session, and a pypeer session has no verification string.
var errCompareNeedsGopeerCode = &failure{kind: kindUsage,
	msg:  "-verify needs the host's gopeer code (like K7P2M0-4F9Q-XW): a room code alone makes a pypeer session, with nothing to compare",
	hint: "ask the host for the whole code, or leave out -verify"}

// nativeConfirmTimeout bounds the confirmation once the channel is open:
// two messages each way on a live connection.
const nativeConfirmTimeout = 10 * time.Second

// join waits for the host's offer in code, answers it, and waits for the
// channel to open.
func (f *roomFlow) join(ctx context.Context, typed, password string) (_ *peerLink, err error) {
	jc, err := parseJoinCode(typed)
	if err != nil {
		return nil, &failure{kind: kindUsage, msg: err.Error(), err: err}
	}
	if f.askCompare && jc.secret == "" {
		return nil, errCompareNeedsGopeerCode
	}
	code := jc.room
	d := f.dialect(jc, password, joinSide)
	slots := d.slots()
	var p progress
	defer func() {
		if err != nil {
			err = f.explain(ctx, joinSide, code, p, err)
		}
	}()
	// The peer connection comes first: it starts gathering at once (a
	// candidate pool), so asking the STUN servers overlaps the board's
	// round trips instead of following them.
	pc, link, err := f.newPeer(d)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			link.close()
		}
	}()
	f.events.status("looking for room " + code)
	offer, answerSlot, err := f.awaitOffer(ctx, d, code)
	if err != nil {
		return nil, err
	}
	p.found = true
	attached := make(chan struct{})
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		select {
		case <-attached: // the host opens one channel; ignore any other
		default:
			link.attach(dc)
			close(attached)
		}
	})
	offer.SDP = f.trimCandidates(offer.SDP, "the host's offer")
	if err := pc.SetRemoteDescription(offer); err != nil {
		return nil, &failure{kind: kindConnection, msg: "the host's offer could not be used: " + err.Error(), err: err,
			hint: "the host's program wrote an offer gopeer cannot use; ask them to try again, or to update it"}
	}
	answer, err := f.sealLocal(ctx, pc, d, webrtc.SDPTypeAnswer)
	if err != nil {
		return nil, err
	}
	defer func() {
		// Give the slot back: the host may still take another joiner.
		if err != nil && p.posted {
			p.cleaned = f.remove(ctx, slots.answerPath())
		}
	}()
	p.posted, err = f.postAnswer(ctx, slots, code, answer, answerSlot)
	if err != nil {
		return nil, err
	}
	f.events.status("connecting to the host")
	stopGuard := f.guardAnswer(ctx, slots, code, answer)
	err = link.waitOpen(ctx)
	stopGuard() // before any delete below, so no re-post can outlive it
	if err != nil {
		return nil, err
	}
	if err := f.confirmNative(ctx, d, link, joinSide); err != nil {
		return nil, err
	}
	if name, _, _ := link.protocol(); name == "gopeer" {
		// The host has just proved it is a gopeer, and a gopeer host
		// removes its room itself once it has the answer: that is
		// under way already, and the joiner need not wait on the board.
		go link.keepAlive()
		return link, nil
	}
	// pypeer's joiner never does its part here (docs/PROTOCOL.md,
	// "Cleanup"); gopeer's does: the room leaves the board as soon as the
	// channel is up, while the chat starts, which need not wait for the
	// board's round trip. What goes wrong is said in the chat.
	link.inBackground(func() { f.removeAsJoiner(context.WithoutCancel(ctx), slots, link.notice) })
	go link.keepAlive()
	return link, nil
}

// removeAsJoiner takes the room off the board, or, where the room is its
// host's to delete (gopeer's board), the joiner's answer. Which applies is
// known only by asking, so both requests go at once: one round trip
// instead of two.
func (f *roomFlow) removeAsJoiner(ctx context.Context, slots roomSlots, warn func(string)) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	answerErr := make(chan error, 1)
	go func() { answerErr <- f.board.delete(ctx, slots.answerPath()) }()
	roomErr := f.board.delete(ctx, slots.room)
	err := <-answerErr
	switch {
	case roomErr == nil:
		return // the answer went with the room
	case !refused(roomErr):
		err = roomErr
	}
	if err != nil {
		warn("could not clean up the board: " + err.Error())
	}
}

// hosted is what a host keeps of the room it posted.
type hosted struct {
	slots roomSlots
	offer any    // the value posted, and posted again as it is
	token string // the room's token, on a board that hands one out (gopeer's own)
}

// webLink is where a browser joins room jc: on a gopeer board, which
// serves the web client (web.go) and, unlike Firebase, hands the host a
// token for its room; "" elsewhere. The code rides in the fragment, which
// a browser never sends to the server; the host's ICE servers ride in the
// query (webICE), so the browser asks whom the host asks.
func (f *roomFlow) webLink(jc joinCode, h *hosted) string {
	if h.token == "" {
		return ""
	}
	link := strings.TrimSuffix(f.board.String(), "/") + "/"
	if ice := webICE(f.peer.iceServers); ice != "" {
		link += "?ice=" + ice
	}
	return link + "#" + jc.String()
}

// webICE is the web client's ?ice= for a host's ICE servers: "" for
// pypeer's list (the page's own default), "none" for none, else the
// servers that need no credentials (a TURN server's stay off the link,
// which is no place for them).
func webICE(servers []webrtc.ICEServer) string {
	var urls []string
	for _, s := range servers {
		if s.Username == "" && s.Credential == nil {
			urls = append(urls, s.URLs...)
		}
	}
	switch {
	case len(servers) > 0 && slices.Equal(urls, defaultICE):
		return ""
	case len(urls) == 0:
		return "none"
	}
	return url.QueryEscape(strings.Join(urls, ","))
}

// postOffer writes the host's offer, claiming the room on a board that
// lets its host own it, and keeps the token it gets.
func (f *roomFlow) postOffer(ctx context.Context, h *hosted) error {
	return f.retry(ctx, func(ctx context.Context) (err error) {
		h.token, err = f.board.putOwned(ctx, h.slots.offerPath(), h.offer, h.token)
		return err
	})
}

// removeHosted deletes the host's room, as its owner, and reports whether
// it did.
func (f *roomFlow) removeHosted(ctx context.Context, h *hosted) bool {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := f.board.deleteOwned(dctx, h.slots.room, h.token); err != nil {
		f.events.warn("could not clean up the board: " + err.Error())
		return false
	}
	return true
}

// mayHaveLanded reports whether a write that failed may still have reached
// the board: it was cut off on the way, by a board that has answered before.
// A board that refused it (any status) holds nothing of it.
func (f *roomFlow) mayHaveLanded(err error) bool {
	var se *statusError
	return f.reached.Load() && !errors.As(err, &se)
}

// newPeer makes a peer connection with gopeer's settings and the link
// that will carry the dialect's channel.
func (f *roomFlow) newPeer(d dialect) (*webrtc.PeerConnection, *peerLink, error) {
	rules := d.channel()
	if f.peer.pingInterval > 0 {
		rules.every = f.peer.pingInterval
	}
	api := newAPI(f.peer.logs, rules.maxBytes)
	// A pool of one makes pion gather from now, not from the local
	// description: what it finds is held until then.
	pc, err := api.NewPeerConnection(webrtc.Configuration{ICEServers: f.peer.iceServers, ICECandidatePoolSize: 1})
	if err != nil {
		return nil, nil, fmt.Errorf("webrtc: %w", err)
	}
	link := newPeerLink(pc, rules)
	if nd, native := d.(*nativeDialect); native {
		// The control channel exists before any description, on both
		// sides, so neither side's first message can reach a peer that
		// has not made its end yet. A negotiated channel sends nothing
		// by itself: a pypeer peer never learns of it.
		if link.control, err = openControl(pc); err != nil {
			_ = pc.Close()
			return nil, nil, err
		}
		if link.files, err = openFileChannels(pc, link.closed, nd.host); err != nil {
			_ = pc.Close()
			return nil, nil, err
		}
	}
	return pc, link, nil
}

// sealLocal creates this side's offer or answer, waits for its candidates
// and seals the whole description for the board.
func (f *roomFlow) sealLocal(ctx context.Context, pc *webrtc.PeerConnection, d dialect, typ webrtc.SDPType) (any, error) {
	f.events.status("gathering network candidates")
	create := func() (webrtc.SessionDescription, error) { return pc.CreateAnswer(nil) }
	if typ == webrtc.SDPTypeOffer {
		create = func() (webrtc.SessionDescription, error) { return pc.CreateOffer(nil) }
	}
	desc, err := create()
	if err != nil {
		return nil, fmt.Errorf("webrtc: %w", err)
	}
	sdp, err := gatherLocal(ctx, pc, desc, f.peer.gatherTimeout)
	if err != nil {
		return nil, err
	}
	return d.seal(webrtc.SessionDescription{Type: typ, SDP: sdp})
}

// trimCandidates keeps the candidates of a peer's description worth
// checking (peer.go), and says so when it drops some.
func (f *roomFlow) trimCandidates(sdp, whose string) string {
	sdp, dropped := trimCandidates(sdp)
	if dropped > 0 {
		f.events.warn(fmt.Sprintf("ignored %d network candidates in %s: at most %d are tried, and none at a multicast, broadcast, unspecified or named address",
			dropped, whose, maxRemoteCandidates))
	}
	return sdp
}

// checkRoomFree refuses a chosen code whose room holds a live offer, so a host
// never replaces someone else's room. An expired offer may be replaced.
func (f *roomFlow) checkRoomFree(ctx context.Context, d dialect, code string) error {
	v, err := f.getWithRetry(ctx, d.slots().offerPath())
	if err != nil {
		return err
	}
	if isNull(v) || d.stale(v) {
		return nil
	}
	return &failure{kind: kindRoomInUse, msg: "room " + code + " is in use on the board",
		hint: "pick another code, or leave out -room for a random one"}
}

// awaitOffer watches the room's offer until one opens. If none is there
// after noRoomAfter, it says so (a mistyped code?) and keeps waiting.
func (f *roomFlow) awaitOffer(ctx context.Context, d dialect, code string) (_ webrtc.SessionDescription, answer json.RawMessage, _ error) {
	path := d.slots().offerPath()
	// One plain request first: an unreachable board fails now, with a clear
	// error, instead of retrying quietly until the timeout. Usually the
	// host's offer is there already, and this one request is all it takes.
	first, answer, err := f.readRoom(ctx, d.slots())
	if err != nil {
		return webrtc.SessionDescription{}, nil, err
	}
	seen, stopNotice := f.noticeNoRoom(ctx, code)
	defer stopNotice()
	var offer webrtc.SessionDescription
	waiting, wrongKey, notNative := false, false, false
	consider := func(v json.RawMessage) error {
		if isNull(v) {
			if !waiting {
				waiting = true
				f.events.status("waiting for the host to open room " + code)
			}
			return nil
		}
		seen()
		desc, err := d.open(v, webrtc.SDPTypeOffer)
		switch {
		case err == nil:
			offer = desc
			return errStopWatch
		case errors.Is(err, errWrongKey):
			// A wrong password, or a stranger who replaced the host's
			// offer: only the room's next offer can tell, so say so at
			// once and keep watching.
			if !wrongKey {
				wrongKey = true
				f.events.wrongKey(code)
			}
			f.events.status("waiting for an offer in room " + code + " that opens with this password")
			return nil
		case errors.Is(err, errRestartStale):
			return nil // answered already: a fresher one is on its way
		case errors.Is(err, errNotNative):
			if !notNative {
				notNative = true
				f.events.warn("the offer in room " + code + " is not a gopeer's: the host runs pypeer, or someone removed its announcement; a gopeer code joins only a gopeer, so still waiting")
			}
			return nil
		default:
			f.events.warn("ignored the offer in room " + code + ": " + err.Error() + "; waiting for a fresh one")
			return nil
		}
	}
	if err := consider(first); errors.Is(err, errStopWatch) {
		return offer, answer, nil
	}
	// The stream's first event is the slot as it is now: what the plain
	// read just considered, unless it changed meanwhile.
	err = f.watch(ctx, path, func(v json.RawMessage) error {
		if first != nil {
			same := bytes.Equal(v, first)
			first = nil
			if same {
				return nil
			}
		}
		return consider(v)
	})
	answer = nil // the answer slot seen in the plain read is stale by now
	if err != nil && notNative && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return offer, nil, &failure{kind: kindConnection, err: errNotNative,
			msg:  "room " + code + " holds no gopeer's offer: a pypeer host, or someone stripped the host's announcement",
			hint: "if the host runs pypeer, join with the room code alone (" + code + "), unconfirmed; otherwise ask the host to start again"}
	}
	if err != nil && wrongKey && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return offer, nil, &failure{kind: kindWrongPassword, err: errWrongKey,
			msg:  "wrong password for room " + code + ", or someone replaced its offer: no offer there opened with it",
			hint: "check the password, and the code, with the host"}
	}
	return offer, answer, err
}

// readRoom reads a room in one request: its offer, and its answer slot
// (JSON null when empty), which spares the joiner a look of its own
// before it posts. On a board whose rules let clients read the slots but
// not the room, it reads the offer alone, and answer is nil: unknown.
func (f *roomFlow) readRoom(ctx context.Context, slots roomSlots) (offer, answer json.RawMessage, err error) {
	room, err := f.getWithRetry(ctx, slots.room)
	if refusedRead(err) {
		offer, err = f.getWithRetry(ctx, slots.offerPath())
		return offer, nil, err
	}
	if err != nil {
		return nil, nil, err
	}
	offer, answer = slots.split(room)
	if answer == nil {
		answer = json.RawMessage("null")
	}
	return offer, answer, nil
}

// noticeNoRoom says once that room code is not on the board, when no
// offer has shown up there after noRoomAfter: a mistyped code, or a host
// that has not started. seen tells it an offer showed up; stop ends it and
// returns once it can no longer say anything.
func (f *roomFlow) noticeNoRoom(ctx context.Context, code string) (seen, stop func()) {
	var mu sync.Mutex // so the notice never follows an offer seen
	found := false
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if sleep(ctx, cmp.Or(f.noRoomAfter, noRoomNotice)) != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if !found {
			f.events.warn("room " + code + " is not on the board yet: check the code with the host; still waiting")
		}
	}()
	seen = func() {
		mu.Lock()
		found = true
		mu.Unlock()
	}
	return seen, func() { cancel(); <-done }
}

// awaitAnswer watches the room until an answer opens and is accepted by
// pc. A bad answer (a stranger's, or a joiner's wrong password) is cleared
// off the board and the wait goes on: unlike pypeer's host, one bad write
// must not kill the room. If the offer vanishes (a board restarted empty),
// it is posted again.
func (f *roomFlow) awaitAnswer(ctx context.Context, d dialect, code string, pc *webrtc.PeerConnection, h *hosted) error {
	slots := h.slots
	onAnswer := func(v json.RawMessage) error {
		if isNull(v) {
			return nil
		}
		desc, err := d.open(v, webrtc.SDPTypeAnswer)
		if err == nil {
			desc.SDP = f.trimCandidates(desc.SDP, "the answer")
			err = pc.SetRemoteDescription(desc)
		}
		if err == nil {
			return errStopWatch
		}
		if !errors.Is(err, errRestartStale) { // a late answer to an earlier restart: cleared unsaid
			f.events.warn("ignored an answer in room " + code + " (" + err.Error() + "); still waiting")
		}
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := f.board.delete(dctx, slots.answerPath()); err != nil {
			f.events.warn("could not clear the bad answer: " + err.Error())
		}
		return nil
	}
	ours, err := valueTree(h.offer)
	if err != nil {
		return err
	}
	restore := boardBackoff
	err = f.watch(ctx, slots.room, func(v json.RawMessage) error {
		offerNow, answer := slots.split(v)
		switch {
		case isNull(offerNow):
			f.events.warn("the offer for room " + code + " is gone from the board (did it restart?); posting it again")
			// With the token kept: a board that lost the room ignores it
			// and hands out a new one; where only the offer went (its
			// admin, or our own restoreOffer in a race) the room is
			// still ours, and only the token says so.
			err := f.postOffer(ctx, h)
			switch {
			case refused(err): // someone wrote in the slot first
				f.restoreOffer(ctx, h, code, &restore)
			case err != nil:
				return err
			}
		case !sameValue(offerNow, ours):
			f.restoreOffer(ctx, h, code, &restore)
		default:
			restore.reset()
		}
		return onAnswer(answer)
	})
	if refusedRead(err) {
		// A board whose rules let a client read only a room's offer and
		// answer, not the room: follow the answer alone, as pypeer does.
		return f.watch(ctx, slots.answerPath(), onAnswer)
	}
	return err
}

// guardAnswer keeps the joiner's answer on the board until stop is called:
// if it vanishes while the host's offer is there (a board restarted empty
// and the host posted again, or the host cleared it in a race with a
// stranger), it is posted again. stop returns once no write is in flight.
func (f *roomFlow) guardAnswer(ctx context.Context, slots roomSlots, code string, answer any) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.watch(ctx, slots.room, func(v json.RawMessage) error {
			offer, ours := slots.split(v)
			if isNull(offer) || !isNull(ours) {
				return nil
			}
			f.events.warn("the answer for room " + code + " is gone from the board; posting it again")
			if err := f.put(ctx, slots.answerPath(), answer); err != nil && ctx.Err() == nil {
				f.events.warn("could not post the answer again: " + err.Error())
			}
			return nil
		})
	}()
	return func() { cancel(); <-done }
}

// answerRefusalsBelieved is how many times a joiner's answer must be
// refused with its slot empty before it believes the rules refuse it. Once
// is ambiguous: another answer may have come and gone (a host clears a
// stranger's at once) between the write and the look.
const answerRefusalsBelieved = 3

// postAnswer writes the answer and reports whether the board may hold
// it. If another joiner's answer holds the slot, it waits for the host to
// clear it, then tries again. A board that refuses the write while the
// slot is empty refuses the answer itself (its rules, its size): that fails.
// slot is the slot's value if the joiner has just seen it, nil if not.
func (f *roomFlow) postAnswer(ctx context.Context, slots roomSlots, code string, answer any, slot json.RawMessage) (posted bool, err error) {
	path := slots.answerPath()
	refusals := 0
	for {
		v := slot
		if slot = nil; v == nil {
			if v, err = f.getWithRetry(ctx, path); err != nil {
				return false, err
			}
		}
		if isNull(v) {
			err := f.put(ctx, path, answer)
			if err == nil || !refused(err) {
				return err == nil || f.mayHaveLanded(err), err
			}
			if v, gerr := f.getWithRetry(ctx, path); gerr != nil || isNull(v) {
				if refusals++; refusals >= answerRefusalsBelieved || gerr != nil {
					return false, err // refused, and not for another answer
				}
				continue
			}
		}
		f.events.status("room " + code + " has another answer waiting; trying again when it clears")
		err = f.watch(ctx, path, func(v json.RawMessage) error {
			if isNull(v) {
				return errStopWatch
			}
			return nil
		})
		if err != nil {
			return false, err
		}
	}
}

// restoreOffer puts the host's offer back in place of a stranger's: it
// deletes theirs and writes its own again, waiting between tries so that a
// stranger who keeps replacing it costs the board little. A refusal (the
// stranger wrote again first) is said, and the next change tries again.
func (f *roomFlow) restoreOffer(ctx context.Context, h *hosted, code string, wait *backoff) {
	f.events.warn("the offer in room " + code + " was replaced by someone else; putting ours back")
	if wait.wait(ctx, nil) != nil {
		return
	}
	err := f.board.deleteOwned(ctx, h.slots.offerPath(), h.token)
	if err == nil {
		// With the room's token: on gopeer's board only its admin can
		// have replaced an owned offer, and the room is still ours.
		h.token, err = f.board.putOwned(ctx, h.slots.offerPath(), h.offer, h.token)
	}
	if err != nil && ctx.Err() == nil {
		f.events.warn("could not put the offer back yet (" + err.Error() + "); trying again")
	}
}

// valueTree is v as the board holds it, in the data model's form.
func valueTree(v any) (any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	tree, err := treeDecode(raw)
	if err != nil {
		return nil, err
	}
	return treeNormalize(tree, 0, nil)
}

// sameValue reports whether a board value is the one this side wrote.
func sameValue(v json.RawMessage, ours any) bool {
	theirs, err := treeDecode(v)
	if err == nil {
		theirs, err = treeNormalize(theirs, 0, nil)
	}
	return err == nil && treeEqual(theirs, ours)
}

// refusedRead reports a board's rules refusing a read: a board that lets
// clients read a room's slots but not the room itself. A refused write is
// something else (a slot taken, an offer replaced) and must not be read as
// that.
func refusedRead(err error) bool {
	var se *statusError
	return refused(err) && errors.As(err, &se) && se.Method == http.MethodGet
}

// refused reports a board's rules refusing a request: 401 (Firebase's
// "Permission denied"), or 403 behind some proxies. For a write to a
// slot, the slot may hold a value already (write-once rules); for a read
// of a room, the board may let clients read only its slots.
func refused(err error) bool {
	var se *statusError
	return errors.As(err, &se) && (se.Status == 401 || se.Status == 403)
}

// put writes a board value, retrying while the board is unreachable or
// overloaded.
func (f *roomFlow) put(ctx context.Context, path string, value any) error {
	return f.retry(ctx, func(ctx context.Context) error { return f.board.put(ctx, path, value) })
}

func (f *roomFlow) getWithRetry(ctx context.Context, path string) (json.RawMessage, error) {
	var v json.RawMessage
	err := f.retry(ctx, func(ctx context.Context) (err error) {
		v, err = f.board.get(ctx, path)
		return err
	})
	return v, err
}

// retry runs a board call until it succeeds or fails for good (the one
// retry policy, retry.go): three tries while nothing has ever answered at
// the board's address, so a wrong URL fails fast, and until ctx ends once
// something has (even a 503), so a board restart or a bad minute is ridden
// out.
//
// A board that is full or limiting this address says so once, so that the
// user knows what is being waited for.
func (f *roomFlow) retry(ctx context.Context, call func(context.Context) error) error {
	more := func(tries int) bool { return tries < 3 || f.reached.Load() }
	told := false
	return retry(ctx, boardBackoff, more, func(ctx context.Context) error {
		err := call(ctx)
		var refused *statusError
		if err == nil || errors.As(err, &refused) {
			f.reached.Store(true) // it answered: a board is there
		}
		if busy := boardBusy(err); busy != nil && !told {
			told = true
			f.events.warn(busyWords(busy) + " (" + busy.Message + "); trying again until -timeout")
		}
		return err
	})
}

// remove deletes path from the board and reports whether it did. It runs
// on the way out too, when ctx may already be cancelled, so it has its own
// short deadline.
func (f *roomFlow) remove(ctx context.Context, path string) bool {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := f.board.delete(dctx, path); err != nil {
		f.events.warn("could not clean up the board: " + err.Error())
		return false
	}
	return true
}

// watch follows a board path, telling the user once when the board
// connection drops (the client reconnects by itself) and once when it is back.
func (f *roomFlow) watch(ctx context.Context, path string, onValue func(json.RawMessage) error) error {
	lost := false
	opts := watchOptions{onReconnect: func(err error) {
		if !lost {
			lost = true
			f.events.warn("lost the board connection (" + err.Error() + "); reconnecting")
		}
	}}
	return f.board.watch(ctx, path, opts, func(v json.RawMessage) error {
		if lost {
			lost = false
			f.events.status("board connection is back")
		}
		return onValue(v)
	})
}

// side is which end of a room a flow is.
type side int

const (
	hostSide side = iota
	joinSide
)

// explain turns an error from a flow into a failure that says what
// happened and what to try, and, for a cancellation, what was really
// cleaned up.
func (f *roomFlow) explain(ctx context.Context, s side, code string, p progress, err error) error {
	var (
		fl *failure
		se *statusError
	)
	switch {
	case errors.As(err, &fl):
		return err
	case errors.Is(err, errNotConfirmed) && ctx.Err() == nil:
		// Exit 3, as a wrong password: for a joiner it is one.
		return &failure{kind: kindWrongPassword, msg: "the peer in room " + code + " did not prove it holds this code: a wrong code, or someone in the middle", err: err,
			hint: "check the whole code with the host, character by character"}
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return timedOut(s, code, p, err)
	case errors.Is(err, context.Canceled):
		msg := "cancelled"
		switch {
		case p.cleaned && s == hostSide:
			msg += "; room " + code + " is off the board"
		case p.cleaned:
			msg += "; your answer is off the board"
		}
		return &failure{kind: kindCancelled, msg: msg, err: err}
	case errors.As(err, &se):
		return &failure{kind: kindBoard, msg: "the board refused a request: " + se.Error(), hint: refusalHint(se.Status), err: err}
	case isBoardUnreachable(err):
		return &failure{kind: kindBoard, msg: "cannot reach the board at " + f.board.String() + ": " + errorCause(err), err: err,
			hint: f.unreachableHint}
	case errors.Is(err, errConnectionLost):
		return &failure{kind: kindConnection, msg: "could not connect to the peer directly", err: err, hint: hintTURN}
	}
	return &failure{kind: kindConnection, msg: err.Error(), err: err}
}

// hintTURN is what to try when the peers cannot reach each other.
const hintTURN = "a strict NAT or firewall on one side? a TURN server may help: -ice turn:HOST"

// timedOut says what the flow was waiting for when time ran out.
func timedOut(s side, code string, p progress, err error) *failure {
	fl := &failure{kind: kindTimeout, err: err}
	const longer = "wait longer with -timeout, like -timeout 10m"
	if busy := boardBusy(err); busy != nil {
		// The board kept refusing until the end: that, not the peer, is
		// what the user must hear about.
		fl.msg = "timed out: " + busyWords(busy) + "; room " + code + " got no further"
		fl.hint = "the board said: " + busy.Message + "; try again later, or use another board with -db"
		return fl
	}
	switch {
	case s == hostSide:
		fl.msg = "timed out: nobody joined room " + code
		fl.hint = "share the code again, or " + longer
	case !p.found:
		fl.msg = "timed out: room " + code + " never opened on the board"
		fl.hint = "check the code with the host, or " + longer
	case !p.posted:
		fl.msg = "timed out before the answer to room " + code + " could be posted"
		fl.hint = "another joiner's answer held the room; ask the host to open a new one"
	default:
		fl.msg = "timed out connecting to the host of room " + code
		fl.hint = hintTURN
	}
	return fl
}

// boardBusy returns the refusal err carries when the board was full or
// limiting this address (503, 429), else nil.
func boardBusy(err error) *statusError {
	se, ok := errors.AsType[*statusError](err)
	if !ok || (se.Status != http.StatusServiceUnavailable && se.Status != http.StatusTooManyRequests) {
		return nil
	}
	return se
}

// busyWords says what a busy board's refusal means, in words.
func busyWords(se *statusError) string {
	if se.Status == http.StatusTooManyRequests {
		return "the board is limiting requests from this address"
	}
	return "the board is full"
}

// refusalHint says what a board's refusal usually means.
func refusalHint(status int) string {
	switch {
	case status == 401 || status == 403:
		return "the board's rules refuse this: is it a gopeer board, or a Firebase database with gopeer's database.rules.json?"
	case status == 404:
		return "no database answers at that URL: check -db"
	case status == 429:
		return "the board is limiting requests from this address: wait a minute and try again"
	case status >= 500:
		return "the board is failing: try again later, or use another board with -db"
	}
	return ""
}

// errorCause is the innermost reason of a network error, without the URL
// and method that the board client already names.
func errorCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// isNull reports whether a board value is JSON null (absent).
func isNull(v json.RawMessage) bool {
	s := strings.TrimSpace(string(v))
	return s == "" || s == "null"
}
