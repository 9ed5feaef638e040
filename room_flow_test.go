package main

// In-process tests of the host and join flows over real WebRTC on loopback
// (TestMain runs them in a private network namespace), through a board that
// the test can restart empty, as a board process kept in memory would be.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// flowTestSecret is the admin secret of the flow tests' boards, which lets a
// test check that the board is empty.
const flowTestSecret = "flow-test-secret"

// restartableBoard serves a board that can be swapped for a fresh, empty
// one. Its streams end on a restart, so clients reconnect to the new board.
type restartableBoard struct {
	mu    sync.Mutex
	board *board
	// intercept, when set, may answer a request itself (returning true).
	intercept func(w http.ResponseWriter, r *http.Request) bool
}

func (rb *restartableBoard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rb.mu.Lock()
	b, intercept := rb.board, rb.intercept
	rb.mu.Unlock()
	if intercept != nil && intercept(w, r) {
		return
	}
	b.ServeHTTP(w, r)
}

// restartKeeping ends every stream, as a proxy or a board restart would,
// but keeps what the board holds.
func (rb *restartableBoard) restartKeeping() {
	rb.mu.Lock()
	old := rb.board
	fresh := newBoard(boardOptions{secret: flowTestSecret})
	rb.board = fresh
	rb.mu.Unlock()
	root := httptest.NewRecorder()
	old.ServeHTTP(root, httptest.NewRequest(http.MethodGet, "/.json?auth="+flowTestSecret, nil))
	fresh.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPut, "/.json?auth="+flowTestSecret, root.Body))
	old.Close()
}

func (rb *restartableBoard) restart() {
	rb.mu.Lock()
	old := rb.board
	rb.board = newBoard(boardOptions{secret: flowTestSecret})
	rb.mu.Unlock()
	old.Close()
}

// recordedEvents collects what a flow reports.
type recordedEvents struct {
	mu     sync.Mutex
	warns  []string
	posted chan string
}

func newRecordedEvents() *recordedEvents { return &recordedEvents{posted: make(chan string, 4)} }

func (r *recordedEvents) status(string) {}
func (r *recordedEvents) warn(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.warns = append(r.warns, msg)
}
func (r *recordedEvents) roomPosted(code, _ string) { r.posted <- code }
func (r *recordedEvents) wrongKey(code string)      { r.warn(wrongKeyNote(code)) }

// said returns the warnings so far.
func (r *recordedEvents) said() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.warns)
}

func (r *recordedEvents) warned(substr string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range r.warns {
		if strings.Contains(w, substr) {
			return true
		}
	}
	return false
}

// flowPair is a host flow and a join flow on one board.
type flowPair struct {
	host, guest             *roomFlow
	hostEvents, guestEvents *recordedEvents
	clients                 []*http.Client
}

func newFlowPair(t *testing.T, url string) flowPair {
	t.Helper()
	gopeerBin(t) // needs the private network namespace
	var p flowPair
	mk := func() (*roomFlow, *recordedEvents) {
		hc := &http.Client{Transport: &http.Transport{}}
		p.clients = append(p.clients, hc)
		return newFlowOn(t, url, hc)
	}
	p.host, p.hostEvents = mk()
	p.guest, p.guestEvents = mk()
	return p
}

// newFlowOn makes a flow that reaches the board at url with hc.
func newFlowOn(t *testing.T, url string, hc *http.Client) (*roomFlow, *recordedEvents) {
	t.Helper()
	bc, err := newBoardClient(url, clientOptions{http: hc})
	if err != nil {
		t.Fatal(err)
	}
	ev := newRecordedEvents()
	return newRoomFlow(meeting{board: bc, url: url}, config{}, env{}, ev), ev
}

