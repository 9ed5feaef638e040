#!/usr/bin/python3
"""An aiortc peer that speaks pypeer's protocol, for gopeer's interop tests
and benchmarks.

It follows docs/PROTOCOL.md (pypeer 0.1.0) on the wire:

- key = base64url(SHA-256(utf8(ROOM + PASSWORD))), a Fernet key; a signal is
  Fernet(zlib(json.dumps({"sdp": ..., "type": ...}))), the token padded with =;
- boards: PUT BASE/rooms/ROOM/offer.json (answer.json) with
  {"payload": TOKEN, "timestamp": MS}; waits are httpx streams with
  Accept: text/event-stream read line by line: data: lines only, skipping
  empty, comment and null ones, taking obj["data"]["payload"] whatever the
  event, stopping at the first payload that decrypts to an object with "sdp";
  a payload that does not verify is AUTH_FAILED ("Incorrect Password"), on
  either side, as in pypeer (so a stranger's garbage answer kills this host:
  that is pypeer's weakness, reproduced on purpose);
- no trickle: aiortc's setLocalDescription returns once gathering is complete;
- the host creates the one data channel, "chat"; the joiner takes it in
  "datachannel";
- on the channel's "open": DELETE BASE/rooms/ROOM.json, then "__ping__" every
  --ping-interval seconds (pypeer: 15); a received "__ping__" is dropped;
- the session ends when the connection goes failed or closed (aiortc has no
  "disconnected"), and the room is DELETEd again on the way out (by a host,
  or by a joiner that got in).

aiortc 1.4 opens the joiner's channel before "datachannel" fires, so the
joiner's "open" handler never runs: like pypeer's joiner, this one then never
DELETEs the room and never pings. --fix-joiner-open runs those steps anyway.

What is not pypeer: stdin/stdout instead of Textual screens, JSON events
with --json, the echo, sink, rtt and source modes (the last two measure
aiortc inside the process, without stdin/stdout), and send-side flow control (pypeer
calls channel.send for each message with no bound; a benchmark that pushed
64 MiB that way would measure a 64 MiB queue).

The password comes from $PYPEER_PASSWORD (never argv); the board from --db,
else $PYPEER_URL. No ICE servers unless --stun is given: aiortc would use
Google's STUN when given none at all.

Exit status: 0 done, 1 failed, 3 wrong password, 130 interrupted.
"""

import argparse
import asyncio
import base64
import faulthandler
import hashlib
import json
import os
import signal
import sys
import time
import zlib

import httpx
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from cryptography.fernet import Fernet, InvalidToken

PING = "__ping__"
HIGH_WATER = 1 << 20  # flow control for stdin-fed sends (not pypeer's)
LOW_WATER = 256 << 10


class AuthFailed(Exception):
    """pypeer's AUTH_FAILED: a token that does not verify with our key."""


def room_key(room: str, password: str) -> bytes:
    return base64.urlsafe_b64encode(hashlib.sha256((room + password).encode("utf-8")).digest())


def seal(key: bytes, desc: RTCSessionDescription) -> str:
    plain = json.dumps({"sdp": desc.sdp, "type": desc.type}).encode("utf-8")
    return Fernet(key).encrypt(zlib.compress(plain)).decode("ascii")


def unseal(key: bytes, token: str) -> dict:
    try:
        plain = Fernet(key).decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError, TypeError, ValueError) as e:
        raise AuthFailed() from e
    return json.loads(zlib.decompress(plain))


