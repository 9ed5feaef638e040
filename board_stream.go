package main

// How a stream's events reach its client. Over HTTP/1.x the board takes
// the connection over from net/http (a hijack) and lets the handler
// return: an idle stream then costs one goroutine blocked in a read and
// nothing else, instead of net/http's per-connection buffers, request and
// response state and its handler goroutine. That halves the memory of
// 10,000 idle streams (BenchmarkBoardLoad). HTTP/2 streams, and writers
// that cannot be hijacked, go through the ResponseWriter.

import (
	"net"
	"net/http"
	"strconv"
	"time"
)

// boardStreamOut is where a stream's frames go.
type boardStreamOut interface {
	// send writes frames and pushes them to the client, giving up on a
	// client that stops reading.
	send(frames ...[]byte) error
	// finish ends the response: clean says whether to end it properly
	// or just cut it.
	finish(clean bool)
}

// serveStream sends the events for req's location until the client goes
// away, the stream falls too far behind, its room expires, or the board
// closes.
func (b *board) serveStream(w http.ResponseWriter, r *http.Request, req *boardRequest) {
	s, first, err := b.subscribe(req)
	if err != nil {
		b.fail(w, err)
		return
	}
	b.stats.count(http.StatusOK)
	if out, gone, ok := boardHijackStream(w, r); ok {
		b.setCut(s, func() { _ = out.conn.Close() })
		go func() {
			defer b.unsubscribe(s)
			b.pump(s, out, first, gone)
		}()
		return
	}
	defer b.unsubscribe(s)
	b.pump(s, newBoardWriterOut(w), first, r.Context().Done())
}

// pump sends s's first event, then its events and keep-alives, until gone
// is closed or the stream ends.
func (b *board) pump(s *boardStream, out boardStreamOut, first []byte, gone <-chan struct{}) {
	if out.send(first) != nil {
		out.finish(false)
		return
	}
	tick := time.NewTicker(b.keepAlive)
	defer tick.Stop()
	for {
		select {
		case <-gone:
			out.finish(false)
			return
		case <-s.abort:
			out.finish(false)
			return
		case <-s.wake:
			frames, ended := s.take()
			if err := out.send(frames...); err != nil || ended {
				out.finish(err == nil)
				return
			}
		case <-tick.C:
			if out.send([]byte(boardKeepAliveSSE)) != nil {
				out.finish(false)
				return
			}
		}
	}
}

// boardStreamHeader starts a hijacked stream's answer; it carries the
// cross-origin header of every REST answer (allowCrossOrigin), which the
// hijack leaves behind with the ResponseWriter.
const boardStreamHeader = "HTTP/1.1 200 OK\r\n" +
	"Content-Type: text/event-stream; charset=utf-8\r\n" +
	"Access-Control-Allow-Origin: *\r\n" +
	"Cache-Control: no-cache\r\n" +
	"Transfer-Encoding: chunked\r\n"

// boardHijackStream takes an HTTP/1.1 connection over. gone is closed
// when the client hangs up (or sends anything: nothing may follow a
// stream's request). HTTP/1.0 has no chunked encoding, and HTTP/2
// multiplexes the connection: both stay with net/http.
func boardHijackStream(w http.ResponseWriter, r *http.Request) (*boardConnOut, <-chan struct{}, bool) {
	if r.ProtoMajor != 1 || r.ProtoMinor < 1 {
		return nil, nil, false
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, nil, false // the writer cannot be hijacked; nothing was written
	}
	out := &boardConnOut{conn: conn, wire: conn, header: []byte(boardStreamHeader + "Date: " + time.Now().UTC().Format(http.TimeFormat) + "\r\n\r\n")}
	if lc, ok := conn.(*boardLimitedConn); ok {
		// Write to the TCP connection itself: only it has writev, and a
		// send through the wrapper would be a system call per buffer.
		// (Never unwrap a TLS connection: that would skip the encryption.)
		out.wire = lc.Conn
	}
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		var buf [64]byte
		_, _ = conn.Read(buf[:])
	}()
	return out, gone, true
}

// boardConnOut writes a chunked response straight to a hijacked
// connection. Each send is one writev: chunk size, frames, CRLF.
type boardConnOut struct {
	conn   net.Conn // closed when the stream ends
	wire   net.Conn // written to: conn, or the connection it wraps
	header []byte   // the response header, until the first send
}

func (o *boardConnOut) send(frames ...[]byte) error {
	size := 0
	for _, f := range frames {
		size += len(f)
	}
	if size == 0 {
		return nil // an empty chunk would end the response
	}
	bufs := make(net.Buffers, 0, len(frames)+4)
	if o.header != nil {
		bufs = append(bufs, o.header)
		o.header = nil
	}
	bufs = append(bufs, strconv.AppendInt(nil, int64(size), 16), []byte("\r\n"))
	bufs = append(bufs, frames...)
	bufs = append(bufs, []byte("\r\n"))
	_ = o.wire.SetWriteDeadline(time.Now().Add(boardStreamWriteTimeout))
	_, err := bufs.WriteTo(o.wire)
	return err
}

// finish ends the chunked body, when the end is a clean one, and closes
// the connection: a client that was streaming reconnects anyway.
func (o *boardConnOut) finish(clean bool) {
	if clean {
		_ = o.wire.SetWriteDeadline(time.Now().Add(boardStreamWriteTimeout))
		_, _ = o.wire.Write([]byte("0\r\n\r\n"))
	}
	_ = o.conn.Close()
}

// boardWriterOut streams through a ResponseWriter.
type boardWriterOut struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	started bool
}

func newBoardWriterOut(w http.ResponseWriter) *boardWriterOut {
	return &boardWriterOut{w: w, rc: http.NewResponseController(w)}
}

func (o *boardWriterOut) send(frames ...[]byte) error {
	if !o.started {
		o.started = true
		h := o.w.Header()
		h.Set("Content-Type", "text/event-stream; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		o.w.WriteHeader(http.StatusOK)
	}
	// Not every ResponseWriter supports deadlines; those that do not
	// simply have none.
	_ = o.rc.SetWriteDeadline(time.Now().Add(boardStreamWriteTimeout))
	for _, f := range frames {
		if _, err := o.w.Write(f); err != nil {
			return err
		}
	}
	return o.rc.Flush()
}

// finish lets the handler return, which ends the response; the connection
// may then serve more requests.
func (o *boardWriterOut) finish(bool) { _ = o.rc.SetWriteDeadline(time.Time{}) }
