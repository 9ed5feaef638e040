// Files between two confirmed gopeers, version 1 of transfer.go's protocol
// (docs/PROTOCOL.md, "Files"): one negotiated channel each way (the host's
// files on stream 1022, the joiner's on 1021), binary messages of a type
// byte and a body.
//
//   sender                                               receiver
//    |-- offer part: JSON [{path, size, sha256, mode}] ---->|
//    |-- offer end: JSON {version, files, dirs, bytes} ---->|  the user says yes
//    |<--------- accept: {whole, parts} or refuse: why -----|
//    |-- file begin (index, offset), data..., file end ---->|  hashed as it comes
//    |-- done ------------------------------------------->|
//    |<-------------------- received: every SHA-256 matched |
//
// The page keeps received files in memory and offers each for saving once
// its SHA-256 matched; it holds no parts, so it resumes nothing it
// receives, but it resumes what it sends when a terminal holds a part.

import { sha256 } from "./vendor/noble.js";
import { concat } from "./bytes.js";
import { uvarint } from "./native.js";

const T = Object.freeze({ offerPart: 1, offerEnd: 2, accept: 3, refuse: 4, begin: 5, data: 6, end: 7, done: 8, received: 9, failed: 10, cancel: 11 });
const version = 1;
const chunkSize = 65535; // the channel's 64 KiB less the type byte
const maxEntries = 100000;
const maxControl = 4 << 20;
const maxPart = 60000; // bytes of JSON in one offer part
const highWater = 1 << 20;
const lowWater = 256 << 10;
const replyTimeout = 10 * 60 * 1000; // ms the receiver's user may take to answer
const decoder = new TextDecoder();
const encoder = new TextEncoder();

const channels = Object.freeze({
  host: { label: "gopeer-files-host", id: 1022 },
  joiner: { label: "gopeer-files-joiner", id: 1021 },
});

// Files runs both directions of one session. ui receives
// offer(summary, answer), progress(way, name, done, total),
// saved(name, blob), finished(way, text, failed).
export class Files {
  #out;
  #in;
  #replies = new Inbox();
  #incoming = null; // the transfer being received
  #offer = [];
  #sending = false;
  #early = []; // what came before the confirmation, handled after it
  #started = false;

