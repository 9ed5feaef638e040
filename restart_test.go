package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// restartTestSession is a confirmed session as both ends hold it.
func restartTestSession(isk string) nativeSession {
	return nativeSession{isk: []byte(isk), hostPrint: "sha-256 AA:AA", joinerPrint: "sha-256 BB:BB"}
}

// restartSDP is a description naming the DTLS certificate print.
func restartSDP(print, candidate string) string {
	algo, hexes, _ := strings.Cut(print, " ")
	return "v=0\r\na=fingerprint:" + algo + " " + hexes + "\r\na=candidate:1 1 udp 1 " + candidate + " 9 typ host\r\n"
}

// restartPair is both ends' restart dialects of one session.
func restartPair(isk string) (host, joiner *restartDialect) {
	s := restartTestSession(isk)
	return newRestartDialect(s, hostSide, time.Now), newRestartDialect(s, joinSide, time.Now)
}

func mustSeal(t *testing.T, d *restartDialect, typ webrtc.SDPType, sdp string) json.RawMessage {
	t.Helper()
	v, err := d.seal(webrtc.SessionDescription{Type: typ, SDP: sdp})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestRestartRoundTrip: the host's restart offers, generation after
// generation, open on the joiner's side and its answers on the host's.
func TestRestartRoundTrip(t *testing.T) {
	host, joiner := restartPair("session key")
	if host.slots() != joiner.slots() || !isRoomCode(host.keys.room) {
		t.Fatalf("the two ends meet at %+v and %+v; want one room with a valid code", host.slots(), joiner.slots())
	}
	for gen := 1; gen <= 3; gen++ {
		offerSDP := restartSDP("sha-256 AA:AA", "10.0.0.1")
		got, err := joiner.open(mustSeal(t, host, webrtc.SDPTypeOffer, offerSDP), webrtc.SDPTypeOffer)
		if err != nil || got.SDP != offerSDP || got.Type != webrtc.SDPTypeOffer {
			t.Fatalf("generation %d: the joiner opened %+v, %v", gen, got, err)
		}
		answerSDP := restartSDP("sha-256 BB:BB", "10.0.0.2")
		got, err = host.open(mustSeal(t, joiner, webrtc.SDPTypeAnswer, answerSDP), webrtc.SDPTypeAnswer)
		if err != nil || got.SDP != answerSDP {
			t.Fatalf("generation %d: the host opened %+v, %v", gen, got, err)
		}
	}
}

// TestRestartRefusesTheBoard: what someone on the board (or a late value
// of an earlier restart) can put in the restart room is refused.
func TestRestartRefusesTheBoard(t *testing.T) {
	hostSDP, joinerSDP := restartSDP("sha-256 AA:AA", "10.0.0.1"), restartSDP("sha-256 BB:BB", "10.0.0.2")
	for _, tt := range []struct {
		name string
		// make returns the end that opens, the value, and what it opens as.
		make func(t *testing.T) (*restartDialect, json.RawMessage, webrtc.SDPType)
		want error
	}{
		{"another session's offer", func(t *testing.T) (*restartDialect, json.RawMessage, webrtc.SDPType) {
			stranger, _ := restartPair("another key")
			_, joiner := restartPair("session key")
			return joiner, mustSeal(t, stranger, webrtc.SDPTypeOffer, hostSDP), webrtc.SDPTypeOffer
		}, errWrongKey},
		{"the host's own offer, reflected as an answer", func(t *testing.T) (*restartDialect, json.RawMessage, webrtc.SDPType) {
			host, _ := restartPair("session key")
			return host, mustSeal(t, host, webrtc.SDPTypeOffer, hostSDP), webrtc.SDPTypeAnswer
		}, errWrongKey},
		{"the joiner's own answer, reflected as an offer", func(t *testing.T) (*restartDialect, json.RawMessage, webrtc.SDPType) {
			host, joiner := restartPair("session key")
			if _, err := joiner.open(mustSeal(t, host, webrtc.SDPTypeOffer, hostSDP), webrtc.SDPTypeOffer); err != nil {
				t.Fatal(err)
			}
			return joiner, mustSeal(t, joiner, webrtc.SDPTypeAnswer, joinerSDP), webrtc.SDPTypeOffer
		}, errWrongKey},
		{"an offer the joiner answered, replayed", func(t *testing.T) (*restartDialect, json.RawMessage, webrtc.SDPType) {
			host, joiner := restartPair("session key")
			offer := mustSeal(t, host, webrtc.SDPTypeOffer, hostSDP)
			if _, err := joiner.open(offer, webrtc.SDPTypeOffer); err != nil {
				t.Fatal(err)
			}
			mustSeal(t, joiner, webrtc.SDPTypeAnswer, joinerSDP)
			return joiner, offer, webrtc.SDPTypeOffer
		}, errRestartStale},
		{"an answer to the host's earlier offer", func(t *testing.T) (*restartDialect, json.RawMessage, webrtc.SDPType) {
			host, joiner := restartPair("session key")
			if _, err := joiner.open(mustSeal(t, host, webrtc.SDPTypeOffer, hostSDP), webrtc.SDPTypeOffer); err != nil {
				t.Fatal(err)
			}
			late := mustSeal(t, joiner, webrtc.SDPTypeAnswer, joinerSDP)
			mustSeal(t, host, webrtc.SDPTypeOffer, hostSDP) // the host has moved on
			return host, late, webrtc.SDPTypeAnswer
		}, errRestartStale},
		{"an offer naming another certificate", func(t *testing.T) (*restartDialect, json.RawMessage, webrtc.SDPType) {
			host, joiner := restartPair("session key")
			return joiner, mustSeal(t, host, webrtc.SDPTypeOffer, restartSDP("sha-256 CC:CC", "10.0.0.9")), webrtc.SDPTypeOffer
		}, errRestartCertificate},
		{"a payload changed on the way", func(t *testing.T) (*restartDialect, json.RawMessage, webrtc.SDPType) {
			host, joiner := restartPair("session key")
			var bs boardSignal
			if err := json.Unmarshal(mustSeal(t, host, webrtc.SDPTypeOffer, hostSDP), &bs); err != nil {
				t.Fatal(err)
			}
			flipped := []byte(bs.Payload)
			flipped[len(flipped)/2] ^= 'A' ^ 'B'
			bs.Payload = string(flipped)
			raw, _ := json.Marshal(bs)
			return joiner, raw, webrtc.SDPTypeOffer
		}, errWrongKey},
		{"a payload that is not base64url", func(t *testing.T) (*restartDialect, json.RawMessage, webrtc.SDPType) {
			_, joiner := restartPair("session key")
			return joiner, json.RawMessage(`{"payload":"gAAAAA==+/","timestamp":1}`), webrtc.SDPTypeOffer
		}, errWrongKey},
		{"a payload too short for a nonce", func(t *testing.T) (*restartDialect, json.RawMessage, webrtc.SDPType) {
			_, joiner := restartPair("session key")
			return joiner, json.RawMessage(`{"payload":"AAAA","timestamp":1}`), webrtc.SDPTypeOffer
		}, errWrongKey},
		{"not a slot value", func(t *testing.T) (*restartDialect, json.RawMessage, webrtc.SDPType) {
			_, joiner := restartPair("session key")
			return joiner, json.RawMessage(`["payload"]`), webrtc.SDPTypeOffer
		}, errBadBoardValue},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, v, want := tt.make(t)
			if _, err := d.open(v, want); !errors.Is(err, tt.want) {
				t.Errorf("opened with %v, want %v", err, tt.want)
			}
		})
	}
}

