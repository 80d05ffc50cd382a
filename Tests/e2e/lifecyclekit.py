"""Helpers for test_socket_lifecycle.py: one client class per wire protocol with the same
surface (connect, a round trip through portcullis-rooms, an in-band refresh, and the
protocol's way of being told that the credentials ended), an edge with the three socket
routes (raw → `echo`, Socket.IO → `socketio-reference`, ActionCable → `cable-chat`), JWTs
and express-session cookies for them.

Every client records when it received what (wall clock, `time.time()`), so tests can
compare arrival times with a token's `exp` and with when `portcullis revoke` returned.
Failure messages quote the frames seen, so a discrepancy can be read off the report
without re-running."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
import time
import urllib.parse
from datetime import datetime, timedelta, timezone

import jwt
import requests
import socketio
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from socketkit import WAIT, Keys, socket_route

MiB = 1024 * 1024
APPS = ("echo", "socketio-reference", "cable-chat")
PROTOCOLS = ("raw", "socketio", "actioncable")
ORIGIN = "https://app.test"
REFRESH_EVENT = "verify_user"
EXPIRY_EVENT = "loggedOut"
CABLE_ROOM = "lobby"
CABLE_ID = json.dumps({"channel": "ChatChannel", "room": CABLE_ROOM}, separators=(",", ":"))

# What each protocol says when the credentials end, by the notice reason.
RAW_CLOSE_REASON = {"token_expired": "credentials expired", "token_revoked": "token_revoked",
                    "session_ended": "session_ended"}
# ActionCable's `reconnect`: an expired token may come back with a fresh one; a revoked
# token or an ended session would only be refused again.
CABLE_RECONNECT = {"token_expired": True, "token_revoked": False, "session_ended": False}


# --- credentials ----------------------------------------------------------------------------

class Credentials:
    """An HS256 key set, express-session cookie secrets, and key prefixes of the test's own
    (revocations and sessions live in the shared Redis; nothing leaks between tests)."""

    def __init__(self, directory, prefix: str):
        self.keys = Keys(directory)
        self.cookie_secret = "cookie-" + secrets.token_hex(16)
        self.cookie_secrets_path = directory / "cookie-secrets"
        self.cookie_secrets_path.write_text(self.cookie_secret + "\n")
        self.revocation_prefix = f"{prefix}:revoked:"
        self.session_prefix = f"{prefix}:sess:"

    def config(self, **extra) -> dict:
        """The edge's top-level `auth:`."""
        config = self.keys.config()
        config.update({"cookie_secrets_file": str(self.cookie_secrets_path), "session_prefix": self.session_prefix,
                       "revocation_prefix": self.revocation_prefix})
        config.update(extra)
        return config

    def token(self, sub: str, ttl: float = 300, **claims) -> str:
        return self.keys.token(sub, ttl=ttl, **claims)

    def foreign_token(self, sub: str, ttl: int = 300) -> str:
        """Well-formed, right kid, signed with another secret."""
        now = int(time.time())
        return jwt.encode({"sub": sub, "iat": now, "exp": now + ttl}, secrets.token_hex(32).encode(),
                          algorithm="HS256", headers={"kid": "k1"})

    def session(self, store, user: str) -> tuple[str, str]:
        """A connect-redis session for `user` (an hour long) and its express-signed cookie
        value: (sid, cookie)."""
        sid = secrets.token_urlsafe(24)
        expires = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        record = {"cookie": {"originalMaxAge": 3600000, "expires": expires, "httpOnly": True, "path": "/"},
                  "passport": {"user": user}}
        store.set(self.session_prefix + sid, json.dumps(record), ex=3600)
        signature = base64.b64encode(hmac.new(self.cookie_secret.encode(), sid.encode(), hashlib.sha256).digest())
        cookie = urllib.parse.quote("s:" + sid + "." + signature.decode().rstrip("="), safe="")
        return sid, cookie


# --- the edge -----------------------------------------------------------------------------

def jwt_policies() -> dict:
    """Each protocol's route auth with tokens where its clients put them: raw in the
    Authorization header, Socket.IO in the CONNECT `auth`, ActionCable in the URL."""
    return {"raw": {"key_set": "main"},
            "socketio": {"key_set": "main", "tokens": ["socketio"]},
            "actioncable": {"key_set": "main", "tokens": ["query:token"]}}


