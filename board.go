package main

// The board is gopeer's self-hosted signaling server: an in-memory server
// for the subset of the Firebase Realtime Database REST API that pypeer,
// gopeer and the janitor use (docs/PROTOCOL.md: "The board", "Streaming" and "Firebase facts").
//
// The database is one JSON tree in the data model of boardtree.go, the
// board client's too: numbers exact, arrays stored as objects keyed "0",
// "1", ... (Firebase does the same internally; a GET returns them as such
// objects), and no nulls or empty objects.
//
// The rest of the board: access rules for clients without the admin
// secret (board_rules.go), per-address limits (board_limits.go), queries
// (board_query.go), rooms that expire (board_rooms.go), how streams reach
// their clients (board_stream.go) and what it logs (board_stats.go).
// serve.go runs it.

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	boardDefaultKeepAlive = 30 * time.Second

	// A stream buffers at most this many events, and at most this many
	// bytes of them (a single event of any size is always accepted), before
	// the board gives up on its client. Firebase clients reconnect on EOF,
	// so dropping a slow stream is cheaper than blocking writers or
	// buffering without bound.
	boardStreamQueueLen   = 128
	boardStreamQueueBytes = 4 << 20

	// A stream write that cannot make progress for this long means the
	// client has stopped reading; the stream ends instead of pinning a
	// goroutine and a connection.
	boardStreamWriteTimeout = 30 * time.Second

	boardMaxHeaderBytes = 64 << 10
	boardAdminMaxBody   = 256 << 20
	boardShutdownGrace  = 5 * time.Second

	boardJSONType      = "application/json; charset=utf-8"
	boardNullETag      = "null_etag"
	boardPushAlphabet  = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
	boardKeepAliveSSE  = "event: keep-alive\ndata: null\n\n"
	boardCancelSSE     = "event: cancel\ndata: null\n\n"
	boardErrBadJSON    = "Invalid data; couldn't parse JSON object, array, or value."
	boardErrNeedsJSON  = "Not found: board paths end in .json"
	boardErrClosed     = "Service unavailable: the board is shutting down"
	boardErrDenied     = "Permission denied"
	boardErrBadAuth    = "Could not parse auth token."
	boardAllowedMethod = "GET, PUT, PATCH, POST, DELETE"
)

// boardOptions configures a board; the -serve flags fill it. The zero value
// is usable and safe: in every limit field zero means the default, and a
// negative value turns that limit off.
type boardOptions struct {
	keepAlive time.Duration    // stream keep-alive interval; 0 => 30s
	now       func() time.Time // clock for {".sv":"timestamp"}, push ids, limits and room expiry; nil => time.Now
	secret    string           // the admin secret; "" => nobody is admin
	logw      io.Writer        // where serveBoard logs counts and errors; nil => nowhere

	// Set by flags and read by serve.go before the board starts.
	secretFile      string
	tlsCert, tlsKey string

	maxBody           int64         // request body bytes
	maxPayload        int           // bytes of an offer's or answer's payload, for anonymous writers
	maxRooms          int           // rooms held at once
	maxRoomsPerAddr   int           // rooms one client address created that are still held
	maxBytes          int64         // bytes of JSON held in rooms, overall
	roomTTL           time.Duration // a room is removed this long after it appears
	maxStreams        int           // open streams, overall
	maxStreamsPerAddr int           // open streams per client address
	maxConnsPerAddr   int           // open connections per client address
	writeRate         float64       // sustained writes per second per client address
	writeBurst        int           // writes a client address may make at once
	readRate          float64       // sustained reads of known rooms per second per client address
	readBurst         int           // reads a client address may make at once
	headerTimeout     time.Duration // to read a request's headers
	readTimeout       time.Duration // to read a whole request, body included
	idleTimeout       time.Duration // a keep-alive connection waiting for its next request
	trustProxy        bool          // a loopback peer's X-Forwarded-For names the client
}

// The defaults: a board exposed to the internet on a small machine.
const (
	boardDefaultMaxBody           = 64 << 10
	boardDefaultMaxPayload        = 16 << 10
	boardDefaultMaxRooms          = 10000
	boardDefaultMaxRoomsPerAddr   = 32
	boardDefaultMaxBytes          = 64 << 20
	boardDefaultRoomTTL           = 10 * time.Minute
	boardDefaultMaxStreams        = 10000
	boardDefaultMaxStreamsPerAddr = 16
	boardDefaultMaxConnsPerAddr   = 32
	boardDefaultWriteRate         = 10
	boardDefaultWriteBurst        = 100
	boardDefaultReadRate          = 20
	boardDefaultReadBurst         = 200
	boardDefaultHeaderTimeout     = 10 * time.Second
	boardDefaultReadTimeout       = 30 * time.Second
	boardDefaultIdleTimeout       = 15 * time.Second
)

// boardMissCost is what reading a room that does not exist costs, in
// reads of one that does: following a room whose code you know is cheap,
// guessing codes is slow (20 reads a second allow 2 guesses).
const boardMissCost = 10

// boardRetrySoon is the Retry-After of a refusal that ends when a client
// leaves (a stream or a room of its address), at no time the board can
// foresee.
const boardRetrySoon = 10 * time.Second

