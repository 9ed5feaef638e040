package main

// This file is gopeer -janitor: it keeps a board clean of stale rooms, as
// pypeer's hourly janitor does (docs/PROTOCOL.md, "Cleanup"), without
// downloading the whole database and without touching a live room.
//
// A run pages through the rooms index (orderBy="offer/timestamp"): first
// the rooms whose offer is older than -max-age or missing (endAt), then
// those whose timestamp is not a time at all (startAt). Each page is
// deleted at once, with a multi-path PATCH per few thousand rooms, and the
// query is sent again, so every room deleted was seen stale a round trip
// or three before; a failed delete is never blindly repeated, the next
// query checks again. Last, a shallow listing counts the rooms left: those
// were kept.
//
// Without the index (Firebase answers 400 "Index not defined"; any 400 to
// the query counts, however a stand-in words it), and for
// -dry-run, which must not delete to make progress through the pages, the
// janitor lists the rooms' codes (shallow=true) and reads each room's
// offer timestamp just before deciding, deleting in batches.
//
// Output names no room: a code is all a stranger needs to meddle with a
// room, and a GitHub Action's log is often public.

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
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
	janitorDefaultMaxAge = 10 * time.Minute

	// janitorMaxAhead: an offer stamped further ahead of the janitor's
	// clock than this has no readable time. Real clocks are off by minutes,
	// or by a time zone; without a bound, anyone could pin a room forever.
	janitorMaxAhead = 24 * time.Hour

	// janitorIndex is the ordering the janitor queries; database.rules.json
	// declares it in ".indexOn".
	janitorIndex = pypeerOffer + "/" + pypeerTimestamp

	// A query asks for janitorPageSize rooms at first, then for twice as
	// many while pages come back full and under a quarter of
	// janitorPageBytes, or half as many when a page is over it: full rooms
	// are a few kilobytes on Firebase, so a page stays a few megabytes,
	// and a database of small rooms takes few queries. A page is at most
	// janitorMaxPageSize rooms, so its deletes follow its check closely,
	// and at most janitorMaxPageBytes, or it is asked again at half size.
	janitorPageSize     = 1000
	janitorMaxPageSize  = 10000
	janitorPageBytes    = 8 << 20
	janitorMaxPageBytes = 64 << 20

	// janitorMaxListBytes bounds a shallow listing of rooms: about 16 bytes
	// a room, so some 8 million rooms.
	janitorMaxListBytes = 128 << 20

	// janitorMaxTimestampBytes bounds one room's timestamp: a number is
	// short, and anything longer is not one.
	janitorMaxTimestampBytes = 64

	// A delete is one PATCH of at most this many rooms and body bytes:
	// some 4,000 room codes, under any reverse proxy's body limit.
	janitorBatchRooms = 5000
	janitorBatchBytes = 60 << 10

	// Without the index, rooms are checked janitorChunk at a time by
	// janitorWorkers requests in flight, and each chunk's stale rooms are
	// deleted at once: a room is deleted some 16 round trips after its
	// check.
	janitorChunk   = 256
	janitorWorkers = 16

	// Every request is bounded, and a failure that may pass (retryable:
	// a network error, 408, 429, 5xx) is tried janitorAttempts times in
	// all, with janitorBackoff's waits between tries.
	janitorRequestTimeout = 30 * time.Second
	janitorAttempts       = 6

	// janitorRunBudget bounds a run, so an hourly job ends, with its
	// summary, before the next one starts; the next run goes on.
	janitorRunBudget = 25 * time.Minute

	// janitorIndexHint follows the reason the index could not be used.
	janitorIndexHint = "; checking rooms one by one instead. To purge in pages on Firebase, " +
		"deploy database.rules.json (firebase deploy --only database): it declares the index on rooms/" + janitorIndex
)

