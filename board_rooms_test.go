package main

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// boardTestClock is an injected clock the test moves by hand.
type boardTestClock struct{ ms atomic.Int64 }

func newBoardTestClock() *boardTestClock {
	c := &boardTestClock{}
	c.ms.Store(boardTestMs)
	return c
}

func (c *boardTestClock) now() time.Time                   { return time.UnixMilli(c.ms.Load()) }
func (c *boardTestClock) add(d time.Duration)              { c.ms.Add(d.Milliseconds()) }
func (c *boardTestClock) expire(b *board, d time.Duration) { c.add(d); b.expireRooms() }

// TestBoardRoomsExpire: a room is removed when it is older than the TTL by
// the board's clock, whatever timestamp its writer claimed. Streams in it
// get cancel and end; a stream above it sees the room go.
func TestBoardRoomsExpire(t *testing.T) {
	clock := newBoardTestClock()
	srv, b := newBoardTestServer(t, boardOptions{keepAlive: time.Hour, now: clock.now, roomTTL: 10 * time.Minute})
	offer := `{"payload":"o","timestamp":1}` // a writer's clock from 1970
	boardTestMust(t, srv, boardTestReq{method: "PUT", path: "/rooms/OLD123/offer.json", body: offer, anon: true})
	clock.add(4 * time.Minute)
	boardTestMust(t, srv, boardTestReq{method: "PUT", path: "/rooms/NEW123/offer.json", body: offer, anon: true})

	answer := boardTestOpenStream(t, srv.Client(), srv.URL+"/rooms/OLD123/answer.json")
	room := boardTestOpenStream(t, srv.Client(), srv.URL+"/rooms/OLD123.json")
	rooms, _ := boardTestFollow(t, srv, "/rooms.json")
	boardTestNext(t, answer)
	boardTestNext(t, room)

	clock.expire(b, 5*time.Minute) // OLD123 is 9 minutes old
	if v := boardTestGet(t, srv, "/rooms/OLD123/offer.json"); v == nil {
		t.Fatal("a room expired before its TTL")
	}
	clock.expire(b, time.Minute) // 10 minutes
	for name, events := range map[string]<-chan boardTestEvent{"answer": answer, "room": room} {
		if ev := boardTestNext(t, events); ev != (boardTestEvent{"cancel", "null"}) {
			t.Errorf("%s stream: event %v, want cancel", name, ev)
		}
		boardTestEnd(t, events)
	}
	if ev := boardTestNext(t, rooms); ev != (boardTestEvent{"put", `{"path":"/OLD123","data":null}`}) {
		t.Errorf("rooms stream: event %v, want the room deleted", ev)
	}
	boardTestJSONEqual(t, "rooms", boardTestMust(t, srv, boardTestReq{method: "GET", path: "/rooms.json"}), `{"NEW123":{"offer":`+offer+`}}`)

	clock.expire(b, 6*time.Minute)
	boardTestJSONEqual(t, "rooms", boardTestMust(t, srv, boardTestReq{method: "GET", path: "/rooms.json"}), `null`)
	if n := b.snapshot().roomsExpired; n != 2 {
		t.Errorf("%d rooms counted as expired, want 2", n)
	}
}

// TestBoardRoomsTrackEveryWrite: the TTL counts from when a room appears,
// however it appears, and starts afresh when a room is deleted and made
// again.
func TestBoardRoomsTrackEveryWrite(t *testing.T) {
	clock := newBoardTestClock()
	srv, b := newBoardTestServer(t, boardOptions{now: clock.now, roomTTL: time.Minute})
	writes := []boardTestReq{
		{method: "PUT", path: "/.json", body: `{"rooms":{"A":{"offer":1},"B":{"offer":1}},"x":1}`},
		{method: "PATCH", path: "/.json", body: `{"rooms/C/offer":1,"y":2}`},
		{method: "PATCH", path: "/rooms.json", body: `{"D":{"offer":1},"B":null}`},
		{method: "POST", path: "/rooms.json", body: `{"offer":1}`},
		{method: "PUT", path: "/rooms/E.json", body: `{"offer":1}`},
	}
	for _, w := range writes {
		boardTestMust(t, srv, w)
	}
	if got := b.snapshot().rooms; got != 5 {
		t.Fatalf("%d rooms tracked, want 5 (A, C, D, E and the pushed one)", got)
	}
	clock.add(30 * time.Second)
	boardTestMust(t, srv, boardTestReq{method: "DELETE", path: "/rooms/A.json"})
	boardTestMust(t, srv, boardTestReq{method: "PUT", path: "/rooms/A/offer.json", body: `1`})
	clock.expire(b, 30*time.Second)
	boardTestJSONEqual(t, "tree", boardTestMust(t, srv, boardTestReq{method: "GET", path: "/.json"}), `{"rooms":{"A":{"offer":1}},"x":1,"y":2}`)
	boardTestMust(t, srv, boardTestReq{method: "PUT", path: "/rooms.json", body: `{"Z":{"offer":1}}`})
	if got := b.snapshot().rooms; got != 1 {
		t.Errorf("%d rooms tracked after rooms/ was replaced, want 1", got)
	}
	clock.expire(b, time.Minute)
	boardTestJSONEqual(t, "tree", boardTestMust(t, srv, boardTestReq{method: "GET", path: "/.json"}), `{"x":1,"y":2}`)
}

// TestBoardRoomsExpireWhileServing: serveBoard runs the expiry by itself.
func TestBoardRoomsExpireWhileServing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts := boardOptions{keepAlive: time.Hour, roomTTL: 20 * time.Millisecond}
	b := newBoard(opts)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serveBoard(ctx, ln, b, opts, nil) }()
	t.Cleanup(func() {
		cancel()
		<-served
	})
	base := "http://" + ln.Addr().String()
	client := boardTestClient(t)
	// The stream is open before the room appears, so the room cannot
	// expire before the stream is in it.
	events := boardTestOpenStream(t, client, base+"/rooms/ABC123.json")
	boardTestNext(t, events)
	boardTestSendMust(t, client, base, boardTestReq{method: "PUT", path: "/rooms/ABC123/offer.json", body: `{"payload":"o","timestamp":1}`, anon: true})
	if ev := boardTestNext(t, events); ev.name != "put" {
		t.Fatalf("event %v, want the offer", ev)
	}
	if ev := boardTestNext(t, events); ev != (boardTestEvent{"cancel", "null"}) {
		t.Fatalf("event %v, want cancel", ev)
	}
	boardTestEnd(t, events)
}
