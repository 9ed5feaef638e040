package main

// The gopeer code a host gives a gopeer joiner (issue 13): pypeer's room
// code, then a secret part that never touches the board, then a check:
//
//	K7P2M0-4F9Q-XW
//	room   secret check
//
// The room code is what a pypeer user types, and what names the room on
// the board. The secret part (4 symbols, 20 bits) is half of the CPace
// password, so whoever reads the board has nothing to test it against:
// each guess costs an attempt at the live room. The check (2 symbols)
// catches every single mistyped character, and every swap of two
// characters of the room or secret, before a run is spent on a typo.
//
// The secret and check use Crockford's base32 (no I, L, O or U), so they
// read aloud without ambiguity; typing O for 0, or I or L for 1, is
// forgiven, and so are case, spaces and dashes.

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
)

const (
	joinSecretLen = 4 // symbols of 5 bits: 20 bits
	joinCheckLen  = 2 // symbols of 5 bits: the check, below joinCheckMod
	// joinCheckMod is a prime just under 2^10. Every value and weight in
	// the check is small enough that one wrong character or one swap
	// changes the sum by less than it, never by a multiple of it.
	joinCheckMod = 1021
	// crockford is the secret's alphabet, in value order.
	crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	// joinCheckDigits values the characters for the check: room codes use
	// all of them, the secret a subset, in the same order.
	joinCheckDigits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
)

// errJoinCodeTypo means the code's check does not match: a mistyped or
// swapped character.
var errJoinCodeTypo = errors.New("the code has a typo")

// joinCode is a parsed code: the room, and the secret part when the code
// was a gopeer code ("" for a pypeer room code).
type joinCode struct {
	room, secret string
}

// newJoinCode draws a secret part for room.
func newJoinCode(room string, random io.Reader) (joinCode, error) {
	if random == nil {
		random = rand.Reader
	}
	var b [joinSecretLen]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return joinCode{}, fmt.Errorf("drawing the code's secret part: %w", err)
	}
	var secret strings.Builder
	for _, v := range b {
		secret.WriteByte(crockford[v%32]) // 256 is a multiple of 32: uniform
	}
	return joinCode{room: room, secret: secret.String()}, nil
}

// String is the code as the host shows it: the room code alone for a
// pypeer code, ROOM-SECRET-CHECK for a gopeer code.
func (c joinCode) String() string {
	if c.secret == "" {
		return c.room
	}
	return c.room + "-" + c.secret + "-" + joinCheck(c.room, c.secret)
}

// parseJoinCode reads what a joiner typed: a 6-character room code, or a
// gopeer code.
func parseJoinCode(s string) (joinCode, error) {
	fields := strings.FieldsFunc(strings.ToUpper(s), func(r rune) bool { return r == '-' || r == ' ' || r == '\t' })
	if len(fields) == 0 {
		return joinCode{}, fmt.Errorf("%q is not a room code: a code is %d letters and digits, like K7P2M0", s, roomCodeLen)
	}
	room, err := normalizeRoomCode(fields[0])
	if err != nil {
		return joinCode{}, err
	}
	rest := strings.Join(fields[1:], "")
	if rest == "" {
		return joinCode{room: room}, nil
	}
	rest = crockfordFold(rest)
	if len(rest) != joinSecretLen+joinCheckLen || strings.Trim(rest, crockford) != "" {
		return joinCode{}, fmt.Errorf("%q is not a gopeer code: after the room code come %d letters and digits, like K7P2M0-4F9Q-XW", s, joinSecretLen+joinCheckLen)
	}
	c := joinCode{room: room, secret: rest[:joinSecretLen]}
	if joinCheck(c.room, c.secret) != rest[joinSecretLen:] {
		return joinCode{}, fmt.Errorf("%w: %q does not check out; compare it with the host's, character by character", errJoinCodeTypo, s)
	}
	return c, nil
}

// crockfordFold maps the letters Crockford's base32 reads as digits.
func crockfordFold(s string) string {
	return strings.NewReplacer("O", "0", "I", "1", "L", "1").Replace(s)
}

// joinCheck is the check of a room and secret: the sum of each
// character's value times its position (1 to 10), modulo joinCheckMod,
// in two symbols.
func joinCheck(room, secret string) string {
	sum := 0
	for i, r := range room + secret {
		sum += strings.IndexRune(joinCheckDigits, r) * (i + 1)
	}
	sum %= joinCheckMod
	return string([]byte{crockford[sum>>5], crockford[sum&31]})
}
