package main

// Rooms expire by themselves: the board remembers when each room appeared,
// by its own clock, and removes it once it is older than the TTL, as
// pypeer's hourly janitor would (docs/PROTOCOL.md, "Cleanup"), so a self-hoster
// needs no janitor. It remembers too when each slot was last written, by
// its own clock, to judge whether an offer or answer is stale enough to be
// replaced. The writers' timestamps are not trusted for either: any
// stranger can write one. And it counts what the rooms hold, in bytes and
// by the address that created each, for the limits that keep a crowd of
// anonymous writers from filling the board (board_rules.go, checkRoomLimits).

import (
	"container/heap"
	"context"
	"crypto/sha256"
	"time"
)

// boardRooms records when each room under rooms/ appeared, in a min-heap
// by that time so the next to expire is always on top.
type boardRooms struct {
	byCode    map[string]*boardRoom
	heap      boardRoomHeap
	bytes     int64          // what all rooms hold, by treeSize
	byCreator map[string]int // rooms held, by the address that created them
}

type boardRoom struct {
	code    string
	created time.Time
	creator string          // the anonymous address that created it; "" for the admin
	bytes   int64           // what it holds, by treeSize
	index   int             // in the heap
	slots   [2]boardWritten // offer, answer, as boardRoomSlots orders them
	// owned says a host claimed the room when its offer created it; owner
	// is the SHA-256 of the token it got (board_rules.go, checkOwner).
	owned bool
	owner [sha256.Size]byte
}

// boardWritten is what a slot was last written with, and when. A digest
// stands for the value: a copy would double what a room costs, and a
// reference would change with an admin's write inside it.
type boardWritten struct {
	sum [sha256.Size]byte
	at  time.Time // zero for an empty slot
}

// stamp records, for a room as it now is, when each slot got its value:
// now for a slot whose value changed, as before for one that did not.
func (r *boardRoom) stamp(room any, now time.Time) {
	for i, slot := range boardRoomSlots {
		v := treeGet(room, []string{slot})
		if v == nil {
			r.slots[i] = boardWritten{}
			continue
		}
		sum := treeDigest(v)
		if r.slots[i].at.IsZero() || sum != r.slots[i].sum {
			r.slots[i] = boardWritten{sum: sum, at: now}
		}
	}
}

// treeDigest identifies a normalized value: equal values encode to equal
// bytes (treeEncode sorts keys).
func treeDigest(v any) [sha256.Size]byte {
	data, _ := treeEncode(v) // a normalized value always encodes
	return sha256.Sum256(data)
}

// writtenAt is when the slot got its value, by the board's clock; zero
// for a slot the board does not know.
func (rs *boardRooms) writtenAt(code, slot string) time.Time {
	r := rs.byCode[code]
	if r == nil {
		return time.Time{}
	}
	for i, s := range boardRoomSlots {
		if s == slot {
			return r.slots[i].at
		}
	}
	return time.Time{}
}

func (rs *boardRooms) len() int { return len(rs.byCode) }

// sync makes the record of code match the room as it now is (nil when it
// is gone); by is who wrote it, the creator if the room is new.
func (rs *boardRooms) sync(code string, room any, now time.Time, by string) {
	r, known := rs.byCode[code]
	switch {
	case room != nil && !known:
		if rs.byCode == nil {
			rs.byCode = make(map[string]*boardRoom)
			rs.byCreator = make(map[string]int)
		}
		r = &boardRoom{code: code, created: now, creator: by}
		rs.byCode[code] = r
		heap.Push(&rs.heap, r)
		if by != "" {
			rs.byCreator[by]++
		}
	case room == nil && known:
		delete(rs.byCode, code)
		heap.Remove(&rs.heap, r.index)
		rs.bytes -= r.bytes
		if r.creator != "" {
			if rs.byCreator[r.creator]--; rs.byCreator[r.creator] <= 0 {
				delete(rs.byCreator, r.creator)
			}
		}
		return
	case room == nil:
		return
	}
	size := treeSize(room)
	rs.bytes += size - r.bytes
	r.bytes = size
	r.stamp(room, now)
}

