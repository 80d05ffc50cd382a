"""Upstream servers the end-to-end tests put behind Portcullis.

All of them listen on 127.0.0.1 port 0 in threads of the test process, so a test can
look at what arrived (requests, headers, body sizes and checksums, accepted TCP
connections) and control what goes back (delays, chunked bodies, resets).

- `HTTPUpstream`: a threading HTTP/1.1 server with keep-alive; behaviour is a function
  `app(req)` that gets the `UpstreamRequest` handler. `echo_app` answers with JSON.
- `RawUpstream`: a TCP server that hands each accepted socket to a function, for
  misbehaving upstreams (reset before responding).
- `WebSocketEchoUpstream`: the `websockets` library's server, echoing every message.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator

READ_SIZE = 256 * 1024


class BodyError(Exception):
    """The request body ended early or was badly framed."""


class UpstreamRequest(BaseHTTPRequestHandler):
    """One request as the upstream sees it. `app` functions call the helpers below."""

    protocol_version = "HTTP/1.1"
    server_version = "e2e-upstream"
    # Head and body go out in separate writes; like real servers, don't let Nagle hold
    # the body back for a delayed ACK.
    disable_nagle_algorithm = True

    # --- reading -----------------------------------------------------------------

    def body_chunks(self) -> Iterator[bytes]:
        """The request body as it arrives, de-chunked when Transfer-Encoding is chunked."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            while True:
                line = self.rfile.readline(4096)
                if not line:
                    raise BodyError("connection closed inside a chunked body")
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise BodyError(f"bad chunk size line {line!r}") from None
                if size == 0:
                    while True:
                        trailer = self.rfile.readline(8192)
                        if trailer in (b"\r\n", b"\n"):
                            return
                        if not trailer:
                            raise BodyError("connection closed in trailers")
                remaining = size
                while remaining:
                    data = self.rfile.read1(min(remaining, READ_SIZE))
                    if not data:
                        raise BodyError("connection closed inside a chunk")
                    remaining -= len(data)
                    yield data
                if self.rfile.readline(8) not in (b"\r\n", b"\n"):
                    raise BodyError("chunk not followed by CRLF")
        else:
            remaining = int(self.headers.get("Content-Length") or 0)
            while remaining:
                data = self.rfile.read1(min(remaining, READ_SIZE))
                if not data:
                    raise BodyError(f"connection closed with {remaining} body bytes missing")
                remaining -= len(data)
                yield data

    def read_body(self) -> bytes:
        return b"".join(self.body_chunks())

    def header_pairs(self) -> list[tuple[str, str]]:
        return [(k, v) for k, v in self.headers.items()]

    # --- writing -----------------------------------------------------------------

    def send_bytes(self, status: int, body: bytes, headers: dict[str, str] | None = None,
                   content_type: str = "application/octet-stream") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def send_json(self, obj, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.send_bytes(status, json.dumps(obj).encode(), headers, "application/json")

    def send_chunked(self, chunks, status: int = 200, headers: dict[str, str] | None = None,
                     between: Callable[[int], None] | None = None) -> None:
        """A chunked response; `between(i)` runs after chunk i was flushed."""
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        for i, chunk in enumerate(chunks):
            if chunk:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            if between:
                between(i)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # --- plumbing ------------------------------------------------------------------

    def _dispatch(self) -> None:
        server: HTTPUpstream = self.server  # type: ignore[assignment]
        try:
            server.app(self)
        except (BodyError, ConnectionError, BrokenPipeError, TimeoutError, OSError) as exc:
            server.errors.append(f"{self.command} {self.path}: {exc!r}")
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    def log_message(self, fmt, *args) -> None:  # keep pytest output clean
        pass


def echo_app(req: UpstreamRequest) -> None:
    """Reads the whole body and answers with what arrived, as JSON:
    server, method, path, headers (list of pairs), body_len, body_crc32."""
    length = 0
    crc = 0
    for chunk in req.body_chunks():
        length += len(chunk)
        crc = zlib.crc32(chunk, crc)
    record = {
        "server": req.server.name,  # type: ignore[attr-defined]
        "method": req.command,
        "path": req.path,
        "headers": req.header_pairs(),
        "body_len": length,
        "body_crc32": crc,
    }
    req.server.record(record)  # type: ignore[attr-defined]
    req.send_json(record)


class HTTPUpstream(ThreadingHTTPServer):
    """Threading HTTP/1.1 upstream on 127.0.0.1 that counts accepted TCP connections."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, app: Callable[[UpstreamRequest], None] = echo_app, name: str = "up",
                 port: int = 0):
        self.app = app
        self.name = name
        self.requests: list[dict] = []
        self.errors: list[str] = []
        self._connections = 0
        self._lock = threading.Lock()
        super().__init__(("127.0.0.1", port), UpstreamRequest)
        self.port = self.server_address[1]
        self.addr = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"upstream-{name}", daemon=True)
        self._thread.start()

    def process_request(self, request, client_address):
        with self._lock:
            self._connections += 1
        super().process_request(request, client_address)

    @property
    def connections(self) -> int:
        with self._lock:
            return self._connections

    def record(self, entry: dict) -> None:
        with self._lock:
            self.requests.append(entry)

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class RawUpstream:
    """Accepts TCP connections and hands each socket to `handler(sock)` in a thread."""

    def __init__(self, handler: Callable[[socket.socket], None], name: str = "raw"):
        self.handler = handler
        self.name = name
        self.connections = 0
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self.addr = f"127.0.0.1:{self.port}"
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, name=f"raw-{name}", daemon=True)
        self._thread.start()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except (socket.timeout, OSError):
                continue
            self.connections += 1
            conn.settimeout(10)
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        try:
            self.handler(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=2)
        self._sock.close()


def read_request_head(sock: socket.socket) -> bytes:
    """Reads from `sock` up to and including the blank line that ends a request head."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def reset(sock: socket.socket) -> None:
    """Closes `sock` with an RST instead of a FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class WebSocketEchoUpstream:
    """The `websockets` library's threaded server, echoing every message back as-is."""

    def __init__(self):
        from websockets.sync.server import serve

        self.paths: list[str] = []
        self.request_headers: list[dict] = []

        def record(connection, request):
            # Recorded before the 101 goes out: the handler runs only after the client already
            # holds its socket, so a test reading these right after connecting would race it.
            self.paths.append(request.path)
            self.request_headers.append(dict(request.headers.raw_items()))

        def handler(ws):
            for message in ws:
                ws.send(message)

        self._server = serve(handler, "127.0.0.1", 0, max_size=None, process_request=record)
        self.port = self._server.socket.getsockname()[1]
        self.addr = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="ws-echo",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
