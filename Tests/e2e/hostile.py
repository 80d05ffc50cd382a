"""Hostile HTTP requests and a recording backend to judge what a proxy let through.

Shared by `test_hostile.py` (which asserts Portcullis's exact answers) and
`scripts/security/hostile-compare` (which runs the same cases through nginx and HAProxy
and reports where they differ).

The setup every proxy gets: one backend behind two routes, `/public` (open) and
`/admin` (needs `Authorization: Bearer <TOKEN>`), Host `site.test`.

- `RecordingBackend` reads requests off raw sockets the way a lenient application server
  does (Transfer-Encoding wins over Content-Length, the first Content-Length counts, bare
  LF ends lines) and records each one it parsed, complete or cut short. A smuggled request
  shows up as a second record; a spoofed identity header as a header the edge should have
  removed.
- `CASES`: each is raw bytes plus what Portcullis must do: refuse with a status (the
  backend sees nothing) or forward exactly one request with the normalized target, one
  `Host`, the body as framed, and no client copy of an identity or forwarding header.
- `judge()` classifies what any proxy did with a case, so the comparison script and the
  test read outcomes the same way.
"""

from __future__ import annotations

import http.client
import posixpath
import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import unquote

HOST = "site.test"
SERVER_NAME = "edge.test"
WAIT_100 = object()  # in Case.steps: read the interim 100 Continue before going on
IDENTITY = {"x-auth-subject", "x-auth-scopes"}
FORWARDING = {"x-forwarded-for", "x-real-ip", "forwarded", "x-forwarded-host", "x-forwarded-proto"}


# --- the backend ---------------------------------------------------------------------

@dataclass
class Seen:
    """One request as the backend parsed it."""
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes
    complete: bool
    notes: list[str] = field(default_factory=list)

    def values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name]

    def folded_names(self) -> list[str]:
        return [k.lower().replace("_", "-") for k, _ in self.headers]


