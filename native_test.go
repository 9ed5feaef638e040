package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// nativeTestSDP is the shape of a pion offer: a session section, then a
// media section.
const nativeTestSDP = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n" +
	"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sctp-port:5000\r\n"

func TestNativeAnnouncementRoundTrip(t *testing.T) {
	msg := bytes.Repeat([]byte{0xfb}, cpaceElementLen)
	for _, sdp := range []string{nativeTestSDP, "v=0\r\ns=-\r\n", "v=0\ns=-", "m=application 9 x\r\n", ""} {
		with := withNativeAnnouncement(sdp, msg)
		a, found, err := readNativeAnnouncement(with)
		if err != nil || !found || a.version != nativeVersion || !bytes.Equal(a.msg, msg) {
			t.Errorf("%q: read back %+v, %v, %v", with, a, found, err)
		}
		if before, _, _ := strings.Cut(with, "m="); !strings.Contains(before, "a="+nativeAttribute) {
			t.Errorf("%q: the attribute is not in the session section", with)
		}
	}
	// pion parses a description carrying it, as the peer's gopeer must.
	desc := webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: withNativeAnnouncement(nativeTestSDP, msg)}
	if _, err := desc.Unmarshal(); err != nil {
		t.Errorf("pion refuses a description with the attribute: %v", err)
	}
}

func TestReadNativeAnnouncement(t *testing.T) {
	msg := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{7}, cpaceElementLen))
	session := "v=0\r\ns=-\r\n"
	media := "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
	tests := []struct {
		name    string
		sdp     string
		found   bool
		version int
		err     bool
	}{
		{"a pypeer peer's", nativeTestSDP, false, 0, false},
		{"ours", session + "a=x-gopeer:1 " + msg + "\r\n" + media, true, 1, false},
		{"with bare LF", "v=0\na=x-gopeer:1 " + msg + "\n", true, 1, false},
		{"in a media section only", session + media + "a=x-gopeer:1 " + msg + "\r\n", false, 0, false},
		{"a later version", session + "a=x-gopeer:2 anything at all\r\n", true, 2, false},
		{"twice", session + "a=x-gopeer:1 " + msg + "\r\na=x-gopeer:1 " + msg + "\r\n", true, 0, true},
		{"version 0", session + "a=x-gopeer:0 " + msg + "\r\n", true, 0, true},
		{"version 01", session + "a=x-gopeer:01 " + msg + "\r\n", true, 0, true},
		{"no version", session + "a=x-gopeer:\r\n", true, 0, true},
		{"a short message", session + "a=x-gopeer:1 " + msg[:40] + "\r\n", true, 0, true},
		{"padded base64", session + "a=x-gopeer:1 " + msg + "=\r\n", true, 0, true},
		{"standard base64", session + "a=x-gopeer:1 " + strings.ReplaceAll(msg, "B", "+") + "\r\n", true, 0, true},
		{"no message", session + "a=x-gopeer:1\r\n", true, 0, true},
		{"over-long", session + "a=x-gopeer:2 " + strings.Repeat("x", nativeMaxLine) + "\r\n", true, 0, true},
		{"escapes in the version", session + "a=x-gopeer:\x1b[2J " + msg + "\r\n", true, 0, true},
		{"another attribute", session + "a=x-gopeerish:1 " + msg + "\r\n", false, 0, false},
	}
	for _, tt := range tests {
		a, found, err := readNativeAnnouncement(tt.sdp)
		if found != tt.found || (err != nil) != tt.err || (err == nil && a.version != tt.version) {
			t.Errorf("%s: %+v, found %v, %v; want found %v, version %d, error %v", tt.name, a, found, err, tt.found, tt.version, tt.err)
		}
		if err != nil && (!errors.Is(err, errNativeMalformed) || strings.ContainsRune(err.Error(), 0x1b)) {
			t.Errorf("%s: error %q is not errNativeMalformed, or holds an escape", tt.name, err)
		}
	}
}

