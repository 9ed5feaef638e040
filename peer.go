package main

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"
)

const (
	// sendHighWater bounds what waits in the SCTP send buffer, so a fast writer
	// (a big paste, a script) blocks instead of queueing without limit.
	sendHighWater = 1 << 20
	sendLowWater  = 256 << 10

	// incomingQueue bounds messages received but not yet shown (at most 4 MiB
	// of them); when it is full, pion's read loop waits, and SCTP flow control
	// slows the peer down. SCTP's own 1 MiB window already smooths bursts, so
	// a longer queue would only hold more memory.
	incomingQueue = 64
)

// defaultICE is pypeer's STUN list, so NAT traversal behaves the same on both.
var defaultICE = []string{
	"stun:stun.l.google.com:19302",
	"stun:stun1.l.google.com:19302",
	"stun:stun2.l.google.com:19302",
	"stun:stun.l.google.com:19305",
}

// parseICEServers turns the -ice flag into pion's configuration. "none" means no
// ICE servers: host candidates only. TURN credentials come from the environment
// (getenv), never from a flag value.
func parseICEServers(spec string, getenv func(string) string) ([]webrtc.ICEServer, error) {
	spec = strings.TrimSpace(spec)
	if spec == "none" || spec == "" {
		return nil, nil
	}
	var servers []webrtc.ICEServer
	for _, u := range strings.Split(spec, ",") {
		u = strings.TrimSpace(u)
		switch {
		case strings.HasPrefix(u, "stun:"), strings.HasPrefix(u, "stuns:"):
			servers = append(servers, webrtc.ICEServer{URLs: []string{u}})
		case strings.HasPrefix(u, "turn:"), strings.HasPrefix(u, "turns:"):
			servers = append(servers, webrtc.ICEServer{
				URLs:       []string{u},
				Username:   getenv("GOPEER_TURN_USERNAME"),
				Credential: getenv("GOPEER_TURN_PASSWORD"),
			})
		default:
			return nil, fmt.Errorf("-ice: %q is not a stun: or turn: URL (or use -ice none)", u)
		}
	}
	return servers, nil
}

// peerConfig is what every peer connection of a run shares.
type peerConfig struct {
	iceServers    []webrtc.ICEServer
	gatherTimeout time.Duration // cap on ICE gathering: unreachable STUN must not stall a room
	pingInterval  time.Duration // the keep-alive period instead of the dialect's; 0 keeps it
	logs          logging.LoggerFactory
}

// newAPI builds pion's API with gopeer's settings, for a channel whose
// messages are at most maxMessage bytes.
func newAPI(logs logging.LoggerFactory, maxMessage int) *webrtc.API {
	se := webrtc.SettingEngine{LoggerFactory: logs}
	// pypeer never sends mDNS candidates, and gopeer does not need them: keep
	// multicast queries off the network.
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	// Two peers on a machine with nothing but loopback (an offline laptop, a
	// fresh network namespace) can only meet there; elsewhere loopback
	// candidates would only leak into the SDP and waste checks.
	se.SetIncludeLoopbackCandidate(onlyLoopback())
	// pypeer ends a session on "disconnected"; gopeer rides out a few
	// seconds of silence (a dropped Wi-Fi, a link down and up) and still
	// reports a dead peer within ten: disconnected after 3 s, failed 5 s
	// later.
	se.SetICETimeouts(3*time.Second, 5*time.Second, time.Second)
	// SCTP's retransmission backoff would otherwise grow to a minute during
	// an outage; capped, what was sent meanwhile goes out soon after the
	// path comes back.
	se.SetSCTPRTOMax(2 * time.Second)
	se.SetSTUNGatherTimeout(3 * time.Second)
	// pion would advertise 1 GiB and buffer a message that large; the
	// dialect's limit (aiortc's 64 KiB for pypeer) bounds what a peer can
	// make us hold.
	se.SetSCTPMaxMessageSize(uint32(maxMessage))
	// Bigger UDP socket buffers: with Linux's default (208 KiB, about 90
	// SCTP packets) a burst of a full congestion window overflows the
	// receiver's socket, each drop halves SCTP's window, and a bulk transfer
	// ran at half speed (BenchmarkLink/Bulk: 35-43 MB/s with 0.2% of packets
	// dropped, 69-107 MB/s and no drops with these buffers). The kernel caps
	// the request at net.core.rmem_max / wmem_max.
	if n, err := stdnet.NewNet(); err == nil {
		se.SetNet(bufferedNet{Net: n, size: udpSocketBuffer})
	}
	return webrtc.NewAPI(webrtc.WithSettingEngine(se))
}