// boardLimit resolves a limit field: zero is the default, and a negative
// value (off) becomes zero, which is how the board spells "no limit".
func boardLimit[T int | int64 | float64 | time.Duration](v, def T) T {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// board is an in-memory Firebase Realtime Database REST server with
// access rules for anonymous clients (board_rules.go), per-address limits
// (board_limits.go) and rooms that expire (board_rooms.go).
// It is safe for concurrent use.
type board struct {
	keepAlive  time.Duration
	now        func() time.Time
	secretSum  [sha256.Size]byte // of the admin secret, compared in constant time
	hasSecret  bool
	maxBody    int64
	maxPayload int
	maxRooms   int
	roomsPer   int   // rooms per creating address; 0 => no cap
	maxBytes   int64 // 0 => no budget
	roomTTL    time.Duration
	maxStreams int
	perAddr    int
	trustProxy bool
	rate       *boardRateLimiter // writes; nil when not limited
	reads      *boardRateLimiter // reads; nil when not limited
	stats      boardStats
	// Open streams, counted so that a shutdown can wait for those on
	// hijacked connections, which net/http no longer knows. Only
	// subscribe adds, under mu and before Close, so Wait (after Close)
	// never races an Add.
	streams sync.WaitGroup

	web http.Handler // the web client, at every path not ending in .json

	// mu guards everything below. It is never held while writing to the
	// network: events are encoded under it and handed to per-stream queues.
	mu          sync.Mutex
	root        any                       // the whole tree; nil when empty
	subs        boardSubs                 // open streams by location
	live        map[*boardStream]struct{} // every stream until its handler is done
	addrStreams map[string]int            // open streams by client address
	rooms       boardRooms
	pushIDs     boardPushIDs
	closed      bool // no new streams once Close has run
}

// newBoard returns an empty board. It starts nothing: serveBoard runs the
// room expiry and the log.
func newBoard(opts boardOptions) *board {
	b := &board{
		keepAlive:   cmp.Or(opts.keepAlive, boardDefaultKeepAlive),
		now:         opts.now,
		hasSecret:   opts.secret != "",
		secretSum:   sha256.Sum256([]byte(opts.secret)),
		maxBody:     boardLimit(opts.maxBody, boardDefaultMaxBody),
		maxPayload:  boardLimit(opts.maxPayload, boardDefaultMaxPayload),
		maxRooms:    boardLimit(opts.maxRooms, boardDefaultMaxRooms),
		roomsPer:    boardLimit(opts.maxRoomsPerAddr, boardDefaultMaxRoomsPerAddr),
		maxBytes:    boardLimit(opts.maxBytes, boardDefaultMaxBytes),
		roomTTL:     boardLimit(opts.roomTTL, boardDefaultRoomTTL),
		maxStreams:  boardLimit(opts.maxStreams, boardDefaultMaxStreams),
		perAddr:     boardLimit(opts.maxStreamsPerAddr, boardDefaultMaxStreamsPerAddr),
		trustProxy:  opts.trustProxy,
		addrStreams: make(map[string]int),
		live:        make(map[*boardStream]struct{}),
		web:         webClient(),
	}
	if b.now == nil {
		b.now = time.Now
	}
	if b.maxBody == 0 {
		b.maxBody = math.MaxInt64 - 1 // "off" still needs a number for MaxBytesReader
	}
	b.rate = newBoardLimiterOption(opts.writeRate, boardDefaultWriteRate, opts.writeBurst, boardDefaultWriteBurst, "writes")
	b.reads = newBoardLimiterOption(opts.readRate, boardDefaultReadRate, opts.readBurst, boardDefaultReadBurst, "reads")
	return b
}

// newBoardLimiterOption resolves a rate and burst pair of options into a
// limiter, or nil when either is off.
func newBoardLimiterOption(rate, defRate float64, burst, defBurst int, what string) *boardRateLimiter {
	rate, burst = boardLimit(rate, defRate), boardLimit(burst, defBurst)
	if rate <= 0 || burst <= 0 {
		return nil
	}
	return newBoardRateLimiter(rate, burst, what)
}

// ServeHTTP answers one REST request, serves one event stream, or serves
// the web client.
func (b *board) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.stats.requests.Add(1)
	if isWebClientPath(r) {
		b.web.ServeHTTP(w, r)
		return
	}
	allowCrossOrigin(w.Header())
	if r.Method == http.MethodOptions {
		answerPreflight(w, r)
		return
	}
	req, err := b.admit(w, r)
	if err != nil {
		b.fail(w, err)
		return
	}
	switch {
	case req.stream:
		b.serveStream(w, r, req)
	case req.method == http.MethodGet:
		b.respond(w, req, b.read(req))
	default:
		b.respond(w, req, b.write(req))
	}
}

// admit parses and validates r completely and applies every check that
// does not need the tree, cheapest first, so that a refused request costs
// little: the location, method and options, then who the client is, the
// access rules, the write rate, and only then the body. Checks that need
// the current value (write-once, the room cap, if-match) run in write,
// under the lock.
func (b *board) admit(w http.ResponseWriter, r *http.Request) (*boardRequest, error) {
	req, err := b.parseHead(r)
	if err != nil {
		return nil, err
	}
	req.addr = b.clientAddr(r)
	if err := b.authenticate(req, r); err != nil {
		return nil, err
	}
	if !req.admin {
		if err := boardAnonymousAccess(req); err != nil {
			return nil, err
		}
		if err := b.charge(req); err != nil {
			return nil, err
		}
	}
	maxBody := b.maxBody
	if req.admin {
		// The admin is trusted, and seeding or restoring a board takes
		// big writes: Firebase's own cap for a REST write.
		maxBody = boardAdminMaxBody
	}
	if err := b.parseBody(w, r, req, maxBody); err != nil {
		return nil, err
	}
	return req, nil
}

