package main

// End-to-end tests of the native mode (issue 13) with real gopeer
// processes through a real board: the code, the confirmation, the labels,
// and an attacker who guesses the code's secret part.

import (
	"strings"
	"testing"
)

// nativeHost starts a -json host and returns it with its room event.
func nativeHost(t *testing.T, board, room, password string, args ...string) (*proc, map[string]string) {
	t.Helper()
	host := startGopeer(t, []string{"GOPEER_PASSWORD=" + password},
		append([]string{"-json", "-ice", "none", "-db", board, "-host", "-room", room}, args...)...)
	ev := host.event("room")
	if ev["room"] != room || !strings.HasPrefix(ev["code"], room+"-") {
		t.Fatalf("room event %v, want room %s and a gopeer code", ev, room)
	}
	return host, ev
}

// nativeJoiner starts a -json joiner with code.
func nativeJoiner(t *testing.T, board, code, password string, args ...string) *proc {
	t.Helper()
	return startGopeer(t, []string{"GOPEER_PASSWORD=" + password},
		append([]string{"-json", "-ice", "none", "-db", board, "-join", code}, args...)...)
}

// wrongSecret is code with another secret part and a check that matches
// it: a guess that only the confirmation can refuse.
func wrongSecret(t *testing.T, code string) string {
	t.Helper()
	jc, err := parseJoinCode(code)
	if err != nil {
		t.Fatal(err)
	}
	jc.secret = map[bool]string{true: "ZZZZ", false: "0000"}[jc.secret != "ZZZZ"]
	return jc.String()
}

// TestEndToEndNative: a joiner with the host's gopeer code gets a session
// confirmed with the code, labelled gopeer on both sides, with the same
// verification string; a joiner with the room code alone gets pypeer's
// session from the same kind of host, labelled unconfirmed.
func TestEndToEndNative(t *testing.T) {
	t.Parallel()
	board := startTestBoard(t)
	const password = "correct horse"

	host, room := nativeHost(t, board, "NATIV1", password)
	guest := nativeJoiner(t, board, strings.ToLower(room["code"]), password)
	hc, gc := host.event("connected"), guest.event("connected")
	for name, ev := range map[string]map[string]string{"host": hc, "joiner": gc} {
		if ev["protocol"] != "gopeer" || ev["verified"] != "true" || len(ev["verify"]) != 9 {
			t.Errorf("%s connected as %v, want a verified gopeer session", name, ev)
		}
	}
	if hc["verify"] != gc["verify"] {
		t.Errorf("verification strings differ: host %q, joiner %q", hc["verify"], gc["verify"])
	}
	guest.send("hello over a confirmed session")
	if got := host.event("message")["text"]; got != "hello over a confirmed session" {
		t.Errorf("host received %q", got)
	}
	if root := boardRoot(t, board); root != "null" {
		t.Errorf("board after connect holds %s, want nothing", root)
	}
	guest.stdin.Close()
	if code := guest.wait(); code != exitOK {
		t.Errorf("joiner exit status %d", code)
	}

	host2, room2 := nativeHost(t, board, "NATIV2", password)
	pypeerWay := nativeJoiner(t, board, room2["room"], password)
	for name, ev := range map[string]map[string]string{"host": host2.event("connected"), "joiner": pypeerWay.event("connected")} {
		if ev["protocol"] != "pypeer" || ev["verified"] != "false" || ev["verify"] != "" {
			t.Errorf("%s connected as %v, want an unverified pypeer session", name, ev)
		}
	}
}