// flowsOn makes a host's flow on the board at hostURL and a joiner's at
// guestURL (the same board, seen through different handlers), with one
// HTTP client for both, closed when the test ends.
func flowsOn(t *testing.T, hostURL, guestURL string) (host, guest *roomFlow, hostEvents *recordedEvents, hc *http.Client) {
	t.Helper()
	hc = &http.Client{Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	host, hostEvents = newFlowOn(t, hostURL, hc)
	guest, _ = newFlowOn(t, guestURL, hc)
	return host, guest, hostEvents, hc
}

// connectFlows runs host's flow for room (a chosen code, password "pw")
// and joins it with guest: by the gopeer code the host posts, or by the
// room code alone. Both links close when the test ends.
func connectFlows(t *testing.T, ctx context.Context, host, guest *roomFlow, hostEvents *recordedEvents, room string, gopeerCode bool) (hostLink, guestLink *peerLink) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		var err error
		hostLink, err = host.host(ctx, room, "pw", true)
		done <- err
	}()
	code := room
	if posted := <-hostEvents.posted; gopeerCode {
		code = posted
	}
	guestLink, err := guest.join(ctx, code, "pw")
	if err != nil {
		t.Fatal("join:", err)
	}
	t.Cleanup(guestLink.close)
	if err := <-done; err != nil {
		t.Fatal("host:", err)
	}
	t.Cleanup(hostLink.close)
	return hostLink, guestLink
}

// TestJoinerAsksTheBoardLittle: a joiner reads the room once, offer and
// answer slot together, and posts its answer with no look of its own
// first: on a far board each request is a round trip (BenchmarkFarBoard).
// A joiner that has confirmed a gopeer host leaves the removal of the room
// to that host, which starts it as soon as it has the answer; the board
// still ends empty.
func TestJoinerAsksTheBoardLittle(t *testing.T) {
	for _, tc := range []struct {
		name       string
		gopeerCode bool
		deletes    bool // whether the joiner removes anything itself
	}{
		{"room code", false, true},
		{"gopeer code", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gopeerBin(t)
			b := newBoard(boardOptions{secret: flowTestSecret})
			defer b.Close()
			hostSrv := httptest.NewServer(b)
			defer hostSrv.Close()
			var mu sync.Mutex
			var asked []string
			// The joiner's two removals go at once: the board answers the
			// room's only once the answer's has come too.
			answerRemoval, removedOnce := make(chan struct{}), new(sync.Once)
			held, together := answerAfter(b, http.MethodDelete, "/rooms/ASKLIT.json", answerRemoval)
			guestSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				line := r.Method + " " + r.URL.Path
				if r.Header.Get("Accept") == "text/event-stream" {
					line += " (stream)"
				}
				mu.Lock()
				asked = append(asked, line)
				mu.Unlock()
				if line == "DELETE /rooms/ASKLIT/answer.json" {
					removedOnce.Do(func() { close(answerRemoval) })
				}
				held.ServeHTTP(w, r)
			}))
			defer guestSrv.Close()
			host, guest, hostEvents, hc := flowsOn(t, hostSrv.URL, guestSrv.URL)
			ctx, cancel := context.WithTimeout(context.Background(), eventWait)
			defer cancel()

			_, guestLink := connectFlows(t, ctx, host, guest, hostEvents, "ASKLIT", tc.gopeerCode)
			// The joiner's removal runs beside the chat; its link waits for
			// it as it closes.
			guestLink.close()

			mu.Lock()
			got := append([]string(nil), asked...)
			mu.Unlock()
			// Then, at most: the stream that guards the answer, and the
			// joiner's own removal.
			want := []string{"GET /rooms/ASKLIT.json", "PUT /rooms/ASKLIT/answer.json"}
			if !slices.Equal(got[:min(len(got), len(want))], want) {
				t.Errorf("the joiner asked the board %q first, want %q", got, want)
			}
			deleted := slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "DELETE") })
			if deleted != tc.deletes {
				t.Errorf("the joiner removed something itself: %v, want %v (it asked %q)", deleted, tc.deletes, got)
			}
			if tc.deletes && !<-together {
				t.Errorf("the joiner removed the room and its answer one after the other (it asked %q)", got)
			}
			admin, err := newBoardClient(hostSrv.URL+"?auth="+flowTestSecret, clientOptions{http: hc})
			if err != nil {
				t.Fatal(err)
			}
			if v, err := admin.get(ctx, "rooms"); err != nil || !isNull(v) {
				t.Errorf("board after connect holds %s (%v), want nothing", v, err)
			}
		})
	}
}