// charge takes an anonymous request's cost from its address's budget: a
// write costs a write; a read, stream or not, costs one read of a room that
// exists and boardMissCost reads of one that does not, so that following
// a room is cheap and guessing codes is slow.
func (b *board) charge(req *boardRequest) error {
	if req.method != http.MethodGet {
		if b.rate == nil {
			return nil
		}
		return b.rate.allow(req.addr, b.now(), 1)
	}
	if b.reads == nil {
		return nil
	}
	cost := 1.0
	if !b.roomHeld(req.path[1]) { // boardAnonymousAccess saw to the path
		cost = boardMissCost
	}
	return b.reads.allow(req.addr, b.now(), cost)
}

func (b *board) roomHeld(code string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, held := b.rooms.byCode[code]
	return held
}

// authenticate makes req an admin request when it carries the admin
// secret. A wrong secret is refused rather than treated as anonymous, as
// Firebase does, and costs a write from the address's budget, so guessing
// is as slow as writing.
func (b *board) authenticate(req *boardRequest, r *http.Request) error {
	auth, given := req.query["auth"]
	if !given {
		return nil
	}
	sum := sha256.Sum256([]byte(auth[0]))
	if b.hasSecret && subtle.ConstantTimeCompare(sum[:], b.secretSum[:]) == 1 {
		req.admin = true
		return nil
	}
	if b.rate != nil {
		if err := b.rate.allow(req.addr, b.now(), 1); err != nil {
			return err
		}
	}
	return boardErrorf(http.StatusUnauthorized, boardErrBadAuth)
}

// Close ends every open stream, after the events already queued for it,
// and refuses new ones, so that a graceful HTTP shutdown is not held up by
// clients that never hang up. Plain requests are still answered. Close is
// idempotent.
func (b *board) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for _, s := range b.subs.collect(nil) {
		b.endLocked(s, nil)
	}
}

// newBoardHTTPServer returns the http.Server that serveBoard runs. Streams
// are long-lived, so there is no WriteTimeout; each stream bounds its own
// writes instead. ReadTimeout only covers reading the request: net/http
// clears the read deadline once the body is consumed, so it does not end
// streams (TestBoardStreamOutlivesReadTimeout keeps that true).
func newBoardHTTPServer(b *board, opts boardOptions) *http.Server {
	return &http.Server{
		Handler:           b,
		ReadHeaderTimeout: boardLimit(opts.headerTimeout, boardDefaultHeaderTimeout),
		ReadTimeout:       boardLimit(opts.readTimeout, boardDefaultReadTimeout),
		IdleTimeout:       boardLimit(opts.idleTimeout, boardDefaultIdleTimeout), // short: a client's idle connection holds one of its few places
		MaxHeaderBytes:    boardMaxHeaderBytes,
		ErrorLog:          log.New(&b.stats.serverErrors, "", 0),
	}
}

// serveBoard serves b on ln until ctx is done, then shuts down gracefully:
// it closes b's streams, stops accepting, and gives in-flight requests a few
// seconds before closing their connections. With a certificate in tlsCfg
// it serves HTTPS. Meanwhile it expires rooms and, when opts.logw is set,
// logs counts there. It returns nil after a clean shutdown.
func serveBoard(ctx context.Context, ln net.Listener, b *board, opts boardOptions, tlsCfg *tls.Config) error {
	// The log counts from here, before the first request can arrive: a
	// snapshot taken later, by the log's goroutine, could already count
	// some and never report them.
	logFrom := b.snapshot()
	ln = newBoardListener(ln, boardLimit(opts.maxConnsPerAddr, boardDefaultMaxConnsPerAddr), opts.trustProxy, &b.stats.connsRefused)
	srv := newBoardHTTPServer(b, opts)
	srv.TLSConfig = tlsCfg
	served := make(chan error, 1)
	go func() {
		if tlsCfg != nil {
			served <- srv.ServeTLS(ln, "", "")
		} else {
			served <- srv.Serve(ln)
		}
	}()
	// The background work outlives ctx until the shutdown is over, so the
	// last log line counts everything.
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var background sync.WaitGroup
	background.Go(func() { b.runExpiry(bgCtx) })
	if opts.logw != nil {
		background.Go(func() { b.runLog(bgCtx, opts.logw, boardLogEvery, logFrom) })
	}
	defer func() {
		stopBackground()
		background.Wait()
	}()
	select {
	case err := <-served:
		b.abortAll()
		b.streams.Wait()
		return fmt.Errorf("board: serve: %w", err)
	case <-ctx.Done():
	}
	b.Close()
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), boardShutdownGrace)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if err != nil {
		_ = srv.Close()
		err = fmt.Errorf("board: shutdown: %w", err)
	}
	<-served
	// Shutdown does not know the hijacked connections of streams. Close
	// has asked them to end; those still writing when the grace is over
	// are cut.
	streamsDone := make(chan struct{})
	go func() {
		b.streams.Wait()
		close(streamsDone)
	}()
	select {
	case <-streamsDone:
	case <-shutdownCtx.Done():
		b.abortAll()
		<-streamsDone
	}
	return err
}

// boardHTTPError is a failure with the status and text to answer it with.
type boardHTTPError struct {
	status int
	text   string
	header http.Header // extra response headers, such as Retry-After
}

func (e *boardHTTPError) Error() string { return e.text }

func boardErrorf(status int, format string, args ...any) error {
	return &boardHTTPError{status: status, text: fmt.Sprintf(format, args...)}
}