var (
	// errJanitorNoIndex: the rooms cannot be paged through the index; the
	// janitor checks them one by one instead.
	errJanitorNoIndex = errors.New("the rooms index cannot be used")

	// errJanitorBudget: the run's time budget ran out.
	errJanitorBudget = errors.New("the run took longer than " + janitorRunBudget.String())
)

// janitorOptions are the janitor's flags.
type janitorOptions struct {
	maxAge          time.Duration
	dryRun          bool
	accessTokenFile string

	// Flags that the janitor shares with other modes, -db and
	// -secret-file; parseConfig fills them in.
	db         string
	secretFile string

	// Seams for tests; the zero values are the real thing.
	now      func() time.Time
	backoff  backoff // the waits between tries; zero means janitorBackoff
	pageSize int     // the size of every page
}

// registerJanitorFlags adds the janitor's flags to fs.
func registerJanitorFlags(fs *flag.FlagSet, jo *janitorOptions) {
	fs.DurationVar(&jo.maxAge, "max-age", janitorDefaultMaxAge, "")
	fs.BoolVar(&jo.dryRun, "dry-run", false, "")
	fs.StringVar(&jo.accessTokenFile, "access-token-file", "", "")
}

// runJanitor purges stale rooms once and returns the exit status.
func runJanitor(ctx context.Context, jo janitorOptions, e env) int {
	j, err := newJanitor(jo, e.getenv)
	if err != nil {
		printFailure(e.stderr, usageError("-janitor: %v", err))
		return exitUsage
	}
	// Every line goes through the sanitizer: a board's words, an x509
	// error quoting a certificate's names, anything not written here could
	// hold escape sequences, or a newline that forges lines in a CI log.
	say := func(format string, args ...any) {
		fmt.Fprintln(e.stderr, "gopeer: janitor: "+sanitizeLine(fmt.Sprintf(format, args...)))
	}
	j.warn = func(msg string) { say("%s", msg) }
	runCtx, cancel := context.WithTimeoutCause(ctx, janitorRunBudget, errJanitorBudget)
	err = j.run(runCtx)
	if err != nil && runCtx.Err() != nil {
		err = context.Cause(runCtx)
	}
	cancel()
	fmt.Fprintln(e.stdout, j.summary())
	switch {
	case err == nil && j.errors == 0:
		return exitOK
	case err == nil:
		say("%d rooms could not be checked or deleted (%s); the next run tries again", j.errors, janitorCause(j.lastErr))
	case ctx.Err() != nil:
		say("interrupted")
		return exitInterrupted
	case errors.Is(err, errJanitorBudget):
		say("stopped: %v; the next run goes on", err)
	default:
		say("could not finish: %s", janitorCause(err))
	}
	return exitFailure
}

// janitor is one run's settings and counts.
type janitor struct {
	board    *boardClient // its base URL carries the credential
	maxAge   time.Duration
	dryRun   bool
	now      func() time.Time
	backoff  backoff
	pageSize int // of the first page
	maxPage  int // of any page
	warn     func(string)

	// Every room the run looked at ends up in exactly one of these.
	purged, kept, errors int
	lastErr              error // the last room-level failure

	// unsure holds rooms whose delete failed without an answer: the board
	// may have applied it. A later page that still holds one deletes it;
	// the others are gone when the run ends.
	unsure map[string]bool
}

// newJanitor checks the configuration and sets up the client.
func newJanitor(jo janitorOptions, getenv func(string) string) (*janitor, error) {
	if jo.maxAge <= 0 {
		return nil, errors.New("-max-age must be positive, like 10m")
	}
	base, err := janitorBoardURL(jo, getenv)
	if err != nil {
		return nil, err
	}
	board, err := newBoardClient(base, clientOptions{http: janitorHTTPClient(), timeout: janitorRequestTimeout})
	if err != nil {
		return nil, err
	}
	j := &janitor{
		board:    board,
		maxAge:   jo.maxAge,
		dryRun:   jo.dryRun,
		now:      jo.now,
		backoff:  cmp.Or(jo.backoff, janitorBackoff),
		pageSize: jo.pageSize,
		maxPage:  jo.pageSize,
		warn:     func(string) {},
		unsure:   make(map[string]bool),
	}
	if j.now == nil {
		j.now = time.Now
	}
	if j.pageSize <= 0 {
		j.pageSize, j.maxPage = janitorPageSize, janitorMaxPageSize
	}
	return j, nil
}

