package main

// This file is what a sender offers: the files and folders named on its
// command line (or after /send), walked, hashed and described as the file
// protocol's offer (transfer.go).

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// offerEntry is one file or folder of an offer, as it travels. Path is
// relative, with "/" between its parts; Mode is the permission bits only.
type offerEntry struct {
	Path   string `json:"path"`
	Dir    bool   `json:"dir,omitempty"`
	Size   int64  `json:"size,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	Mode   uint32 `json:"mode"`
}

// offerHeader ends an offer: its totals, for the receiver to check
// against the entries and show its user.
type offerHeader struct {
	Version int   `json:"version"`
	Files   int   `json:"files"`
	Dirs    int   `json:"dirs"`
	Bytes   int64 `json:"bytes"`
}

// outgoing is an offer and where its files are on this machine.
type outgoing struct {
	entries []offerEntry
	sources []string // for each entry, the local path
	skipped []string // what was left out, and why, for the user
}

// header is the offer's totals.
func (o *outgoing) header() offerHeader {
	h := offerHeader{Version: transferVersion}
	for _, e := range o.entries {
		if e.Dir {
			h.Dirs++
			continue
		}
		h.Files++
		h.Bytes += e.Size
	}
	return h
}

// buildOffer walks paths into an offer: a file is offered under its own
// name, a folder with its whole tree (empty folders too). Inside a
// folder, symbolic links and anything but files and folders (devices,
// sockets, pipes) are skipped, each with a note; a link named on the
// command line is followed, as cp does.
func buildOffer(paths []string) (*outgoing, error) {
	if len(paths) == 0 {
		return nil, errors.New("nothing to send: name a file or a folder")
	}
	o := &outgoing{}
	names := map[string]string{}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("cannot send %s: %w", p, bareError(err))
		}
		name := filepath.Base(filepath.Clean(p))
		if name == "." || name == ".." || name == string(filepath.Separator) {
			abs, err := filepath.Abs(p)
			if err != nil {
				return nil, err
			}
			name = filepath.Base(abs)
		}
		if other, ok := names[name]; ok {
			return nil, fmt.Errorf("%s and %s would both arrive as %s: send them apart", other, p, name)
		}
		names[name] = p
		if info.IsDir() {
			err = o.addTree(p, name)
		} else {
			err = o.addFile(p, name, info)
		}
		if err != nil {
			return nil, err
		}
	}
	return o, nil
}

// addTree adds the folder at dir, offered as name, with everything in it.
func (o *outgoing) addTree(dir, name string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("cannot send %s: %w", p, bareError(err))
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		offered := path.Join(name, filepath.ToSlash(rel))
		switch t := d.Type(); {
		case t&fs.ModeSymlink != 0:
			o.skipped = append(o.skipped, p+" (a symbolic link)")
			return nil
		case d.IsDir():
			info, err := d.Info()
			if err != nil {
				return err
			}
			o.entries = append(o.entries, offerEntry{Path: offered, Dir: true, Mode: uint32(info.Mode().Perm())})
			o.sources = append(o.sources, p)
			return nil
		case !t.IsRegular():
			o.skipped = append(o.skipped, p+" (not a file or a folder)")
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return o.addFile(p, offered, info)
	})
}

// addFile hashes the file at p and adds it, offered as name.
func (o *outgoing) addFile(p, name string, info fs.FileInfo) error {
	if !info.Mode().IsRegular() {
		o.skipped = append(o.skipped, p+" (not a file or a folder)")
		return nil
	}
	sum, size, err := hashFile(p)
	if err != nil {
		return fmt.Errorf("cannot send %s: %w", p, err)
	}
	o.entries = append(o.entries, offerEntry{Path: name, Size: size, SHA256: sum, Mode: uint32(info.Mode().Perm())})
	o.sources = append(o.sources, p)
	return nil
}

// hashFile is the SHA-256 of the file at p, in hex, and its size.
func hashFile(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, bareError(err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// offerSummary says what an offer holds, for a prompt: its names (the
// first few, sanitized), the count and the total size.
func offerSummary(entries []offerEntry, h offerHeader) string {
	var tops []string
	seen := map[string]bool{}
	for _, e := range entries {
		top, _, _ := strings.Cut(e.Path, "/")
		if !seen[top] {
			seen[top] = true
			tops = append(tops, top)
		}
	}
	names := tops
	more := ""
	if len(names) > 3 {
		names, more = names[:3], fmt.Sprintf(" and %d more", len(tops)-3)
	}
	for i, n := range names {
		names[i] = sanitizeLine(n)
	}
	files := "files"
	if h.Files == 1 {
		files = "file"
	}
	return fmt.Sprintf("%s%s: %d %s, %s", strings.Join(names, ", "), more, h.Files, files, formatBytes(h.Bytes))
}

// formatBytes renders a size for people: 0 B, 512 B, 1.5 KiB, 2.0 GiB.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
