package main

import (
	"bytes"
	"compress/zlib"
	"crypto/aes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// signalVector is a board value sealed by pypeer's own code.
type signalVector struct {
	Room       string `json:"room"`
	Password   string `json:"password"`
	Key        string `json:"key"`
	Plain      signal `json:"plain"`
	BoardValue struct {
		Payload   string `json:"payload"`
		Timestamp int64  `json:"timestamp"`
	} `json:"board_value"`
}

func TestSignalVectors(t *testing.T) {
	var vectors []signalVector
	fernetReadVectors(t, "pypeer/signal-vectors.json", &vectors)
	if len(vectors) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range vectors {
		t.Run(v.Room, func(t *testing.T) {
			k := roomKey(v.Room, v.Password)
			if got := k.String(); got != v.Key {
				t.Errorf("roomKey(%q, %q) = %q, want %q", v.Room, v.Password, got, v.Key)
			}
			// The vectors' Fernet timestamps are when they were sealed, not
			// the board timestamp, so the clock is fixed just after sealing.
			now := fernetTokenTime(t, v.BoardValue.Payload).Add(time.Second)
			got, err := openSignal(k, v.BoardValue.Payload, now)
			if err != nil || got != v.Plain {
				t.Errorf("openSignal = %+v, %v; want %+v", got, err, v.Plain)
			}
		})
	}
}

// signalTestPacked returns the zlib-inflated plaintext of a sealed token.
func signalTestPacked(t *testing.T, k fernetKey, token string, now time.Time) []byte {
	t.Helper()
	packed, err := k.decrypt(token, now, 0, 0)
	if err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	js, err := signalInflate(packed)
	if err != nil {
		t.Fatalf("inflate: %v", err)
	}
	return js
}

func TestSealOpenSignal(t *testing.T) {
	k := roomKey("ZZ9XQ1", "correct horse battery staple")
	now := time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	tests := []struct {
		name string
		in   signal
	}{
		{"offer", signal{SDP: "v=0\r\ns=-\r\n", Type: "offer"}},
		{"answer", signal{SDP: "v=0\r\ns=-\r\n", Type: "answer"}},
		{"escapes and unicode", signal{SDP: "a=<x>&\"y\"\\ \u00e4 \u5bc6 \U0001F600\r\n", Type: "offer"}},
		{"large", signal{SDP: strings.Repeat("a=candidate:1 1 udp 2130706431 10.0.0.1 5000 typ host\r\n", 2000), Type: "answer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, err := sealSignal(k, tt.in, now)
			if err != nil {
				t.Fatalf("sealSignal: %v", err)
			}
			// Python's decoder needs the padded form.
			if _, err := base64.URLEncoding.Strict().DecodeString(token); err != nil {
				t.Errorf("token is not padded base64url: %v", err)
			}
			got, err := openSignal(k, token, now)
			if err != nil || got != tt.in {
				t.Errorf("openSignal = %+v, %v; want %+v", got, err, tt.in)
			}
			var members map[string]any
			if err := json.Unmarshal(signalTestPacked(t, k, token, now), &members); err != nil {
				t.Fatalf("sealed plaintext is not JSON: %v", err)
			}
			if len(members) != 2 || members["sdp"] != tt.in.SDP || members["type"] != tt.in.Type {
				t.Errorf("sealed plaintext = %v, want exactly sdp and type", members)
			}
		})
	}
}

func TestSealSignalRefuses(t *testing.T) {
	k := roomKey("ABC123", "")
	now := time.Unix(1_800_000_000, 0)
	rng := rand.New(rand.NewPCG(1, 2))
	const printable = "!#$%'()*+,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~ "
	noisy := make([]byte, signalMaxPlain-64)
	for i := range noisy {
		noisy[i] = printable[rng.IntN(len(printable))]
	}
	tests := []struct {
		name string
		in   signal
		want error
	}{
		{"empty sdp", signal{Type: "offer"}, errSignalMalformed},
		{"empty type", signal{SDP: "v=0"}, errSignalMalformed},
		{"other type", signal{SDP: "v=0", Type: "pranswer"}, errSignalMalformed},
		{"plaintext over cap", signal{SDP: strings.Repeat("a", signalMaxPlain), Type: "offer"}, errSignalTooLarge},
		{"token over cap", signal{SDP: string(noisy), Type: "offer"}, errSignalTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := sealSignal(k, tt.in, now); !errors.Is(err, tt.want) {
				t.Errorf("sealSignal: err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestOpenSignalClock(t *testing.T) {
	k := roomKey("ABC123", "pw")
	sealed := time.Unix(1_800_000_000, 0)
	token, err := sealSignal(k, signal{SDP: "v=0", Type: "offer"}, sealed)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		age  time.Duration // how long before opening the token was sealed
		want error
	}{
		{"fresh", 0, nil},
		{"9m59s old", 9*time.Minute + 59*time.Second, nil},
		{"10m old", 10 * time.Minute, nil},
		{"10m1s old", 10*time.Minute + time.Second, errFernetExpired},
		{"11m old", 11 * time.Minute, errFernetExpired},
		{"a day old", 24 * time.Hour, errFernetExpired},
		{"1m future", -time.Minute, nil},
		{"2m future", -2 * time.Minute, nil},
		{"2m1s future", -2*time.Minute - time.Second, errFernetFuture},
		{"3m future", -3 * time.Minute, errFernetFuture},
		{"a year future", -365 * 24 * time.Hour, errFernetFuture},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := openSignal(k, token, sealed.Add(tt.age))
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Errorf("openSignal: err = %v, want %v", err, tt.want)
			}
		})
	}
}

// signalTestFlip returns token with one decoded byte changed.
func signalTestFlip(t *testing.T, token string, i int) string {
	t.Helper()
	raw, err := base64.URLEncoding.DecodeString(token)
	if err != nil {
		t.Fatal(err)
	}
	if i < 0 {
		i += len(raw)
	}
	raw[i] ^= 0x01
	return base64.URLEncoding.EncodeToString(raw)
}

// signalTestCut returns token with n decoded bytes removed from its end.
func signalTestCut(t *testing.T, token string, n int) string {
	t.Helper()
	raw, err := base64.URLEncoding.DecodeString(token)
	if err != nil {
		t.Fatal(err)
	}
	return base64.URLEncoding.EncodeToString(raw[:len(raw)-n])
}

func TestOpenSignalRejectsTokens(t *testing.T) {
	k := roomKey("ABC123", "pw")
	sealed := time.Unix(1_800_000_000, 0)
	want := signal{SDP: "v=0", Type: "answer"}
	token, err := sealSignal(k, want, sealed)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		key   fernetKey
		token string
		age   time.Duration
		want  error
	}{
		{"original", k, token, 0, nil},
		{"unpadded", k, strings.TrimRight(token, "="), 0, nil},
		{"wrong password", roomKey("ABC123", "pW"), token, 0, errFernetBadMAC},
		{"empty password", roomKey("ABC123", ""), token, 0, errFernetBadMAC},
		{"wrong room", roomKey("ABC124", "pw"), token, 0, errFernetBadMAC},
		{"wrong password and expired", roomKey("ABC123", "x"), token, time.Hour, errFernetBadMAC},
		{"wrong password and future", roomKey("ABC123", "x"), token, -time.Hour, errFernetBadMAC},
		{"version byte", k, signalTestFlip(t, token, 0), 0, errFernetMalformed},
		{"timestamp byte", k, signalTestFlip(t, token, 8), 0, errFernetBadMAC},
		{"iv byte", k, signalTestFlip(t, token, 9), 0, errFernetBadMAC},
		{"ciphertext byte", k, signalTestFlip(t, token, fernetHeaderLen), 0, errFernetBadMAC},
		{"mac byte", k, signalTestFlip(t, token, -1), 0, errFernetBadMAC},
		{"cut one block", k, signalTestCut(t, token, 16), 0, errFernetBadMAC},
		{"cut one byte", k, signalTestCut(t, token, 1), 0, errFernetMalformed},
		{"cut text", k, token[:len(token)-5], 0, errFernetMalformed},
		{"cut to header", k, token[:40], 0, errFernetMalformed},
		{"empty", k, "", 0, errFernetMalformed},
		{"not base64", k, "not a token!", 0, errFernetMalformed},
		{"std base64 alphabet", k, "+/" + token[2:], 0, errFernetMalformed},
		{"oversized", k, strings.Repeat("A", signalMaxToken+1), 0, errFernetMalformed},
		{"at size cap", k, strings.Repeat("A", signalMaxToken), 0, errFernetMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := openSignal(tt.key, tt.token, sealed.Add(tt.age))
			if tt.want == nil {
				if err != nil || got != want {
					t.Errorf("openSignal = %+v, %v; want %+v", got, err, want)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("openSignal: err = %v, want %v", err, tt.want)
			}
		})
	}
}

