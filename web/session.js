// A chat session: pypeer's handshake (docs/PROTOCOL.md), and, between two
// gopeers, the native dialect inside it (native.js). The host posts a
// sealed offer in rooms/ROOM, the joiner a sealed answer; both chat over
// the data channel "chat" and delete the room.
//
//   host                        board                       joiner
//    | PUT offer (sealed)          |                            |
//    |  [+ a=x-gopeer:1 Ya]        |  stream rooms/ROOM/offer   |
//    |---------------------------->|--------------------------->|
//    |   stream rooms/ROOM/answer  |  PUT answer (sealed)       |
//    |                             |  [+ a=x-gopeer:1 Yb]       |
//    |<----------------------------|<---------------------------|
//    |<======= ICE, DTLS, SCTP: data channel "chat" ===========>|
//    |[<====== "gopeer-control": tags, wishes, verdicts ======>]|
//    | DELETE rooms/ROOM           |          DELETE rooms/ROOM |
//
// A joiner with a gopeer code takes only a gopeer's offer (anything else
// is a downgrade); a host takes a pypeer answer as pypeer's, unconfirmed.
// Nothing the peer sends is shown before the confirmation.

import { Board } from "./board.js";
import { concat } from "./bytes.js";
import { Files } from "./files.js";
import * as native from "./native.js";
import { open, roomKey, seal } from "./pypeer.js";

const gatherTimeout = 5000; // ms to wait for ICE candidates; pypeer does not trickle
const waitTimeout = 10 * 60 * 1000; // ms a room waits: the board's room lifetime
const confirmTimeout = 15000; // ms for the peer's confirmation once connected
const pingEvery = 15000; // ms between keep-alives
const ping = "__ping__";
const maxEarly = 64; // chat messages held until the confirmation
const maxAttempts = 3; // failed confirmations that close a host's room, as the terminal's
export const maxMessage = 65536; // bytes of one message: aiortc's limit
const codeAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

// NotConfirmed is a peer that did not prove it holds the code.
class NotConfirmed extends Error {
  constructor() {
    super("the peer did not prove it holds this code: a wrong code, or someone in the middle");
  }
}

// newRoomCode draws 6 characters of A-Z0-9 uniformly (252 = 7 × 36, so
// bytes from 252 up are drawn again).
export function newRoomCode() {
  let code = "";
  while (code.length < 6) {
    for (const b of crypto.getRandomValues(new Uint8Array(12))) {
      if (b < 252 && code.length < 6) code += codeAlphabet[b % 36];
    }
  }
  return code;
}

// Session runs one side of one chat. code is {room, secret} (secret ""
// for a pypeer room code). ui receives status(text), warn(text),
// compare(digits, answer), connected(info), message(text), delivered(n)
// and ended(reason, failed); ui.files is what files.js reports to.
export class Session {
  #pc = null;
  #chat = null;
  #control = null;
  #controlQueue = [];
  #controlWaiter = null;
  #early = [];
  #stopWatching = () => {};
  #timers = [];
  #connected = false; // the chat is open to the user
  #ended = false;
  #posted = null; // what this side put on the board, until it is connected
  #native = null; // {role, peerRole, sess} once the peer's announcement opened
  #files = null; // the file channels, beside the control channel
  #confirmed = false;
  #shown = 0; // chat messages shown, for receipts
  #sent = 0;
  #delivered = 0;
  #attempts = 0; // the host's failed confirmations
  #confirming = false; // the peer's tag is being awaited or checked
  #key = null; // pypeer's seal, from the room code and password

  constructor({ board, code, password, iceServers, ui, wishCompare = false }) {
    this.board = new Board(board);
    this.code = code;
    this.password = password.trim();
    this.iceServers = iceServers;
    this.ui = ui;
    this.wishCompare = wishCompare;
  }

  get room() {
    return "rooms/" + this.code.room;
  }

  // host posts an offer and waits for an answer.
  async host() {
    this.#key = await roomKey(this.code.room, this.password);
    this.#startClock();
    await this.#hostAttempt();
  }