// udpSocketBuffer is the receive and send buffer asked for each UDP socket.
const udpSocketBuffer = 4 << 20

// bufferedNet is the standard network (what pion uses when given none) with
// bigger buffers on the UDP sockets ICE opens. pion makes a fresh one for
// each connection, and so a fresh list of interfaces; this one is made once
// per run, so it lists the interfaces anew each time it is asked (a joiner
// may wait minutes for an offer while the laptop changes networks).
type bufferedNet struct {
	transport.Net
	size int
}

func (n bufferedNet) Interfaces() ([]*transport.Interface, error) {
	fresh, err := stdnet.NewNet()
	if err != nil {
		return nil, err
	}
	return fresh.Interfaces()
}

func (n bufferedNet) InterfaceByIndex(index int) (*transport.Interface, error) {
	fresh, err := stdnet.NewNet()
	if err != nil {
		return nil, err
	}
	return fresh.InterfaceByIndex(index)
}

func (n bufferedNet) InterfaceByName(name string) (*transport.Interface, error) {
	fresh, err := stdnet.NewNet()
	if err != nil {
		return nil, err
	}
	return fresh.InterfaceByName(name)
}

func (n bufferedNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err == nil {
		setSocketBuffers(c, n.size)
	}
	return c, err
}

// ListenPacket opens the sockets for server-reflexive and relayed candidates.
func (n bufferedNet) ListenPacket(network, address string) (net.PacketConn, error) {
	c, err := n.Net.ListenPacket(network, address)
	if err == nil {
		setSocketBuffers(c, n.size)
	}
	return c, err
}

func setSocketBuffers(c any, size int) {
	if b, ok := c.(interface {
		SetReadBuffer(int) error
		SetWriteBuffer(int) error
	}); ok {
		_ = b.SetReadBuffer(size)
		_ = b.SetWriteBuffer(size)
	}
}

// onlyLoopback reports whether no interface but loopback is up with an address.
func onlyLoopback() bool {
	ifaces, err := net.Interfaces()
	if err != nil {
		return true
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.IsGlobalUnicast() {
				return false
			}
		}
	}
	return true
}

// gatherLocal sets desc as the local description and waits for ICE gathering,
// at most gatherTimeout, so the whole SDP can be posted at once: pypeer does
// not trickle. It stops waiting early once the ICE servers have given what
// they can (gatheredEnough).
func gatherLocal(ctx context.Context, pc *webrtc.PeerConnection, desc webrtc.SessionDescription, gatherTimeout time.Duration) (string, error) {
	done := webrtc.GatheringCompletePromise(pc)
	enough := gatheredEnough(pc, iceServerKinds(pc.GetConfiguration().ICEServers))
	if err := pc.SetLocalDescription(desc); err != nil {
		return "", fmt.Errorf("set local description: %w", err)
	}
	timer := time.NewTimer(gatherTimeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-enough:
	case <-timer.C: // post what was found: host candidates come first and fast
	case <-ctx.Done():
		return "", ctx.Err()
	}
	sdp := pc.LocalDescription().SDP
	if !strings.Contains(sdp, "a=candidate:") {
		return "", errors.New("no network address to offer the peer: is a network interface up?")
	}
	return sdp, nil
}

// iceServerKinds is the candidate types the ICE servers can add: a
// server-reflexive one from a STUN server, a relayed one from a TURN server.
func iceServerKinds(servers []webrtc.ICEServer) map[webrtc.ICECandidateType]bool {
	kinds := map[webrtc.ICECandidateType]bool{}
	for _, s := range servers {
		for _, u := range s.URLs {
			scheme, _, _ := strings.Cut(u, ":")
			switch scheme {
			case "stun", "stuns":
				kinds[webrtc.ICECandidateTypeSrflx] = true
			case "turn", "turns":
				kinds[webrtc.ICECandidateTypeRelay] = true
			}
		}
	}
	return kinds
}

