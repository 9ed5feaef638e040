// The page: four screens (start, waiting, chat, ended), driven by one
// Session at a time. UI rules, as the terminal's (docs/TERMINAL.md):
//   - what a peer sends is shown with textContent only, never as HTML, and
//     control and bidirectional-override characters are shown as escapes;
//   - nothing is stored: no web storage, no cookies, no
//     IndexedDB; closing the tab ends the session;
//   - the keyboard does everything: Enter sends, Shift+Enter starts a new
//     line, focus moves to what the user needs next.

import { size } from "./files.js";
import { NativeError, codeString, newSecret, parseCode } from "./native.js";
import { Session, newRoomCode } from "./session.js";

// pypeer's ICE servers, as the terminal's default; ?ice=none turns them
// off (two browsers on one network need none).
const defaultIce = [{ urls: ["stun:stun.l.google.com:19302", "stun:stun1.l.google.com:19302", "stun:stun2.l.google.com:19302", "stun:stun.l.google.com:19305"] }];
const maxWarnings = 20;

const $ = (id) => document.getElementById(id);
const screens = ["start", "waiting", "compare", "chat", "ended"];

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

// files is what a transfer shows: the offer to answer, progress, the
// files received (each saved only when the user asks), and the end.
const files = {
  offer(summary, answer) {
    $("file-offer-text").textContent = "The other person offers " + visible(summary) + ".";
    $("file-offer").hidden = false;
    $("file-accept").focus();
    const done = (yes) => () => {
      $("file-offer").hidden = true;
      $("file-accept").onclick = $("file-refuse").onclick = null;
      $("message").focus();
      answer(yes);
    };
    $("file-accept").onclick = done(true);
    $("file-refuse").onclick = done(false);
  },
  progress(way, name, done, total) {
    const verb = { in: "Receiving", out: "Sending", hashing: "Reading" }[way];
    $("file-status").textContent = `${verb} ${visible(name)}: ${size(done)} of ${size(total)}`;
    const bar = $("file-progress");
    bar.hidden = false;
    bar.max = Math.max(total, 1);
    bar.value = done;
  },
  saved(name, blob) {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.blob = blob; // the policy keeps fetch off blob: URLs; the tests read it here
    a.download = name.replaceAll("/", "_");
    a.textContent = `Save ${visible(name)} (${size(blob.size)})`;
    li.append(a);
    $("file-list").append(li);
    $("received").hidden = false; // outlives the session: the sender may leave first
  },
  finished(way, text, failed) {
    $("file-progress").hidden = true;
    $("file-status").textContent = visible(text);
    if (failed) ui.warn(text);
  },
};

const ui = {
  files,
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
  compare(digits, answer) {
    $("compare-digits").textContent = digits;
    show("compare");
    $("compare-same").focus();
    const done = (same) => () => {
      $("compare-same").onclick = $("compare-differ").onclick = null;
      ui.status("waiting for the other person's answer");
      answer(same);
    };
    $("compare-same").onclick = done(true);
    $("compare-differ").onclick = done(false);
  },
  connected(info) {
    const mode = $("mode");
    mode.hidden = false;
    mode.className = info.verified ? "mode verified" : "mode";
    mode.textContent = info.verified ? "gopeer · verified" : "pypeer · unconfirmed";
    mode.title = info.verified ? "" : "with the room code and password, someone could sit in the middle";
    $("verify-line").hidden = !info.verify;
    $("files").hidden = !info.verified;
    $("verify-digits").textContent = info.verify ?? "";
    ui.status("connected");
    show("chat");
    addLine("notice", "Connected (" + mode.textContent + ").");
    $("message").focus();
  },
  message(text) {
    addLine("peer", text);
  },
  delivered(n) {
    const mine = document.querySelectorAll("#log li.mine");
    for (let i = 0; i < n && i < mine.length; i++) {
      if (!mine[i].classList.contains("delivered")) {
        mine[i].classList.add("delivered");
        mine[i].querySelector(".text").after(Object.assign(document.createElement("span"), { className: "tick", textContent: " ✓", title: "delivered" }));
      }
    }
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

// start runs a session; code is {room, secret}.
function start(code, password, role, wishCompare = false) {
  session = new Session({ board: board(), code, password, iceServers: iceServers(), ui, wishCompare });
  $("warnings").replaceChildren();
  $("log").replaceChildren();
  for (const a of $("file-list").querySelectorAll("a")) URL.revokeObjectURL(a.href);
  $("file-list").replaceChildren();
  $("received").hidden = true;
  $("file-status").textContent = "";
  $("mode").hidden = true;
  const shown = codeString(code);
  $("room-code").textContent = shown;
  $("room-only").textContent = code.room;
  $("room-link").textContent = location.origin + location.pathname + location.search + "#" + shown;
  $("room-line").hidden = role !== "host";
  $("waiting-title").textContent = role === "host" ? "Your room" : "Joining room " + code.room;
  show("waiting");
  $("cancel").focus();
  session[role]().catch((e) => session?.close(e.message, true));
}

function wire() {
  $("join-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    let code;
    try {
      code = parseCode($("join-code").value);
    } catch (e) {
      if (!(e instanceof NativeError)) throw e;
      ui.status(e.message);
      $("join-code").focus();
      return;
    }
    start(code, $("join-password").value, "join");
  });
  $("host-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    start({ room: newRoomCode(), secret: newSecret() }, $("host-password").value, "host", $("host-verify").checked);
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
  $("send-files").addEventListener("click", () => $("file-input").click());
  $("file-input").addEventListener("change", () => {
    session?.sendFiles([...$("file-input").files]);
    $("file-input").value = "";
  });
  document.addEventListener("dragover", (ev) => ev.preventDefault());
  document.addEventListener("drop", (ev) => {
    ev.preventDefault();
    if (ev.dataTransfer?.files.length && !$("chat").hidden) session?.sendFiles([...ev.dataTransfer.files]);
  });
  $("again").addEventListener("click", () => {
    show("start");
    $("join-code").focus();
  });
  window.addEventListener("pagehide", () => session?.close("the page was closed"));
}

// takeCodeFromFragment fills the join form from a link's #CODE, then
// drops the fragment so that the code does not stay in the address bar.
function takeCodeFromFragment() {
  let code;
  try {
    code = parseCode(decodeURIComponent(location.hash.slice(1)));
  } catch {
    $("join-code").focus();
    return;
  }
  $("join-code").value = codeString(code);
  history.replaceState(null, "", location.pathname + location.search);
  $("join-password").focus();
}

wire();
show("start");
takeCodeFromFragment();
