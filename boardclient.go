package main

// This file is the board client: it talks to "the board", a Firebase
// Realtime Database reached over its REST API, or gopeer's own server
// speaking the same API (docs/PROTOCOL.md: "The board", "Streaming",
// "Firebase facts"). It reads and writes values at paths such as
// rooms/ABC123/offer, and follows a path as a server-sent event stream,
// keeping a local copy of it in the shared data model (boardtree.go).

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

const (
	// streamMaxLine bounds one SSE line and one event's data. Room values
	// are a few kilobytes of sealed SDP, so a megabyte is generous while
	// still stopping a hostile or broken board from exhausting memory.
	streamMaxLine = 1 << 20

	// streamIdle is how long a stream may stay silent before it is presumed
	// dead. Firebase sends a keep-alive every 30 s and long streams can break
	// without a FIN, so two missed keep-alives plus slack mean "reconnect".
	streamIdle = 75 * time.Second

	// clientRequestTimeout bounds every non-stream request, so a wedged board
	// cannot hang the UI.
	clientRequestTimeout = 10 * time.Second

	// clientMaxResponse and clientMaxErrorBody bound how much of a response is
	// read: values are small, and error bodies are one short sentence.
	clientMaxResponse  = 1 << 20
	clientMaxErrorBody = 4 << 10

	// clientMaxMessage bounds the server text kept in a statusError, which
	// ends up on the user's terminal.
	clientMaxMessage = 200

	// clientMaxPatchKeys bounds the children one patch event may set. A
	// room has two; the widest patch a board sends a room's stream is a
	// few. A hostile board's 40,000-key patch is refused, not applied.
	clientMaxPatchKeys = 1000

	// clientMaxRedirects bounds redirects: Firebase redirects a stream once,
	// to the database's current host; a chain means something is wrong.
	clientMaxRedirects = 5
)

var (
	// errStopWatch may be returned by a watch callback to end the watch
	// with a nil error once it has seen what it was waiting for.
	errStopWatch = errors.New("stop watching")

	// errStreamLineTooLong reports an SSE line or event beyond the limit.
	errStreamLineTooLong = errors.New("board stream line too long")

	// Reasons a stream ended; watch reconnects after each of them and
	// passes it to onReconnect.
	errStreamEnded       = errors.New("board closed the stream")
	errStreamIdle        = errors.New("board stream went silent")
	errStreamCancelled   = errors.New("board cancelled the stream")
	errStreamAuthRevoked = errors.New("board revoked the stream's credential")
	errStreamGarbled     = errors.New("board sent a malformed event")
	errStreamCut         = errors.New("board stream was cut")

	// errBoardNotStream means the board answered a stream request with
	// something other than an event stream: not a Firebase-compatible board.
	errBoardNotStream = errors.New("board did not answer with an event stream")

	// errBoardRedirect means a redirect was refused: too many, or one that
	// would send the credential in the query over plain http.
	errBoardRedirect = errors.New("board redirect refused")

	// errBoardPath means a path breaks the data model's key rule.
	errBoardPath = errors.New("invalid board path")

	// errBoardTooLarge means a response exceeded clientMaxResponse.
	errBoardTooLarge = errors.New("board response too large")
)

// boardClient talks to one board. It is safe for concurrent use: nothing in
// it changes after newBoardClient returns.
type boardClient struct {
	base     *url.URL   // scheme, host and path; never a query
	rawQuery string     // the base URL's query, sent with every request
	query    url.Values // rawQuery parsed, to restore it across redirects
	hc       *http.Client

	timeout   time.Duration // per non-stream request
	reconnect backoff       // between one stream and the next
}

// clientOptions tunes a board client; the zero value is the default.
type clientOptions struct {
	// http carries the requests. nil means clientHTTP(): timeouts on each
	// phase of connecting but none overall, which would cut streams.
	http      *http.Client
	timeout   time.Duration // per non-stream request; 0 means clientRequestTimeout
	reconnect backoff       // between streams; the zero value means boardBackoff
}

