package main

// This file restores a gopeer session whose path broke (issue 15): Wi-Fi
// off and on, a new address, a NAT that forgot its mapping. ICE gives up
// on a path that has been silent for 8 s (peer.go's timeouts); two gopeers
// that both said so when they confirmed the session (wishRestart,
// control.go) then restart ICE through the board they met on, under the
// session's key, while DTLS and SCTP carry on above it. Version
// nativeVersion's restart, drawn:
//
//	host                          board: rooms/R                    joiner
//	 | silent 3 s: "interrupted"         |          silent 3 s: "interrupted",
//	 | silent 8 s: "reconnecting…"       |          watch rooms/R/offer
//	 | GET rooms/R (is the board there?) |                                  |
//	 | ICE restart: new ufrag, gathered  |                                  |
//	 |-- PUT offer {gen n, sealed} ----->|------- the stream delivers ----->|
//	 |                                   |      ICE restart, gathered       |
//	 |<------ the stream delivers -------|<--- PUT answer {gen n, sealed} --|
//	 |<========= ICE checks on the new candidates: "reconnected" =========>|
//	 |-- DELETE rooms/R ---------------->|                                  |
//	 |<===== DTLS and SCTP as they were: what waited is sent, in order ====>|
//
//	R       = a room code: base32 of HMAC-SHA512(ISK, "gopeer/1 restart room")
//	key     = HMAC-SHA512(ISK, "gopeer/1 restart key")[:32], for AES-256-GCM
//	payload = base64url(nonce || AES-GCM(key, nonce, {"gen","type","sdp"},
//	          ad = lv_cat("gopeer/1 restart", sender's role)))
//	value   = {"payload": payload, "timestamp": ms}: pypeer's slot shape,
//	          so Firebase's rules and the janitor take it as any room
//
// An offer that brings no connection within restartConnectWait is
// followed by another, of the next generation. The whole restoration is
// bounded by the -reconnect limit, counted from the first silence; past
// it, the session ends as a lost connection.
//
// Threat model. The board, and anyone who can write to it, sees that a
// room R appears and goes, its timing and its sizes: not which session it
// belongs to (R is a function of the session key), not the candidates
// (the peers' new addresses), which pypeer's own signalling shows to
// anyone who knows the room code. It cannot forge a description (AES-GCM
// under a key from ISK, which never left the two ends), reflect one side's
// description back to it (the sender's role is the associated data),
// replay one from an earlier restart (each side takes only the
// generation it is waiting for: the host its offer's, the joiner one it
// has not answered), or make a side take another DTLS certificate (the
// restart's description must name the fingerprint the session
// confirmed, and DTLS is not renegotiated anyway). What it can do is
// withhold, delete or garble the slots: that is denial of service, which
// it could do to the first handshake too; the session then ends at the
// limit, saying so. A pypeer session never restarts: nothing in it can be
// sealed under a key the board does not know.

