package main

// This file is gopeer's native protocol inside pypeer's rooms (issue 13):
// what a gopeer end adds to pypeer's wire, and how two gopeers prove to
// each other that they share the secret part of the code. Version
// nativeVersion, drawn with pypeer's handshake around it (signal.go):
//
//	host (code ROOM-SECRET-CHECK)        board            joiner (same code)
//	 |  CPace start: Ya                     |                             |
//	 |  offer SDP + a=x-gopeer:1 Ya, sealed as pypeer seals               |
//	 |------------------------------------->|---------------------------->|
//	 |                                      |   CPace: Yb, ISK            |
//	 |                     answer SDP + a=x-gopeer:1 Yb, sealed           |
//	 |<-------------------------------------|<----------------------------|
//	 |  CPace: ISK                                                        |
//	 |<=========== ICE, DTLS, SCTP: the chat channel, as pypeer's ========>|
//	 |<=== a second, negotiated channel (never pypeer's): the tags =====>|
//	 |  host tag  = HMAC(mac_key, "host"   || transcript)  -------------->|
//	 |<-------------- joiner tag = HMAC(mac_key, "joiner" || transcript)  |
//	 |  both check the other's; only then is anything from the peer shown|
//
//	PRS        = lv_cat(SECRET, PASSWORD)          never on the board
//	CI         = lv_cat("gopeer/1", "host", "joiner", ROOM)
//	mac_key    = SHA-512("CPaceMac" || sid || ISK)  (sid empty: Ya is fresh)
//	transcript = lv_cat(Ya, Yb, host DTLS fingerprint, joiner DTLS fingerprint),
//	             each fingerprint as this side saw it in the SDP it sent or got
//
// A man in the middle on the board who does not know SECRET cannot make
// ISK match either side; one who relays between two DTLS sessions of its
// own shows each side a fingerprint the other never sent, so the
// transcripts differ and both tags fail. A board reader learns Ya and Yb,
// which are uniformly random whatever the password: nothing to guess
// against offline.
//
// The announcement is one session-level SDP attribute in the description
// a gopeer end seals, so that rooms stay pypeer rooms:
//
//	a=x-gopeer:1 <base64url of this side's CPace message>
//
// Why there: pypeer hands the sealed JSON to aiortc as keyword arguments
// (RTCSessionDescription(**data)), so one more JSON key would break every
// pypeer peer, while aiortc's SDP parser skips a=… lines it does not know;
// interop_test.go proves both. A description without the attribute is a
// pypeer peer's; one of another version is a gopeer of another version,
// for the dialect to judge.
import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

const (
	// nativeAttribute names the attribute; "x-" marks it as private use.
	nativeAttribute = "x-gopeer"
	// nativeVersion is the native protocol's version, carried in the
	// attribute. It changes whenever what the attribute means does.
	nativeVersion = 1
	// nativeMaxLine bounds the attribute's line, far above version 1's
	// (about 60 bytes), so a later version may carry a little more.
	nativeMaxLine = 512
	// nativeProtocol names this version in the channel identifier and the
	// confirmation, so that no value of one version passes for another's.
	nativeProtocol = "gopeer/1"
	// nativeMaxFingerprints bounds the a=fingerprint lines read from one
	// description.
	nativeMaxFingerprints = 8
)

// nativeAnnouncement is what a peer's attribute says.
type nativeAnnouncement struct {
	version int
	msg     []byte // the peer's CPace message (version 1)
}

// errNativeMalformed means a description carries the attribute but not in
// a form this version reads: two of them, a bad version number, or a
// message that does not decode. A hostile board or peer could send it; it
// is refused, never taken for a pypeer peer.
var errNativeMalformed = errors.New("the description's gopeer attribute is malformed")

// withNativeAnnouncement returns sdp with the attribute for msg added at
// the end of its session-level section, before the first media section.
func withNativeAnnouncement(sdp string, msg []byte) string {
	line := "a=" + nativeAttribute + ":" + strconv.Itoa(nativeVersion) + " " + base64.RawURLEncoding.EncodeToString(msg) + "\r\n"
	if strings.HasPrefix(sdp, "m=") {
		return line + sdp
	}
	if i := strings.Index(sdp, "\nm="); i >= 0 {
		return sdp[:i+1] + line + sdp[i+1:]
	}
	if sdp != "" && !strings.HasSuffix(sdp, "\n") {
		sdp += "\r\n"
	}
	return sdp + line
}

// readNativeAnnouncement finds the attribute in sdp's session-level
// section. found is false for a pypeer peer's description.
func readNativeAnnouncement(sdp string) (a nativeAnnouncement, found bool, err error) {
	prefix := "a=" + nativeAttribute + ":"
	for line := range strings.Lines(sdp) {
		if strings.HasPrefix(line, "m=") {
			break // media sections: the attribute is session-level only
		}
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		if found {
			return nativeAnnouncement{}, true, fmt.Errorf("%w: it appears twice", errNativeMalformed)
		}
		found = true
		if a, err = parseNativeLine(strings.TrimRight(line[len(prefix):], "\r\n")); err != nil {
			return nativeAnnouncement{}, true, err
		}
	}
	return a, found, nil
}