// TestRestartRefusesHugeValues: a payload over the board rules' bound is
// neither sealed nor opened.
func TestRestartRefusesHugeValues(t *testing.T) {
	host, joiner := restartPair("session key")
	huge := restartSDP("sha-256 AA:AA", "10.0.0.1") + strings.Repeat("a=x\r\n", restartMaxPayload/4)
	if _, err := host.seal(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: huge}); err == nil {
		t.Error("sealed a description over the board's bound")
	}
	v := json.RawMessage(`{"payload":"` + strings.Repeat("A", restartMaxPayload+1) + `","timestamp":1}`)
	if _, err := joiner.open(v, webrtc.SDPTypeOffer); err == nil || errors.Is(err, errWrongKey) {
		t.Errorf("opened a %d-byte payload with %v; want it refused for its size", restartMaxPayload+1, err)
	}
}

// TestRestartKeys pins the derivation of a session's restart room and key
// (a change would split two versions that both say gopeer/1), and checks
// that every room is one the board's rules take.
func TestRestartKeys(t *testing.T) {
	k := restartKeysFor([]byte("gopeer restart vector ISK"))
	nonce := make([]byte, k.aead.NonceSize())
	sealed := hex.EncodeToString(k.aead.Seal(nil, nonce, []byte("plain"), restartAD(nativeHostRole)))
	// Computed apart from this code, with Python's hmac and the
	// cryptography package's AESGCM (docs/PROTOCOL.md, "Restarts").
	const wantRoom, wantSealed = "C5S7QW", "3866adc97b4f68cfc84b9ce117b5ccc66b9ef22ba5"
	if k.room != wantRoom || sealed != wantSealed {
		t.Errorf("room %q, sealed %s; want %q, %s", k.room, sealed, wantRoom, wantSealed)
	}
	for i := range 1000 {
		if code := restartKeysFor([]byte{byte(i), byte(i >> 8)}).room; !isRoomCode(code) {
			t.Fatalf("room %q is not a room code", code)
		}
	}
}

// TestRestartsNeedABoardThatStays: a side wishes restarts for -reconnect,
// unless the board is one this process serves, which stops once the peers
// are connected (LAN mode, the no-internet fallback).
func TestRestartsNeedABoardThatStays(t *testing.T) {
	cfg := config{reconnect: defaultReconnect}
	for _, tt := range []struct {
		name string
		m    meeting
		want time.Duration
	}{
		{"a board elsewhere", meeting{}, defaultReconnect},
		{"a board of its own", meeting{own: true}, 0},
	} {
		if got := newRoomFlow(tt.m, cfg, env{}, newRecordedEvents()).restartLimit; got != tt.want {
			t.Errorf("%s: restart limit %v, want %v", tt.name, got, tt.want)
		}
	}
}
