package main

// This file is gopeer's file transfer (issue 14): two more channels that
// two confirmed gopeers open beside the chat and the control channel, one
// for each way, negotiated like the control channel, so a pypeer peer
// never sees them. Each carries one transfer after another. It
// runs only in a gopeer session: the channel lives inside the DTLS
// connection the key confirmation proved, so what travels on it is the
// peer's and nobody else's. Version transferVersion:
//
//	sender                                               receiver
//	 |-- offer part: JSON entries (path, size, sha256, mode) ->|
//	 |-- ... as many as the offer takes ----------------------->|
//	 |-- offer end --------------------------------------------->|
//	 |                 the receiver checks every name, asks its user
//	 |<---- accept: for each file it holds a part of, how much, and
//	 |      that part's SHA-256 (resume); or refuse: why ---------|
//	 |-- file begin: index, offset (the part checked out, or 0) ->|
//	 |-- data, data, ... (at most transferChunk bytes each) ----->|
//	 |-- file end ----------------------------------------------->|
//	 |     ... each file in the offer's order; one the receiver
//	 |     already holds whole is not sent ...
//	 |-- done -------------------------------------------------->|
//	 |<------------------ received: every file's SHA-256 matched |
//
// Either side may send failed (why) or cancel at any point; both end the
// transfer, and what the receiver wrote stays as a part file for resume.
// Whatever ends a transfer before the acceptance is a refusal, and what
// was still in flight when a transfer ended is dropped before the next
// offer, so one transfer's end never passes for the next one's.
//
// Every message is binary: a type byte, then its body. The receiver
// trusts nothing in the offer: names are checked (transferdisk.go),
// sizes are counted as data arrives, and every file is hashed while it is
// written and checked before it gets its real name.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/pion/webrtc/v4"
)

const (
	// Each way has its own channel, so both people can send at once and
	// each channel carries one simple exchange: the host's files go on
	// the first, the joiner's on the second, next to the control
	// channel's stream.
	hostFilesLabel          = "gopeer-files-host"
	hostFilesID      uint16 = 1022
	joinerFilesLabel        = "gopeer-files-joiner"
	joinerFilesID    uint16 = 1021
	// transferVersion is the file protocol's version: it changes whenever
	// a message's meaning does. It travels in the offer.
	transferVersion = 1
	// transferChunk is the most data one message carries: the channel's
	// limit (the chat's, 64 KiB) less the type byte.
	transferChunk = 65536 - 1
	// transferQueue bounds messages received and not yet handled; when it
	// is full the channel's read loop waits, and SCTP slows the sender.
	// Small, as are the send buffer's marks: under the chat's 14 MiB soft
	// memory limit, every MiB held live makes the collector run more
	// often, and with 64 queued messages and 4 MiB in the send buffer a
	// 256 MiB file moved at 9 MB/s where 16 and 1 MiB moved it at 14-16.
	transferQueue = 16
	// transferHighWater and transferLowWater bound what waits in the send
	// buffer: enough for a fast path, never the whole file.
	transferHighWater = 1 << 20
	transferLowWater  = 256 << 10
	// transferMaxControl bounds a message other than data and offer
	// parts: accept, refuse, failed.
	transferMaxControl = 4 << 20
)

// File protocol message types.
const (
	tOfferPart byte = 1  // body: a JSON array of offerEntry
	tOfferEnd  byte = 2  // body: a JSON offerHeader
	tAccept    byte = 3  // body: a JSON acceptance
	tRefuse    byte = 4  // body: why, as text
	tFileBegin byte = 5  // body: uvarint index, uvarint offset
	tData      byte = 6  // body: the file's next bytes
	tFileEnd   byte = 7  // no body
	tDone      byte = 8  // no body: the sender sent every file
	tReceived  byte = 9  // no body: every file arrived and checked out
	tFailed    byte = 10 // body: why, as text
	tCancel    byte = 11 // no body: the user cancelled
)

// Why a transfer ended.
var (
	errTransferRefused   = errors.New("the receiver refused the files")
	errTransferCancelled = errors.New("the transfer was cancelled")
	errTransferProtocol  = errors.New("the peer broke the file protocol")
)

// fileChannel is one side of the file channel.
type fileChannel struct {
	dc       *webrtc.DataChannel
	opened   chan struct{}
	closed   chan struct{}   // the channel closed
	gone     <-chan struct{} // the connection under it ended
	in       chan []byte
	lowWater chan struct{}
}

// fileChannels are this side's two file channels: out carries the files
// it sends (and the peer's answers), in the files it receives.
type fileChannels struct {
	out, in *fileChannel
}

