package main

// This file is Fernet (github.com/fernet/spec), byte for byte as Python's
// cryptography package makes and checks tokens, and pypeer's room key: the
// primitives under pypeer's sealing (signal.go; docs/PROTOCOL.md, "Sealing").

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Fernet token layout: version | timestamp | IV | ciphertext | HMAC.
const (
	fernetVersion   = 0x80
	fernetTSLen     = 8
	fernetIVLen     = aes.BlockSize
	fernetHeaderLen = 1 + fernetTSLen + fernetIVLen
	fernetMACLen    = sha256.Size
	// fernetMinLen holds one ciphertext block: PKCS#7 always adds at least one
	// byte, so even an empty message encrypts to a full block.
	fernetMinLen = fernetHeaderLen + aes.BlockSize + fernetMACLen
	// fernetMaxTimestamp is far beyond any real clock. Refusing larger values as
	// "future" keeps time.Unix inside its range, where it cannot wrap around.
	fernetMaxTimestamp = 1 << 62
)

// Errors from decrypting a Fernet token, in the order they are checked.
var (
	// errFernetMalformed means the text is not a Fernet token at all.
	errFernetMalformed = errors.New("fernet: malformed token")
	// errFernetBadMAC means the token is well formed but was sealed under
	// another key (wrong room or password) or altered on the way.
	errFernetBadMAC = errors.New("fernet: signature mismatch (wrong room or password, or tampered)")
	// errFernetPadding means the signature holds but the padding does not,
	// which only a broken sender produces; treat it like errFernetMalformed.
	errFernetPadding = errors.New("fernet: bad padding")
	// errFernetExpired means the token is older than the caller's TTL.
	errFernetExpired = errors.New("fernet: token expired")
	// errFernetFuture means the token's timestamp is beyond the tolerated skew.
	errFernetFuture = errors.New("fernet: token timestamp is in the future")
)

// fernetKey is a Fernet key split into its two halves.
type fernetKey struct{ signing, encryption [16]byte }

// parseFernetKey reads the base64url form of a 32-byte Fernet key. Padding is
// optional so that keys copied without their trailing '=' still work.
func parseFernetKey(b64 string) (fernetKey, error) {
	raw, err := fernetDecodeBase64(b64)
	if err != nil {
		return fernetKey{}, errors.New("fernet: key is not base64url")
	}
	if len(raw) != 32 {
		return fernetKey{}, fmt.Errorf("fernet: key is %d bytes, want 32", len(raw))
	}
	return fernetKeyFrom(raw), nil
}

// roomKey derives the key pypeer uses for a room: SHA-256 of the UTF-8 bytes
// of room followed by password, used directly as a Fernet key.
func roomKey(room, password string) fernetKey {
	sum := sha256.Sum256([]byte(room + password))
	return fernetKeyFrom(sum[:])
}

// fernetKeyFrom splits 32 bytes into the signing and encryption halves, in
// the order the Fernet spec lays them out.
func fernetKeyFrom(raw []byte) fernetKey {
	var k fernetKey
	copy(k.signing[:], raw[:16])
	copy(k.encryption[:], raw[16:32])
	return k
}

// String returns the padded base64url form of the key, as Python's Fernet
// prints it. It is the secret itself: never pass it to a log.
func (k fernetKey) String() string {
	raw := make([]byte, 0, 32)
	raw = append(raw, k.signing[:]...)
	raw = append(raw, k.encryption[:]...)
	return base64.URLEncoding.EncodeToString(raw)
}

// encrypt seals plain into a Fernet token stamped with now. A nil iv draws a
// fresh one from crypto/rand; a fixed iv exists only for the spec's vectors.
// The token is padded base64url because Python's decoder insists on padding.
func (k fernetKey) encrypt(plain []byte, now time.Time, iv []byte) (string, error) {
	if iv == nil {
		iv = make([]byte, fernetIVLen)
		if _, err := rand.Read(iv); err != nil {
			return "", fmt.Errorf("fernet: reading IV: %w", err)
		}
	} else if len(iv) != fernetIVLen {
		return "", fmt.Errorf("fernet: IV is %d bytes, want %d", len(iv), fernetIVLen)
	}
	ts := now.Unix()
	if ts < 0 {
		return "", errors.New("fernet: timestamp before 1970")
	}
	block, err := aes.NewCipher(k.encryption[:])
	if err != nil {
		return "", err
	}
	padded := fernetPad(plain)
	token := make([]byte, fernetHeaderLen, fernetHeaderLen+len(padded)+fernetMACLen)
	token[0] = fernetVersion
	binary.BigEndian.PutUint64(token[1:], uint64(ts))
	copy(token[1+fernetTSLen:], iv)
	token = append(token, padded...)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(token[fernetHeaderLen:], token[fernetHeaderLen:])
	token = append(token, k.fernetMAC(token)...)
	return base64.URLEncoding.EncodeToString(token), nil
}

