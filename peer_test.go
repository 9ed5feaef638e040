package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/pion/logging"
	"github.com/pion/turn/v5"
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

// TestTrimCandidates: a description keeps at most maxRemoteCandidates
// candidates, and none at a multicast, broadcast or unspecified address,
// or named by a host name; nothing else in it changes.
func TestTrimCandidates(t *testing.T) {
	cand := func(addr string, port int) string {
		return fmt.Sprintf("a=candidate:1 1 udp 2130706431 %s %d typ host\r\n", addr, port)
	}
	head := "v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
	tail := "a=end-of-candidates\r\na=ice-ufrag:abcd\r\n"
	tests := []struct {
		name    string
		cands   []string
		kept    []string
		dropped int
	}{
		{"ordinary", []string{cand("127.0.0.2", 4000), cand("192.168.1.20", 4001), cand("::1", 4002)},
			[]string{cand("127.0.0.2", 4000), cand("192.168.1.20", 4001), cand("::1", 4002)}, 0},
		{"unusable addresses", []string{cand("224.0.0.1", 1), cand("ff02::1", 2), cand("0.0.0.0", 3), cand("::", 4),
			cand("255.255.255.255", 5), cand("evil.example", 6), cand("x.local", 7), "a=candidate:1 1 udp\r\n", cand("10.0.0.1", 8)},
			[]string{cand("10.0.0.1", 8)}, 8},
	}
	var many, first []string
	for i := range 1500 {
		c := cand(fmt.Sprintf("127.42.%d.%d", i/250, i%250+1), 5000+i)
		many = append(many, c)
		if i < maxRemoteCandidates {
			first = append(first, c)
		}
	}
	tests = append(tests, struct {
		name    string
		cands   []string
		kept    []string
		dropped int
	}{"1,500 candidates", many, first, 1500 - maxRemoteCandidates})
	for _, tt := range tests {
		got, dropped := trimCandidates(head + strings.Join(tt.cands, "") + tail)
		if want := head + strings.Join(tt.kept, "") + tail; got != want || dropped != tt.dropped {
			t.Errorf("%s: dropped %d (want %d), kept\n%s\nwant\n%s", tt.name, dropped, tt.dropped, got, want)
		}
	}
}

// TestReceiptsNote: a peer's receipts only ever move the delivered count
// forward, up to what was sent; a lie (more than sent) or an old receipt
// is dropped, and each step forward is signalled.
func TestReceiptsNote(t *testing.T) {
	r := receipts{changed: make(chan struct{}, 1)}
	r.sent.Store(5)
	steps := []struct {
		n       uint64
		want    uint64
		signals bool
	}{
		{2, 2, true},
		{1, 2, false}, // old
		{6, 2, false}, // more than was sent
		{5, 5, true},
		{1 << 60, 5, false},
	}
	for _, s := range steps {
		r.note(s.n)
		if got := r.delivered.Load(); got != s.want {
			t.Errorf("after a receipt of %d: delivered %d, want %d", s.n, got, s.want)
		}
		select {
		case <-r.changed:
			if !s.signals {
				t.Errorf("a receipt of %d signalled a change", s.n)
			}
		default:
			if s.signals {
				t.Errorf("a receipt of %d did not signal", s.n)
			}
		}
	}
}

// TestICEServerKinds: what each kind of ICE server can add to gathering.
func TestICEServerKinds(t *testing.T) {
	srflx, relay := webrtc.ICECandidateTypeSrflx, webrtc.ICECandidateTypeRelay
	for _, tc := range []struct {
		urls []string
		want map[webrtc.ICECandidateType]bool
	}{
		{nil, map[webrtc.ICECandidateType]bool{}},
		{defaultICE, map[webrtc.ICECandidateType]bool{srflx: true}},
		{[]string{"turn:relay.example:3478"}, map[webrtc.ICECandidateType]bool{relay: true}},
		{[]string{"stuns:a.example", "turns:b.example?transport=tcp"}, map[webrtc.ICECandidateType]bool{srflx: true, relay: true}},
	} {
		got := iceServerKinds([]webrtc.ICEServer{{URLs: tc.urls}})
		if !maps.Equal(got, tc.want) {
			t.Errorf("%v: %v, want %v", tc.urls, got, tc.want)
		}
	}
}

// TestGatherStopsOnceServersGaveEnough: with one STUN server that answers
// and one that never does, the description is ready with the reflexive
// candidate while pion still waits for the silent server (3 s): a room
// is posted without that wait.
func TestGatherStopsOnceServersGaveEnough(t *testing.T) {
	gopeerBin(t) // loopback only
	answering, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveSTUN(t, answering)
	silent, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	pc, err := newAPI(pionLogs(config{}, env{}), pypeerChannel.maxBytes).NewPeerConnection(webrtc.Configuration{
		ICEServers: []webrtc.ICEServer{{URLs: []string{"stun:" + silent.LocalAddr().String(), "stun:" + answering.LocalAddr().String()}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.CreateDataChannel(pypeerChannel.label, nil); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	sdp, err := gatherLocal(context.Background(), pc, offer, gatherTimeout)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sdp, " typ srflx ") {
		t.Errorf("the description holds no reflexive candidate:\n%s", sdp)
	}
	if s := pc.ICEGatheringState(); s != webrtc.ICEGatheringStateGathering {
		t.Errorf("gathering is %s: the description waited for the silent server", s)
	}
}

// serveSTUN answers STUN binding requests on conn until the test ends.
func serveSTUN(t *testing.T, conn net.PacketConn) {
	t.Helper()
	srv, err := turn.NewServer(turn.ServerConfig{Realm: "gopeer-test", PacketConnConfigs: []turn.PacketConnConfig{{
		PacketConn:            conn,
		RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{RelayAddress: net.ParseIP("127.0.0.1"), Address: "127.0.0.1"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
}
