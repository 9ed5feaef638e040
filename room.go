package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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

// normalizeRoomCode trims and upper-cases what a person typed, as pypeer's
// join screen does, and checks it is a room code.
func normalizeRoomCode(s string) (string, error) {
	code := strings.ToUpper(strings.TrimSpace(s))
	if len(code) != roomCodeLen || strings.Trim(code, roomCodeAlphabet) != "" {
		return "", fmt.Errorf("%q is not a room code: a code is %d letters and digits, like K7P2M0", s, roomCodeLen)
	}
	return code, nil
}

// Board paths of a room (PROTOCOL.md section 1).
func roomPath(code string) string   { return "rooms/" + code }
func offerPath(code string) string  { return "rooms/" + code + "/offer" }
func answerPath(code string) string { return "rooms/" + code + "/answer" }

// boardSignal is the value pypeer writes at offer and answer.
type boardSignal struct {
	Payload   string `json:"payload"`
	Timestamp int64  `json:"timestamp"`
}

// errBadBoardValue is a value at offer or answer that is not pypeer's shape.
var errBadBoardValue = errors.New("not a {payload, timestamp} object")

// parseBoardSignal decodes a board value without trusting it.
func parseBoardSignal(v json.RawMessage) (boardSignal, error) {
	var raw struct {
		Payload   *string      `json:"payload"`
		Timestamp *json.Number `json:"timestamp"`
	}
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber()
	if err := d.Decode(&raw); err != nil || raw.Payload == nil {
		return boardSignal{}, errBadBoardValue
	}
	bs := boardSignal{Payload: *raw.Payload}
	if raw.Timestamp != nil {
		if f, err := raw.Timestamp.Float64(); err == nil {
			bs.Timestamp = int64(f)
		}
	}
	return bs, nil
}

// roomEvents is how the host and join flows tell the user what is happening.
type roomEvents interface {
	status(msg string)      // progress, replaced by the next one
	warn(msg string)        // something went wrong but the flow goes on
	roomPosted(code string) // the host's offer is on the board
}

// failure is an error a user sees: what happened and what to try. kind is the
// machine-readable class used by -json and the exit status.
type failure struct {
	kind string
	msg  string
	err  error
}

func (f *failure) Error() string { return f.msg }
func (f *failure) Unwrap() error { return f.err }

// Failure kinds.
const (
	kindUsage         = "usage"
	kindWrongPassword = "wrong_password"
	kindTimeout       = "timeout"
	kindBoard         = "board"
	kindConnection    = "connection"
	kindRoomInUse     = "room_in_use"
	kindCancelled     = "cancelled"
)

// roomFlow runs the host and join sides of pypeer's handshake.
type roomFlow struct {
	board  *boardClient
	api    *webrtc.API
	peer   peerConfig
	events roomEvents
	now    func() time.Time

	// reached is set once the board has answered: from then on a failing
	// board is a blip to ride out (a restart, a 503), not a wrong URL.
	reached atomic.Bool
}

// host posts an offer for code and waits for a joiner, until ctx ends. The room
// is removed from the board on every way out.
func (f *roomFlow) host(ctx context.Context, code, password string, chosenCode bool) (_ *peerLink, err error) {
	key := roomKey(code, password)
	pc, err := f.api.NewPeerConnection(webrtc.Configuration{ICEServers: f.peer.iceServers})
	if err != nil {
		return nil, fmt.Errorf("webrtc: %w", err)
	}
	link := newPeerLink(pc)
	defer func() {
		if err != nil {
			_ = pc.Close()
			err = f.explain(ctx, code, err)
		}
	}()
	dc, err := pc.CreateDataChannel(chatLabel, nil)
	if err != nil {
		return nil, fmt.Errorf("webrtc: %w", err)
	}
	link.attach(dc)

	if chosenCode {
		if err := f.checkRoomFree(ctx, code); err != nil {
			return nil, err
		}
	}
	token, err := f.sealLocal(ctx, pc, key, webrtc.SDPTypeOffer)
	if err != nil {
		return nil, err
	}
	defer func() {
		// Host-led deletion: whatever happens from here, leave nothing behind.
		f.remove(ctx, roomPath(code))
	}()
	offerValue := f.boardValue(token)
	if err := f.put(ctx, offerPath(code), offerValue); err != nil {
		return nil, err
	}
	f.events.roomPosted(code)
	f.events.status("waiting for a peer to join")
	if err := f.awaitAnswer(ctx, code, key, pc, offerValue); err != nil {
		return nil, err
	}
	f.events.status("connecting to the peer")
	if err := link.waitOpen(ctx); err != nil {
		return nil, err
	}
	go link.keepAlive(f.peer.pingInterval)
	return link, nil
}