  // The channels exist before any description, as the terminal's and the
  // control channel do, so that nothing the peer sends finds no channel;
  // nothing on them counts before start, once the session is confirmed.
  constructor(pc, host, ui) {
    this.ui = ui;
    this.#out = open(pc, host ? channels.host : channels.joiner);
    this.#in = open(pc, host ? channels.joiner : channels.host);
    this.#out.onmessage = (ev) => this.#replies.push(ev.data);
    this.#in.onmessage = (ev) => {
      if (this.#started) this.#handle(ev.data);
      else if (this.#early.length < 16) this.#early.push(ev.data);
    };
    this.#out.bufferedAmountLowThreshold = lowWater;
  }

  // start takes the files the confirmed peer sends.
  start() {
    this.#started = true;
    for (const data of this.#early.splice(0)) this.#handle(data);
  }

  #handle(data) {
    try {
      this.#receive(bytes(data));
    } catch (e) {
      this.#failIncoming(e.message);
    }
  }

  close() {
    this.#out.close();
    this.#in.close();
    this.#replies.push(null);
  }

  // send offers files (File objects) and sends them once accepted.
  async send(files) {
    if (this.#sending) throw new Error("a transfer is already on its way; wait for it to end");
    this.#sending = true;
    try {
      const entries = await describe(files, (name, done, total) => this.ui.progress("hashing", name, done, total));
      this.#replies.clear(); // what a transfer that ended here first left behind
      this.#offerEntries(entries);
      const summary = summarize(entries);
      this.ui.progress("out", "waiting for the other person to accept " + summary, 0, 1);
      let reply = await this.#reply();
      while (reply && [T.failed, T.cancel, T.received].includes(reply[0])) reply = await this.#reply();
      if (!reply) throw new Error("the session ended");
      if (reply[0] === T.refuse) throw new Error("refused: " + text(reply.subarray(1)));
      if (reply[0] !== T.accept || reply.length > maxControl) throw new Error("the peer broke the file protocol");
      const offsets = await resumeOffsets(files, entries, JSON.parse(decoder.decode(reply.subarray(1))));
      const total = entries.reduce((n, e) => n + e.size, 0);
      let done = offsets.reduce((n, o) => n + o, 0);
      for (const [i, file] of files.entries()) {
        if (offsets.whole.has(i)) continue;
        this.#put(T.begin, concat(uvarint(i), uvarint(offsets[i])));
        const reader = file.slice(offsets[i]).stream().getReader();
        for (;;) {
          const { done: end, value } = await reader.read();
          if (end) break;
          for (let at = 0; at < value.length; at += chunkSize) {
            await this.#drained();
            const part = value.subarray(at, at + chunkSize);
            this.#put(T.data, part);
            done += part.length;
            this.ui.progress("out", entries[i].path, done, total);
          }
        }
        this.#put(T.end);
      }
      this.#put(T.done);
      reply = await this.#reply();
      if (!reply) throw new Error("the session ended");
      if (reply[0] !== T.received) throw new Error(ended(reply));
      this.ui.finished("out", `sent ${summary}, and the other side checked every file`, false);
    } catch (e) {
      if (this.#out.readyState === "open") this.#put(T.failed, encoder.encode(e.message.slice(0, 300)));
      this.ui.finished("out", "not sent: " + e.message, true);
    } finally {
      this.#sending = false;
    }
  }

  // reply is the receiver's next answer; null when the session ended.
  async #reply() {
    const data = await this.#replies.next(replyTimeout);
    return data === null ? null : bytes(data);
  }

  #offerEntries(entries) {
    let part = [];
    let size = 2;
    for (const e of entries) {
      const json = JSON.stringify(e);
      if (part.length > 0 && size + json.length + 1 > maxPart) {
        this.#put(T.offerPart, encoder.encode(JSON.stringify(part)));
        part = [];
        size = 2;
      }
      part.push(e);
      size += json.length + 1;
    }
    if (part.length > 0) this.#put(T.offerPart, encoder.encode(JSON.stringify(part)));
    const header = { version, files: entries.length, dirs: 0, bytes: entries.reduce((n, e) => n + e.size, 0) };
    this.#put(T.offerEnd, encoder.encode(JSON.stringify(header)));
  }

  #put(type, body = new Uint8Array(0)) {
    this.#out.send(concat(Uint8Array.of(type), body));
  }

