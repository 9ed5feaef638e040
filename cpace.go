package main

// This file is CPace, the balanced PAKE of draft-irtf-cfrg-cpace, in its
// ristretto255 / SHA-512 suite and its initiator-responder form: the
// primitive under gopeer's native mode (issue 13). Both parties derive
// the same key only if they used the same password, and a party that
// watches or changes the two messages learns nothing it could test
// guesses against offline: each run costs an attacker one online guess.
//
//	  initiator (PRS, CI, sid, ADa)          responder (PRS, CI, sid, ADb)
//	  g  = generator(PRS, CI, sid)           g  = generator(PRS, CI, sid)
//	  ya random, Ya = ya·g   ---- Ya, ADa --->  yb random, Yb = yb·g
//	                         <--- Yb, ADb ----
//	  K  = ya·Yb (abort if identity)         K  = yb·Ya (abort if identity)
//	  ISK = SHA-512(lv_cat(DSI||"_ISK", sid, K) || lv_cat(Ya,ADa) || lv_cat(Yb,ADb))
//
// The group is github.com/gtank/ristretto255: the standard library has no
// prime-order group. The draft's test vectors are in testdata/cpace.

import (
	"bytes"
	"crypto/rand"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"

	"github.com/gtank/ristretto255"
)

const (
	// cpaceDSI names the suite, as the draft does.
	cpaceDSI = "CPaceRistretto255"
	// cpaceHashBlock is SHA-512's input block size (H.s_in_bytes).
	cpaceHashBlock = 128
	// cpaceElementLen is the length of an encoded ristretto255 element.
	cpaceElementLen = 32
)

// errCPaceIdentity means the peer's message decodes to nothing usable: not
// an element, or one that makes the shared point the identity. The draft
// requires an abort; it is what an attacker's crafted message looks like.
var errCPaceIdentity = errors.New("cpace: the peer's message is not a valid group element")

// cpaceParty is one side of a CPace run, between sending its message and
// receiving the peer's.
type cpaceParty struct {
	y   *ristretto255.Scalar
	msg []byte // Y = y·g, encoded: what this side sends
	ad  []byte // this side's associated data, sent beside msg
	sid []byte
}

// cpaceStart begins a run: it derives the generator from the password
// (prs), the channel identifier (ci) and the session id (sid), draws a
// secret scalar from random, and returns the party, whose msg goes to the
// peer with ad.
func cpaceStart(prs, ci, sid, ad []byte, random io.Reader) (*cpaceParty, error) {
	y, err := cpaceSampleScalar(random)
	if err != nil {
		return nil, err
	}
	return cpaceStartWith(y, prs, ci, sid, ad), nil
}

// cpaceStartWith is cpaceStart with a given scalar: the test vectors'.
func cpaceStartWith(y *ristretto255.Scalar, prs, ci, sid, ad []byte) *cpaceParty {
	g := cpaceGenerator(prs, ci, sid)
	msg := ristretto255.NewElement().ScalarMult(y, g).Encode(nil)
	return &cpaceParty{y: y, msg: msg, ad: bytes.Clone(ad), sid: bytes.Clone(sid)}
}

// finish takes the peer's message and associated data and returns the
// intermediate session key ISK (64 bytes). initiator says which side
// this party is, so that both order the transcript the same way.
func (p *cpaceParty) finish(peerMsg, peerAD []byte, initiator bool) ([]byte, error) {
	k, err := cpaceScalarMultVerify(p.y, peerMsg)
	if err != nil {
		return nil, err
	}
	var transcript []byte
	if initiator {
		transcript = cpaceTranscriptIR(p.msg, p.ad, peerMsg, peerAD)
	} else {
		transcript = cpaceTranscriptIR(peerMsg, peerAD, p.msg, p.ad)
	}
	h := sha512.New()
	h.Write(cpaceLVCat([]byte(cpaceDSI+"_ISK"), p.sid, k))
	h.Write(transcript)
	return h.Sum(nil), nil
}

// cpaceSampleScalar is the draft's recommended sampling: 32 random bytes
// with the bits above the group's 252 cleared, read little-endian. The
// value is below the group order, so it is always a canonical scalar.
func cpaceSampleScalar(random io.Reader) (*ristretto255.Scalar, error) {
	if random == nil {
		random = rand.Reader
	}
	var b [32]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return nil, fmt.Errorf("cpace: drawing a scalar: %w", err)
	}
	b[31] &= 0x0f
	y := ristretto255.NewScalar()
	if err := y.Decode(b[:]); err != nil {
		return nil, fmt.Errorf("cpace: drawing a scalar: %w", err) // cannot happen below 2^252
	}
	return y, nil
}

// cpaceGenerator maps the password, channel identifier and session id to
// the run's generator: SHA-512 of the generator string, then ristretto255's
// element derivation from its 64 bytes.
func cpaceGenerator(prs, ci, sid []byte) *ristretto255.Element {
	h := sha512.Sum512(cpaceGeneratorString([]byte(cpaceDSI), prs, ci, sid))
	return ristretto255.NewElement().FromUniformBytes(h[:])
}

// cpaceGeneratorString is the draft's generator_string: DSI and PRS, zero
// padding to the end of the hash's first block, then CI and sid, each
// length-prefixed.
func cpaceGeneratorString(dsi, prs, ci, sid []byte) []byte {
	zpad := max(0, cpaceHashBlock-1-len(cpacePrependLen(prs))-len(cpacePrependLen(dsi)))
	return cpaceLVCat(dsi, prs, make([]byte, zpad), ci, sid)
}

// cpaceScalarMultVerify is the draft's scalar_mult_vfy: y times the
// decoded peer message, refusing what does not decode and the identity.
// The identity's all-zero encoding decodes without error, so it is checked
// explicitly.
func cpaceScalarMultVerify(y *ristretto255.Scalar, encoded []byte) ([]byte, error) {
	if len(encoded) != cpaceElementLen {
		return nil, errCPaceIdentity
	}
	x := ristretto255.NewElement()
	if err := x.Decode(encoded); err != nil {
		return nil, errCPaceIdentity
	}
	k := ristretto255.NewElement().ScalarMult(y, x)
	if k.Equal(ristretto255.NewElement().Zero()) == 1 {
		return nil, errCPaceIdentity
	}
	return k.Encode(nil), nil
}

// cpaceTranscriptIR is the initiator-responder transcript.
func cpaceTranscriptIR(ya, ada, yb, adb []byte) []byte {
	return append(cpaceLVCat(ya, ada), cpaceLVCat(yb, adb)...)
}

// cpaceLVCat concatenates its arguments, each prefixed by its length.
func cpaceLVCat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, cpacePrependLen(p)...)
	}
	return out
}

// cpacePrependLen prefixes data with its length in LEB128.
func cpacePrependLen(data []byte) []byte {
	n := len(data)
	var out []byte
	for {
		if n < 0x80 {
			out = append(out, byte(n))
			break
		}
		out = append(out, byte(n&0x7f)|0x80)
		n >>= 7
	}
	return append(out, data...)
}