func TestSDPFingerprint(t *testing.T) {
	const fp = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"
	line := "a=fingerprint:sha-256 " + fp + "\r\n"
	tests := []struct {
		name, sdp, want string
	}{
		{"once", "v=0\r\n" + line, "sha-256 " + fp},
		{"per media section", "v=0\r\nm=a\r\n" + line + "m=b\r\n" + line, "sha-256 " + fp},
		{"any case", "v=0\r\na=fingerprint:SHA-256 " + strings.ToLower(fp) + "\r\n", "sha-256 " + fp},
		{"aiortc's testdata shape", "a=fingerprint:sha-256 " + fp + "\n", "sha-256 " + fp},
		{"none", nativeTestSDP, ""},
		{"two different", "v=0\r\n" + line + "a=fingerprint:sha-256 00:" + fp[3:] + "\r\n", ""},
		{"too many", "v=0\r\n" + strings.Repeat(line, nativeMaxFingerprints+1), ""},
	}
	for _, tt := range tests {
		got, err := sdpFingerprint(tt.sdp)
		if got != tt.want || (err != nil) != (tt.want == "") {
			t.Errorf("%s: %q, %v; want %q", tt.name, got, err, tt.want)
		}
		if err != nil && !errors.Is(err, errNoFingerprint) {
			t.Errorf("%s: error %v is not errNoFingerprint", tt.name, err)
		}
	}
}

