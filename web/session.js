// A chat session in pypeer's dialect (docs/PROTOCOL.md): the host posts a
// sealed offer in rooms/CODE, the joiner a sealed answer, then both chat
// over the data channel "chat" and delete the room.
//
//   host                        board                       joiner
//    | PUT offer (sealed)          |                            |
//    |---------------------------->|  stream rooms/CODE/offer   |
//    |                             |--------------------------->|
//    |   stream rooms/CODE/answer  |  PUT answer (sealed)       |
//    |<----------------------------|<---------------------------|
//    |<======= ICE, DTLS, SCTP: data channel "chat" ===========>|
//    | DELETE rooms/CODE           |          DELETE rooms/CODE |

import { Board } from "./board.js";
import { open, roomKey, seal } from "./pypeer.js";

const gatherTimeout = 5000; // ms to wait for ICE candidates; pypeer does not trickle
const waitTimeout = 10 * 60 * 1000; // ms a room waits: the board's room lifetime
const pingEvery = 15000; // ms between keep-alives, as pypeer sends them
const ping = "__ping__";
export const maxMessage = 65536; // bytes of one message: aiortc's limit
const codeAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

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

// roomCode reads what a user typed as a room code: trimmed, upper-cased,
// six of A-Z0-9; "" when it is not one.
export function roomCode(typed) {
  const code = typed.trim().toUpperCase();
  return /^[A-Z0-9]{6}$/.test(code) ? code : "";
}

// Session runs one side of one chat. ui receives status(text),
// warn(text), connected(info), message(text) and ended(reason, failed).
export class Session {
  #pc = null;
  #channel = null;
  #stopWatching = () => {};
  #timers = [];
  #connected = false;
  #ended = false;
  #posted = null; // what this side put on the board, until it is connected

  constructor({ board, code, password, iceServers, ui }) {
    this.board = new Board(board);
    this.code = code;
    this.password = password.trim();
    this.iceServers = iceServers;
    this.ui = ui;
  }

  get room() {
    return "rooms/" + this.code;
  }

  // host posts an offer and waits for an answer.
  async host() {
    const key = await roomKey(this.code, this.password);
    const pc = this.#newPeer();
    this.#wire(pc.createDataChannel("chat"));
    this.ui.status("gathering network candidates");
    await pc.setLocalDescription();
    await gathered(pc);
    const payload = await seal(key, pc.localDescription);
    this.ui.status("posting the offer");
    this.#posted = this.room; // the host's room is its own to remove
    await this.board.put(this.room + "/offer", { payload, timestamp: Date.now() });
    this.ui.status("waiting for a peer to join room " + this.code);
    this.#watchFor("answer", key, async (desc) => {
      await pc.setRemoteDescription(desc);
      this.ui.status("connecting to the peer");
    });
  }

  // join waits for the host's offer and answers it.
  async join() {
    const key = await roomKey(this.code, this.password);
    const pc = this.#newPeer();
    pc.ondatachannel = (ev) => {
      if (ev.channel.label === "chat" && this.#channel === null) this.#wire(ev.channel);
    };
    this.ui.status("waiting for the host's offer in room " + this.code);
    this.#watchFor("offer", key, async (desc) => {
      await pc.setRemoteDescription(desc);
      this.ui.status("gathering network candidates");
      await pc.setLocalDescription();
      await gathered(pc);
      const payload = await seal(key, pc.localDescription);
      this.#posted = this.room + "/answer";
      await this.board.put(this.#posted, { payload, timestamp: Date.now() });
      this.ui.status("connecting to the peer");
    });
  }

  // send sends one chat message; false when it cannot go.
  send(text) {
    if (!this.#connected || this.#channel?.readyState !== "open") return false;
    if (text === ping || new TextEncoder().encode(text).length > maxMessage) return false;
    this.#channel.send(text);
    return true;
  }

  // close ends the session and takes what it left off the board.
  close(reason = "you left", failed = false) {
    if (this.#ended) return;
    this.#ended = true;
    this.#stopWatching();
    this.#timers.forEach(clearInterval);
    this.#timers.forEach(clearTimeout);
    this.#channel?.close();
    this.#pc?.close();
    if (!this.#connected && this.#posted) this.board.remove(this.#posted, true).catch(() => {});
    this.ui.ended(reason, failed);
  }

  #newPeer() {
    this.#pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.#pc.onconnectionstatechange = () => {
      switch (this.#pc.connectionState) {
        case "disconnected":
          this.ui.warn("connection interrupted; waiting for it to come back");
          break;
        case "failed":
          this.close(this.#connected ? "connection lost" : "could not connect to the peer directly", true);
          break;
      }
    };
    this.#timers.push(setTimeout(() => {
      if (!this.#connected) this.close("timed out: nobody came within 10 minutes", true);
    }, waitTimeout));
    return this.#pc;
  }

  // watchFor follows a slot of the room until it holds a description of
  // the wanted type that opens with key, then hands it to use, once.
  // Whatever else appears there is reported and, for the host, cleared,
  // so that the real joiner can still write.
  #watchFor(slot, key, use) {
    const want = slot;
    let busy = Promise.resolve();
    let done = false;
    this.#stopWatching = this.board.watch(this.room + "/" + slot, (value) => {
      busy = busy.then(async () => {
        if (done || this.#ended || value === null) return;
        try {
          const desc = await open(key, typeof value === "object" ? value.payload : undefined);
          if (desc.type !== want) throw new Error("it is not an " + want);
          done = true;
          this.#stopWatching();
          await use(desc);
        } catch (e) {
          if (done) {
            this.close("could not connect: " + e.message, true);
          } else if (slot === "offer" && e.kind === "mac") {
            this.close("the offer in room " + this.code + " does not open with this password: check the room code and the password", true);
          } else {
            this.ui.warn(`ignored the ${slot} in room ${this.code} (${e.message}); still waiting`);
            if (slot === "answer") this.board.remove(this.room + "/answer").catch(() => {});
          }
        }
      });
    }, (trouble) => this.ui.warn(trouble));
  }

  #wire(channel) {
    this.#channel = channel;
    channel.onopen = () => {
      this.#connected = true;
      this.#stopWatching();
      this.board.remove(this.room).catch((e) => this.ui.warn("could not remove the room from the board: " + e.message));
      this.#timers.push(setInterval(() => channel.readyState === "open" && channel.send(ping), pingEvery));
      this.ui.connected({ protocol: "pypeer", verified: false });
    };
    channel.onmessage = (ev) => {
      if (typeof ev.data !== "string") {
        this.ui.warn("ignored a message that is not text");
      } else if (new TextEncoder().encode(ev.data).length > maxMessage) {
        this.ui.warn(`ignored a message of more than ${maxMessage} bytes`);
      } else if (ev.data !== ping) {
        this.ui.message(ev.data);
      }
    };
    channel.onclose = () => this.close(this.#connected ? "the peer left" : "the channel closed", this.#connected === false);
  }
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
