package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// filePair is linkPair with the file channel open on both sides.
func filePair(tb testing.TB) (sender, receiver *fileChannel) {
	tb.Helper()
	host, guest := linkPair(tb)
	tb.Cleanup(host.close)
	tb.Cleanup(guest.close)
	var err error
	if sender, err = openFileChannel(host.pc, host.closed, hostFilesLabel, hostFilesID); err != nil {
		tb.Fatal(err)
	}
	if receiver, err = openFileChannel(guest.pc, guest.closed, hostFilesLabel, hostFilesID); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), eventWait)
	defer cancel()
	for _, c := range []*fileChannel{sender, receiver} {
		if err := c.waitOpen(ctx); err != nil {
			tb.Fatal("the file channel did not open:", err)
		}
	}
	return sender, receiver
}

// transferRecorder records a transfer's events.
type transferRecorder struct {
	mu      sync.Mutex
	reports []transferProgress
	done    []string
}

func newRecorder() *transferRecorder { return &transferRecorder{} }

func (r *transferRecorder) progress(p transferProgress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reports = append(r.reports, p)
}

func (r *transferRecorder) fileDone(e offerEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done = append(r.done, e.Path)
}

func (r *transferRecorder) files() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.done...)
}

func (r *transferRecorder) progressEvents() []transferProgress {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]transferProgress(nil), r.reports...)
}

// answer is an ask that says yes (or no) and records the summary.
func answer(yes bool, summary *string) func(context.Context, string, offerHeader) (bool, error) {
	return func(_ context.Context, s string, _ offerHeader) (bool, error) {
		if summary != nil {
			*summary = s
		}
		return yes, nil
	}
}

// transferSetup is an offer of paths, a landing in dir (closed with the
// test) and an open file channel pair.
func transferSetup(t *testing.T, paths []string, dir string, overwrite bool) (*outgoing, *landing, *fileChannel, *fileChannel) {
	t.Helper()
	o, err := buildOffer(paths)
	if err != nil {
		t.Fatal(err)
	}
	land, err := openLanding(dir, overwrite)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(land.close)
	s, r := filePair(t)
	return o, land, s, r
}

// transfer sends paths from one pair's end to a landing in dir and
// returns both sides' errors and events.
func transfer(t *testing.T, paths []string, dir string, overwrite bool, ask func(context.Context, string, offerHeader) (bool, error)) (sendErr, recvErr error, sent, got *transferRecorder) {
	t.Helper()
	o, land, s, r := transferSetup(t, paths, dir, overwrite)
	ctx, cancel := context.WithTimeout(context.Background(), eventWait)
	defer cancel()
	sent, got = newRecorder(), newRecorder()
	errs := make(chan error, 1)
	go func() { errs <- sendFiles(ctx, s, o, sent) }()
	recvErr = receiveFiles(ctx, r, receiveOptions{land: land, ask: ask}, got)
	return <-errs, recvErr, sent, got
}

func writeFile(t *testing.T, p string, data []byte, mode fs.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTransferFiles sends files of the sizes that find edge cases, and
// the receiver ends with the same bytes under the same names.
func TestTransferFiles(t *testing.T) {
	sizes := map[string]int{
		"empty":       0,
		"one byte":    1,
		"one chunk":   transferChunk,
		"two chunks":  2 * transferChunk,
		"chunk and 1": transferChunk + 1,
		"3 MiB":       3 << 20,
	}
	for name, size := range sizes {
		t.Run(name, func(t *testing.T) {
			src, dst := t.TempDir(), t.TempDir()
			data := randomBytes(t, size)
			writeFile(t, filepath.Join(src, "f.bin"), data, 0o644)
			sendErr, recvErr, _, got := transfer(t, []string{filepath.Join(src, "f.bin")}, dst, false, answer(true, nil))
			if sendErr != nil || recvErr != nil {
				t.Fatalf("send: %v; receive: %v", sendErr, recvErr)
			}
			b, err := os.ReadFile(filepath.Join(dst, "f.bin"))
			if err != nil || !bytes.Equal(b, data) {
				t.Fatalf("received %d bytes (%v), want the %d sent", len(b), err, len(data))
			}
			if files := got.files(); len(files) != 1 {
				t.Errorf("file_done for %v", files)
			}
			assertNoParts(t, dst)
			// The same file again: the receiver holds it whole, and
			// nothing is sent.
			sendErr, recvErr, sent, _ := transfer(t, []string{filepath.Join(src, "f.bin")}, dst, false, answer(true, nil))
			if sendErr != nil || recvErr != nil || len(sent.files()) != 0 {
				t.Errorf("again: send %v, receive %v, sent %v", sendErr, recvErr, sent.files())
			}
		})
	}
}

// assertNoParts fails if a part file is left in dir.
func assertNoParts(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if strings.HasSuffix(p, partSuffix) {
			t.Errorf("a part file is left: %s", p)
		}
		return nil
	})
}

