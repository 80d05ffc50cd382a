#!/usr/bin/env python3
"""pychat: a Portcullis handler in Python, written against the bus contract (docs/bus.md,
docs/handlers.md) with nothing but redis-py.

App logic, for `message` envelopes (raw `{"event": …, "data": …, "ack": n}` clients):
  join {"room": r}            the sender joins room r
  say  {"room": r, "text": t} event `said` {"user": <sender's user or null>, "text": t} to room r
  anything else               event `error` {"code": "bad_request", "message": …} to the sender
A message with an `ack` id is answered: {"ok": true}, or {"ok": false, "error": …}.

Consumer recipe: group `portcullis-rooms:<app>` on `<prefix>:in:<app>` (created with
MKSTREAM), own pending entries first (id 0), then new ones (`>`, BLOCK), XAUTOCLAIM of
entries idle longer than --claim-idle; per entry: decode → skip unknown kinds → dedupe on
`<prefix>:seen:<app>:<id>` → handle → XADD outputs → SET seen → XACK. SIGTERM stops it
between two entries.
"""

import argparse
import json
import logging
import os
import re
import secrets
import signal
import socket
import time

import redis

log = logging.getLogger("pychat")

KNOWN_KINDS = {b"open", b"message", b"close", b"refresh", b"ack",
               b"emit", b"join", b"leave", b"disconnect", b"confirm", b"reject"}
EDGE_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
DECIMAL = re.compile(rb"[0-9]{1,19}")
SEEN_TTL = 3600                          # seconds a handled envelope id is remembered
TRIM = {"bcast": 100_000, "edge": 10_000, "dead": 10_000}  # XADD MAXLEN ~, as docs/bus.md suggests
BATCH = 64


class InvalidEnvelope(Exception):
    """An entry that is not a valid envelope (it goes to the dead-letter stream)."""


def decode(pairs: list) -> dict:
    """A stream entry's flat [name, value, …] list → {name: bytes}, checked as docs/bus.md
    says. Unknown fields are kept (and ignored); values stay bytes (binary-safe)."""
    env = {}
    for name, value in zip(pairs[::2], pairs[1::2]):
        name = name.decode("utf-8", "replace")
        if name in env:
            raise InvalidEnvelope(f"duplicateField: {name}")
        env[name] = value
    for required in ("v", "id", "kind"):
        if required not in env:
            raise InvalidEnvelope(f"missingField: {required}")
    if env["v"] != b"1":
        raise InvalidEnvelope("unsupportedVersion: v")
    if not 1 <= len(env["id"]) <= 128 or not env["kind"]:
        raise InvalidEnvelope("invalidValue: id or kind")
    for name in ("ack", "ts"):
        if name in env and not (DECIMAL.fullmatch(env[name]) and int(env[name]) < 2**63):
            raise InvalidEnvelope(f"invalidValue: {name}")
    if env.get("dataType", b"json") not in (b"json", b"text", b"binary"):
        raise InvalidEnvelope("invalidValue: dataType")
    return env


def text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("utf-8", "replace")