// parseNativeLine reads "VERSION MESSAGE". A version other than ours is
// returned as it is, with no message, for the caller to judge.
func parseNativeLine(value string) (nativeAnnouncement, error) {
	if len(value) > nativeMaxLine {
		return nativeAnnouncement{}, fmt.Errorf("%w: %d bytes, over %d", errNativeMalformed, len(value), nativeMaxLine)
	}
	vers, rest, _ := strings.Cut(value, " ")
	version, err := strconv.Atoi(vers)
	if err != nil || version < 1 || vers != strconv.Itoa(version) {
		return nativeAnnouncement{}, fmt.Errorf("%w: version %q", errNativeMalformed, sanitizeLine(vers))
	}
	if version != nativeVersion {
		return nativeAnnouncement{version: version}, nil
	}
	msg, err := base64.RawURLEncoding.Strict().DecodeString(rest)
	if err != nil || len(msg) != cpaceElementLen {
		return nativeAnnouncement{}, fmt.Errorf("%w: its message is not %d bytes of base64url", errNativeMalformed, cpaceElementLen)
	}
	return nativeAnnouncement{version: version, msg: msg}, nil
}

// nativeCPaceInputs are the CPace password and channel identifier of a
// room: the code's secret part and the room password (which never touch
// the board), and both roles and the room code.
func nativeCPaceInputs(code joinCode, password string) (prs, ci []byte) {
	prs = cpaceLVCat([]byte(code.secret), []byte(password))
	ci = cpaceLVCat([]byte(nativeProtocol), []byte("host"), []byte("joiner"), []byte(code.room))
	return prs, ci
}

// errNoFingerprint means a description names no DTLS certificate
// fingerprint, or names two different ones: nothing to bind a
// confirmation to.
var errNoFingerprint = errors.New("the description names no single DTLS fingerprint")

// sdpFingerprint returns the DTLS certificate fingerprint a description
// names, as "sha-256 AB:CD:…". pion and aiortc repeat it per media
// section; every copy must agree.
func sdpFingerprint(sdp string) (string, error) {
	var fp string
	seen := 0
	for line := range strings.Lines(sdp) {
		value, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "a=fingerprint:")
		if !ok {
			continue
		}
		if seen++; seen > nativeMaxFingerprints {
			return "", fmt.Errorf("%w: over %d", errNoFingerprint, nativeMaxFingerprints)
		}
		algo, hexes, _ := strings.Cut(strings.TrimSpace(value), " ")
		norm := strings.ToLower(algo) + " " + strings.ToUpper(strings.TrimSpace(hexes))
		if fp != "" && norm != fp {
			return "", fmt.Errorf("%w: two different ones", errNoFingerprint)
		}
		fp = norm
	}
	if fp == "" {
		return "", errNoFingerprint
	}
	return fp, nil
}

// nativeSession is what two gopeers confirm once connected: the CPace key
// and the transcript, as this side saw it.
type nativeSession struct {
	isk                    []byte
	hostMsg, joinerMsg     []byte // Ya and Yb
	hostPrint, joinerPrint string // each side's DTLS fingerprint, from the SDP sent or got
}

// nativeRoles name the two sides in the confirmation tags.
const (
	nativeHostRole   = "host"
	nativeJoinerRole = "joiner"
)

// tag is the confirmation role sends: an HMAC under the key derived from
// ISK, over the role and the whole transcript.
func (s nativeSession) tag(role string) []byte {
	k := sha512.Sum512(append([]byte("CPaceMac"), s.isk...)) // sid is empty
	mac := hmac.New(sha512.New, k[:])
	mac.Write(cpaceLVCat([]byte(nativeProtocol+" confirm"), []byte(role),
		s.hostMsg, s.joinerMsg, []byte(s.hostPrint), []byte(s.joinerPrint)))
	return mac.Sum(nil)
}

// errNotConfirmed means the peer's confirmation did not match: it does not
// hold the code's secret part (a wrong code, or a man in the middle), or
// the connection is not the one the descriptions named.
var errNotConfirmed = errors.New("the peer did not prove it holds this code: a wrong code, or someone in the middle")

// checkTag checks the peer's confirmation, sent as peerRole, in constant
// time.
func (s nativeSession) checkTag(peerRole string, tag []byte) error {
	if !hmac.Equal(tag, s.tag(peerRole)) {
		return errNotConfirmed
	}
	return nil
}