// boardChange sets one location to one value (nil deletes).
type boardChange struct {
	key   string   // as the client wrote it (PATCH only), for the reply
	rel   []string // location relative to the request's location
	value any      // normalized
}

// boardRequest is a request after parsing and validation; nothing in it
// needs the tree.
type boardRequest struct {
	method   string // after X-HTTP-Method-Override
	path     []string
	query    url.Values
	addr     string // the client's address, for per-address limits
	admin    bool   // carries the admin secret: no rules, no per-address limits
	stream   bool
	shallow  bool
	silent   bool
	pretty   bool
	wantETag bool
	ifMatch  string      // "" when absent
	filter   *boardQuery // orderBy and its companions; nil when absent
	// claim asks to own the room the write's offer creates; roomToken is
	// the token of an owned room (board_rules.go, checkOwner).
	claim     bool
	roomToken string

	// For writes: what to set, the event data a stream at path receives,
	// and the reply body (POST builds its own).
	changes []boardChange
	data    []byte
	reply   []byte
}

// parseHead validates everything but the body.
func (b *board) parseHead(r *http.Request) (*boardRequest, error) {
	path, err := boardParsePath(r.URL.EscapedPath())
	if err != nil {
		return nil, err
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, boardErrorf(http.StatusBadRequest, "Invalid query string")
	}
	method, err := boardMethod(r, query)
	if err != nil {
		return nil, err
	}
	req := &boardRequest{method: method, path: path, query: query}
	if err := req.parseOptions(r); err != nil {
		return nil, err
	}
	return req, nil
}

// parseBody reads, validates and normalizes a write's body.
func (b *board) parseBody(w http.ResponseWriter, r *http.Request, req *boardRequest, maxBody int64) error {
	switch req.method {
	case http.MethodPut, http.MethodPost, http.MethodPatch:
		v, err := boardReadJSON(w, r, maxBody)
		if err != nil {
			return err
		}
		return req.setBody(v, b.now().UnixMilli())
	case http.MethodDelete:
		req.changes = []boardChange{{}}
		req.data = []byte("null")
		req.reply = req.data
	}
	return nil
}

// boardParsePath turns "/a/b%20c.json" into ["a", "b c"].
func boardParsePath(escaped string) ([]string, error) {
	trimmed, ok := strings.CutSuffix(escaped, ".json")
	if !ok {
		return nil, boardErrorf(http.StatusNotFound, boardErrNeedsJSON)
	}
	var path []string
	for seg := range strings.SplitSeq(trimmed, "/") {
		if seg == "" {
			continue
		}
		key, err := url.PathUnescape(seg)
		if err != nil {
			return nil, boardErrorf(http.StatusBadRequest, "Invalid path: bad percent-encoding")
		}
		if err := treeCheckKey(key); err != nil {
			return nil, boardErrorf(http.StatusBadRequest, "Invalid path: %v", err)
		}
		path = append(path, key)
	}
	if len(path) > treeMaxDepth {
		return nil, boardErrorf(http.StatusBadRequest, "Invalid path: %v", errTreeTooDeep)
	}
	return path, nil
}

// boardMethod returns the effective method: a POST may carry another one
// in X-HTTP-Method-Override (header or query), for clients that can only
// send GET and POST.
func boardMethod(r *http.Request, query url.Values) (string, error) {
	method := r.Method
	if method == http.MethodPost {
		override := r.Header.Get("X-HTTP-Method-Override")
		if override == "" {
			override = query.Get("x-http-method-override")
		}
		if override != "" {
			method = strings.ToUpper(override)
		}
	}
	switch method {
	case http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodPost, http.MethodDelete:
		return method, nil
	}
	return "", boardErrorf(http.StatusMethodNotAllowed, "Method not allowed")
}

// parseOptions reads the query parameters and headers that change how a
// request is answered.
func (req *boardRequest) parseOptions(r *http.Request) error {
	q := req.query
	switch q.Get("print") {
	case "":
	case "pretty":
		req.pretty = true
	case "silent":
		req.silent = true
	default:
		return boardErrorf(http.StatusBadRequest, `print must be "pretty" or "silent"`)
	}
	switch q.Get("shallow") {
	case "", "false":
	case "true":
		req.shallow = true
	default:
		return boardErrorf(http.StatusBadRequest, `shallow must be "true" or "false"`)
	}
	accept := strings.ToLower(strings.Join(r.Header.Values("Accept"), ","))
	req.stream = req.method == http.MethodGet && strings.Contains(accept, "text/event-stream")
	if req.shallow && (req.method != http.MethodGet || req.stream) {
		return boardErrorf(http.StatusBadRequest, "shallow is only supported for a plain GET")
	}
	var err error
	if req.filter, err = boardParseQuery(q, req.path); err != nil {
		return err
	}
	if req.filter != nil {
		switch {
		case req.method != http.MethodGet:
			return boardErrorf(http.StatusBadRequest, "orderBy is only supported for a GET")
		case req.stream:
			return boardErrorf(http.StatusBadRequest, "orderBy is not supported on streams by this board; GET the query instead")
		case req.shallow:
			return boardErrorf(http.StatusBadRequest, "shallow cannot be used with orderBy and its companions")
		}
	}
	req.wantETag = strings.EqualFold(r.Header.Get("X-Firebase-ETag"), "true")
	req.claim = r.Header.Get(roomClaimHeader) != ""
	req.roomToken = r.Header.Get(roomTokenHeader)
	req.ifMatch = r.Header.Get("If-Match")
	if req.ifMatch != "" && req.method != http.MethodPut && req.method != http.MethodDelete {
		return boardErrorf(http.StatusBadRequest, "if-match is only supported for PUT and DELETE")
	}
	return nil
}

