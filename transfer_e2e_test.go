package main

// End-to-end tests of gopeer -send and -receive (issue 14): real processes
// through a real board.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// startSender runs gopeer -send on board and returns it with its code.
func startSender(t *testing.T, board string, paths ...string) (*proc, string) {
	t.Helper()
	return startSenderWith(t, board, nil, paths...)
}

// startSenderWith is startSender with more flags.
func startSenderWith(t *testing.T, board string, flags []string, paths ...string) (*proc, string) {
	t.Helper()
	args := append(append([]string{"-json", "-ice", "none", "-db", board}, flags...), "-send")
	p := startGopeer(t, nil, append(args, paths...)...)
	ev := p.event("room")
	if !strings.HasPrefix(ev["code"], ev["room"]+"-") {
		t.Fatalf("room event %v, want a gopeer code", ev)
	}
	return p, ev["code"]
}

// startReceiver runs gopeer -receive CODE -to dir on board.
func startReceiver(t *testing.T, board, code, dir string, args ...string) *proc {
	t.Helper()
	return startGopeer(t, nil, append([]string{"-json", "-ice", "none", "-db", board, "-receive", code, "-to", dir}, args...)...)
}

// nextOf waits for the next event named want, passing over progress
// events.
func nextOf(p *proc, want string) map[string]string {
	p.t.Helper()
	for {
		ev := p.nextJSON()
		switch ev["event"] {
		case want:
			return ev
		case "progress", "connected", "warning", "offer":
		default:
			p.t.Fatalf("got %v, want %q; stderr:\n%s", ev, want, p.stderr.String())
		}
	}
}

// TestEndToEndSendReceive: a 100 MiB file and a folder go from -send to -receive
// -yes, both exit 0, and the receiver's folder holds the same bytes.
func TestEndToEndSendReceive(t *testing.T) {
	t.Parallel()
	board := startTestBoard(t)
	src, dst := t.TempDir(), t.TempDir()
	big := randomBytes(t, 100<<20)
	writeFile(t, filepath.Join(src, "big.bin"), big, 0o644)
	writeFile(t, filepath.Join(src, "notes", "ü.txt"), []byte("hello"), 0o600)
	sender, code := startSender(t, board, filepath.Join(src, "big.bin"), filepath.Join(src, "notes"))
	receiver := startReceiver(t, board, code, dst, "-yes")
	offer := nextOf(receiver, "offer")
	if offer["files"] != "2" || offer["bytes"] != strconv.Itoa(len(big)+5) {
		t.Errorf("offer %v", offer)
	}
	names := map[string]bool{}
	for range 2 {
		names[nextOf(receiver, "file_done")["name"]] = true
	}
	if !names["big.bin"] || !names["notes/ü.txt"] {
		t.Errorf("file_done for %v", names)
	}
	if done := nextOf(receiver, "done"); done["files"] != "2" {
		t.Errorf("done %v", done)
	}
	for name, p := range map[string]*proc{"sender": sender, "receiver": receiver} {
		if code := p.wait(); code != exitOK {
			t.Errorf("%s exit status %d; stderr:\n%s", name, code, p.stderr.String())
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "big.bin")); !bytes.Equal(b, big) {
		t.Error("big.bin differs")
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "notes", "ü.txt")); string(b) != "hello" {
		t.Errorf("notes/ü.txt holds %q", b)
	}
}

// TestEndToEndReceiveRefused: without -yes the receiver is asked; no ends
// both sides as refused, and nothing is written.
func TestEndToEndReceiveRefused(t *testing.T) {
	t.Parallel()
	board := startTestBoard(t)
	src, dst := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(src, "a.txt"), []byte("a"), 0o644)
	sender, code := startSender(t, board, filepath.Join(src, "a.txt"))
	receiver := startReceiver(t, board, code, dst)
	nextOf(receiver, "offer")
	receiver.waitStderr(`send {"accept":true} or {"accept":false}`)
	fmt.Fprintln(receiver.stdin, `{"accept":false}`)
	for name, p := range map[string]*proc{"sender": sender, "receiver": receiver} {
		if ev := nextOf(p, "error"); ev["kind"] != kindRefused {
			t.Errorf("%s ended with %v, want refused", name, ev)
		}
		if code := p.wait(); code != exitFailure {
			t.Errorf("%s exit status %d", name, code)
		}
	}
	if entries, _ := os.ReadDir(dst); len(entries) != 0 {
		t.Errorf("a refused offer wrote %v", entries)
	}
}

