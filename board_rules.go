package main

// The board's access rules: what a client without the admin secret may do.
// They are the rules of database.rules.json, the ones gopeer gives a
// Firebase database, so that a client meets the same board either way:
//
//   - Nothing outside rooms/ can be read or written, and rooms/ itself
//     cannot be listed: a client reads a room whose code it knows.
//   - A room holds an offer and an answer and nothing else. Each is
//     {"payload": non-empty string of at most -max-payload bytes,
//     "timestamp": number}, written in a room whose code is six of A-Z0-9;
//     an answer needs the room's offer.
//   - An offer or an answer is write-once: a stranger cannot replace it,
//     unless its timestamp says it is older than the room TTL. Writing the
//     identical value again succeeds, so a retried PUT is safe.
//   - Either may be deleted, and so may the whole room (a host clears a
//     stranger's bad answer; both sides delete the room once connected).
//     Like Firebase's .validate, the shape rules do not apply to deletes.
//
// One difference: database.rules.json also wants the timestamp within a
// few minutes of the server's clock. This board does not, as it expires
// rooms by its own clock and a writer's timestamp decides nothing here.
// The admin secret, like a Firebase database secret, bypasses all of it.

import (
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"slices"
	"time"
)

// The two values a room holds.
var boardRoomSlots = []string{pypeerOffer, pypeerAnswer}

func boardDenied() error { return boardErrorf(http.StatusUnauthorized, boardErrDenied) }

// boardAnonymousAccess applies the rules that depend only on the location
// and method: reads at or below a room, writes at or below a room's slots
// or deletes of a room. Values are checked later, by checkWriteLocked.
func boardAnonymousAccess(req *boardRequest) error {
	p := req.path
	if len(p) < 2 || p[0] != pypeerRooms {
		return boardDenied()
	}
	switch {
	case req.method == http.MethodGet:
		return nil
	case len(p) == 2:
		// A room as a whole may only be deleted (checkWriteLocked sees
		// that nothing is left); its slots are written one by one.
		if req.method == http.MethodPost {
			return boardDenied()
		}
		return nil
	case !slices.Contains(boardRoomSlots, p[2]):
		return boardDenied()
	}
	return nil
}

// checkWriteLocked applies the rules that need the current tree: for an
// anonymous writer, each slot of the room ends up unchanged, deleted, or
// newly holding a well-formed value; and the room must fit the board.
func (b *board) checkWriteLocked(req *boardRequest, wr boardWrite) error {
	if req.admin {
		return nil
	}
	roomPath := wr.at[:2] // boardAnonymousAccess saw to it
	oldRoom := treeGet(b.root, roomPath)
	newRoom := treeClone(oldRoom)
	for _, c := range wr.changes {
		newRoom = treeSet(newRoom, slices.Concat(wr.at[2:], c.rel), c.value)
	}
	if len(wr.at) == 2 && newRoom != nil {
		return boardDenied()
	}
	if err := b.checkOwner(req, wr.at[1], oldRoom, newRoom); err != nil {
		return err
	}
	if err := b.checkRoom(wr.at[1], oldRoom, newRoom); err != nil {
		return err
	}
	return b.checkRoomLimits(req, wr.at[1], oldRoom, newRoom)
}

// checkRoomLimits keeps anonymous writers, however many addresses they
// write from, from filling the board: a room fits under the room cap and
// the byte budget, and one address holds a few rooms at most. The board
// is full (503) until its oldest room expires; an address at its cap
// (429) waits for one of its rooms to go.
func (b *board) checkRoomLimits(req *boardRequest, code string, oldRoom, newRoom any) error {
	if newRoom == nil {
		return nil
	}
	if oldRoom == nil {
		switch {
		case b.maxRooms > 0 && b.rooms.len() >= b.maxRooms:
			return boardRetryLater(http.StatusServiceUnavailable, b.untilRoomExpiresLocked(),
				"Service unavailable: the board is full, with its maximum of %d rooms", b.maxRooms)
		case b.roomsPer > 0 && b.rooms.createdBy(req.addr) >= b.roomsPer:
			return boardRetryLater(http.StatusTooManyRequests, boardRetrySoon,
				"Too many requests: at most %d rooms at once from one address", b.roomsPer)
		}
	}
	grow := treeSize(newRoom) - b.rooms.held(code)
	if b.maxBytes > 0 && grow > 0 && b.rooms.bytes+grow > b.maxBytes {
		return boardRetryLater(http.StatusServiceUnavailable, b.untilRoomExpiresLocked(),
			"Service unavailable: the board is full, with its maximum of %d bytes in rooms", b.maxBytes)
	}
	return nil
}