// connect runs both flows to the end and returns their links.
func (p flowPair) connect(t *testing.T, ctx context.Context, code string, beforeJoin func()) (*peerLink, *peerLink) {
	t.Helper()
	type result struct {
		link *peerLink
		err  error
	}
	hostDone := make(chan result, 1)
	go func() {
		l, err := p.host.host(ctx, code, "pw", true)
		hostDone <- result{l, err}
	}()
	select {
	case <-p.hostEvents.posted:
	case r := <-hostDone:
		t.Fatalf("host ended before posting: %v", r.err)
	}
	beforeJoin()
	guest, err := p.guest.join(ctx, code, "pw")
	if err != nil {
		t.Fatalf("join: %v", err)
	}
	r := <-hostDone
	if r.err != nil {
		t.Fatalf("host: %v", r.err)
	}
	return r.link, guest
}

// TestFlowsSurviveBoardFaults: a board that restarts empty mid-handshake
// loses the offer (the host posts it again) or the answer (the joiner posts
// it again); a stranger deletes the room, or takes the answer slot first
// (the host clears it, the joiner waits and posts). The peers still connect,
// the board ends empty, and no goroutine is left behind.
func TestFlowsSurviveBoardFaults(t *testing.T) {
	cases := []struct {
		name string
		// arrange sets the fault up; it runs once the host's offer is posted.
		arrange func(rb *restartableBoard)
		// hostWarns and guestWarns are what each side must have said.
		hostWarns, guestWarns string
	}{
		{
			name:      "restart after the offer",
			arrange:   func(rb *restartableBoard) { rb.restart() },
			hostWarns: "posting it again",
		},
		{
			name: "restart as the answer arrives",
			arrange: func(rb *restartableBoard) {
				var once sync.Once
				rb.mu.Lock()
				rb.intercept = func(w http.ResponseWriter, r *http.Request) bool {
					if r.Method != http.MethodPut || !strings.HasSuffix(r.URL.Path, "/answer.json") {
						return false
					}
					lost := false
					once.Do(func() { lost = true })
					if lost { // the board takes the answer and dies with it
						w.Write([]byte("null"))
						rb.restart()
					}
					return lost
				}
				rb.mu.Unlock()
			},
			hostWarns:  "posting it again",
			guestWarns: "posting it again",
		},
		{
			name: "the board fails for a while",
			arrange: func(rb *restartableBoard) {
				var failed atomic.Int64
				rb.mu.Lock()
				rb.intercept = func(w http.ResponseWriter, r *http.Request) bool {
					// Cut the streams open now, then answer 503 to the
					// next few requests of any kind.
					if failed.Add(1) > 6 {
						return false
					}
					w.WriteHeader(http.StatusServiceUnavailable)
					w.Write([]byte(`{"error":"Service Unavailable"}`))
					return true
				}
				rb.mu.Unlock()
				rb.restartKeeping()
			},
			hostWarns: "lost the board connection",
		},
		{
			// The host owns its room on gopeer's board: the stranger is
			// refused. (On a board with no owners the offer goes, and the
			// host puts it back: TestStrangerRacesTheOffer.)
			name: "a stranger tries to delete the room",
			arrange: func(rb *restartableBoard) {
				rec := httptest.NewRecorder()
				rb.ServeHTTP(rec, httptest.NewRequest(http.MethodDelete, "/rooms/RESTRT.json", nil))
				if rec.Code != http.StatusUnauthorized {
					panic(fmt.Sprintf("stranger's DELETE: %d %s", rec.Code, rec.Body))
				}
			},
		},
		{
			name: "a stranger's answer beats the joiner's",
			arrange: func(rb *restartableBoard) {
				var once sync.Once
				rb.mu.Lock()
				rb.intercept = func(w http.ResponseWriter, r *http.Request) bool {
					if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/answer.json") {
						once.Do(func() {
							body := strings.NewReader(`{"payload":"gAAAAABnot-a-real-token==","timestamp":1}`)
							rec := httptest.NewRecorder()
							rb.board.ServeHTTP(rec, httptest.NewRequest(http.MethodPut, r.URL.Path, body))
						})
					}
					return false
				}
				rb.mu.Unlock()
			},
			hostWarns: "ignored an answer",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			baseline := runtime.NumGoroutine()
			rb := &restartableBoard{board: newBoard(boardOptions{secret: flowTestSecret})}
			srv := httptest.NewServer(rb)
			p := newFlowPair(t, srv.URL)
			ctx, cancel := context.WithTimeout(context.Background(), eventWait)
			defer cancel()

			host, guest := p.connect(t, ctx, "RESTRT", func() { c.arrange(rb) })
			if c.hostWarns != "" && !p.hostEvents.warned(c.hostWarns) {
				t.Errorf("host did not say %q; it said %q", c.hostWarns, p.hostEvents.said())
			}
			if c.guestWarns != "" && !p.guestEvents.warned(c.guestWarns) {
				t.Errorf("joiner did not say %q; it said %q", c.guestWarns, p.guestEvents.said())
			}
			if err := host.send(ctx, "after the restart"); err != nil {
				t.Fatal(err)
			}
			if m := <-guest.incoming; m.text != "after the restart" {
				t.Errorf("joiner received %q", m.text)
			}

			admin, err := newBoardClient(srv.URL+"?auth="+flowTestSecret, clientOptions{http: p.clients[0]})
			if err != nil {
				t.Fatal(err)
			}
			if v, err := admin.get(ctx, "rooms"); err != nil || !isNull(v) {
				t.Errorf("board after connect holds %s (%v), want nothing", v, err)
			}
			host.close()
			guest.close()
			srv.Close()
			rb.board.Close()
			for _, hc := range p.clients {
				hc.CloseIdleConnections()
			}
			waitForGoroutines(t, baseline)
		})
	}
}