// boardReadJSON reads and decodes a body of at most maxBody bytes.
func boardReadJSON(w http.ResponseWriter, r *http.Request, maxBody int64) (any, error) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, boardErrorf(http.StatusRequestEntityTooLarge,
				"Request body too large; the limit is %d bytes.", maxBody)
		}
		return nil, boardErrorf(http.StatusBadRequest, "Invalid data; couldn't read the request body.")
	}
	v, err := treeDecode(raw)
	if err != nil || len(bytes.TrimSpace(raw)) == 0 {
		return nil, boardErrorf(http.StatusBadRequest, boardErrBadJSON)
	}
	return v, nil
}

// setBody validates and normalizes a decoded PUT, POST or PATCH body,
// resolving server values with the clock reading ms.
func (req *boardRequest) setBody(v any, ms int64) error {
	if req.method == http.MethodPatch {
		return req.setPatch(v, ms)
	}
	depth := len(req.path)
	if req.method == http.MethodPost {
		depth++ // the push id
	}
	if depth > treeMaxDepth {
		return boardErrorf(http.StatusBadRequest, "Invalid path: %v", errTreeTooDeep)
	}
	value, err := treeNormalize(v, depth, boardServerValues(ms))
	if err != nil {
		return boardInvalidData(err)
	}
	data, err := treeEncode(value)
	if err != nil {
		return err
	}
	req.changes = []boardChange{{value: value}}
	req.data = data
	req.reply = data
	return nil
}

// setPatch validates a PATCH body: an object whose keys are child paths.
// Overlapping paths are refused so that the children are independent and
// their order does not matter.
func (req *boardRequest) setPatch(v any, ms int64) error {
	m, ok := v.(map[string]any)
	if !ok {
		return boardErrorf(http.StatusBadRequest, "Invalid data; a PATCH body must be a JSON object.")
	}
	changes := make([]boardChange, 0, len(m))
	for key, child := range m {
		rel, err := boardSplitKeyPath(key, len(req.path))
		if err != nil {
			return err
		}
		value, err := treeNormalize(child, len(req.path)+len(rel), boardServerValues(ms))
		if err != nil {
			return boardInvalidData(err)
		}
		changes = append(changes, boardChange{key: key, rel: rel, value: value})
	}
	slices.SortFunc(changes, func(a, b boardChange) int { return slices.Compare(a.rel, b.rel) })
	for i := 1; i < len(changes); i++ {
		// Sorted segment-wise, a path's descendants follow it directly.
		if treeHasPrefix(changes[i].rel, changes[i-1].rel) {
			return boardErrorf(http.StatusBadRequest, "Invalid data; PATCH paths must not overlap.")
		}
	}
	children := make(map[string]any, len(changes))
	echo := make(map[string]any, len(changes))
	for _, c := range changes {
		children[strings.Join(c.rel, "/")] = c.value
		echo[c.key] = c.value
	}
	var err error
	if req.data, err = treeEncode(children); err != nil {
		return err
	}
	if req.reply, err = treeEncode(echo); err != nil {
		return err
	}
	req.changes = changes
	return nil
}

// boardSplitKeyPath splits a PATCH key such as "A1B2C3/offer" whose
// location lies base levels deep.
func boardSplitKeyPath(key string, base int) ([]string, error) {
	rel, err := treeSplitPath(key)
	switch {
	case err != nil:
		return nil, boardInvalidData(err)
	case len(rel) == 0:
		return nil, boardErrorf(http.StatusBadRequest, "Invalid data; a PATCH key must name a child location.")
	case base+len(rel) > treeMaxDepth:
		return nil, boardInvalidData(errTreeTooDeep)
	}
	return rel, nil
}

// boardInvalidData answers a body the data model refuses.
func boardInvalidData(err error) error {
	if errors.Is(err, errTreeNotJSON) {
		return boardErrorf(http.StatusBadRequest, boardErrBadJSON)
	}
	return boardErrorf(http.StatusBadRequest, "Invalid data; %v.", err)
}

// boardServerValues resolves {".sv": "timestamp"}, the only server value,
// to the clock reading ms.
func boardServerValues(ms int64) treeResolver {
	return func(sv any) (any, error) {
		if sv != "timestamp" {
			return nil, errTreeServerValue
		}
		return json.Number(strconv.FormatInt(ms, 10)), nil
	}
}

// boardResponse is a non-stream answer, built under the lock and written
// after it is released.
type boardResponse struct {
	status int
	body   []byte
	etag   string      // "" for no ETag header
	header http.Header // extra headers, for errors
}

// read answers a GET.
func (b *board) read(req *boardRequest) boardResponse {
	b.mu.Lock()
	v := treeGet(b.root, req.path)
	if req.filter != nil {
		v = req.filter.apply(v)
	}
	if req.shallow {
		v = treeShallow(v)
	}
	// Encoding under the lock is what makes v safe to read: writers
	// change the tree's maps in place.
	body, err := treeEncode(v)
	var full []byte
	if err == nil && req.wantETag {
		full, err = treeEncode(treeGet(b.root, req.path))
	}
	b.mu.Unlock()
	if err != nil {
		return boardErrorResponse(err)
	}
	resp := boardResponse{status: http.StatusOK, body: body}
	if req.wantETag {
		resp.etag = boardETag(full)
	}
	return resp
}