import (
	"cmp"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

const (
	// defaultReconnect is how long a gopeer session tries to restore a
	// broken path before it ends (-reconnect).
	defaultReconnect = 2 * time.Minute
	// restartConnectWait is how long an applied restart may take to
	// connect before the host offers afresh: ICE checks on a working path
	// take well under a second, through a relay a few.
	restartConnectWait = 15 * time.Second
	// restartMaxPayload is the most a restart's sealed payload may hold:
	// the board rules' bound on a slot's payload.
	restartMaxPayload = 16384
)

// restartKeys are what a session's restarts use on the board: the room,
// and the key that seals its descriptions.
type restartKeys struct {
	room string // a room code
	aead cipher.AEAD
}

// restartKeysFor derives a session's restart room and key from its CPace
// key, ISK.
func restartKeysFor(isk []byte) restartKeys {
	derive := func(label string) []byte {
		mac := hmac.New(sha512.New, isk)
		mac.Write([]byte(nativeProtocol + " restart " + label))
		return mac.Sum(nil)
	}
	code := base32.StdEncoding.EncodeToString(derive("room"))[:roomCodeLen]
	block, err := aes.NewCipher(derive("key")[:32])
	if err != nil {
		panic(err) // a 32-byte key always makes a cipher
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return restartKeys{room: code, aead: aead}
}

// restartSignal is what a restart's payload holds: the generation and the
// description.
type restartSignal struct {
	Gen  uint64 `json:"gen"`
	Type string `json:"type"`
	SDP  string `json:"sdp"`
}

// Why a restart's value was not taken.
var (
	// errRestartStale: a description of a generation this side is not
	// waiting for, an earlier restart's (or a replay of one).
	errRestartStale = errors.New("it belongs to an earlier attempt to reconnect")
	// errRestartCertificate: a description naming another DTLS
	// certificate than the session confirmed.
	errRestartCertificate = errors.New("it names another DTLS certificate than this session's")
)

// restartDialect is the dialect (signal.go) of one session's restarts:
// its room, its sealing, and which generation each side takes.
type restartDialect struct {
	keys      restartKeys
	role      string // this side's: nativeHostRole or nativeJoinerRole
	peerRole  string
	peerPrint string // the peer's DTLS fingerprint, as the session confirmed it
	now       func() time.Time

	mu sync.Mutex
	// gen is the host's latest offer, or the offer the joiner last
	// opened; answered is the last the joiner answered.
	gen, answered uint64
}

// newRestartDialect binds the restart dialect to a confirmed session, for
// side s.
func newRestartDialect(sess nativeSession, s side, now func() time.Time) *restartDialect {
	d := &restartDialect{keys: restartKeysFor(sess.isk), role: nativeHostRole, peerRole: nativeJoinerRole, peerPrint: sess.joinerPrint, now: now}
	if s == joinSide {
		d.role, d.peerRole, d.peerPrint = nativeJoinerRole, nativeHostRole, sess.hostPrint
	}
	return d
}

func (d *restartDialect) slots() roomSlots {
	return roomSlots{room: pypeerRooms + "/" + d.keys.room, offer: pypeerOffer, answer: pypeerAnswer}
}

// channel: a restart makes no channel; the session's stay as they are.
func (d *restartDialect) channel() channelRules { return channelRules{} }

func (d *restartDialect) stale(v json.RawMessage) bool { return staleSignal(v, d.now()) }

// seal seals an offer as the next generation (the host), or an answer to
// the offer last opened (the joiner).
func (d *restartDialect) seal(desc webrtc.SessionDescription) (any, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if desc.Type == webrtc.SDPTypeOffer {
		d.gen++
	} else {
		d.answered = d.gen
	}
	plain, err := json.Marshal(restartSignal{Gen: d.gen, Type: desc.Type.String(), SDP: desc.SDP})
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, d.keys.aead.NonceSize())
	_, _ = rand.Read(nonce) // never fails (crypto/rand)
	sealed := d.keys.aead.Seal(nonce, nonce, plain, restartAD(d.role))
	payload := base64.RawURLEncoding.EncodeToString(sealed)
	if len(payload) > restartMaxPayload {
		return nil, fmt.Errorf("the description is %d bytes sealed, over the board's %d", len(payload), restartMaxPayload)
	}
	return boardSignal{Payload: payload, Timestamp: d.now().UnixMilli()}, nil
}

// open opens the peer's value: sealed under this session's key by the
// peer's role, of type want, of the generation this side waits for, and
// naming the session's certificate.
func (d *restartDialect) open(v json.RawMessage, want webrtc.SDPType) (webrtc.SessionDescription, error) {
	bs, err := parseBoardSignal(v)
	if err != nil {
		return webrtc.SessionDescription{}, err
	}
	if len(bs.Payload) > restartMaxPayload {
		return webrtc.SessionDescription{}, fmt.Errorf("its payload is %d bytes, over %d", len(bs.Payload), restartMaxPayload)
	}
	sealed, err := base64.RawURLEncoding.Strict().DecodeString(bs.Payload)
	n := d.keys.aead.NonceSize()
	if err != nil || len(sealed) < n {
		return webrtc.SessionDescription{}, errWrongKey
	}
	plain, err := d.keys.aead.Open(nil, sealed[:n], sealed[n:], restartAD(d.peerRole))
	if err != nil {
		return webrtc.SessionDescription{}, errWrongKey
	}
	var sig restartSignal
	if err := json.Unmarshal(plain, &sig); err != nil {
		return webrtc.SessionDescription{}, fmt.Errorf("its description does not decode: %w", err)
	}
	if sig.Type != want.String() {
		return webrtc.SessionDescription{}, fmt.Errorf("it is an %s, not an %s", sanitizeLine(sig.Type), want)
	}
	if fp, err := sdpFingerprint(sig.SDP); err != nil || fp != d.peerPrint {
		return webrtc.SessionDescription{}, errRestartCertificate
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case want == webrtc.SDPTypeAnswer && sig.Gen != d.gen:
		return webrtc.SessionDescription{}, errRestartStale
	case want == webrtc.SDPTypeOffer && sig.Gen <= d.answered:
		return webrtc.SessionDescription{}, errRestartStale
	case want == webrtc.SDPTypeOffer:
		d.gen = sig.Gen
	}
	return webrtc.SessionDescription{Type: want, SDP: sig.SDP}, nil
}

// restartAD is the associated data of a description role sealed.
func restartAD(role string) []byte {
	return cpaceLVCat([]byte(nativeProtocol+" restart"), []byte(role))
}

// restarter restores one session's path whenever it breaks, until the
// link ends.
type restarter struct {
	flow  *roomFlow // the session's board, with the link as its screen
	link  *peerLink
	d     *restartDialect
	side  side
	limit time.Duration
	// left is the host's last room that could not be removed (the board
	// was out of reach): the next attempt removes it, as its owner.
	left *hosted
}

// startRestarts makes link's session restore itself through f's board
// when its path breaks, for at most limit each time.
func (f *roomFlow) startRestarts(link *peerLink, sess nativeSession, s side, limit time.Duration) {
	rf := &roomFlow{
		board:           f.board,
		peer:            f.peer,
		events:          restartEvents{link: link},
		noRoomAfter:     limit + time.Hour, // a restart's room is not there until needed: never say so
		unreachableHint: f.unreachableHint,
	}
	rf.reached.Store(true) // the board answered before: ride out its blips
	r := &restarter{flow: rf, link: link, d: newRestartDialect(sess, s, time.Now), side: s, limit: limit}
	link.restartable.Store(true)
	link.inBackground(r.run)
}

// run waits for the path to break, restores it, and again, until the
// link ends, or a restoration fails: then the session ends as lost.
func (r *restarter) run() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-r.link.closed
		cancel()
	}()
	broken := []webrtc.PeerConnectionState{webrtc.PeerConnectionStateDisconnected, webrtc.PeerConnectionStateFailed}
	for r.link.awaitState(ctx, broken...) {
		deadline, stop := context.WithTimeout(ctx, r.limit)
		err := r.restore(deadline)
		stop()
		if err != nil {
			if ctx.Err() == nil {
				r.link.end(fmt.Errorf("%w: %w", errConnectionLost, errNotRestored{r.limit}))
			}
			return
		}
	}
}