// TestTransferFolder: a nested folder with unicode names keeps its tree,
// its empty folders and its modes, but never setuid or setgid; a symbolic
// link inside is skipped with a note, and nothing else is written.
func TestTransferFolder(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	root := filepath.Join(src, "Fotos 📷")
	writeFile(t, filepath.Join(root, "über", "straße.txt"), []byte("grüße"), 0o640)
	writeFile(t, filepath.Join(root, "run.sh"), []byte("#!/bin/sh\n"), 0o755)
	writeFile(t, filepath.Join(root, "suid"), []byte("x"), 0o4755)
	if err := os.MkdirAll(filepath.Join(root, "empty", "deeper"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	o, err := buildOffer([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	if len(o.skipped) != 1 || !strings.Contains(o.skipped[0], "symbolic link") {
		t.Errorf("skipped %v, want the link", o.skipped)
	}
	var summary string
	sendErr, recvErr, _, _ := transfer(t, []string{root}, dst, false, answer(true, &summary))
	if sendErr != nil || recvErr != nil {
		t.Fatalf("send: %v; receive: %v", sendErr, recvErr)
	}
	if want := "Fotos 📷: 3 files, 18 B"; summary != want {
		t.Errorf("summary %q, want %q", summary, want)
	}
	for name, want := range map[string]fs.FileMode{
		"Fotos 📷/über/straße.txt": 0o640,
		"Fotos 📷/run.sh":          0o755,
		"Fotos 📷/suid":            0o755,
		"Fotos 📷/empty/deeper":    fs.ModeDir | 0o750,
	} {
		info, err := os.Lstat(filepath.Join(dst, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if info.Mode() != want {
			t.Errorf("%s: mode %v, want %v", name, info.Mode(), want)
		}
	}
	if _, err := os.Lstat(filepath.Join(dst, "Fotos 📷", "link")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the symbolic link arrived: %v", err)
	}
}

// TestTransferRefusedAndExisting: a no writes nothing; an existing file is
// never replaced without -overwrite; the same file already there is not
// sent again.
func TestTransferRefusedAndExisting(t *testing.T) {
	src := t.TempDir()
	data := randomBytes(t, 100_000)
	writeFile(t, filepath.Join(src, "a.bin"), data, 0o644)
	paths := []string{filepath.Join(src, "a.bin")}

	dst := t.TempDir()
	sendErr, recvErr, _, _ := transfer(t, paths, dst, false, answer(false, nil))
	if !errors.Is(sendErr, errTransferRefused) || !errors.Is(recvErr, errTransferRefused) {
		t.Errorf("after no: send %v, receive %v; want refused on both", sendErr, recvErr)
	}
	if entries, _ := os.ReadDir(dst); len(entries) != 0 {
		t.Errorf("a refused transfer wrote %v", entries)
	}

	writeFile(t, filepath.Join(dst, "a.bin"), []byte("mine"), 0o600)
	sendErr, recvErr, _, _ = transfer(t, paths, dst, false, answer(true, nil))
	if recvErr == nil || !strings.Contains(recvErr.Error(), "already exists") || !errors.Is(sendErr, errTransferRefused) {
		t.Errorf("onto an existing file: send %v, receive %v", sendErr, recvErr)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "a.bin")); string(b) != "mine" {
		t.Errorf("the existing file was replaced without -overwrite")
	}
	sendErr, recvErr, _, _ = transfer(t, paths, dst, true, answer(true, nil))
	if sendErr != nil || recvErr != nil {
		t.Fatalf("with -overwrite: send %v, receive %v", sendErr, recvErr)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "a.bin")); !bytes.Equal(b, data) {
		t.Errorf("-overwrite did not replace the file")
	}
	sendErr, recvErr, sent, _ := transfer(t, paths, dst, false, answer(true, nil))
	if sendErr != nil || recvErr != nil {
		t.Fatalf("the same file again: send %v, receive %v", sendErr, recvErr)
	}
	if files := sent.files(); len(files) != 0 {
		t.Errorf("the receiver held the file whole, and %v was sent again", files)
	}
}

// TestTransferResumes: a part left by a cut-off transfer is checked and
// only the rest is sent; a part that is not this file's start is sent
// again whole.
func TestTransferResumes(t *testing.T) {
	src := t.TempDir()
	data := randomBytes(t, 1<<20)
	writeFile(t, filepath.Join(src, "big.bin"), data, 0o644)
	paths := []string{filepath.Join(src, "big.bin")}
	for _, tt := range []struct {
		name        string
		part        []byte
		wantResumed int64
	}{
		{"its own start", data[:300_000], 300_000},
		{"another file's bytes", randomBytes(t, 300_000), 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dst := t.TempDir()
			writeFile(t, filepath.Join(dst, "big.bin"+partSuffix), tt.part, 0o600)
			sendErr, recvErr, sent, got := transfer(t, paths, dst, false, answer(true, nil))
			if sendErr != nil || recvErr != nil {
				t.Fatalf("send: %v; receive: %v", sendErr, recvErr)
			}
			if b, _ := os.ReadFile(filepath.Join(dst, "big.bin")); !bytes.Equal(b, data) {
				t.Fatal("the resumed file differs from the sent one")
			}
			ps := sent.progressEvents()
			if len(ps) == 0 || ps[0].resumed != tt.wantResumed {
				t.Errorf("sender's progress %+v, want resumed at %d", ps, tt.wantResumed)
			}
			if ps := got.progressEvents(); len(ps) == 0 || ps[len(ps)-1].done != int64(len(data)) {
				t.Errorf("receiver's last progress %+v, want all %d bytes", ps, len(data))
			}
			assertNoParts(t, dst)
		})
	}
}

// TestTransferCancel: cancelling the sender mid-file ends the receiver's
// side as cancelled, and the part stays for resume.
func TestTransferCancel(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(src, "big.bin"), randomBytes(t, 32<<20), 0o644)
	o, land, s, r := transferSetup(t, []string{filepath.Join(src, "big.bin")}, dst, false)
	sendCtx, cancelSend := context.WithCancel(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), eventWait)
	defer cancel()
	got := newRecorder()
	started := make(chan struct{})
	var once sync.Once
	ev := cancelOnProgress{recorder: got, do: func() { once.Do(func() { close(started); cancelSend() }) }}
	errs := make(chan error, 1)
	go func() { errs <- sendFiles(sendCtx, s, o, newRecorder()) }()
	recvErr := receiveFiles(ctx, r, receiveOptions{land: land, ask: answer(true, nil)}, ev)
	<-started
	if !errors.Is(recvErr, errTransferCancelled) {
		t.Errorf("receiver: %v, want cancelled", recvErr)
	}
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Errorf("sender: %v, want cancelled", err)
	}
	info, err := os.Stat(filepath.Join(dst, "big.bin"+partSuffix))
	if err != nil || info.Size() == 0 {
		t.Errorf("the part file after a cancel: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dst, "big.bin")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a cut-off file has its real name: %v", err)
	}

	// The same channel carries the next transfer: what was in flight
	// when the first ended does not pass for the second's messages.
	writeFile(t, filepath.Join(src, "next.txt"), []byte("next"), 0o644)
	next, err := buildOffer([]string{filepath.Join(src, "next.txt")})
	if err != nil {
		t.Fatal(err)
	}
	go func() { errs <- sendFiles(ctx, s, next, newRecorder()) }()
	if err := receiveFiles(ctx, r, receiveOptions{land: land, ask: answer(true, nil)}, newRecorder()); err != nil {
		t.Errorf("the transfer after a cancelled one: receive %v", err)
	}
	if err := <-errs; err != nil {
		t.Errorf("the transfer after a cancelled one: send %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "next.txt")); string(b) != "next" {
		t.Errorf("next.txt holds %q", b)
	}
}

// cancelOnProgress calls do on the receiver's first progress report.
type cancelOnProgress struct {
	recorder *transferRecorder
	do       func()
}

func (c cancelOnProgress) progress(p transferProgress) { c.recorder.progress(p); c.do() }
func (c cancelOnProgress) fileDone(e offerEntry)       { c.recorder.fileDone(e) }

// hostileSender speaks the file protocol as a test process would: an
// offer of its choosing, then whatever then does.
func hostileSender(t *testing.T, ch *fileChannel, entries []offerEntry, then func(ctx context.Context, ch *fileChannel)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), eventWait)
	defer cancel()
	h := offerHeader{Version: transferVersion}
	for _, e := range entries {
		if e.Dir {
			h.Dirs++
		} else {
			h.Files++
			h.Bytes += e.Size
		}
	}
	b, _ := json.Marshal(entries)
	hb, _ := json.Marshal(h)
	if err := errors.Join(ch.send(ctx, tOfferPart, b), ch.send(ctx, tOfferEnd, hb)); err != nil {
		t.Error(err)
		return
	}
	if then != nil {
		then(ctx, ch)
	}
}