// join waits for the host's offer in code, answers it, and waits for the
// channel to open.
func (f *roomFlow) join(ctx context.Context, code, password string) (_ *peerLink, err error) {
	key := roomKey(code, password)
	f.events.status("looking for room " + code)
	offer, err := f.awaitOffer(ctx, code, key)
	if err != nil {
		return nil, f.explain(ctx, code, err)
	}
	pc, err := f.api.NewPeerConnection(webrtc.Configuration{ICEServers: f.peer.iceServers})
	if err != nil {
		return nil, fmt.Errorf("webrtc: %w", err)
	}
	link := newPeerLink(pc)
	defer func() {
		if err != nil {
			_ = pc.Close()
			err = f.explain(ctx, code, err)
		}
	}()
	attached := make(chan struct{})
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		select {
		case <-attached: // pypeer opens one channel; ignore any other
		default:
			link.attach(dc)
			close(attached)
		}
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer.SDP}); err != nil {
		return nil, &failure{kind: kindConnection, msg: "the host's offer could not be used: " + err.Error(), err: err}
	}
	token, err := f.sealLocal(ctx, pc, key, webrtc.SDPTypeAnswer)
	if err != nil {
		return nil, err
	}
	answerValue := f.boardValue(token)
	if err := f.postAnswer(ctx, code, answerValue); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil { // give the slot back: the host may still take another joiner
			f.remove(ctx, answerPath(code))
		}
	}()
	f.events.status("connecting to the host")
	stopGuard := f.guardAnswer(ctx, code, answerValue)
	err = link.waitOpen(ctx)
	stopGuard() // before any delete below, so no re-post can outlive it
	if err != nil {
		return nil, err
	}
	// pypeer's joiner never does its part here (PROTOCOL.md section 5);
	// gopeer's does: the room leaves the board as soon as the channel is up.
	f.remove(ctx, roomPath(code))
	go link.keepAlive(f.peer.pingInterval)
	return link, nil
}

// sealLocal creates this side's offer or answer, waits for its candidates
// and seals the whole SDP for the board.
func (f *roomFlow) sealLocal(ctx context.Context, pc *webrtc.PeerConnection, key fernetKey, typ webrtc.SDPType) (string, error) {
	f.events.status("gathering network candidates")
	create := func() (webrtc.SessionDescription, error) { return pc.CreateAnswer(nil) }
	if typ == webrtc.SDPTypeOffer {
		create = func() (webrtc.SessionDescription, error) { return pc.CreateOffer(nil) }
	}
	desc, err := create()
	if err != nil {
		return "", fmt.Errorf("webrtc: %w", err)
	}
	sdp, err := gatherLocal(ctx, pc, desc, f.peer.gatherTimeout)
	if err != nil {
		return "", err
	}
	return sealSignal(key, signal{SDP: sdp, Type: typ.String()}, f.now())
}

// checkRoomFree refuses a chosen code whose room holds a live offer, so a host
// never replaces someone else's room. An expired offer may be replaced.
func (f *roomFlow) checkRoomFree(ctx context.Context, code string) error {
	v, err := f.getWithRetry(ctx, offerPath(code))
	if err != nil {
		return err
	}
	if isNull(v) {
		return nil
	}
	bs, err := parseBoardSignal(v)
	if err == nil && f.now().Sub(time.UnixMilli(bs.Timestamp)) > signalTTL {
		return nil
	}
	return &failure{kind: kindRoomInUse, msg: "room " + code + " is in use on the board; pick another code, or leave out -room for a random one"}
}