// newBoardClient checks and normalises base, an http or https URL whose
// query (for example "?auth=SECRET") is added to every request. Auth travels
// in the query rather than a header because Go drops Authorization on a
// redirect to another host, and Firebase redirects streams.
func newBoardClient(base string, opts clientOptions) (*boardClient, error) {
	u, err := clientParseBase(base)
	if err != nil {
		return nil, err
	}
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, clientBaseError(base, "its query string is malformed")
	}
	hc := cmp.Or(opts.http, clientHTTP())
	c := &boardClient{
		rawQuery:  u.RawQuery,
		query:     query,
		timeout:   cmp.Or(opts.timeout, clientRequestTimeout),
		reconnect: cmp.Or(opts.reconnect, boardBackoff),
	}
	u.RawQuery = ""
	c.base = u
	// A copy, so the caller's client keeps its own redirect policy.
	own := *hc
	own.CheckRedirect = c.checkRedirect(hc.CheckRedirect)
	c.hc = &own
	return c, nil
}

// clientParseBase parses and validates a board URL, stripping trailing
// slashes so paths can be appended with a single '/'.
func clientParseBase(base string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(base))
	switch {
	case err != nil:
		return nil, clientBaseError(base, "it does not parse")
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, clientBaseError(base, "the scheme must be http or https")
	case u.Opaque != "" || u.Hostname() == "":
		return nil, clientBaseError(base, "it has no host")
	case u.User != nil:
		return nil, clientBaseError(base, "credentials belong in the query (?auth=SECRET), not before the host")
	case strings.Contains(base, "#"):
		return nil, clientBaseError(base, "it has a #fragment")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// clientBaseError explains a rejected board URL without echoing its query,
// which may hold a secret.
func clientBaseError(base, why string) error {
	shown, _, _ := strings.Cut(strings.TrimSpace(base), "?")
	shown, _, _ = strings.Cut(shown, "#")
	if u, err := url.Parse(shown); err == nil && u.User != nil {
		u.User = nil
		shown = u.String()
	}
	return fmt.Errorf("invalid board URL %q: %s; want an http or https URL such as "+
		"https://NAME.firebaseio.com or http://127.0.0.1:8765, optionally with ?auth=SECRET", shown, why)
}

// clientHTTP bounds each phase of connecting so an unreachable
// board fails fast, but sets no overall Timeout because streams live for
// hours.
func clientHTTP() *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 15 * time.Second,
		ExpectContinueTimeout: time.Second,
	}}
}

// checkRedirect returns the redirect policy: a bounded chain, no downgrade
// from https to http (the query carries the credential), and the base
// query restored when the new Location dropped it. prev, the caller's own
// policy, still gets the last word.
func (c *boardClient) checkRedirect(prev func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) > clientMaxRedirects {
			return fmt.Errorf("%w: more than %d redirects", errBoardRedirect, clientMaxRedirects)
		}
		if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
			return fmt.Errorf("%w: from https to %s", errBoardRedirect, req.URL.Scheme)
		}
		if len(c.query) > 0 && !credentialMayFollow(c.base, req.URL) {
			return fmt.Errorf("%w: to %s, which would get the credential in -db's query; "+
				"only a redirect within %s, or over https to a sibling of it, is followed",
				errBoardRedirect, redactURL(req.URL), c.base.Host)
		}
		clientKeepQuery(req.URL, c.query)
		if prev != nil {
			return prev(req, via)
		}
		return nil
	}
}

// credentialMayFollow reports whether a client whose base URL carries a
// credential (a secret, a token) in its query may follow a redirect to
// target: within its own origin, or, from https, over https to a sibling
// host under the same parent domain, as Firebase redirects a stream from
// NAME.firebaseio.com to its database's current host. Never to plain http
// elsewhere, nor to an unrelated host, which would be handed the secret.
func credentialMayFollow(base, target *url.URL) bool {
	if target.Scheme == base.Scheme && target.Host == base.Host {
		return true
	}
	if base.Scheme != "https" || target.Scheme != "https" {
		return false
	}
	parent := func(host string) string {
		_, rest, ok := strings.Cut(host, ".")
		if !ok || !strings.Contains(rest, ".") {
			return "" // a bare name or a top-level domain: no family
		}
		return rest
	}
	p := parent(base.Hostname())
	return p != "" && p == parent(target.Hostname()) && target.Port() == base.Port()
}

