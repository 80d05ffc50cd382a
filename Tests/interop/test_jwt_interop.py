"""JWT and session-cookie interop: Portcullis against PyJWT + cryptography.

(a) tokens PyJWT mints (HS256, RS256, ES256, ES384; with and without kid) verify with
    `portcullis token verify`, and the attacks PyJWT can be made to produce are refused;
(b) tokens `portcullis token mint` signs, with keys `portcullis keys generate` made,
    verify in PyJWT;
(c) express-session cookies signed the way `cookie-signature` does it (HMAC-SHA256,
    base64, `=` stripped, URL-encoded) are accepted by `portcullis secret verify-cookie`,
    and `secret sign-cookie` produces the same bytes.

PORTCULLIS_BIN names the binary (default .build/debug/portcullis).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import time
import urllib.parse
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("PORTCULLIS_BIN") or str(REPO_ROOT / ".build" / "debug" / "portcullis")
HMAC_SECRET = b"interop-test-secret-0123456789abcdef-only-for-tests"


def portcullis(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=60)


def verify(token: str, *options: str) -> subprocess.CompletedProcess:
    return portcullis("token", "verify", *options, token)


def identity(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def claims(**extra) -> dict:
    now = int(time.time())
    return {"sub": "user-42", "iat": now, "exp": now + 300, "scope": "chat:read chat:write", **extra}


def pem_public(key) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """Keys made by `cryptography`, written as the files an operator would configure."""
    directory = tmp_path_factory.mktemp("keys")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec256 = ec.generate_private_key(ec.SECP256R1())
    ec384 = ec.generate_private_key(ec.SECP384R1())
    jwks = {"keys": []}
    for kid, alg, key, algorithm in [
        ("py-rsa", "RS256", rsa_key, RSAAlgorithm),
        ("py-ec256", "ES256", ec256, ECAlgorithm),
        ("py-ec384", "ES384", ec384, ECAlgorithm),
    ]:
        jwk = json.loads(algorithm.to_jwk(key.public_key()))
        jwk.update({"kid": kid, "alg": alg, "use": "sig"})
        jwks["keys"].append(jwk)
    (directory / "jwks.json").write_text(json.dumps(jwks))
    (directory / "hs.secret").write_bytes(HMAC_SECRET + b"\n")
    (directory / "rsa.pub.pem").write_bytes(pem_public(rsa_key))
    (directory / "ec256.pub.pem").write_bytes(pem_public(ec256))
    return {"dir": directory, "rsa": rsa_key, "ec256": ec256, "ec384": ec384,
            "jwks": str(directory / "jwks.json"), "hs": str(directory / "hs.secret")}


# (a) PyJWT → Portcullis

@pytest.mark.parametrize("alg,key_name,kid", [
    ("RS256", "rsa", "py-rsa"), ("ES256", "ec256", "py-ec256"), ("ES384", "ec384", "py-ec384")])
def test_pyjwt_asymmetric_tokens_with_kid_verify(keys, alg, key_name, kid):
    token = jwt.encode(claims(tenant="acme"), keys[key_name], algorithm=alg, headers={"kid": kid})
    result = identity(verify(token, "--jwks", keys["jwks"]))
    assert result["subject"] == "user-42"
    assert result["scopes"] == ["chat:read", "chat:write"]
    assert result["kid"] == kid
    assert result["payload"]["tenant"] == "acme"


@pytest.mark.parametrize("alg,key_name,pem", [("RS256", "rsa", "rsa.pub.pem"), ("ES256", "ec256", "ec256.pub.pem")])
def test_pyjwt_tokens_without_kid_use_the_default_pem_key(keys, alg, key_name, pem):
    token = jwt.encode(claims(), keys[key_name], algorithm=alg)
    assert "kid" not in jwt.get_unverified_header(token)
    result = identity(verify(token, "--pem", str(keys["dir"] / pem), "--alg", alg))
    assert result["kid"] is None


def test_pyjwt_hs256_with_and_without_kid_verifies(keys):
    with_kid = jwt.encode(claims(), HMAC_SECRET, algorithm="HS256", headers={"kid": "hs-1"})
    assert identity(verify(with_kid, "--hmac", keys["hs"], "--alg", "HS256", "--kid", "hs-1"))["kid"] == "hs-1"
    without_kid = jwt.encode(claims(), HMAC_SECRET, algorithm="HS256")
    assert identity(verify(without_kid, "--hmac", keys["hs"], "--alg", "HS256"))["subject"] == "user-42"


def test_pyjwt_scp_array_and_audience_and_issuer(keys):
    token = jwt.encode(
        {**claims(), "scope": None, "scp": ["a", "b"], "aud": ["other", "edge"], "iss": "https://auth.test"},
        keys["rsa"], algorithm="RS256", headers={"kid": "py-rsa"})
    result = identity(verify(token, "--jwks", keys["jwks"], "--aud", "edge", "--iss", "https://auth.test",
                             "--scope", "a"))
    assert result["scopes"] == ["a", "b"]  # "scope": null counts as absent
    token = jwt.encode({k: v for k, v in claims().items() if k != "scope"} | {"scp": ["a", "b"]},
                       keys["rsa"], algorithm="RS256", headers={"kid": "py-rsa"})
    assert identity(verify(token, "--jwks", keys["jwks"], "--scope", "a"))["scopes"] == ["a", "b"]
    wrong = verify(token, "--jwks", keys["jwks"], "--aud", "edge")
    assert wrong.returncode == 1 and "bad_audience" in wrong.stdout


def test_expired_pyjwt_token_is_refused(keys):
    token = jwt.encode(claims(exp=int(time.time()) - 120), keys["ec256"], algorithm="ES256",
                       headers={"kid": "py-ec256"})
    result = verify(token, "--jwks", keys["jwks"])
    assert result.returncode == 1
    assert result.stdout.startswith("invalid: expired")


def test_hs256_signed_with_the_rsa_public_key_is_refused(keys):
    # PyJWT itself refuses a PEM as an HMAC secret, so sign by hand, as an attacker would.
    header = {"alg": "HS256", "typ": "JWT", "kid": "py-rsa"}
    signing_input = ".".join(
        base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode() for part in (header, claims()))
    signature = hmac.new(pem_public(keys["rsa"]), signing_input.encode(), hashlib.sha256).digest()
    token = signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()
    result = verify(token, "--jwks", keys["jwks"])
    assert result.returncode == 1
    assert "alg_not_allowed" in result.stdout


def test_alg_none_from_pyjwt_is_refused(keys):
    token = jwt.encode(claims(), None, algorithm="none", headers={"kid": "hs-1"})
    result = verify(token, "--hmac", keys["hs"], "--alg", "HS256", "--kid", "hs-1")
    assert result.returncode == 1
    assert "alg_not_allowed" in result.stdout


def test_token_signed_by_another_key_is_refused(keys):
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(), stranger, algorithm="RS256", headers={"kid": "py-rsa"})
    result = verify(token, "--jwks", keys["jwks"])
    assert result.returncode == 1 and "bad_signature" in result.stdout


# (b) Portcullis → PyJWT

@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_portcullis_minted_tokens_verify_in_pyjwt(tmp_path, alg):
    jwks = tmp_path / "jwks.json"
    generated = portcullis("keys", "generate", "--alg", alg, "--jwks", str(jwks))
    assert generated.returncode == 0, generated.stderr
    kid = generated.stdout.strip()
    private = tmp_path / f"{kid}.key.pem"
    assert private.stat().st_mode & 0o777 == 0o600
    minted = portcullis("token", "mint", "--key", str(private), "--alg", alg, "--kid", kid, "--sub", "svc",
                        "--scope", "a b", "--ttl", "5m", "--iss", "https://edge.test", "--aud", "api",
                        "--claim", "tenant=7", "--claim", "role=admin")
    assert minted.returncode == 0, minted.stderr
    token = minted.stdout.strip()
    assert jwt.get_unverified_header(token)["kid"] == kid
    public = jwt.PyJWKSet.from_json(jwks.read_text())[kid]
    decoded = jwt.decode(token, public.key, algorithms=[alg], audience="api", issuer="https://edge.test")
    assert decoded["sub"] == "svc"
    assert decoded["scope"] == "a b"
    assert decoded["tenant"] == 7 and decoded["role"] == "admin"
    assert decoded["exp"] - decoded["iat"] == 300
    # And the edge accepts its own token through the same JWKS.
    assert identity(verify(token, "--jwks", str(jwks)))["subject"] == "svc"


def test_keys_help_names_the_conf_keys():
    """The help tells how to configure what it generates, in the conf's own spelling."""
    text = portcullis("keys", "generate", "--help").stdout
    assert "{secret_file: <file>, alg: <alg>, kid: <kid>}" in " ".join(text.split())