// gatheredEnough is closed once a candidate of each of the kinds wanted
// has arrived, and then as long again as that took, for the rest (another
// interface's, another server's). Gathering itself waits for every server
// to answer or time out: pypeer's four STUN servers answer alike, so one
// that never answers (blocked, down) held every room for the whole STUN
// timeout (3 s) with nothing more to gain. Nil, which never closes, when
// nothing is wanted: host candidates alone complete at once anyway.
func gatheredEnough(pc *webrtc.PeerConnection, wanted map[webrtc.ICECandidateType]bool) <-chan struct{} {
	if len(wanted) == 0 {
		return nil
	}
	enough := make(chan struct{})
	start := time.Now()
	var mu sync.Mutex
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if !wanted[c.Typ] {
			return
		}
		delete(wanted, c.Typ)
		if len(wanted) == 0 {
			time.AfterFunc(time.Since(start)+gatherGraceMin, func() { close(enough) })
		}
	})
	return enough
}

// gatherGraceMin is the least extra wait once every kind has arrived.
const gatherGraceMin = 50 * time.Millisecond

// maxRemoteCandidates bounds the candidates taken from one description.
// A peer offers a few (host addresses, a reflexive one or two, a relay);
// every one taken is a target of ICE checks, so a hostile offer of 1,500
// once made a joiner send 12,000 STUN packets to 1,500 addresses.
const maxRemoteCandidates = 32

// trimCandidates keeps the candidates of a peer's description worth
// checking: at most maxRemoteCandidates, none at a multicast, broadcast or
// unspecified address, and none named by a host name (gopeer and pypeer
// send addresses; a name would send a DNS query wherever the peer likes).
// It returns the description and how many candidates it dropped.
func trimCandidates(sdp string) (string, int) {
	lines := strings.SplitAfter(sdp, "\n")
	kept, dropped := 0, 0
	out := lines[:0]
	for _, line := range lines {
		if strings.HasPrefix(line, "a=candidate:") {
			if kept == maxRemoteCandidates || !usableCandidate(line) {
				dropped++
				continue
			}
			kept++
		}
		out = append(out, line)
	}
	return strings.Join(out, ""), dropped
}

