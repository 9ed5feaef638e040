package main

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"
)

// TestAnswersAiortcOffers: pypeer's aiortc writes the data channel's SDP in
// the old form (1.4, Debian's) or the new one (1.14+); gopeer answers both,
// and advertises aiortc's 64 KiB message limit so memory stays bounded.
func TestAnswersAiortcOffers(t *testing.T) {
	for _, fixture := range []string{"testdata/aiortc-1.4-offer.sdp", "testdata/aiortc-1.14-offer.sdp"} {
		offer, err := os.ReadFile(fixture)
		if err != nil {
			t.Fatal(err)
		}
		pc, err := newAPI(logging.NewDefaultLoggerFactory(), pypeerChannel.maxBytes).NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(offer)}); err != nil {
			t.Fatalf("%s: %v", fixture, err)
		}
		answer, err := pc.CreateAnswer(nil)
		if err != nil {
			t.Fatalf("%s: %v", fixture, err)
		}
		for _, want := range []string{"m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "a=sctp-port:5000", "a=max-message-size:65536"} {
			if !strings.Contains(answer.SDP, want) {
				t.Errorf("%s: answer lacks %q:\n%s", fixture, want, answer.SDP)
			}
		}
	}
}

// TestCheckMessage: a link refuses what the peer would not take as a
// message, before anything is sent.
func TestCheckMessage(t *testing.T) {
	l := &peerLink{rules: pypeerChannel}
	tests := []struct {
		text string
		want error
	}{
		{"hello", nil},
		{"", nil},
		{strings.Repeat("x", pypeerChannel.maxBytes), nil},
		{strings.Repeat("x", pypeerChannel.maxBytes+1), errMessageTooLong},
		{"__ping__", errKeepAliveText},
		{"__ping__ ", nil},
	}
	for _, tt := range tests {
		if err := l.checkMessage(tt.text); !errors.Is(err, tt.want) {
			t.Errorf("checkMessage(%q) = %v, want %v", abbreviate(tt.text), err, tt.want)
		}
	}
}