// waitForGoroutines waits until no more goroutines run than before the
// session began: pion's and the board client's end once they are closed.
func waitForGoroutines(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(eventWait)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines outlive the session (%d before):\n%s",
				runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// permissionDenied answers as Firebase's rules refuse a request, and says
// the request was handled.
func permissionDenied(w http.ResponseWriter) bool {
	w.WriteHeader(http.StatusUnauthorized)
	w.Write([]byte(`{"error":"Permission denied"}`))
	return true
}

// TestFlowsOnBoardThatHidesRooms: on a board whose rules let a client read a
// room's offer and answer but not the room itself (as some Firebase rules
// may), the host follows the answer alone and the peers still connect.
func TestFlowsOnBoardThatHidesRooms(t *testing.T) {
	rb := &restartableBoard{board: newBoard(boardOptions{secret: flowTestSecret})}
	denied := make(chan struct{}, 16)
	rb.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || r.URL.Path != "/rooms/HIDDEN.json" {
			return false
		}
		denied <- struct{}{}
		return permissionDenied(w)
	}
	srv := httptest.NewServer(rb)
	defer srv.Close()
	p := newFlowPair(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), eventWait)
	defer cancel()
	host, guest := p.connect(t, ctx, "HIDDEN", func() {})
	defer host.close()
	defer guest.close()
	if len(denied) == 0 {
		t.Error("nothing asked for the room itself: the test did not test the fallback")
	}
}

// TestJoinSaysNoSuchRoomEarly: a joiner whose room is not on the board says
// so after a few seconds (a mistyped code?) and keeps waiting; cancelled,
// it claims to have removed nothing, since it posted nothing.
func TestJoinSaysNoSuchRoomEarly(t *testing.T) {
	srv := httptest.NewServer(newBoard(boardOptions{}))
	defer srv.Close()
	p := newFlowPair(t, srv.URL)
	p.guest.noRoomAfter = 50 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := p.guest.join(ctx, "NOROOM", "pw")
		done <- err
	}()
	deadline := time.Now().Add(eventWait)
	for !p.guestEvents.warned("room NOROOM is not on the board yet: check the code") {
		if time.Now().After(deadline) {
			t.Fatalf("the joiner never said the room is not there; it said %q", p.guestEvents.said())
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("the joiner stopped waiting: %v", err)
	default:
	}
	cancel()
	var fl *failure
	if err := <-done; !errors.As(err, &fl) || fl.kind != kindCancelled || fl.msg != "cancelled" {
		t.Errorf("cancelled join ended with %v, want just \"cancelled\"", err)
	}
}

