package main

// This file is the native control channel: a second data channel that two
// gopeers open beside pypeer's chat channel, negotiated out of band (both
// create it with the same id), so a pypeer peer never sees it. It carries
// the key confirmation (native.go) first, nothing else before it, then
// what each user asked of the session (-verify), the answers of a
// comparison of the verification string, and the session's keep-alives and
// delivery receipts, so that the chat channel carries only chat.
//
//	host                                               joiner
//	 |-- confirm: host tag ------------------------------->|
//	 |-- wishes: flags (bit 0: compare, bit 1: restart) -->|
//	 |<------------------------------- confirm: joiner tag --|
//	 |<------------------------------------ wishes: flags --|
//	 |   either asked to compare: each user answers, then   |
//	 |-- verdict: 1 same / 0 differs --------------------->|
//	 |<-------------------------------------------- verdict |
//	 |<== pings and receipts, both ways, for the session ==>|
//
// Each side sends its two first messages without waiting, so the wishes
// cost no round trip; they travel on the DTLS connection the tags have
// just proved, so nobody in the middle can strip them.
//
// Every message is binary: one type byte, then its body. Messages are
// bounded (controlMaxMessage), queued in a bounded buffer, and a peer that
// breaks either rule, or sends anything but a confirmation first, ends the
// confirmation with an error.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

const (
	nativeControlLabel = "gopeer-control"
	// nativeControlID is the channel's SCTP stream: negotiated, so both
	// sides name it; far above the ids pion gives in-band channels (the
	// chat's is 0 or 1).
	nativeControlID uint16 = 1023
	// controlMaxMessage bounds one control message.
	controlMaxMessage = 1024
	// controlQueue bounds what the peer can make this side hold before it
	// reads.
	controlQueue = 16
)

// Control message types.
const (
	controlConfirm byte = 1 // body: the sender's confirmation tag
	controlPing    byte = 2 // no body: the keep-alive of a gopeer session
	controlReceipt byte = 3 // body: a uvarint, how many chat messages the sender has shown
	controlWishes  byte = 4 // body: a flags byte, right after the confirmation
	controlVerdict byte = 5 // body: 1 when the sender's user saw the same verification string, 0 when not
)

// The wishes' flags. Other bits are for later versions and ignored.
const (
	// wishCompare says the sender's user asked (-verify) to compare the
	// verification string before the chat starts.
	wishCompare byte = 1 << 0
	// wishRestart says the sender restores the session through the board
	// after a network change (restart.go): it can still reach the board
	// it met on, and its user did not turn it off. Both must say so.
	wishRestart byte = 1 << 1
)

// errControlProtocol means the peer broke the control channel's rules.
var errControlProtocol = errors.New("the peer broke the native control channel's rules")

// controlChannel is one side of the native control channel.
type controlChannel struct {
	dc     *webrtc.DataChannel
	opened chan struct{}
	in     chan []byte   // messages as they came, bounded, until serve
	broken chan struct{} // closed when the peer broke a rule
	// handler, once serve set it, takes each message as it comes.
	handler atomic.Pointer[func(typ byte, body []byte)]
	// verdict holds the peer's first answer to the comparison.
	verdict chan bool
}

// openControl creates this side's end of the control channel on pc.
func openControl(pc *webrtc.PeerConnection) (*controlChannel, error) {
	negotiated, id := true, nativeControlID
	dc, err := pc.CreateDataChannel(nativeControlLabel, &webrtc.DataChannelInit{Negotiated: &negotiated, ID: &id})
	if err != nil {
		return nil, fmt.Errorf("webrtc: the control channel: %w", err)
	}
	c := &controlChannel{dc: dc, opened: make(chan struct{}), in: make(chan []byte, controlQueue), broken: make(chan struct{}), verdict: make(chan bool, 1)}
	var openOnce, breakOnce sync.Once
	dc.OnOpen(func() { openOnce.Do(func() { close(c.opened) }) })
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		if m.IsString || len(m.Data) == 0 || len(m.Data) > controlMaxMessage {
			breakOnce.Do(func() { close(c.broken) })
			return
		}
		if h := c.handler.Load(); h != nil {
			(*h)(m.Data[0], m.Data[1:]) // confirmed: handled at once, never queued
			return
		}
		select {
		case c.in <- m.Data:
		default: // more than the queue holds: flooding
			breakOnce.Do(func() { close(c.broken) })
		}
	})
	return c, nil
}