// signalTestAllocated reports how many heap bytes f allocates.
func signalTestAllocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestOpenSignalOversizedTokenIsCheap(t *testing.T) {
	k := roomKey("ABC123", "")
	token := strings.Repeat("A", signalMaxToken+1)
	var err error
	n := signalTestAllocated(func() { _, err = openSignal(k, token, time.Unix(0, 0)) })
	if !errors.Is(err, errFernetMalformed) {
		t.Errorf("err = %v, want %v", err, errFernetMalformed)
	}
	if n > 16<<10 {
		t.Errorf("rejecting an oversized token allocated %d bytes; it should not decode it", n)
	}
}

func TestOpenSignalZlibBomb(t *testing.T) {
	const inflated = 100 << 20
	// Compressed in a stream, never held whole. BestSpeed keeps the test quick
	// under -race and still packs 100 MiB well inside signalMaxToken.
	var packed bytes.Buffer
	zw, err := zlib.NewWriterLevel(&packed, zlib.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for range inflated / len(zeros) {
		if _, err := zw.Write(zeros); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	k := roomKey("ABC123", "")
	now := time.Unix(1_800_000_000, 0)
	token, err := k.encrypt(packed.Bytes(), now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(token) > signalMaxToken {
		t.Fatalf("bomb token is %d bytes, over the %d cap; the test proves nothing", len(token), signalMaxToken)
	}
	n := signalTestAllocated(func() { _, err = openSignal(k, token, now) })
	if !errors.Is(err, errSignalTooLarge) {
		t.Errorf("err = %v, want %v", err, errSignalTooLarge)
	}
	if n > 4<<20 {
		t.Errorf("opening a zlib bomb allocated %d bytes, want under 4 MiB", n)
	}
}

// signalTestZlib compresses b as pypeer does.
func signalTestZlib(b []byte) []byte {
	var packed bytes.Buffer
	zw := zlib.NewWriter(&packed)
	zw.Write(b)
	zw.Close()
	return packed.Bytes()
}

func TestOpenSignalPlaintext(t *testing.T) {
	packedOK := signalTestZlib([]byte(`{"sdp": "v=0", "type": "offer"}`))
	badChecksum := bytes.Clone(packedOK)
	badChecksum[len(badChecksum)-1] ^= 0xff
	atCap := `{"sdp":"v=0","type":"offer"}`
	atCap += strings.Repeat(" ", signalMaxPlain-len(atCap))
	tests := []struct {
		name   string
		packed []byte // the Fernet plaintext, normally zlib
		want   error
		sig    signal
	}{
		{"pypeer spacing", packedOK, nil, signal{SDP: "v=0", Type: "offer"}},
		{"compact", signalTestZlib([]byte(`{"sdp":"v=0","type":"answer"}`)), nil, signal{SDP: "v=0", Type: "answer"}},
		{"extra keys", signalTestZlib([]byte(`{"x":1,"sdp":"v=0","type":"answer","y":{"z":[null]}}`)), nil, signal{SDP: "v=0", Type: "answer"}},
		{"duplicate key, last wins", signalTestZlib([]byte(`{"sdp":"a","type":"offer","sdp":"b"}`)), nil, signal{SDP: "b", Type: "offer"}},
		{"exactly at cap", signalTestZlib([]byte(atCap)), nil, signal{SDP: "v=0", Type: "offer"}},
		{"one over cap", signalTestZlib([]byte(atCap + " ")), errSignalTooLarge, signal{}},
		{"not zlib", []byte(`{"sdp":"v=0","type":"offer"}`), errSignalMalformed, signal{}},
		{"empty plaintext", nil, errSignalMalformed, signal{}},
		{"truncated zlib", packedOK[:len(packedOK)-6], errSignalMalformed, signal{}},
		{"bad zlib checksum", badChecksum, errSignalMalformed, signal{}},
		{"empty JSON", signalTestZlib(nil), errSignalMalformed, signal{}},
		{"not JSON", signalTestZlib([]byte("hello")), errSignalMalformed, signal{}},
		{"trailing garbage", signalTestZlib([]byte(`{"sdp":"v=0","type":"offer"} x`)), errSignalMalformed, signal{}},
		{"array", signalTestZlib([]byte(`["v=0","offer"]`)), errSignalMalformed, signal{}},
		{"null", signalTestZlib([]byte(`null`)), errSignalMalformed, signal{}},
		{"string", signalTestZlib([]byte(`"offer"`)), errSignalMalformed, signal{}},
		{"number", signalTestZlib([]byte(`1`)), errSignalMalformed, signal{}},
		{"empty object", signalTestZlib([]byte(`{}`)), errSignalMalformed, signal{}},
		{"missing sdp", signalTestZlib([]byte(`{"type":"offer"}`)), errSignalMalformed, signal{}},
		{"missing type", signalTestZlib([]byte(`{"sdp":"v=0"}`)), errSignalMalformed, signal{}},
		{"empty sdp", signalTestZlib([]byte(`{"sdp":"","type":"offer"}`)), errSignalMalformed, signal{}},
		{"null sdp", signalTestZlib([]byte(`{"sdp":null,"type":"offer"}`)), errSignalMalformed, signal{}},
		{"numeric sdp", signalTestZlib([]byte(`{"sdp":0,"type":"offer"}`)), errSignalMalformed, signal{}},
		{"numeric type", signalTestZlib([]byte(`{"sdp":"v=0","type":1}`)), errSignalMalformed, signal{}},
		{"pranswer", signalTestZlib([]byte(`{"sdp":"v=0","type":"pranswer"}`)), errSignalMalformed, signal{}},
		{"upper-case type", signalTestZlib([]byte(`{"sdp":"v=0","type":"OFFER"}`)), errSignalMalformed, signal{}},
		{"upper-case keys", signalTestZlib([]byte(`{"SDP":"v=0","Type":"offer"}`)), errSignalMalformed, signal{}},
	}
	k := roomKey("K7P2M0", "")
	now := time.Unix(1_800_000_000, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, err := k.encrypt(tt.packed, now, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := openSignal(k, token, now)
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) || got != tt.sig {
				t.Errorf("openSignal = %+v, %v; want %+v, %v", got, err, tt.sig, tt.want)
			}
		})
	}
}

func FuzzOpenSignal(f *testing.F) {
	var vectors []signalVector
	fernetReadVectors(f, "pypeer/signal-vectors.json", &vectors)
	if len(vectors) == 0 {
		f.Fatal("no vectors")
	}
	now := fernetTokenTime(f, vectors[0].BoardValue.Payload)
	for _, v := range vectors {
		f.Add(v.Room, v.Password, v.BoardValue.Payload)
		// Also seed the second path below with real Fernet plaintexts.
		packed, err := roomKey(v.Room, v.Password).decrypt(v.BoardValue.Payload, now, 0, signalMaxSkew)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(v.Room, v.Password, string(packed))
	}
	iv := make([]byte, fernetIVLen)
	known := []error{
		errFernetMalformed, errFernetBadMAC, errFernetPadding, errFernetExpired,
		errFernetFuture, errSignalTooLarge, errSignalMalformed,
	}
	check := func(t *testing.T, s signal, err error) {
		if err == nil {
			if s.SDP == "" || (s.Type != "offer" && s.Type != "answer") {
				t.Fatalf("openSignal accepted %+v", s)
			}
			return
		}
		for _, e := range known {
			if errors.Is(err, e) {
				return
			}
		}
		t.Fatalf("openSignal: unexpected error %v", err)
	}
	f.Fuzz(func(t *testing.T, room, password, in string) {
		k := roomKey(room, password)
		// The input as a token, as a stranger may write it to the board.
		s, err := openSignal(k, in, now)
		check(t, s, err)
		// The input as a Fernet plaintext, to reach zlib and JSON decoding.
		token, err := k.encrypt([]byte(in), now, iv)
		if err != nil {
			t.Fatal(err)
		}
		s, err = openSignal(k, token, now)
		check(t, s, err)
	})
}

func TestParseBoardSignal(t *testing.T) {
	cases := []struct {
		in      string
		ok      bool
		payload string
		ts      int64
	}{
		{`{"payload":"gAAA","timestamp":1764000000000}`, true, "gAAA", 1764000000000},
		{`{"payload":"gAAA"}`, true, "gAAA", 0},
		{`{"payload":"gAAA","timestamp":"soon"}`, false, "", 0},
		{`{"payload":5,"timestamp":1}`, false, "", 0},
		{`{"timestamp":1}`, false, "", 0},
		{`"gAAA"`, false, "", 0},
		{`[1,2]`, false, "", 0},
		{`not json`, false, "", 0},
	}
	for _, c := range cases {
		got, err := parseBoardSignal([]byte(c.in))
		if c.ok != (err == nil) || got.Payload != c.payload || got.Timestamp != c.ts {
			t.Errorf("parseBoardSignal(%s) = %+v, %v; want ok=%v payload=%q ts=%d", c.in, got, err, c.ok, c.payload, c.ts)
		}
	}
}

// TestPypeerDialectRefusesReplayedAnswer: an answer sealed before this
// room's offer, beyond the clock skew a joiner may have, is one replayed
// from an earlier session with the same code and password.
func TestPypeerDialectRefusesReplayedAnswer(t *testing.T) {
	offered := time.Unix(1_800_000_000, 0)
	d := newPypeerDialect("RPLAY1", "pw", func() time.Time { return offered })
	if _, err := d.seal(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: "v=0"}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		sealed time.Duration // relative to the offer
		want   error
	}{
		{-5 * time.Minute, errReplayed},
		{-signalMaxSkew - time.Second, errReplayed},
		{-signalMaxSkew, nil}, // a joiner's clock two minutes behind
		{0, nil},
		{time.Minute, nil},
	} {
		token, err := sealSignal(roomKey("RPLAY1", "pw"), signal{SDP: "v=0", Type: "answer"}, offered.Add(tt.sealed))
		if err != nil {
			t.Fatal(err)
		}
		value, _ := json.Marshal(boardSignal{Payload: token, Timestamp: 1})
		if _, err := d.open(value, webrtc.SDPTypeAnswer); !errors.Is(err, tt.want) {
			t.Errorf("an answer sealed %v from the offer: %v, want %v", tt.sealed, err, tt.want)
		}
	}
}