// TestJoinAnswerRefused: a board that refuses the joiner's answer while its
// slot is empty, again and again, refuses the answer itself; the joiner
// says so after answerRefusalsBelieved tries, and does not keep writing it
// (it once mistook this for another joiner's answer in the slot and tried
// again with no pause until the timeout).
func TestJoinAnswerRefused(t *testing.T) {
	rb := &restartableBoard{board: newBoard(boardOptions{secret: flowTestSecret})}
	var puts atomic.Int64
	rb.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPut || !strings.HasSuffix(r.URL.Path, "/answer.json") {
			return false
		}
		puts.Add(1)
		return permissionDenied(w)
	}
	srv := httptest.NewServer(rb)
	defer srv.Close()
	p := newFlowPair(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), eventWait)
	defer cancel()
	hostCtx, stopHost := context.WithCancel(ctx)
	hostDone := make(chan error, 1)
	go func() {
		_, err := p.host.host(hostCtx, "REFUSD", "pw", true)
		hostDone <- err
	}()
	<-p.hostEvents.posted
	_, err := p.guest.join(ctx, "REFUSD", "pw")
	stopHost()
	<-hostDone
	var fl *failure
	if !errors.As(err, &fl) || fl.kind != kindBoard || !strings.Contains(fl.msg, "401") || fl.hint == "" {
		t.Errorf("join ended with %v, want the board's refusal with a hint", err)
	}
	if n := puts.Load(); n != answerRefusalsBelieved {
		t.Errorf("the joiner wrote its refused answer %d times, want %d", n, answerRefusalsBelieved)
	}
}