// clientKeepQuery adds to u every parameter of want that u lacks, leaving
// u's query untouched when nothing is missing.
func clientKeepQuery(u *url.URL, want url.Values) {
	if len(want) == 0 {
		return
	}
	q := u.Query()
	added := false
	for k, vs := range want {
		if !q.Has(k) {
			q[k] = vs
			added = true
		}
	}
	if added {
		u.RawQuery = q.Encode()
	}
}

// String returns the base URL without its query, so it is safe to print.
func (c *boardClient) String() string {
	return redactURL(c.base)
}

// redactURL renders u without the parts that may hold secrets.
func redactURL(u *url.URL) string {
	shown := *u
	shown.User = nil
	shown.RawQuery = ""
	shown.ForceQuery = false
	shown.Fragment = ""
	shown.RawFragment = ""
	return shown.String()
}

// forgetConnections closes the connections kept open to the board: after
// a network change they lead nowhere, and a request sent on one would
// wait out ResponseHeaderTimeout before a fresh connection is tried.
func (c *boardClient) forgetConnections() { c.hc.CloseIdleConnections() }

// endpoint returns the REST URL of path: BASE/path.json?QUERY.
func (c *boardClient) endpoint(path string) (*url.URL, error) {
	keys, err := treeSplitPath(path)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %w", errBoardPath, path, err)
	}
	p := strings.Join(keys, "/")
	u := *c.base
	u.Path = c.base.Path + "/" + p + ".json"
	u.RawPath = ""
	u.RawQuery = c.rawQuery
	return &u, nil
}

// get returns the value at path, "null" when nothing is there.
func (c *boardClient) get(ctx context.Context, path string) (json.RawMessage, error) {
	var v json.RawMessage
	_, err := c.do(ctx, http.MethodGet, path, nil, nil, nil, func(u *url.URL, body io.Reader) (err error) {
		v, err = clientReadValue(u, body)
		return err
	})
	return v, err
}

// getQuery sends a GET of path with extra query parameters (orderBy and the
// like, or shallow) and hands the value to decode as it arrives, failing
// with errBoardTooLarge past limit bytes: the janitor reads listings too
// large to hold twice. A body cut off midway is a network error, which
// retryable accepts; one that decode refuses is not.
func (c *boardClient) getQuery(ctx context.Context, path string, params url.Values, limit int64, decode func(*json.Decoder) error) error {
	_, err := c.do(ctx, http.MethodGet, path, params, nil, nil, func(u *url.URL, body io.Reader) error {
		d := json.NewDecoder(&clientLimitReader{r: body, left: limit})
		d.UseNumber()
		err := decode(d)
		var ne net.Error
		switch {
		case err == nil, errors.Is(err, errBoardTooLarge):
			return err
		case errors.As(err, &ne), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, context.DeadlineExceeded):
			return clientNetError(http.MethodGet, u, err)
		}
		return fmt.Errorf("GET %s: the board sent an unexpected value: %w", redactURL(u), err)
	})
	return err
}

// put replaces the value at path with v encoded as JSON.
func (c *boardClient) put(ctx context.Context, path string, v any) error {
	return c.write(ctx, http.MethodPut, path, v)
}

// patch updates the children of path named by v's keys (which may be
// multi-segment paths; null deletes), leaving the others alone.
func (c *boardClient) patch(ctx context.Context, path string, v any) error {
	return c.write(ctx, http.MethodPatch, path, v)
}

// delete removes the value at path.
func (c *boardClient) delete(ctx context.Context, path string) error {
	_, err := c.do(ctx, http.MethodDelete, path, nil, nil, nil, nil)
	return err
}

