#!/usr/bin/env python3
"""A tiny demo backend for `scripts/run`: a browser chat demo under /demo/, and a JSON echo
for every other request.

The echo names the method, the path (with query), the size of the request body, and the
X-Forwarded-* and X-Request-Id headers it received, so a person trying Portcullis can see
what the edge adds on the way.

Under /demo/ it plays the product's web backend (docs/apps.md, "The browser demo"):

- GET  /demo/          the page (scripts/lib/demo/: HTML and JS, no build step)
- POST /demo/login     {"user", "role"}: stores an express-session-style session in Redis
                       (connect-redis JSON under <session prefix><sid>, the user at
                       user.username), sets the signed `connect.sid` cookie, and answers
                       {"user", "role", "token"} with an HS256 JWT for the chat socket
- POST /demo/logout    deletes the session of the request's cookie: the edge then tells the
                       page's /chat socket `loggedOut` and disconnects it

Standard library only.

    python3 scripts/lib/demo_backend.py --host 127.0.0.1 --port 9001 \\
        --redis-url redis://127.0.0.1:6379/0 --products-key .dev/keys/products.key \\
        --cookie-secrets .dev/keys/cookie-secrets
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import socket
import sys
import time
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "demo"
STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".css": "text/css; charset=utf-8"}
# The chat's user ids become room ids `<buyer>.<seller>` (docs/apps/marketplace-chat.md).
USER_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ROLES = ("BUYER", "SELLER")
SESSION_TTL = timedelta(days=1)
TOKEN_TTL = timedelta(hours=12)


def key_from_file(path: str) -> bytes:
    """An HMAC key file's bytes as the edge reads them: one trailing newline trimmed."""
    raw = Path(path).read_bytes()
    for ending in (b"\r\n", b"\n"):
        if raw.endswith(ending):
            return raw[:-len(ending)]
    return raw


def first_secret(path: str) -> bytes:
    """The first line of a cookie secrets file: the secret that signs."""
    return Path(path).read_bytes().split(b"\n", 1)[0].rstrip(b"\r")


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def mint_hs256(key: bytes, kid: str, subject: str, ttl: timedelta) -> str:
    """A JWT as `portcullis token mint --alg HS256 --kid KID --sub S --ttl T` makes it."""
    now = int(time.time())
    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    claims = {"sub": subject, "iat": now, "exp": now + int(ttl.total_seconds())}
    signing_input = b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + \
        b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(signature)


def sign_cookie(sid: str, secret: bytes) -> str:
    """express-session's cookie value: `s:<sid>.<HMAC-SHA256 base64 without '='>`, URL-encoded
    (cookie-signature, then the cookie module's encodeURIComponent)."""
    mac = base64.b64encode(hmac.new(secret, sid.encode(), hashlib.sha256).digest()).decode().rstrip("=")
    return urllib.parse.quote("s:" + sid + "." + mac, safe="")


def unsign_cookie(value: str, secret: bytes) -> str | None:
    raw = urllib.parse.unquote(value)
    if not raw.startswith("s:") or "." not in raw:
        return None
    sid = raw[2:].rsplit(".", 1)[0]
    return sid if hmac.compare_digest(sign_cookie(sid, secret), urllib.parse.quote(raw, safe="")) else None


class Redis:
    """Just enough RESP for SET and DEL: one short connection per command (the demo's
    traffic is a login now and then)."""

    def __init__(self, url: str):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "redis":
            raise ValueError(f"only redis:// URLs are supported, not {url!r}")
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 6379
        self.password = urllib.parse.unquote(parts.password) if parts.password else None
        self.username = urllib.parse.unquote(parts.username) if parts.username else None
        self.db = int(parts.path.strip("/") or 0)

    @staticmethod
    def _encode(*args: str | bytes) -> bytes:
        out = [b"*%d\r\n" % len(args)]
        for arg in args:
            data = arg.encode() if isinstance(arg, str) else arg
            out.append(b"$%d\r\n%s\r\n" % (len(data), data))
        return b"".join(out)

    def command(self, *args: str | bytes) -> bytes:
        """Runs one command and returns its reply line (an error reply raises)."""
        setup = []
        if self.password is not None:
            setup.append(("AUTH", self.username, self.password) if self.username else ("AUTH", self.password))
        if self.db:
            setup.append(("SELECT", str(self.db)))
        with socket.create_connection((self.host, self.port), timeout=5) as conn:
            conn.sendall(b"".join(self._encode(*c) for c in setup) + self._encode(*args))
            reader = conn.makefile("rb")
            replies = [reader.readline() for _ in range(len(setup) + 1)]
        for reply in replies:
            if reply.startswith(b"-") or not reply:
                raise RuntimeError(f"redis: {reply.decode(errors='replace').strip() or 'no reply'}")
        return replies[-1].rstrip(b"\r\n")


@dataclass
class DemoSettings:
    redis: Redis | None
    products_key: bytes | None
    kid: str
    cookie_secret: bytes | None
    session_prefix: str

    def ready(self) -> str | None:
        """Why /demo/login cannot work, or None."""
        if self.redis is None:
            return "the demo backend was started without --redis-url (or PORTCULLIS_REDIS_URL)"
        if self.products_key is None:
            return "the demo backend was started without --products-key"
        if self.cookie_secret is None:
            return "the demo backend was started without --cookie-secrets"
        return None


class EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "portcullis-demo-backend"
    # Head and body are separate writes: without this, Nagle holds the body for the
    # proxy's delayed ACK and every keep-alive request seems 40 ms slower.
    disable_nagle_algorithm = True
    demo: DemoSettings

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

    def _send(self, status: int, payload: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _json(self, status: int, value, headers: dict | None = None) -> None:
        self._send(status, (json.dumps(value, indent=2) + "\n").encode(), "application/json", headers)

    def _answer(self) -> None:
        body = self._read_body()
        path = urllib.parse.urlsplit(self.path).path
        if path == "/demo" or path.startswith("/demo/"):
            self._demo(path, body)
            return
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
        self._json(200, echo)

    # --- the browser demo ---

    def _demo(self, path: str, body: bytes) -> None:
        if path == "/demo":
            self._send(308, b"", "text/plain", {"Location": "/demo/"})
        elif path == "/demo/login" and self.command == "POST":
            self._login(body)
        elif path == "/demo/logout" and self.command == "POST":
            self._logout()
        elif self.command in ("GET", "HEAD"):
            name = path[len("/demo/"):] or "index.html"
            file = STATIC_DIR / name
            if "/" in name or file.suffix not in STATIC_TYPES or not file.is_file():
                self._json(404, {"error": "not_found"})
                return
            self._send(200, file.read_bytes(), STATIC_TYPES[file.suffix], {"Cache-Control": "no-store"})
        else:
            self._json(405, {"error": "method_not_allowed"})

    def _login(self, body: bytes) -> None:
        problem = self.demo.ready()
        if problem:
            self._json(503, {"error": "not_configured", "message": problem})
            return
        try:
            form = json.loads(body or b"{}")
            user, role = form["user"], form["role"]
        except (ValueError, KeyError, TypeError):
            self._json(400, {"error": "invalid_payload", "message": 'send {"user": …, "role": …}'})
            return
        if not isinstance(user, str) or not USER_RE.match(user) or role not in ROLES:
            self._json(400, {"error": "invalid_payload",
                             "message": "user: 1-64 of A-Z a-z 0-9 _ -; role: BUYER or SELLER"})
            return
        sid = secrets.token_urlsafe(24)
        expires = datetime.now(timezone.utc) + SESSION_TTL
        record = {"cookie": {"originalMaxAge": int(SESSION_TTL.total_seconds() * 1000),
                             "expires": expires.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                             "httpOnly": True, "path": "/"},
                  "user": {"username": user, "role": role}}
        try:
            self.demo.redis.command("SET", self.demo.session_prefix + sid, json.dumps(record),
                                    "EX", str(int(SESSION_TTL.total_seconds())))
        except (OSError, RuntimeError) as error:
            self._json(502, {"error": "redis", "message": str(error)})
            return
        token = mint_hs256(self.demo.products_key, self.demo.kid, user, TOKEN_TTL)
        cookie = (f"connect.sid={sign_cookie(sid, self.demo.cookie_secret)}; Path=/; HttpOnly; "
                  f"SameSite=Lax; Max-Age={int(SESSION_TTL.total_seconds())}")
        self._json(200, {"user": user, "role": role, "token": token}, {"Set-Cookie": cookie})

    def _logout(self) -> None:
        problem = self.demo.ready()
        if problem:
            self._json(503, {"error": "not_configured", "message": problem})
            return
        sid = None
        for part in self.headers.get("Cookie", "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == "connect.sid":
                sid = unsign_cookie(value, self.demo.cookie_secret)
        deleted = 0
        if sid:
            try:
                deleted = int(self.demo.redis.command("DEL", self.demo.session_prefix + sid)[1:] or 0)
            except (OSError, RuntimeError) as error:
                self._json(502, {"error": "redis", "message": str(error)})
                return
        self._json(200, {"logged_out": bool(deleted)},
                   {"Set-Cookie": "connect.sid=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _answer

    def log_message(self, fmt: str, *args) -> None:
        sys.stderr.write("demo-backend: %s %s\n" % (self.address_string(), fmt % args))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9001)
    parser.add_argument("--redis-url", default=os.environ.get("PORTCULLIS_REDIS_URL"),
                        help="where sessions go (default: $PORTCULLIS_REDIS_URL)")
    parser.add_argument("--session-prefix", default="sess:", help="the edge's auth.session_prefix")
    parser.add_argument("--products-key", help="the HS256 key file of the `products` key set")
    parser.add_argument("--kid", default="products-1", help="the key's kid")
    parser.add_argument("--cookie-secrets", help="the edge's auth.cookie_secrets_file (the first line signs)")
    args = parser.parse_args()
    EchoHandler.demo = DemoSettings(
        redis=Redis(args.redis_url) if args.redis_url else None,
        products_key=key_from_file(args.products_key) if args.products_key else None,
        kid=args.kid,
        cookie_secret=first_secret(args.cookie_secrets) if args.cookie_secrets else None,
        session_prefix=args.session_prefix)
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
