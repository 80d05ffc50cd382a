"""Edge authentication on proxy routes: JWTs from PyJWT (HS256, RS256), scopes, claims
forwarded as headers, client-sent identity headers stripped, Origin allow-lists, and key
rotation by reload."""

import copy
import http.client
import secrets
import signal
import subprocess
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import portcullis_bin, hs256_secret, pool, route

NOW = lambda: int(time.time())  # noqa: E731


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    hs1, hs2 = hs256_secret(), hs256_secret()
    (d / "hs1.key").write_bytes(hs1)
    (d / "hs2.key").write_bytes(hs2)
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (d / "rs1.pub.pem").write_bytes(public_pem)
    return {"dir": d, "hs1": hs1, "hs2": hs2, "rsa": private, "rsa_public_pem": public_pem}


def key_set(keys, *names):
    sources = {
        "hs1": {"secret_file": str(keys["dir"] / "hs1.key"), "alg": "HS256", "kid": "hs1", "default": True},
        "hs2": {"secret_file": str(keys["dir"] / "hs2.key"), "alg": "HS256", "kid": "hs2"},
        "rs1": {"pem_file": str(keys["dir"] / "rs1.pub.pem"), "alg": "RS256", "kid": "rs1"},
    }
    return [sources[name] for name in names]


def claims(**extra):
    body = {"sub": "user-42", "scope": "read write", "tenant": "acme", "iat": NOW(), "exp": NOW() + 300}
    body.update(extra)
    return body


@pytest.fixture
def auth_proxy(portcullis, upstream, keys):
    up = upstream(name="app")
    policy = {"key_set": "main", "tokens": ["header", "query:token"], "scopes": ["read"],
              "claim_headers": {"X-Auth-Tenant": "tenant"}}
    browser = {"key_set": "main", "clients": "browser", "origins": ["https://app.test", "https://*.app.test"]}
    proxy = portcullis(
        upstreams={"app": pool(up.addr)},
        routes=[route("api", "/api", "app", auth=policy), route("web", "/web", "app", auth=browser),
                route("public", "/", "app")],
        extra={"auth": {"key_sets": {"main": key_set(keys, "hs1", "rs1")}}},
        edge={"watch_interval": "0s"})
    return proxy, up


def get(proxy, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), resp.read()
    finally:
        conn.close()


def upstream_headers(up):
    return {k.lower(): v for k, v in up.requests[-1]["headers"]}


def test_a_pyjwt_hs256_token_passes_with_identity_headers_and_no_authorization_upstream(auth_proxy, keys):
    proxy, up = auth_proxy
    token = jwt.encode(claims(), keys["hs1"], algorithm="HS256", headers={"kid": "hs1"})
    status, _, _ = get(proxy, "/api/items", {"Authorization": f"Bearer {token}",
                                             "X-Auth-Subject": "forged", "X-Auth-Tenant": "forged"})
    assert status == 200
    seen = upstream_headers(up)
    assert seen["x-auth-subject"] == "user-42"
    assert seen["x-auth-scopes"] == "read write"
    assert seen["x-auth-tenant"] == "acme"
    assert "authorization" not in seen


def test_a_token_without_kid_uses_the_default_key_and_rs256_works_from_the_query(auth_proxy, keys):
    proxy, up = auth_proxy
    assert get(proxy, "/api/a", {"Authorization": "Bearer " + jwt.encode(claims(), keys["hs1"], algorithm="HS256")})[0] == 200
    rs = jwt.encode(claims(sub="rsa-user"), keys["rsa"], algorithm="RS256", headers={"kid": "rs1"})
    assert get(proxy, f"/api/b?token={rs}")[0] == 200
    assert upstream_headers(up)["x-auth-subject"] == "rsa-user"


@pytest.mark.parametrize("case", ["missing", "expired", "alg-none", "hs-with-rsa-public-key", "unknown-kid",
                                  "tampered", "nbf-future"])