// TestEndToEndNativeWrongGuess: a stranger who knows the room code and
// password but guesses the secret part wrong is refused (exit 3) and uses
// up one attempt; the host says so, keeps the room, and the real joiner
// then gets in. Nothing the stranger sent reaches the host's output.
func TestEndToEndNativeWrongGuess(t *testing.T) {
	t.Parallel()
	board := startTestBoard(t)
	const password = "pw"
	host, room := nativeHost(t, board, "GUESS1", password)
	stranger := nativeJoiner(t, board, wrongSecret(t, room["code"]), password)
	stranger.send("from the stranger")
	if ev := stranger.event("error"); ev["kind"] != kindWrongPassword {
		t.Errorf("stranger ended with %v, want wrong_password", ev)
	}
	if code := stranger.wait(); code != exitWrongPassword {
		t.Errorf("stranger exit status %d, want %d", code, exitWrongPassword)
	}
	host.warning("could not prove it holds the code")
	guest := nativeJoiner(t, board, room["code"], password)
	if ev := host.event("connected"); ev["verified"] != "true" {
		t.Errorf("host connected as %v", ev)
	}
	guest.event("connected")
	guest.send("from the joiner")
	if got := host.event("message")["text"]; got != "from the joiner" {
		t.Errorf("host's first message is %q, want the joiner's", got)
	}
}

// TestEndToEndNativeThreeGuesses: three wrong guesses close the room, and
// the host says why (exit 3).
func TestEndToEndNativeThreeGuesses(t *testing.T) {
	t.Parallel()
	board := startTestBoard(t)
	const password = "pw"
	host, room := nativeHost(t, board, "GUESS3", password)
	for i := range nativeMaxAttempts {
		stranger := nativeJoiner(t, board, wrongSecret(t, room["code"]), password)
		if code := stranger.wait(); code != exitWrongPassword {
			t.Fatalf("stranger %d exit status %d, want %d", i+1, code, exitWrongPassword)
		}
		if i+1 < nativeMaxAttempts {
			host.warning("could not prove it holds the code")
		}
	}
	if ev := host.event("error"); ev["kind"] != kindWrongPassword || !strings.Contains(ev["message"], "is closed") {
		t.Errorf("host ended with %v, want the room closed", ev)
	}
	if code := host.wait(); code != exitWrongPassword {
		t.Errorf("host exit status %d, want %d", code, exitWrongPassword)
	}
	if root := boardRoot(t, board); root != "null" {
		t.Errorf("board after the room closed holds %s, want nothing", root)
	}
}

// TestEndToEndNativeSecure: a -secure host refuses a pypeer-dialect answer
// (a joiner with the room code alone), says so, and keeps waiting for a
// gopeer.
func TestEndToEndNativeSecure(t *testing.T) {
	t.Parallel()
	board := startTestBoard(t)
	const password = "pw"
	host, room := nativeHost(t, board, "SECUR1", password, "-secure")
	pypeerWay := nativeJoiner(t, board, room["room"], password, "-timeout", "3s")
	host.warning("not a gopeer's")
	if code := pypeerWay.wait(); code == exitOK {
		t.Error("a pypeer-dialect joiner got into a -secure room")
	}
	guest := nativeJoiner(t, board, room["code"], password)
	if ev := host.event("connected"); ev["protocol"] != "gopeer" {
		t.Errorf("host connected as %v", ev)
	}
	guest.event("connected")
}

// TestTerminalNativeWrongCode: from the menu, a code whose secret part is
// wrong gets through the password (it opens the offer) and fails the
// confirmation; the screen says to check the code and asks for it again,
// not for the password.
func TestTerminalNativeWrongCode(t *testing.T) {
	t.Parallel()
	board := startTestBoard(t)
	const password = "pw"
	_, room := nativeHost(t, board, "TUIWC1", password)
	guest, _ := tmuxStart(t, nil, "-ice", "none", "-db", board)
	guest.waitForText("Choose h, j or q:")
	guest.send("j")
	guest.waitForText("Room code:")
	guest.send(wrongSecret(t, room["code"]))
	guest.key("Enter")
	guest.waitForText("Password (optional, hidden):")
	guest.send(password)
	guest.key("Enter")
	guest.waitForJoinedText("did not prove it holds this code: a wrong code, or someone in the middle.")
	guest.waitForJoinedText("Check the whole code with the host, character by character.")
	guest.waitFor("the code prompt again", func(screen string) bool {
		return tmuxLastLine(screen) == "Room code:"
	})
}