  // drained waits until little enough waits in the send buffer.
  #drained() {
    if (this.#out.bufferedAmount <= highWater) return Promise.resolve();
    // Whichever comes first removes both listeners: one wait per chunk
    // of a large file must not pile up listeners on the channel.
    return new Promise((resolve, reject) => {
      const low = () => { this.#out.removeEventListener("close", closed); resolve(); };
      const closed = () => { this.#out.removeEventListener("bufferedamountlow", low); reject(new Error("the channel closed")); };
      this.#out.addEventListener("bufferedamountlow", low, { once: true });
      this.#out.addEventListener("close", closed, { once: true });
    });
  }

  // receive handles one message from the peer's sending side.
  #receive(m) {
    if (m.length === 0) throw new Error("an empty message");
    const type = m[0];
    const body = m.subarray(1);
    const r = this.#incoming;
    if (r === null) return this.#receiveOffer(type, body);
    if (r.asking) throw new Error("the sender went on before the answer");
    switch (type) {
      case T.begin: return r.begin(body);
      case T.data: return r.data(body, this.ui);
      case T.end: return r.end(this.ui);
      case T.done: {
        r.done();
        this.#incoming = null;
        this.#in.send(Uint8Array.of(T.received));
        this.ui.finished("in", "received " + r.summary + ", every file checked", false);
        return;
      }
      case T.failed:
      case T.cancel:
        this.#incoming = null;
        this.ui.finished("in", ended(m), true);
        return;
      default:
        throw new Error("the peer broke the file protocol");
    }
  }

  #receiveOffer(type, body) {
    if (this.#offer.length === 0 && [T.begin, T.data, T.end, T.done, T.failed, T.cancel].includes(type)) return; // a transfer that ended here first
    if (type === T.offerPart) {
      if (body.length > maxControl) throw new Error("an offer part is too large");
      const part = JSON.parse(decoder.decode(body));
      if (!Array.isArray(part) || this.#offer.length + part.length > maxEntries) {
        throw new Error(`the offer holds more than ${maxEntries} files and folders`);
      }
      this.#offer.push(...part);
      return;
    }
    if (type !== T.offerEnd) throw new Error("the peer broke the file protocol");
    const entries = this.#offer;
    this.#offer = [];
    const header = JSON.parse(decoder.decode(body));
    const r = new Incoming(entries, header); // checks every name and total
    this.#incoming = r;
    r.asking = true;
    this.ui.offer(r.summary, (yes) => {
      r.asking = false;
      if (this.#incoming !== r) return;
      if (!yes) {
        this.#incoming = null;
        this.#in.send(concat(Uint8Array.of(T.refuse), encoder.encode("the receiver said no")));
        this.ui.finished("in", "refused " + r.summary, false);
        return;
      }
      this.#in.send(concat(Uint8Array.of(T.accept), encoder.encode("{}")));
    });
  }

  #failIncoming(why) {
    this.#incoming = null;
    this.#offer = [];
    if (this.#in.readyState === "open") this.#in.send(concat(Uint8Array.of(T.failed), encoder.encode(why.slice(0, 300))));
    this.ui.finished("in", "not received: " + why, true);
  }
}

// Incoming is one transfer being received: the offer, checked, and the
// file on its way.
export class Incoming {
  constructor(entries, header) {
    let files = 0;
    let dirs = 0;
    let total = 0;
    const seen = new Set();
    for (const e of entries) {
      checkName(e?.path);
      if (seen.has(e.path)) throw new Error("the offer names " + e.path + " twice");
      seen.add(e.path);
      if (e.dir === true) {
        dirs++;
      } else {
        if (!Number.isSafeInteger(e.size) || e.size < 0 || typeof e.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(e.sha256)) {
          throw new Error("the offer's entry for " + e.path + " is malformed");
        }
        files++;
        total += e.size;
      }
    }
    if (header?.version !== version || header.files !== files || header.dirs !== dirs || header.bytes !== total) {
      throw new Error("the offer's totals do not add up");
    }
    this.entries = entries;
    this.total = total;
    this.next = 0;
    this.got = 0;
    this.current = null;
    this.summary = summarize(entries);
  }

  begin(body) {
    const [i, n] = readUvarint(body, 0);
    const [offset, m] = readUvarint(body, n);
    if (n <= 0 || m <= n || m !== body.length || this.current) throw new Error("a bad file begin");
    if (i < this.next || i >= this.entries.length || this.entries[i].dir) throw new Error(`file ${i} out of order`);
    for (let j = this.next; j < i; j++) if (!this.entries[j].dir) throw new Error(`file ${j} skipped`);
    if (offset !== 0) throw new Error("an offset into a file this side holds no part of");
    this.current = { entry: this.entries[i], chunks: [], hash: sha256.create(), got: 0 };
    this.next = i + 1;
  }

  data(body, ui) {
    const c = this.current;
    if (!c) throw new Error("data outside a file");
    c.got += body.length;
    if (c.got > c.entry.size) throw new Error(c.entry.path + " is longer than announced");
    c.hash.update(body);
    c.chunks.push(body.slice());
    this.got += body.length;
    ui.progress("in", c.entry.path, this.got, this.total);
  }

  end(ui) {
    const c = this.current;
    if (!c) throw new Error("a file end outside a file");
    this.current = null;
    if (c.got !== c.entry.size) throw new Error(c.entry.path + " is shorter than announced");
    const sum = [...c.hash.digest()].map((b) => b.toString(16).padStart(2, "0")).join("");
    if (sum !== c.entry.sha256) throw new Error(c.entry.path + " arrived damaged: its SHA-256 does not match");
    const blob = new Blob(c.chunks, { type: "application/octet-stream" });
    ui.saved(c.entry.path, blob);
  }

  done() {
    if (this.current) throw new Error("done in the middle of a file");
    for (let j = this.next; j < this.entries.length; j++) {
      if (!this.entries[j].dir) throw new Error("the sender finished without sending " + this.entries[j].path);
    }
  }
}

// checkName refuses what transfer_disk.go refuses: a name must be
// relative, "/"-separated, with no empty, "." or ".." part, no backslash,
// NUL or drive letter, no ".gopeer-part" ending, at most 4096 bytes and
// 255 a part.
export function checkName(name) {
  const bad = typeof name !== "string" || name === "" || encoder.encode(name).length > 4096 ||
    name.startsWith("/") || /[\\\0]/.test(name) || /^[A-Za-z]:/.test(name) || name.endsWith(".gopeer-part") ||
    name.split("/").some((p) => p === "" || p === "." || p === ".." || encoder.encode(p).length > 255);
  if (bad) throw new Error("the offer names a file this side will not take: " + JSON.stringify(String(name).slice(0, 100)));
}

// describe hashes each file for the offer.
async function describe(files, progress) {
  const names = new Set();
  const entries = [];
  for (const f of files) {
    checkName(f.name);
    if (names.has(f.name)) throw new Error("two files are named " + f.name + ": send them apart");
    names.add(f.name);
    entries.push({ path: f.name, size: f.size, sha256: await hashOf(f, f.size, (done) => progress(f.name, done, f.size)), mode: 0o644 });
  }
  return entries;
}

async function hashOf(file, n, progress = () => {}) {
  const h = sha256.create();
  const reader = file.slice(0, n).stream().getReader();
  let done = 0;
  for (;;) {
    const { done: end, value } = await reader.read();
    if (end) break;
    h.update(value);
    done += value.length;
    progress(done);
  }
  return [...h.digest()].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// resumeOffsets is where each file starts given the acceptance: after a
// part the receiver holds, when it is this file's own start.
async function resumeOffsets(files, entries, a) {
  const offsets = files.map(() => 0);
  offsets.whole = new Set();
  const valid = (i) => Number.isInteger(i) && i >= 0 && i < files.length;
  for (const i of a.whole ?? []) {
    if (!valid(i)) throw new Error("the peer broke the file protocol: a bad index");
    offsets[i] = files[i].size;
    offsets.whole.add(i);
  }
  for (const p of a.parts ?? []) {
    if (!valid(p.i) || !Number.isSafeInteger(p.have) || p.have < 0 || p.have > files[p.i].size) {
      throw new Error("the peer broke the file protocol: a bad part");
    }
    if (await hashOf(files[p.i], p.have) === p.sha256) offsets[p.i] = p.have;
  }
  return offsets;
}

// summarize names an offer for the user: the file, or how many files and
// folders, and the total size.
function summarize(entries) {
  const dirs = entries.filter((e) => e.dir === true).length;
  const total = entries.reduce((n, e) => n + (e.dir === true ? 0 : e.size), 0);
  if (entries.length === 1) return `${entries[0].path} (${size(total)})`;
  return `${entries.length - dirs} files${dirs ? ", " + dirs + " folders" : ""}, ${size(total)}`;
}

export function size(n) {
  if (n < 1024) return n + " B";
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return v.toFixed(1) + " " + units[u];
}

function open(pc, { label, id }) {
  const c = pc.createDataChannel(label, { negotiated: true, id });
  c.binaryType = "arraybuffer";
  return c;
}

function bytes(data) {
  if (!(data instanceof ArrayBuffer)) throw new Error("a text message on a file channel");
  return new Uint8Array(data);
}

function text(b) {
  return decoder.decode(b.subarray(0, 300));
}

function ended(m) {
  if (m[0] === T.failed) return "the other side says: " + text(m.subarray(1));
  if (m[0] === T.cancel) return "the other side cancelled";
  return "the peer broke the file protocol";
}

// readUvarint decodes a uvarint at b[at:], returning [value, end]; end
// is -1 when it does not decode.
function readUvarint(b, at) {
  let n = 0;
  let scale = 1;
  for (let i = at; i < b.length && i < at + 8; i++) {
    n += (b[i] & 0x7f) * scale;
    if (b[i] < 0x80) return [n, i + 1];
    scale *= 0x80;
  }
  return [0, -1];
}

// Inbox hands messages to one waiter at a time, in order.
class Inbox {
  #queue = [];
  #waiter = null;

  push(m) {
    if (this.#waiter) this.#waiter(m);
    else if (this.#queue.length < 64) this.#queue.push(m);
  }

  clear() {
    this.#queue = [];
  }

  next(within) {
    if (this.#queue.length > 0) return Promise.resolve(this.#queue.shift());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = null;
        reject(new Error("no answer in time"));
      }, within);
      this.#waiter = (m) => {
        clearTimeout(timer);
        this.#waiter = null;
        resolve(m);
      };
    });
  }
}
