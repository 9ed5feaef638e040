package main

// The outside review's exhaustion attacks on the board (issue 12, #3),
// each kept as a test: many addresses filling the rooms, the bytes and the
// stream slots, and one client guessing room codes. The connection cap,
// which needs real sockets from many addresses, is in
// board_limits_linux_test.go.

import (
	"cmp"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// boardTestAs runs one request through b's handler as the client at addr
// ("" for the admin).
func boardTestAs(b *board, addr, method, path, body string, header ...string) *httptest.ResponseRecorder {
	target := path
	if addr == "" {
		target += "?auth=" + boardTestSecret
	}
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.RemoteAddr = cmp.Or(addr, "192.0.2.250") + ":4000"
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	b.ServeHTTP(rec, req)
	return rec
}

// boardTestAttacker is the n-th address of a crowd, in 10.0.0.0/8.
func boardTestAttacker(n int) string { return fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255) }

// boardTestCode is the room code numbered n.
func boardTestCode(n int) string {
	s := strings.ToUpper(strconv.FormatInt(int64(n), 36))
	return strings.Repeat("0", roomCodeLen-len(s)) + s
}

func boardTestOffer(payload string) string {
	return `{"payload":"` + payload + `","timestamp":1}`
}

// TestBoardReadsWeighMisses: the review enumerated 13,000 room codes a
// second from one client. Reads are limited per address, and a read of a
// room that does not exist costs boardMissCost reads, so a guesser gets a
// burst of 20 guesses and then 2 a second, while a client following rooms
// it knows reads 10 times as often. Streams are reads too, and the admin
// is not limited.
func TestBoardReadsWeighMisses(t *testing.T) {
	clock := newBoardTestClock()
	b := newBoard(boardOptions{now: clock.now, secret: boardTestSecret, writeRate: -1})
	if rec := boardTestAs(b, "", "PUT", "/rooms/KNOWN1/offer.json", boardTestOffer("o")); rec.Code != http.StatusOK {
		t.Fatalf("admin PUT: %d", rec.Code)
	}
	const guesser, follower = "198.51.100.1", "198.51.100.2"
	guesses := func() (answered int, last *httptest.ResponseRecorder) {
		for i := range 1000 {
			last = boardTestAs(b, guesser, "GET", "/rooms/"+boardTestCode(i+1000)+"/offer.json", "")
			if last.Code != http.StatusOK {
				return answered, last
			}
			answered++
		}
		return answered, last
	}
	wantBurst := boardDefaultReadBurst / boardMissCost
	answered, refusal := guesses()
	if answered != wantBurst {
		t.Errorf("a guesser got %d answers at once, want %d", answered, wantBurst)
	}
	if refusal.Code != http.StatusTooManyRequests || refusal.Header().Get("Retry-After") == "" {
		t.Errorf("guess past the burst: status %d, Retry-After %q; want 429 with Retry-After", refusal.Code, refusal.Header().Get("Retry-After"))
	}
	boardTestCheckError(t, refusal.Body.Bytes())
	stream := boardTestAs(b, guesser, "GET", "/rooms/ZZZZZ9/offer.json", "", "Accept", "text/event-stream")
	if stream.Code != http.StatusTooManyRequests {
		t.Errorf("a stream from the spent guesser: status %d, want 429", stream.Code)
	}
	clock.add(time.Second)
	if answered, _ := guesses(); answered != boardDefaultReadRate/boardMissCost {
		t.Errorf("a second later the guesser got %d more answers, want %d", answered, boardDefaultReadRate/boardMissCost)
	}

	hits := 0
	for range 1000 {
		if boardTestAs(b, follower, "GET", "/rooms/KNOWN1/offer.json", "").Code != http.StatusOK {
			break
		}
		hits++
	}
	if hits != boardDefaultReadBurst {
		t.Errorf("a client reading a room it knows got %d answers at once, want %d", hits, boardDefaultReadBurst)
	}
	for range 100 {
		if rec := boardTestAs(b, "", "GET", "/rooms/"+boardTestCode(7)+".json", ""); rec.Code != http.StatusOK {
			t.Fatalf("admin read: status %d, want 200 always", rec.Code)
		}
	}
}

// TestBoardRoomsPerAddress: the review's 100 addresses filled the board's
// 10,000 rooms in 6.7 s. Each address may hold boardDefaultMaxRoomsPerAddr
// rooms it created, so they hold 3,200 and a newcomer still gets in; a
// room that goes frees its creator's place.
func TestBoardRoomsPerAddress(t *testing.T) {
	b := newBoard(boardOptions{now: boardTestNow, secret: boardTestSecret, writeRate: -1})
	const addrs, tries = 100, 40
	for a := range addrs {
		for i := range tries {
			rec := boardTestAs(b, boardTestAttacker(a), "PUT", "/rooms/"+boardTestCode(a*tries+i)+"/offer.json", boardTestOffer("x"))
			if i >= boardDefaultMaxRoomsPerAddr && (rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "") {
				t.Fatalf("room %d from one address: status %d, Retry-After %q; want 429 with Retry-After", i+1, rec.Code, rec.Header().Get("Retry-After"))
			}
		}
	}
	if n, want := b.rooms.len(), addrs*boardDefaultMaxRoomsPerAddr; n != want {
		t.Errorf("%d addresses hold %d rooms, want %d", addrs, n, want)
	}
	if rec := boardTestAs(b, "203.0.113.1", "PUT", "/rooms/HOST01/offer.json", boardTestOffer("o")); rec.Code != http.StatusOK {
		t.Errorf("a newcomer's room: status %d, want 200", rec.Code)
	}
	first := boardTestAttacker(0)
	if rec := boardTestAs(b, first, "DELETE", "/rooms/"+boardTestCode(0)+".json", ""); rec.Code != http.StatusOK {
		t.Fatalf("DELETE: %d", rec.Code)
	}
	if rec := boardTestAs(b, first, "PUT", "/rooms/NEXT01/offer.json", boardTestOffer("x")); rec.Code != http.StatusOK {
		t.Errorf("a room after one of its own went: status %d, want 200", rec.Code)
	}
	// An answer in someone else's room creates nothing: joiners are not capped.
	if rec := boardTestAs(b, first, "PUT", "/rooms/HOST01/answer.json", boardTestOffer("a")); rec.Code != http.StatusOK {
		t.Errorf("an answer from a capped address: status %d, want 200", rec.Code)
	}
}