def session_policies() -> dict:
    policy = {"methods": ["session"], "origins": [ORIGIN]}
    return {name: dict(policy) for name in PROTOCOLS}


def lifecycle_routes(policies: dict | None) -> list:
    """/ws (raw json → echo), /socket.io (Socket.IO → socketio-reference, with the refresh
    and expiry events), /cable (ActionCable → cable-chat)."""
    policies = policies or {}
    return [
        socket_route("raw", "/ws", "echo", auth=policies.get("raw")),
        socket_route("sio", "/socket.io", "socketio-reference", auth=policies.get("socketio"), protocol="socketio",
                     socketio={"refresh_event": REFRESH_EVENT, "expiry_event": EXPIRY_EVENT}),
        socket_route("cable", "/cable", "cable-chat", auth=policies.get("actioncable"), protocol="actioncable"),
    ]


# --- a websockets client that timestamps what it receives -------------------------------------

class FrameClient:
    """A `websockets` sync client read on a thread; `received` holds (time, message)."""

    def __init__(self, url: str, *, headers: dict | None = None, origin: str | None = None,
                 subprotocols: list[str] | None = None):
        self.url = url
        self.ws = connect(url, proxy=None, compression=None, max_size=64 * MiB, open_timeout=WAIT,
                          close_timeout=5, ping_interval=None, additional_headers=headers, origin=origin,
                          subprotocols=subprotocols, legacy=True)
        self.received: list[tuple[float, object]] = []
        self.closed_at: float | None = None
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for message in self.ws:
                with self._cond:
                    self.received.append((time.time(), message))
                    self._cond.notify_all()
        except ConnectionClosed:
            pass
        except Exception as exc:  # noqa: BLE001 - shown in failure messages
            with self._cond:
                self.received.append((time.time(), exc))
        finally:
            with self._cond:
                self.closed_at = time.time()
                self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    def send(self, message) -> None:
        self.ws.send(json.dumps(message) if isinstance(message, (dict, list)) else message)

    def messages(self) -> list:
        with self._cond:
            return [m for _, m in self.received]

    def timed_json(self) -> list[tuple[float, dict]]:
        out = []
        with self._cond:
            items = list(self.received)
        for t, message in items:
            if isinstance(message, str):
                try:
                    value = json.loads(message)
                except ValueError:
                    continue
                if isinstance(value, dict):
                    out.append((t, value))
        return out

    def wait_for(self, predicate, timeout: float = WAIT, what: str = "condition"):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.closed and not self._thread.is_alive()):
                    value = predicate()
                    if value:
                        return value
                    raise AssertionError(f"{type(self).__name__}: timed out after {timeout:.1f}s waiting for {what}; "
                                         f"{self.describe()}")
                self._cond.wait(min(remaining, 0.2))

    def wait_closed(self, timeout: float = WAIT) -> tuple[int | None, str | None]:
        self.wait_for(lambda: self.closed, timeout, "the close")
        self._thread.join(5)
        return self.close_code, self.close_reason

    @property
    def close_code(self) -> int | None:
        rcvd = self.ws.protocol.close_rcvd
        return rcvd.code if rcvd is not None else None

    @property
    def close_reason(self) -> str | None:
        rcvd = self.ws.protocol.close_rcvd
        return rcvd.reason if rcvd is not None else None

    def describe(self, limit: int = 12) -> str:
        with self._cond:
            items = list(self.received)
            closed_at = self.closed_at
        shown = [(round(t, 3), m[:300] if isinstance(m, (str, bytes)) else repr(m)) for t, m in items[-limit:]]
        close = (f"closed at {closed_at:.3f} with {self.close_code}/{self.close_reason!r}"
                 if closed_at is not None else "still open")
        return f"{close}; received {len(items)}, last: {shown}"

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001 - teardown
            pass
        self._thread.join(5)


# --- one client per protocol ------------------------------------------------------------------

