// gopeer's native dialect, version 1, inside pypeer's rooms: the same
// protocol as native.go, joincode.go, cpace.go and control.go, drawn in
// docs/PROTOCOL.md ("The native dialect"). Two gopeers (a terminal or this
// page) run CPace over the offer and answer, each adding one SDP line
//
//   a=x-gopeer:1 <base64url of this side's CPace message>
//
// then prove over a second, negotiated data channel that both hold the
// same key and saw the same DTLS fingerprints:
//
//   PRS        = lv_cat(SECRET, PASSWORD)
//   CI         = lv_cat("gopeer/1", "host", "joiner", ROOM)
//   mac_key    = SHA-512("CPaceMac" || ISK)
//   tag(role)  = HMAC-SHA-512(mac_key, lv_cat("gopeer/1 confirm", role,
//                Ya, Yb, host fingerprint, joiner fingerprint))

import { base64url, concat } from "./bytes.js";
import { ristretto255, ristretto255_hasher, sha512 } from "./vendor/noble.js";

export const nativeVersion = 1;
export const nativeProtocol = "gopeer/1";
const attribute = "x-gopeer";
const maxLine = 512;
const maxFingerprints = 8;
const dsi = "CPaceRistretto255";
const hashBlock = 128;
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const checkDigits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const checkMod = 1021;
const encoder = new TextEncoder();

// Control channel: a negotiated data channel on SCTP stream 1023, binary
// messages of one type byte and a body.
export const control = Object.freeze({
  label: "gopeer-control", id: 1023, maxMessage: 1024,
  confirm: 1, ping: 2, receipt: 3, wishes: 4, verdict: 5,
  wishCompare: 1, wishRestart: 2,
});

export class NativeError extends Error {}

// parseCode reads a room code (pypeer's) or a gopeer code: {room, secret},
// secret "" for a room code. Case, spaces and dashes do not matter; O, I
// and L in the secret read as 0, 1 and 1. A check that does not match is a
// typo.
export function parseCode(typed) {
  const fields = typed.toUpperCase().split(/[-\s]+/).filter((f) => f !== "");
  if (fields.length === 0 || !/^[A-Z0-9]{6}$/.test(fields[0])) {
    throw new NativeError("a code starts with 6 letters and digits, like K7P2M0");
  }
  const room = fields[0];
  let rest = fields.slice(1).join("");
  if (rest === "") return { room, secret: "" };
  rest = rest.replaceAll("O", "0").replaceAll("I", "1").replaceAll("L", "1");
  if (rest.length !== 6 || [...rest].some((c) => !crockford.includes(c))) {
    throw new NativeError("after the room code come 6 letters and digits, like K7P2M0-4F9Q-XW");
  }
  const secret = rest.slice(0, 4);
  if (joinCheck(room, secret) !== rest.slice(4)) {
    throw new NativeError("the code has a typo: compare it with the host's, character by character");
  }
  return { room, secret };
}

// newSecret draws a code's secret part: 4 symbols, 20 bits.
export function newSecret() {
  return [...crypto.getRandomValues(new Uint8Array(4))].map((b) => crockford[b % 32]).join("");
}

// codeString is the code as the host shows it.
export function codeString({ room, secret }) {
  return secret === "" ? room : `${room}-${secret}-${joinCheck(room, secret)}`;
}

function joinCheck(room, secret) {
  let sum = 0;
  [...(room + secret)].forEach((c, i) => { sum += checkDigits.indexOf(c) * (i + 1); });
  sum %= checkMod;
  return crockford[sum >> 5] + crockford[sum & 31];
}

// prependLen prefixes data with its length in LEB128.
export function prependLen(data) {
  const out = [];
  let n = data.length;
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return concat(Uint8Array.from(out), data);
}

// lvCat concatenates its arguments (bytes or strings), each prefixed by
// its length.
export function lvCat(...parts) {
  return concat(...parts.map((p) => prependLen(typeof p === "string" ? encoder.encode(p) : p)));
}