// write sends v as the JSON body of a PUT or PATCH.
func (c *boardClient) write(ctx context.Context, method, path string, v any) error {
	_, err := c.writeWith(ctx, method, path, nil, v)
	return err
}

// writeWith is write with extra request headers, returning the answer's.
func (c *boardClient) writeWith(ctx context.Context, method, path string, header http.Header, v any) (http.Header, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%s %s: encoding the value: %w", method, path, err)
	}
	return c.do(ctx, method, path, nil, header, body, nil)
}

// The headers of a room's owner on gopeer's board (board_rules.go): a
// host that asks (roomClaimHeader) gets a token back when its offer
// creates the room (roomTokenHeader), and only requests that carry it may
// change or delete that offer. Firebase ignores both.
const (
	roomClaimHeader = "X-Gopeer-Claim"
	roomTokenHeader = "X-Gopeer-Room-Token"
)

// putOwned writes a room's offer as its owner: it claims the room, and
// carries the token it has ("" for none). It returns the token the board
// gave, or the one it had when the board gave none.
func (c *boardClient) putOwned(ctx context.Context, path string, v any, token string) (string, error) {
	h := http.Header{roomClaimHeader: {"room"}}
	if token != "" {
		h.Set(roomTokenHeader, token)
	}
	got, err := c.writeWith(ctx, http.MethodPut, path, h, v)
	if t := got.Get(roomTokenHeader); err == nil && t != "" {
		return t, nil
	}
	return token, err
}

// deleteOwned deletes path as the owner of its room.
func (c *boardClient) deleteOwned(ctx context.Context, path, token string) error {
	var h http.Header
	if token != "" {
		h = http.Header{roomTokenHeader: {token}}
	}
	_, err := c.do(ctx, http.MethodDelete, path, nil, h, nil, nil)
	return err
}

// do sends one request, with extra headers, bounded by the client's
// timeout, and hands a 2xx answer's body to read; it returns the answer's
// headers. A nil read is for writes: a write the board accepted has
// succeeded whatever it echoes back.
func (c *boardClient) do(ctx context.Context, method, path string, params url.Values, header http.Header, body []byte, read func(*url.URL, io.Reader) error) (http.Header, error) {
	u, err := c.endpoint(path)
	if err != nil {
		return nil, err
	}
	if len(params) > 0 {
		q, _ := url.ParseQuery(u.RawQuery) // newBoardClient parsed it already
		maps.Copy(q, params)
		u.RawQuery = q.Encode()
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s %s: cannot build the request", method, redactURL(u))
	}
	maps.Copy(req.Header, header)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "gopeer/"+version)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, clientNetError(method, u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, newStatusError(method, u, resp)
	}
	if read != nil {
		if err := read(u, resp.Body); err != nil {
			return nil, err
		}
	}
	// Drain what little may follow, so the connection is reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, clientMaxErrorBody))
	return resp.Header, nil
}

// clientReadValue reads a bounded JSON value; an empty body (204) is null.
func clientReadValue(u *url.URL, body io.Reader) (json.RawMessage, error) {
	data, err := io.ReadAll(io.LimitReader(body, clientMaxResponse+1))
	if err != nil {
		return nil, clientNetError(http.MethodGet, u, err)
	}
	if len(data) > clientMaxResponse {
		return nil, fmt.Errorf("GET %s: %w (over %d bytes)", redactURL(u), errBoardTooLarge, clientMaxResponse)
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return json.RawMessage("null"), nil
	}
	if !json.Valid(data) {
		return nil, fmt.Errorf("GET %s: the board sent invalid JSON", redactURL(u))
	}
	return data, nil
}

// clientLimitReader fails with errBoardTooLarge past left bytes.
type clientLimitReader struct {
	r    io.Reader
	left int64
}

