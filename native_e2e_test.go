package main

// End-to-end tests of the native mode (issue 13) with real gopeer
// processes through a real board: the code, the confirmation, the labels,
// and an attacker who guesses the code's secret part.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// nativeHost starts a -json host and returns it with its room event.
func nativeHost(t *testing.T, board, room, password string, args ...string) (*proc, map[string]string) {
	t.Helper()
	host := startGopeer(t, []string{"GOPEER_PASSWORD=" + password},
		append([]string{"-json", "-ice", "none", "-db", board, "-host", "-room", room}, args...)...)
	ev := host.event("room")
	if ev["room"] != room || !strings.HasPrefix(ev["code"], room+"-") {
		t.Fatalf("room event %v, want room %s and a gopeer code", ev, room)
	}
	return host, ev
}

// nativeJoiner starts a -json joiner with code.
func nativeJoiner(t *testing.T, board, code, password string, args ...string) *proc {
	t.Helper()
	return startGopeer(t, []string{"GOPEER_PASSWORD=" + password},
		append([]string{"-json", "-ice", "none", "-db", board, "-join", code}, args...)...)
}

// wrongSecret is code with another secret part and a check that matches
// it: a guess that only the confirmation can refuse.
func wrongSecret(t *testing.T, code string) string {
	t.Helper()
	jc, err := parseJoinCode(code)
	if err != nil {
		t.Fatal(err)
	}
	jc.secret = map[bool]string{true: "ZZZZ", false: "0000"}[jc.secret != "ZZZZ"]
	return jc.String()
}

// realJoinerGetsIn checks the host's room is still open after an attack:
// the joiner with the real code connects, confirmed, and the first
// message the host shows is that joiner's.
func realJoinerGetsIn(t *testing.T, host *proc, board, code, password string) {
	t.Helper()
	guest := nativeJoiner(t, board, code, password)
	if ev := host.event("connected"); ev["verified"] != "true" {
		t.Errorf("host connected as %v", ev)
	}
	guest.event("connected")
	guest.send("the real joiner")
	if got := host.event("message")["text"]; got != "the real joiner" {
		t.Errorf("the host's first message is %q, want the real joiner's", got)
	}
}

// TestEndToEndNative: a joiner with the host's gopeer code gets a session
// confirmed with the code, labelled gopeer on both sides, with the same
// verification string; a joiner with the room code alone gets pypeer's
// session from the same kind of host, labelled unconfirmed.
func TestEndToEndNative(t *testing.T) {
	t.Parallel()
	board := startTestBoard(t)
	const password = "correct horse"

	host, room := nativeHost(t, board, "NATIV1", password)
	guest := nativeJoiner(t, board, strings.ToLower(room["code"]), password)
	hc, gc := host.event("connected"), guest.event("connected")
	for name, ev := range map[string]map[string]string{"host": hc, "joiner": gc} {
		if ev["protocol"] != "gopeer" || ev["verified"] != "true" || len(ev["verify"]) != 9 {
			t.Errorf("%s connected as %v, want a verified gopeer session", name, ev)
		}
	}
	if hc["verify"] != gc["verify"] {
		t.Errorf("verification strings differ: host %q, joiner %q", hc["verify"], gc["verify"])
	}
	guest.send("hello over a confirmed session")
	if got := host.event("message")["text"]; got != "hello over a confirmed session" {
		t.Errorf("host received %q", got)
	}
	if root := boardRoot(t, board); root != "null" {
		t.Errorf("board after connect holds %s, want nothing", root)
	}
	guest.stdin.Close()
	if code := guest.wait(); code != exitOK {
		t.Errorf("joiner exit status %d", code)
	}

	host2, room2 := nativeHost(t, board, "NATIV2", password)
	pypeerWay := nativeJoiner(t, board, room2["room"], password)
	for name, ev := range map[string]map[string]string{"host": host2.event("connected"), "joiner": pypeerWay.event("connected")} {
		if ev["protocol"] != "pypeer" || ev["verified"] != "false" || ev["verify"] != "" {
			t.Errorf("%s connected as %v, want an unverified pypeer session", name, ev)
		}
	}
}