func fileEntry(name string, data []byte) offerEntry {
	sum := sha256.Sum256(data)
	return offerEntry{Path: name, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), Mode: 0o644}
}

// streamFile sends one file's begin, data and end, as a sender would.
func streamFile(ctx context.Context, ch *fileChannel, index int, data []byte) error {
	return errors.Join(ch.send(ctx, tFileBegin, fileBegin(index, 0)), ch.send(ctx, tData, data), ch.send(ctx, tFileEnd, nil))
}

// TestTransferHostileSender: croc's audit findings, replayed by a sender
// speaking the protocol: every bad name is refused and nothing is written
// outside the folder; size lies and a wrong hash are errors, and the file
// never has its real name; a name with terminal escapes is shown inert; a
// huge offer is refused with memory bounded.
func TestTransferHostileSender(t *testing.T) {
	payload := []byte("owned")
	tests := []struct {
		name     string
		entries  []offerEntry
		then     func(ctx context.Context, ch *fileChannel)
		setup    func(t *testing.T, dst, outside string)
		wantErr  string
		wantFile string // a file that must exist afterwards, relative to dst
	}{
		{name: "dot dot", entries: []offerEntry{fileEntry("../escape", payload)}, wantErr: "climbs"},
		{name: "dot dot inside", entries: []offerEntry{fileEntry("a/../../escape", payload)}, wantErr: "climbs"},
		{name: "absolute", entries: []offerEntry{fileEntry("/tmp/escape", payload)}, wantErr: "absolute"},
		{name: "drive letter", entries: []offerEntry{fileEntry("C:/escape", payload)}, wantErr: "drive letter"},
		{name: "NUL", entries: []offerEntry{fileEntry("a\x00b", payload)}, wantErr: "NUL"},
		{name: "backslash", entries: []offerEntry{fileEntry(`..\escape`, payload)}, wantErr: "backslash"},
		{name: "a part name", entries: []offerEntry{fileEntry("x"+partSuffix, payload)}, wantErr: "partial"},
		{name: "the same name twice", entries: []offerEntry{fileEntry("a", payload), fileEntry("a", payload)}, wantErr: "twice"},
		{name: "a file inside a file", entries: []offerEntry{fileEntry("a", payload), fileEntry("a/b", payload)}, wantErr: "inside the file"},
		{
			name:    "out through a symbolic link already there",
			entries: []offerEntry{fileEntry("link/escape", payload)},
			setup: func(t *testing.T, dst, outside string) {
				if err := os.Symlink(outside, filepath.Join(dst, "link")); err != nil {
					t.Fatal(err)
				}
			},
			then:    func(ctx context.Context, ch *fileChannel) { _ = streamFile(ctx, ch, 0, payload) },
			wantErr: "cannot write",
		},
		{
			name:    "more bytes than announced",
			entries: []offerEntry{fileEntry("lie", payload)},
			then: func(ctx context.Context, ch *fileChannel) {
				_ = streamFile(ctx, ch, 0, append(append([]byte(nil), payload...), "and more"...))
			},
			wantErr: "more of lie than",
		},
		{
			name:    "fewer bytes than announced",
			entries: []offerEntry{fileEntry("short", payload)},
			then:    func(ctx context.Context, ch *fileChannel) { _ = streamFile(ctx, ch, 0, payload[:2]) },
			wantErr: "after 2 of the 5 bytes",
		},
		{
			name:    "a hash that does not match",
			entries: []offerEntry{fileEntry("damaged", payload)},
			then:    func(ctx context.Context, ch *fileChannel) { _ = streamFile(ctx, ch, 0, []byte("OWNED")) },
			wantErr: "arrived damaged",
		},
		{
			name:    "done with files missing",
			entries: []offerEntry{fileEntry("never", payload)},
			then:    func(ctx context.Context, ch *fileChannel) { _ = ch.send(ctx, tDone, nil) },
			wantErr: "without sending never",
		},
		{
			name:    "terminal escapes in a name",
			entries: []offerEntry{fileEntry("\x1b]52;c;aGk=\x07\u202eevil\nname", payload)},
			then: func(ctx context.Context, ch *fileChannel) {
				_ = errors.Join(streamFile(ctx, ch, 0, payload), ch.send(ctx, tDone, nil))
			},
			wantFile: "\x1b]52;c;aGk=\x07\u202eevil\nname",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst, outside := t.TempDir(), t.TempDir()
			if tt.setup != nil {
				tt.setup(t, dst, outside)
			}
			land, err := openLanding(dst, false)
			if err != nil {
				t.Fatal(err)
			}
			defer land.close()
			s, r := filePair(t)
			go hostileSender(t, s, tt.entries, func(ctx context.Context, ch *fileChannel) {
				if typ, _, err := ch.next(ctx); err != nil || typ != tAccept {
					return // refused, as it should be
				}
				if tt.then != nil {
					tt.then(ctx, ch)
				}
			})
			ctx, cancel := context.WithTimeout(context.Background(), eventWait)
			defer cancel()
			var summary string
			err = receiveFiles(ctx, r, receiveOptions{land: land, ask: answer(true, &summary)}, newRecorder())
			if strings.ContainsAny(summary, "\x1b\x07\n\u202e") {
				t.Errorf("the prompt's summary holds a raw control: %q", summary)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("receive: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("receive: %v, want an error saying %q", err, tt.wantErr)
			}
			if entries, _ := os.ReadDir(outside); len(entries) != 0 {
				t.Errorf("written outside the folder: %v", entries)
			}
			_ = filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
				rel, _ := filepath.Rel(dst, p)
				if d != nil && d.Type().IsRegular() && rel != tt.wantFile && !strings.HasSuffix(rel, partSuffix) {
					t.Errorf("%q was written under its real name", rel)
				}
				return nil
			})
		})
	}
}

