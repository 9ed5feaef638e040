package main

import (
	"math"
	"testing"
)

// loadRaiseFileLimit has nothing to raise on Windows, which sets no
// per-process limit on open sockets.
func loadRaiseFileLimit(b *testing.B) uint64 { return math.MaxUint64 }