func (l *clientLimitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, errBoardTooLarge
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// clientNetError rewraps a transport error with the method and the URL
// without its query: net/http's own *url.Error carries the full URL, and
// with it the secret. The result is still a *url.Error wrapping the cause,
// so errors.As finds *net.OpError and friends.
func clientNetError(method string, u *url.URL, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &url.Error{Op: method, URL: redactURL(u), Err: err}
}

// statusError is an HTTP failure from the board: the request's method and
// URL (without query) and the board's own explanation.
type statusError struct {
	Method, URL string
	Status      int
	Message     string
	RetryAfter  time.Duration // what the board asked a busy client to wait; 0 when it did not
}

// Error reads like "PUT http://host/rooms/ABC123/offer.json: 401 Permission denied".
func (e *statusError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.Status, msg)
}

// newStatusError turns a non-2xx response into a *statusError, naming the
// URL that answered (after any redirect).
func newStatusError(method string, u *url.URL, resp *http.Response) *statusError {
	if resp.Request != nil && resp.Request.URL != nil {
		u = resp.Request.URL
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, clientMaxErrorBody))
	return &statusError{
		Method:     method,
		URL:        redactURL(u),
		Status:     resp.StatusCode,
		Message:    clientErrorText(resp.StatusCode, body),
		RetryAfter: clientRetryAfter(resp.Header.Get("Retry-After")),
	}
}

// clientRetryAfter reads a Retry-After given in seconds (the board's form;
// an HTTP date is ignored), bounded so that a hostile board cannot make a
// client wait past its own timeout's sense.
func clientRetryAfter(v string) time.Duration {
	secs, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || secs <= 0 {
		return 0
	}
	return time.Duration(min(secs, int(retryAfterMax/time.Second))) * time.Second
}

// clientErrorText extracts Firebase's {"error": "..."}; any other body (a
// proxy's HTML page, say) yields the status text instead, which says more.
func clientErrorText(status int, body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil {
		if msg := boardQuote(e.Error); msg != "" {
			return msg
		}
	}
	if text := http.StatusText(status); text != "" {
		return text
	}
	return "unexpected status"
}

// boardQuote makes text a board sent fit to quote in a message: sanitized
// by the one sanitizer (escape sequences and bidi overrides shown, never
// acted on; one line) and capped in length.
func boardQuote(s string) string {
	s = sanitizeLine(strings.TrimSpace(s))
	if len(s) <= clientMaxMessage {
		return s
	}
	cut := clientMaxMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// isBoardUnreachable reports whether err means the board could not be
// reached at all (refused, DNS, timeout, TLS), as opposed to the board
// answering with an error or the caller giving up.
func isBoardUnreachable(err error) bool {
	var be *statusError
	switch {
	case err == nil, errors.As(err, &be), errors.Is(err, context.Canceled):
		return false
	case errors.Is(err, context.DeadlineExceeded), isTLSFailure(err):
		return true
	}
	var (
		opErr  *net.OpError
		dnsErr *net.DNSError
		netErr net.Error
	)
	return errors.As(err, &opErr) || errors.As(err, &dnsErr) ||
		(errors.As(err, &netErr) && netErr.Timeout())
}

// isTLSFailure reports a failed TLS handshake: a certificate that does
// not verify, or a peer that does not speak TLS.
func isTLSFailure(err error) bool {
	var (
		verifyErr    *tls.CertificateVerificationError
		recordErr    tls.RecordHeaderError
		alertErr     tls.AlertError
		authorityErr x509.UnknownAuthorityError
		hostErr      x509.HostnameError
		invalidErr   x509.CertificateInvalidError
	)
	return errors.As(err, &verifyErr) || errors.As(err, &recordErr) || errors.As(err, &alertErr) ||
		errors.As(err, &authorityErr) || errors.As(err, &hostErr) || errors.As(err, &invalidErr)
}

// streamEvent is one server-sent event: its name and the raw JSON after
// "data: " (several data lines are joined with '\n').
type streamEvent struct {
	Name string
	Data json.RawMessage
}

// readStreamEvents reads server-sent events from r and calls fn for each
// complete one, that is, once the blank line that ends it arrives; an event
// cut off by the end of the stream is dropped, since its data may be cut
// too. Comments and unknown fields are ignored and "\r\n" is accepted. A
// line, or an event's data, longer than maxLine bytes fails with
// errStreamLineTooLong before more than about maxLine bytes are buffered.
// It returns fn's error, or io.EOF at the end of the stream.
func readStreamEvents(r io.Reader, maxLine int, fn func(streamEvent) error) error {
	if maxLine <= 0 {
		maxLine = streamMaxLine
	}
	br := bufio.NewReaderSize(r, maxLine+2) // room for the "\r\n"
	p := streamParser{max: maxLine}
	for {
		line, err := streamReadLine(br, maxLine)
		if err != nil {
			return err
		}
		ev, ok, err := p.feed(line)
		if err != nil {
			return err
		}
		if ok {
			if err := fn(ev); err != nil {
				return err
			}
		}
	}
}

// streamReadLine returns the next line without its terminator. The slice
// is only valid until the next read.
func streamReadLine(br *bufio.Reader, maxLine int) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, errStreamLineTooLong
	}
	if err != nil {
		return nil, err // io.EOF: an unterminated last line is dropped
	}
	line = bytes.TrimSuffix(line[:len(line)-1], []byte{'\r'})
	if len(line) > maxLine {
		return nil, errStreamLineTooLong
	}
	return line, nil
}