// send writes one control message of type typ.
func (c *controlChannel) send(typ byte, body []byte) error {
	return c.dc.Send(append([]byte{typ}, body...))
}

// next waits for the peer's next control message.
func (c *controlChannel) next(ctx context.Context) (typ byte, body []byte, err error) {
	select {
	case <-c.broken: // first: what is queued after a broken rule is not to be trusted
		return 0, nil, errControlProtocol
	default:
	}
	select {
	case m := <-c.in:
		return m[0], m[1:], nil
	case <-c.broken:
		return 0, nil, errControlProtocol
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	}
}

// confirm proves this side holds the session (its tag, as role) and checks
// that the peer does (its tag, as peerRole): the first thing either side
// says on the channel. Right behind its tag, each side says what it wishes
// of the session (the wish… flags); confirm returns the peer's. It ends
// when ctx does.
func (c *controlChannel) confirm(ctx context.Context, s nativeSession, role, peerRole string, wishes byte) (peerWishes byte, err error) {
	select {
	case <-c.opened:
	case <-ctx.Done():
		return 0, fmt.Errorf("the peer opened no control channel: %w", ctx.Err())
	}
	if err := c.send(controlConfirm, s.tag(role)); err != nil {
		return 0, fmt.Errorf("webrtc: sending the confirmation: %w", err)
	}
	if err := c.send(controlWishes, []byte{wishes}); err != nil {
		return 0, fmt.Errorf("webrtc: sending the confirmation: %w", err)
	}
	if err := c.expect(ctx, controlConfirm, func(body []byte) error { return s.checkTag(peerRole, body) }); err != nil {
		return 0, err
	}
	err = c.expect(ctx, controlWishes, func(body []byte) error {
		if len(body) == 0 {
			return fmt.Errorf("%w: wishes without flags", errControlProtocol)
		}
		peerWishes = body[0]
		return nil
	})
	return peerWishes, err
}

// expect reads the peer's next control message, which must be of type
// typ, and hands its body to check.
func (c *controlChannel) expect(ctx context.Context, typ byte, check func(body []byte) error) error {
	got, body, err := c.next(ctx)
	if err != nil {
		return err
	}
	if got != typ {
		return fmt.Errorf("%w: message type %d where %d belongs", errControlProtocol, got, typ)
	}
	return check(body)
}

// serve handles the peer's control messages once the session is
// confirmed: receipts go to onReceipt, the peer's first verdict to
// c.verdict, pings are dropped, anything else is ignored (a later version
// may say more). Each is handled as it comes, in constant work, so a burst
// of receipts (one per chat message) is never taken for a flood; receipts
// are cumulative, so their order does not matter. What was queued before
// is handled first.
func (c *controlChannel) serve(onReceipt func(n uint64)) {
	handle := func(typ byte, body []byte) {
		switch typ {
		case controlReceipt:
			if n, size := binary.Uvarint(body); size > 0 && size == len(body) {
				onReceipt(n)
			}
		case controlVerdict:
			select {
			case c.verdict <- len(body) == 1 && body[0] == 1:
			default: // only the first answer counts
			}
		}
	}
	c.handler.Store(&handle)
	for {
		select {
		case m := <-c.in:
			handle(m[0], m[1:])
		default:
			return
		}
	}
}

func (c *controlChannel) close() { _ = c.dc.Close() }

// controlFlushTimeout bounds the wait for a side's last control message
// to leave before it ends the session.
const controlFlushTimeout = time.Second

// flush waits until the peer has acknowledged what was sent on the
// control channel, at most controlFlushTimeout: a side that ends the
// session right after its last word (its tag, its "no") would otherwise
// close the link with that word still queued, and the peer would learn
// nothing until its own timeout.
func (c *controlChannel) flush(ctx context.Context, closed <-chan struct{}) {
	ctx, cancel := context.WithTimeout(ctx, controlFlushTimeout)
	defer cancel()
	_ = drainChannel(ctx, c.dc, closed)
}
