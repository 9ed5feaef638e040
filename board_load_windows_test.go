package main

import "testing"

// loadRaiseFileLimit has nothing to raise on Windows, which sets no
// per-process limit on open sockets.
func loadRaiseFileLimit(b *testing.B) {}