// streamParser accumulates the fields of the event being read, following
// the WHATWG server-sent events rules.
type streamParser struct {
	max     int
	name    string
	data    []byte
	hasData bool
}

// feed processes one line and returns an event when the line completes one.
func (p *streamParser) feed(line []byte) (streamEvent, bool, error) {
	if len(line) == 0 {
		ev, ok := p.dispatch()
		return ev, ok, nil
	}
	if line[0] == ':' {
		return streamEvent{}, false, nil
	}
	field, value, _ := bytes.Cut(line, []byte{':'})
	value = bytes.TrimPrefix(value, []byte{' '})
	switch string(field) {
	case "event":
		p.name = string(value)
	case "data":
		return streamEvent{}, false, p.appendData(value)
	}
	return streamEvent{}, false, nil
}

// appendData adds one data line, bounding the event's total data so that
// many short lines cannot add up to unbounded memory.
func (p *streamParser) appendData(value []byte) error {
	size := len(p.data) + len(value)
	if p.hasData {
		size++
	}
	if size > p.max {
		return errStreamLineTooLong
	}
	if p.hasData {
		p.data = append(p.data, '\n')
	}
	p.data = append(p.data, value...)
	p.hasData = true
	return nil
}

// dispatch ends the current event; one without data is not an event.
func (p *streamParser) dispatch() (streamEvent, bool) {
	ev := streamEvent{Name: p.name, Data: p.data}
	ok := p.hasData
	*p = streamParser{max: p.max}
	if ev.Name == "" {
		ev.Name = "message"
	}
	return ev, ok
}

// watchOptions tunes watch.
type watchOptions struct {
	idle        time.Duration   // silence that counts as a dead stream; 0 means streamIdle
	onReconnect func(err error) // told why each stream ended before watch retries; may be nil
}

// watch follows path and calls onValue with the whole value there (JSON,
// "null" when absent, keys sorted, integers exact) after the initial
// snapshot and after every event that changes it. Streams that end, fail or
// go silent are reopened with jittered exponential backoff, the first event
// of the new stream re-syncs the copy, and onValue only hears of values that
// differ from the last one it got. watch returns ctx.Err() when ctx is done,
// onValue's error when it returns one (nil for errStopWatch), or the error
// of a failure that retrying cannot fix: a 4xx from the board (a
// *statusError), a refused redirect, or a response that is not a stream.
// onValue and onReconnect run on watch's goroutine.
func (c *boardClient) watch(ctx context.Context, path string, opts watchOptions, onValue func(json.RawMessage) error) error {
	u, err := c.endpoint(path)
	if err != nil {
		return err
	}
	idle := opts.idle
	if idle <= 0 {
		idle = streamIdle
	}
	st := &clientWatchState{deliver: onValue}
	wait := c.reconnect
	for {
		start := time.Now()
		err := c.streamOnce(ctx, u, idle, st)
		if done, result := clientWatchOutcome(ctx, err); done {
			return result
		}
		if time.Since(start) > wait.max {
			wait.reset() // the stream was healthy for a while
		}
		if opts.onReconnect != nil {
			opts.onReconnect(err)
		}
		if err := wait.wait(ctx, err); err != nil {
			return err
		}
	}
}

