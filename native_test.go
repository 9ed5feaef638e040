package main

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

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