// openFileChannels creates both file channels on pc, as the host or the
// joiner; the link closes gone when the connection ends.
func openFileChannels(pc *webrtc.PeerConnection, gone <-chan struct{}, host bool) (*fileChannels, error) {
	hostCh, err := openFileChannel(pc, gone, hostFilesLabel, hostFilesID)
	if err != nil {
		return nil, err
	}
	joinerCh, err := openFileChannel(pc, gone, joinerFilesLabel, joinerFilesID)
	if err != nil {
		return nil, err
	}
	if host {
		return &fileChannels{out: hostCh, in: joinerCh}, nil
	}
	return &fileChannels{out: joinerCh, in: hostCh}, nil
}

func (f *fileChannels) close() {
	f.out.close()
	f.in.close()
}

// openFileChannel creates this side's end of one file channel on pc,
// whose link closes gone when the connection ends (a lost connection
// may never close the channel itself).
func openFileChannel(pc *webrtc.PeerConnection, gone <-chan struct{}, label string, id uint16) (*fileChannel, error) {
	negotiated := true
	dc, err := pc.CreateDataChannel(label, &webrtc.DataChannelInit{Negotiated: &negotiated, ID: &id})
	if err != nil {
		return nil, fmt.Errorf("webrtc: the file channel: %w", err)
	}
	c := &fileChannel{dc: dc, opened: make(chan struct{}), closed: make(chan struct{}), gone: gone,
		in: make(chan []byte, transferQueue), lowWater: make(chan struct{}, 1)}
	var openOnce, closeOnce sync.Once
	dc.SetBufferedAmountLowThreshold(transferLowWater)
	dc.OnBufferedAmountLow(func() {
		select {
		case c.lowWater <- struct{}{}:
		default:
		}
	})
	dc.OnOpen(func() { openOnce.Do(func() { close(c.opened) }) })
	dc.OnClose(func() { closeOnce.Do(func() { close(c.closed) }) })
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		if m.IsString || len(m.Data) == 0 {
			m.Data = []byte{tFailed} // a text or empty message: the protocol is broken
		}
		select {
		case c.in <- m.Data: // waits when full: SCTP's flow control slows the sender
		case <-c.closed:
		case <-c.gone:
		}
	})
	return c, nil
}

// send writes one message, waiting while too much is already in flight.
func (c *fileChannel) send(ctx context.Context, typ byte, body []byte) error {
	if typ == tCancel || typ == tFailed || typ == tRefuse {
		// An end goes out at once, however much is queued before it: a
		// sender waiting for room could give up first, and its peer would
		// wait for data that never comes.
		return c.dc.Send(append([]byte{typ}, body...))
	}
	return c.sendMessage(ctx, append([]byte{typ}, body...))
}

// sendMessage writes msg, its type byte first, waiting while too much is
// already in flight. msg may be reused once it returns: SCTP copies what
// it queues.
func (c *fileChannel) sendMessage(ctx context.Context, msg []byte) error {
	for c.dc.BufferedAmount() > transferHighWater {
		select {
		case <-c.lowWater:
		case <-c.closed:
			return errPeerLeft
		case <-c.gone:
			return errConnectionLost
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return c.dc.Send(msg)
}

// next waits for the peer's next message.
func (c *fileChannel) next(ctx context.Context) (typ byte, body []byte, err error) {
	select {
	case m := <-c.in:
		return m[0], m[1:], nil
	case <-c.closed:
		select { // what came before the close still counts
		case m := <-c.in:
			return m[0], m[1:], nil
		default:
		}
		return 0, nil, errPeerLeft
	case <-c.gone:
		return 0, nil, errConnectionLost
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	}
}

// waitOpen waits until the channel is open.
func (c *fileChannel) waitOpen(ctx context.Context) error {
	select {
	case <-c.opened:
		return nil
	case <-c.closed:
		return errPeerLeft
	case <-c.gone:
		return errConnectionLost
	case <-ctx.Done():
		return ctx.Err()
	}
}

// drain waits until everything sent has been acknowledged.
func (c *fileChannel) drain(ctx context.Context) error {
	return drainChannel(ctx, c.dc, c.closed)
}

func (c *fileChannel) close() { _ = c.dc.Close() }

// fileBegin encodes a file begin message's body.
func fileBegin(index int, offset int64) []byte {
	b := binary.AppendUvarint(nil, uint64(index))
	return binary.AppendUvarint(b, uint64(offset))
}

// parseFileBegin decodes a file begin message's body.
func parseFileBegin(body []byte) (index int, offset int64, err error) {
	i, n := binary.Uvarint(body)
	if n <= 0 {
		return 0, 0, fmt.Errorf("%w: a bad file begin", errTransferProtocol)
	}
	o, m := binary.Uvarint(body[n:])
	if m <= 0 || n+m != len(body) || i > 1<<31 || o > 1<<62 {
		return 0, 0, fmt.Errorf("%w: a bad file begin", errTransferProtocol)
	}
	return int(i), int64(o), nil
}

// peerText is a reason the peer sent, bounded and made safe to show.
func peerText(body []byte) string {
	const max = 300
	if len(body) > max {
		body = body[:max]
	}
	return sanitizeLine(string(body))
}