class RawClient(FrameClient):
    """The raw json-mode protocol against the echo app."""

    protocol = "raw"

    def __init__(self, edge, *, token: str | None = None, cookie: str | None = None, origin: str | None = None):
        headers = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if cookie:
            headers["Cookie"] = f"connect.sid={cookie}"
        super().__init__(edge.url("/ws"), headers=headers, origin=origin)
        self._probes = 0

    def events(self, name: str) -> list[dict]:
        return [m for _, m in self.timed_json() if m.get("event") == name]

    def roundtrip(self, timeout: float = WAIT) -> None:
        self._probes += 1
        n = self._probes
        self.send({"event": "probe", "data": {"n": n}})
        self.wait_for(lambda: any(e.get("data") == {"n": n} for e in self.events("probe")), timeout,
                      f"the echo of probe {n}")

    def refresh(self, token: str, timeout: float = WAIT) -> tuple[bool, dict]:
        """(accepted, the answer's data): `$refreshed` or the `error` event."""
        before = len(self.timed_json())
        self.send({"event": "$refresh", "data": {"token": token}})

        def answer():
            for _, m in self.timed_json()[before:]:
                if m.get("event") in ("$refreshed", "error"):
                    return m
            return None
        found = self.wait_for(answer, timeout, "the answer to $refresh")
        return found["event"] == "$refreshed", found.get("data")

    def expect_credentials_ended(self, reason: str, timeout: float = WAIT) -> float:
        """Close 4001 with the reason's wire text; returns when the close arrived."""
        code, text = self.wait_closed(timeout)
        assert (code, text) == (4001, RAW_CLOSE_REASON[reason]), \
            f"raw: expected close 4001 {RAW_CLOSE_REASON[reason]!r}; {self.describe()}"
        return self.closed_at


class CableClient(FrameClient):
    """ActionCable's actioncable-v1-json protocol, spoken as Rails' client does, subscribed to
    cable-chat's ChatChannel room `lobby`."""

    protocol = "actioncable"

    def __init__(self, edge, *, token: str | None = None, cookie: str | None = None, origin: str | None = None,
                 subscribe: bool = True):
        url = edge.url("/cable") + (f"?token={token}" if token else "")
        headers = {"Cookie": f"connect.sid={cookie}"} if cookie else None
        super().__init__(url, headers=headers, origin=origin,
                         subprotocols=["actioncable-v1-json", "actioncable-unsupported"])
        assert self.ws.subprotocol == "actioncable-v1-json", self.ws.subprotocol
        self._speaks = 0
        self.wait_frame("welcome")
        if subscribe:
            self.send({"command": "subscribe", "identifier": CABLE_ID})
            self.wait_for(lambda: any(m.get("type") == "confirm_subscription" and m.get("identifier") == CABLE_ID
                                      for m in self.frames()), WAIT, "confirm_subscription")

    def frames(self) -> list[dict]:
        """Every JSON frame but the pings."""
        return [m for _, m in self.timed_json() if m.get("type") != "ping"]

    def wait_frame(self, kind: str, start: int = 0, timeout: float = WAIT) -> dict:
        return self.wait_for(lambda: next((m for m in self.frames()[start:] if m.get("type") == kind), None),
                             timeout, f"a {kind!r} frame")

    def roundtrip(self, timeout: float = WAIT) -> None:
        """`speak` in the room; cable-chat broadcasts it to every subscriber, the speaker too."""
        self._speaks += 1
        body = f"probe {self._speaks}"
        self.send({"command": "message", "identifier": CABLE_ID,
                   "data": json.dumps({"action": "speak", "body": body})})
        self.wait_for(lambda: any(m.get("identifier") == CABLE_ID and isinstance(m.get("message"), dict)
                                  and m["message"].get("body") == body for m in self.frames()),
                      timeout, f"the broadcast of {body!r}")

    def refresh(self, token: str, timeout: float = WAIT) -> tuple[bool, dict]:
        """(accepted, the answer frame): `refreshed` or `refresh_rejected`."""
        before = len(self.frames())
        self.send({"command": "refresh", "token": token})
        found = self.wait_for(
            lambda: next((m for m in self.frames()[before:] if m.get("type") in ("refreshed", "refresh_rejected")),
                         None), timeout, "the answer to the refresh command")
        return found["type"] == "refreshed", found

    def expect_credentials_ended(self, reason: str, timeout: float = WAIT) -> float:
        """`{"type":"disconnect","reason":R,"reconnect":…}` as the last frame, then close
        4001; returns when the disconnect frame arrived."""
        self.wait_closed(timeout)
        expected = {"type": "disconnect", "reason": reason, "reconnect": CABLE_RECONNECT[reason]}
        timed = [(t, m) for t, m in self.timed_json() if m.get("type") != "ping"]
        assert timed and timed[-1][1] == expected, f"actioncable: expected {expected} last; {self.describe()}"
        assert self.close_code == 4001, f"actioncable: expected close 4001; {self.describe()}"
        return timed[-1][0]