// TestEndToEndNativeWrongGuess: a stranger who knows the room code and
// password but guesses the secret part wrong is refused (exit 3) and uses
// up one attempt; the host says so, keeps the room, and the real joiner
// then gets in. Nothing the stranger sent reaches the host's output.
func TestEndToEndNativeWrongGuess(t *testing.T) {
	t.Parallel()
	board := startTestBoard(t)
	const password = "pw"
	host, room := nativeHost(t, board, "GUESS1", password)
	stranger := nativeJoiner(t, board, wrongSecret(t, room["code"]), password)
	stranger.send("from the stranger")
	if ev := stranger.event("error"); ev["kind"] != kindWrongPassword {
		t.Errorf("stranger ended with %v, want wrong_password", ev)
	}
	if code := stranger.wait(); code != exitWrongPassword {
		t.Errorf("stranger exit status %d, want %d", code, exitWrongPassword)
	}
	host.warning("could not prove it holds the code")
	realJoinerGetsIn(t, host, board, room["code"], password)
}

// TestEndToEndNativeThreeGuesses: three wrong guesses close the room, and
// the host says why (exit 3).
func TestEndToEndNativeThreeGuesses(t *testing.T) {
	t.Parallel()
	board := startTestBoard(t)
	const password = "pw"
	host, room := nativeHost(t, board, "GUESS3", password)
	for i := range nativeMaxAttempts {
		stranger := nativeJoiner(t, board, wrongSecret(t, room["code"]), password)
		if code := stranger.wait(); code != exitWrongPassword {
			t.Fatalf("stranger %d exit status %d, want %d", i+1, code, exitWrongPassword)
		}
		if i+1 < nativeMaxAttempts {
			host.warning("could not prove it holds the code")
		}
	}
	if ev := host.event("error"); ev["kind"] != kindWrongPassword || !strings.Contains(ev["message"], "is closed") {
		t.Errorf("host ended with %v, want the room closed", ev)
	}
	if code := host.wait(); code != exitWrongPassword {
		t.Errorf("host exit status %d, want %d", code, exitWrongPassword)
	}
	if root := boardRoot(t, board); root != "null" {
		t.Errorf("board after the room closed holds %s, want nothing", root)
	}
}

// TestEndToEndNativeSecure: a -secure host refuses a pypeer-dialect answer
// (a joiner with the room code alone), says so, and keeps waiting for a
// gopeer.
func TestEndToEndNativeSecure(t *testing.T) {
	t.Parallel()
	board := startTestBoard(t)
	const password = "pw"
	host, room := nativeHost(t, board, "SECUR1", password, "-secure")
	pypeerWay := nativeJoiner(t, board, room["room"], password, "-timeout", "3s")
	host.warning("not a gopeer's")
	if code := pypeerWay.wait(); code == exitOK {
		t.Error("a pypeer-dialect joiner got into a -secure room")
	}
	guest := nativeJoiner(t, board, room["code"], password)
	if ev := host.event("connected"); ev["protocol"] != "gopeer" {
		t.Errorf("host connected as %v", ev)
	}
	guest.event("connected")
}

// mitmLeg is one of the relay's two WebRTC sessions: its own certificate,
// its own chat channel and control channel.
type mitmLeg struct {
	pc       *webrtc.PeerConnection
	control  *webrtc.DataChannel
	fromPeer chan []byte              // what the gopeer on this leg sent on its control channel
	chat     chan *webrtc.DataChannel // the chat channel, once there
}

