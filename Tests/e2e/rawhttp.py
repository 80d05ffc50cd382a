"""A minimal HTTP/1.1 client over a raw socket, for the tests that need exact control of
the bytes on the wire (garbage, pipelining, Expect: 100-continue, early 413)."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field


@dataclass
class RawResponse:
    status: int
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


class RawConnection:
    """One TCP connection; `send` writes bytes, `read_response` parses one response."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.file = self.sock.makefile("rb")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def settimeout(self, seconds: float) -> None:
        self.sock.settimeout(seconds)

    def read_response(self, method: str = "GET") -> RawResponse:
        """Reads one response (an interim 1xx response counts as one)."""
        line = self.file.readline(65537)
        if not line:
            raise ConnectionError("connection closed before a response")
        parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise ValueError(f"bad status line {line!r}")
        status = int(parts[1])
        response = RawResponse(status, parts[2] if len(parts) > 2 else "")
        while True:
            line = self.file.readline(65537)
            if line in (b"\r\n", b"\n"):
                break
            if not line:
                raise ConnectionError("connection closed inside response headers")
            name, _, value = line.decode("latin-1").partition(":")
            response.headers.append((name.strip(), value.strip()))
        if status < 200 or status in (204, 304) or method == "HEAD":
            return response
        if "chunked" in (response.header("Transfer-Encoding") or "").lower():
            body = bytearray()
            while True:
                size = int(self.file.readline(4096).split(b";")[0].strip(), 16)
                if size == 0:
                    while self.file.readline(8192) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                body += self._read_exact(size)
                self.file.readline(8)
            response.body = bytes(body)
        elif response.header("Content-Length") is not None:
            response.body = self._read_exact(int(response.header("Content-Length")))
        else:
            response.body = self.file.read()  # close-delimited
        return response

    def _read_exact(self, n: int) -> bytes:
        data = self.file.read(n)
        if len(data) != n:
            raise ConnectionError(f"connection closed with {n - len(data)} body bytes missing")
        return data

    def close(self) -> None:
        try:
            self.file.close()
        finally:
            self.sock.close()

    def __enter__(self) -> "RawConnection":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def request_bytes(method: str, path: str, host: str = "e2e.test",
                  headers: list[tuple[str, str]] | None = None, body: bytes | None = None) -> bytes:
    """An HTTP/1.1 request as bytes; Content-Length is added when `body` is given."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    for name, value in headers or []:
        lines.append(f"{name}: {value}")
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def upgrade_with_first_frame(port: int, path: str, payload: bytes) -> bytes:
    """Writes a WebSocket upgrade request and a masked text frame of `payload` in one
    `sendall`, as a client that does not wait for the 101 may; returns what came back
    up to and including the payload's echo."""
    import base64
    import os

    key = base64.b64encode(os.urandom(16)).decode()
    upgrade = (f"GET {path} HTTP/1.1\r\nHost: site.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
    mask = os.urandom(4)
    frame = bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(upgrade + frame)
        received = b""
        while payload not in received:
            chunk = sock.recv(65536)
            assert chunk, f"closed after {received!r}"
            received += chunk
    return received