// usableCandidate reports whether an a=candidate line names an address
// worth sending checks to.
func usableCandidate(line string) bool {
	// a=candidate:FOUNDATION COMPONENT TRANSPORT PRIORITY ADDRESS PORT typ TYPE ...
	fields := strings.Fields(line)
	if len(fields) < 8 {
		return false
	}
	addr, err := netip.ParseAddr(fields[4])
	if err != nil {
		return false // a host name
	}
	addr = addr.Unmap()
	return !addr.IsMulticast() && !addr.IsUnspecified() && addr != netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// peerMessage is one message from the peer's data channel.
type peerMessage struct {
	text   string
	binary bool
}

// peerLink is an open data channel to the peer and the connection under it.
// What the channel carries (its keep-alive, its message limit) is the
// dialect's, in rules.
type peerLink struct {
	pc    *webrtc.PeerConnection
	dc    *webrtc.DataChannel
	rules channelRules

	incoming chan peerMessage
	notices  chan linkNotice // "connection interrupted", "reconnecting", …
	readDone chan struct{}   // closed when pion has delivered the channel's last message
	abandon  sync.Once
	readOnce sync.Once
	// abandoned is closed when the chat stops reading incoming, so that
	// pion's read loop never waits on it forever.
	abandoned chan struct{}
	opened    chan struct{}
	closed    chan struct{}
	lowWater  chan struct{}

	mu     sync.Mutex
	reason error // why the link ended: errPeerLeft or errConnectionLost
	once   sync.Once
	open   sync.Once

	// native is the confirmed native session (native.go), nil for a
	// pypeer session; control is its control channel.
	native  *nativeSession
	control *controlChannel
	// files are the file channels (transfer.go) of a gopeer session: set
	// with control, taken only once the session is confirmed.
	files *fileChannels
	// compare: a user asked (-verify) that both compare the verification
	// string before the chat starts.
	compare bool
	// receipts count chat messages both ways, for delivery receipts in a
	// gopeer session.
	receipts receipts
	// restartable: a failed connection is the restarter's to restore
	// (restart.go), not the session's end.
	restartable  atomic.Bool
	reconnecting atomic.Bool // a restart is under way
	// boardWork counts what the session still does on the board in the
	// background (the joiner's removal of the room, a restart's room),
	// which close waits for, briefly: no trace of the session is to
	// outlive it. Added to only before the link is handed to the chat.
	boardWork sync.WaitGroup
	// stateChanged is closed, and replaced, at every change of the
	// connection's state: a broadcast, for awaitState.
	stateMu      sync.Mutex
	stateChanged chan struct{}

	// writing lets one message onto the channel at a time (write). pion
	// numbers a message in its stream, then queues it for the association,
	// with nothing holding the two steps together: two writers at once (the
	// keep-alive and a chat message) could leave with the numbers in
	// opposite orders, and aiortc, pypeer's stack, then waits forever for
	// the lower one and never delivers another message from us
	// (TestInteropKeepAliveRacesMessages).
	writing sync.Mutex
}

var (
	errPeerLeft       = errors.New("peer left")
	errConnectionLost = errors.New("connection to the peer was lost")
)

func newPeerLink(pc *webrtc.PeerConnection, rules channelRules) *peerLink {
	l := &peerLink{
		pc:       pc,
		rules:    rules,
		incoming: make(chan peerMessage, incomingQueue),
		notices:  make(chan linkNotice, 8),

		readDone:  make(chan struct{}),
		abandoned: make(chan struct{}),
		opened:    make(chan struct{}),
		closed:    make(chan struct{}),
		lowWater:  make(chan struct{}, 1),
		receipts:  receipts{changed: make(chan struct{}, 1)},

		stateChanged: make(chan struct{}),
	}
	var interrupted atomic.Bool
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateDisconnected:
			if !interrupted.Swap(true) {
				l.notice("connection interrupted; waiting for it to come back (what you send is queued)")
			}
		case webrtc.PeerConnectionStateConnected:
			switch {
			case l.reconnecting.Swap(false):
				interrupted.Store(false)
				l.tell(linkNotice{event: noticeReconnected, text: "reconnected"})
			case interrupted.Swap(false):
				l.notice("connection restored")
			}
		case webrtc.PeerConnectionStateFailed:
			if !l.restartable.Load() {
				l.end(errConnectionLost)
			} else {
				l.startReconnecting()
			}
		case webrtc.PeerConnectionStateClosed:
			l.end(errPeerLeft)
		}
		l.stateMu.Lock()
		close(l.stateChanged)
		l.stateChanged = make(chan struct{})
		l.stateMu.Unlock()
	})
	return l
}