// generatorString is the draft's: DSI and PRS, zero padding to the end of
// SHA-512's first block, then CI and sid.
export function generatorString(prs, ci, sid) {
  const d = encoder.encode(dsi);
  const zpad = Math.max(0, hashBlock - 1 - prependLen(prs).length - prependLen(d).length);
  return lvCat(d, prs, new Uint8Array(zpad), ci, sid);
}

function generator(prs, ci, sid) {
  return ristretto255_hasher.deriveToCurve(sha512(generatorString(prs, ci, sid)));
}

// cpaceStart begins a run: a secret scalar y (drawn unless given, for the
// vectors) and this side's message Y = y·g.
export function cpaceStart(prs, ci, sid, ad, y = sampleScalar()) {
  const msg = generator(prs, ci, sid).multiply(y).toBytes();
  return { y, msg, ad, sid };
}

// cpaceFinish takes the peer's message and returns ISK (64 bytes).
export function cpaceFinish(party, peerMsg, peerAD, initiator) {
  const k = scalarMultVerify(party.y, peerMsg);
  const transcript = initiator
    ? concat(lvCat(party.msg, party.ad), lvCat(peerMsg, peerAD))
    : concat(lvCat(peerMsg, peerAD), lvCat(party.msg, party.ad));
  return sha512(concat(lvCat(dsi + "_ISK", party.sid, k), transcript));
}

// scalarMultVerify is the draft's scalar_mult_vfy: y times the decoded
// element, refusing what does not decode and the identity.
export function scalarMultVerify(y, encoded) {
  let point;
  try {
    if (encoded.length !== 32) throw new Error("length");
    point = ristretto255.Point.fromBytes(encoded);
  } catch {
    throw new NativeError("the peer's CPace message is not a valid group element");
  }
  if (point.is0()) throw new NativeError("the peer's CPace message is the identity");
  const k = point.multiply(y);
  if (k.is0()) throw new NativeError("the shared point is the identity");
  return k.toBytes();
}

// sampleScalar: 32 random bytes, the bits above 252 cleared, read
// little-endian: always below the group order. Zero is drawn again.
function sampleScalar() {
  for (;;) {
    const b = crypto.getRandomValues(new Uint8Array(32));
    b[31] &= 0x0f;
    const y = bytesToNumberLE(b);
    if (y !== 0n) return y;
  }
}

export function bytesToNumberLE(b) {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]);
  return n;
}

// inputs are the CPace password and channel identifier of a room.
export function inputs(code, password) {
  return {
    prs: lvCat(code.secret, password),
    ci: lvCat(nativeProtocol, "host", "joiner", code.room),
  };
}

// withAnnouncement adds this side's line at the end of the description's
// session-level section.
export function withAnnouncement(sdp, msg) {
  const line = `a=${attribute}:${nativeVersion} ${unpadded(msg)}\r\n`;
  if (sdp.startsWith("m=")) return line + sdp;
  const i = sdp.indexOf("\nm=");
  if (i >= 0) return sdp.slice(0, i + 1) + line + sdp.slice(i + 1);
  return (sdp === "" || sdp.endsWith("\n") ? sdp : sdp + "\r\n") + line;
}

// readAnnouncement finds the line in the session-level section: null for
// a pypeer peer's description, {version, msg} otherwise (msg only for
// version 1). A malformed line is refused, never taken for a pypeer's.
export function readAnnouncement(sdp) {
  const prefix = `a=${attribute}:`;
  let found = null;
  for (const line of sdp.split("\n")) {
    if (line.startsWith("m=")) break;
    if (!line.startsWith(prefix)) continue;
    if (found) throw new NativeError("the description's gopeer attribute appears twice");
    const value = line.slice(prefix.length).replace(/\r$/, "");
    if (value.length > maxLine) throw new NativeError("the description's gopeer attribute is too long");
    const [vers, rest = ""] = value.split(/ (.*)/s);
    if (!/^[1-9][0-9]{0,8}$/.test(vers)) throw new NativeError("the description's gopeer attribute has a bad version");
    const version = Number(vers);
    if (version !== nativeVersion) {
      found = { version };
      continue;
    }
    let msg;
    try {
      msg = unbase64url(rest);
    } catch {
      msg = null;
    }
    if (msg === null || msg.length !== 32) throw new NativeError("the description's gopeer attribute holds no 32-byte message");
    found = { version, msg };
  }
  return found;
}