// clientWatchOutcome decides whether a stream's end also ends the watch,
// and with what result.
func clientWatchOutcome(ctx context.Context, err error) (bool, error) {
	var cb *clientCallbackError
	switch {
	case errors.As(err, &cb):
		if errors.Is(cb.err, errStopWatch) {
			return true, nil
		}
		return true, cb.err
	case ctx.Err() != nil:
		return true, ctx.Err()
	case !retryable(err):
		return true, err
	}
	return false, nil
}

// clientCallbackError marks an error returned by onValue, so watch can tell
// "the caller wants to stop" from "the stream broke".
type clientCallbackError struct{ err error }

func (e *clientCallbackError) Error() string { return e.err.Error() }
func (e *clientCallbackError) Unwrap() error { return e.err }

// streamOnce opens one stream and follows it until it ends. The idle
// watchdog cancels the request if no byte arrives in time, including while
// waiting for the response headers.
func (c *boardClient) streamOnce(ctx context.Context, u *url.URL, idle time.Duration, st *clientWatchState) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dog := streamStartWatchdog(idle, cancel)
	defer dog.stop()
	body, err := c.openStream(ctx, u)
	if err != nil {
		return dog.explain(err)
	}
	defer body.Close()
	st.tree = nil // the first event describes the whole value afresh
	err = readStreamEvents(&streamIdleReader{r: body, dog: dog}, streamMaxLine, func(ev streamEvent) error {
		if err := ctx.Err(); err != nil {
			return err // a board that sends fast must not outlast the caller
		}
		dog.pause() // time spent in onValue is not the board's silence
		defer dog.kick()
		return st.handle(ev)
	})
	if errors.Is(err, io.EOF) {
		err = errStreamEnded
	}
	return dog.explain(clientStreamEnd(err))
}

// clientStreamEnd names why an open stream ended, so that retryable can
// tell a broken stream (any failure reading it) from the caller's own
// error, which ends the watch.
func clientStreamEnd(err error) error {
	var cb *clientCallbackError
	if err == nil || errors.As(err, &cb) || streamBroke(err) || errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%w: %w", errStreamCut, err)
}

// openStream sends the streaming GET and checks that an event stream came
// back.
func (c *boardClient) openStream(ctx context.Context, u *url.URL) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: cannot build the request", redactURL(u))
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, clientNetError(http.MethodGet, u, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, newStatusError(http.MethodGet, u, resp)
	}
	if media, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); media != "text/event-stream" {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %w (Content-Type %q)", redactURL(resp.Request.URL), errBoardNotStream,
			boardQuote(resp.Header.Get("Content-Type")))
	}
	return resp.Body, nil
}

// streamWatchdog cancels a stream that has been silent for too long.
type streamWatchdog struct {
	idle  time.Duration
	timer *time.Timer
	fired atomic.Bool
}

func streamStartWatchdog(idle time.Duration, cancel context.CancelFunc) *streamWatchdog {
	w := &streamWatchdog{idle: idle}
	w.timer = time.AfterFunc(idle, func() {
		w.fired.Store(true)
		cancel()
	})
	return w
}

func (w *streamWatchdog) kick()  { w.timer.Reset(w.idle) }
func (w *streamWatchdog) pause() { w.timer.Stop() }
func (w *streamWatchdog) stop()  { w.timer.Stop() }

// explain replaces the cancellation error a silent stream ends with by the
// reason for it.
func (w *streamWatchdog) explain(err error) error {
	if w.fired.Load() {
		return fmt.Errorf("%w: nothing received for %v", errStreamIdle, w.idle)
	}
	return err
}