class RecordingBackend:
    """A keep-alive HTTP/1.1 server on 127.0.0.1 that records every request it reads."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.addr = f"127.0.0.1:{self.port}"
        self.seen: list[Seen] = []
        self._lock = threading.Condition()
        self._busy = 0
        self._conns: list[socket.socket] = []
        self._stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self._stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self._lock:
                self._conns.append(conn)
                self._busy += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _record(self, seen: Seen):
        with self._lock:
            self.seen.append(seen)
            self._lock.notify_all()

    def _recv(self, conn, buffer: bytearray) -> bool:
        """Blocks for more bytes, marked idle meanwhile; False at EOF."""
        with self._lock:
            self._busy -= 1
            self._lock.notify_all()
        try:
            data = conn.recv(65536)
        except OSError:
            data = b""
        with self._lock:
            self._busy += 1
        buffer += data
        return bool(data)

    def _serve(self, conn):
        buffer = bytearray()
        try:
            while True:
                end = self._head_end(buffer)
                while end is None:
                    if not self._recv(conn, buffer):
                        return
                    end = self._head_end(buffer)
                head, rest = bytes(buffer[:end[0]]), buffer[end[1]:]
                buffer = bytearray(rest)
                seen = self._parse_head(head)
                body, complete, buffer = self._read_body(conn, seen, buffer)
                seen.body, seen.complete = body, complete
                self._record(seen)
                if not complete:
                    return
                close = any(v.lower() == "close" for v in seen.values("connection"))
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                             + (b"Connection: close\r\n" if close else b"") + b"\r\nok")
                if close:
                    return
        finally:
            with self._lock:
                self._busy -= 1
                self._lock.notify_all()
            conn.close()

    @staticmethod
    def _head_end(buffer: bytearray):
        crlf, lf = buffer.find(b"\r\n\r\n"), buffer.find(b"\n\n")
        found = [(i, i + n) for i, n in ((crlf, 4), (lf, 2)) if i >= 0]
        return min(found) if found else None

    @staticmethod
    def _parse_head(head: bytes) -> Seen:
        lines = head.replace(b"\r\n", b"\n").split(b"\n")
        parts = lines[0].decode("latin-1").split(" ")
        method, target, version = (parts + ["", "", ""])[:3]
        headers = []
        for line in lines[1:]:
            name, _, value = line.decode("latin-1").partition(":")
            headers.append((name, value.strip()))
        return Seen(method, target, version, headers, b"", False)

    def _read_body(self, conn, seen: Seen, buffer: bytearray):
        te = ",".join(seen.values("transfer-encoding")).lower()
        lengths = seen.values("content-length")
        if te and lengths:
            seen.notes.append("both Content-Length and Transfer-Encoding")
        if len(lengths) > 1:
            seen.notes.append("several Content-Length")
        if "chunked" in te:
            body = bytearray()
            while True:
                line = self._line(conn, buffer)
                if line is None:
                    return bytes(body), False, buffer
                try:
                    size = int(line.split(b";")[0].strip() or b"x", 16)
                except ValueError:
                    seen.notes.append(f"bad chunk line {line[:40]!r}")
                    return bytes(body), False, buffer
                if size == 0:
                    while True:
                        line = self._line(conn, buffer)
                        if line is None:
                            return bytes(body), False, buffer
                        if line in (b"", b"\r"):
                            return bytes(body), True, buffer
                        seen.notes.append(f"trailer {line.decode('latin-1').strip()}")
                while len(buffer) < size + 2:
                    if not self._recv(conn, buffer):
                        return bytes(body + buffer[:size]), False, buffer
                body += buffer[:size]
                buffer = bytearray(buffer[size + 2:])
        if lengths:
            try:
                length = int(lengths[0])
            except ValueError:
                seen.notes.append(f"unreadable Content-Length {lengths[0]!r}")
                return b"", True, buffer
            while len(buffer) < length:
                if not self._recv(conn, buffer):
                    return bytes(buffer), False, bytearray()
            return bytes(buffer[:length]), True, bytearray(buffer[length:])
        return b"", True, buffer

    def _line(self, conn, buffer: bytearray) -> bytes | None:
        """The next line (without its LF) taken off `buffer`, reading as needed; None at EOF."""
        while b"\n" not in buffer:
            if not self._recv(conn, buffer):
                return None
        line, _, rest = bytes(buffer).partition(b"\n")
        buffer[:] = rest
        return line

    def settle(self, quiet: float = 0.15, timeout: float = 10.0) -> None:
        """Waits until every backend connection has been idle (blocked reading, no complete
        request buffered) for `quiet` seconds, so requests a proxy sent are recorded."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while time.monotonic() < deadline:
                if self._busy == 0:
                    count = len(self.seen)
                    self._lock.wait(quiet)
                    if self._busy == 0 and len(self.seen) == count:
                        return
                else:
                    self._lock.wait(0.05)

    def stop(self) -> None:
        self._stopping = True
        self.sock.close()
        with self._lock:
            for conn in self._conns:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


# --- the cases -----------------------------------------------------------------------

@dataclass
class Case:
    id: str
    kind: str
    steps: list
    """Bytes to send (``{TOKEN}`` is replaced by the valid token), and WAIT_100 markers."""
    status: int | None = None
    """Portcullis's answer when it refuses; None when it must forward."""
    target: str | None = None
    """The request target the backend must see (forwarded cases)."""
    host: str = HOST
    body: bytes = b""
    authorized: bool = False
    trailers: tuple[str, ...] = ()
    """Trailer fields the backend must receive (forwarded chunked cases)."""
    note: str = ""