func newMITMLeg(t *testing.T) *mitmLeg {
	t.Helper()
	pc, err := newAPI(pionLogs(config{}, env{}), pypeerChannel.maxBytes).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	negotiated, id := true, nativeControlID
	control, err := pc.CreateDataChannel(nativeControlLabel, &webrtc.DataChannelInit{Negotiated: &negotiated, ID: &id})
	if err != nil {
		t.Fatal(err)
	}
	leg := &mitmLeg{pc: pc, control: control, fromPeer: make(chan []byte, 16), chat: make(chan *webrtc.DataChannel, 1)}
	// Kept from the start: a message that came before the other leg was
	// up is relayed once it is.
	control.OnMessage(func(m webrtc.DataChannelMessage) { leg.fromPeer <- m.Data })
	pc.OnDataChannel(func(dc *webrtc.DataChannel) { leg.chat <- dc })
	return leg
}

// mitmAwait returns the first value that opens at path on board c.
func mitmAwait(t *testing.T, ctx context.Context, c *boardClient, d dialect, path string, typ webrtc.SDPType) webrtc.SessionDescription {
	t.Helper()
	var desc webrtc.SessionDescription
	err := c.watch(ctx, path, watchOptions{}, func(v json.RawMessage) error {
		if isNull(v) {
			return nil
		}
		var err error
		if desc, err = d.open(v, typ); err == nil {
			return errStopWatch
		}
		return nil
	})
	if err != nil {
		t.Fatalf("the relay waited for %s: %v", path, err)
	}
	return desc
}

// mitmBoards is the stage of the attacks below: the host's board and the
// joiner's, a client of each for the attacker between them, and pypeer's
// dialect for the room, whose code and password the attacker knows.
type mitmBoards struct {
	host, joiner string
	hb, jb       *boardClient
	pypeer       dialect
	slots        roomSlots
}

func newMITMBoards(t *testing.T, room, password string) mitmBoards {
	t.Helper()
	m := mitmBoards{host: startTestBoard(t), joiner: startTestBoard(t), pypeer: newPypeerDialect(room, password, time.Now)}
	var err error
	if m.hb, err = newBoardClient(m.host, clientOptions{}); err != nil {
		t.Fatal(err)
	}
	if m.jb, err = newBoardClient(m.joiner, clientOptions{}); err != nil {
		t.Fatal(err)
	}
	m.slots = m.pypeer.slots()
	return m
}