// TestJoinTimesOutBeforeAnswering: a joiner that found the room but never
// got the answer slot (another answer holds it) says so when time runs
// out, not that the room never opened.
func TestJoinTimesOutBeforeAnswering(t *testing.T) {
	srv := httptest.NewServer(newBoard(boardOptions{secret: flowTestSecret}))
	defer srv.Close()
	p := newFlowPair(t, srv.URL)
	admin, err := newBoardClient(srv.URL+"?auth="+flowTestSecret, clientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sdp, err := os.ReadFile("testdata/aiortc-1.4-offer.sdp")
	if err != nil {
		t.Fatal(err)
	}
	offer, err := newPypeerDialect("HELD01", "pw", time.Now).seal(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: string(sdp)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := admin.put(ctx, "rooms/HELD01/offer", offer); err != nil {
		t.Fatal(err)
	}
	if err := admin.put(ctx, "rooms/HELD01/answer", map[string]any{"payload": "someone else's", "timestamp": 1}); err != nil {
		t.Fatal(err)
	}
	jctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err = p.guest.join(jctx, "HELD01", "pw")
	var fl *failure
	if !errors.As(err, &fl) || fl.kind != kindTimeout || !strings.Contains(fl.msg, "before the answer to room HELD01 could be posted") {
		t.Errorf("join ended with %v, want a timeout before answering", err)
	}
}

// raceOffer is a stranger who knows only the room code: two pipelined
// requests on one connection, DELETE the offer and PUT one sealed with
// another password, which win the race against a host's re-post. It
// returns the two statuses.
func raceOffer(t *testing.T, base, code string) [2]int {
	t.Helper()
	junk, _ := json.Marshal(map[string]any{
		"payload":   sealRaw(t, code, "the stranger's", []byte(`{"sdp":"v=0","type":"offer"}`), time.Now()),
		"timestamp": time.Now().UnixMilli(),
	})
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	path := "/rooms/" + code + "/offer.json"
	fmt.Fprintf(conn, "DELETE %s HTTP/1.1\r\nHost: board\r\n\r\n"+
		"PUT %s HTTP/1.1\r\nHost: board\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		path, path, len(junk), junk)
	var statuses [2]int
	r := bufio.NewReader(conn)
	for i := range statuses {
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		statuses[i] = resp.StatusCode
	}
	return statuses
}

// TestStrangerRacesTheOffer: right after a password room's host posts its
// offer, a stranger deletes it and puts junk in its place. On gopeer's
// board the host owns its room and the stranger is refused. On a board
// that cannot tell owners (Firebase), the stranger wins the race; the host
// sees its offer replaced and puts it back, the joiner keeps watching, and
// they connect: the room is not killed.
func TestStrangerRacesTheOffer(t *testing.T) {
	for _, owned := range []bool{true, false} {
		t.Run(map[bool]string{true: "the host owns its room", false: "a board with no owners"}[owned], func(t *testing.T) {
			rb := &restartableBoard{board: newBoard(boardOptions{secret: flowTestSecret})}
			if !owned {
				rb.intercept = func(w http.ResponseWriter, r *http.Request) bool {
					r.Header.Del(roomClaimHeader) // as Firebase ignores it
					return false
				}
			}
			srv := httptest.NewServer(rb)
			defer srv.Close()
			p := newFlowPair(t, srv.URL)
			ctx, cancel := context.WithTimeout(context.Background(), eventWait)
			defer cancel()
			host, guest := p.connect(t, ctx, "RACE02", func() {
				statuses := raceOffer(t, srv.URL, "RACE02")
				if want := map[bool][2]int{true: {401, 401}, false: {200, 200}}[owned]; statuses != want {
					t.Errorf("the stranger's DELETE and PUT: %v, want %v", statuses, want)
				}
			})
			defer host.close()
			defer guest.close()
			replaced := p.hostEvents.warned("was replaced by someone else; putting ours back")
			if owned == replaced {
				t.Errorf("owned %v: host warned of a replaced offer: %v; it said %q", owned, replaced, p.hostEvents.said())
			}
		})
	}
}

// TestHostOnFullBoard: a host whose board is full (its rooms, or its
// bytes) is told so at once, keeps trying, and at its timeout says the
// board was full, not that nobody joined.
func TestHostOnFullBoard(t *testing.T) {
	big := map[string]any{"payload": strings.Repeat("x", 4000), "timestamp": 1}
	tests := []struct {
		name string
		opts boardOptions
	}{
		{"rooms", boardOptions{maxRooms: 1}},
		{"bytes", boardOptions{maxBytes: 4096}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.secret = flowTestSecret
			srv := httptest.NewServer(newBoard(tt.opts))
			defer srv.Close()
			admin, err := newBoardClient(srv.URL+"?auth="+flowTestSecret, clientOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := admin.put(context.Background(), "rooms/FULL01/offer", big); err != nil {
				t.Fatal(err)
			}
			p := newFlowPair(t, srv.URL)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_, err = p.host.host(ctx, "HOST01", "pw", false)
			var fl *failure
			if !errors.As(err, &fl) || fl.kind != kindTimeout || !strings.Contains(fl.msg, "the board is full") {
				t.Errorf("host ended with %v, want a timeout that says the board is full", err)
			}
			if !p.hostEvents.warned("the board is full") {
				t.Errorf("the host was not told the board is full while it waited: %q", p.hostEvents.said())
			}
		})
	}
}

// startUnlimitedBoard is startTestBoard without the per-address rate
// limits, for benchmarks that run many sessions from one address.
func startUnlimitedBoard(tb testing.TB) string {
	tb.Helper()
	b := startGopeer(tb, []string{"FIREBASE_DB_SECRET=" + e2eBoardSecret}, "-serve", "127.0.0.1:0",
		"-write-rate", "0", "-read-rate", "0")
	return b.line()
}

// BenchmarkFlowConnect times whole sessions in one process, host start to
// both links confirmed, through a real board: the joiner with the host's
// gopeer code (native: CPace and the confirmation) and with the room code
// (pypeer's session), alternating, so that noise hits both alike. In
// process there is no process start-up to drown the difference in, which
// issue 13 bounds by one peer round trip (BenchmarkNativeConfirm times
// one on a link).
func BenchmarkFlowConnect(b *testing.B) {
	url := startUnlimitedBoard(b)
	mk := func() (*roomFlow, *recordedEvents) {
		bc, err := newBoardClient(url, clientOptions{http: &http.Client{Transport: &http.Transport{}}})
		if err != nil {
			b.Fatal(err)
		}
		ev := newRecordedEvents()
		return newRoomFlow(meeting{board: bc, url: url}, config{}, env{}, ev), ev
	}
	host, hostEvents := mk()
	guest, _ := mk()
	times := map[string][]time.Duration{}
	for i := 0; b.Loop(); i++ {
		for _, mode := range []string{"gopeer", "pypeer"} {
			room := fmt.Sprintf("FLW%03d", i%1000)
			start := time.Now()
			hostLink := make(chan *peerLink, 1)
			go func() {
				l, err := host.host(b.Context(), room, "pw", true)
				if err != nil {
					b.Error(err)
				}
				hostLink <- l
			}()
			code := <-hostEvents.posted
			if mode == "pypeer" {
				code = room
			}
			g, err := guest.join(b.Context(), code, "pw")
			if err != nil {
				b.Fatal(err)
			}
			h := <-hostLink
			times[mode] = append(times[mode], time.Since(start))
			if got, _, _ := h.protocol(); got != mode {
				b.Fatalf("connected as %s, want %s", got, mode)
			}
			g.close()
			h.close()
		}
	}
	reportConnectModes(b, times)
}

// askedSTUN serves STUN on loopback and returns its ICE server
// configuration and a channel closed once it is first asked.
func askedSTUN(t *testing.T) ([]webrtc.ICEServer, <-chan struct{}) {
	t.Helper()
	ln, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	asked := make(chan struct{})
	serveSTUN(t, askedConn{ln, new(sync.Once), asked})
	return []webrtc.ICEServer{{URLs: []string{"stun:" + ln.LocalAddr().String()}}}, asked
}

// answerAfter serves next, except that its answer to the first request
// of method for path (not a stream) waits until after is closed (at most
// 5 s); the channel returned says whether it was.
func answerAfter(next http.Handler, method, path string, after <-chan struct{}) (http.Handler, <-chan bool) {
	was := make(chan bool, 1)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == method && r.URL.Path == path && r.Header.Get("Accept") != "text/event-stream" {
			ok := false
			select {
			case <-after:
				ok = true
			case <-time.After(5 * time.Second):
			}
			select {
			case was <- ok:
			default: // only the first counts
			}
		}
		next.ServeHTTP(w, r)
	}), was
}

// askedConn closes asked when the first packet arrives.
type askedConn struct {
	net.PacketConn
	once  *sync.Once
	asked chan struct{}
}

func (c askedConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(p)
	if err == nil {
		c.once.Do(func() { close(c.asked) })
	}
	return n, addr, err
}

// TestHostLooksAtTheRoomWhileGathering: the host's look at its room (is
// the code free?) goes out while ICE gathers, chosen code or random, so
// the connection it opens is ready for the offer: the board holds its
// answer to the look until the host has asked its STUN server, which a
// host that gathered only after the look never would.
func TestHostLooksAtTheRoomWhileGathering(t *testing.T) {
	gopeerBin(t) // loopback only
	for _, chosen := range []bool{true, false} {
		t.Run(fmt.Sprintf("chosen code %v", chosen), func(t *testing.T) {
			servers, asked := askedSTUN(t)
			const room = "LOOKGA"
			b := newBoard(boardOptions{secret: flowTestSecret})
			defer b.Close()
			handler, looked := answerAfter(b, http.MethodGet, "/rooms/"+room+"/offer.json", asked)
			srv := httptest.NewServer(handler)
			defer srv.Close()
			hc := &http.Client{Transport: &http.Transport{}}
			defer hc.CloseIdleConnections()
			bc, err := newBoardClient(srv.URL, clientOptions{http: hc})
			if err != nil {
				t.Fatal(err)
			}
			cfg := config{iceServers: servers}
			events := newRecordedEvents()
			host := newRoomFlow(meeting{board: bc, url: srv.URL}, cfg, env{}, events)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, err := host.host(ctx, room, "pw", chosen)
				done <- err
			}()
			select {
			case ok := <-looked:
				if !ok {
					t.Error("the look at the room was answered before the host asked its STUN server: gathering waited for it")
				}
			case err := <-done:
				t.Fatalf("the host ended without looking at its room: %v", err)
			case <-time.After(eventWait):
				t.Fatal("the host never looked at its room")
			}
			select {
			case <-events.posted:
			case err := <-done:
				t.Fatalf("the host ended before posting: %v", err)
			}
			cancel()
			<-done
		})
	}
}