// TestEndToEndResumeAfterKill: a receiver killed mid-file leaves a part
// file; sending the same file again resumes from it, says so, and the file
// arrives whole.
func TestEndToEndResumeAfterKill(t *testing.T) {
	t.Parallel()
	board := startTestBoard(t)
	src, dst := t.TempDir(), t.TempDir()
	data := randomBytes(t, 64<<20)
	writeFile(t, filepath.Join(src, "big.bin"), data, 0o644)

	// The sender waits for a killed peer as for one whose network went
	// away: 5 s here, where the default is 2 minutes.
	sender, code := startSenderWith(t, board, []string{"-reconnect", "5s"}, filepath.Join(src, "big.bin"))
	receiver := startReceiver(t, board, code, dst, "-yes")
	for {
		ev := nextOf(receiver, "progress")
		if n, _ := strconv.Atoi(ev["bytes"]); n > 0 {
			break
		}
	}
	_ = receiver.cmd.Process.Kill()
	receiver.wait()
	if code := sender.wait(); code == exitOK {
		t.Error("the sender exited 0 though the receiver was killed mid-file")
	}
	part, err := os.Stat(filepath.Join(dst, "big.bin"+partSuffix))
	if err != nil || part.Size() == 0 {
		t.Fatalf("no part file after the kill: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dst, "big.bin")); err == nil {
		t.Fatal("a cut-off file has its real name")
	}

	sender, code = startSender(t, board, filepath.Join(src, "big.bin"))
	receiver = startReceiver(t, board, code, dst, "-yes")
	nextOf(receiver, "offer")
	ev := receiver.event("progress")
	if resumed, _ := strconv.ParseInt(ev["resumed"], 10, 64); resumed == 0 || resumed > part.Size() {
		t.Errorf("first progress after the restart %v, want resumed at most the %d bytes held", ev, part.Size())
	}
	receiver.waitStderr("resuming at ")
	nextOf(receiver, "file_done")
	nextOf(receiver, "done")
	for name, p := range map[string]*proc{"sender": sender, "receiver": receiver} {
		if code := p.wait(); code != exitOK {
			t.Errorf("%s exit status %d", name, code)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "big.bin")); !bytes.Equal(b, data) {
		t.Error("the resumed file differs")
	}
}

// TestEndToEndReceiveDiskFull: a receiver whose disk fills up says so,
// fails (and so does the sender), and keeps what arrived as a part file,
// never under the file's real name. The disk is a 2 MiB tmpfs in a mount
// namespace of the receiver's own.
func TestEndToEndReceiveDiskFull(t *testing.T) {
	t.Parallel()
	board := startTestBoard(t)
	src, dst := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(src, "big.bin"), randomBytes(t, 8<<20), 0o644)
	sender, code := startSender(t, board, filepath.Join(src, "big.bin"))
	// What the tmpfs holds is listed before the namespace goes, on stderr.
	script := `d="$1"
shift
mount -t tmpfs -o size=2m tmpfs "$d" || exit 99
"$0" "$@"
rc=$?
ls -ln "$d" | awk 'NR>1 {print "held:", $5, $9}' >&2
exit $rc`
	cmd := exec.Command("unshare", "-m", "--", "/bin/sh", "-c", script, gopeerBin(t), dst,
		"-json", "-ice", "none", "-db", board, "-receive", code, "-to", dst, "-yes")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	receiver := startProc(t, cmd)
	ev := nextOf(receiver, "error")
	if ev["kind"] != kindTransfer || !strings.Contains(ev["message"], "no space left on device") || !strings.Contains(ev["message"], "stays, for resume") {
		t.Errorf("receiver ended with %v", ev)
	}
	if code := receiver.wait(); code != exitFailure {
		t.Fatalf("receiver exit status %d (99: no tmpfs here); stderr:\n%s", code, receiver.stderr.String())
	}
	if code := sender.wait(); code != exitFailure {
		t.Errorf("sender exit status %d", code)
	}
	held := receiver.stderr.String()
	if !strings.Contains(held, "big.bin"+partSuffix) || strings.Contains(held, "held: 0 ") {
		t.Errorf("what the full disk held: %q, want a part file with bytes in it", held)
	}
	if strings.Contains(held, " big.bin\n") {
		t.Error("a file cut off by a full disk has its real name")
	}
}
