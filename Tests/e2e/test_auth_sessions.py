"""Session cookies the way express-session signs them, sessions the way connect-redis
stores them (in a real redis-server), and revocation with `portcullis revoke`."""

import base64
import hashlib
import hmac
import http.client
import json
import secrets
import subprocess
import time
import urllib.parse
from datetime import datetime, timedelta, timezone

import jwt
import pytest
import redis

from conftest import hs256_secret, pool, portcullis_bin, route

SECRET_NEW = "keyboard-cat-2026"
SECRET_OLD = "keyboard-cat-2024"


def express_cookie(sid: str, secret: str) -> str:
    """connect.sid value as express-session sets it: s:<sid>.<base64 HMAC-SHA256, no padding>,
    URL-encoded."""
    signature = base64.b64encode(hmac.new(secret.encode(), sid.encode(), hashlib.sha256).digest())
    return urllib.parse.quote("s:" + sid + "." + signature.decode().rstrip("="), safe="")


def connect_redis_session(user, expires_in=timedelta(hours=1)) -> str:
    expires = (datetime.now(timezone.utc) + expires_in).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return json.dumps({"cookie": {"originalMaxAge": 3600000, "expires": expires, "httpOnly": True, "path": "/"},
                       "passport": {"user": user}})


@pytest.fixture
def store(redis_url):
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def session_proxy(portcullis, upstream, redis_url, tmp_path):
    secrets_file = tmp_path / "cookie-secrets"
    secrets_file.write_text(f"{SECRET_NEW}\n{SECRET_OLD}\n")
    hs = hs256_secret()
    (tmp_path / "hs.key").write_bytes(hs)
    prefix = f"sess-{secrets.token_hex(4)}:"
    revoked = f"revoked-{secrets.token_hex(4)}:"
    up = upstream(name="app")
    proxy = portcullis(
        upstreams={"app": pool(up.addr)},
        routes=[
            route("web", "/web", "app", auth={"methods": ["session"], "origins": ["https://app.test"]}),
            route("api", "/api", "app", auth={"key_set": "main"}),
        ],
        extra={"redis": {"url": redis_url},
               "auth": {"cookie_secrets_file": str(secrets_file), "session_prefix": prefix,
                        "revocation_prefix": revoked,
                        "key_sets": {"main": [{"secret_file": str(tmp_path / "hs.key"), "alg": "HS256",
                                               "kid": "k1", "default": True}]}}},
        edge={"watch_interval": "0s"})
    return proxy, up, prefix, hs


def get(proxy, path, headers):
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def browser(cookie=None):
    headers = {"Origin": "https://app.test"}
    if cookie:
        headers["Cookie"] = f"theme=dark; connect.sid={cookie}"
    return headers


def test_a_connect_redis_session_with_an_express_signed_cookie_gets_through(session_proxy, store):
    proxy, up, prefix, _ = session_proxy
    sid = secrets.token_urlsafe(24)
    store.set(prefix + sid, connect_redis_session("42"), ex=3600)
    assert get(proxy, "/web/home", browser(express_cookie(sid, SECRET_NEW))) == 200
    seen = {k.lower(): v for k, v in up.requests[-1]["headers"]}
    assert seen["x-auth-subject"] == "42"
    # A cookie signed by the second (older) secret still verifies during rotation.
    assert get(proxy, "/web/home", browser(express_cookie(sid, SECRET_OLD))) == 200


@pytest.mark.parametrize("case", ["no-cookie", "removed-secret", "bad-signature", "unsigned", "no-session",
                                  "expired-session"])
def test_bad_cookies_and_missing_sessions_are_refused(session_proxy, store, case):
    proxy, up, prefix, _ = session_proxy
    sid = secrets.token_urlsafe(24)
    if case != "no-session":
        expires_in = timedelta(hours=-1) if case == "expired-session" else timedelta(hours=1)
        store.set(prefix + sid, connect_redis_session("42", expires_in), ex=3600)
    cookie = {
        "no-cookie": None,
        "removed-secret": express_cookie(sid, "a-secret-that-was-removed"),
        "bad-signature": express_cookie(sid, SECRET_NEW)[:-4] + "AAAA",
        "unsigned": urllib.parse.quote(sid),
        "no-session": express_cookie(sid, SECRET_NEW),
        "expired-session": express_cookie(sid, SECRET_NEW),
    }[case]
    before = len(up.requests)
    assert get(proxy, "/web/home", browser(cookie)) == 401
    assert len(up.requests) == before


def test_revoke_by_jti_and_by_subject(session_proxy):
    proxy, _, _, hs = session_proxy
    now = int(time.time())
    token = jwt.encode({"sub": "u1", "jti": "t-1", "iat": now, "exp": now + 600}, hs, algorithm="HS256")
    other = jwt.encode({"sub": "u1", "jti": "t-2", "iat": now - 5, "exp": now + 600}, hs, algorithm="HS256")
    auth = lambda t: {"Authorization": f"Bearer {t}"}  # noqa: E731
    assert get(proxy, "/api/x", auth(token)) == 200

    revoke = [portcullis_bin(), "revoke", "--config", str(proxy.config_path)]
    result = subprocess.run(revoke + ["--jti", "t-1", "--ttl", "10m"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert get(proxy, "/api/x", auth(token)) == 401  # cached token: revocation still checked
    assert get(proxy, "/api/x", auth(other)) == 200

    time.sleep(1.1)
    result = subprocess.run(revoke + ["--subject", "u1"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert get(proxy, "/api/x", auth(other)) == 401
    fresh = jwt.encode({"sub": "u1", "iat": int(time.time()) + 2, "exp": now + 600}, hs, algorithm="HS256")
    assert get(proxy, "/api/x", auth(fresh)) == 200