// TestEndToEndNativeManInTheMiddle: the attacker the native mode exists
// for. It stands between two boards, so each gopeer sees only what it
// relays, and it knows the room code and password but not the code's
// secret part. It terminates two DTLS sessions of its own and relays
// everything between them: the CPace messages (unchanged, or its own
// guess), the control channel and the chat. Both gopeers abort, the
// joiner with exit 3, the host keeping its room; nothing the relay sent
// is shown; the real joiner then gets in.
func TestEndToEndNativeManInTheMiddle(t *testing.T) {
	for _, relayCPace := range []bool{true, false} {
		t.Run(map[bool]string{true: "CPace relayed unchanged", false: "its own guess at the secret"}[relayCPace], func(t *testing.T) {
			t.Parallel()
			const room, password = "MITM01", "pw"
			m := newMITMBoards(t, room, password)
			hostBoard, joinerBoard, hb, jb, pypeer, slots := m.host, m.joiner, m.hb, m.jb, m.pypeer, m.slots
			host, ev := nativeHost(t, hostBoard, room, password)
			ctx, cancel := context.WithTimeout(context.Background(), eventWait)
			defer cancel()

			// The host's offer, and the relay's own CPace run if it guesses.
			hostOffer := mitmAwait(t, ctx, hb, pypeer, slots.offerPath(), webrtc.SDPTypeOffer)
			ann, found, err := readNativeAnnouncement(hostOffer.SDP)
			if err != nil || !found {
				t.Fatalf("the host's offer announces nothing: %v", err)
			}
			guess := joinCode{room: room, secret: "ZZZZ"}
			prs, ci := nativeCPaceInputs(guess, password)
			asHost, err := cpaceStart(prs, ci, nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			asJoiner, err := cpaceStart(prs, ci, nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			toJoinerMsg := asHost.msg
			if relayCPace {
				toJoinerMsg = ann.msg
			}

			// Leg B: the relay as the joiner's host, on the joiner's board.
			legB := newMITMLeg(t)
			chatB, err := legB.pc.CreateDataChannel(pypeerChannel.label, nil)
			if err != nil {
				t.Fatal(err)
			}
			legB.chat <- chatB
			offer, err := legB.pc.CreateOffer(nil)
			if err != nil {
				t.Fatal(err)
			}
			offerSDP, err := gatherLocal(ctx, legB.pc, offer, gatherTimeout)
			if err != nil {
				t.Fatal(err)
			}
			sealed, err := pypeer.seal(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: withNativeAnnouncement(offerSDP, toJoinerMsg)})
			if err != nil {
				t.Fatal(err)
			}
			if err := jb.put(ctx, slots.offerPath(), sealed); err != nil {
				t.Fatal(err)
			}
			joiner := nativeJoiner(t, joinerBoard, ev["code"], password)
			joinerAnswer := mitmAwait(t, ctx, jb, pypeer, slots.answerPath(), webrtc.SDPTypeAnswer)
			jann, _, _ := readNativeAnnouncement(joinerAnswer.SDP)
			if err := legB.pc.SetRemoteDescription(joinerAnswer); err != nil {
				t.Fatal(err)
			}

			// Leg A: the relay as the host's joiner, on the host's board.
			legA := newMITMLeg(t)
			if err := legA.pc.SetRemoteDescription(hostOffer); err != nil {
				t.Fatal(err)
			}
			answer, err := legA.pc.CreateAnswer(nil)
			if err != nil {
				t.Fatal(err)
			}
			answerSDP, err := gatherLocal(ctx, legA.pc, answer, gatherTimeout)
			if err != nil {
				t.Fatal(err)
			}
			toHostMsg := asJoiner.msg
			if relayCPace {
				toHostMsg = jann.msg
			}
			sealed, err = pypeer.seal(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: withNativeAnnouncement(answerSDP, toHostMsg)})
			if err != nil {
				t.Fatal(err)
			}
			if err := hb.put(ctx, slots.answerPath(), sealed); err != nil {
				t.Fatal(err)
			}

			// Relay the control channels both ways, and say something on
			// each chat channel before any confirmation.
			relay := func(from, to *mitmLeg) {
				opened := make(chan struct{})
				to.control.OnOpen(func() { close(opened) })
				if to.control.ReadyState() != webrtc.DataChannelStateOpen {
					select {
					case <-opened:
					case <-ctx.Done():
						return
					}
				}
				for {
					select {
					case m := <-from.fromPeer:
						_ = to.control.Send(m)
					case <-ctx.Done():
						return
					}
				}
			}
			go relay(legA, legB)
			go relay(legB, legA)
			for _, leg := range []*mitmLeg{legA, legB} {
				go func() {
					select {
					case dc := <-leg.chat:
						dc.OnOpen(func() { _ = dc.SendText("hello from the middle") })
					case <-ctx.Done():
					}
				}()
			}

			start := time.Now()
			if e := joiner.event("error"); e["kind"] != kindWrongPassword || !strings.Contains(e["message"], "did not prove it holds this code") {
				t.Errorf("the joiner ended with %v, want the confirmation refused", e)
			}
			if code := joiner.wait(); code != exitWrongPassword {
				t.Errorf("joiner exit status %d, want %d", code, exitWrongPassword)
			}
			host.warning("could not prove it holds the code")
			if waited := time.Since(start); waited >= nativeConfirmTimeout {
				t.Errorf("the refusal took %v: a silent relay, not mismatched tags", waited)
			}

			// The room is still the host's, and the relay's words never
			// reach the host's output.
			realJoinerGetsIn(t, host, hostBoard, ev["code"], password)
		})
	}
}