// janitorHTTPClient is the board client's, keeping enough idle connections
// for every request in flight: otherwise each request of a run of 100,000
// would open a connection of its own.
func janitorHTTPClient() *http.Client {
	hc := clientHTTP()
	if t, ok := hc.Transport.(*http.Transport); ok {
		t.MaxIdleConns = 2 * janitorWorkers
		t.MaxIdleConnsPerHost = 2 * janitorWorkers
	}
	return hc
}

// janitorBoardURL is the database URL with the credential in its query,
// where boardClient keeps it out of every message. The URL comes from -db,
// else $FIREBASE_DB_URL; the credential from a file or the environment,
// never from a flag's value, which other users of the machine can see.
func janitorBoardURL(jo janitorOptions, getenv func(string) string) (string, error) {
	raw := jo.db
	if raw == "" {
		raw = strings.TrimSpace(getenv("FIREBASE_DB_URL"))
	}
	if raw == "" {
		return "", errors.New("no database: set FIREBASE_DB_URL or pass -db URL")
	}
	u, err := clientParseBase(raw)
	if err != nil {
		return "", err
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", clientBaseError(raw, "its query string is malformed")
	}
	name, value, err := janitorCredential(jo, getenv)
	if err != nil {
		return "", err
	}
	if name != "" {
		q.Del("auth")
		q.Del("access_token")
		q.Set(name, value)
	}
	if q.Get("auth") == "" && q.Get("access_token") == "" {
		return "", errors.New("no credential: set FIREBASE_DB_SECRET (or FIREBASE_ACCESS_TOKEN), " +
			"or pass -secret-file FILE or -access-token-file FILE; nobody else may list the rooms")
	}
	if u.Scheme == "http" && !janitorLoopback(u.Hostname()) {
		return "", fmt.Errorf("refusing to send the credential over plain http to %s: use https", u.Hostname())
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// janitorCredential returns the query parameter and value to authenticate
// with, from the first of -secret-file, -access-token-file,
// $FIREBASE_DB_SECRET and $FIREBASE_ACCESS_TOKEN; "" when there is none.
func janitorCredential(jo janitorOptions, getenv func(string) string) (name, value string, err error) {
	switch {
	case jo.secretFile != "" && jo.accessTokenFile != "":
		return "", "", errors.New("-secret-file and -access-token-file: give one credential, not two")
	case jo.secretFile != "":
		value, err = readCredential("-secret-file", jo.secretFile)
		return "auth", value, err
	case jo.accessTokenFile != "":
		value, err = readCredential("-access-token-file", jo.accessTokenFile)
		return "access_token", value, err
	}
	if v := strings.TrimSpace(getenv("FIREBASE_DB_SECRET")); v != "" {
		return "auth", v, nil
	}
	if v := strings.TrimSpace(getenv("FIREBASE_ACCESS_TOKEN")); v != "" {
		return "access_token", v, nil
	}
	return "", "", nil
}

func janitorLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// summary is the run's closing line.
func (j *janitor) summary() string {
	seen := j.purged + j.kept + j.errors
	if j.dryRun {
		return fmt.Sprintf("gopeer: janitor (dry run): %d rooms seen, %d to purge, %d kept, %d errors",
			seen, j.purged, j.kept, j.errors)
	}
	return fmt.Sprintf("gopeer: janitor: %d rooms seen, %d purged, %d kept, %d errors",
		seen, j.purged, j.kept, j.errors)
}

// run purges the stale rooms, through the index when it can.
func (j *janitor) run(ctx context.Context) error {
	if j.dryRun {
		// Paging through the index needs deletes to move on, so a dry run
		// reads rooms one by one; a probe still reports a missing index.
		_, _, err := j.queryPage(ctx, janitorStale, j.now(), 1)
		switch {
		case errors.Is(err, errJanitorNoIndex):
			j.warn(err.Error() + janitorIndexHint)
		case err != nil && !errors.Is(err, errBoardTooLarge):
			return err
		}
		return j.sweepOneByOne(ctx)
	}
	err := j.sweepIndexed(ctx)
	if errors.Is(err, errJanitorNoIndex) {
		j.warn(err.Error() + janitorIndexHint)
		return j.sweepOneByOne(ctx)
	}
	return err
}

// janitorSelection is one query on the index: the rooms it returns are
// all to be purged.
type janitorSelection int

const (
	janitorStale      janitorSelection = iota // offer older than max-age, or none
	janitorUnreadable                         // timestamp a string, an object, or far ahead
)

// sweepIndexed drains both selections, then counts the rooms left.
func (j *janitor) sweepIndexed(ctx context.Context) error {
	for _, sel := range []janitorSelection{janitorStale, janitorUnreadable} {
		err := j.drain(ctx, sel)
		switch {
		case errors.Is(err, errJanitorNoIndex):
			return err // the listing that follows settles the unsure rooms
		case err != nil:
			j.errors += len(j.unsure) // their fate is unknown
			clear(j.unsure)
			return err
		}
	}
	// No query finds the rooms of a delete whose answer was lost: the
	// board applied it.
	j.purged += len(j.unsure)
	clear(j.unsure)
	left, err := j.listRooms(ctx)
	if err != nil {
		return err
	}
	j.kept += len(left)
	return nil
}

// drain deletes the rooms of sel, a page at a time, until a query comes
// back empty.
func (j *janitor) drain(ctx context.Context, sel janitorSelection) error {
	size := j.pageSize
	failures := 0
	wait := j.backoff
	for {
		now := j.now()
		page, bytes, err := j.queryPage(ctx, sel, now, size)
		if errors.Is(err, errBoardTooLarge) {
			if size == 1 {
				return fmt.Errorf("%w: a single room is over %d bytes", errJanitorNoIndex, janitorMaxPageBytes)
			}
			size = max(1, size/2)
			continue
		}
		if err != nil || len(page) == 0 {
			return err
		}
		size = janitorNextPageSize(size, len(page), bytes, j.maxPage)
		var purge []string
		for code, room := range page {
			delete(j.unsure, code) // still there: this page deletes it
			if janitorRoomStale(room, now, j.maxAge) {
				purge = append(purge, code)
			}
		}
		if len(purge) == 0 {
			// The board's ordering disagrees with the janitor's reading;
			// asking again would return the same page forever.
			return fmt.Errorf("%w: it returned only rooms that are not stale", errJanitorNoIndex)
		}
		_, err = j.deleteRooms(ctx, purge)
		if err == nil {
			failures = 0
			wait.reset()
			continue
		}
		if failures++; !retryable(err) || failures >= janitorAttempts {
			return err
		}
		if err := wait.wait(ctx, err); err != nil {
			return err
		}
	}
}

// janitorNextPageSize is the size of the page after one of size rooms that
// brought got rooms in bytes.
func janitorNextPageSize(size, got int, bytes int64, maxSize int) int {
	switch {
	case bytes > janitorPageBytes:
		return max(1, size/2)
	case got == size && bytes < janitorPageBytes/4:
		return min(maxSize, 2*size)
	}
	return size
}

// queryPage returns up to size rooms of sel, keyed by code, and the size
// of the answer.
func (j *janitor) queryPage(ctx context.Context, sel janitorSelection, now time.Time, size int) (map[string]json.RawMessage, int64, error) {
	params := url.Values{
		"orderBy":      {strconv.Quote(janitorIndex)},
		"limitToFirst": {strconv.Itoa(size)},
	}
	switch sel {
	case janitorStale:
		// endAt is inclusive; a room exactly max-age old is kept. Null
		// and booleans order before numbers, so rooms with no offer or
		// no numeric timestamp come first.
		params.Set("endAt", strconv.FormatInt(now.Add(-j.maxAge).UnixMilli()-1, 10))
	case janitorUnreadable:
		// Strings and objects order after every number.
		params.Set("startAt", strconv.FormatInt(now.Add(janitorMaxAhead).UnixMilli(), 10))
	}
	var (
		page map[string]json.RawMessage
		raw  json.RawMessage
	)
	err := j.retry(ctx, func(ctx context.Context) error {
		return j.board.getQuery(ctx, pypeerRooms, params, janitorMaxPageBytes, func(d *json.Decoder) (err error) {
			raw = nil
			if err = d.Decode(&raw); err == nil {
				page, err = janitorChildren(raw)
			}
			return err
		})
	})
	var be *statusError
	switch {
	case errors.As(err, &be) && be.Status == http.StatusBadRequest:
		// Firebase says "Index not defined"; stand-ins and emulators
		// word a query they cannot answer otherwise. Any 400 means this
		// query will not work here, and the listing does without it.
		return nil, 0, fmt.Errorf("%w: the board answered %d %s", errJanitorNoIndex, be.Status, be.Message)
	case errors.Is(err, errBoardTooLarge):
		return nil, 0, err
	case err != nil:
		return nil, 0, &janitorStepError{"querying the rooms index", err}
	}
	return page, int64(len(raw)), nil
}

// janitorChildren returns the children of a JSON value by key. Firebase
// answers an object whose keys are mostly small integers as an array,
// with null where a key is missing.
func janitorChildren(raw json.RawMessage) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err == nil {
		return m, nil
	}
	var a []json.RawMessage
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, errors.New("the rooms are neither an object nor an array")
	}
	m = make(map[string]json.RawMessage, len(a))
	for i, v := range a {
		if string(v) != "null" {
			m[strconv.Itoa(i)] = v
		}
	}
	return m, nil
}

