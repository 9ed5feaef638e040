// pypeer's dialect: how an offer or an answer is sealed for the board
// (docs/PROTOCOL.md, "Sealing"), with WebCrypto and the browser's own zlib.
//
//   {"sdp": SDP, "type": "offer"|"answer"}  JSON, exactly these two keys
//   -> zlib (CompressionStream "deflate" is RFC 1950)
//   -> Fernet under SHA-256(CODE + PASSWORD): the first half signs
//      (HMAC-SHA256), the second encrypts (AES-128-CBC)
//   -> base64url with "=" padding
//
// Opening applies the limits gopeer applies (signal.go): a token and its
// inflated JSON of at most 256 KiB, sealed at most 10 minutes ago and at
// most 2 minutes in the future.

import { base64url, concat } from "./bytes.js";

export const limits = Object.freeze({ token: 256 << 10, plain: 256 << 10, ttl: 600, skew: 120 });

const encoder = new TextEncoder();

// FernetError says why a token does not open: kind is "malformed", "mac"
// (another key: a wrong password or room), "expired" or "future".
export class FernetError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind;
  }
}

// fernetKey imports a 32-byte Fernet key.
export async function fernetKey(raw) {
  if (raw.length !== 32) throw new FernetError("malformed", "a Fernet key is 32 bytes");
  const subtle = crypto.subtle;
  return {
    sign: await subtle.importKey("raw", raw.slice(0, 16), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]),
    encrypt: await subtle.importKey("raw", raw.slice(16), { name: "AES-CBC" }, false, ["encrypt", "decrypt"]),
  };
}

// roomKey is pypeer's key for a room: SHA-256 of the code and the password.
export async function roomKey(code, password) {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(code + password));
  return fernetKey(new Uint8Array(digest));
}

// fernetEncrypt seals plain at time now (seconds) with iv (16 random bytes
// unless given, for the specification's vectors).
export async function fernetEncrypt(key, plain, now = Date.now() / 1000, iv = crypto.getRandomValues(new Uint8Array(16))) {
  const cipher = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-CBC", iv }, key.encrypt, plain));
  const head = new Uint8Array(25);
  head[0] = 0x80;
  new DataView(head.buffer).setBigUint64(1, BigInt(Math.floor(now)));
  head.set(iv, 9);
  const signed = concat(head, cipher);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key.sign, signed));
  return base64url(concat(signed, mac));
}

// fernetDecrypt opens token at time now (seconds): sealed at most ttl
// seconds before (0: any age) and at most skew seconds after now.
export async function fernetDecrypt(key, token, now, ttl, skew) {
  const raw = base64urlDecode(token);
  if (raw.length < 57 + 16 || (raw.length - 57) % 16 !== 0 || raw[0] !== 0x80) {
    throw new FernetError("malformed", "not a Fernet token");
  }
  const signed = raw.subarray(0, raw.length - 32);
  const ok = await crypto.subtle.verify("HMAC", key.sign, raw.subarray(raw.length - 32), signed);
  if (!ok) throw new FernetError("mac", "the token was sealed with another key");
  const ts = Number(new DataView(raw.buffer, raw.byteOffset).getBigUint64(1));
  if (ts > now + skew) throw new FernetError("future", "the token is dated in the future");
  if (ttl > 0 && ts + ttl < now) throw new FernetError("expired", "the token is too old");
  try {
    const plain = await crypto.subtle.decrypt({ name: "AES-CBC", iv: raw.slice(9, 25) }, key.encrypt, signed.subarray(25));
    return new Uint8Array(plain);
  } catch {
    throw new FernetError("malformed", "bad padding");
  }
}

// seal makes a board payload of a description ({sdp, type}).
export async function seal(key, desc, now = Date.now() / 1000) {
  const json = JSON.stringify({ sdp: desc.sdp, type: desc.type });
  const packed = await pipeThrough(encoder.encode(json), new CompressionStream("deflate"), Infinity);
  return fernetEncrypt(key, packed, now);
}

// open reverses seal for a payload read from the board, which anyone who
// knows the room code can write: every size is bounded before it is spent.
export async function open(key, token, now = Date.now() / 1000) {
  if (typeof token !== "string" || token.length > limits.token) {
    throw new FernetError("malformed", "not a payload of at most 256 KiB");
  }
  const packed = await fernetDecrypt(key, token, now, limits.ttl, limits.skew);
  let text;
  try {
    const plain = await pipeThrough(packed, new DecompressionStream("deflate"), limits.plain);
    text = new TextDecoder("utf-8", { fatal: true }).decode(plain);
  } catch (e) {
    throw new FernetError("malformed", "not zlib-packed UTF-8: " + e.message);
  }
  let desc;
  try {
    desc = JSON.parse(text);
  } catch {
    throw new FernetError("malformed", "not JSON");
  }
  if (desc === null || typeof desc !== "object" || typeof desc.sdp !== "string" || desc.sdp === "" ||
      (desc.type !== "offer" && desc.type !== "answer")) {
    throw new FernetError("malformed", "not a description");
  }
  return { sdp: desc.sdp, type: desc.type };
}

// pipeThrough runs bytes through a transform stream, and gives up past
// max bytes of output (a zlib bomb stops there).
async function pipeThrough(bytes, transform, max) {
  const reader = new Blob([bytes]).stream().pipeThrough(transform).getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel();
      throw new Error("inflates past " + max + " bytes");
    }
    chunks.push(value);
  }
  return concat(...chunks);
}

// base64urlDecode reads base64url, padded or not; anything else is
// malformed.
export function base64urlDecode(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*={0,2}$/.test(text)) {
    throw new FernetError("malformed", "not base64url");
  }
  let s;
  try {
    s = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    throw new FernetError("malformed", "not base64url");
  }
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}
