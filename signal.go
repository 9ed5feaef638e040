package main

// This file is the signaling dialect: the one seam between how two ends
// meet in a room (room.go, which drives the board and WebRTC) and what
// they say there. A dialect knows where a room's offer and answer live on
// the board, how a session description is sealed into a board value and
// opened again, and what the data channel is called and carries. The room
// flow knows none of it, so a second dialect is a second implementation of
// the interface below, with the flow's control logic untouched.
//
// There are two: pypeer's, version pypeerDialectVersion, here and in
// docs/PROTOCOL.md; and the native one between two gopeers (native.go),
// which wraps pypeer's and adds a PAKE inside the same values. pypeer's
// handshake, with the board as the only go-between and no trickle ICE
// (each side posts its whole description once):
//
//	host                          board (rooms/CODE)                  joiner
//	 |                                    |                               |
//	 |  gather ICE candidates             |                               |
//	 |  PUT offer = {payload: seal(offer), timestamp: ms}                 |
//	 |----------------------------------->|                               |
//	 |  stream rooms/CODE                 |  stream rooms/CODE/offer      |
//	 |<---------------------------------->|<----------------------------->|
//	 |                                    |  open(offer); gather          |
//	 |                                    |  PUT answer = {payload:       |
//	 |                                    |    seal(answer), timestamp}   |
//	 |                                    |<------------------------------|
//	 |  open(answer)                      |                               |
//	 |<===== ICE checks, DTLS, SCTP: one data channel, label "chat" =====>|
//	 |  DELETE rooms/CODE                 |  DELETE rooms/CODE            |
//	 |----------------------------------->|<------------------------------|
//	 |<======== UTF-8 text messages; "__ping__" every 15 s, unseen ======>|
//
//	seal(d) = Fernet(key, zlib(JSON {"sdp": d.sdp, "type": d.type}))
//	key     = SHA-256(UTF-8(CODE + PASSWORD)), as a Fernet key (crypto.go)
//
// Whoever can read the board can test password guesses against an offer
// offline, and with no password the code alone opens it: docs/PROTOCOL.md
// says what this dialect protects and what it does not.

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pion/webrtc/v4"
)

// dialect is a signaling protocol bound to one room: the room flow posts
// what seal gives it, opens what others post with open, and runs the data
// channel by channel's rules.
type dialect interface {
	// slots are where the room, its offer and its answer live on the board.
	slots() roomSlots
	// seal turns this side's session description into the board value to
	// post in its slot. The same value is posted again on a retry.
	seal(desc webrtc.SessionDescription) (any, error)
	// open reads a value found in a slot as a description of type want.
	// It fails with errWrongKey when the value is well formed but sealed
	// under another key: another password, or someone else's room.
	open(v json.RawMessage, want webrtc.SDPType) (webrtc.SessionDescription, error)
	// stale reports whether a value found in a slot is too old to be
	// anyone's, so a host may replace it.
	stale(v json.RawMessage) bool
	// channel is what the data channel is called and carries.
	channel() channelRules
}

// errWrongKey means a signal is sealed under another key than this room's:
// the joiner has a wrong password (or a mistyped code), or the value is a
// stranger's.
var errWrongKey = errors.New("it was sealed with another password")

// roomSlots are the board locations of one room.
type roomSlots struct {
	room          string // the room itself, removed once the peers connect
	offer, answer string // the keys of the two slots inside the room
}

func (s roomSlots) offerPath() string  { return s.room + "/" + s.offer }
func (s roomSlots) answerPath() string { return s.room + "/" + s.answer }

// split returns a room value's offer and answer; anything that is not an
// object holds neither.
func (s roomSlots) split(room json.RawMessage) (offer, answer json.RawMessage) {
	var children map[string]json.RawMessage
	_ = json.Unmarshal(room, &children)
	return children[s.offer], children[s.answer]
}

// channelRules are what a dialect's data channel is named and carries.
type channelRules struct {
	label     string        // the one channel's label
	keepAlive string        // a message sent every keepAliveEvery, never shown or sent as chat
	every     time.Duration // the keep-alive period
	maxBytes  int           // the largest message either side may send
}

// pypeer's dialect: the wire of pypeer 0.1.0. It carries no version on the
// wire; this names what the code speaks and docs/PROTOCOL.md describes.
const pypeerDialectVersion = "pypeer/1"

// pypeer's board layout: rooms/CODE/offer and rooms/CODE/answer, each
// {"payload": <Fernet token>, "timestamp": <ms>}. The board's rules and
// the janitor follow the same names.
const (
	pypeerRooms     = "rooms"
	pypeerOffer     = "offer"
	pypeerAnswer    = "answer"
	pypeerPayload   = "payload"
	pypeerTimestamp = "timestamp"
)

// pypeerChannel is pypeer's data channel: one channel labelled "chat", a
// "__ping__" every 15 s, and aiortc's a=max-message-size:65536.
var pypeerChannel = channelRules{
	label:     "chat",
	keepAlive: "__ping__",
	every:     15 * time.Second,
	maxBytes:  65536,
}