// awaitState waits until the connection is in one of the states want. It
// reports false when the link ends or ctx does first.
func (l *peerLink) awaitState(ctx context.Context, want ...webrtc.PeerConnectionState) bool {
	for {
		l.stateMu.Lock()
		changed := l.stateChanged // before the look: no change goes unseen
		l.stateMu.Unlock()
		if slices.Contains(want, l.pc.ConnectionState()) {
			return true
		}
		select {
		case <-changed:
		case <-l.closed:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// startReconnecting says, once per broken path, that a restart
// (restart.go) is under way.
func (l *peerLink) startReconnecting() {
	if !l.reconnecting.Swap(true) {
		l.tell(linkNotice{event: noticeReconnecting, text: "connection lost, reconnecting… (what you send is queued)"})
	}
}

// linkNotice is news of the link for the chat's screen.
type linkNotice struct {
	event string // noticeWarning, noticeReconnecting or noticeReconnected
	text  string
}

// The kinds of notice, named as line mode's -json events.
const (
	noticeWarning      = "warning"
	noticeReconnecting = "reconnecting" // the path broke: a restart is under way
	noticeReconnected  = "reconnected"  // and it is back
)

// notice warns the chat about the connection.
func (l *peerLink) notice(msg string) { l.tell(linkNotice{event: noticeWarning, text: msg}) }

// tell passes n to the chat, without ever blocking pion.
func (l *peerLink) tell(n linkNotice) {
	select {
	case l.notices <- n:
	default:
	}
}

// attach wires the chat channel's callbacks to the link.
func (l *peerLink) attach(dc *webrtc.DataChannel) {
	l.mu.Lock()
	l.dc = dc
	l.mu.Unlock()
	dc.SetBufferedAmountLowThreshold(sendLowWater)
	dc.OnBufferedAmountLow(func() {
		select {
		case l.lowWater <- struct{}{}:
		default:
		}
	})
	dc.OnOpen(func() { l.open.Do(func() { close(l.opened) }) })
	dc.OnClose(func() {
		l.readOnce.Do(func() { close(l.readDone) })
		l.end(errPeerLeft)
	})
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		if m.IsString && string(m.Data) == l.rules.keepAlive {
			return
		}
		// pion takes a message over the limit both sides advertise (up to
		// SCTP's 1 MiB window) rather than refuse it; gopeer never shows
		// one, so nothing past the limit reaches a screen or a script.
		if len(m.Data) > l.rules.maxBytes {
			l.notice(fmt.Sprintf("the peer sent a message of %d bytes, over the %d-byte limit; not shown", len(m.Data), l.rules.maxBytes))
			return
		}
		// Wait for room rather than drop: a message the peer sent before
		// it left must still be shown. Only a chat that has stopped
		// listening (close) lets the rest go.
		select {
		case l.incoming <- peerMessage{text: string(m.Data), binary: !m.IsString}:
		case <-l.abandoned:
		}
	})
}

// end records why the link ended, once.
func (l *peerLink) end(reason error) {
	l.once.Do(func() {
		l.mu.Lock()
		l.reason = reason
		l.mu.Unlock()
		close(l.closed)
	})
}

// err reports why the link ended.
func (l *peerLink) err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reason
}

// lastMessages passes what the peer sent before the link ended to show, in
// order: what is queued, and what pion still delivers until the channel's
// read loop ends (bounded by a short wait, for a channel that never closes
// cleanly).
func (l *peerLink) lastMessages(show func(peerMessage)) {
	timeout := time.NewTimer(2 * time.Second)
	defer timeout.Stop()
	for {
		select {
		case m := <-l.incoming:
			show(m)
		case <-l.readDone:
			for {
				select {
				case m := <-l.incoming:
					show(m)
				default:
					return
				}
			}
		case <-timeout.C:
			return
		}
	}
}