// nativeTestRun is one CPace run between a host and a joiner holding the
// given codes and passwords, returning each side's ISK and messages.
func nativeTestRun(t *testing.T, hostCode, joinerCode joinCode, hostPassword, joinerPassword string) (hostISK, joinerISK, ya, yb []byte) {
	t.Helper()
	hprs, hci := nativeCPaceInputs(hostCode, hostPassword)
	jprs, jci := nativeCPaceInputs(joinerCode, joinerPassword)
	host, err := cpaceStart(hprs, hci, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	joiner, err := cpaceStart(jprs, jci, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if hostISK, err = host.finish(joiner.msg, nil, true); err != nil {
		t.Fatal(err)
	}
	if joinerISK, err = joiner.finish(host.msg, nil, false); err != nil {
		t.Fatal(err)
	}
	return hostISK, joinerISK, host.msg, joiner.msg
}

// TestNativeConfirmation: two gopeers holding the same code confirm each
// other and read the same verification string; a wrong secret part, a
// wrong password, a man in the middle who relays CPace but shows its own
// DTLS certificates, and a tag reflected back all fail on both sides.
func TestNativeConfirmation(t *testing.T) {
	code := joinCode{room: "K7P2M0", secret: "4F9Q"}
	const hostFP, joinerFP, mitmFP = "sha-256 AA:01", "sha-256 BB:02", "sha-256 CC:03"
	sessions := func(hostISK, joinerISK, ya, yb []byte, hostSaw, joinerSaw [2]string) (host, joiner nativeSession) {
		host = nativeSession{isk: hostISK, hostMsg: ya, joinerMsg: yb, hostPrint: hostSaw[0], joinerPrint: hostSaw[1]}
		joiner = nativeSession{isk: joinerISK, hostMsg: ya, joinerMsg: yb, hostPrint: joinerSaw[0], joinerPrint: joinerSaw[1]}
		return host, joiner
	}
	confirmed := func(host, joiner nativeSession) (hostOK, joinerOK bool) {
		return host.checkTag(nativeJoinerRole, joiner.tag(nativeJoinerRole)) == nil,
			joiner.checkTag(nativeHostRole, host.tag(nativeHostRole)) == nil
	}
	direct := [2]string{hostFP, joinerFP}

	hISK, jISK, ya, yb := nativeTestRun(t, code, code, "pw", "pw")
	host, joiner := sessions(hISK, jISK, ya, yb, direct, direct)
	if h, j := confirmed(host, joiner); !h || !j {
		t.Fatalf("the same code did not confirm: host %v, joiner %v", h, j)
	}
	if v := host.verifyString(); v != joiner.verifyString() || len(v) != 9 || strings.Trim(v, "0123456789 ") != "" {
		t.Errorf("verification strings %q and %q", v, joiner.verifyString())
	}

	tests := []struct {
		name               string
		joinerCode         joinCode
		password           string
		hostSaw, joinerSaw [2]string
	}{
		{"a wrong secret part", joinCode{room: "K7P2M0", secret: "4F9R"}, "pw", direct, direct},
		{"a wrong password", code, "pv", direct, direct},
		{"another room", joinCode{room: "K7P2M1", secret: "4F9Q"}, "pw", direct, direct},
		{"a relay with its own certificates", code, "pw", [2]string{hostFP, mitmFP}, [2]string{mitmFP, joinerFP}},
		{"a relay showing the host a new certificate", code, "pw", [2]string{hostFP, mitmFP}, direct},
	}
	for _, tt := range tests {
		hISK, jISK, ya, yb := nativeTestRun(t, code, tt.joinerCode, "pw", tt.password)
		host, joiner := sessions(hISK, jISK, ya, yb, tt.hostSaw, tt.joinerSaw)
		if h, j := confirmed(host, joiner); h || j {
			t.Errorf("%s: confirmed (host %v, joiner %v)", tt.name, h, j)
		}
		if tt.hostSaw == direct && tt.joinerSaw == direct && host.verifyString() == joiner.verifyString() {
			t.Errorf("%s: the verification strings match", tt.name)
		}
	}
	if err := host.checkTag(nativeJoinerRole, host.tag(nativeHostRole)); !errors.Is(err, errNotConfirmed) {
		t.Errorf("the host took its own tag back as the joiner's: %v", err)
	}
}

func TestNativeCPaceInputs(t *testing.T) {
	base := joinCode{room: "K7P2M0", secret: "4F9Q"}
	prs, ci := nativeCPaceInputs(base, "pw")
	for name, c := range map[string]struct {
		code     joinCode
		password string
	}{
		"another secret":              {joinCode{room: "K7P2M0", secret: "4F9R"}, "pw"},
		"another password":            {base, "pv"},
		"no password":                 {base, ""},
		"the password's end moved in": {joinCode{room: "K7P2M0", secret: "4F9"}, "Qpw"},
	} {
		if p, _ := nativeCPaceInputs(c.code, c.password); bytes.Equal(p, prs) {
			t.Errorf("%s: the same CPace password", name)
		}
	}
	if _, c := nativeCPaceInputs(joinCode{room: "K7P2M1", secret: "4F9Q"}, "pw"); bytes.Equal(c, ci) {
		t.Error("another room: the same channel identifier")
	}
	if !bytes.Contains(ci, []byte("host")) || !bytes.Contains(ci, []byte("joiner")) || !bytes.Contains(ci, []byte(nativeProtocol)) {
		t.Errorf("the channel identifier %q lacks the roles or the version", ci)
	}
}

// nativeTestDesc is a description of type typ naming the DTLS
// fingerprint fp, as pion writes one.
func nativeTestDesc(typ webrtc.SDPType, fp string) webrtc.SessionDescription {
	return webrtc.SessionDescription{Type: typ, SDP: "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n" +
		"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=fingerprint:sha-256 " + fp + "\r\na=mid:0\r\n"}
}

// nativeTestValue is what a board holds after seal, as the next side reads it.
func nativeTestValue(t *testing.T, d dialect, desc webrtc.SessionDescription) json.RawMessage {
	t.Helper()
	v, err := d.seal(desc)
	if err != nil {
		t.Fatalf("seal: %v", err)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// nativeTestStrip is a man in the middle who knows the room code and
// password: it opens a value, removes the announcement and seals it again.
func nativeTestStrip(t *testing.T, code joinCode, password string, v json.RawMessage, typ webrtc.SDPType) json.RawMessage {
	t.Helper()
	p := newPypeerDialect(code.room, password, time.Now)
	desc, err := p.open(v, typ)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for line := range strings.Lines(desc.SDP) {
		if !strings.HasPrefix(line, "a="+nativeAttribute) {
			kept = append(kept, line)
		}
	}
	desc.SDP = strings.Join(kept, "")
	return nativeTestValue(t, p, desc)
}

// TestNativeDialect runs the native dialect's seal and open on both sides,
// with the board as a value passed between them: two gopeers end with
// sessions that confirm each other; a pypeer joiner reads the host's
// offer as any offer; a downgrade (the announcement stripped by someone
// who knows the code and password) is refused by a joiner holding a
// gopeer code and by a -secure host, and welcomed as a pypeer peer by a
// host without -secure.
func TestNativeDialect(t *testing.T) {
	const password = "pw"
	code := joinCode{room: "K7P2M0", secret: "4F9Q"}
	const hostFP, joinerFP = "AA:01:02", "BB:03:04"
	offerDesc, answerDesc := nativeTestDesc(webrtc.SDPTypeOffer, hostFP), nativeTestDesc(webrtc.SDPTypeAnswer, joinerFP)

	t.Run("two gopeers", func(t *testing.T) {
		host := newNativeDialect(code, password, true, false, time.Now)
		joiner := newNativeDialect(code, password, false, false, time.Now)
		offer := nativeTestValue(t, host, offerDesc)
		if _, err := joiner.open(offer, webrtc.SDPTypeOffer); err != nil {
			t.Fatalf("joiner open: %v", err)
		}
		answer := nativeTestValue(t, joiner, answerDesc)
		if _, err := host.open(answer, webrtc.SDPTypeAnswer); err != nil {
			t.Fatalf("host open: %v", err)
		}
		hs, hok := host.session()
		js, jok := joiner.session()
		if !hok || !jok {
			t.Fatalf("sessions ready: host %v, joiner %v", hok, jok)
		}
		if hs.hostPrint != "sha-256 "+hostFP || hs.joinerPrint != "sha-256 "+joinerFP || js.hostPrint != hs.hostPrint || js.joinerPrint != hs.joinerPrint {
			t.Errorf("fingerprints: host saw %q/%q, joiner %q/%q", hs.hostPrint, hs.joinerPrint, js.hostPrint, js.joinerPrint)
		}
		if hs.checkTag(nativeJoinerRole, js.tag(nativeJoinerRole)) != nil || js.checkTag(nativeHostRole, hs.tag(nativeHostRole)) != nil {
			t.Error("the two sessions do not confirm each other")
		}
	})

	t.Run("a wrong secret part", func(t *testing.T) {
		host := newNativeDialect(code, password, true, false, time.Now)
		joiner := newNativeDialect(joinCode{room: code.room, secret: "4F9R"}, password, false, false, time.Now)
		if _, err := joiner.open(nativeTestValue(t, host, offerDesc), webrtc.SDPTypeOffer); err != nil {
			t.Fatal(err) // nothing on the board tells: only the confirmation will
		}
		if _, err := host.open(nativeTestValue(t, joiner, answerDesc), webrtc.SDPTypeAnswer); err != nil {
			t.Fatal(err)
		}
		hs, _ := host.session()
		js, _ := joiner.session()
		if hs.checkTag(nativeJoinerRole, js.tag(nativeJoinerRole)) == nil {
			t.Error("a wrong secret part confirmed")
		}
	})

	t.Run("a pypeer joiner", func(t *testing.T) {
		host := newNativeDialect(code, password, true, false, time.Now)
		pypeer := newPypeerDialect(code.room, password, time.Now)
		desc, err := pypeer.open(nativeTestValue(t, host, offerDesc), webrtc.SDPTypeOffer)
		if err != nil || !strings.Contains(desc.SDP, "a=x-gopeer:1 ") {
			t.Fatalf("pypeer's dialect read %q, %v", desc.SDP, err)
		}
		if _, err := host.open(nativeTestValue(t, pypeer, answerDesc), webrtc.SDPTypeAnswer); err != nil {
			t.Fatalf("the host refused a pypeer answer without -secure: %v", err)
		}
		if _, native := host.session(); native {
			t.Error("a pypeer answer made a native session")
		}
	})

	for _, secure := range []bool{false, true} {
		t.Run(fmt.Sprintf("the answer's announcement stripped, secure=%v", secure), func(t *testing.T) {
			host := newNativeDialect(code, password, true, secure, time.Now)
			joiner := newNativeDialect(code, password, false, false, time.Now)
			if _, err := joiner.open(nativeTestValue(t, host, offerDesc), webrtc.SDPTypeOffer); err != nil {
				t.Fatal(err)
			}
			stripped := nativeTestStrip(t, code, password, nativeTestValue(t, joiner, answerDesc), webrtc.SDPTypeAnswer)
			_, err := host.open(stripped, webrtc.SDPTypeAnswer)
			if secure && !errors.Is(err, errNotNative) {
				t.Errorf("a -secure host took a stripped answer: %v", err)
			}
			if !secure && err != nil {
				t.Errorf("a host without -secure refused a pypeer-looking answer: %v", err)
			}
			if _, native := host.session(); native {
				t.Error("a stripped answer made a native session")
			}
		})
	}

	t.Run("the offer's announcement stripped", func(t *testing.T) {
		host := newNativeDialect(code, password, true, false, time.Now)
		joiner := newNativeDialect(code, password, false, false, time.Now)
		stripped := nativeTestStrip(t, code, password, nativeTestValue(t, host, offerDesc), webrtc.SDPTypeOffer)
		if _, err := joiner.open(stripped, webrtc.SDPTypeOffer); !errors.Is(err, errNotNative) {
			t.Errorf("a joiner with a gopeer code took a stripped offer: %v", err)
		}
		if _, native := joiner.session(); native {
			t.Error("a stripped offer made a native session")
		}
	})
}