// pypeerDialect is pypeer's dialect in one room.
type pypeerDialect struct {
	code string
	key  fernetKey
	now  func() time.Time
	// offered is when this side sealed its offer; an answer sealed well
	// before it (beyond clock skew) is one replayed from an earlier
	// session with the same code and password.
	offered time.Time
}

// errReplayed means an answer was sealed before this room's offer.
var errReplayed = errors.New("it was sealed before this room's offer: an answer replayed from an earlier session")

// newPypeerDialect binds pypeer's dialect to the room code and password.
func newPypeerDialect(code, password string, now func() time.Time) dialect {
	return &pypeerDialect{code: code, key: roomKey(code, password), now: now}
}

func (d *pypeerDialect) slots() roomSlots {
	return roomSlots{room: pypeerRooms + "/" + d.code, offer: pypeerOffer, answer: pypeerAnswer}
}

func (d *pypeerDialect) channel() channelRules { return pypeerChannel }

func (d *pypeerDialect) seal(desc webrtc.SessionDescription) (any, error) {
	now := d.now()
	token, err := sealSignal(d.key, signal{SDP: desc.SDP, Type: desc.Type.String()}, now)
	if err != nil {
		return nil, err
	}
	if desc.Type == webrtc.SDPTypeOffer {
		d.offered = now
	}
	return boardSignal{Payload: token, Timestamp: now.UnixMilli()}, nil
}

func (d *pypeerDialect) open(v json.RawMessage, want webrtc.SDPType) (webrtc.SessionDescription, error) {
	bs, err := parseBoardSignal(v)
	if err != nil {
		return webrtc.SessionDescription{}, err
	}
	sig, sealed, err := openSignalAt(d.key, bs.Payload, d.now())
	if errors.Is(err, errFernetBadMAC) {
		return webrtc.SessionDescription{}, errWrongKey
	}
	if err != nil {
		return webrtc.SessionDescription{}, err
	}
	if sig.Type != want.String() {
		return webrtc.SessionDescription{}, fmt.Errorf("it is an %s, not an %s", sig.Type, want)
	}
	// Fernet's timestamp is authenticated and in whole seconds; pypeer's
	// joiner stamps it too, so this costs a pypeer peer nothing.
	if want == webrtc.SDPTypeAnswer && !d.offered.IsZero() && sealed.Before(d.offered.Truncate(time.Second).Add(-signalMaxSkew)) {
		return webrtc.SessionDescription{}, errReplayed
	}
	return webrtc.SessionDescription{Type: want, SDP: sig.SDP}, nil
}

func (d *pypeerDialect) stale(v json.RawMessage) bool { return staleSignal(v, d.now()) }

// staleSignal reports whether a slot value's timestamp is older than
// signalTTL at now: anyone may replace it (the board's rules agree).
func staleSignal(v json.RawMessage, now time.Time) bool {
	bs, err := parseBoardSignal(v)
	return err == nil && now.Sub(time.UnixMilli(bs.Timestamp)) > signalTTL
}

// boardSignal is the value pypeer writes at offer and answer.
type boardSignal struct {
	Payload   string `json:"payload"`
	Timestamp int64  `json:"timestamp"`
}

// errBadBoardValue is a value at offer or answer that is not pypeer's shape.
var errBadBoardValue = errors.New("not a {payload, timestamp} object")

// parseBoardSignal decodes a board value without trusting it: a payload
// string is needed, a timestamp may be missing but not be other than a
// number.
func parseBoardSignal(v json.RawMessage) (boardSignal, error) {
	tree, err := treeDecode(v)
	payload, isString := treeGet(tree, []string{pypeerPayload}).(string)
	if err != nil || !isString {
		return boardSignal{}, errBadBoardValue
	}
	ms, isNumber := slotTimestamp(tree)
	if !isNumber && treeGet(tree, []string{pypeerTimestamp}) != nil {
		return boardSignal{}, errBadBoardValue
	}
	return boardSignal{Payload: payload, Timestamp: int64(ms)}, nil
}

// slotTimestamp is the time a slot value claims to have been written, in
// milliseconds, from the value in the data model's form; ok is false when
// it has no numeric timestamp.
func slotTimestamp(v any) (ms float64, ok bool) {
	return treeNumber(treeGet(v, []string{pypeerTimestamp}))
}

// validSlotValue reports whether v, in the data model's form, is exactly
// pypeer's slot value: {"payload": a non-empty string of at most
// maxPayload bytes (0 for any), "timestamp": a number} and nothing else.
// The board's rules hold anonymous writers to it.
func validSlotValue(v any, maxPayload int) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 2 {
		return false
	}
	payload, ok := m[pypeerPayload].(string)
	if !ok || payload == "" || (maxPayload > 0 && len(payload) > maxPayload) {
		return false
	}
	_, ok = slotTimestamp(m)
	return ok
}

// signal is one side's session description, exactly the two keys pypeer
// expects: aiortc takes them as keyword arguments, and any other key makes
// pypeer fail.
type signal struct {
	SDP  string `json:"sdp"`
	Type string `json:"type"`
}