// withoutAnnouncement is sdp with the native announcement taken out.
func withoutAnnouncement(sdp string) string {
	var kept strings.Builder
	for line := range strings.Lines(sdp) {
		if !strings.HasPrefix(line, "a="+nativeAttribute+":") {
			kept.WriteString(line)
		}
	}
	return kept.String()
}

// TestEndToEndNativeDowngrade: the same attacker between two boards copies
// the descriptions across with the announcement stripped, to make each
// gopeer take the other for a pypeer peer. A joiner holding the gopeer
// code refuses the stripped offer; a -secure host refuses the stripped
// answer; neither connects.
func TestEndToEndNativeDowngrade(t *testing.T) {
	for _, stripOffer := range []bool{true, false} {
		t.Run(map[bool]string{true: "from the offer", false: "from the answer, -secure host"}[stripOffer], func(t *testing.T) {
			t.Parallel()
			const room, password = "DOWNG1", "pw"
			m := newMITMBoards(t, room, password)
			hb, jb, pypeer, slots := m.hb, m.jb, m.pypeer, m.slots
			host, ev := nativeHost(t, m.host, room, password, "-secure", "-timeout", "20s")
			ctx, cancel := context.WithTimeout(context.Background(), eventWait)
			defer cancel()
			copyAcross := func(from, to *boardClient, path string, typ webrtc.SDPType, strip bool) {
				t.Helper()
				desc := mitmAwait(t, ctx, from, pypeer, path, typ)
				if strip {
					desc.SDP = withoutAnnouncement(desc.SDP)
				}
				sealed, err := pypeer.seal(desc)
				if err != nil {
					t.Fatal(err)
				}
				if err := to.put(ctx, path, sealed); err != nil {
					t.Fatal(err)
				}
			}

			copyAcross(hb, jb, slots.offerPath(), webrtc.SDPTypeOffer, stripOffer)
			joiner := nativeJoiner(t, m.joiner, ev["code"], password, "-timeout", "3s")
			if stripOffer {
				joiner.warning("not a gopeer's")
				if e := joiner.event("error"); !strings.Contains(e["message"], "holds no gopeer's offer") || !strings.Contains(e["hint"], "join with the room code alone") {
					t.Errorf("the joiner ended with %v, want it to say the offer is not a gopeer's", e)
				}
				if code := joiner.wait(); code == exitOK {
					t.Error("the joiner took a stripped offer")
				}
				return
			}
			copyAcross(jb, hb, slots.answerPath(), webrtc.SDPTypeAnswer, true)
			host.warning("not a gopeer's")
			if code := joiner.wait(); code == exitOK {
				t.Error("the joiner connected through a stripped answer")
			}
			host.stdin.Close()
		})
	}
}

// TestEndToEndNativeReceipts: in a gopeer session each message sent is
// reported delivered, by its id (1, 2, … in the order sent), once the
// peer's gopeer has shown it; a pypeer session reports none.
func TestEndToEndNativeReceipts(t *testing.T) {
	t.Parallel()
	board := startTestBoard(t)
	host, room := nativeHost(t, board, "RECPT1", "pw")
	guest := nativeJoiner(t, board, room["code"], "pw")
	host.event("connected")
	guest.event("connected")
	const n = 200 // far more receipts in a burst than the control queue holds
	for i := range n {
		guest.send(fmt.Sprintf("message %d", i+1))
	}
	for i := range n {
		if got := host.event("message")["text"]; got != fmt.Sprintf("message %d", i+1) {
			t.Fatalf("host got %q", got)
		}
	}
	for i := range n {
		if ev := guest.event("delivered"); ev["id"] != fmt.Sprint(i+1) {
			t.Fatalf("delivered event %v, want id %d", ev, i+1)
		}
	}

	// pypeer's way: the same exchange, and no receipt before the end.
	host2, room2 := nativeHost(t, board, "RECPT2", "pw")
	pypeerWay := nativeJoiner(t, board, room2["room"], "pw")
	host2.event("connected")
	pypeerWay.event("connected")
	pypeerWay.send("no receipt for this")
	if got := host2.event("message")["text"]; got != "no receipt for this" {
		t.Fatalf("host got %q", got)
	}
	pypeerWay.stdin.Close()
	if ev := pypeerWay.event("closed"); ev["reason"] != "you left" {
		t.Errorf("pypeer-way joiner closed with %v (a delivered event before it would fail here)", ev)
	}
}