// offlineGuess is the outside review's offline attack on pypeer's sealing,
// for the figure in docs/SECURITY.md: from a sealed offer read off the
// board, it tests one password with a SHA-256 and one AES block. zlib's
// header (0x78 0x9c) in the first plaintext block filters out all but one
// wrong guess in 65,536, for the full Fernet check to settle.
func offlineGuess(room, password string, iv, firstBlock []byte) bool {
	k := roomKey(room, password)
	c, err := aes.NewCipher(k.encryption[:])
	if err != nil {
		panic(err)
	}
	var plain [aes.BlockSize]byte
	c.Decrypt(plain[:], firstBlock)
	for i := range plain {
		plain[i] ^= iv[i]
	}
	return plain[0] == 0x78 && plain[1] == 0x9c
}

// offlineTarget seals an offer as a host would and returns what the
// attacker needs from the token: the IV and the first ciphertext block.
func offlineTarget(t testing.TB, room, password string) (iv, firstBlock []byte) {
	token, err := sealSignal(roomKey(room, password), signal{SDP: "v=0\r\n", Type: "offer"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := fernetDecodeBase64(token)
	if err != nil {
		t.Fatal(err)
	}
	return raw[1+fernetTSLen : fernetHeaderLen], raw[fernetHeaderLen : fernetHeaderLen+aes.BlockSize]
}

// TestOfflineGuessFilter: the cheap filter keeps the right password and
// drops wrong ones, so the figure BenchmarkOfflineGuessing gives is the
// real cost of testing a password offline.
func TestOfflineGuessFilter(t *testing.T) {
	iv, block := offlineTarget(t, "K7P2M0", "correct horse")
	if !offlineGuess("K7P2M0", "correct horse", iv, block) {
		t.Fatal("the right password fails the filter")
	}
	passed := 0
	for i := range 10000 {
		if offlineGuess("K7P2M0", fmt.Sprint("guess", i), iv, block) {
			passed++
		}
	}
	if passed > 2 {
		t.Errorf("%d of 10,000 wrong passwords pass the filter, want about 0.15", passed)
	}
}

// BenchmarkOfflineGuessing measures passwords tested per second per core
// against one sealed offer (docs/SECURITY.md):
//
//	go test -run '^$' -bench OfflineGuessing -cpu 1 .
func BenchmarkOfflineGuessing(b *testing.B) {
	iv, block := offlineTarget(b, "K7P2M0", "correct horse")
	guesses := make([]string, 1<<16)
	for i := range guesses {
		guesses[i] = fmt.Sprint("guess", i)
	}
	start := time.Now()
	n := 0
	for b.Loop() {
		offlineGuess("K7P2M0", guesses[n&(len(guesses)-1)], iv, block)
		n++
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "passwords/s")
}
