package main

// The outside review's exhaustion attacks on the board (issue 12, #3),
// replayed against a `gopeer -serve` process at its default limits, as a
// benchmark that reports what each attack achieved:
//
//	go test -run '^$' -bench BoardFlood -benchtime 1x .
//
//   - rooms: 100 addresses each try to create 100 rooms holding a maximal
//     offer and answer; rooms-held, MiB-RSS of the board after, and the
//     status a newcomer's 4 KiB offer then gets (newcomer-status);
//   - streams: 157 addresses each try to open 64 streams; streams-held,
//     and whether a newcomer's stream opens;
//   - connections: one address opens 2,000 idle keep-alive connections;
//     conns-held, and whether another address is served meanwhile;
//   - guessing: one address reads random room codes for two seconds;
//     guesses/s answered.
//
// Every attacker is an address of 127.0.0.0/8 (all loopback on Linux).
// docs/BOARD.md, "Exhaustion", has the figures before and after the limits.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func BenchmarkBoardFlood(b *testing.B) {
	_ = loadRaiseFileLimit(b)
	for b.Loop() {
		b.Run("rooms", floodRooms)
		b.Run("streams", floodStreams)
		b.Run("connections", floodConnections)
		b.Run("guessing", floodGuessing)
	}
}

// floodAttacker is the n-th attacker of a crowd, in 127.crowd.0.0/16.
func floodAttacker(crowd, n int) netip.Addr {
	n++
	return netip.AddrFrom4([4]byte{127, byte(crowd), byte(n >> 8), byte(n)})
}

// floodNewcomer is a legitimate user's address, never an attacker's.
var floodNewcomer = netip.AddrFrom4([4]byte{127, 99, 0, 1})

func floodRooms(b *testing.B) {
	secretFile := b.TempDir() + "/secret"
	const secret = "flood-admin"
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	addr, rss := loadStartBoard(b, []string{"-secret-file", secretFile})
	payload := strings.Repeat("A", boardDefaultMaxPayload)
	const addrs, tries = 100, 100
	var wg sync.WaitGroup
	start := time.Now()
	for a := range addrs {
		wg.Go(func() {
			lc, err := loadDial(addr, floodAttacker(10, a))
			if err != nil {
				return
			}
			defer lc.c.Close()
			for i := range tries {
				room := "/rooms/" + loadCode(a*tries+i)
				if floodDo(lc, "PUT", room+"/offer.json", `{"payload":"`+payload+`","timestamp":1}`) != nil {
					continue
				}
				_ = floodDo(lc, "PUT", room+"/answer.json", `{"payload":"`+payload+`","timestamp":2}`)
			}
		})
	}
	wg.Wait()
	b.ReportMetric(time.Since(start).Seconds(), "s-flooding")
	b.ReportMetric(float64(rss())/(1<<20), "MiB-RSS")
	b.ReportMetric(float64(floodRoomCount(b, addr, secret)), "rooms-held")
	// A real offer, sealed, is a few KiB.
	status, err := floodStatus(loadMustDial(b, addr, floodNewcomer), "PUT", "/rooms/NEW001/offer.json", `{"payload":"`+strings.Repeat("A", 4<<10)+`","timestamp":1}`)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(status), "newcomer-status")
}

func floodStreams(b *testing.B) {
	addr, _ := loadStartBoard(b, nil)
	const addrs, tries = 157, 64
	var held atomic.Int64
	var mu sync.Mutex
	var open []*loadStream
	var wg sync.WaitGroup
	for a := range addrs {
		wg.Go(func() {
			for i := range tries {
				s, err := loadOpenStream(addr, "/rooms/"+loadCode(a*tries+i)+"/offer.json", floodAttacker(20, a))
				if err != nil {
					continue
				}
				held.Add(1)
				mu.Lock()
				open = append(open, s)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	defer func() {
		for _, s := range open {
			s.close()
		}
	}()
	b.ReportMetric(float64(held.Load()), "streams-held")
	s, err := loadOpenStream(addr, "/rooms/NEW001/offer.json", floodNewcomer)
	if err == nil {
		s.close()
	}
	b.ReportMetric(floodOK(http.StatusOK, err), "newcomer-stream-ok")
}

func floodConnections(b *testing.B) {
	addr, _ := loadStartBoard(b, nil)
	const conns = 2000
	attacker := floodAttacker(30, 0)
	held := 0
	for range conns {
		lc, err := loadDial(addr, attacker)
		if err != nil {
			continue
		}
		defer lc.c.Close()
		// Any answer, even 429, means the board holds the connection.
		if _, err := floodStatus(lc, "GET", "/rooms/ABC123/offer.json", ""); err == nil {
			held++
		}
	}
	b.ReportMetric(float64(held), "conns-held")
	start := time.Now()
	b.ReportMetric(floodOK(floodStatus(loadMustDial(b, addr, floodNewcomer), "GET", "/rooms/ABC123/offer.json", "")), "newcomer-served")
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "newcomer-ms")
}

func floodGuessing(b *testing.B) {
	addr, _ := loadStartBoard(b, nil)
	lc := loadMustDial(b, addr, floodAttacker(40, 0))
	defer lc.c.Close()
	answered := 0
	start := time.Now()
	for n := 0; time.Since(start) < 2*time.Second; n++ {
		status, err := floodStatus(lc, "GET", "/rooms/"+loadCode(n)+"/offer.json", "")
		if err != nil {
			b.Fatal(err)
		}
		if status == http.StatusOK {
			answered++
		}
	}
	b.ReportMetric(float64(answered)/time.Since(start).Seconds(), "guesses/s")
}

// floodStatus sends one request on lc and returns the answer's status.
func floodStatus(lc *loadConn, method, path, body string) (int, error) {
	_ = lc.c.SetDeadline(time.Now().Add(loadWait))
	fmt.Fprintf(lc.w, "%s %s HTTP/1.1\r\nHost: board\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", method, path, len(body), body)
	if err := lc.w.Flush(); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(lc.r, nil)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, err
}

func floodDo(lc *loadConn, method, path, body string) error {
	status, err := floodStatus(lc, method, path, body)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("status %d", status)
	}
	return err
}

func floodOK(status int, err error) float64 {
	if err == nil && status == http.StatusOK {
		return 1
	}
	return 0
}

func loadMustDial(b *testing.B, addr string, from netip.Addr) *loadConn {
	lc, err := loadDial(addr, from)
	if err != nil {
		b.Fatal(err)
	}
	return lc
}

// floodRoomCount counts the rooms on the board, as its admin.
func floodRoomCount(b *testing.B, addr, secret string) int {
	resp, err := http.Get("http://" + addr + "/rooms.json?shallow=true&auth=" + secret)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var rooms map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&rooms); err != nil {
		b.Fatalf("listing rooms: status %d, %v", resp.StatusCode, err)
	}
	return len(rooms)
}
