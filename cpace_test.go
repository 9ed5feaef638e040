package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gtank/ristretto255"
)

// cpaceVectorFile is testdata/cpace/ristretto255-sha512.json: the
// draft's ristretto255 / SHA-512 vectors under the draft's own names
// (testdata/cpace/README.md says where from).
type cpaceVectorFile struct {
	CPace  cpaceVector `json:"cpace"`
	Points struct {
		Valid     cpaceVector `json:"Valid"`
		InvalidY1 hexBytes    `json:"Invalid Y1"`
		InvalidY2 hexBytes    `json:"Invalid Y2"`
	} `json:"points"`
}

// cpaceVector is one set of named values.
type cpaceVector map[string]hexBytes

// get is the value called name, which a test cannot do without.
func (v cpaceVector) get(t *testing.T, name string) []byte {
	t.Helper()
	b, ok := v[name]
	if !ok || len(b) == 0 {
		t.Fatalf("the vectors have no %s", name)
	}
	return b
}

// hexBytes reads the vectors' hexadecimal strings.
type hexBytes []byte

func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	raw, err := hex.DecodeString(s)
	*h = raw
	return err
}

func readCPaceVectors(t *testing.T) cpaceVectorFile {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "cpace", "ristretto255-sha512.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v cpaceVectorFile
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func cpaceScalar(t *testing.T, b []byte) *ristretto255.Scalar {
	t.Helper()
	s := ristretto255.NewScalar()
	if err := s.Decode(b); err != nil {
		t.Fatalf("scalar %x: %v", b, err)
	}
	return s
}

// TestCPaceStringFunctions: the draft's vectors for prepend_len, lv_cat
// and transcript_ir ("Definition and test vectors for string utility
// functions").
func TestCPaceStringFunctions(t *testing.T) {
	seq := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i)
		}
		return b
	}
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"prepend_len(b\"\")", cpacePrependLen(nil), "00"},
		{"prepend_len(b\"1234\")", cpacePrependLen([]byte("1234")), "0431323334"},
		{"prepend_len(range(127))", cpacePrependLen(seq(127)), "7f" + hex.EncodeToString(seq(127))},
		{"prepend_len(range(128))", cpacePrependLen(seq(128)), "8001" + hex.EncodeToString(seq(128))},
		{"lv_cat", cpaceLVCat([]byte("1234"), []byte("5"), nil, []byte("678")), "043132333401350003363738"},
		{"transcript_ir 1", cpaceTranscriptIR([]byte("123"), []byte("PartyA"), []byte("234"), []byte("PartyB")), "03313233065061727479410332333406506172747942"},
		{"transcript_ir 2", cpaceTranscriptIR([]byte("3456"), []byte("PartyA"), []byte("2345"), []byte("PartyB")), "043334353606506172747941043233343506506172747942"},
	}
	for _, tt := range tests {
		if got := hex.EncodeToString(tt.got); got != tt.want {
			t.Errorf("%s = %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestCPaceVectors reproduces the draft's ristretto255 / SHA-512 run step
// by step: the generator string, its hash, the generator, both messages,
// the shared point and the initiator-responder ISK.
func TestCPaceVectors(t *testing.T) {
	v := readCPaceVectors(t).CPace
	prs, ci, sid := v.get(t, "PRS"), v.get(t, "CI"), v.get(t, "sid")
	if got, want := cpaceGeneratorString([]byte(cpaceDSI), prs, ci, sid), v.get(t, "generator_string"); !bytes.Equal(got, want) {
		t.Fatalf("generator_string =\n%x\nwant\n%x", got, want)
	}
	if got, want := cpaceGenerator(prs, ci, sid).Encode(nil), v.get(t, "g"); !bytes.Equal(got, want) {
		t.Fatalf("g = %x, want %x", got, want)
	}
	a := cpaceStartWith(cpaceScalar(t, v.get(t, "ya")), prs, ci, sid, v.get(t, "ADa"))
	b := cpaceStartWith(cpaceScalar(t, v.get(t, "yb")), prs, ci, sid, v.get(t, "ADb"))
	if !bytes.Equal(a.msg, v.get(t, "Ya")) || !bytes.Equal(b.msg, v.get(t, "Yb")) {
		t.Fatalf("Ya, Yb = %x, %x; want %x, %x", a.msg, b.msg, v.get(t, "Ya"), v.get(t, "Yb"))
	}
	for _, side := range []struct {
		name     string
		p, other *cpaceParty
	}{{"A", a, b}, {"B", b, a}} {
		k, err := cpaceScalarMultVerify(side.p.y, side.other.msg)
		if err != nil || !bytes.Equal(k, v.get(t, "K")) {
			t.Errorf("%s: K = %x, %v; want %x", side.name, k, err, v.get(t, "K"))
		}
	}
	iskA, err := a.finish(b.msg, b.ad, true)
	if err != nil {
		t.Fatal(err)
	}
	iskB, err := b.finish(a.msg, a.ad, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := v.get(t, "ISK_IR"); !bytes.Equal(iskA, want) || !bytes.Equal(iskB, want) {
		t.Errorf("ISK = %x (A), %x (B); want %x", iskA, iskB, want)
	}
}

// TestCPaceRefusesInvalidPoints: the draft's scalar_mult_vfy cases. A
// valid point multiplies; one that does not decode, the identity's
// all-zero encoding (which decodes without error), and a wrong length are
// refused, so a run with them aborts.
func TestCPaceRefusesInvalidPoints(t *testing.T) {
	p := readCPaceVectors(t).Points
	s, x := cpaceScalar(t, p.Valid.get(t, "s")), p.Valid.get(t, "X")
	got, err := cpaceScalarMultVerify(s, x)
	if want := p.Valid.get(t, "G.scalar_mult_vfy(s,X)"); err != nil || !bytes.Equal(got, want) {
		t.Errorf("scalar_mult_vfy(s, X) = %x, %v; want %x", got, err, want)
	}
	if len(p.InvalidY2) != cpaceElementLen || !bytes.Equal(p.InvalidY2, make([]byte, cpaceElementLen)) {
		t.Fatalf("the identity vector is %x, want 32 zero bytes", p.InvalidY2)
	}
	if err := ristretto255.NewElement().Decode(p.InvalidY2); err != nil {
		t.Fatalf("the identity's encoding does not decode (%v): the explicit check would be untested", err)
	}
	for name, bad := range map[string][]byte{
		"Y_i1, not an element":        p.InvalidY1,
		"Y_i2, the identity":          p.InvalidY2,
		"short":                       x[:31],
		"long":                        append(bytes.Clone(x), 0),
		"empty":                       nil,
		"X with its sign bit flipped": flipBit(x, 0),
		"X above the field's prime":   bytes.Repeat([]byte{0xff}, cpaceElementLen),
	} {
		if got, err := cpaceScalarMultVerify(s, bad); !errors.Is(err, errCPaceIdentity) {
			t.Errorf("%s: scalar_mult_vfy = %x, %v; want errCPaceIdentity", name, got, err)
		}
		party := cpaceStartWith(s, []byte("pw"), nil, nil, nil)
		if _, err := party.finish(bad, nil, true); !errors.Is(err, errCPaceIdentity) {
			t.Errorf("%s: a run went on: %v", name, err)
		}
	}
}

func flipBit(b []byte, bit int) []byte {
	out := bytes.Clone(b)
	out[bit/8] ^= 1 << (bit % 8)
	return out
}

// TestCPaceKeys: with random scalars, the same password gives both sides
// the same key; a wrong password, another channel identifier, session id
// or associated data, or a message changed on the way gives different
// keys, and a new run gives a new key. Associated data is sent, not
// secret: each side's own may differ, but changed on the way it breaks
// the key.
func TestCPaceKeys(t *testing.T) {
	type inputs struct{ prs, ci, sid, ad string }
	// tamper changes A's message and associated data on the way to B.
	run := func(a, b inputs, tamper func(msg, ad []byte) ([]byte, []byte)) (isA, isB []byte) {
		t.Helper()
		pa, err := cpaceStart([]byte(a.prs), []byte(a.ci), []byte(a.sid), []byte(a.ad), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pb, err := cpaceStart([]byte(b.prs), []byte(b.ci), []byte(b.sid), []byte(b.ad), nil)
		if err != nil {
			t.Fatal(err)
		}
		msgA, adA := pa.msg, pa.ad
		if tamper != nil {
			msgA, adA = tamper(msgA, adA)
		}
		if isA, err = pa.finish(pb.msg, pb.ad, true); err != nil {
			t.Fatal(err)
		}
		if isB, err = pb.finish(msgA, adA, false); err != nil {
			t.Fatal(err)
		}
		return isA, isB
	}
	base := inputs{"4F9Q secret", "host joiner K7P2M0", "sid", "ad"}
	ka, kb := run(base, base, nil)
	if !bytes.Equal(ka, kb) || len(ka) != sha512Size {
		t.Fatalf("the same password gave %x and %x", ka, kb)
	}
	again, _ := run(base, base, nil)
	if bytes.Equal(again, ka) {
		t.Error("two runs gave the same key")
	}
	other := func(f func(*inputs)) inputs { in := base; f(&in); return in }
	tests := map[string]inputs{
		"a wrong password":   other(func(in *inputs) { in.prs = "4F9R secret" }),
		"another channel":    other(func(in *inputs) { in.ci = "host joiner K7P2M1" }),
		"another session id": other(func(in *inputs) { in.sid = "sid2" }),
	}
	for name, b := range tests {
		if ka, kb := run(base, b, nil); bytes.Equal(ka, kb) {
			t.Errorf("%s gave both sides the same key", name)
		}
	}
	// A man in the middle who swaps in its own valid message.
	mallory, err := cpaceStart([]byte("guess"), []byte(base.ci), []byte(base.sid), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ka, kb := run(base, base, func(_, ad []byte) ([]byte, []byte) { return mallory.msg, ad }); bytes.Equal(ka, kb) {
		t.Error("a replaced message still gave both sides the same key")
	}
	if ka, kb := run(base, base, func(msg, _ []byte) ([]byte, []byte) { return msg, []byte("changed") }); bytes.Equal(ka, kb) {
		t.Error("associated data changed on the way still gave both sides the same key")
	}
	if ka, kb := run(base, other(func(in *inputs) { in.ad = "b's own" }), nil); !bytes.Equal(ka, kb) {
		t.Error("each side's own associated data broke the key")
	}
}

const sha512Size = 64

// BenchmarkCPace is one side's whole cost: a generator, two scalar
// multiplications and the key (issue 13's goal: under 1 ms).
func BenchmarkCPace(b *testing.B) {
	peer, err := cpaceStart([]byte("pw"), []byte("ci"), nil, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		p, err := cpaceStart([]byte("pw"), []byte("ci"), nil, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.finish(peer.msg, nil, true); err != nil {
			b.Fatal(err)
		}
	}
}