// janitorRoomStale reports whether a room, as the board holds it, is to be
// purged at now: its offer is older than maxAge, or it has no offer with a
// readable time.
func janitorRoomStale(room json.RawMessage, now time.Time, maxAge time.Duration) bool {
	tree, err := treeDecode(room)
	if err != nil {
		return true
	}
	ms, ok := slotTimestamp(treeGet(tree, []string{pypeerOffer}))
	return janitorTimestampStale(ms, ok, now, maxAge)
}

// janitorTimestampStale applies the rule to an offer's timestamp, ms, or
// to its lack (ok false: no offer, or no numeric timestamp).
func janitorTimestampStale(ms float64, ok bool, now time.Time, maxAge time.Duration) bool {
	return !ok || ms < float64(now.Add(-maxAge).UnixMilli()) || ms >= float64(now.Add(janitorMaxAhead).UnixMilli())
}

// deleteRooms deletes codes with as few multi-path PATCHes as the batch
// limits allow. On a failure it returns the rooms not known to be deleted:
// those of the failed batch, which the board may or may not have applied
// (they are also marked unsure), and those not sent yet. Nothing is sent
// again here: a room must be checked again before a second try.
func (j *janitor) deleteRooms(ctx context.Context, codes []string) (left []string, err error) {
	for len(codes) > 0 {
		batch, size := make(map[string]any), 2 // {}
		n := 0
		for ; n < len(codes) && n < janitorBatchRooms; n++ {
			key, _ := json.Marshal(codes[n]) // a string always encodes
			if n > 0 && size+len(key)+6 > janitorBatchBytes {
				break
			}
			size += len(key) + 6 // :null,
			batch[codes[n]] = nil
		}
		if err := j.board.patch(ctx, pypeerRooms, batch); err != nil {
			for _, code := range codes[:n] {
				j.unsure[code] = true
			}
			return codes, &janitorStepError{"deleting rooms", err}
		}
		j.purged += n
		codes = codes[n:]
	}
	return nil, nil
}