// Limits for signals read from the board, which anyone who knows a room
// code can write to.
const (
	signalTTL      = 10 * time.Minute // an offer or answer older than this is refused (replay guard)
	signalMaxSkew  = 2 * time.Minute  // tolerated clock difference for tokens from the future
	signalMaxToken = 256 << 10        // bytes of Fernet token accepted from the board
	signalMaxPlain = 256 << 10        // bytes after inflating; a zlib bomb stops here
)

// Errors from opening a signal, besides the Fernet errors.
var (
	// errSignalTooLarge means the signal inflates past signalMaxPlain (or, when
	// sealing, would not fit the limits a reader applies).
	errSignalTooLarge = errors.New("signal: too large")
	// errSignalMalformed means the signal decrypted but is not a zlib-packed
	// JSON object with a non-empty "sdp" and a "type" of offer or answer.
	errSignalMalformed = errors.New("signal: malformed")
)

// sealSignal turns s into the board's payload: JSON with exactly the keys
// "sdp" and "type", zlib, then Fernet. It refuses what openSignal would
// refuse, so a reader never sees it.
func sealSignal(k fernetKey, s signal, now time.Time) (string, error) {
	if err := signalCheck(s); err != nil {
		return "", err
	}
	js, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	if len(js) > signalMaxPlain {
		return "", fmt.Errorf("%w: %d bytes of JSON, limit %d", errSignalTooLarge, len(js), signalMaxPlain)
	}
	var packed bytes.Buffer
	zw := zlib.NewWriter(&packed)
	if _, err := zw.Write(js); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	token, err := k.encrypt(packed.Bytes(), now, nil)
	if err != nil {
		return "", err
	}
	if len(token) > signalMaxToken {
		return "", fmt.Errorf("%w: token of %d bytes, limit %d", errSignalTooLarge, len(token), signalMaxToken)
	}
	return token, nil
}

// openSignal reverses sealSignal for a token read from the board. Unlike
// pypeer it applies signalTTL, so an old offer cannot be replayed, and it
// caps every size, so a stranger's payload costs little to reject.
func openSignal(k fernetKey, token string, now time.Time) (signal, error) {
	s, _, err := openSignalAt(k, token, now)
	return s, err
}

// openSignalAt is openSignal that also says when the signal was sealed,
// by the sealer's clock: the token's authenticated timestamp.
func openSignalAt(k fernetKey, token string, now time.Time) (signal, time.Time, error) {
	if len(token) > signalMaxToken {
		return signal{}, time.Time{}, fmt.Errorf("%w: token of %d bytes, limit %d", errFernetMalformed, len(token), signalMaxToken)
	}
	packed, sealed, err := k.decryptAt(token, now, signalTTL, signalMaxSkew)
	if err != nil {
		return signal{}, time.Time{}, err
	}
	js, err := signalInflate(packed)
	if err != nil {
		return signal{}, time.Time{}, err
	}
	s, err := signalDecode(js)
	return s, sealed, err
}

// signalInflate undoes zlib, reading at most signalMaxPlain+1 bytes so that a
// small payload cannot expand into a large allocation.
func signalInflate(packed []byte) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(packed))
	if err != nil {
		return nil, fmt.Errorf("%w: not zlib: %v", errSignalMalformed, err)
	}
	defer zr.Close()
	js, err := io.ReadAll(io.LimitReader(zr, signalMaxPlain+1))
	if err != nil {
		return nil, fmt.Errorf("%w: bad zlib stream: %v", errSignalMalformed, err)
	}
	if len(js) > signalMaxPlain {
		return nil, fmt.Errorf("%w: inflates past %d bytes", errSignalTooLarge, signalMaxPlain)
	}
	return js, nil
}

// signalDecode reads any JSON object with string members "sdp" and "type",
// ignoring other members. Keys are matched exactly, not case-insensitively as
// encoding/json would match struct fields, because pypeer matches exactly.
func signalDecode(js []byte) (signal, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(js, &obj); err != nil || obj == nil {
		return signal{}, fmt.Errorf("%w: not a JSON object", errSignalMalformed)
	}
	var s signal
	fields := []struct {
		name string
		dst  *string
	}{{"sdp", &s.SDP}, {"type", &s.Type}}
	for _, f := range fields {
		raw, ok := obj[f.name]
		if !ok {
			return signal{}, fmt.Errorf("%w: no %q member", errSignalMalformed, f.name)
		}
		if err := json.Unmarshal(raw, f.dst); err != nil {
			return signal{}, fmt.Errorf("%w: %q is not a string", errSignalMalformed, f.name)
		}
	}
	if err := signalCheck(s); err != nil {
		return signal{}, err
	}
	return s, nil
}

// signalCheck accepts what aiortc on the far side can use for an offer or
// an answer: some SDP text and one of the two types gopeer exchanges.
func signalCheck(s signal) error {
	if s.SDP == "" {
		return fmt.Errorf("%w: empty sdp", errSignalMalformed)
	}
	if s.Type != "offer" && s.Type != "answer" {
		return fmt.Errorf("%w: type is neither offer nor answer", errSignalMalformed)
	}
	return nil
}