class PacketLog(logging.Handler):
    """What python-engineio logs about the packets it receives and its connection attempts:
    the wire as the client saw it, with times."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.lines: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock:
            self.lines.append((record.created, record.getMessage()))

    def snapshot(self) -> list[tuple[float, str]]:
        with self._lock:
            return list(self.lines)

    def received(self) -> list[tuple[float, str]]:
        """(time, Engine.IO packet) for each packet received: `4` + the Socket.IO packet for
        messages (`42["loggedOut",…]`, `41`), else the packet name."""
        out = []
        names = {"OPEN": "0", "CLOSE": "1", "PING": "2", "PONG": "3", "MESSAGE": "4", "UPGRADE": "5", "NOOP": "6"}
        for t, line in self.snapshot():
            if line.startswith("Received packet "):
                name, _, data = line[len("Received packet "):].partition(" data ")
                out.append((t, names.get(name, name) + (data if name == "MESSAGE" else "")))
        return out

    def attempts(self) -> list[tuple[float, str]]:
        return [(t, line) for t, line in self.snapshot() if line.startswith("Attempting ")]


class SioClient:
    """python-socketio's sync client on the /socket.io route (socketio-reference app), with
    its events, disconnect reasons and received packets recorded."""

    protocol = "socketio"

    def __init__(self, *, reconnection: bool = False, suppress_origin: bool = False):
        self.log = PacketLog()
        logger = logging.getLogger("lifecycle.engineio." + os.urandom(4).hex())
        logger.propagate = False
        logger.setLevel(logging.INFO)
        logger.addHandler(self.log)
        self.http = requests.Session()
        self.http.trust_env = False
        # A reconnection, when enabled, is tried 0.2 s after a drop, every 0.2 s.
        self.sio = socketio.Client(reconnection=reconnection, reconnection_delay=0.2, reconnection_delay_max=0.2,
                                   randomization_factor=0, http_session=self.http, engineio_logger=logger,
                                   websocket_extra_options={"suppress_origin": True} if suppress_origin else None)
        self.events: list[tuple[float, str, tuple]] = []
        self._cond = threading.Condition()
        self.sio.on("connect", lambda: self._record("connect", ()))
        self.sio.on("disconnect", lambda reason=None: self._record("disconnect", (reason,)))
        self.sio.on("connect_error", lambda *args: self._record("connect_error", args))
        self.sio.on("*", lambda event, *args: self._record(event, args))

    def _record(self, name: str, args: tuple) -> None:
        with self._cond:
            self.events.append((time.time(), name, args))
            self._cond.notify_all()

    def connect(self, edge, transports=None, *, token: str | None = None, auth: dict | None = None,
                headers: dict | None = None) -> None:
        if token is not None:
            auth = {"token": token}
        self.sio.connect(f"http://127.0.0.1:{edge.port}", transports=transports, auth=auth, headers=headers or {},
                         wait_timeout=WAIT)

    def named(self, name: str) -> list[tuple[float, tuple]]:
        with self._cond:
            return [(t, args) for t, n, args in self.events if n == name]

    def wait_for(self, predicate, timeout: float = WAIT, what: str = "condition"):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"socketio: timed out after {timeout:.1f}s waiting for {what}; "
                                         f"{self.describe()}")
                self._cond.wait(min(remaining, 0.2))

    def wait_event(self, name: str, count: int = 1, timeout: float = WAIT) -> list[tuple[float, tuple]]:
        return self.wait_for(lambda: len(self.named(name)) >= count and self.named(name), timeout,
                             f"{count} × {name!r}")

    def wait_upgraded(self, transports) -> None:
        """With the default transports the client starts on long-polling and upgrades in the
        background; wait until it runs on the WebSocket."""
        if transports == ["polling"]:
            assert self.sio.transport() == "polling"
            return
        deadline = time.monotonic() + WAIT
        while self.sio.transport() != "websocket":
            assert time.monotonic() < deadline, f"still on {self.sio.transport()} after {WAIT:.0f}s"
            time.sleep(0.05)

    def roundtrip(self, timeout: float = WAIT) -> None:
        probe = {"probe": secrets.token_hex(4)}
        answer = self.sio.call("message-with-ack", probe, timeout=timeout)
        assert answer == probe, f"socketio: ack {answer!r} for {probe!r}; {self.describe()}"

    def refresh(self, token: str, timeout: float = WAIT) -> tuple[bool, dict]:
        """The refresh event with `{"token": T}` and an ack callback: (status, the ack's object)."""
        answered = threading.Event()
        answers: list = []

        def callback(*args):
            answers.append(args)
            answered.set()
        self.sio.emit(REFRESH_EVENT, {"token": token, "reason": "test"}, callback=callback)
        assert answered.wait(timeout), f"socketio: no ack to {REFRESH_EVENT!r} within {timeout:.0f}s; {self.describe()}"
        assert len(answers[0]) == 1 and isinstance(answers[0][0], dict), f"socketio: ack arguments {answers[0]!r}"
        return answers[0][0].get("status") is True, answers[0][0]

    def expect_credentials_ended(self, reason: str, timeout: float = WAIT) -> float:
        """`42["loggedOut",{"reason":R}]`, then the DISCONNECT `41` on the wire; the client
        reports `loggedOut` and a server disconnect. Returns when `loggedOut` was received."""
        self.wait_event("disconnect", timeout=timeout)
        self.wait_event(EXPIRY_EVENT, timeout=2)
        notice = f'42["{EXPIRY_EVENT}",{{"reason":"{reason}"}}]'
        wire = [p for _, p in self.log.received() if p not in ("2", "6")]
        assert notice in wire and "41" in wire and wire.index(notice) < wire.index("41"), \
            f"socketio: expected {notice} then 41 on the wire; {self.describe()}"
        assert self.named(EXPIRY_EVENT)[0][1] == ({"reason": reason},)
        assert self.named("disconnect")[0][1] == (self.sio.reason.SERVER_DISCONNECT,), self.describe()
        return next(t for t, p in self.log.received() if p == notice)

    def expect_no_reconnect(self, window: float = 1.5) -> None:
        """After a server DISCONNECT python-socketio must not come back (its reconnection,
        when enabled, would try within 0.2 s): no connection attempt in `window` seconds
        after the disconnect."""
        disconnected = self.named("disconnect")[0][0]
        time.sleep(max(0.0, disconnected + window - time.time()))
        later = [a for a in self.log.attempts() if a[0] > disconnected]
        assert later == [] and len(self.named("connect")) == 1, \
            f"socketio: reconnection attempts after the server disconnect: {later}; {self.describe()}"

    def describe(self) -> str:
        with self._cond:
            events = [(round(t, 3), n, a) for t, n, a in self.events[-12:]]
        wire = [(round(t, 3), p[:200]) for t, p in self.log.received() if p not in ("2",)][-12:]
        return f"connected={self.sio.connected} transport={self._transport()}; events {events}; wire (no pings) {wire}"

    @property
    def closed(self) -> bool:
        """Disconnected, or told so (the disconnect handler ran)."""
        return not self.sio.connected or bool(self.named("disconnect"))

    def _transport(self):
        try:
            return self.sio.transport()
        except Exception:  # noqa: BLE001
            return None

    def close(self) -> None:
        try:
            self.sio.disconnect()
        except Exception:  # noqa: BLE001 - teardown
            pass
        try:
            self.sio.shutdown()
        except Exception:  # noqa: BLE001
            pass
        self.http.close()
