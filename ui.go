package main

// What both user interfaces, the terminal's and line mode, say in the
// same words: failures are in failure.go, and these are the rest.

// passwordNote says what a room's password, or its lack, means for
// sharing the code.
func passwordNote(set bool) string {
	if set {
		return "the room has a password: share it apart from the code, not in the same message"
	}
	return "no password: anyone who learns the code can read the offer and join in the other person's place; set one for anything private"
}

// wrongKeyNote says what a joiner meets when the room's offer does not
// open with its password.
func wrongKeyNote(code string) string {
	return "the offer in room " + code + " does not open with this password: a wrong password, or someone replaced it; still watching the room"
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
