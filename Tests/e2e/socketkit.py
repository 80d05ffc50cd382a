"""Helpers for the socket-route tests (test_sockets*.py): an edge with socket routes on the
bus, a `websockets` client that collects what it receives on a thread, a raw WebSocket
client for byte-exact frames, and the Redis side of the bus (docs/bus.md)."""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import struct
import threading
import time
from dataclasses import dataclass

import jwt
import redis
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from conftest import edge_id, hs256_secret

MiB = 1024 * 1024
WAIT = 10.0  # default bound for anything that crosses the bus


# --- edge ---------------------------------------------------------------------------------

def socket_route(name: str, path: str, app: str = "echo", *, auth: dict | None = None, **socket) -> dict:
    """`socket_route("ws", "/ws", mode="opaque", rate_limit="off")`."""
    entry = {"name": name, "match": {"path": path}, "socket": {"app": app, **socket}}
    if auth is not None:
        entry["auth"] = auth
    return entry


@dataclass
class SocketEdge:
    pc: object  # conftest.Portcullis
    id: str
    prefix: str

    @property
    def port(self) -> int:
        return self.pc.port

    def url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.pc.port}{path}"


def start_edge(portcullis, redis_url: str, prefix: str, routes: list, *, bus: dict | None = None,
               auth: dict | None = None, edge: dict | None = None, redis: dict | None = None,
               **options) -> SocketEdge:
    """An edge with socket `routes` on `redis_url` under bus prefix `prefix`, with a unique
    edge id; `redis` adds keys beside the URL (`username`, `password_file`, `tls`);
    `options` go to the `portcullis` factory (`admin=`, `admin_host=`)."""
    ident = edge_id()
    extra = {"redis": {"url": redis_url, **(redis or {})}, "bus": {"prefix": prefix, **(bus or {})}}
    if auth is not None:
        extra["auth"] = auth
    settings = {"id": ident, "watch_interval": "0s"}
    settings.update(edge or {})
    pc = portcullis(upstreams={}, routes=routes, extra=extra, edge=settings, **options)
    return SocketEdge(pc, ident, prefix)


class Keys:
    """An HS256 key set for socket routes' `auth`, and tokens signed with it."""

    def __init__(self, directory):
        self.secret = hs256_secret()
        self.path = directory / "socket-hs.key"
        self.path.write_bytes(self.secret)

    def config(self) -> dict:
        return {"key_sets": {"main": [{"secret_file": str(self.path), "alg": "HS256", "kid": "k1",
                                       "default": True}]}}

    def token(self, sub: str, ttl: int = 300, **claims) -> str:
        now = int(time.time())
        body = {"sub": sub, "iat": now, "exp": now + ttl, **claims}
        return jwt.encode(body, self.secret, algorithm="HS256", headers={"kid": "k1"})

    @staticmethod
    def bearer(token: str) -> dict:
        return {"Authorization": f"Bearer {token}"}


# --- a websockets client that reads on a thread ---------------------------------------------