// TestTransferHugeOffer: an offer of more entries than the bound is
// refused as soon as it passes it, with a clear reason.
func TestTransferHugeOffer(t *testing.T) {
	dst := t.TempDir()
	land, err := openLanding(dst, false)
	if err != nil {
		t.Fatal(err)
	}
	defer land.close()
	s, r := filePair(t)
	ctx, cancel := context.WithTimeout(context.Background(), eventWait)
	defer cancel()
	go func() {
		empty := fileEntry("", nil)
		const perPart = 400 // as many as fit one message
		for i := 0; i <= offerMaxEntries; i += perPart {
			part := make([]offerEntry, perPart)
			for j := range part {
				part[j] = empty
				part[j].Path = fmt.Sprintf("f%07d", i+j)
			}
			b, _ := json.Marshal(part)
			if s.send(ctx, tOfferPart, b) != nil {
				return
			}
		}
	}()
	asked := false
	err = receiveFiles(ctx, r, receiveOptions{land: land, ask: func(context.Context, string, offerHeader) (bool, error) {
		asked = true
		return true, nil
	}}, newRecorder())
	if err == nil || !strings.Contains(err.Error(), "more than 100000") || asked {
		t.Errorf("a huge offer: %v (asked: %v), want it refused before asking", err, asked)
	}
}