// decrypt opens a Fernet token. A ttl of 0 skips the age check, as pypeer
// does; maxSkew bounds how far in the future the token's timestamp may be.
//
// The MAC is verified before the timestamp is looked at, so that a wrong key
// always reports errFernetBadMAC and the clock checks only ever judge a
// timestamp the sender really wrote.
func (k fernetKey) decrypt(token string, now time.Time, ttl, maxSkew time.Duration) ([]byte, error) {
	plain, _, err := k.decryptAt(token, now, ttl, maxSkew)
	return plain, err
}

// decryptAt is decrypt that also returns the token's timestamp, which the
// MAC authenticates: when the sealer says it sealed it.
func (k fernetKey) decryptAt(token string, now time.Time, ttl, maxSkew time.Duration) ([]byte, time.Time, error) {
	raw, err := fernetDecodeBase64(token)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: invalid base64", errFernetMalformed)
	}
	if err := fernetCheckLayout(raw); err != nil {
		return nil, time.Time{}, err
	}
	body, sum := raw[:len(raw)-fernetMACLen], raw[len(raw)-fernetMACLen:]
	if !hmac.Equal(sum, k.fernetMAC(body)) {
		return nil, time.Time{}, errFernetBadMAC
	}
	ts := binary.BigEndian.Uint64(body[1:])
	if err := fernetCheckTime(ts, now, ttl, maxSkew); err != nil {
		return nil, time.Time{}, err
	}
	block, err := aes.NewCipher(k.encryption[:])
	if err != nil {
		return nil, time.Time{}, err
	}
	iv, ciphertext := body[1+fernetTSLen:fernetHeaderLen], body[fernetHeaderLen:]
	plain := make([]byte, len(ciphertext))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, ciphertext)
	plain, err = fernetUnpad(plain)
	return plain, time.Unix(int64(ts), 0), err
}

// fernetMAC is HMAC-SHA256 under the signing half over everything before the
// MAC in a token.
func (k fernetKey) fernetMAC(body []byte) []byte {
	m := hmac.New(sha256.New, k.signing[:])
	m.Write(body)
	return m.Sum(nil)
}

// fernetDecodeBase64 decodes base64url with or without '=' padding. Being
// lenient costs nothing: the MAC, not the encoding, authenticates a token.
func fernetDecodeBase64(s string) ([]byte, error) {
	if strings.HasSuffix(s, "=") {
		return base64.URLEncoding.DecodeString(s)
	}
	return base64.RawURLEncoding.DecodeString(s)
}

// fernetCheckLayout rejects decoded bytes that cannot be a Fernet token, so
// the MAC is only computed over something of the right shape.
func fernetCheckLayout(raw []byte) error {
	switch {
	case len(raw) < fernetMinLen:
		return fmt.Errorf("%w: too short", errFernetMalformed)
	case raw[0] != fernetVersion:
		return fmt.Errorf("%w: unknown version 0x%02x", errFernetMalformed, raw[0])
	case (len(raw)-fernetHeaderLen-fernetMACLen)%aes.BlockSize != 0:
		return fmt.Errorf("%w: ciphertext is not a whole number of blocks", errFernetMalformed)
	}
	return nil
}

// fernetCheckTime applies the TTL and clock-skew rules in whole seconds, as
// the reference implementations do, so gopeer and pypeer agree at the edges.
func fernetCheckTime(ts uint64, now time.Time, ttl, maxSkew time.Duration) error {
	if ts > fernetMaxTimestamp {
		return errFernetFuture
	}
	issued := time.Unix(int64(ts), 0)
	current := time.Unix(now.Unix(), 0)
	if issued.Sub(current) > maxSkew {
		return errFernetFuture
	}
	if ttl > 0 && current.Sub(issued) > ttl {
		return errFernetExpired
	}
	return nil
}

// fernetPad applies PKCS#7 padding to a whole number of AES blocks.
func fernetPad(plain []byte) []byte {
	n := aes.BlockSize - len(plain)%aes.BlockSize
	padded := make([]byte, len(plain), len(plain)+n)
	copy(padded, plain)
	return append(padded, bytes.Repeat([]byte{byte(n)}, n)...)
}

// fernetUnpad strips PKCS#7 padding. It runs only after the MAC verified, so
// its timing reveals nothing an attacker could not already compute.
func fernetUnpad(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, errFernetPadding
	}
	n := int(b[len(b)-1])
	if n == 0 || n > aes.BlockSize || n > len(b) {
		return nil, errFernetPadding
	}
	for _, c := range b[len(b)-n:] {
		if int(c) != n {
			return nil, errFernetPadding
		}
	}
	return b[:len(b)-n], nil
}
