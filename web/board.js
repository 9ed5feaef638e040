// The board: a Firebase Realtime Database, or gopeer's own, through its
// REST API (docs/PROTOCOL.md, "The board" and "Streaming"). Anyone who
// knows a room code can write to its room, so everything read here is
// bounded and checked by the caller.

import { concat } from "./bytes.js";

const maxEvent = 300 << 10; // bytes of one stream event: a payload and its wrapping
const requestTimeout = 15000;

export class BoardError extends Error {}

export class Board {
  // base is the board's URL ("" for the page's own origin).
  constructor(base) {
    this.base = base.replace(/\/+$/, "");
  }

  url(path) {
    return this.base + "/" + path + ".json";
  }

  // put writes value at path.
  async put(path, value) {
    return this.#send("PUT", path, JSON.stringify(value));
  }

  // remove deletes path. keepalive lets it outlive the page being closed.
  async remove(path, keepalive = false) {
    return this.#send("DELETE", path, undefined, keepalive);
  }

  async #send(method, path, body, keepalive = false) {
    let resp;
    try {
      resp = await fetch(this.url(path), {
        method, body, keepalive, cache: "no-store", credentials: "omit",
        signal: AbortSignal.timeout(requestTimeout),
      });
    } catch (e) {
      throw new BoardError("cannot reach the board: " + e.message);
    }
    const text = await head(resp, 1000);
    if (!resp.ok) {
      let reason = text;
      try {
        reason = JSON.parse(text).error ?? text;
      } catch { /* not JSON: the text itself */ }
      throw new BoardError(`the board refused ${method} (${resp.status}): ${reason}`);
    }
  }

  // watch follows the value at path through the board's event stream and
  // calls onValue with each new value (null when there is none). onTrouble
  // hears of a lost stream (the browser reconnects by itself) or an event
  // it ignored. It returns a function that stops watching.
  watch(path, onValue, onTrouble) {
    const source = new EventSource(this.url(path));
    let value = null;
    const apply = (kind, ev) => {
      if (ev.data.length > maxEvent) {
        onTrouble(`ignored a board event of ${ev.data.length} bytes`);
        return;
      }
      let change;
      try {
        change = JSON.parse(ev.data);
      } catch {
        onTrouble("ignored a board event that is not JSON");
        return;
      }
      if (change === null || typeof change !== "object" || typeof change.path !== "string") {
        onTrouble("ignored a board event without a path");
        return;
      }
      const at = change.path.split("/").filter((s) => s !== "");
      value = kind === "put" ? setAt(value, at, change.data) : patchAt(value, at, change.data);
      onValue(value);
    };
    source.addEventListener("put", (ev) => apply("put", ev));
    source.addEventListener("patch", (ev) => apply("patch", ev));
    source.addEventListener("cancel", () => {
      source.close();
      onTrouble("the board stopped the stream: its rules no longer allow reading here");
    });
    source.onerror = () => onTrouble("lost the board's stream; trying again");
    return () => source.close();
  }
}

// head reads at most max bytes of a response's body, as text: a board's
// answer is a few bytes, and a hostile one must not make the page hold
// more.
async function head(resp, max) {
  const reader = resp.body?.getReader();
  if (!reader) return "";
  const chunks = [];
  let size = 0;
  while (size < max) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
  }
  await reader.cancel().catch(() => {});
  return new TextDecoder().decode(concat(...chunks).subarray(0, max));
}

// setAt returns tree with the value at path replaced by data (null deletes).
function setAt(tree, path, data) {
  if (path.length === 0) return data;
  const node = tree !== null && typeof tree === "object" ? { ...tree } : {};
  const child = setAt(node[path[0]] ?? null, path.slice(1), data);
  if (child === null) delete node[path[0]];
  else node[path[0]] = child;
  return Object.keys(node).length === 0 ? null : node;
}

// patchAt returns tree with each child of data set below path.
function patchAt(tree, path, data) {
  if (data === null || typeof data !== "object") return tree;
  for (const [key, child] of Object.entries(data)) {
    tree = setAt(tree, [...path, ...key.split("/").filter((s) => s !== "")], child);
  }
  return tree;
}