// TestCheckOfferPath: the names a receiver takes and refuses.
func TestCheckOfferPath(t *testing.T) {
	for _, tt := range []struct {
		path string
		ok   bool
	}{
		{"a.txt", true},
		{"dir/sub/ü 📷.txt", true},
		{"..foo", true},
		{"ab:c", true},
		{"", false},
		{".", false},
		{"a/./b", false},
		{"a//b", false},
		{"a/", false},
		{"C:", false},
		{"c:/x", false},
		{"/etc/passwd", false},
		{"a\\b", false},
		{"a\x00", false},
		{"\xff", false},
		{strings.Repeat("a", 256), false},
		{strings.Repeat("a/", 2049), false},
	} {
		err := checkOfferPath(tt.path)
		if (err == nil) != tt.ok {
			t.Errorf("checkOfferPath(%q) = %v, want ok %v", tt.path, err, tt.ok)
		}
	}
}

// FuzzCheckOfferPath: a name the receiver accepts is always local to the
// folder (no "..", not absolute, no drive, no backslash or NUL), and a
// file begin message never panics its parser.
func FuzzCheckOfferPath(f *testing.F) {
	for _, seed := range []string{"a.txt", "dir/sub/ü.txt", "../x", "/etc/passwd", "C:/x", "a\\b", "a\x00", "a//b", "x" + partSuffix, ".."} {
		f.Add(seed, []byte{1, 2})
	}
	f.Fuzz(func(t *testing.T, p string, begin []byte) {
		_, _, _ = parseFileBegin(begin)
		if checkOfferPath(p) != nil {
			return
		}
		if !filepath.IsLocal(p) || strings.ContainsAny(p, "\\\x00") || strings.HasPrefix(p, "/") {
			t.Fatalf("accepted %q, which is not local to the folder", p)
		}
		for _, part := range strings.Split(p, "/") {
			if part == ".." || part == "." || part == "" {
				t.Fatalf("accepted %q with the part %q", p, part)
			}
		}
	})
}

// BenchmarkTransfer sends one file of random bytes through sendFiles and
// receiveFiles over an in-process link: the file protocol, hashing and the
// disk, without processes, a board or a memory budget. Beside
// BenchmarkLink/Bulk (the bare data channel) it shows what the file
// protocol costs; docs/FILES.md compares both with the end-to-end figure.
// Use it with -cpuprofile.
func BenchmarkTransfer(b *testing.B) {
	const size = 128 << 20
	src := filepath.Join(b.TempDir(), "big")
	if err := os.WriteFile(src, randomBytes(b, size), 0o644); err != nil {
		b.Fatal(err)
	}
	o, err := buildOffer([]string{src})
	if err != nil {
		b.Fatal(err)
	}
	s, r := filePair(b)
	b.SetBytes(size)
	for b.Loop() {
		dir := b.TempDir()
		land, err := openLanding(dir, false)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		errs := make(chan error, 1)
		go func() { errs <- sendFiles(ctx, s, o, newRecorder()) }()
		yes := func(context.Context, string, offerHeader) (bool, error) { return true, nil }
		if err := receiveFiles(ctx, r, receiveOptions{land: land, ask: yes}, newRecorder()); err != nil {
			b.Fatal(err)
		}
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
		land.close()
	}
}