// awaitOffer watches the room's offer until one opens with key.
func (f *roomFlow) awaitOffer(ctx context.Context, code string, key fernetKey) (signal, error) {
	// One plain request first: an unreachable board fails now, with a clear
	// error, instead of retrying quietly until the timeout.
	if _, err := f.getWithRetry(ctx, offerPath(code)); err != nil {
		return signal{}, err
	}
	var offer signal
	waiting := false
	err := f.watch(ctx, offerPath(code), func(v json.RawMessage) error {
		if isNull(v) {
			if !waiting {
				waiting = true
				f.events.status("waiting for the host to open room " + code)
			}
			return nil
		}
		sig, err := f.openBoardValue(v, key, "offer")
		switch {
		case err == nil:
			offer = sig
			return errStopWatch
		case errors.Is(err, errFernetBadMAC):
			return &failure{kind: kindWrongPassword, msg: "wrong password for room " + code + " (or a mistyped code): check both and try again", err: err}
		default:
			f.events.warn("ignored the offer in room " + code + ": " + err.Error() + "; waiting for a fresh one")
			return nil
		}
	})
	return offer, err
}

// awaitAnswer watches the room until an answer opens with key and is
// accepted by pc. A bad answer (a stranger's, or a joiner's wrong password) is
// cleared off the board and the wait goes on: unlike pypeer's host, one bad
// write must not kill the room. If the offer vanishes (a board restarted
// empty), it is posted again.
func (f *roomFlow) awaitAnswer(ctx context.Context, code string, key fernetKey, pc *webrtc.PeerConnection, offer boardSignal) error {
	onAnswer := func(v json.RawMessage) error {
		if isNull(v) {
			return nil
		}
		sig, err := f.openBoardValue(v, key, "answer")
		if err == nil {
			err = pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sig.SDP})
		}
		if err == nil {
			return errStopWatch
		}
		if errors.Is(err, errFernetBadMAC) {
			err = errors.New("it was sealed with another password")
		}
		f.events.warn("ignored an answer in room " + code + " (" + err.Error() + "); still waiting")
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := f.board.delete(dctx, answerPath(code)); err != nil {
			f.events.warn("could not clear the bad answer: " + err.Error())
		}
		return nil
	}
	err := f.watch(ctx, roomPath(code), func(v json.RawMessage) error {
		room := parseRoomValue(v)
		if isNull(room.Offer) {
			f.events.warn("the offer for room " + code + " is gone from the board (did it restart?); posting it again")
			if err := f.put(ctx, offerPath(code), offer); err != nil {
				return err
			}
		}
		return onAnswer(room.Answer)
	})
	if readDenied(err) {
		// A board whose rules let a client read only a room's offer and
		// answer, not the room: follow the answer alone, as pypeer does.
		return f.watch(ctx, answerPath(code), onAnswer)
	}
	return err
}

// readDenied reports a board's rules refusing a read.
func readDenied(err error) bool {
	var be *statusError
	return errors.As(err, &be) && (be.Status == 401 || be.Status == 403)
}

// guardAnswer keeps the joiner's answer on the board until stop is called:
// if it vanishes while the host's offer is there (a board restarted empty
// and the host posted again, or the host cleared it in a race with a
// stranger), it is posted again. stop returns once no write is in flight.
func (f *roomFlow) guardAnswer(ctx context.Context, code string, answer boardSignal) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.watch(ctx, roomPath(code), func(v json.RawMessage) error {
			room := parseRoomValue(v)
			if isNull(room.Offer) || !isNull(room.Answer) {
				return nil
			}
			f.events.warn("the answer for room " + code + " is gone from the board; posting it again")
			if err := f.put(ctx, answerPath(code), answer); err != nil && ctx.Err() == nil {
				f.events.warn("could not post the answer again: " + err.Error())
			}
			return nil
		})
	}()
	return func() { cancel(); <-done }
}

// roomValue is a room as the board holds it.
type roomValue struct {
	Offer  json.RawMessage `json:"offer"`
	Answer json.RawMessage `json:"answer"`
}