class WSClient:
    """A `websockets` sync client whose received messages pile up in `messages` (read by a
    background thread), so a test can send, wait for conditions and look at the close."""

    def __init__(self, url: str, *, headers: dict | None = None, origin: str | None = None,
                 max_size: int | None = 64 * MiB, open_timeout: float = 10):
        self.ws = connect(url, proxy=None, compression=None, max_size=max_size, open_timeout=open_timeout,
                          close_timeout=5, ping_interval=None, additional_headers=headers,
                          origin=origin, legacy=True)
        self.messages: list = []
        self._cond = threading.Condition()
        self.closed = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for message in self.ws:
                with self._cond:
                    self.messages.append(message)
                    self._cond.notify_all()
        except ConnectionClosed:
            pass
        except Exception as exc:  # noqa: BLE001 - recorded for the assertion message
            with self._cond:
                self.messages.append(exc)
        finally:
            self.closed.set()
            with self._cond:
                self._cond.notify_all()

    # sending

    def send(self, message) -> None:
        if isinstance(message, (dict, list)):
            message = json.dumps(message)
        self.ws.send(message)

    def emit(self, event: str, data=None, ack: int | None = None) -> None:
        body = {"event": event, "data": data}
        if ack is not None:
            body["ack"] = ack
        self.send(body)

    def ping(self, timeout: float = 5.0) -> bool:
        return self.ws.ping().wait(timeout)

    # receiving

    def snapshot(self) -> list:
        with self._cond:
            return list(self.messages)

    def events(self, name: str | None = None) -> list[dict]:
        """JSON text messages (json-mode events), optionally only those named `name`."""
        out = []
        for message in self.snapshot():
            if isinstance(message, str):
                try:
                    value = json.loads(message)
                except ValueError:
                    continue
                if isinstance(value, dict) and (name is None or value.get("event") == name):
                    out.append(value)
        return out

    def wait_for(self, predicate, timeout: float = WAIT, what: str = "condition"):
        """Waits until `predicate(self)` is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate(self)
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self.closed.is_set() and not self._thread.is_alive()):
                    value = predicate(self)
                    if value:
                        return value
                    raise AssertionError(
                        f"timed out after {timeout:.1f}s waiting for {what}; closed={self.closed.is_set()} "
                        f"close={self.close_code}/{self.close_reason!r}; received {len(self.messages)}: "
                        f"{_short(self.messages)}")
                self._cond.wait(min(remaining, 0.2))

    def wait_event(self, name: str, predicate=lambda e: True, timeout: float = WAIT) -> dict:
        return self.wait_for(lambda c: next((e for e in c.events(name) if predicate(e)), None), timeout,
                             f"event {name!r}")

    def wait_closed(self, timeout: float = WAIT) -> tuple[int | None, str | None]:
        if not self.closed.wait(timeout):
            raise AssertionError(f"socket still open after {timeout:.1f}s; received {_short(self.snapshot())}")
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

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001 - teardown
            pass
        self._thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _short(messages: list, limit: int = 8) -> str:
    shown = [m[:120] if isinstance(m, (str, bytes)) else m for m in messages[-limit:]]
    return repr(shown)


# --- raw WebSocket frames -------------------------------------------------------------------

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def raw_connect(port: int, path: str, *, headers: dict | None = None, rcvbuf: int | None = None,
                timeout: float = 10.0) -> socket.socket:
    """A TCP connection that completed the WebSocket handshake; nothing after the 101's
    head has been read."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(timeout)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        byte = sock.recv(1)
        if not byte:
            raise ConnectionError(f"closed during the handshake: {head!r}")
        head += byte
    status = head.split(b"\r\n", 1)[0]
    if b" 101 " not in status + b" ":
        sock.close()
        raise ConnectionError(f"handshake refused: {status!r}")
    return sock


def frame(opcode: int, payload: bytes, *, fin: bool = True, mask: bool = True) -> bytes:
    """One client frame (masked unless told otherwise)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    mask_bit = 0x80 if mask else 0
    n = len(payload)
    if n < 126:
        head += bytes([mask_bit | n])
    elif n < 65536:
        head += bytes([mask_bit | 126]) + struct.pack("!H", n)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError(f"connection closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def read_frame(sock: socket.socket) -> tuple[int, bytes]:
    """One server frame: (opcode, payload). Server frames are never masked."""
    b0, b1 = _recv_exact(sock, 2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", _recv_exact(sock, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", _recv_exact(sock, 8))[0]
    assert not b1 & 0x80, "server frame is masked"
    return b0 & 0x0F, _recv_exact(sock, n)


def read_close(sock: socket.socket, timeout: float = WAIT) -> tuple[int, str]:
    """Reads frames until the server's close frame; returns its code and reason."""
    sock.settimeout(timeout)
    while True:
        opcode, payload = read_frame(sock)
        if opcode == OP_CLOSE:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            return code, payload[2:].decode("utf-8", "replace")


# --- the bus, from Redis ----------------------------------------------------------------------

def envelopes(r: redis.Redis, stream: str) -> list[dict]:
    """Every entry of `stream` as {field: str} (values decoded as UTF-8, bad bytes replaced;
    the raw `data` bytes are under `_data`), with the entry id under `_id`."""
    out = []
    for entry_id, fields in r.xrange(stream):
        item = {k.decode(): v.decode("utf-8", "replace") for k, v in fields.items()}
        item["_id"] = entry_id.decode()
        if b"data" in fields:
            item["_data"] = fields[b"data"]
        out.append(item)
    return out


def wait_envelopes(r: redis.Redis, stream: str, predicate, timeout: float = WAIT, what: str = "envelopes"):
    """Polls `stream` until `predicate(envelopes)` is truthy; returns its value."""
    deadline = time.monotonic() + timeout
    while True:
        found = envelopes(r, stream)
        value = predicate(found)
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {what} in {stream}; it holds "
                                 f"{[(e.get('kind'), e.get('conn'), e.get('reason')) for e in found][-20:]}")
        time.sleep(0.05)


def publish(r: redis.Redis, stream: str, **fields) -> str:
    """XADD an outbound envelope as docs/bus.md shows (`v 1 id <hex> kind … `)."""
    entry = {"v": "1", "id": secrets.token_hex(16)}
    entry.update({k: v for k, v in fields.items() if v is not None})
    return r.xadd(stream, entry, maxlen=100_000, approximate=True).decode()