// write answers a PUT, POST, PATCH or DELETE: it checks if-match and the
// rules that need the current value, applies the change and queues the
// resulting events, all in one critical section so that every stream sees
// writes in the order they were applied.
func (b *board) write(req *boardRequest) boardResponse {
	b.stats.writes.Add(1)
	b.mu.Lock()
	defer b.mu.Unlock()
	if req.ifMatch != "" {
		cur, err := treeEncode(treeGet(b.root, req.path))
		if err != nil {
			return boardErrorResponse(err)
		}
		if tag := boardETag(cur); tag != req.ifMatch {
			return boardResponse{status: http.StatusPreconditionFailed, body: cur, etag: tag}
		}
	}
	wr := boardWrite{patch: req.method == http.MethodPatch, at: req.path, changes: req.changes, data: req.data}
	if !req.admin {
		wr.by = req.addr
	}
	resp := boardResponse{status: http.StatusOK, body: req.reply}
	if req.method == http.MethodPost {
		id := b.pushIDs.next(b.now().UnixMilli())
		wr.at = append(slices.Clip(req.path), id)
		var err error
		if resp.body, err = treeEncode(map[string]string{"name": id}); err != nil {
			return boardErrorResponse(err)
		}
	}
	if err := b.checkWriteLocked(req, wr); err != nil {
		return boardErrorResponse(err)
	}
	hadOffer := len(wr.at) >= 2 && treeGet(b.root, []string{wr.at[0], wr.at[1], pypeerOffer}) != nil
	if err := b.applyLocked(wr); err != nil {
		return boardErrorResponse(err)
	}
	if token := b.claimLocked(req, wr, hadOffer); token != "" {
		resp.header = http.Header{roomTokenHeader: {token}}
	}
	if req.wantETag {
		cur, err := treeEncode(treeGet(b.root, req.path))
		if err != nil {
			return boardErrorResponse(err)
		}
		resp.etag = boardETag(cur)
	}
	return resp
}

// applyLocked applies wr to the tree, queues its events, and keeps the
// room records in step.
func (b *board) applyLocked(wr boardWrite) error {
	deliveries, err := b.planLocked(wr)
	if err != nil {
		return err
	}
	for _, c := range wr.changes {
		b.root = treeSet(b.root, slices.Concat(wr.at, c.rel), c.value)
	}
	for _, d := range deliveries {
		b.sendLocked(d.stream, d.frame)
	}
	b.trackRoomsLocked(wr)
	return nil
}

// respond writes resp, honouring print=silent and print=pretty.
func (b *board) respond(w http.ResponseWriter, req *boardRequest, resp boardResponse) {
	b.stats.count(resp.status)
	if resp.etag != "" {
		w.Header().Set("ETag", resp.etag)
	}
	if resp.status != http.StatusOK {
		boardWriteJSON(w, resp.status, resp.header, resp.body)
		return
	}
	if req.silent && req.method != http.MethodDelete {
		maps.Copy(w.Header(), resp.header)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	body := resp.body
	if req.pretty {
		var buf bytes.Buffer
		if json.Indent(&buf, body, "", "  ") == nil {
			body = buf.Bytes()
		}
	}
	boardWriteJSON(w, resp.status, resp.header, body)
}

// fail answers a request refused before it reached the tree.
func (b *board) fail(w http.ResponseWriter, err error) {
	resp := boardErrorResponse(err)
	b.stats.count(resp.status)
	if resp.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", boardAllowedMethod)
	}
	boardWriteJSON(w, resp.status, resp.header, resp.body)
}