def test_bad_tokens_get_401_with_a_bearer_challenge_and_never_reach_the_upstream(auth_proxy, keys, case):
    proxy, up = auth_proxy
    tokens = {
        "missing": None,
        "expired": jwt.encode(claims(exp=NOW() - 3600), keys["hs1"], algorithm="HS256"),
        "alg-none": jwt.encode(claims(), None, algorithm="none"),
        "hs-with-rsa-public-key": _hmac_token(claims(), keys["rsa_public_pem"], kid="rs1"),
        "unknown-kid": jwt.encode(claims(), keys["hs1"], algorithm="HS256", headers={"kid": "../../etc/passwd"}),
        "tampered": _tamper(jwt.encode(claims(), keys["hs1"], algorithm="HS256")),
        "nbf-future": jwt.encode(claims(nbf=NOW() + 3600), keys["hs1"], algorithm="HS256"),
    }
    before = len(up.requests)
    headers = {} if tokens[case] is None else {"Authorization": f"Bearer {tokens[case]}"}
    status, response_headers, _ = get(proxy, "/api/x", headers)
    assert status == 401
    challenge = response_headers["www-authenticate"]
    assert challenge.startswith("Bearer")
    if case != "missing":
        assert 'error="invalid_token"' in challenge
    assert len(up.requests) == before


def test_missing_scope_gets_403_insufficient_scope(auth_proxy, keys):
    proxy, _ = auth_proxy
    token = jwt.encode(claims(scope="write"), keys["hs1"], algorithm="HS256")
    status, headers, _ = get(proxy, "/api/x", {"Authorization": f"Bearer {token}"})
    assert status == 403
    assert 'error="insufficient_scope"' in headers["www-authenticate"]


def test_public_routes_strip_client_sent_identity_headers(auth_proxy):
    proxy, up = auth_proxy
    assert get(proxy, "/open", {"X-Auth-Subject": "admin", "X-Auth-Scopes": "all", "X-Auth-Tenant": "x"})[0] == 200
    seen = upstream_headers(up)
    assert not {"x-auth-subject", "x-auth-scopes", "x-auth-tenant"} & set(seen)


@pytest.mark.parametrize("origin,expected", [
    ("https://app.test", 200), ("https://eu.app.test", 200), (None, 403), ("null", 403),
    ("https://app.test.evil.net", 403), ("https://evil-app.test", 403), ("http://app.test", 403)])
def test_browser_routes_allow_listed_origins_only(auth_proxy, keys, origin, expected):
    proxy, _ = auth_proxy
    headers = {"Authorization": "Bearer " + jwt.encode(claims(), keys["hs1"], algorithm="HS256")}
    if origin is not None:
        headers["Origin"] = origin
    assert get(proxy, "/web/page", headers)[0] == expected


def test_a_new_key_works_after_reload_and_a_retired_key_stops(auth_proxy, keys):
    proxy, _ = auth_proxy
    new_token = jwt.encode(claims(), keys["hs2"], algorithm="HS256", headers={"kid": "hs2"})
    old_token = jwt.encode(claims(), keys["hs1"], algorithm="HS256", headers={"kid": "hs1"})
    assert get(proxy, "/api/x", {"Authorization": f"Bearer {new_token}"})[0] == 401

    config = copy.deepcopy(proxy.config)
    config["auth"]["key_sets"]["main"] = key_set(keys, "hs1", "hs2", "rs1")
    proxy.rewrite_config(config)
    proxy.proc.send_signal(signal.SIGHUP)
    assert _eventually(lambda: get(proxy, "/api/x", {"Authorization": f"Bearer {new_token}"})[0] == 200)

    config = copy.deepcopy(config)
    retired = key_set(keys, "hs2", "rs1")
    retired[0]["default"] = True
    config["auth"]["key_sets"]["main"] = retired
    proxy.rewrite_config(config)
    proxy.proc.send_signal(signal.SIGHUP)
    assert _eventually(lambda: get(proxy, "/api/x", {"Authorization": f"Bearer {old_token}"})[0] == 401)
    assert get(proxy, "/api/x", {"Authorization": f"Bearer {new_token}"})[0] == 200


