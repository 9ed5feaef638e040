// The page: four screens (start, waiting, chat, ended), driven by one
// Session at a time. UI rules, as the terminal's (docs/TERMINAL.md):
//   - what a peer sends is shown with textContent only, never as HTML, and
//     control and bidirectional-override characters are shown as escapes;
//   - nothing is stored: no web storage, no cookies, no
//     IndexedDB; closing the tab ends the session;
//   - the keyboard does everything: Enter sends, Shift+Enter starts a new
//     line, focus moves to what the user needs next.

import { Session, newRoomCode, roomCode } from "./session.js";

// pypeer's ICE servers, as the terminal's default; ?ice=none turns them
// off (two browsers on one network need none).
const defaultIce = [{ urls: ["stun:stun.l.google.com:19302", "stun:stun1.l.google.com:19302", "stun:stun2.l.google.com:19302", "stun:stun.l.google.com:19305"] }];
const maxWarnings = 20;

const $ = (id) => document.getElementById(id);
const screens = ["start", "waiting", "chat", "ended"];

let session = null;

function show(screen) {
  for (const s of screens) $(s).hidden = s !== screen;
}

// visible escapes what could hide or reorder text: C0 and C1 controls but
// newline and tab, and the bidirectional overrides and isolates.
export function visible(text) {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu,
    (c) => "\\u{" + c.codePointAt(0).toString(16) + "}");
}

// addLine adds a line to the log: kind is "peer", "mine" or "notice",
// said to screen readers before the text.
function addLine(kind, text) {
  const li = document.createElement("li");
  li.className = kind;
  const who = document.createElement("span");
  who.className = "visually-hidden";
  who.textContent = { peer: "Peer: ", mine: "You: ", notice: "" }[kind];
  const body = document.createElement("span");
  body.className = "text";
  body.textContent = visible(text);
  li.append(who, body);
  $("log").append(li);
  li.scrollIntoView({ block: "end" });
}

const ui = {
  status(text) {
    $("status").textContent = text;
  },
  warn(text) {
    const list = $("warnings");
    const li = document.createElement("li");
    li.textContent = "warning: " + text;
    list.append(li);
    while (list.children.length > maxWarnings) list.firstElementChild.remove();
  },
  connected(info) {
    const mode = $("mode");
    mode.hidden = false;
    mode.className = info.verified ? "mode verified" : "mode";
    mode.textContent = info.verified ? "gopeer · verified" : "pypeer · unconfirmed";
    mode.title = info.verified ? "" : "with the room code and password, someone could sit in the middle";
    ui.status("connected");
    show("chat");
    addLine("notice", "Connected (" + mode.textContent + ").");
    $("message").focus();
  },
  message(text) {
    addLine("peer", text);
  },
  ended(reason, failed) {
    $("ended-title").textContent = failed ? "Could not go on" : "Session ended";
    $("ended-reason").textContent = reason; // a live region: said once, shown once
    ui.status("");
    session = null;
    show("ended");
    $("again").focus();
  },
};

function iceServers() {
  const ice = new URLSearchParams(location.search).get("ice");
  if (ice === "none") return [];
  if (ice) return [{ urls: ice.split(",") }];
  return defaultIce;
}

function board() {
  return document.querySelector('meta[name="gopeer-board"]').content || location.origin;
}

function start(code, password, role) {
  session = new Session({ board: board(), code, password, iceServers: iceServers(), ui });
  $("warnings").replaceChildren();
  $("log").replaceChildren();
  $("room-code").textContent = code;
  $("room-link").textContent = location.origin + location.pathname + location.search + "#" + code;
  $("room-line").hidden = role !== "host";
  $("waiting-title").textContent = role === "host" ? "Your room" : "Joining room " + code;
  show("waiting");
  $("cancel").focus();
  session[role]().catch((e) => session?.close(e.message, true));
}

function wire() {
  $("join-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const code = roomCode($("join-code").value);
    if (!code) {
      ui.status("a room code is six letters and digits, like K7P2M0");
      $("join-code").focus();
      return;
    }
    start(code, $("join-password").value, "join");
  });
  $("host-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    start(newRoomCode(), $("host-password").value, "host");
  });
  $("send-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const box = $("message");
    if (box.value === "") return;
    if (session?.send(box.value)) {
      addLine("mine", box.value);
      box.value = "";
    } else {
      ui.warn("not sent: the session is not open, or the message is too long");
    }
  });
  $("message").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      $("send-form").requestSubmit();
    }
  });
  $("cancel").addEventListener("click", () => session?.close("cancelled"));
  $("leave").addEventListener("click", () => session?.close("you left"));
  $("again").addEventListener("click", () => {
    show("start");
    $("join-code").focus();
  });
  window.addEventListener("pagehide", () => session?.close("the page was closed"));
}

// takeCodeFromFragment fills the join form from a link's #CODE, then
// drops the fragment so that the code does not stay in the address bar.
function takeCodeFromFragment() {
  const code = roomCode(decodeURIComponent(location.hash.slice(1)));
  if (!code) {
    $("join-code").focus();
    return;
  }
  $("join-code").value = code;
  history.replaceState(null, "", location.pathname + location.search);
  $("join-password").focus();
}

wire();
show("start");
takeCodeFromFragment();