  // hostAttempt posts the room with a fresh connection and CPace run: the
  // first time, and again after a joiner failed the confirmation.
  async #hostAttempt() {
    const key = this.#key;
    const pc = this.#newPeer();
    this.#wireChat(pc.createDataChannel("chat"));
    this.#openControl(pc, true);
    this.ui.status("gathering network candidates");
    await pc.setLocalDescription();
    await gathered(pc);
    const { prs, ci } = native.inputs(this.code, this.password);
    const party = native.cpaceStart(prs, ci, new Uint8Array(0), new Uint8Array(0));
    const sdp = withMaxMessageSize(pc.localDescription.sdp);
    const hostPrint = native.sdpFingerprint(sdp);
    const payload = await seal(key, { sdp: native.withAnnouncement(sdp, party.msg), type: "offer" });
    this.ui.status("posting the offer");
    this.#posted = this.room; // the host's room is its own to remove
    await this.board.put(this.room + "/offer", { payload, timestamp: Date.now() });
    this.ui.status("waiting for a peer to join room " + this.code.room);
    this.#watchFor("answer", key, async (desc) => {
      const a = native.readAnnouncement(desc.sdp);
      if (a?.version === native.nativeVersion) {
        const isk = native.cpaceFinish(party, a.msg, new Uint8Array(0), true);
        this.#native = { role: "host", peerRole: "joiner", sess: { isk, hostMsg: party.msg, joinerMsg: a.msg, hostPrint, joinerPrint: native.sdpFingerprint(desc.sdp) } };
      }
      await pc.setRemoteDescription(desc);
      this.ui.status("connecting to the peer");
    });
  }

  // join waits for the host's offer and answers it.
  async join() {
    const key = await roomKey(this.code.room, this.password);
    this.#startClock();
    const pc = this.#newPeer();
    pc.ondatachannel = (ev) => {
      if (ev.channel.label === "chat" && this.#chat === null) this.#wireChat(ev.channel);
    };
    const gopeerCode = this.code.secret !== "";
    if (gopeerCode) this.#openControl(pc, false);
    this.ui.status("waiting for the host's offer in room " + this.code.room);
    this.#watchFor("offer", key, async (desc) => {
      let party = null;
      if (gopeerCode) {
        const a = native.readAnnouncement(desc.sdp);
        if (a?.version !== native.nativeVersion) {
          throw new native.NativeError("the offer is not a gopeer's (no gopeer announcement), and this code takes only a gopeer: someone may have changed it");
        }
        const { prs, ci } = native.inputs(this.code, this.password);
        party = native.cpaceStart(prs, ci, new Uint8Array(0), new Uint8Array(0));
        const isk = native.cpaceFinish(party, a.msg, new Uint8Array(0), false);
        this.#native = { role: "joiner", peerRole: "host", sess: { isk, hostMsg: a.msg, joinerMsg: party.msg, hostPrint: native.sdpFingerprint(desc.sdp) } };
      }
      await pc.setRemoteDescription(desc);
      this.ui.status("gathering network candidates");
      await pc.setLocalDescription();
      await gathered(pc);
      let sdp = withMaxMessageSize(pc.localDescription.sdp);
      if (party) {
        this.#native.sess.joinerPrint = native.sdpFingerprint(sdp);
        sdp = native.withAnnouncement(sdp, party.msg);
      }
      const payload = await seal(key, { sdp, type: "answer" });
      this.#posted = this.room + "/answer";
      await this.board.put(this.#posted, { payload, timestamp: Date.now() });
      this.ui.status("connecting to the peer");
    }, gopeerCode);
  }

  // send sends one chat message; false when it cannot go.
  send(text) {
    if (!this.#connected || this.#chat?.readyState !== "open") return false;
    if (text === ping || new TextEncoder().encode(text).length > maxMessage) return false;
    this.#chat.send(text);
    this.#sent++;
    return true;
  }

  // sendFiles offers files (File objects) to a confirmed gopeer.
  sendFiles(files) {
    if (!this.#confirmed) {
      this.ui.warn("files go only to a gopeer that confirmed the code, not in a pypeer session");
      return;
    }
    this.#files.send(files);
  }

  // close ends the session and takes what it left off the board.
  close(reason = "you left", failed = false) {
    if (this.#ended) return;
    this.#ended = true;
    this.#stopWatching();
    this.#timers.forEach((t) => { clearInterval(t); clearTimeout(t); });
    this.#controlWaiter?.(null);
    this.#files?.close();
    this.#chat?.close();
    this.#control?.close();
    this.#pc?.close();
    if (!this.#connected && this.#posted) this.board.remove(this.#posted, true).catch(() => {});
    this.ui.ended(reason, failed);
  }

  // startClock bounds the wait for a peer, over every attempt.
  #startClock() {
    this.#timers.push(setTimeout(() => {
      if (!this.#connected) this.close("timed out: nobody came within 10 minutes", true);
    }, waitTimeout));
  }

  #newPeer() {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.#pc = pc;
    pc.onconnectionstatechange = () => {
      if (pc !== this.#pc) return; // an attempt given up
      switch (pc.connectionState) {
        case "disconnected":
          this.ui.warn("connection interrupted; waiting for it to come back");
          break;
        case "failed":
          this.close(this.#connected ? "connection lost" : "could not connect to the peer directly", true);
          break;
      }
    };
    return pc;
  }

  // unconfirmed ends an attempt whose peer failed the confirmation: the
  // joiner's session, or, for the host, one of its tries, after which it
  // posts the room afresh under the same code, as the terminal does.
  #unconfirmed(e) {
    if (!(e instanceof NotConfirmed) || this.#native?.role !== "host" || ++this.#attempts >= maxAttempts) {
      const closed = e instanceof NotConfirmed && this.#native?.role === "host";
      this.close(closed ? `room ${this.code.room} is closed: ${this.#attempts} joiners could not prove they hold its code; someone may be guessing it` : e.message, true);
      return;
    }
    this.ui.warn(`a joiner could not prove it holds the code (a wrong code, or someone in the middle); room ${this.code.room} stays open (${this.#attempts} of ${maxAttempts} tries used)`);
    this.#retire();
    this.#hostAttempt().catch((err) => this.close(err.message, true));
  }

  // retire lets go of an attempt's connection and everything on it.
  #retire() {
    this.#files?.close();
    this.#chat?.close();
    this.#control?.close();
    this.#pc?.close();
    this.#pc = this.#chat = this.#control = this.#files = this.#native = null;
    this.#controlQueue = [];
    this.#controlWaiter = null;
    this.#early = [];
  }

  // watchFor follows a slot of the room until it holds a description of
  // the wanted type that opens with key, then hands it to use, once.
  // Whatever else appears there is reported and, for the host, cleared,
  // so that the real joiner can still write. strict: a description that
  // opens but is refused ends the session (a joiner with a gopeer code).
  #watchFor(slot, key, use, strict = false) {
    let busy = Promise.resolve();
    let done = false;
    this.#stopWatching = this.board.watch(this.room + "/" + slot, (value) => {
      busy = busy.then(async () => {
        if (done || this.#ended || value === null) return;
        let desc;
        try {
          desc = await open(key, typeof value === "object" ? value.payload : undefined);
          if (desc.type !== slot) throw new Error("it is not an " + slot);
        } catch (e) {
          if (slot === "offer" && e.kind === "mac") {
            this.close(`the offer in room ${this.code.room} does not open with this password: check the room code and the password`, true);
          } else {
            this.ui.warn(`ignored the ${slot} in room ${this.code.room} (${e.message}); still waiting`);
            if (slot === "answer") this.board.remove(this.room + "/answer").catch(() => {});
          }
          return;
        }
        done = true;
        this.#stopWatching();
        try {
          await use(desc);
        } catch (e) {
          this.close((strict ? "refused: " : "could not connect: ") + e.message, true);
        }
      });
    }, (trouble) => this.ui.warn(trouble));
  }

  #wireChat(channel) {
    this.#chat = channel;
    channel.onopen = () => {
      this.#stopWatching();
      this.board.remove(this.room).catch((e) => this.ui.warn("could not remove the room from the board: " + e.message));
      this.#posted = null;
      (this.#native ? this.#confirm() : this.#startPypeer()).catch((e) => this.#unconfirmed(e));
    };
    channel.onmessage = (ev) => {
      if (typeof ev.data !== "string") {
        this.ui.warn("ignored a message that is not text");
      } else if (new TextEncoder().encode(ev.data).length > maxMessage) {
        this.ui.warn(`ignored a message of more than ${maxMessage} bytes`);
      } else if (ev.data === ping) {
        // pypeer's keep-alive, never shown
      } else if (!this.#connected) {
        // Not shown before the confirmation; a few are held for it.
        if (this.#early.length < maxEarly) this.#early.push(ev.data);
      } else {
        this.#show(ev.data);
      }
    };
    channel.onclose = () => {
      // A joiner with a wrong code hangs up as soon as it has checked the
      // host's tag, maybe before the host has checked its own: the
      // confirmation's end decides then.
      if (channel !== this.#chat) return;
      if (this.#confirming) {
        this.#controlWaiter?.(null); // nothing more will come
        return;
      }
      this.close(this.#connected ? "the peer left" : "the channel closed", !this.#connected);
    };
  }

  #show(text) {
    this.ui.message(text);
    this.#shown++;
    if (this.#native) this.#sendControl(native.control.receipt, native.uvarint(this.#shown));
  }

  #startPypeer() {
    this.#timers.push(setInterval(() => this.#chat.readyState === "open" && this.#chat.send(ping), pingEvery));
    this.#open({ protocol: "pypeer", verified: false });
    return Promise.resolve();
  }

  #open(info) {
    this.#connected = true;
    this.ui.connected(info);
    for (const text of this.#early.splice(0)) this.#show(text);
  }

  #openControl(pc, host) {
    this.#files = new Files(pc, host, this.ui.files);
    const c = pc.createDataChannel(native.control.label, { negotiated: true, id: native.control.id });
    c.binaryType = "arraybuffer";
    c.onmessage = (ev) => {
      if (c !== this.#control) return; // an attempt given up
      const m = ev.data instanceof ArrayBuffer ? new Uint8Array(ev.data) : null;
      if (m === null || m.length === 0 || m.length > native.control.maxMessage) {
        this.close("the peer broke the native control channel's rules", true);
        return;
      }
      if (this.#connected) {
        this.#onControl(m[0], m.subarray(1));
      } else if (this.#controlWaiter) {
        this.#controlWaiter(m);
      } else if (this.#controlQueue.length < 16) {
        this.#controlQueue.push(m);
      } else {
        this.close("the peer flooded the native control channel", true);
      }
    };
    this.#control = c;
  }

  // nextControl waits for the peer's next control message, at most
  // within ms; null when the session ended.
  #nextControl(within = confirmTimeout) {
    if (this.#controlQueue.length > 0) return Promise.resolve(this.#controlQueue.shift());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the peer did not confirm the session in time")), within);
      this.#controlWaiter = (m) => {
        clearTimeout(timer);
        this.#controlWaiter = null;
        resolve(m);
      };
    });
  }

  async #expect(type) {
    const m = await this.#nextControl();
    if (m === null) throw new Error("the peer left before the confirmation");
    if (m[0] !== type) throw new Error("the peer broke the native control channel's rules");
    return m.subarray(1);
  }

  #sendControl(type, body = new Uint8Array(0)) {
    if (this.#control?.readyState === "open") this.#control.send(concat(Uint8Array.of(type), body));
  }

  // confirm proves this side holds the session and checks that the peer
  // does; then both compare the verification string if either asked.
  async #confirm() {
    this.#confirming = true;
    try {
      await this.#confirmPeer();
    } finally {
      this.#confirming = false;
    }
    if (this.#chat?.readyState !== "open") throw new Error("the peer left");
    this.#timers.push(setInterval(() => this.#sendControl(native.control.ping), pingEvery));
    this.#confirmed = true;
    this.#files.start();
    this.#open({ protocol: "gopeer", verified: true, verify: native.verifyString(this.#native.sess.isk) });
  }

  async #confirmPeer() {
    const { role, peerRole, sess } = this.#native;
    if (this.#control.readyState !== "open") {
      await new Promise((resolve) => this.#control.addEventListener("open", resolve, { once: true }));
    }
    const wishes = this.wishCompare ? native.control.wishCompare : 0;
    this.#sendControl(native.control.confirm, await native.tag(sess, role));
    this.#sendControl(native.control.wishes, Uint8Array.of(wishes));
    const peerTag = await this.#expect(native.control.confirm);
    if (!(await native.checkTag(sess, peerRole, peerTag))) throw new NotConfirmed();
    const peerWishes = await this.#expect(native.control.wishes);
    if (peerWishes.length === 0) throw new Error("the peer broke the native control channel's rules");
    if ((wishes | peerWishes[0]) & native.control.wishCompare) {
      await this.#compare(native.verifyString(sess.isk));
    }
  }

  // compare asks the user whether both screens show the same digits, tells
  // the peer, and waits for the peer's answer.
  async #compare(digits) {
    const same = await new Promise((resolve) => this.ui.compare(digits, resolve));
    this.#sendControl(native.control.verdict, Uint8Array.of(same ? 1 : 0));
    const theirs = await new Promise((resolve, reject) => {
      const wait = () => this.#nextControl(waitTimeout).then((m) => {
        if (m === null) return reject(new Error("the peer left before the comparison ended"));
        if (m[0] === native.control.verdict) return resolve(m.length === 2 && m[1] === 1);
        return wait(); // pings and receipts may come first
      }, reject);
      wait();
    });
    if (!same || !theirs) {
      throw new Error("the verification strings differ: " + (same ? "the peer" : "you") + " said so; someone may be in the middle");
    }
  }

  #onControl(type, body) {
    if (type === native.control.receipt) {
      const n = native.readUvarint(body);
      if (n > this.#delivered && n <= this.#sent) {
        this.#delivered = n;
        this.ui.delivered(n);
      }
    }
    // pings are dropped; later types are for later versions
  }
}

// withMaxMessageSize says, in a description that does not, how large a
// message this side takes: Chrome leaves a=max-message-size out of an
// answer, which RFC 8841 reads as 64 KiB but pion as 65,535 bytes, one
// short of a full chat message or file chunk from a terminal.
export function withMaxMessageSize(sdp) {
  if (/^a=max-message-size:/m.test(sdp)) return sdp;
  return sdp.replace(/^(a=sctp-port:[0-9]+\r?\n)/m, `$1a=max-message-size:${maxMessage}\r\n`);
}

// gathered waits until pc has its candidates, at most gatherTimeout.
function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, gatherTimeout);
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}
