package main

// This file is where received files land: one folder the user chose, and
// nothing outside it. Every name the sender gives is checked before it is
// used, and every file is written through os.Root, which refuses a path
// that leaves the folder, through ".." or a symbolic link already there.
// A file is written under a part name beside its target, hashed as it is
// written, and renamed to its real name only once its SHA-256 matched.

import (
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"unicode/utf8"
)

const (
	// partSuffix marks a file still arriving, or cut off: sending the same
	// file to the same place again resumes it.
	partSuffix = ".gopeer-part"
	// Bounds on one offer, so that a hostile one cannot exhaust memory.
	offerMaxEntries  = 100_000
	offerMaxPathLen  = 4096
	offerMaxNameLen  = 255
	offerMaxFileSize = 1 << 50
)

// checkOfferPath refuses a name the sender may not write: anything but a
// relative, clean path of plain names. It refuses ".." and ".", an
// absolute path, a drive letter, a backslash, a NUL, an empty part, and a
// part name (which would pass for another file's resume).
func checkOfferPath(p string) error {
	switch {
	case p == "":
		return errors.New("an empty name")
	case len(p) > offerMaxPathLen:
		return fmt.Errorf("a name of %d bytes", len(p))
	case !utf8.ValidString(p):
		return errors.New("a name that is not UTF-8")
	case strings.ContainsAny(p, "\\\x00"):
		return fmt.Errorf("the name %q holds a backslash or a NUL", p)
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("the absolute name %q", p)
	case strings.HasSuffix(p, partSuffix):
		return fmt.Errorf("the name %q ends as gopeer's partial files do", p)
	}
	for i, part := range strings.Split(p, "/") {
		switch {
		case part == "" || part == "." || part == "..":
			return fmt.Errorf("the name %q climbs, or has an empty part", p)
		case len(part) > offerMaxNameLen:
			return fmt.Errorf("a name part of %d bytes", len(part))
		case i == 0 && len(part) >= 2 && part[1] == ':' && isASCIILetter(part[0]):
			return fmt.Errorf("the name %q starts with a drive letter", p)
		}
	}
	return nil
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// checkOffer checks a whole offer: every name, no name twice, sizes and
// totals that add up, a file never inside another file.
func checkOffer(entries []offerEntry, h offerHeader) error {
	if h.Version != transferVersion {
		return fmt.Errorf("file protocol version %d (this gopeer speaks %d): update the older gopeer", h.Version, transferVersion)
	}
	seen := make(map[string]bool, len(entries))
	var files, dirs int
	var bytes int64
	for _, e := range entries {
		if err := checkOfferPath(e.Path); err != nil {
			return err
		}
		if seen[e.Path] {
			return fmt.Errorf("the name %q twice", e.Path)
		}
		seen[e.Path] = true
		if e.Dir {
			dirs++
			continue
		}
		if e.Size < 0 || e.Size > offerMaxFileSize {
			return fmt.Errorf("a size of %d bytes", e.Size)
		}
		if sum, err := hex.DecodeString(e.SHA256); err != nil || len(sum) != sha256.Size {
			return fmt.Errorf("%q has no SHA-256", e.Path)
		}
		files++
		bytes += e.Size
	}
	for _, e := range entries {
		for dir := path.Dir(e.Path); dir != "."; dir = path.Dir(dir) {
			if seen[dir] && !isOfferedDir(entries, dir) {
				return fmt.Errorf("%q would be inside the file %q", e.Path, dir)
			}
		}
	}
	if files != h.Files || dirs != h.Dirs || bytes != h.Bytes {
		return errors.New("totals that do not add up")
	}
	return nil
}

// isOfferedDir reports whether the offer names p as a folder.
func isOfferedDir(entries []offerEntry, p string) bool {
	for _, e := range entries {
		if e.Path == p {
			return e.Dir
		}
	}
	return false
}

// landing is the folder received files go to.
type landing struct {
	root      *os.Root
	dir       string
	overwrite bool // -overwrite: an existing file may be replaced
}

func openLanding(dir string, overwrite bool) (*landing, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot receive into %s: %w", dir, bareError(err))
	}
	return &landing{root: root, dir: dir, overwrite: overwrite}, nil
}

func (l *landing) close() { _ = l.root.Close() }

// arrival is what the receiver holds of one offered file before it asks
// for it: nothing, a part (resume), or the whole file already.
type arrival struct {
	have  int64     // bytes held in the part file
	hash  hash.Hash // SHA-256 of those bytes, to go on with
	whole bool      // the target already holds this very file
}

// prepare looks at what the folder holds for each offered file: a
// finished copy, a part to resume, or a file in the way. It fails on the
// first name in the way, unless the user allowed overwriting.
func (l *landing) prepare(entries []offerEntry) ([]arrival, error) {
	arrivals := make([]arrival, len(entries))
	for i, e := range entries {
		info, err := l.root.Lstat(e.Path)
		exists := err == nil
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, l.refusal(e.Path, err)
		}
		if e.Dir {
			if exists && !info.IsDir() {
				return nil, fmt.Errorf("%s is in the way of a folder of that name: move it, then receive again", sanitizeLine(e.Path))
			}
			continue
		}
		if exists && info.Mode().IsRegular() && info.Size() == e.Size {
			if sum, _, err := l.hashHeld(e.Path, e.Size); err == nil && hex.EncodeToString(sum.Sum(nil)) == e.SHA256 {
				arrivals[i].whole = true
				continue
			}
		}
		if exists && (!l.overwrite || info.IsDir()) {
			return nil, fmt.Errorf("%s already exists here: -overwrite replaces it, or receive into another folder with -to", sanitizeLine(e.Path))
		}
		if h, n, err := l.hashHeld(e.Path+partSuffix, e.Size); err == nil {
			arrivals[i].have, arrivals[i].hash = n, h
		}
	}
	return arrivals, nil
}

