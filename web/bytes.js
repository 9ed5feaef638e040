// Bytes: what both dialects and the file protocol share.

// concat joins byte arrays into one.
export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// base64url encodes bytes in base64url with "=" padding (pypeer's Fernet
// tokens keep it; native.js drops it).
export function base64url(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_");
}
