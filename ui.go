package main

// What both user interfaces, the terminal's and line mode, say in the
// same words: failures are in failure.go, and these are the rest.

import "unicode/utf8"

// passwordKind is what a room's password is worth against someone who
// reads the board: pypeer's sealing lets them test guesses offline, at
// millions a second (docs/SECURITY.md), so only a long one holds. It is
// judged once, from the length alone, and the password itself is not kept.
type passwordKind int

const (
	noPassword passwordKind = iota
	shortPassword
	longPassword
)

// passwordLongRunes is where a password stops being called short: five
// random words from a diceware list, the advice in docs/SECURITY.md, are
// about 30 characters; a length says nothing about randomness, so this
// only catches passwords that are surely too short.
const passwordLongRunes = 20

func kindOfPassword(password string) passwordKind {
	switch n := utf8.RuneCountInString(password); {
	case n == 0:
		return noPassword
	case n < passwordLongRunes:
		return shortPassword
	}
	return longPassword
}

// passwordNote says what a room's password, or its lack, means for
// sharing the code.
func passwordNote(k passwordKind) string {
	switch k {
	case noPassword:
		return "no password: anyone who learns the code can read the offer and join in the other person's place; set one for anything private"
	case shortPassword:
		return "the room's password is short: whoever reads the board can test millions of guesses a second against it offline (five random words or more hold); share it apart from the code"
	}
	return "the room has a password: share it apart from the code, not in the same message"
}

// wrongKeyNote says what a joiner meets when the room's offer does not
// open with its password.
func wrongKeyNote(code string) string {
	return "the offer in room " + code + " does not open with this password: a wrong password, or someone replaced it; still watching the room"
}

// pypeerWayNote says how a pypeer user joins the same room, and what
// that gives up.
func pypeerWayNote(room string) string {
	return "a pypeer user joins room " + room + " with the password instead, unconfirmed: with the room code and password, someone could sit in the middle"
}

// sessionDescription says what protects a connected session.
func sessionDescription(link *peerLink) string {
	protocol, verified, verify := link.protocol()
	if verified {
		return protocol + " protocol, confirmed with the code; to check, compare " + verify + " with the peer"
	}
	return protocol + " protocol, unconfirmed: anyone with the room code and password could be in the middle"
}

// verifyNote is /verify's answer: the number both people read to each
// other, or why there is none.
func verifyNote(link *peerLink) string {
	if _, verified, verify := link.protocol(); verified {
		return "Verification: " + verify + ". Read it to the peer another way (a call, in person): the same number on both screens means nobody is in the middle."
	}
	return "No verification in a pypeer session: it was not confirmed with a gopeer code, so anyone with the room code and password could be in the middle."
}

// pathDescription names the kind of path the chat takes, plainly.
func pathDescription(candidateType string) string {
	switch candidateType {
	case "host":
		return "a direct path"
	case "srflx", "prflx":
		return "a direct path through NAT"
	case "relay":
		return "through a relay (TURN)"
	}
	return "path unknown"
}