// refusal explains an error os.Root gave for name: most often, a name
// that leads out of the folder through a symbolic link.
func (l *landing) refusal(name string, err error) error {
	return fmt.Errorf("cannot write %s inside %s: %w", sanitizeLine(name), l.dir, bareError(err))
}

// hashHeld hashes a regular file held at name, if it is no longer than
// max, and returns the hash state to go on with and its length.
func (l *landing) hashHeld(name string, max int64) (hash.Hash, int64, error) {
	info, err := l.root.Lstat(name)
	if err != nil {
		return nil, 0, err
	}
	if !info.Mode().IsRegular() || info.Size() > max {
		return nil, 0, errors.New("not a part of this file")
	}
	f, err := l.root.Open(name)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return h, n, err
}

// makeDir makes an offered folder (and those above it) in the landing.
func (l *landing) makeDir(e offerEntry) error {
	if err := l.root.MkdirAll(e.Path, 0o755); err != nil {
		return l.refusal(e.Path, err)
	}
	return l.root.Chmod(e.Path, safeMode(e.Mode, true))
}

// incoming is one file being written.
type incoming struct {
	entry offerEntry
	f     *os.File
	hash  hash.Hash
	got   int64
}

// begin opens the part file for e, at offset: from scratch at 0, after
// the held part (whose hash a holds) otherwise.
func (l *landing) begin(e offerEntry, offset int64, a arrival) (*incoming, error) {
	if dir := path.Dir(e.Path); dir != "." {
		if err := l.root.MkdirAll(dir, 0o755); err != nil {
			return nil, l.refusal(e.Path, err)
		}
	}
	flags, h := os.O_WRONLY|os.O_CREATE|os.O_TRUNC, hash.Hash(sha256.New())
	if offset > 0 {
		if offset != a.have || a.hash == nil {
			return nil, fmt.Errorf("%w: resuming %q at %d, where %d is held", errTransferProtocol, e.Path, offset, a.have)
		}
		flags, h = os.O_WRONLY|os.O_APPEND, cloneHash(a.hash)
	}
	f, err := l.root.OpenFile(e.Path+partSuffix, flags, 0o600)
	if err != nil {
		return nil, l.refusal(e.Path, err)
	}
	return &incoming{entry: e, f: f, hash: h, got: offset}, nil
}

// cloneHash copies a hash state, so that a held part's hash can be used
// once more if the same offer is answered again.
func cloneHash(h hash.Hash) hash.Hash {
	state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		panic(err) // crypto/sha256 always marshals
	}
	c := sha256.New()
	if err := c.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		panic(err)
	}
	return c
}

// write appends data, refusing more than the offer announced.
func (in *incoming) write(data []byte) error {
	if in.got+int64(len(data)) > in.entry.Size {
		return fmt.Errorf("the sender sent more of %s than the %d bytes it announced", sanitizeLine(in.entry.Path), in.entry.Size)
	}
	if _, err := in.f.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w (the part received so far stays, for resume)", sanitizeLine(in.entry.Path), bareError(err))
	}
	in.hash.Write(data)
	in.got += int64(len(data))
	return nil
}

// finish checks the file's size and hash, and gives it its real name and
// mode. A file whose hash failed is removed: it never keeps its name.
func (l *landing) finish(in *incoming) error {
	syncErr := in.f.Sync()
	closeErr := in.f.Close()
	name, part := in.entry.Path, in.entry.Path+partSuffix
	switch {
	case in.got != in.entry.Size:
		return fmt.Errorf("the sender ended %s after %d of the %d bytes it announced", sanitizeLine(name), in.got, in.entry.Size)
	case syncErr != nil || closeErr != nil:
		return fmt.Errorf("writing %s: %w (the part received so far stays, for resume)", sanitizeLine(name), cmpErr(syncErr, closeErr))
	case hex.EncodeToString(in.hash.Sum(nil)) != in.entry.SHA256:
		_ = l.root.Remove(part)
		return fmt.Errorf("%s arrived damaged: its SHA-256 does not match the sender's, so it was deleted", sanitizeLine(name))
	}
	if err := l.root.Chmod(part, safeMode(in.entry.Mode, false)); err != nil {
		return l.refusal(name, err)
	}
	if err := l.root.Rename(part, name); err != nil {
		return l.refusal(name, err)
	}
	return nil
}

// abandon closes a file cut off mid-way; its part stays, for resume.
func (in *incoming) abandon() { _ = in.f.Close() }

func cmpErr(a, b error) error {
	if a != nil {
		return bareError(a)
	}
	return bareError(b)
}

// bareError is an os error without the operation and path it names: the
// message around it names the file as the user knows it.
func bareError(err error) error {
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	return err
}

// safeMode keeps the permission bits a sender may set: never setuid,
// setgid or sticky; the owner can always read (and enter a folder), so
// that what arrives can be moved or deleted.
func safeMode(m uint32, dir bool) fs.FileMode {
	mode := fs.FileMode(m) & 0o777
	if dir {
		return mode | 0o700
	}
	return mode | 0o600
}