// TestBoardByteBudget: rooms full of maximal payloads grew the review's
// board from 10 to 530 MiB. What rooms hold is bounded by -max-bytes: past
// it a write that would add bytes gets 503 with a Retry-After of when the
// oldest room expires, while deletes and identical retries still work,
// and the count comes back to zero when the rooms go.
func TestBoardByteBudget(t *testing.T) {
	const budget = 64 << 10
	clock := newBoardTestClock()
	b := newBoard(boardOptions{now: clock.now, secret: boardTestSecret, writeRate: -1, maxRoomsPerAddr: -1, maxBytes: budget})
	payload := strings.Repeat("p", 4000)
	held := 0
	var refusal *httptest.ResponseRecorder
	for i := range 100 {
		clock.add(time.Second)
		rec := boardTestAs(b, boardTestAttacker(i), "PUT", "/rooms/"+boardTestCode(i)+"/offer.json", boardTestOffer(payload))
		if rec.Code != http.StatusOK {
			refusal = rec
			break
		}
		held++
	}
	if refusal == nil || refusal.Code != http.StatusServiceUnavailable {
		t.Fatalf("100 rooms of 4 KB under a 64 KiB budget: all taken (%d), want a 503", held)
	}
	boardTestCheckError(t, refusal.Body.Bytes())
	// The oldest room was made held seconds ago and lives 10 minutes.
	wantWait := strconv.Itoa(int((boardDefaultRoomTTL - time.Duration(held)*time.Second).Seconds()))
	if got := refusal.Header().Get("Retry-After"); got != wantWait {
		t.Errorf("Retry-After %q, want %s (when the oldest room expires)", got, wantWait)
	}
	if b.rooms.bytes > budget || b.rooms.bytes < budget-5000 {
		t.Errorf("rooms hold %d bytes, want at most the budget (%d) and nearly all of it", b.rooms.bytes, budget)
	}
	again := boardTestAs(b, boardTestAttacker(0), "PUT", "/rooms/"+boardTestCode(0)+"/offer.json", boardTestOffer(payload))
	if again.Code != http.StatusOK {
		t.Errorf("an identical retry on a full board: status %d, want 200", again.Code)
	}
	if rec := boardTestAs(b, "203.0.113.1", "PUT", "/rooms/"+boardTestCode(1)+"/answer.json", boardTestOffer(payload)); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("an answer that does not fit: status %d, want 503", rec.Code)
	}
	for i := range held {
		if rec := boardTestAs(b, boardTestAttacker(i), "DELETE", "/rooms/"+boardTestCode(i)+".json", ""); rec.Code != http.StatusOK {
			t.Fatalf("DELETE on a full board: status %d, want 200", rec.Code)
		}
	}
	if b.rooms.bytes != 0 || b.rooms.len() != 0 {
		t.Errorf("after every room went: %d bytes in %d rooms, want none", b.rooms.bytes, b.rooms.len())
	}
	if rec := boardTestAs(b, "203.0.113.1", "PUT", "/rooms/HOST01/offer.json", boardTestOffer(payload)); rec.Code != http.StatusOK {
		t.Errorf("a room once there is space again: status %d, want 200", rec.Code)
	}
}

// TestBoardStreamSlotsAcrossAddresses: the review's 157 addresses, 64
// streams each, took all 10,000 stream slots. At 16 per address they hold
// 2,512, and a newcomer's stream opens; when every slot is taken, the
// refusal says when to come back.
func TestBoardStreamSlotsAcrossAddresses(t *testing.T) {
	b := newBoard(boardOptions{now: boardTestNow})
	open := func(addr string) error {
		_, _, err := b.subscribe(&boardRequest{path: []string{pypeerRooms, "ABC123", pypeerOffer}, addr: addr})
		return err
	}
	for a := range 157 {
		for range 64 {
			_ = open(boardTestAttacker(a))
		}
	}
	if n, want := boardTestStreamCount(b), 157*boardDefaultMaxStreamsPerAddr; n != want {
		t.Errorf("157 addresses hold %d streams, want %d", n, want)
	}
	if err := open("203.0.113.1"); err != nil {
		t.Errorf("a newcomer's stream: %v", err)
	}

	full := newBoard(boardOptions{now: boardTestNow, maxStreams: 2})
	for i := range 3 {
		_, _, err := full.subscribe(&boardRequest{path: []string{pypeerRooms, "ABC123"}, addr: boardTestAttacker(i)})
		if i < 2 {
			continue
		}
		resp := boardErrorResponse(err)
		if resp.status != http.StatusServiceUnavailable || resp.header.Get("Retry-After") == "" {
			t.Errorf("a stream past the board's cap: status %d, Retry-After %q; want 503 with Retry-After", resp.status, resp.header.Get("Retry-After"))
		}
	}
}