func boardWriteJSON(w http.ResponseWriter, status int, extra http.Header, body []byte) {
	h := w.Header()
	for k, v := range extra {
		h[k] = v
	}
	h.Set("Content-Type", boardJSONType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// boardErrorResponse turns err into a Firebase-style error answer; errors
// that are not a boardHTTPError are internal.
func boardErrorResponse(err error) boardResponse {
	he, ok := errors.AsType[*boardHTTPError](err)
	if !ok {
		he = &boardHTTPError{status: http.StatusInternalServerError, text: "Internal error"}
	}
	body, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{he.text})
	return boardResponse{status: he.status, body: body, header: he.header}
}

// boardETag identifies an encoded value; equal values get equal tags
// because map keys are encoded in sorted order.
func boardETag(encoded []byte) string {
	if string(encoded) == "null" {
		return boardNullETag
	}
	sum := sha256.Sum256(encoded)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// boardPushIDs makes Firebase-style push ids: 8 characters of
// milliseconds then 12 random ones, in an alphabet whose byte order is its
// digit order. Within one millisecond (or when the clock goes back) the
// random part counts up, so ids from one board sort in creation order.
type boardPushIDs struct {
	used     bool
	lastMs   int64
	lastRand [12]byte // digits, 0-63
}

func (g *boardPushIDs) next(ms int64) string {
	ms = max(ms, 0)
	switch {
	case !g.used || ms > g.lastMs:
		g.randomize()
	case g.increment():
		ms = g.lastMs
	default: // 64^12 ids in one millisecond: borrow the next one
		ms = g.lastMs + 1
		g.randomize()
	}
	g.used, g.lastMs = true, ms
	var id [20]byte
	for i := 7; i >= 0; i-- {
		id[i] = boardPushAlphabet[ms%64]
		ms /= 64
	}
	for i, d := range g.lastRand {
		id[8+i] = boardPushAlphabet[d]
	}
	return string(id[:])
}

func (g *boardPushIDs) randomize() {
	_, _ = rand.Read(g.lastRand[:]) // never fails; see crypto/rand.Read
	for i := range g.lastRand {
		g.lastRand[i] &= 63
	}
}

// increment adds one to the random part; false when it wraps.
func (g *boardPushIDs) increment() bool {
	for i := len(g.lastRand) - 1; i >= 0; i-- {
		if g.lastRand[i] < 63 {
			g.lastRand[i]++
			return true
		}
		g.lastRand[i] = 0
	}
	return false
}

// boardStream is one open event stream. Its queue is a slice that grows
// only while events wait, so an idle stream costs no buffer.
type boardStream struct {
	path  []string
	addr  string        // counted against this address's streams; "" for admin
	wake  chan struct{} // capacity 1: something was queued
	abort chan struct{} // closed to end the stream at once

	mu      sync.Mutex
	pending [][]byte // encoded SSE frames, in write order
	bytes   int      // in pending
	ended   bool     // nothing more will be queued: send pending, then end

	// Guarded by board.mu.
	dropped bool   // no longer in board.subs
	aborted bool   // abort is closed
	cut     func() // closes a hijacked connection; nil otherwise
}

// boardSubs is a trie of open streams by location, so that a write finds
// the streams above and below it without scanning every stream.
type boardSubs struct {
	streams  map[*boardStream]struct{}
	children map[string]*boardSubs
}

func (n *boardSubs) add(path []string, s *boardStream) {
	for _, k := range path {
		if n.children == nil {
			n.children = make(map[string]*boardSubs)
		}
		c := n.children[k]
		if c == nil {
			c = &boardSubs{}
			n.children[k] = c
		}
		n = c
	}
	if n.streams == nil {
		n.streams = make(map[*boardStream]struct{})
	}
	n.streams[s] = struct{}{}
}

// remove deletes s at path and prunes nodes left empty; it reports whether
// n itself is now empty.
func (n *boardSubs) remove(path []string, s *boardStream) bool {
	if len(path) == 0 {
		delete(n.streams, s)
	} else if c := n.children[path[0]]; c != nil && c.remove(path[1:], s) {
		delete(n.children, path[0])
	}
	return len(n.streams) == 0 && len(n.children) == 0
}

// collect appends every stream at or below n to dst.
func (n *boardSubs) collect(dst []*boardStream) []*boardStream {
	for s := range n.streams {
		dst = append(dst, s)
	}
	for _, c := range n.children {
		dst = c.collect(dst)
	}
	return dst
}

// eachBelow calls fn for every node strictly below n that has streams,
// with its location relative to n. fn must not keep rel.
func (n *boardSubs) eachBelow(rel []string, fn func(rel []string, node *boardSubs) error) error {
	for k, c := range n.children {
		crel := append(rel[:len(rel):len(rel)], k)
		if len(c.streams) > 0 {
			if err := fn(crel, c); err != nil {
				return err
			}
		}
		if err := c.eachBelow(crel, fn); err != nil {
			return err
		}
	}
	return nil
}

// node returns the trie node at path, or nil.
func (n *boardSubs) node(path []string) *boardSubs {
	for _, k := range path {
		if n = n.children[k]; n == nil {
			return nil
		}
	}
	return n
}

// subscribe registers a stream for req and returns it with its first
// event: a put of the current value. It enforces the stream caps.
func (b *board) subscribe(req *boardRequest) (*boardStream, []byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, nil, boardErrorf(http.StatusServiceUnavailable, boardErrClosed)
	}
	if b.maxStreams > 0 && len(b.live) >= b.maxStreams {
		return nil, nil, boardRetryLater(http.StatusServiceUnavailable, boardRetrySoon,
			"Service unavailable: the board is full, with its maximum of %d streams open", b.maxStreams)
	}
	addr := ""
	if !req.admin {
		addr = req.addr
		if b.perAddr > 0 && b.addrStreams[addr] >= b.perAddr {
			return nil, nil, boardRetryLater(http.StatusTooManyRequests, boardRetrySoon,
				"Too many requests: at most %d streams may be open from one address", b.perAddr)
		}
	}
	data, err := treeEncode(treeGet(b.root, req.path))
	if err != nil {
		return nil, nil, err
	}
	s := &boardStream{
		path:  req.path,
		addr:  addr,
		wake:  make(chan struct{}, 1),
		abort: make(chan struct{}),
	}
	b.subs.add(req.path, s)
	b.streams.Add(1)
	b.live[s] = struct{}{}
	if addr != "" {
		b.addrStreams[addr]++
	}
	b.stats.streamsOpened.Add(1)
	return s, boardFrame("put", nil, data), nil
}

// unsubscribe forgets s once its handler has returned.
func (b *board) unsubscribe(s *boardStream) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.removeLocked(s)
	delete(b.live, s)
	b.streams.Done()
	if s.addr != "" {
		if b.addrStreams[s.addr]--; b.addrStreams[s.addr] <= 0 {
			delete(b.addrStreams, s.addr)
		}
	}
}

// removeLocked takes s out of the trie: it gets no more events.
func (b *board) removeLocked(s *boardStream) bool {
	if s.dropped {
		return false
	}
	s.dropped = true
	b.subs.remove(s.path, s)
	return true
}

// dropLocked ends s at once, discarding what is queued: for a client too
// slow to keep up.
func (b *board) dropLocked(s *boardStream) {
	b.removeLocked(s)
	b.abortLocked(s)
}