// verifyString is what both people may read to each other (/verify): 8
// digits from the session key, the same on both ends and different under
// any man in the middle.
func (s nativeSession) verifyString() string {
	h := sha512.Sum512(append([]byte(nativeProtocol+" verify"), s.isk...))
	n := (uint64(h[0])<<32 | uint64(h[1])<<24 | uint64(h[2])<<16 | uint64(h[3])<<8 | uint64(h[4])) % 100_000_000
	return fmt.Sprintf("%04d %04d", n/10_000, n%10_000)
}

// errNotNative means a description carries no version-1 announcement
// where this side accepts only a gopeer's: a joiner holding a gopeer code
// (its secret part is useless to anyone else), or a host run with
// -secure. It is what a downgrade looks like: someone on the board
// stripping the attribute, or answering as a pypeer.
var errNotNative = errors.New("it is not a gopeer's (no gopeer announcement), and this side accepts only a confirmed gopeer")

// nativeDialect is pypeer's dialect with the native protocol inside it:
// the same board paths, values and sealing, and an announcement carrying
// this side's CPace message in the description it seals. Once the peer's
// announcement is opened, session gives what the two confirm over the
// control channel (control.go).
type nativeDialect struct {
	dialect              // pypeer's, for the room code and password
	code     joinCode    // with its secret part
	password string      //
	host     bool        // which side of CPace and of the confirmation
	secure   bool        // the host accepts no pypeer answer
	mu       sync.Mutex  // seal and open may run from different goroutines
	self     *cpaceParty // this side's CPace run, for the description it seals
	sess     nativeSession
	native   bool // the peer's announcement was opened: sess holds its key
}

// newNativeDialect binds the native dialect to a gopeer code and the room
// password, for the host's side or the joiner's.
func newNativeDialect(code joinCode, password string, host, secure bool, now func() time.Time) *nativeDialect {
	return &nativeDialect{dialect: newPypeerDialect(code.room, password, now), code: code, password: password, host: host, secure: secure}
}

// seal adds this side's announcement to the description. The host starts
// its CPace run here; the joiner answers with the run it started when it
// opened the offer.
func (d *nativeDialect) seal(desc webrtc.SessionDescription) (any, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fp, err := sdpFingerprint(desc.SDP)
	if err != nil {
		return nil, err
	}
	if d.host {
		prs, ci := nativeCPaceInputs(d.code, d.password)
		if d.self, err = cpaceStart(prs, ci, nil, nil, nil); err != nil {
			return nil, err
		}
		d.sess = nativeSession{hostMsg: d.self.msg, hostPrint: fp}
		d.native = false
	} else {
		if d.self == nil {
			return nil, errors.New("no offer opened to answer")
		}
		d.sess.joinerPrint = fp
	}
	desc.SDP = withNativeAnnouncement(desc.SDP, d.self.msg)
	return d.dialect.seal(desc)
}

// open opens the peer's value as pypeer's dialect does, then reads its
// announcement: the host finishes its CPace run with the joiner's message;
// the joiner starts and finishes its own with the host's.
func (d *nativeDialect) open(v json.RawMessage, want webrtc.SDPType) (webrtc.SessionDescription, error) {
	desc, err := d.dialect.open(v, want)
	if err != nil {
		return desc, err
	}
	a, found, err := readNativeAnnouncement(desc.SDP)
	if err != nil {
		return webrtc.SessionDescription{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if !found || a.version != nativeVersion {
		// A pypeer peer, or a gopeer of another version: welcome only to
		// a host that did not ask for -secure.
		if !d.host || d.secure {
			return webrtc.SessionDescription{}, errNotNative
		}
		d.native = false
		return desc, nil
	}
	peerPrint, err := sdpFingerprint(desc.SDP)
	if err != nil {
		return webrtc.SessionDescription{}, err
	}
	if d.host {
		if d.self == nil {
			return webrtc.SessionDescription{}, errors.New("an answer before any offer was sealed")
		}
		isk, err := d.self.finish(a.msg, nil, true)
		if err != nil {
			return webrtc.SessionDescription{}, err
		}
		d.sess.isk, d.sess.joinerMsg, d.sess.joinerPrint = isk, a.msg, peerPrint
		d.native = true
		return desc, nil
	}
	prs, ci := nativeCPaceInputs(d.code, d.password)
	self, err := cpaceStart(prs, ci, nil, nil, nil)
	if err != nil {
		return webrtc.SessionDescription{}, err
	}
	isk, err := self.finish(a.msg, nil, false)
	if err != nil {
		return webrtc.SessionDescription{}, err
	}
	d.self = self
	d.sess = nativeSession{isk: isk, hostMsg: a.msg, joinerMsg: self.msg, hostPrint: peerPrint}
	d.native = true
	return desc, nil
}

// session is what the two sides confirm, once the peer's announcement has
// been opened (and, for the joiner, its answer sealed); native is false
// for a pypeer peer.
func (d *nativeDialect) session() (s nativeSession, native bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ready := d.native && d.sess.isk != nil && d.sess.hostPrint != "" && d.sess.joinerPrint != ""
	return d.sess, ready
}