// TestJoinerGathersWhileLookingForTheRoom: the joiner asks its STUN server
// while it reads the room, not after: the board holds its answer to that
// read until the STUN server has been asked, which a joiner that made its
// peer connection only once it had the offer never did.
func TestJoinerGathersWhileLookingForTheRoom(t *testing.T) {
	gopeerBin(t) // loopback only
	servers, asked := askedSTUN(t)
	const room = "GATHLK"
	b := newBoard(boardOptions{secret: flowTestSecret})
	defer b.Close()
	hostSrv := httptest.NewServer(b)
	defer hostSrv.Close()
	handler, early := answerAfter(b, http.MethodGet, "/rooms/"+room+".json", asked)
	guestSrv := httptest.NewServer(handler)
	defer guestSrv.Close()
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	host, hostEvents := newFlowOn(t, hostSrv.URL, hc)
	bc, err := newBoardClient(guestSrv.URL, clientOptions{http: hc})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config{iceServers: servers}
	guest := newRoomFlow(meeting{board: bc, url: guestSrv.URL}, cfg, env{}, newRecordedEvents())
	ctx, cancel := context.WithTimeout(context.Background(), eventWait)
	defer cancel()

	connectFlows(t, ctx, host, guest, hostEvents, room, false)
	if !<-early {
		t.Error("the joiner's read of the room was answered before it asked its STUN server: it gathered only after")
	}
}