// abortLocked stops s's handler, even one blocked writing to its client.
func (b *board) abortLocked(s *boardStream) {
	if s.aborted {
		return
	}
	s.aborted = true
	close(s.abort)
	if s.cut != nil {
		s.cut()
	}
}

// setCut gives s a way to close its hijacked connection.
func (b *board) setCut(s *boardStream, cut func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s.cut = cut
	if s.aborted {
		cut()
	}
}

// abortAll stops every stream at once: for a shutdown whose grace is
// over.
func (b *board) abortAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for s := range b.live {
		b.removeLocked(s)
		b.abortLocked(s)
	}
}

// endLocked ends s cleanly: it sends what is queued, then final (if not
// nil), then the response ends.
func (b *board) endLocked(s *boardStream, final []byte) {
	if !b.removeLocked(s) {
		return
	}
	s.mu.Lock()
	if final != nil {
		s.pending = append(s.pending, final)
	}
	s.ended = true
	s.mu.Unlock()
	s.signal()
}

func (s *boardStream) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// sendLocked queues frame for s without blocking; a stream whose queue is
// full is dropped so its client reconnects and starts afresh.
func (b *board) sendLocked(s *boardStream, frame []byte) {
	s.mu.Lock()
	full := len(s.pending) >= boardStreamQueueLen ||
		(s.bytes > 0 && s.bytes+len(frame) > boardStreamQueueBytes)
	if !full {
		s.pending = append(s.pending, frame)
		s.bytes += len(frame)
	}
	s.mu.Unlock()
	if full {
		b.dropLocked(s)
		return
	}
	s.signal()
}

// take empties s's queue.
func (s *boardStream) take() (frames [][]byte, ended bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	frames, s.pending, s.bytes = s.pending, nil, 0
	return frames, s.ended
}

// boardFrame encodes one SSE event: event: NAME, data: {"path":..,"data":..}.
func boardFrame(name string, rel []string, data []byte) []byte {
	path, _ := treeEncode("/" + strings.Join(rel, "/")) // a string always encodes
	var buf bytes.Buffer
	buf.Grow(len(name) + len(path) + len(data) + 40)
	buf.WriteString("event: ")
	buf.WriteString(name)
	buf.WriteString("\ndata: {\"path\":")
	buf.Write(path)
	buf.WriteString(",\"data\":")
	buf.Write(data)
	buf.WriteString("}\n\n")
	return buf.Bytes()
}

// boardWrite is one validated write: changes relative to at.
type boardWrite struct {
	patch   bool
	at      []string
	changes []boardChange // a put has exactly one, with an empty rel
	data    []byte        // event data for a stream at at
	by      string        // the anonymous writer's address; "" for the admin and the board
}

// boardDelivery is one frame for one stream.
type boardDelivery struct {
	stream *boardStream
	frame  []byte
}

// planLocked computes, before wr is applied, the event each affected
// stream must get so that a client applying it ends with the new value at
// its location. A stream gets nothing when its value does not change.
func (b *board) planLocked(wr boardWrite) ([]boardDelivery, error) {
	base := treeGet(b.root, wr.at)
	changed := make([]bool, len(wr.changes))
	anyChanged := false
	for i, c := range wr.changes {
		changed[i] = !treeEqual(treeGet(base, c.rel), c.value)
		anyChanged = anyChanged || changed[i]
	}
	if !anyChanged {
		return nil, nil
	}
	name := "put"
	if wr.patch {
		name = "patch"
	}
	// Streams at or above the write see the write itself, at its
	// location relative to theirs.
	var out []boardDelivery
	n := &b.subs
	for depth := 0; ; depth++ {
		if len(n.streams) > 0 {
			frame := boardFrame(name, wr.at[depth:], wr.data)
			for s := range n.streams {
				out = append(out, boardDelivery{s, frame})
			}
		}
		if depth == len(wr.at) {
			break
		}
		if n = n.children[wr.at[depth]]; n == nil {
			return out, nil
		}
	}
	// Streams below the write see only what changes at their location.
	err := n.eachBelow(nil, func(rel []string, node *boardSubs) error {
		frame, err := boardFrameBelow(wr, changed, base, rel)
		if frame == nil || err != nil {
			return err
		}
		for s := range node.streams {
			out = append(out, boardDelivery{s, frame})
		}
		return nil
	})
	return out, err
}

// boardFrameBelow returns the event for a stream at rel below wr's
// location, whose current value there is within base; nil when its value
// does not change. A change at or above the stream replaces its value; for
// changes inside it the stream gets a patch of just those.
func boardFrameBelow(wr boardWrite, changed []bool, base any, rel []string) ([]byte, error) {
	for _, c := range wr.changes {
		if !treeHasPrefix(rel, c.rel) {
			continue
		}
		newValue := treeGet(c.value, rel[len(c.rel):])
		if treeEqual(treeGet(base, rel), newValue) {
			return nil, nil
		}
		data, err := treeEncode(newValue)
		if err != nil {
			return nil, err
		}
		return boardFrame("put", nil, data), nil
	}
	children := make(map[string]any)
	touched := false
	for i, c := range wr.changes {
		if len(c.rel) > len(rel) && treeHasPrefix(c.rel, rel) {
			children[strings.Join(c.rel[len(rel):], "/")] = c.value
			touched = touched || changed[i]
		}
	}
	if !touched {
		return nil, nil
	}
	data, err := treeEncode(children)
	if err != nil {
		return nil, err
	}
	return boardFrame("patch", nil, data), nil
}