// parseRoomValue decodes a room; anything that is not an object is empty.
func parseRoomValue(v json.RawMessage) roomValue {
	var r roomValue
	_ = json.Unmarshal(v, &r)
	return r
}

// openBoardValue opens a board value as a signal of the wanted type.
func (f *roomFlow) openBoardValue(v json.RawMessage, key fernetKey, want string) (signal, error) {
	bs, err := parseBoardSignal(v)
	if err != nil {
		return signal{}, err
	}
	sig, err := openSignal(key, bs.Payload, f.now())
	if err != nil {
		return signal{}, err
	}
	if sig.Type != want {
		return signal{}, fmt.Errorf("it is an %s, not an %s", sig.Type, want)
	}
	return sig, nil
}

// postAnswer writes the answer. If another joiner's answer holds the slot, it
// waits for the host to clear it, then tries again.
func (f *roomFlow) postAnswer(ctx context.Context, code string, answer boardSignal) error {
	for {
		v, err := f.getWithRetry(ctx, answerPath(code))
		if err != nil {
			return err
		}
		if isNull(v) {
			err := f.put(ctx, answerPath(code), answer)
			if !slotTaken(err) {
				return err
			}
		}
		f.events.status("room " + code + " has another answer waiting; trying again when it clears")
		err = f.watch(ctx, answerPath(code), func(v json.RawMessage) error {
			if isNull(v) {
				return errStopWatch
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
}

// slotTaken reports a write refused because the slot already holds a value:
// a board with write-once rules answers 401 (Firebase's "Permission
// denied"), or 403 behind some proxies.
func slotTaken(err error) bool {
	var be *statusError
	return errors.As(err, &be) && (be.Status == 401 || be.Status == 403)
}

// boardValue is a sealed signal in pypeer's board shape, stamped now. The
// same value is written again on a retry, so a write-once board accepts it.
func (f *roomFlow) boardValue(token string) boardSignal {
	return boardSignal{Payload: token, Timestamp: f.now().UnixMilli()}
}

// put writes a board value, retrying while the board is unreachable or
// overloaded.
func (f *roomFlow) put(ctx context.Context, path string, value boardSignal) error {
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
func (f *roomFlow) retry(ctx context.Context, call func(context.Context) error) error {
	more := func(tries int) bool { return tries < 3 || f.reached.Load() }
	return retry(ctx, boardBackoff, more, func(ctx context.Context) error {
		err := call(ctx)
		var refused *statusError
		if err == nil || errors.As(err, &refused) {
			f.reached.Store(true) // it answered: a board is there
		}
		return err
	})
}

// remove deletes path from the board. It runs on the way out too, when ctx
// may already be cancelled, so it has its own short deadline.
func (f *roomFlow) remove(ctx context.Context, path string) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := f.board.delete(dctx, path); err != nil {
		f.events.warn("could not clean up the board: " + err.Error())
	}
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

// explain turns an error from a flow into a failure that says what to try.
func (f *roomFlow) explain(ctx context.Context, code string, err error) error {
	var fl *failure
	var be *statusError
	switch {
	case errors.As(err, &fl):
		return err
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &failure{kind: kindTimeout, msg: "timed out: nobody connected to room " + code + "; check the code, or try a longer -timeout", err: err}
	case errors.Is(err, context.Canceled):
		return &failure{kind: kindCancelled, msg: "cancelled", err: err}
	case errors.As(err, &be):
		return &failure{kind: kindBoard, msg: "the board refused a request: " + be.Error(), err: err}
	case isBoardUnreachable(err):
		return &failure{kind: kindBoard, msg: "cannot reach the board at " + f.board.String() + ": " + err.Error(), err: err}
	case errors.Is(err, errConnectionLost):
		return &failure{kind: kindConnection, msg: "could not connect to the peer directly (a strict NAT or firewall on one side?); a TURN server may help: -ice turn:HOST", err: err}
	}
	return &failure{kind: kindConnection, msg: err.Error(), err: err}
}

// isNull reports whether a board value is JSON null (absent).
func isNull(v json.RawMessage) bool {
	return len(bytes.TrimSpace(v)) == 0 || string(bytes.TrimSpace(v)) == "null"
}