// untilRoomExpiresLocked is how long until the oldest room expires and
// frees its place: the Retry-After of a full board.
func (b *board) untilRoomExpiresLocked() time.Duration {
	r := b.rooms.oldest()
	if r == nil || b.roomTTL <= 0 {
		return boardRetrySoon
	}
	return max(time.Second, r.created.Add(b.roomTTL).Sub(b.now()))
}

// checkOwner refuses a change to an owned room's offer (replacing or
// deleting it, or the room) without the room's token. A host that asked
// for ownership got the token when its offer created the room; a
// stranger who knows only the code cannot take the room from it. Rooms of
// pypeer, which asks for nothing, stay as open as on Firebase.
func (b *board) checkOwner(req *boardRequest, code string, oldRoom, newRoom any) error {
	r := b.rooms.byCode[code]
	if r == nil || !r.owned {
		return nil
	}
	before, after := treeGet(oldRoom, []string{pypeerOffer}), treeGet(newRoom, []string{pypeerOffer})
	if treeEqual(before, after) {
		return nil
	}
	sum := sha256.Sum256([]byte(req.roomToken))
	if subtle.ConstantTimeCompare(sum[:], r.owner[:]) != 1 {
		return boardErrorf(http.StatusUnauthorized, "Permission denied: the room's host owns its offer")
	}
	return nil
}

// claimLocked makes the room whose offer wr just created the property of
// the anonymous writer who asked (req.claim), and returns its token for
// the answer; "" when nothing was claimed.
func (b *board) claimLocked(req *boardRequest, wr boardWrite, hadOffer bool) string {
	if !req.claim || req.admin || hadOffer || len(wr.at) < 2 || wr.at[0] != pypeerRooms {
		return ""
	}
	r := b.rooms.byCode[wr.at[1]]
	if r == nil || r.owned || treeGet(b.root, []string{pypeerRooms, wr.at[1], pypeerOffer}) == nil {
		return ""
	}
	var raw [16]byte
	_, _ = rand.Read(raw[:]) // never fails; see crypto/rand.Read
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	r.owner, r.owned = sha256.Sum256([]byte(token)), true
	return token
}

// checkRoom compares a room before and after an anonymous write.
func (b *board) checkRoom(code string, oldRoom, newRoom any) error {
	if newRoom == nil {
		return nil
	}
	m, ok := newRoom.(map[string]any)
	if !ok {
		return boardDenied()
	}
	for k := range m {
		if !slices.Contains(boardRoomSlots, k) {
			return boardDenied()
		}
	}
	for _, slot := range boardRoomSlots {
		before, after := treeGet(oldRoom, []string{slot}), m[slot]
		switch {
		case treeEqual(before, after), after == nil:
			// An identical retry, or a delete.
		case before != nil && !b.staleSlot(code, slot):
			return boardDenied() // write-once
		case !isRoomCode(code), !validSlotValue(after, b.maxPayload):
			return boardDenied()
		case slot == pypeerAnswer && m[pypeerOffer] == nil:
			return boardDenied() // an answer to nothing
		}
	}
	return nil
}

// staleSlot reports whether a slot was written longer ago than the room
// TTL (10 minutes when rooms do not expire), by the board's own clock, so
// that a host may replace an offer left behind. The timestamp inside the
// value is the writer's, and a stranger could write one that is already
// old (database.rules.json can only bound it near the server's time).
func (b *board) staleSlot(code, slot string) bool {
	at := b.rooms.writtenAt(code, slot)
	age := cmp.Or(b.roomTTL, boardDefaultRoomTTL)
	return !at.IsZero() && b.now().Sub(at) > age
}