// streamIdleReader kicks the watchdog whenever bytes arrive; keep-alives
// count, which is their purpose.
type streamIdleReader struct {
	r   io.Reader
	dog *streamWatchdog
}

func (r *streamIdleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.dog.kick()
	}
	return n, err
}

// clientWatchState is watch's copy of the subtree and the last value it
// delivered, kept across reconnects to suppress repeats.
type clientWatchState struct {
	tree    any
	last    json.RawMessage // nil until the first delivery
	deliver func(json.RawMessage) error
}

// handle applies one event and delivers the value if it changed.
func (st *clientWatchState) handle(ev streamEvent) error {
	tree, touched, err := clientApplyEvent(st.tree, ev)
	if err != nil && !streamBroke(err) {
		err = fmt.Errorf("%w: %w", errStreamGarbled, err)
	}
	if err != nil || !touched {
		return err
	}
	st.tree = tree
	value, err := treeEncode(tree)
	if err != nil {
		return err
	}
	if st.last != nil && bytes.Equal(value, st.last) {
		return nil
	}
	st.last = value
	if err := st.deliver(bytes.Clone(value)); err != nil {
		return &clientCallbackError{err: err}
	}
	return nil
}

// clientApplyEvent applies a Firebase stream event to tree. touched reports
// a put or patch; cancel and auth_revoked become errors that end the
// stream; keep-alive and unknown events change nothing.
func clientApplyEvent(tree any, ev streamEvent) (next any, touched bool, err error) {
	switch ev.Name {
	case "put", "patch":
	case "cancel":
		return tree, false, streamReason(errStreamCancelled, ev.Data)
	case "auth_revoked":
		return tree, false, streamReason(errStreamAuthRevoked, ev.Data)
	default:
		return tree, false, nil
	}
	changes, err := clientEventChanges(ev)
	if err != nil {
		return tree, false, fmt.Errorf("board %s event: %w", ev.Name, err)
	}
	for _, c := range changes {
		tree = treeSet(tree, c.at, c.value)
	}
	return tree, true, nil
}

// streamReason adds the board's explanation, if it gave one, to err.
func streamReason(err error, data json.RawMessage) error {
	var reason string
	if json.Unmarshal(data, &reason) != nil || reason == "" {
		return err
	}
	return fmt.Errorf("%w: %s", err, boardQuote(reason))
}

// clientChange is one location an event sets (a nil value deletes).
type clientChange struct {
	at    []string
	value any
}

// clientEventChanges decodes a put or patch payload {"path": "/...",
// "data": VALUE} into what it sets, every key and value checked and
// normalized by the data model. A put replaces the value at path; a patch
// sets each child it names (a key may be a multi-segment path, and null
// deletes), in sorted order so the result does not depend on the order of
// the JSON.
func clientEventChanges(ev streamEvent) ([]clientChange, error) {
	var payload struct {
		Path *string         `json:"path"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(ev.Data, &payload); err != nil {
		return nil, err
	}
	if payload.Path == nil {
		return nil, errors.New(`no "path"`)
	}
	at, err := treeSplitPath(*payload.Path)
	if err != nil {
		return nil, err
	}
	data, err := treeDecode(payload.Data)
	if err != nil {
		return nil, err
	}
	if ev.Name == "put" {
		v, err := treeNormalize(data, len(at), nil)
		return []clientChange{{at, v}}, err
	}
	children, ok := data.(map[string]any)
	if !ok && data != nil {
		return nil, errors.New("data is not an object")
	}
	if len(children) > clientMaxPatchKeys {
		return nil, fmt.Errorf("a patch of %d keys, over %d", len(children), clientMaxPatchKeys)
	}
	changes := make([]clientChange, 0, len(children))
	for _, k := range slices.Sorted(maps.Keys(children)) {
		rel, err := treeSplitPath(k)
		if err != nil {
			return nil, err
		}
		v, err := treeNormalize(children[k], len(at)+len(rel), nil)
		if err != nil {
			return nil, err
		}
		changes = append(changes, clientChange{slices.Concat(at, rel), v})
	}
	return changes, nil
}