def test_portcullis_minted_hs256_verifies_in_pyjwt(tmp_path):
    secret = tmp_path / "hs.secret"
    generated = portcullis("keys", "generate", "--alg", "HS256", "--private-out", str(secret))
    assert generated.returncode == 0, generated.stderr
    kid = generated.stdout.strip()
    minted = portcullis("token", "mint", "--key", str(secret), "--alg", "HS256", "--kid", kid, "--sub", "u")
    token = minted.stdout.strip()
    # The secret file's text (newline trimmed) is the HMAC key.
    decoded = jwt.decode(token, secret.read_bytes().rstrip(b"\n"), algorithms=["HS256"])
    assert decoded["sub"] == "u"
    # One key file verifies the token whatever kid it names; --kid narrows it to that kid.
    assert identity(verify(token, "--hmac", str(secret), "--alg", "HS256"))["subject"] == "u"
    assert identity(verify(token, "--hmac", str(secret), "--alg", "HS256", "--kid", kid))["subject"] == "u"
    other = verify(token, "--hmac", str(secret), "--alg", "HS256", "--kid", "not-" + kid)
    assert other.returncode == 1 and "unknown_kid" in other.stdout


def test_at_jwt_typ_mints_and_verifies(tmp_path):
    jwks = tmp_path / "jwks.json"
    kid = portcullis("keys", "generate", "--alg", "ES256", "--jwks", str(jwks)).stdout.strip()
    token = portcullis("token", "mint", "--key", str(tmp_path / f"{kid}.key.pem"), "--alg", "ES256",
                       "--kid", kid, "--sub", "u", "--typ", "at+jwt").stdout.strip()
    assert jwt.get_unverified_header(token)["typ"] == "at+jwt"
    public = jwt.PyJWKSet.from_json(jwks.read_text())[kid]
    assert jwt.decode(token, public.key, algorithms=["ES256"])["sub"] == "u"
    assert identity(verify(token, "--jwks", str(jwks)))["subject"] == "u"