class Out:
    """Events on stdout: JSON lines with --json; else messages as lines and
    everything else on stderr."""

    def __init__(self, as_json: bool):
        self.as_json = as_json

    def event(self, name: str, **fields):
        if self.as_json:
            # Every value a string, like gopeer's -json events.
            fields = {"event": name, **{k: str(v) for k, v in fields.items()}}
            sys.stdout.write(json.dumps(fields, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        elif name == "message":
            sys.stdout.write(fields["text"] + "\n")
            sys.stdout.flush()
        else:
            print(f"pypeer_peer: {name} {fields}", file=sys.stderr, flush=True)

    def status(self, msg: str):
        print(f"pypeer_peer: {msg}", file=sys.stderr, flush=True)


class Peer:
    def __init__(self, args, out: Out):
        self.args = args
        self.out = out
        self.base = args.db.rstrip("/")
        self.room = args.room
        self.key = room_key(args.room, os.environ.get("PYPEER_PASSWORD", "").strip())
        servers = [RTCIceServer(urls=u) for u in args.stun] if args.stun else []
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        # pypeer's HTTP client: no timeout.
        self.client = httpx.AsyncClient(timeout=None)
        self.channel = None
        self.connected = asyncio.Event()
        self.ended = asyncio.Event()
        self.end_reason = "peer left"
        self.low = asyncio.Event()
        self.tasks = []
        self.received = 0
        self.received_bytes = 0
        self.pings_received = 0
        self.sink_reported = False
        self.live_started = False
        self.waiter = None  # rtt and source modes: the next message

    # --- board ---------------------------------------------------------

    def url(self, slot: str) -> str:
        return f"{self.base}/rooms/{self.room}/{slot}.json"

    async def put_signal(self, slot: str, desc: RTCSessionDescription):
        body = {"payload": seal(self.key, desc), "timestamp": int(time.time() * 1000)}
        r = await self.client.put(self.url(slot), json=body)
        r.raise_for_status()

    async def wait_signal(self, slot: str) -> dict:
        async with self.client.stream("GET", self.url(slot), headers={"Accept": "text/event-stream"}) as r:
            async for line in r.aiter_lines():
                if not line.startswith("data:"):
                    continue
                raw = line[5:].strip()
                if not raw or raw.startswith(":") or raw == "null":
                    continue
                obj = json.loads(raw)
                data = obj.get("data") if isinstance(obj, dict) else None
                if not isinstance(data, dict) or "payload" not in data:
                    continue
                plain = unseal(self.key, data["payload"])
                if isinstance(plain, dict) and "sdp" in plain:
                    return plain
        raise ConnectionError("the board closed the stream")

    async def delete_room(self):
        try:
            await self.client.delete(f"{self.base}/rooms/{self.room}.json")
        except httpx.HTTPError as e:
            self.out.status(f"cleanup failed: {e}")

    # --- session -------------------------------------------------------

    def watch_connection(self):
        @self.pc.on("connectionstatechange")
        def on_state():
            if self.pc.connectionState in ("failed", "closed", "disconnected"):
                if self.pc.connectionState == "failed":
                    self.end_reason = "connection lost"
                self.ended.set()

    def attach(self, channel):
        self.channel = channel
        channel.bufferedAmountLowThreshold = LOW_WATER

        @channel.on("message")
        def on_message(msg):
            if msg == PING:
                self.pings_received += 1
                if self.args.report_pings:
                    self.out.event("ping")
                return
            if isinstance(msg, bytes):
                self.out.status(f"ignored {len(msg)} bytes of binary data")
                return
            self.on_text(msg)

        @channel.on("open")
        def on_open():
            self.live()

        @channel.on("close")
        def on_close():
            self.ended.set()

        @channel.on("bufferedamountlow")
        def on_low():
            self.low.set()

    def live(self):
        """pypeer's on-open: room off the board, keep-alive on, "Live".
        The "connected" event waits for the DELETE's answer, so a harness
        that sees it may check the board."""
        if self.live_started:
            return
        self.live_started = True

        async def go():
            self.tasks.append(asyncio.ensure_future(self.keep_alive()))
            await self.delete_room()
            self.mark_connected()

        self.tasks.append(asyncio.ensure_future(go()))

    def mark_connected(self):
        if not self.connected.is_set():
            self.connected.set()
            self.out.event("connected", dtls_cipher=self.dtls_cipher())

    def dtls_cipher(self) -> str:
        """The DTLS cipher suite OpenSSL negotiated (aiortc internals)."""
        try:
            return self.pc.sctp.transport.ssl.get_cipher_name() or ""
        except AttributeError:
            return ""

    async def keep_alive(self):
        while True:
            await asyncio.sleep(self.args.ping_interval)
            if self.channel.readyState == "open":
                self.channel.send(PING)

    def on_text(self, text: str):
        self.received += 1
        self.received_bytes += len(text.encode("utf-8"))
        mode = self.args.mode
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(text)
        elif mode == "echo":
            self.channel.send(text)
        elif mode == "sink":
            self.report_sink(final=False)
        else:
            self.out.event("message", text=text)

    def report_sink(self, final: bool):
        expect = self.args.expect_bytes
        if self.sink_reported:
            return
        if final or (expect and self.received_bytes >= expect):
            self.sink_reported = True
            self.out.event("sink", messages=self.received, bytes=self.received_bytes)
            if self.args.sink_ack and self.channel.readyState == "open":
                self.channel.send(f"sink done {self.received_bytes}")

    # --- the two roles -------------------------------------------------

    async def host(self):
        self.watch_connection()
        self.attach(self.pc.createDataChannel("chat"))
        self.out.status("Gathering ICE Candidates...")
        await self.pc.setLocalDescription(await self.pc.createOffer())
        await self.put_signal("offer", self.pc.localDescription)
        self.out.event("room", room=self.room, db=self.base)
        answer = await self.wait_signal("answer")
        await self.pc.setRemoteDescription(RTCSessionDescription(**answer))

    async def join(self):
        self.watch_connection()

        @self.pc.on("datachannel")
        def on_datachannel(channel):
            self.attach(channel)
            if channel.readyState == "open":
                # aiortc 1.4 opened it already: pypeer's open handler will
                # never run. The harness still needs to know it can talk.
                if self.args.fix_joiner_open:
                    self.live()
                else:
                    self.mark_connected()

        offer = await self.wait_signal("offer")
        await self.pc.setRemoteDescription(RTCSessionDescription(**offer))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        await self.put_signal("answer", self.pc.localDescription)

    # --- stdin ---------------------------------------------------------

    async def send(self, text: str):
        while self.channel.bufferedAmount > HIGH_WATER and not self.ended.is_set():
            self.low.clear()
            waiter = asyncio.ensure_future(self.low.wait())
            ender = asyncio.ensure_future(self.ended.wait())
            await asyncio.wait([waiter, ender], return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            ender.cancel()
        if self.ended.is_set():
            return
        self.channel.send(text)

    async def read_stdin(self):
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=1 << 20)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while True:
            line = await reader.readline()
            if not line:
                return
            line = line.decode("utf-8").rstrip("\n")
            if self.args.json:
                try:
                    text = json.loads(line)["text"]
                except (ValueError, KeyError, TypeError):
                    self.out.status('not sent: each line must be {"text": "..."}')
                    continue
            elif not line:
                continue
            else:
                text = line
            await self.send(text)

    async def drain(self, limit: float = 30.0):
        """Wait until everything sent is acknowledged (aiortc internals)."""
        sctp = self.channel.transport if self.channel else None
        deadline = time.monotonic() + limit
        while self.channel and time.monotonic() < deadline and not self.ended.is_set():
            pending = self.channel.bufferedAmount
            pending += len(getattr(sctp, "_outbound_queue", ()))
            pending += len(getattr(sctp, "_sent_queue", ()))
            if pending == 0:
                return
            await asyncio.sleep(0.01)

    async def next_message(self) -> str:
        self.waiter = asyncio.get_running_loop().create_future()
        ender = asyncio.ensure_future(self.ended.wait())
        await asyncio.wait([self.waiter, ender], return_when=asyncio.FIRST_COMPLETED)
        ender.cancel()
        if not self.waiter.done():
            raise ConnectionError("the peer left")
        return self.waiter.result()

    async def measure_rtt(self):
        """rtt mode: --count sequential messages to an echoing peer."""
        rtts = []
        for i in range(self.args.count):
            text = f"echo {i:04d}"
            start = time.perf_counter()
            self.channel.send(text)
            if await self.next_message() != text:
                raise ConnectionError("the echo came back wrong")
            rtts.append(time.perf_counter() - start)
        rtts.sort()
        us = lambda q: round(rtts[min(len(rtts) - 1, int(len(rtts) * q))] * 1e6)
        self.out.event("rtt", count=len(rtts), p50_us=us(0.50), p99_us=us(0.99))

    async def measure_source(self):
        """source mode: --bulk-bytes in --msg-size messages to a sink run
        with --sink-ack, timed until the sink says it has them all."""
        msg = "x" * self.args.msg_size
        start = time.perf_counter()
        for _ in range(self.args.bulk_bytes // self.args.msg_size):
            await self.send(msg)
        done = await self.next_message()
        seconds = time.perf_counter() - start
        self.out.event("source", bytes=self.args.bulk_bytes, seconds=f"{seconds:.6f}", ack=done)

    async def chat(self):
        """After connecting: run the mode until stdin ends or the peer goes."""
        ender = asyncio.ensure_future(self.ended.wait())
        waits = [ender]
        stdin = None
        if self.args.mode == "chat":
            stdin = asyncio.ensure_future(self.read_stdin())
            waits.append(stdin)
        elif self.args.mode in ("rtt", "source"):
            work = self.measure_rtt() if self.args.mode == "rtt" else self.measure_source()
            stdin = asyncio.ensure_future(work)
            waits.append(stdin)
        done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        if stdin is not None and stdin in done:
            stdin.result()
            await self.drain()
            reason = "you left"
        else:
            reason = self.end_reason
        for t in waits:
            t.cancel()
        if self.args.mode == "sink":
            self.report_sink(final=True)
        self.out.event("closed", reason=reason, pings_received=self.pings_received)

    async def close(self):
        """Tear down. The room is DELETEd by a host (its own room) and by a
        joiner that got in, never by a joiner that failed: that would wipe
        the host's offer (PROTOCOL.md does not say whether pypeer's joiner
        does this; this peer does not)."""
        for t in self.tasks:
            t.cancel()
        await self.pc.close()
        if self.args.role == "host" or self.connected.is_set():
            await self.delete_room()
        await self.client.aclose()


async def run(args, out: Out) -> int:
    peer = Peer(args, out)
    main = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, main.cancel)
    try:
        setup = peer.host() if args.role == "host" else peer.join()

        async def connect():
            await setup
            await peer.connected.wait()

        await asyncio.wait_for(connect(), args.timeout)
        await peer.chat()
        return 0
    except AuthFailed:
        out.event("error", kind="wrong_password", message="Incorrect Password")
        return 3
    except asyncio.TimeoutError:
        out.event("error", kind="timeout", message=f"no peer within {args.timeout} s")
        return 1
    except asyncio.CancelledError:
        out.event("error", kind="cancelled", message="cancelled")
        return 130
    except (httpx.HTTPError, ConnectionError, OSError) as e:
        out.event("error", kind="board", message=str(e))
        return 1
    finally:
        try:
            await asyncio.wait_for(peer.close(), 10)
        except (asyncio.TimeoutError, asyncio.CancelledError, httpx.HTTPError):
            pass


def main() -> int:
    # On SIGQUIT, print every thread's stack (the tests ask a peer that
    # hung for them), as a Go program does.
    faulthandler.register(signal.SIGQUIT, all_threads=True)
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    role = p.add_mutually_exclusive_group(required=True)
    role.add_argument("--host", metavar="ROOM", help="host ROOM (6 characters A-Z0-9)")
    role.add_argument("--join", metavar="ROOM", help="join ROOM")
    p.add_argument("--db", default=os.environ.get("PYPEER_URL", ""), help="board base URL (default $PYPEER_URL)")
    p.add_argument("--mode", choices=("chat", "echo", "sink", "rtt", "source"), default="chat",
                   help="chat: stdin/stdout lines; echo: send back what arrives; sink: count; "
                        "rtt, source: measure against an echo or a --sink-ack sink, then leave")
    p.add_argument("--json", action="store_true", help="JSON events out, {\"text\":...} lines in")
    p.add_argument("--ping-interval", type=float, default=15.0, help="seconds between __ping__ (pypeer: 15)")
    p.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for the peer (pypeer: 180)")
    p.add_argument("--expect-bytes", type=int, default=0, help="sink: report as soon as this many bytes arrived")
    p.add_argument("--sink-ack", action="store_true", help="sink: tell the peer when --expect-bytes arrived")
    p.add_argument("--count", type=int, default=1000, help="rtt: messages")
    p.add_argument("--bulk-bytes", type=int, default=64 << 20, help="source: bytes")
    p.add_argument("--msg-size", type=int, default=16 << 10, help="source: bytes per message")
    p.add_argument("--fix-joiner-open", action="store_true", help="joiner: DELETE and ping although aiortc opened the channel early")
    p.add_argument("--report-pings", action="store_true", help="a ping event for each __ping__ received (never a message)")
    p.add_argument("--stun", action="append", default=[], help="an ICE server URL (tests use none)")
    args = p.parse_args()
    sys.stdout.reconfigure(encoding="utf-8")
    args.role = "host" if args.host else "join"
    args.room = (args.host or args.join).strip().upper()
    if len(args.room) != 6 or not args.room.isalnum():
        p.error("a room code is 6 letters and digits")
    if not args.db:
        p.error("--db or $PYPEER_URL is required (this peer never uses the public board)")
    return asyncio.run(run(args, Out(args.json)))


if __name__ == "__main__":
    sys.exit(main())