// TestHostRemovesTheRoomWhileThePeersConnect: a host removes its room as
// soon as it has the answer, not once its own channel is confirmed. The
// board applies the joiner's answer but holds its reply until the host's
// removal has come: the joiner sends its confirmation tag only after that
// reply, so a host that removed its room only after the confirmation
// would wait for a tag that never comes.
func TestHostRemovesTheRoomWhileThePeersConnect(t *testing.T) {
	gopeerBin(t) // loopback only
	const room = "RMWHIL"
	b := newBoard(boardOptions{secret: flowTestSecret})
	defer b.Close()
	removed, removedOnce := make(chan struct{}), new(sync.Once)
	hostSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete && r.URL.Path == "/rooms/"+room+".json" {
			removedOnce.Do(func() { close(removed) })
		}
		b.ServeHTTP(w, r)
	}))
	defer hostSrv.Close()
	early := make(chan bool, 1) // whether the host's removal came while the answer's reply waited
	guestSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut || r.URL.Path != "/rooms/"+room+"/answer.json" {
			b.ServeHTTP(w, r)
			return
		}
		reply := httptest.NewRecorder()
		b.ServeHTTP(reply, r) // the answer is on the board: the host's stream has it
		ok := false
		select {
		case <-removed:
			ok = true
		case <-time.After(5 * time.Second):
		}
		select {
		case early <- ok:
		default:
		}
		maps.Copy(w.Header(), reply.Header())
		w.WriteHeader(reply.Code)
		w.Write(reply.Body.Bytes())
	}))
	defer guestSrv.Close()
	host, guest, hostEvents, _ := flowsOn(t, hostSrv.URL, guestSrv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), eventWait)
	defer cancel()

	connectFlows(t, ctx, host, guest, hostEvents, room, true) // the gopeer code: the host confirms
	if !<-early {
		t.Error("the host removed its room only after the peers were connected")
	}
}

// TestJoinerChatsWhileItRemovesTheRoom: a joiner with the room code (whose
// host may be a pypeer, which leaves the room on the board) removes the
// room itself, beside the chat: its flow returns before the board has
// answered the removal, and closing the link waits for it.
func TestJoinerChatsWhileItRemovesTheRoom(t *testing.T) {
	gopeerBin(t) // loopback only
	const room = "RMBSID"
	b := newBoard(boardOptions{secret: flowTestSecret})
	defer b.Close()
	hostSrv := httptest.NewServer(b)
	defer hostSrv.Close()
	joined := make(chan struct{})
	held, afterJoin := answerAfter(b, http.MethodDelete, "/rooms/"+room+".json", joined)
	guestSrv := httptest.NewServer(held)
	defer guestSrv.Close()
	host, guest, hostEvents, hc := flowsOn(t, hostSrv.URL, guestSrv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), eventWait)
	defer cancel()

	_, guestLink := connectFlows(t, ctx, host, guest, hostEvents, room, false)
	close(joined)
	guestLink.close()
	if !<-afterJoin {
		t.Error("the joiner's flow waited for the board to answer its removal of the room")
	}
	admin, err := newBoardClient(hostSrv.URL+"?auth="+flowTestSecret, clientOptions{http: hc})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := admin.get(ctx, "rooms"); err != nil || !isNull(v) {
		t.Errorf("board after the link closed holds %s (%v), want nothing", v, err)
	}
}