// restore brings the path back as this side's role does it, or fails
// when ctx ends first.
func (r *restarter) restore(ctx context.Context) error {
	// The path broke: the network may have changed under the board's
	// connections too.
	r.flow.board.forgetConnections()
	if r.side == joinSide {
		return r.answerRestarts(ctx)
	}
	// The host restarts only once ICE has given up: until then the path
	// may come back by itself (a link down and up within seconds), and a
	// restart would throw it away.
	failedOrBack := []webrtc.PeerConnectionState{webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateConnected}
	if !r.link.awaitState(ctx, failedOrBack...) {
		return ctx.Err()
	}
	var wait backoff = boardBackoff
	for r.link.pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
		// An attempt ends early when this side's network changes: what
		// it offered was gathered on the network as it was.
		actx, moved, stop := whileNetworkStays(ctx)
		if r.offerRestart(actx) {
			stop()
			return nil
		}
		if !moved() {
			// Before the next try: a pause, cut short by a network change.
			_ = wait.wait(actx, nil)
		}
		stop()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if moved() {
			wait.reset()
		}
	}
	return nil
}

// networkPoll is how often a restart looks at this side's network.
const networkPoll = 500 * time.Millisecond

// whileNetworkStays returns a context that ends with ctx, or once the
// addresses of this side's interfaces that are up differ from now; moved
// reports the latter. stop releases it.
func whileNetworkStays(ctx context.Context) (_ context.Context, moved func() bool, stop func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	was := localAddresses()
	go func() {
		t := time.NewTicker(networkPoll)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				if localAddresses() != was {
					cancel(errNetworkMoved)
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return ctx, func() bool { return errors.Is(context.Cause(ctx), errNetworkMoved) }, func() { cancel(nil) }
}

// errNetworkMoved is why an attempt ended on a network change.
var errNetworkMoved = errors.New("the network changed")

// localAddresses lists the addresses of the interfaces that are up and
// have a carrier. An interface that loses its carrier and gets it back
// counts as a change too: an offer gathered on it without carrier did not
// connect once the carrier was back (TestNetworkReconnect: 15 s, then a
// fresh offer did at once).
func localAddresses() string {
	ifaces, err := net.Interfaces()
	if err != nil {
		return ""
	}
	var all []string
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagRunning == 0 {
			continue // down, or without carrier: nothing goes through it
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			all = append(all, ifc.Name+" "+a.String())
		}
	}
	slices.Sort(all)
	return strings.Join(all, ",")
}

// errNotRestored says a broken path stayed broken for the whole limit.
type errNotRestored struct{ limit time.Duration }

func (e errNotRestored) Error() string {
	return fmt.Sprintf("it could not be restored within %s", e.limit)
}

// offerRestart is one attempt of the host: an ICE restart offered through
// the board, answered, and checked. It reports whether the path is back.
// The room comes off the board again on every way out.
func (r *restarter) offerRestart(ctx context.Context) bool {
	f, pc, slots := r.flow, r.link.pc, r.d.slots()
	// Gathering is worth it only on a network that reaches the board,
	// and what an earlier attempt left there must go before an offer can.
	if v, err := f.getWithRetry(ctx, slots.room); err != nil {
		return false
	} else if !isNull(v) {
		left := cmp.Or(r.left, &hosted{slots: slots})
		if !f.removeHosted(ctx, left) {
			return false
		}
		r.left = nil
	}
	offer, err := pc.CreateOffer(&webrtc.OfferOptions{ICERestart: true})
	if err != nil {
		r.link.notice("reconnecting: " + err.Error())
		return false
	}
	sdp, err := gatherLocal(ctx, pc, offer, f.peer.gatherTimeout)
	if err != nil {
		settle(pc)
		return false
	}
	value, err := r.d.seal(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp})
	if err != nil {
		r.link.notice("reconnecting: " + err.Error())
		settle(pc)
		return false
	}
	h := &hosted{slots: slots, offer: value}
	defer func() {
		if !f.removeHosted(ctx, h) {
			r.left = h
		}
	}()
	if f.postOffer(ctx, h) != nil || f.awaitAnswer(ctx, r.d, r.d.keys.room, pc, h) != nil {
		settle(pc)
		return false
	}
	cctx, cancel := context.WithTimeout(ctx, restartConnectWait)
	defer cancel()
	return r.link.awaitState(cctx, webrtc.PeerConnectionStateConnected)
}