class Handler:
    def __init__(self, args):
        self.redis = redis.Redis.from_url(args.redis_url, socket_timeout=10)
        # Entries as Redis sends them ([id, [name, value, …]]): redis-py's parsers would
        # fold the field list into a dict, hiding a duplicate field.
        for command in ("XREADGROUP", "XAUTOCLAIM"):
            self.redis.set_response_callback(command, lambda response, **_: response)
        self.prefix, self.app = args.prefix, args.app
        self.stream = f"{args.prefix}:in:{args.app}"
        self.group = f"portcullis-rooms:{args.app}"
        self.dead = f"{args.prefix}:dead:{args.app}"
        self.consumer = args.consumer
        self.claim_idle_ms = int(args.claim_idle * 1000)
        self.max_deliveries = args.max_deliveries
        self.stopping = False

    def stop(self, signum, frame):
        log.info("signal %d: stopping after the current entry", signum)
        self.stopping = True

    # --- the consumer loop ------------------------------------------------------------

    def run(self):
        pending = b"0"       # re-read our own pending entries (after this id) until none are left
        last_claim = time.monotonic()
        group_ready = False
        while not self.stopping:
            try:
                if not group_ready:
                    self.ensure_group()
                    group_ready = True
                if time.monotonic() - last_claim >= max(self.claim_idle_ms / 2000, 0.05):
                    last_claim = time.monotonic()
                    self.claim_idle_entries()
                elif pending is not None:
                    entries = self.read(pending)
                    if not entries:
                        pending = None
                        continue
                    log.info("re-reading %d pending entries", len(entries))
                    pending = entries[-1][0]
                    self.process(entries, redelivered=True)
                else:
                    self.process(self.read(b">", block_ms=1000), redelivered=False)
            except redis.RedisError as error:     # Redis away, or a refused command
                if "NOGROUP" in str(error):      # stream or group deleted: start over
                    group_ready, pending = False, b"0"
                log.warning("redis error, retrying: %s", error)
                time.sleep(0.5)
        log.info("stopped")

    def ensure_group(self):
        try:
            self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise
        log.info("consuming %s in group %s as %s", self.stream, self.group, self.consumer)

    def read(self, position: bytes, block_ms: int | None = None) -> list:
        reply = self.redis.xreadgroup(self.group, self.consumer, {self.stream: position},
                                      count=BATCH, block=block_ms)
        return reply[0][1] if reply else []

    def claim_idle_entries(self):
        start = b"0-0"
        for _ in range(8):        # a few pages per round; the next round continues
            start, entries, *_ = self.redis.xautoclaim(self.stream, self.group, self.consumer,
                                                       self.claim_idle_ms, start, count=BATCH)
            if entries:
                log.info("claimed %d idle entries", len(entries))
            self.process(entries, redelivered=True)
            if start == b"0-0" or self.stopping:
                return

    def process(self, entries: list, redelivered: bool):
        for entry_id, pairs in entries:
            if self.stopping:
                return            # the rest stays pending: re-read on restart, or claimed
            self.process_one(entry_id, pairs, redelivered)

    def process_one(self, entry_id: bytes, pairs: list | None, redelivered: bool):
        if pairs is None:         # a pending entry trimmed away: nothing left to handle
            self.ack(entry_id)
            return
        try:
            env = decode(pairs)
        except InvalidEnvelope as error:
            self.dead_letter(entry_id, pairs, str(error))
            return
        if env["kind"] not in KNOWN_KINDS:
            self.ack(entry_id)    # from a newer writer: skip it
            return
        seen = f"{self.prefix}:seen:{self.app}:{text(env['id'])}"
        if self.redis.exists(seen):
            self.ack(entry_id)    # handled already (a redelivery or a duplicate XADD)
            return
        if redelivered:           # XPENDING counts deliveries, this one included
            info = self.redis.xpending_range(self.stream, self.group, entry_id, entry_id, 1)
            deliveries = info[0]["times_delivered"] if info else 0
            if deliveries > self.max_deliveries:
                self.dead_letter(entry_id, pairs, f"gave up after {deliveries - 1} deliveries")
                return
        try:
            outputs = self.handle(env)
        except Exception:
            log.exception("handler failed on %s; left pending for a retry", text(entry_id))
            return
        # Outputs first, then `seen`, then XACK: a crash in between redelivers the entry
        # (at least once), never loses it. An XADD error stops before `seen` and XACK.
        pipe = self.redis.pipeline(transaction=False)
        for stream, fields, maxlen in outputs:
            pipe.xadd(stream, fields, maxlen=maxlen, approximate=True)
        pipe.execute()
        pipe.set(seen, 1, nx=True, ex=SEEN_TTL)
        pipe.xack(self.stream, self.group, entry_id)
        pipe.execute()

    def ack(self, entry_id: bytes):
        self.redis.xack(self.stream, self.group, entry_id)

    def dead_letter(self, entry_id: bytes, pairs: list, reason: str):
        log.warning("entry %s dead-lettered: %s", text(entry_id), reason)
        fields = dict(zip(pairs[::2], pairs[1::2]))
        fields.update({b"error": reason, b"source": entry_id})
        self.redis.xadd(self.dead, fields, maxlen=TRIM["dead"], approximate=True)
        self.ack(entry_id)

    # --- outputs ------------------------------------------------------------------------

    def outbound(self, inbound: dict, kind: str, **fields) -> tuple:
        """(stream, fields, maxlen) of an outbound envelope. `app` and `ns` are the inbound
        envelope's; one connection's envelopes go to its edge's stream."""
        env = {"v": "1", "id": secrets.token_hex(16), "kind": kind}
        env.update({name: inbound[name] for name in ("app", "ns") if name in inbound})
        env.update(fields)
        env["ts"] = str(int(time.time() * 1000))
        edge, dot, local = str(fields.get("target", "")).partition(".")
        if fields.get("to") == "conn" and dot and local and EDGE_ID.fullmatch(edge):
            return f"{self.prefix}:out:edge:{edge}", env, TRIM["edge"]
        return f"{self.prefix}:out:bcast", env, TRIM["bcast"]

    # --- the app ------------------------------------------------------------------------

    def handle(self, env: dict) -> list:
        """pychat itself: the outbound envelopes for one inbound envelope."""
        if env["kind"] != b"message" or "conn" not in env:
            return []             # open, close, refresh, ack: nothing to do
        conn, event = text(env["conn"]), text(env.get("event"))
        data = None
        if env.get("dataType", b"json") == b"json" and "data" in env:
            try:
                data = json.loads(env["data"])
            except ValueError:
                pass
            if env.get("args") == b"1":        # Socket.IO: the argument list; use the first
                data = data[0] if isinstance(data, list) and data else None
        room = data.get("room") if isinstance(data, dict) else None
        said = data.get("text") if isinstance(data, dict) else None
        outputs, answer = [], {"ok": True}
        if event == "join" and isinstance(room, str) and room:
            outputs.append(self.outbound(env, "join", to="conn", target=conn, room=room))
        elif event == "say" and isinstance(room, str) and room and isinstance(said, str):
            body = json.dumps({"user": text(env.get("user")), "text": said})
            outputs.append(self.outbound(env, "emit", to="room", target=room, event="said", data=body))
        else:
            message = f"unknown event {event!r} or bad data; try join {{room}} or say {{room, text}}"
            body = json.dumps({"code": "bad_request", "message": message})
            outputs.append(self.outbound(env, "emit", to="conn", target=conn, event="error", data=body))
            answer = {"ok": False, "error": "bad_request"}
        if "ack" in env:          # after the join, so the client is in the room once answered
            outputs.append(self.outbound(env, "ack", to="conn", target=conn, ack=env["ack"],
                                         data=json.dumps(answer)))
        return outputs


def main():
    parser = argparse.ArgumentParser(description="pychat: a Portcullis handler (docs/handlers.md)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--prefix", default="portcullis", help="the edges' bus.prefix")
    parser.add_argument("--app", default="pychat", help="the socket route's app")
    parser.add_argument("--consumer", default=f"{socket.gethostname()}-{os.getpid()}",
                        help="consumer name in the group; keep it stable across restarts")
    parser.add_argument("--claim-idle", type=float, default=30.0,
                        help="seconds before a pending entry is taken over (from a dead consumer)")
    parser.add_argument("--max-deliveries", type=int, default=5,
                        help="deliveries before an entry goes to <prefix>:dead:<app>")
    args = parser.parse_args()
    if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", args.prefix):
        parser.error("--prefix: 1-64 of A-Z a-z 0-9 _ - . :")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", args.app):
        parser.error("--app: 1-64 of A-Z a-z 0-9 _ -")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s pychat %(levelname)s %(message)s")
    handler = Handler(args)
    signal.signal(signal.SIGTERM, handler.stop)
    signal.signal(signal.SIGINT, handler.stop)
    handler.run()


if __name__ == "__main__":
    main()