def req(method: str, target: str, headers: list[tuple[str, str]] | None = None, body: bytes = b"",
        version: str = "HTTP/1.1", host: str | None = HOST) -> bytes:
    lines = [f"{method} {target} {version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    lines += [f"{k}: {v}" for k, v in headers or []]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def raw(text: str) -> bytes:
    return text.encode("latin-1")


SMUGGLED = b"GET /admin/secret HTTP/1.1\r\nHost: site.test\r\n\r\n"
CHUNKED_SMUGGLED = b"%x\r\n%s\r\n0\r\n\r\n" % (len(SMUGGLED), SMUGGLED)
BEARER = ("Authorization", "Bearer {TOKEN}")


def forwarded(id, kind, steps, target, body=b"", **kw):
    return Case(id, kind, steps if isinstance(steps, list) else [steps], target=target, body=body, **kw)


def refused(id, kind, steps, status, **kw):
    return Case(id, kind, steps if isinstance(steps, list) else [steps], status=status, **kw)


CASES: list[Case] = [
    # Connection nominations cannot remove framing, routing or edge-set headers.
    forwarded("connection-content-length", "framing",
              req("POST", "/public/a", [("Connection", "Content-Length"),
                                        ("Content-Length", str(len(SMUGGLED)))], SMUGGLED),
              "/public/a", SMUGGLED, note="the issue's smuggling: CL dropped, body read as a request"),
    forwarded("connection-transfer-encoding", "framing",
              req("POST", "/public/a", [("Connection", "Transfer-Encoding"),
                                        ("Transfer-Encoding", "chunked")], CHUNKED_SMUGGLED),
              "/public/a", SMUGGLED),
    forwarded("connection-host", "framing", req("GET", "/public/a", [("Connection", "Host")]), "/public/a"),
    forwarded("connection-x-forwarded-for", "identity",
              req("GET", "/public/a", [("Connection", "X-Forwarded-For, X-Real-IP")]), "/public/a"),
    forwarded("connection-x-auth-subject", "identity",
              req("GET", "/admin/a", [("Connection", "X-Auth-Subject"), BEARER]), "/admin/a", authorized=True),
    refused("te-and-cl", "framing",
            req("POST", "/public/a", [("Content-Length", "4"), ("Transfer-Encoding", "chunked")],
                CHUNKED_SMUGGLED), 400),
    refused("cl-and-te", "framing",
            req("POST", "/public/a", [("Transfer-Encoding", "chunked"), ("Content-Length", "4")],
                CHUNKED_SMUGGLED), 400),
    refused("cl-duplicate-same", "framing",
            req("POST", "/public/a", [("Content-Length", "3"), ("Content-Length", "3")], b"abc"), 400),
    refused("cl-duplicate-different", "framing",
            req("POST", "/public/a", [("Content-Length", "3"), ("Content-Length", "50")], b"abc" + SMUGGLED),
            400),
    refused("cl-list", "framing", req("POST", "/public/a", [("Content-Length", "3, 3")], b"abc"), 400),
    refused("cl-plus-sign", "framing", req("POST", "/public/a", [("Content-Length", "+3")], b"abc"), 400),
    refused("cl-negative", "framing", req("POST", "/public/a", [("Content-Length", "-1")], b"abc"), 400),
    refused("cl-inner-space", "framing", req("POST", "/public/a", [("Content-Length", "1 0")], b"abc"), 400),
    refused("cl-overflow", "framing",
            req("POST", "/public/a", [("Content-Length", "18446744073709551617")], b"abc"), 400),
    refused("cl-hex", "framing", req("POST", "/public/a", [("Content-Length", "0x3")], b"abc"), 400),
    refused("cl-empty", "framing", req("POST", "/public/a", [("Content-Length", "")], b"abc"), 400),
    refused("te-xchunked", "framing",
            req("POST", "/public/a", [("Transfer-Encoding", "xchunked")], CHUNKED_SMUGGLED), 501),
    refused("te-chunked-identity", "framing",
            req("POST", "/public/a", [("Transfer-Encoding", "chunked, identity")], CHUNKED_SMUGGLED), 501),
    refused("te-gzip-chunked", "framing",
            req("POST", "/public/a", [("Transfer-Encoding", "gzip, chunked")], CHUNKED_SMUGGLED), 501),
    refused("te-chunked-twice", "framing",
            req("POST", "/public/a", [("Transfer-Encoding", "chunked, chunked")], CHUNKED_SMUGGLED), 400),
    refused("te-two-headers", "framing",
            req("POST", "/public/a", [("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "chunked")],
                CHUNKED_SMUGGLED), 400),
    refused("te-vertical-tab", "framing",
            req("POST", "/public/a", [("Transfer-Encoding", "\x0bchunked")], CHUNKED_SMUGGLED), 400),
    refused("te-http10", "framing",
            req("POST", "/public/a", [("Transfer-Encoding", "chunked")], CHUNKED_SMUGGLED, version="HTTP/1.0"),
            400),
    refused("te-space-before-colon", "framing",
            raw("POST /public/a HTTP/1.1\r\nHost: site.test\r\nTransfer-Encoding : chunked\r\n\r\n")
            + CHUNKED_SMUGGLED, 400),
    refused("te-obs-fold", "framing",
            raw("POST /public/a HTTP/1.1\r\nHost: site.test\r\nTransfer-Encoding: x\r\n chunked\r\n\r\n")
            + CHUNKED_SMUGGLED, 400),
    forwarded("te-case-and-whitespace", "framing",
              req("POST", "/public/a", [("Transfer-Encoding", "  Chunked ")], b"3\r\nabc\r\n0\r\n\r\n"),
              "/public/a", b"abc"),
    refused("obs-fold", "syntax", raw("GET /public/a HTTP/1.1\r\nHost: site.test\r\nX-A: a\r\n\tb\r\n\r\n"), 400),
    refused("space-before-colon", "syntax", raw("GET /public/a HTTP/1.1\r\nHost : site.test\r\n\r\n"), 400),
    refused("bad-name-char", "syntax", raw("GET /public/a HTTP/1.1\r\nHost: site.test\r\nX(A): b\r\n\r\n"), 400),
    refused("empty-name", "syntax", raw("GET /public/a HTTP/1.1\r\nHost: site.test\r\n: b\r\n\r\n"), 400),
    refused("bare-cr", "syntax", raw("GET /public/a HTTP/1.1\r\nHost: site.test\r\nX-A: a\rb\r\n\r\n"), 400),
    refused("bare-lf", "syntax", raw("GET /public/a HTTP/1.1\nHost: site.test\n\n"), 400),
    refused("nul-in-value", "syntax", raw("GET /public/a HTTP/1.1\r\nHost: site.test\r\nX-A: a\x00b\r\n\r\n"), 400),
    refused("ctl-in-value", "syntax", raw("GET /public/a HTTP/1.1\r\nHost: site.test\r\nX-A: a\x01b\r\n\r\n"), 400),
    refused("double-space-request-line", "syntax", raw("GET  /public/a HTTP/1.1\r\nHost: site.test\r\n\r\n"),
            400),
    refused("space-in-target", "syntax", raw("GET /public/a b HTTP/1.1\r\nHost: site.test\r\n\r\n"), 400),
    refused("lowercase-version", "syntax", raw("GET /public/a http/1.1\r\nHost: site.test\r\n\r\n"), 400),
    refused("http-1.2", "syntax", req("GET", "/public/a", version="HTTP/1.2"), 505),
    refused("http-2.0", "syntax", req("GET", "/public/a", version="HTTP/2.0"), 505),
    forwarded("leading-empty-line", "syntax", b"\r\n" + req("GET", "/public/a"), "/public/a"),
    # Chunked bodies.
    refused("chunk-size-not-hex", "chunked",
            req("POST", "/public/a", [("Transfer-Encoding", "chunked")], b"zz\r\nabc\r\n0\r\n\r\n"), 400),
    refused("chunk-size-overflow", "chunked",
            req("POST", "/public/a", [("Transfer-Encoding", "chunked")],
                b"10000000000000003\r\nabc\r\n0\r\n\r\n"), 400),
    refused("chunk-size-negative", "chunked",
            req("POST", "/public/a", [("Transfer-Encoding", "chunked")], b"-3\r\nabc\r\n0\r\n\r\n"), 400),
    refused("chunk-missing-crlf", "chunked",
            req("POST", "/public/a", [("Transfer-Encoding", "chunked")], b"3\r\nabcX0\r\n\r\n"), 400),
    refused("chunk-lf-only", "chunked",
            req("POST", "/public/a", [("Transfer-Encoding", "chunked")], b"3\nabc\n0\n\n"), 400),
    refused("chunk-extension-too-long", "chunked",
            req("POST", "/public/a", [("Transfer-Encoding", "chunked")],
                b"3;" + b"e" * 5000 + b"\r\nabc\r\n0\r\n\r\n"), 400),
    refused("chunk-extension-control", "chunked",
            req("POST", "/public/a", [("Transfer-Encoding", "chunked")], b"3;a\x01\r\nabc\r\n0\r\n\r\n"), 400),
    refused("trailer-content-length", "chunked",
            req("POST", "/public/a", [("Transfer-Encoding", "chunked")],
                b"3\r\nabc\r\n0\r\nContent-Length: 40\r\n\r\n"), 400),
    refused("trailer-host", "chunked",
            req("POST", "/public/a", [("Transfer-Encoding", "chunked")],
                b"3\r\nabc\r\n0\r\nHost: other.test\r\n\r\n"), 400),
    refused("trailer-too-large", "chunked",
            req("POST", "/public/a", [("Transfer-Encoding", "chunked")],
                b"3\r\nabc\r\n0\r\nX-T: " + b"t" * 40000 + b"\r\n\r\n"), 400),
    refused("bad-chunk-after-head-went-upstream", "chunked",
            [req("POST", "/public/a", [("Transfer-Encoding", "chunked"), ("Expect", "100-continue")]),
             WAIT_100, b"3\r\nabc\r\nzz\r\n"], 400,
            note="refused mid-body: the upstream connection is closed, not reused"),
    forwarded("chunked-with-extension-and-trailer", "chunked",
              req("POST", "/public/a", [("Transfer-Encoding", "chunked")],
                  b"3;name=v\r\nabc\r\n2\r\nde\r\n0\r\nX-Checksum: 1\r\n\r\n"), "/public/a", b"abcde",
              trailers=("X-Checksum: 1",)),
    # Host and the request target.
    refused("host-missing", "host", req("GET", "/public/a", host=None), 400),
    refused("host-twice", "host", req("GET", "/public/a", [("Host", "other.test")]), 400),
    refused("host-userinfo", "host", req("GET", "/public/a", host="user@site.test"), 400),
    refused("host-with-path", "host", req("GET", "/public/a", host="site.test/admin"), 400),
    refused("host-bad-port", "host", req("GET", "/public/a", host="site.test:99999"), 400),
    refused("host-empty", "host", req("GET", "/public/a", host=""), 400),
    refused("host-space", "host", req("GET", "/public/a", host="site test"), 400),
    forwarded("absolute-form", "host", req("GET", "http://site.test/public/a"), "/public/a"),
    refused("absolute-form-other-host", "host", req("GET", "http://admin.test/public/a"), 400),
    refused("absolute-form-userinfo", "host", req("GET", "http://u@site.test/public/a"), 400),
    refused("absolute-form-dot-segments", "host", req("GET", "http://site.test/public/../admin/a"), 401),
    refused("absolute-form-ftp", "host", req("GET", "ftp://site.test/public/a"), 400),
    forwarded("http10-without-host", "host", req("GET", "/public/a", version="HTTP/1.0", host=None),
              "/public/a", host=SERVER_NAME),
    forwarded("http10-with-host", "host", req("GET", "/public/a", version="HTTP/1.0"), "/public/a"),
    refused("connect", "method", req("CONNECT", "site.test:443", host="site.test:443"), 405),
    refused("trace", "method", req("TRACE", "/public/a"), 405),
    refused("asterisk-for-get", "method", req("GET", "*"), 400),
    refused("authority-form-for-get", "method", req("GET", "site.test:80"), 400),
    refused("options-asterisk", "method", req("OPTIONS", "*"), 200, note="answered by the edge"),
    # Paths.
    refused("dot-dot", "path", req("GET", "/public/../admin/a"), 401),
    refused("encoded-dot-dot", "path", req("GET", "/public/%2e%2e/admin/a"), 401),
    refused("encoded-dot-dot-upper", "path", req("GET", "/public/%2E%2E/admin/a"), 401),
    refused("half-encoded-dot-dot", "path", req("GET", "/public/.%2e/admin/a"), 401),
    refused("dot-then-dot-dot", "path", req("GET", "/public/./../admin/a"), 401),
    refused("encoded-slash", "path", req("GET", "/public/..%2fadmin/a"), 400),
    refused("encoded-slash-upper", "path", req("GET", "/public/..%2Fadmin/a"), 400),
    refused("encoded-backslash", "path", req("GET", "/public/..%5cadmin/a"), 400),
    refused("raw-backslash", "path", req("GET", "/public/..\\admin/a"), 400),
    refused("dot-dot-semicolon", "path", req("GET", "/public/..;/admin/a"), 400),
    refused("admin-path-parameter", "path", req("GET", "/admin;jsessionid=1/a"), 401),
    refused("double-slash-admin", "path", req("GET", "//admin/a"), 401),
    refused("above-root", "path", req("GET", "/../admin/a"), 400),
    refused("above-root-nested", "path", req("GET", "/public/../../admin/a"), 400),
    refused("encoded-above-root", "path", req("GET", "/%2e%2e/admin/a"), 400),
    refused("encoded-nul", "path", req("GET", "/public/a%00.txt"), 400),
    refused("encoded-slash-inside-public", "path", req("GET", "/public/a%2fb"), 400),
    refused("fragment", "path", req("GET", "/public/a#x"), 400),
    refused("malformed-escape", "path", req("GET", "/public/%zz"), 400),
    refused("non-ascii-byte", "path", raw("GET /public/\xe9 HTTP/1.1\r\nHost: site.test\r\n\r\n"), 400),
    refused("angle-bracket", "path", req("GET", "/public/<a>"), 400),
    refused("case-variant-admin", "path", req("GET", "/Admin/a"), 404,
            note="routes are case-sensitive; no route matches"),
    forwarded("encoded-unreserved", "path", req("GET", "/p%75blic/%61"), "/public/a"),
    forwarded("dot-segment", "path", req("GET", "/public/./a"), "/public/a"),
    forwarded("merged-slashes", "path", req("GET", "/public//a"), "/public/a"),
    forwarded("query-untouched", "path", req("GET", "/public/a?next=/../admin&x=%2f"),
              "/public/a?next=/../admin&x=%2f"),
    forwarded("escape-upper-cased", "path", req("GET", "/public/a%3fb"), "/public/a%3Fb"),
    forwarded("admin-with-token", "path", req("GET", "/admin/a", [BEARER]), "/admin/a", authorized=True),
    # Identity and forwarding headers.
    forwarded("underscore-subject", "identity", req("GET", "/public/a", [("X_Auth_Subject", "admin")]), "/public/a"),
    forwarded("underscore-lower", "identity", req("GET", "/public/a", [("x_auth_subject", "admin")]), "/public/a"),
    forwarded("dash-subject", "identity", req("GET", "/public/a", [("X-Auth-Subject", "admin")]), "/public/a"),
    forwarded("upper-scopes", "identity", req("GET", "/public/a", [("X-AUTH-SCOPES", "admin:all")]), "/public/a"),
    forwarded("underscore-subject-on-admin", "identity",
              req("GET", "/admin/a", [("X_Auth_Subject", "root"), BEARER]), "/admin/a", authorized=True),
    forwarded("spoofed-x-forwarded-for", "forwarding",
              req("GET", "/public/a", [("X-Forwarded-For", "10.1.1.1")]), "/public/a"),
    forwarded("spoofed-x-real-ip", "forwarding", req("GET", "/public/a", [("X-Real-IP", "10.1.1.1")]), "/public/a"),
    forwarded("spoofed-forwarded", "forwarding",
              req("GET", "/public/a", [("Forwarded", "for=10.1.1.1;proto=https")]), "/public/a"),
    forwarded("underscore-x-forwarded-for", "forwarding",
              req("GET", "/public/a", [("X_Forwarded_For", "10.1.1.1")]), "/public/a"),
    forwarded("spoofed-x-forwarded-host", "forwarding",
              req("GET", "/public/a", [("X-Forwarded-Host", "admin.test")]), "/public/a"),
    forwarded("spoofed-x-forwarded-proto", "forwarding",
              req("GET", "/public/a", [("X-Forwarded-Proto", "https")]), "/public/a"),
    # Limits.
    refused("request-line-9k", "limits", req("GET", "/public/" + "a" * 9000), 414),
    refused("101-headers", "limits", req("GET", "/public/a", [(f"X-H{i}", "v") for i in range(101)]), 431),
    refused("head-40k", "limits", req("GET", "/public/a", [("X-Big", "b" * 40000)]), 431),
    refused("expect-unknown", "limits", req("GET", "/public/a", [("Expect", "202-later")]), 417),
    refused("body-over-route-limit", "limits",
            req("POST", "/public/a", [("Content-Length", str(2 << 20))]), 413),
]


# --- sending and judging ---------------------------------------------------------------

@dataclass
class Answer:
    status: int | None     # None: no HTTP response (connection closed or reset)
    closed: bool           # the proxy closed the connection after answering
    error: str = ""


def send(port: int, case: Case, token: str, timeout: float = 10.0) -> Answer:
    """Sends a case on a new connection and reads one final response."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        for step in case.steps:
            if step is WAIT_100:
                interim = sock.recv(4096)
                if not interim.startswith(b"HTTP/1.1 100"):
                    return Answer(_status(interim), True, f"expected 100 Continue, got {interim[:40]!r}")
                continue
            sock.sendall(step.replace(b"{TOKEN}", token.encode()))
        response = http.client.HTTPResponse(sock, method=case.steps[0].split(b" ", 1)[0].decode("latin-1"))
        try:
            response.begin()
            response.read()
        except (http.client.HTTPException, OSError) as exc:
            return Answer(None, True, f"{type(exc).__name__}: {exc}")
        closed = response.will_close or _peer_closed(sock)
        return Answer(response.status, closed)
    finally:
        sock.close()


def _status(data: bytes) -> int | None:
    try:
        return int(data.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def _peer_closed(sock: socket.socket) -> bool:
    sock.settimeout(0.05)
    try:
        return sock.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


def resolved_path(target: str) -> str:
    """The path as the most lenient backend would resolve it: decoded, `;` parameters and
    backslashes undone, dot segments applied."""
    path = target.split("?", 1)[0]
    if "://" in path:
        path = "/" + path.split("://", 1)[1].partition("/")[2]
    path = unquote(unquote(path)).replace("\\", "/")
    path = "/".join(segment.split(";", 1)[0] for segment in path.split("/"))
    return posixpath.normpath("/" + path.lstrip("/"))


def problems(case: Case, seen: list[Seen], edge_sets_identity: bool) -> list[str]:
    """What is unsafe about what the backend received for `case` (empty: nothing).

    Unsafe: more than one request from one client request (smuggling), `/admin` reached
    without the token, not exactly one `Host`, a client-sent identity header in any
    spelling. `edge_sets_identity`: the proxy itself states `X-Auth-Subject` on
    authorized requests (Portcullis), so one copy with the edge's value is expected.
    """
    found = []
    complete = [s for s in seen if s.complete]
    if len(complete) > 1:
        found.append(f"backend read {len(complete)} requests: " + ", ".join(f"{s.method} {s.target}"
                                                                               for s in complete))
    for s in complete:
        if resolved_path(s.target).startswith("/admin") and not case.authorized:
            found.append(f"reached {s.target} without the token")
        if len(s.values("host")) != 1:
            found.append(f"{len(s.values('host'))} Host headers")
        for name in IDENTITY:
            copies = [v for k, v in s.headers if k.lower().replace("_", "-") == name]
            allowed = 1 if (edge_sets_identity and case.authorized) else 0
            if len(copies) > allowed or any(v in ("admin", "root", "admin:all") for v in copies):
                found.append(f"client-sent {name} reached the backend: {copies}")
        found += [f"backend: {note}" for note in s.notes if "Content-Length" in note]
    return found


def outcome(case: Case, answer: Answer, seen: list[Seen], edge_sets_identity: bool) -> str:
    """One word for a comparison table: `refused 400`, `forwarded /x`, or `UNSAFE: …`."""
    bad = problems(case, seen, edge_sets_identity)
    if bad:
        return "UNSAFE: " + "; ".join(bad)
    complete = [s for s in seen if s.complete]
    if complete:
        kept = sorted({k.lower() for k, v in complete[0].headers
                       if k.lower().replace("_", "-") in FORWARDING
                       and ("10.1.1.1" in v or "admin.test" in v or v == "https")})
        return (f"forwarded {complete[0].target}"
                + (f" (answered {answer.status})" if answer.status not in (200, None) else "")
                + (f" (client's {', '.join(kept)} kept)" if kept else ""))
    if answer.status is None:
        return f"closed ({answer.error})" if answer.error else "closed"
    return f"refused {answer.status}"