// createdBy is how many rooms held were created by the address.
func (rs *boardRooms) createdBy(addr string) int { return rs.byCreator[addr] }

// held is what the room holds now, by treeSize; 0 for no room.
func (rs *boardRooms) held(code string) int64 {
	if r := rs.byCode[code]; r != nil {
		return r.bytes
	}
	return 0
}

// oldest returns the room created first, or nil.
func (rs *boardRooms) oldest() *boardRoom {
	if len(rs.heap) == 0 {
		return nil
	}
	return rs.heap[0]
}

type boardRoomHeap []*boardRoom

func (h boardRoomHeap) Len() int           { return len(h) }
func (h boardRoomHeap) Less(i, j int) bool { return h[i].created.Before(h[j].created) }
func (h boardRoomHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *boardRoomHeap) Push(x any) {
	r := x.(*boardRoom)
	r.index = len(*h)
	*h = append(*h, r)
}
func (h *boardRoomHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return r
}

// trackRoomsLocked updates the room records after wr was applied. A write
// inside one room touches only that room; a write at rooms/ or the root
// may touch any, and PATCH names them.
func (b *board) trackRoomsLocked(wr boardWrite) {
	now := b.now()
	rooms, _ := treeGet(b.root, []string{pypeerRooms}).(map[string]any)
	syncCode := func(code string) { b.rooms.sync(code, rooms[code], now, wr.by) }
	switch {
	case len(wr.at) >= 2:
		if wr.at[0] == pypeerRooms {
			syncCode(wr.at[1])
		}
		return
	case len(wr.at) == 1 && wr.at[0] == pypeerRooms && wr.patch:
		for _, c := range wr.changes {
			syncCode(c.rel[0])
		}
		return
	case len(wr.at) == 1 && wr.at[0] != pypeerRooms:
		return
	case len(wr.at) == 0 && wr.patch:
		full := false
		for _, c := range wr.changes {
			switch {
			case c.rel[0] != pypeerRooms:
			case len(c.rel) >= 2:
				syncCode(c.rel[1])
			default:
				full = true
			}
		}
		if !full {
			return
		}
	}
	// The whole of rooms/ may have been replaced.
	for code := range b.rooms.byCode {
		if rooms[code] == nil {
			b.rooms.sync(code, nil, now, wr.by)
		}
	}
	for code, room := range rooms {
		b.rooms.sync(code, room, now, wr.by)
	}
}

// expireRooms removes every room older than the TTL. Streams in an expired
// room get cancel, as a Firebase stream does when its location can no
// longer be read, and end; streams above it see the room deleted.
func (b *board) expireRooms() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.roomTTL <= 0 {
		return
	}
	now := b.now()
	for r := b.rooms.oldest(); r != nil && !now.Before(r.created.Add(b.roomTTL)); r = b.rooms.oldest() {
		at := []string{pypeerRooms, r.code}
		if n := b.subs.node(at); n != nil {
			for _, s := range n.collect(nil) {
				b.endLocked(s, []byte(boardCancelSSE))
			}
		}
		wr := boardWrite{at: at, changes: []boardChange{{}}, data: []byte("null")}
		if err := b.applyLocked(wr); err != nil {
			// Only encoding a path can fail, and a room code always
			// encodes; forget the record so expiry cannot spin.
			b.rooms.sync(r.code, nil, now, "")
		}
		b.stats.roomsExpired.Add(1)
	}
}

// runExpiry expires rooms until ctx is done, checking often enough that a
// room outlives its TTL by at most a tenth of it (and at most a second).
func (b *board) runExpiry(ctx context.Context) {
	if b.roomTTL <= 0 {
		return
	}
	tick := time.NewTicker(min(time.Second, max(b.roomTTL/10, 10*time.Millisecond)))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			b.expireRooms()
		}
	}
}