def test_retired_key_no_longer_verifies(tmp_path):
    jwks = tmp_path / "jwks.json"
    old = portcullis("keys", "generate", "--alg", "RS256", "--jwks", str(jwks)).stdout.strip()
    new = portcullis("keys", "generate", "--alg", "ES256", "--jwks", str(jwks)).stdout.strip()
    token = portcullis("token", "mint", "--key", str(tmp_path / f"{old}.key.pem"), "--alg", "RS256",
                       "--kid", old, "--sub", "u").stdout.strip()
    assert verify(token, "--jwks", str(jwks)).returncode == 0
    assert portcullis("keys", "retire", "--jwks", str(jwks), "--kid", old).returncode == 0
    listed = portcullis("keys", "list", "--jwks", str(jwks)).stdout.split()
    assert old not in listed and new in listed
    result = verify(token, "--jwks", str(jwks))
    assert result.returncode == 1 and "unknown_kid" in result.stdout


# (c) express-session cookies

def express_sign(sid: str, secret: str) -> str:
    mac = hmac.new(secret.encode(), sid.encode(), hashlib.sha256).digest()
    value = "s:" + sid + "." + base64.b64encode(mac).decode().rstrip("=")
    return urllib.parse.quote(value, safe="-_.!~*'()")  # encodeURIComponent


@pytest.mark.parametrize("sid", ["Zq3vN1bJ5xW0cTgH8mKp2LrAeYdUoSiF", "a/b+c", "dots.in.sid", "ünï"])
def test_express_signed_cookies_unsign_with_every_secret(tmp_path, sid):
    secrets = tmp_path / "cookie.secrets"
    secrets.write_text("new-secret-2025\nold-secret\n")
    for secret in ["new-secret-2025", "old-secret"]:
        result = portcullis("secret", "verify-cookie", "--secrets", str(secrets), express_sign(sid, secret))
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.strip() == sid
    signed = portcullis("secret", "sign-cookie", "--secrets", str(secrets), sid)
    assert signed.stdout.strip() == express_sign(sid, "new-secret-2025")


def test_cookie_signed_with_a_removed_secret_is_refused(tmp_path):
    secrets = tmp_path / "cookie.secrets"
    secrets.write_text("new-secret-2025\n")
    result = portcullis("secret", "verify-cookie", "--secrets", str(secrets), express_sign("abc", "old-secret"))
    assert result.returncode == 1
    assert "bad_cookie" in result.stdout


def test_secret_generate_prints_32_random_bytes():
    first = portcullis("secret", "generate").stdout.strip()
    second = portcullis("secret", "generate").stdout.strip()
    assert first != second
    assert len(base64.urlsafe_b64decode(first + "=")) == 32
