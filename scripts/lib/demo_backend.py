#!/usr/bin/env python3
"""A tiny demo backend for `scripts/run`: answers every request with a JSON echo.

The echo names the method, the path (with query), the size of the request body, and the
X-Forwarded-* and X-Request-Id headers it received, so a person trying Portcullis can see
what the edge adds on the way. Standard library only.

    python3 scripts/lib/demo_backend.py --host 127.0.0.1 --port 9001
"""

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "portcullis-demo-backend"
    # Head and body are separate writes: without this, Nagle holds the body for the
    # proxy's delayed ACK and every keep-alive request seems 40 ms slower.
    disable_nagle_algorithm = True

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size_line = self.rfile.readline(1024)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline(8)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _answer(self) -> None:
        body = self._read_body()
        forwarded = {
            name: value
            for name, value in self.headers.items()
            if name.lower().startswith("x-forwarded-") or name.lower() == "x-request-id"
        }
        echo = {
            "backend": "demo",
            "method": self.command,
            "path": self.path,
            "host": self.headers.get("Host"),
            "headers": forwarded,
            "body_bytes": len(body),
        }
        if body:
            echo["body"] = body[:1024].decode("utf-8", "replace")
        payload = (json.dumps(echo, indent=2) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _answer

    def log_message(self, fmt: str, *args) -> None:
        sys.stderr.write("demo-backend: %s %s\n" % (self.address_string(), fmt % args))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9001)
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), EchoHandler)
    server.daemon_threads = True
    print(f"demo backend listening on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