// answerRestarts is the joiner's side: it answers each fresh restart offer
// the host posts, until the path is back (by a restart, or by itself).
func (r *restarter) answerRestarts(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	back := make(chan struct{})
	go func() {
		if r.link.awaitState(ctx, webrtc.PeerConnectionStateConnected) {
			close(back)
			cancel()
		}
	}()
	f, pc, slots, code := r.flow, r.link.pc, r.d.slots(), r.d.keys.room
	stopGuard := func() {}
	defer func() { stopGuard() }()
	var wait backoff = boardBackoff
	for {
		// A network that changes (comes back) cuts short the board's
		// retries, which back off to one every 5 s while it is away.
		wctx, moved, stopWatch := whileNetworkStays(ctx)
		offer, answerSlot, err := f.awaitOffer(wctx, r.d, code)
		stopWatch()
		if err != nil && moved() && ctx.Err() == nil {
			continue
		}
		stopGuard()
		stopGuard = func() {}
		if err == nil {
			r.link.startReconnecting()
			offer.SDP = f.trimCandidates(offer.SDP, "the host's restart offer")
			err = pc.SetRemoteDescription(offer)
		}
		var answer any
		if err == nil {
			if answer, err = f.sealLocal(ctx, pc, r.d, webrtc.SDPTypeAnswer); err != nil {
				settle(pc)
			}
		}
		if err == nil {
			_, err = f.postAnswer(ctx, slots, code, answer, answerSlot)
		}
		select {
		case <-back:
			return nil
		default:
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			r.link.notice("reconnecting: " + err.Error())
			if wait.wait(ctx, err) != nil {
				return ctx.Err()
			}
			continue
		}
		wait.reset()
		// Kept on the board until the path is back or a fresher offer
		// comes: a board that restarted empty gets it again.
		stopGuard = f.guardAnswer(ctx, slots, code, answer)
	}
}

// settle brings pc back to a stable signalling state after a restart that
// stopped halfway, so that the next one can begin: pion cannot roll back
// a local offer, so the host takes the joiner's last answer again, and
// the joiner answers what it took.
func settle(pc *webrtc.PeerConnection) {
	switch pc.SignalingState() {
	case webrtc.SignalingStateHaveLocalOffer:
		if prev := pc.CurrentRemoteDescription(); prev != nil {
			_ = pc.SetRemoteDescription(*prev)
		}
	case webrtc.SignalingStateHaveRemoteOffer:
		if answer, err := pc.CreateAnswer(nil); err == nil {
			_ = pc.SetLocalDescription(answer)
		}
	}
}

// restartEvents is what the board flows of a restart tell the user: no
// progress, which would only repeat "reconnecting", but every warning,
// on the chat's screen, through the link.
type restartEvents struct{ link *peerLink }

func (e restartEvents) status(string) {}
func (e restartEvents) warn(msg string) {
	e.link.notice("reconnecting: " + strings.TrimSpace(msg))
}
func (e restartEvents) roomPosted(string, string) {}
func (e restartEvents) wrongKey(string) {
	e.link.notice("reconnecting: ignored a value on the board that is not sealed under this session's key")
}