// answer writes one -json answer to the comparison of -verify.
func (p *proc) answer(same bool) {
	p.t.Helper()
	if _, err := fmt.Fprintf(p.stdin, "{\"same\":%v}\n", same); err != nil {
		p.t.Fatal(err)
	}
}

// TestEndToEndNativeVerify: -verify on one side makes both people compare
// the verification string before the chat starts; the chat starts when
// both say it is the same, and a "no" on either side ends the session on
// both, as not_verified, with no message shown.
func TestEndToEndNativeVerify(t *testing.T) {
	t.Parallel()
	board := startTestBoard(t)
	const password = "pw"

	t.Run("both say the same", func(t *testing.T) {
		host, room := nativeHost(t, board, "VERIF1", password, "-verify")
		guest := nativeJoiner(t, board, room["code"], password)
		hc, gc := host.event("connected"), guest.event("connected")
		ha, ga := host.event("compare"), guest.event("compare")
		if ha["verify"] != hc["verify"] || ga["verify"] != gc["verify"] || ha["verify"] != ga["verify"] || len(ha["verify"]) != 9 {
			t.Fatalf("compare events %v and %v after connected %v and %v: want the same string everywhere", ha, ga, hc, gc)
		}
		host.answer(true)
		guest.answer(true)
		host.event("compared")
		guest.event("compared")
		guest.send("after the comparison")
		if got := host.event("message")["text"]; got != "after the comparison" {
			t.Errorf("host got %q", got)
		}
	})

	t.Run("the joiner sees another number", func(t *testing.T) {
		host, room := nativeHost(t, board, "VERIF2", password, "-verify")
		guest := nativeJoiner(t, board, room["code"], password)
		host.event("connected")
		guest.event("connected")
		host.event("compare")
		guest.event("compare")
		host.answer(true)
		host.send("must never be shown")
		guest.answer(false)
		if ev := guest.event("error"); ev["kind"] != kindNotVerified || !strings.Contains(ev["message"], "you said the numbers differ") {
			t.Errorf("joiner ended with %v", ev)
		}
		if ev := host.event("error"); ev["kind"] != kindNotVerified || !strings.Contains(ev["message"], "the peer said the numbers differ") {
			t.Errorf("host ended with %v", ev)
		}
		for name, p := range map[string]*proc{"host": host, "joiner": guest} {
			if code := p.wait(); code != exitFailure {
				t.Errorf("%s exit status %d, want %d", name, code, exitFailure)
			}
		}
	})

	t.Run("a plain line answers in line mode", func(t *testing.T) {
		host, room := nativeHost(t, board, "VERIF3", password)
		guest := startGopeer(t, []string{"GOPEER_PASSWORD=" + password}, "-ice", "none", "-db", board, "-join", room["code"], "-verify")
		host.event("connected")
		host.event("compare")
		guest.waitStderr("type yes if the peer sees the same")
		io.WriteString(guest.stdin, "maybe\n")
		guest.waitStderr("not understood")
		io.WriteString(guest.stdin, "YES\n")
		host.answer(true)
		host.event("compared")
		host.send("plain")
		if got := guest.line(); got != "plain" {
			t.Errorf("joiner printed %q", got)
		}
	})
}