// waitOpen waits for the data channel to open, the link to fail, or ctx.
func (l *peerLink) waitOpen(ctx context.Context) error {
	select {
	case <-l.opened:
		return nil
	case <-l.closed:
		return l.err()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// keepAlive sends the dialect's keep-alive message until the link ends.
func (l *peerLink) keepAlive() {
	l.mu.Lock()
	ctrl := l.control
	l.mu.Unlock()
	if ctrl != nil {
		// A gopeer session: the chat channel carries only chat, and the
		// peer's control messages are read (pings dropped, receipts
		// counted) for good.
		ctrl.serve(l.receipts.note)
	}
	t := time.NewTicker(l.rules.every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if ctrl != nil {
				_ = ctrl.send(controlPing, nil)
			} else {
				_ = l.write(l.rules.keepAlive)
			}
		case <-l.closed:
			return
		}
	}
}

// send sends one chat message, waiting while too much is already in flight.
func (l *peerLink) send(ctx context.Context, text string) error {
	if err := l.checkMessage(text); err != nil {
		return err
	}
	for l.dc.BufferedAmount() > sendHighWater {
		select {
		case <-l.lowWater:
		case <-l.closed:
			return l.err()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	// Counted before it goes: the peer's receipt for it can come back
	// before write returns.
	l.receipts.sent.Add(1)
	return l.write(text)
}

// write puts one text message on the channel, one writer at a time.
func (l *peerLink) write(text string) error {
	l.writing.Lock()
	defer l.writing.Unlock()
	return l.dc.SendText(text)
}

// Why a message is not sent.
var (
	errMessageTooLong = errors.New("message too long")
	errKeepAliveText  = errors.New("the keep-alive text")
)

// checkMessage refuses what the peer would not take as a message: more
// bytes than the channel carries, or exactly the keep-alive text, which the
// peer drops unseen (pypeer does too).
func (l *peerLink) checkMessage(text string) error {
	switch {
	case len(text) > l.rules.maxBytes:
		return fmt.Errorf("%w: %d bytes, and the most one message carries is %d", errMessageTooLong, len(text), l.rules.maxBytes)
	case text == l.rules.keepAlive:
		return fmt.Errorf("%q is %w the peer drops unseen", text, errKeepAliveText)
	}
	return nil
}

// drain waits until everything sent has been acknowledged by the peer's SCTP
// stack, so closing now loses nothing.
func (l *peerLink) drain(ctx context.Context) error {
	if err := drainChannel(ctx, l.dc, l.closed); err != nil {
		return cmp.Or(l.err(), err)
	}
	return nil
}

// drainChannel waits until dc has nothing left to send: the peer's SCTP
// stack has acknowledged all of it. It fails when closed is, or ctx ends.
func drainChannel(ctx context.Context, dc *webrtc.DataChannel, closed <-chan struct{}) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for dc.BufferedAmount() > 0 {
		select {
		case <-t.C:
		case <-closed:
			return errPeerLeft
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// leave ends the session from this side: it waits until the peer has
// acknowledged what was sent (at most drainTimeout), then closes. It fails
// when something may not have been delivered.
func (l *peerLink) leave(ctx context.Context) error {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drainTimeout)
	defer cancel()
	err := l.drain(dctx)
	l.close()
	if err != nil && !errors.Is(err, errPeerLeft) {
		return &failure{kind: kindConnection, msg: "some messages may not have been delivered: " + err.Error(), err: err,
			hint: "the peer stopped acknowledging what was sent; send the rest again when you meet again"}
	}
	return nil
}

// endFailure says how a link the peer's side ended went: nil when the
// peer left, a failure when the connection was lost.
func (l *peerLink) endFailure() error {
	reason := l.err()
	if !errors.Is(reason, errConnectionLost) {
		return nil
	}
	var notRestored errNotRestored
	if errors.As(reason, &notRestored) {
		return &failure{kind: kindConnection, msg: "peer disconnected: the connection was lost, and " + notRestored.Error() + " (-reconnect)", err: reason,
			hint: "the peer's network stayed away, or their gopeer was stopped; host or join again"}
	}
	return &failure{kind: kindConnection, msg: "peer disconnected: the connection was lost", err: reason,
		hint: "the peer's network went away, or their gopeer was stopped; host or join again"}
}

// close ends the session: the channel first, so the peer sees a clean close
// after the last message, then the connection.
func (l *peerLink) close() {
	l.end(errPeerLeft)
	l.abandon.Do(func() { close(l.abandoned) })
	if l.dc != nil {
		_ = l.dc.Close()
	}
	_ = l.pc.Close()
	done := make(chan struct{})
	go func() {
		l.boardWork.Wait()
		close(done)
	}()
	t := time.NewTimer(boardWorkWait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

// boardWorkWait bounds how long a session that ends waits for its board
// work: each request of it has 5 s of its own.
const boardWorkWait = 6 * time.Second

// inBackground runs work on the board for the session, off the chat's
// path; close waits for it.
func (l *peerLink) inBackground(work func()) {
	l.boardWork.Add(1)
	go func() {
		defer l.boardWork.Done()
		work()
	}()
}

// remoteCandidateType reports the kind of path in use (host, srflx, prflx or
// relay), for /info and status lines.
func (l *peerLink) remoteCandidateType() string {
	sctp := l.pc.SCTP()
	if sctp == nil || sctp.Transport() == nil || sctp.Transport().ICETransport() == nil {
		return "unknown"
	}
	pair, err := sctp.Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Remote == nil {
		return "unknown"
	}
	return pair.Remote.Typ.String()
}

// setNative records whether the session was confirmed natively (nil: a
// pypeer session), and whether a user asked to compare the verification
// string, before the chat starts.
func (l *peerLink) setNative(s *nativeSession, ctrl *controlChannel, compare bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.native, l.control, l.compare = s, ctrl, compare && s != nil
}

// mustCompare reports whether the chat waits until both users have said
// the verification string is the same on both screens (settleComparison).
func (l *peerLink) mustCompare() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.compare
}

// Why a comparison of the verification string ended the session.
var (
	errYouSawDifferent  = errors.New("you said the numbers differ")
	errPeerSawDifferent = errors.New("the peer said the numbers differ")
)

// compareTimeout bounds a comparison: two people reading a number to each
// other, each answering.
const compareTimeout = 5 * time.Minute

// settleComparison tells the peer what this side's user answered (same:
// the verification string is the same on both screens) and waits for the
// peer's answer. It returns nil only when both said the same.
func (l *peerLink) settleComparison(ctx context.Context, same bool) error {
	l.mu.Lock()
	ctrl := l.control
	l.mu.Unlock()
	verdict := byte(0)
	if same {
		verdict = 1
	}
	if err := ctrl.send(controlVerdict, []byte{verdict}); err != nil {
		return &failure{kind: kindNotVerified, msg: "the connection ended before the numbers were compared", err: err}
	}
	if !same {
		// The peer's user should hear why the session ends: the answer
		// goes out before the link closes.
		ctrl.flush(ctx, l.closed)
		return notVerified(errYouSawDifferent)
	}
	select {
	case peerSame := <-ctrl.verdict:
		return verdictError(peerSame)
	case <-l.closed:
		select {
		case peerSame := <-ctrl.verdict: // its answer came just before it left
			return verdictError(peerSame)
		default:
		}
		return &failure{kind: kindNotVerified, msg: "the peer left before comparing the numbers", err: l.err()}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// verdictError is nil when the peer saw the same, a failure when not.
func verdictError(peerSame bool) error {
	if !peerSame {
		return notVerified(errPeerSawDifferent)
	}
	return nil
}

// notVerified is the failure of a comparison that found different numbers.
func notVerified(why error) *failure {
	return &failure{kind: kindNotVerified, msg: why.Error() + ": the chat did not start", err: why,
		hint: "someone may be in the middle: meet again with a new code, passed on a way only the two of you share"}
}

// protocol names the session's dialect, as the terminal and -json label
// it: "gopeer" when confirmed natively, else "pypeer".
func (l *peerLink) protocol() (name string, verified bool, verify string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.native == nil {
		return "pypeer", false, ""
	}
	return "gopeer", true, l.native.verifyString()
}

// receipts are a gopeer session's delivery receipts: the nth chat message
// a side sends has id n, and the peer says, cumulatively, how many it has
// shown (a control message), so the sender can mark each one delivered.
type receipts struct {
	sent      atomic.Uint64 // chat messages this side sent
	shown     atomic.Uint64 // chat messages this side showed
	delivered atomic.Uint64 // the peer's latest receipt
	changed   chan struct{} // signalled when delivered grows
}

// note takes a receipt from the peer. One that counts more than was sent
// is a lie and is dropped; so is one that counts less than before.
func (r *receipts) note(n uint64) {
	if n > r.sent.Load() {
		return
	}
	for {
		old := r.delivered.Load()
		if n <= old {
			return
		}
		if r.delivered.CompareAndSwap(old, n) {
			break
		}
	}
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// acknowledge tells the peer one more of its chat messages was shown, in a
// gopeer session; a pypeer peer gets nothing.
func (l *peerLink) acknowledge() {
	n := l.receipts.shown.Add(1)
	l.mu.Lock()
	ctrl := l.control
	l.mu.Unlock()
	if ctrl != nil {
		_ = ctrl.send(controlReceipt, binary.AppendUvarint(nil, n))
	}
}