// sdpFingerprint returns the description's DTLS fingerprint, "sha-256
// AB:CD:…"; every copy must agree.
export function sdpFingerprint(sdp) {
  let fp = "";
  let seen = 0;
  for (const raw of sdp.split("\n")) {
    const line = raw.replace(/\r$/, "");
    if (!line.startsWith("a=fingerprint:")) continue;
    if (++seen > maxFingerprints) throw new NativeError("the description names too many fingerprints");
    const value = line.slice("a=fingerprint:".length).trim();
    const sp = value.indexOf(" ");
    const norm = sp < 0 ? value.toLowerCase() + " " : value.slice(0, sp).toLowerCase() + " " + value.slice(sp + 1).trim().toUpperCase();
    if (fp !== "" && norm !== fp) throw new NativeError("the description names two different fingerprints");
    fp = norm;
  }
  if (fp === "") throw new NativeError("the description names no DTLS fingerprint");
  return fp;
}

// tag is the confirmation role sends.
export async function tag(sess, role) {
  return new Uint8Array(await crypto.subtle.sign("HMAC", await macKey(sess, "sign"), confirmed(sess, role)));
}

// checkTag compares the peer's tag in constant time (HMAC verify).
export async function checkTag(sess, peerRole, got) {
  return crypto.subtle.verify("HMAC", await macKey(sess, "verify"), got, confirmed(sess, peerRole));
}

// macKey is the confirmation's key, SHA-512("CPaceMac" || ISK).
function macKey(sess, usage) {
  return crypto.subtle.importKey("raw", sha512(concat(encoder.encode("CPaceMac"), sess.isk)),
    { name: "HMAC", hash: "SHA-512" }, false, [usage]);
}

// confirmed is what a tag covers: the role and the whole transcript.
function confirmed(sess, role) {
  return lvCat(nativeProtocol + " confirm", role, sess.hostMsg, sess.joinerMsg, sess.hostPrint, sess.joinerPrint);
}

// verifyString is the 8 digits both people may compare aloud.
export function verifyString(isk) {
  const h = sha512(concat(encoder.encode(nativeProtocol + " verify"), isk));
  const n = Number(((BigInt(h[0]) << 32n) | (BigInt(h[1]) << 24n) | (BigInt(h[2]) << 16n) | (BigInt(h[3]) << 8n) | BigInt(h[4])) % 100000000n);
  return String(Math.floor(n / 10000)).padStart(4, "0") + " " + String(n % 10000).padStart(4, "0");
}

// uvarint encodes n as Go's binary.PutUvarint does; readUvarint decodes
// all of b, or returns -1.
export function uvarint(n) {
  const out = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Uint8Array.from(out);
}

export function readUvarint(b) {
  let n = 0;
  let scale = 1;
  for (let i = 0; i < b.length && i < 8; i++) {
    n += (b[i] & 0x7f) * scale;
    if (b[i] < 0x80) return i === b.length - 1 ? n : -1;
    scale *= 0x80;
  }
  return -1;
}

// unpadded is base64url without padding, as Go's RawURLEncoding.
function unpadded(bytes) {
  return base64url(bytes).replace(/=+$/, "");
}

function unbase64url(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) throw new Error("not base64url");
  const s = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  const bytes = Uint8Array.from(s, (c) => c.charCodeAt(0));
  if (unpadded(bytes) !== text) throw new Error("not canonical base64url"); // Go decodes strictly
  return bytes;
}
