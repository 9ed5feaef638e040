package main

// This file is how a gopeer end announces itself inside pypeer's wire
// (issue 13): one session-level SDP attribute in the description it
// seals, so that rooms stay pypeer rooms.
//
//	a=x-gopeer:1 <base64url of this side's CPace message>
//
// Why there: pypeer hands the sealed JSON to aiortc as keyword arguments
// (RTCSessionDescription(**data)), so one more JSON key would break every
// pypeer peer, while aiortc's SDP parser skips a=… lines it does not know.
// interop_test.go proves both against aiortc, for an offer and an answer.
// pion keeps the line out of its own description: it is added to the
// copy that is sealed, and read from the peer's before pion parses it.
//
// A description without the attribute is a pypeer peer's. One whose
// version is not nativeVersion is a gopeer of another version; what each
// side then does (refuse, or fall back to pypeer's dialect) is the native
// dialect's decision, not this file's.

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
