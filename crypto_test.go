package main

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fernetTestdataDir is relative to the package directory, where go test runs.
const fernetTestdataDir = "testdata"

// fernetVector is one case of the Fernet spec's generate, verify or invalid
// vectors; each file uses a subset of the fields.
type fernetVector struct {
	Desc   string `json:"desc"`
	Token  string `json:"token"`
	Now    string `json:"now"`
	IV     []byte `json:"iv"`
	Src    string `json:"src"`
	TTLSec int    `json:"ttl_sec"`
	Secret string `json:"secret"`
}

// fernetReadVectors decodes a vector file into v. A missing file fails the
// test rather than skipping it: the vectors are the compatibility proof.
func fernetReadVectors(tb testing.TB, name string, v any) {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(fernetTestdataDir, filepath.FromSlash(name)))
	if err != nil {
		tb.Fatalf("reading vectors: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("decoding %s: %v", name, err)
	}
}

func fernetVectorTime(tb testing.TB, s string) time.Time {
	tb.Helper()
	now, err := time.Parse(time.RFC3339, s)
	if err != nil {
		tb.Fatalf("parsing time %q: %v", s, err)
	}
	return now
}

func fernetVectorKey(tb testing.TB, secret string) fernetKey {
	tb.Helper()
	k, err := parseFernetKey(secret)
	if err != nil {
		tb.Fatalf("parseFernetKey(%q): %v", secret, err)
	}
	return k
}

// fernetTokenTime returns the instant a token claims to have been sealed.
func fernetTokenTime(tb testing.TB, token string) time.Time {
	tb.Helper()
	raw, err := base64.URLEncoding.DecodeString(token)
	if err != nil || len(raw) < 9 {
		tb.Fatalf("token %q: not decodable", token)
	}
	return time.Unix(int64(binary.BigEndian.Uint64(raw[1:9])), 0)
}

func TestFernetGenerateVectors(t *testing.T) {
	var vectors []fernetVector
	fernetReadVectors(t, "fernet/generate.json", &vectors)
	if len(vectors) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range vectors {
		k := fernetVectorKey(t, v.Secret)
		got, err := k.encrypt([]byte(v.Src), fernetVectorTime(t, v.Now), v.IV)
		if err != nil {
			t.Fatalf("encrypt(%q): %v", v.Src, err)
		}
		if got != v.Token {
			t.Errorf("encrypt(%q) = %q, want %q", v.Src, got, v.Token)
		}
	}
}

func TestFernetVerifyVectors(t *testing.T) {
	var vectors []fernetVector
	fernetReadVectors(t, "fernet/verify.json", &vectors)
	if len(vectors) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range vectors {
		k := fernetVectorKey(t, v.Secret)
		now := fernetVectorTime(t, v.Now)
		ttl := time.Duration(v.TTLSec) * time.Second
		got, err := k.decrypt(v.Token, now, ttl, time.Minute)
		if err != nil || string(got) != v.Src {
			t.Errorf("decrypt = %q, %v; want %q", got, err, v.Src)
		}
		// Without a TTL, as pypeer decrypts, age does not matter.
		later := now.AddDate(100, 0, 0)
		if got, err := k.decrypt(v.Token, later, 0, time.Minute); err != nil || string(got) != v.Src {
			t.Errorf("decrypt without TTL a century later = %q, %v; want %q", got, err, v.Src)
		}
		if _, err := k.decrypt(v.Token, later, ttl, time.Minute); !errors.Is(err, errFernetExpired) {
			t.Errorf("decrypt with TTL a century later: err = %v, want %v", err, errFernetExpired)
		}
	}
}

func TestFernetInvalidVectors(t *testing.T) {
	wantByDesc := map[string]error{
		"incorrect mac":  errFernetBadMAC,
		"too short":      errFernetMalformed,
		"invalid base64": errFernetMalformed,
		"payload size not multiple of block size": errFernetMalformed,
		"payload padding error":                   errFernetPadding,
		"far-future TS (unacceptable clock skew)": errFernetFuture,
		"expired TTL":                         errFernetExpired,
		"incorrect IV (causes padding error)": errFernetPadding,
	}
	var vectors []fernetVector
	fernetReadVectors(t, "fernet/invalid.json", &vectors)
	if len(vectors) != len(wantByDesc) {
		t.Errorf("got %d vectors, want %d", len(vectors), len(wantByDesc))
	}
	for _, v := range vectors {
		t.Run(v.Desc, func(t *testing.T) {
			want, ok := wantByDesc[v.Desc]
			if !ok {
				t.Fatalf("no expected error for vector %q", v.Desc)
			}
			k := fernetVectorKey(t, v.Secret)
			ttl := time.Duration(v.TTLSec) * time.Second
			got, err := k.decrypt(v.Token, fernetVectorTime(t, v.Now), ttl, 60*time.Second)
			if !errors.Is(err, want) {
				t.Errorf("decrypt = %q, %v; want error %v", got, err, want)
			}
		})
	}
}

func TestParseFernetKey(t *testing.T) {
	const secret = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4="
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"padded", secret, true},
		{"unpadded", strings.TrimRight(secret, "="), true},
		{"empty", "", false},
		{"std alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(secret), false},
		{"31 bytes", base64.URLEncoding.EncodeToString(make([]byte, 31)), false},
		{"33 bytes", base64.URLEncoding.EncodeToString(make([]byte, 33)), false},
		{"not base64", "%%%%" + secret[4:], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := parseFernetKey(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("parseFernetKey(%q) error = %v, want ok = %v", tt.in, err, tt.ok)
			}
			if tt.ok && k.String() != secret {
				t.Errorf("String() = %q, want %q", k.String(), secret)
			}
		})
	}
}

func TestFernetEncryptRejectsBadInput(t *testing.T) {
	k := roomKey("ABC123", "")
	tests := []struct {
		name string
		now  time.Time
		iv   []byte
	}{
		{"short iv", time.Unix(1, 0), make([]byte, 15)},
		{"long iv", time.Unix(1, 0), make([]byte, 17)},
		{"before 1970", time.Unix(-1, 0), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tok, err := k.encrypt([]byte("x"), tt.now, tt.iv); err == nil {
				t.Errorf("encrypt = %q, want an error", tok)
			}
		})
	}
}