// sweepOneByOne lists the rooms and checks each just before deciding.
func (j *janitor) sweepOneByOne(ctx context.Context) error {
	rooms, err := j.listRooms(ctx)
	if err != nil {
		j.errors += len(j.unsure)
		clear(j.unsure)
		return err
	}
	// Rooms whose delete went unanswered before the switch to this sweep
	// were deleted if they are not listed, and are checked if they are.
	for code := range j.unsure {
		if _, listed := rooms[code]; !listed {
			j.purged++
		}
	}
	clear(j.unsure)
	codes := make([]string, 0, len(rooms))
	for code := range rooms {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	for chunk := range slices.Chunk(codes, janitorChunk) {
		stale, err := j.checkRooms(ctx, chunk, rooms)
		if err != nil {
			return err
		}
		if j.dryRun {
			j.purged += len(stale)
			continue
		}
		if err := j.purgeChecked(ctx, stale); err != nil {
			return err
		}
	}
	return nil
}

// purgeChecked deletes rooms found stale. After a failed delete it checks
// the rooms not known to be deleted again, since one may have been deleted
// and made afresh meanwhile, and deletes those still stale (a room the
// failed delete did remove reads as stale, and deleting it again is
// harmless).
func (j *janitor) purgeChecked(ctx context.Context, stale []string) error {
	wait := j.backoff
	for failures := 0; len(stale) > 0; {
		left, err := j.deleteRooms(ctx, stale)
		if err == nil {
			return nil
		}
		clear(j.unsure) // checked again below instead
		if failures++; !retryable(err) || failures >= janitorAttempts {
			j.errors += len(left)
			return err
		}
		if err := wait.wait(ctx, err); err != nil {
			j.errors += len(left)
			return err
		}
		if stale, err = j.checkRooms(ctx, left, nil); err != nil {
			return err
		}
	}
	return nil
}

// checkRooms reads the offer timestamp of each room in codes, several at
// once, and returns the stale ones; fresh rooms are counted as kept. A
// room listed as a primitive (shallow says so when its value is not
// true) has no offer and needs no request. A room that cannot be read
// for a reason retrying cannot fix is counted as an error and left alone;
// any other failure ends the run.
func (j *janitor) checkRooms(ctx context.Context, codes []string, listed map[string]bool) ([]string, error) {
	verdicts := make([]error, len(codes))
	stale := make([]bool, len(codes))
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(janitorWorkers, len(codes)) {
		wg.Go(func() {
			for i := range next {
				stale[i], verdicts[i] = j.checkRoom(ctx, codes[i], listed)
				if verdicts[i] != nil && !janitorRoomLevel(verdicts[i]) {
					cancel(verdicts[i])
				}
			}
		})
	}
feed:
	for i := range codes {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	var out []string
	for i, code := range codes {
		switch {
		case verdicts[i] != nil:
			j.errors++
			j.lastErr = verdicts[i]
		case stale[i]:
			out = append(out, code)
		default:
			j.kept++
		}
	}
	return out, nil
}

// checkRoom reads one room's offer timestamp and judges it.
func (j *janitor) checkRoom(ctx context.Context, code string, listed map[string]bool) (bool, error) {
	if isObject, ok := listed[code]; ok && !isObject {
		return true, nil
	}
	now := j.now()
	var ts any // the data model's form: a number is a json.Number
	err := j.retry(ctx, func(ctx context.Context) error {
		ts = nil
		return j.board.getQuery(ctx, pypeerRooms+"/"+code+"/"+janitorIndex, nil, janitorMaxTimestampBytes,
			func(d *json.Decoder) error { return d.Decode(&ts) })
	})
	switch {
	case errors.Is(err, errBoardTooLarge):
		return true, nil // too long to be a number
	case err != nil:
		return false, &janitorStepError{"checking a room", err}
	}
	ms, ok := treeNumber(ts)
	return janitorTimestampStale(ms, ok, now, j.maxAge), nil
}

// janitorRoomLevel reports a failure that concerns one room only: the
// board refused the request as malformed (a key it will not take back).
func janitorRoomLevel(err error) bool {
	var be *statusError
	return errors.As(err, &be) && be.Status == http.StatusBadRequest
}

// listRooms lists the rooms with shallow=true: each code, and whether the
// room is an object (true) or a bare value, which holds no offer.
func (j *janitor) listRooms(ctx context.Context) (map[string]bool, error) {
	var rooms map[string]bool
	err := j.retry(ctx, func(ctx context.Context) error {
		rooms = make(map[string]bool)
		return j.board.getQuery(ctx, pypeerRooms, url.Values{"shallow": {"true"}}, janitorMaxListBytes, func(d *json.Decoder) error {
			return janitorDecodeListing(d, rooms)
		})
	})
	if errors.Is(err, errBoardTooLarge) {
		return nil, fmt.Errorf("listing rooms: over %d MB of room codes; deploy database.rules.json so rooms can be purged in pages", janitorMaxListBytes>>20)
	}
	if err != nil {
		return nil, &janitorStepError{"listing rooms", err}
	}
	return rooms, nil
}

// janitorDecodeListing reads a shallow listing one key at a time, so a
// large one is never held twice. A room's value is true when it is an
// object. Like any value, the listing may come as an array (see
// janitorChildren).
func janitorDecodeListing(d *json.Decoder, rooms map[string]bool) error {
	tok, err := d.Token()
	if err != nil || tok == nil { // null: no rooms at all
		return err
	}
	array := tok == json.Delim('[')
	if !array && tok != json.Delim('{') {
		return errors.New("the rooms listing is neither an object nor an array")
	}
	for i := 0; d.More(); i++ {
		key := strconv.Itoa(i)
		if !array {
			tok, err := d.Token()
			if err != nil {
				return err
			}
			key = tok.(string) // an object's keys are strings
		}
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return err
		}
		if string(v) != "null" {
			rooms[key] = string(v) == "true"
		}
	}
	_, err = d.Token()
	return err
}

// retry runs call until it succeeds, fails for good, or has been tried
// janitorAttempts times.
func (j *janitor) retry(ctx context.Context, call func(context.Context) error) error {
	return retry(ctx, j.backoff, tries(janitorAttempts), call)
}

// janitorStepError is a failure of one step of the run.
type janitorStepError struct {
	step string
	err  error
}

func (e *janitorStepError) Error() string { return e.step + ": " + janitorCause(e.err) }
func (e *janitorStepError) Unwrap() error { return e.err }

// janitorCause explains err without naming a room: the board's status and
// text, or the network error, never the URL, whose path may hold a code.
func janitorCause(err error) string {
	var (
		step *janitorStepError
		be   *statusError
		ue   *url.Error
	)
	switch {
	case err == nil:
		return "no error"
	case errors.Is(err, errBoardPath):
		return "a key the board holds is not a valid path"
	case errors.As(err, &step):
		return step.Error()
	case errors.As(err, &be) && (be.Status == http.StatusUnauthorized || be.Status == http.StatusForbidden):
		return fmt.Sprintf("the database refused the credential (%d %s): check FIREBASE_DB_SECRET, "+
			"or the access token, and that it belongs to this database", be.Status, be.Message)
	case errors.As(err, &be):
		return fmt.Sprintf("the board answered %d %s", be.Status, be.Message)
	case errors.As(err, &ue):
		return ue.Err.Error()
	}
	return err.Error()
}