def test_reload_answers_with_the_keys_the_running_edge_loaded(auth_proxy, keys, tmp_path):
    """docs/keys.md: confirm the edge loaded a key (not just that the file verifies): the
    reload's answer lists each key set's kids. A refused JWKS names the conf path once."""
    proxy, _ = auth_proxy
    config = copy.deepcopy(proxy.config)
    config["auth"]["key_sets"]["main"] = key_set(keys, "hs1", "hs2", "rs1")
    proxy.rewrite_config(config)
    result = subprocess.run([portcullis_bin(), "reload", "--config", str(proxy.config_path)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("key set main:"))
    assert "hs1 HS256" in line and "hs2 HS256" in line and "rs1 RS256" in line, result.stdout

    broken = tmp_path / "broken.jwks"
    broken.write_text("not json")
    config = copy.deepcopy(config)
    config["auth"]["key_sets"]["main"] = [{"jwks_file": str(broken)}]
    proxy.rewrite_config(config)
    result = subprocess.run([portcullis_bin(), "reload", "--config", str(proxy.config_path),
                             "--admin", f"127.0.0.1:{proxy.admin_port}"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr.count(str(proxy.config_path)) == 1, result.stderr
    assert "not a JSON object" in result.stderr


def _eventually(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    body = jwt.utils.base64url_decode(payload).replace(b"user-42", b"admin-1")
    return ".".join([header, jwt.utils.base64url_encode(body).decode(), signature])


def _hmac_token(body: dict, key: bytes, kid: str) -> str:
    """HS256 signed with `key` as the HMAC secret, bypassing PyJWT's refusal to use a PEM
    public key as one (the classic algorithm-confusion attack)."""
    import hashlib
    import hmac
    import json
    enc = lambda b: jwt.utils.base64url_encode(b).decode()  # noqa: E731
    signing_input = enc(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode()) + "." + \
        enc(json.dumps(body).encode())
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + enc(signature)


def test_refusals_are_counted_per_reason_in_the_admin_metrics(auth_proxy, keys):
    proxy, _ = auth_proxy
    expired = jwt.encode(claims(exp=NOW() - 3600), keys["hs1"], algorithm="HS256")
    assert get(proxy, "/api/x", {"Authorization": f"Bearer {expired}"})[0] == 401
    assert get(proxy, "/open")[0] == 200
    conn = http.client.HTTPConnection("127.0.0.1", proxy.admin_port, timeout=10)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    assert 'portcullis_auth_failures_total{route="api",reason="expired"} 1' in text, text
    assert 'portcullis_requests_total{route="public",status="200"}' in text, text


def test_a_key_file_replaced_on_disk_is_picked_up_by_the_file_watch(portcullis, upstream, tmp_path):
    old_secret, new_secret = hs256_secret(), hs256_secret()
    key_file = tmp_path / "rotating.key"
    key_file.write_bytes(old_secret)
    up = upstream(name="app")
    proxy = portcullis(
        upstreams={"app": pool(up.addr)},
        routes=[route("api", "/api", "app", auth={"key_set": "main"})],
        extra={"auth": {"key_sets": {"main": [
            {"secret_file": str(key_file), "alg": "HS256", "kid": "k", "default": True}]}}},
        edge={"watch_interval": "1s"})
    old = jwt.encode(claims(), old_secret, algorithm="HS256")
    new = jwt.encode(claims(), new_secret, algorithm="HS256")
    assert get(proxy, "/api/x", {"Authorization": f"Bearer {old}"})[0] == 200
    staging = tmp_path / "rotating.key.tmp"
    staging.write_bytes(new_secret)
    staging.replace(key_file)
    assert _eventually(lambda: get(proxy, "/api/x", {"Authorization": f"Bearer {new}"})[0] == 200)
    assert get(proxy, "/api/x", {"Authorization": f"Bearer {old}"})[0] == 401


def test_a_refused_request_without_a_body_keeps_the_connection_for_the_next_one(auth_proxy, keys):
    proxy, _ = auth_proxy
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    conn.request("GET", "/api/x")
    first = conn.getresponse()
    first.read()
    assert first.status == 401
    sock = conn.sock
    token = jwt.encode(claims(), keys["hs1"], algorithm="HS256")
    conn.request("GET", "/api/x", headers={"Authorization": f"Bearer {token}"})
    second = conn.getresponse()
    second.read()
    assert second.status == 200
    assert conn.sock is sock, "the connection was not kept alive"
    conn.close()
