"""TLS listener: certificates by SNI with the first as default, TLS 1.1 refused, ALPN
http/1.1, X-Forwarded-Proto https, the `intermediate` and `modern` profiles' protocols
and suites, and a testssl.sh scan."""

import json
import os
import shutil
import socket
import ssl
import subprocess
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import pool, route


@pytest.fixture
def tls_proxy(portcullis, upstream, tls_certs):
    up = upstream(name="app")
    proxy = portcullis(
        upstreams={"app": pool(up.addr)},
        routes=[route("root", "/", "app")],
        tls=[
            {"certificate": str(tls_certs.a_cert), "private_key": str(tls_certs.a_key)},
            {"certificate": str(tls_certs.b_cert), "private_key": str(tls_certs.b_key),
             "server_names": ["b.test"]},
        ],
    )
    return proxy, up


def curl(*args: str) -> subprocess.CompletedProcess:
    assert shutil.which("curl"), "curl is needed (apt package curl)"
    return subprocess.run(["curl", "--noproxy", "*", "-sS", "--max-time", "10", *args],
                          capture_output=True, text=True, timeout=20)


def peer_certificate(port: int, server_hostname, cafile) -> dict:
    ctx = ssl.create_default_context(cafile=str(cafile))
    ctx.check_hostname = False  # we want to see what is served, not fail on it
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=server_hostname) as tls:
            return tls.getpeercert()


def dns_names(cert: dict) -> list[str]:
    return [value for kind, value in cert.get("subjectAltName", ()) if kind == "DNS"]


def test_curl_gets_through_the_tls_listener_with_the_default_certificate(tls_proxy, tls_certs):
    proxy, up = tls_proxy
    port = proxy.tls_port
    result = curl("--cacert", str(tls_certs.ca), "--resolve", f"a.test:{port}:127.0.0.1",
                  "-o", "/dev/null", "-w", "%{http_code}", f"https://a.test:{port}/hello")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "200"
    assert up.requests[-1]["path"] == "/hello"


def test_sni_name_selects_its_certificate(tls_proxy, tls_certs):
    proxy, _ = tls_proxy
    port = proxy.tls_port
    # curl checks the served certificate against b.test: only certificate B names it.
    result = curl("--cacert", str(tls_certs.ca), "--resolve", f"b.test:{port}:127.0.0.1",
                  "-o", "/dev/null", "-w", "%{http_code}", f"https://b.test:{port}/")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "200"
    assert dns_names(peer_certificate(port, "b.test", tls_certs.ca)) == ["b.test"]


def test_unknown_or_missing_sni_gets_the_first_certificate(tls_proxy, tls_certs):
    proxy, _ = tls_proxy
    assert dns_names(peer_certificate(proxy.tls_port, "other.test", tls_certs.ca)) == ["a.test"]
    assert dns_names(peer_certificate(proxy.tls_port, None, tls_certs.ca)) == ["a.test"]


def tls11_client_context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.minimum_version = ssl.TLSVersion.TLSv1_1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    return ctx


def handshake(port: int, ctx: ssl.SSLContext, server_hostname="a.test"):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=server_hostname) as tls:
            return tls.version(), tls.selected_alpn_protocol()


@contextmanager
def permissive_server(cert, key, minimum=ssl.TLSVersion.TLSv1_2):
    """A one-handshake Python TLS server that allows `minimum` and up and every suite
    OpenSSL has: the control showing that a client the edge refuses does work elsewhere,
    so the refusal comes from the edge and not from the client's own OpenSSL policy."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.set_ciphers("ALL:@SECLEVEL=0")
    server_ctx.minimum_version = minimum
    server_ctx.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))

    def serve_once():
        conn, _ = listener.accept()
        try:
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)
        except (ssl.SSLError, OSError):
            pass

    t = threading.Thread(target=serve_once, daemon=True)
    t.start()
    try:
        yield listener.getsockname()[1]
    finally:
        t.join(timeout=10)
        listener.close()


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_tls_1_1_is_refused(tls_proxy, tls_certs):
    proxy, _ = tls_proxy
    with permissive_server(tls_certs.a_cert, tls_certs.a_key, ssl.TLSVersion.TLSv1_1) as control_port:
        version, _ = handshake(control_port, tls11_client_context())
        assert version == "TLSv1.1"

    with pytest.raises((ssl.SSLError, ConnectionError)):
        handshake(proxy.tls_port, tls11_client_context())


def test_tls_1_2_and_1_3_are_accepted(tls_proxy, tls_certs):
    proxy, _ = tls_proxy
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = ssl.create_default_context(cafile=str(tls_certs.ca))
        ctx.minimum_version = ctx.maximum_version = version
        got, _ = handshake(proxy.tls_port, ctx)
        assert got == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]


def test_alpn_negotiates_http_1_1(tls_proxy, tls_certs):
    proxy, _ = tls_proxy
    ctx = ssl.create_default_context(cafile=str(tls_certs.ca))
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    _, alpn = handshake(proxy.tls_port, ctx)
    assert alpn == "http/1.1"


def test_requests_over_tls_carry_x_forwarded_proto_https(tls_proxy, tls_certs):
    proxy, up = tls_proxy
    port = proxy.tls_port
    result = curl("--cacert", str(tls_certs.ca), "--resolve", f"a.test:{port}:127.0.0.1",
                  "-H", "X-Forwarded-Proto: http", f"https://a.test:{port}/proto")
    assert result.returncode == 0, result.stderr
    headers = {k.lower(): v for k, v in up.requests[-1]["headers"]}
    assert headers.get("x-forwarded-proto") == "https"
    assert headers.get("x-forwarded-host") == f"a.test:{port}"


# --- profiles: which protocols and suites the edge offers ---------------------------------


@dataclass
class RSACert:
    cert: Path
    key: Path


@pytest.fixture(scope="module")
def rsa_cert(tls_certs) -> RSACert:
    """An RSA-2048 leaf for r.test (and 127.0.0.1, so testssl finds no name mismatch) from
    the test CA; a year long, so no scanner reports it as about to expire."""
    d = tls_certs.dir
    if not (d / "r.pem").exists():
        openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "r.key", "-out", "r.csr",
                "-subj", "/CN=r.test", cwd=d)
        (d / "r.ext").write_text(
            "subjectAltName=DNS:r.test,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
        openssl("x509", "-req", "-in", "r.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "r.pem", "-days", "365", "-extfile", "r.ext", cwd=d)
    return RSACert(d / "r.pem", d / "r.key")


def openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"openssl {' '.join(args)} failed:\n{result.stderr}"


@pytest.fixture
def profile_proxy(portcullis, upstream, tls_certs, rsa_cert):
    """Starts an edge whose TLS listener has the given `profile` (None: the default), with
    the RSA certificate as default (r.test) and the EC P-256 one for a.test."""
    def start(profile: str | None = None):
        tls = {"certificates": [
            {"certificate": str(rsa_cert.cert), "private_key": str(rsa_cert.key)},
            {"certificate": str(tls_certs.a_cert), "private_key": str(tls_certs.a_key)},
        ]}
        if profile is not None:
            tls["profile"] = profile
        up = upstream(name="app")
        return portcullis(upstreams={"app": pool(up.addr)}, routes=[route("root", "/", "app")],
                          tls=tls["certificates"], tls_listener={"tls": tls})
    return start


def tls12_context(cafile, suite: str) -> ssl.SSLContext:
    """A client that speaks TLS 1.2 only and offers exactly `suite`."""
    ctx = ssl.create_default_context(cafile=str(cafile))
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(f"{suite}:@SECLEVEL=0")
    offered = [c["name"] for c in ctx.get_ciphers() if c["protocol"] != "TLSv1.3"]
    assert offered == [suite], f"this OpenSSL cannot offer {suite} alone: {offered}"
    return ctx


def negotiated(port: int, ctx: ssl.SSLContext, server_hostname: str) -> tuple[str, str]:
    """(protocol version, cipher suite) of a completed handshake."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=server_hostname) as tls:
            return tls.version(), tls.cipher()[0]


# Mozilla's intermediate TLS 1.2 list (without DHE, which BoringSSL lacks), per key type,
# and what it leaves out: CBC with SHA-1 and SHA-2 MACs (LUCKY13) and static RSA (no
# forward secrecy).
INTERMEDIATE_SUITES = {
    "r.test": ["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305"],
    "a.test": ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
               "ECDHE-ECDSA-CHACHA20-POLY1305"],
}
REFUSED_SUITES = {
    "r.test": ["ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA", "ECDHE-RSA-AES128-SHA256", "AES128-SHA",
               "AES128-GCM-SHA256"],
    "a.test": ["ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA", "ECDHE-ECDSA-AES128-SHA256"],
}


@pytest.mark.parametrize("server_name", ["r.test", "a.test"])
def test_default_profile_accepts_only_ecdhe_aead_suites_on_tls_1_2(profile_proxy, tls_certs, rsa_cert,
                                                                   server_name):
    proxy = profile_proxy()
    for suite in INTERMEDIATE_SUITES[server_name]:
        assert negotiated(proxy.tls_port, tls12_context(tls_certs.ca, suite), server_name) == ("TLSv1.2", suite)

    cert, key = ((rsa_cert.cert, rsa_cert.key) if server_name == "r.test"
                 else (tls_certs.a_cert, tls_certs.a_key))
    for suite in REFUSED_SUITES[server_name]:
        with permissive_server(cert, key) as control_port:
            assert negotiated(control_port, tls12_context(tls_certs.ca, suite), server_name) == ("TLSv1.2", suite)
        with pytest.raises(ssl.SSLError, match="HANDSHAKE_FAILURE|NO_SHARED_CIPHER|handshake failure"):
            negotiated(proxy.tls_port, tls12_context(tls_certs.ca, suite), server_name)


def test_modern_profile_refuses_tls_1_2_and_accepts_tls_1_3(portcullis, upstream, tls_certs):
    up = upstream(name="app")
    # The one-certificate shorthand, with the profile beside it.
    proxy = portcullis(
        upstreams={"app": pool(up.addr)}, routes=[route("root", "/", "app")],
        tls=[{"certificate": str(tls_certs.a_cert), "private_key": str(tls_certs.a_key)}],
        tls_listener={"tls": {"certificate": str(tls_certs.a_cert), "private_key": str(tls_certs.a_key),
                              "profile": "modern"}},
    )
    tls12 = tls12_context(tls_certs.ca, "ECDHE-ECDSA-AES128-GCM-SHA256")
    with pytest.raises(ssl.SSLError, match="PROTOCOL_VERSION|protocol version"):
        negotiated(proxy.tls_port, tls12, "a.test")

    ctx = ssl.create_default_context(cafile=str(tls_certs.ca))
    version, suite = negotiated(proxy.tls_port, ctx, "a.test")
    assert version == "TLSv1.3"
    assert suite in ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")


# --- testssl.sh ------------------------------------------------------------------------------

TESTSSL_TIMEOUT = 600  # seconds; a scan takes 30-60 s on an idle 2-core machine

# Severities that fail the scan. testssl also writes OK, INFO and LOW, and WARN/FATAL
# for its own trouble (checked separately).
BLOCKING_SEVERITIES = {"MEDIUM", "HIGH", "CRITICAL"}

# Findings that come from the test certificate, not from the edge's TLS configuration:
# a throw-away CA on 127.0.0.1 is not a public root, publishes no CRL, runs no OCSP
# responder, logs to no CT log and has no DNS name. Nothing else is excluded.
CERTIFICATE_ONLY_FINDINGS = {
    "cert_trust",                  # hostname checks against what testssl was given (127.0.0.1)
    "cert_chain_of_trust",         # a private CA (given with --add-ca, so normally OK)
    "cert_revocation",             # "Neither CRL nor OCSP URI provided"
    "cert_crlDistributionPoints",
    "cert_ocspURL",
    "OCSP_stapling",
    "cert_mustStapleExtension",
    "certificate_transparency",
    "DNS_CAArecord",
}

# testssl's warnings about its own tools that do not touch what it checks here. Debian 12's
# openssl 3.0.22 (deb12u2) no longer loads the GOST engine, so testssl cannot offer GOST
# ciphers itself; the edge (BoringSSL) has none to offer, and every check still runs
# (EXPECTED_CHECKS below).
TESTSSL_OWN_WARNINGS = {"engine_problem"}

# Checks whose absence from the JSON means the scan did not really run (testssl skips
# SWEET32 on a TLS 1.3-only listener, so the modern profile does not expect it).
EXPECTED_CHECKS = {"TLS1", "TLS1_1", "TLS1_2", "TLS1_3", "cipherlist_AVERAGE", "cipherlist_3DES_IDEA",
                   "cipher_order", "LUCKY13", "ROBOT", "heartbleed", "secure_renego", "TLS_session_ticket"}
EXPECTED_TLS12_CHECKS = {"SWEET32", "cipherorder_TLSv1_2"}


def run_testssl(port: int, ca: Path, out: Path, expected: set[str]) -> list[dict]:
    binary = shutil.which("testssl") or shutil.which("testssl.sh")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("testssl is not installed (Debian package testssl.sh; scripts/test installs it)")
        pytest.skip("testssl is not installed (Debian package testssl.sh)")
    json_file = out / "testssl.json"
    command = [
        binary, "--quiet", "--color", "0", "--warnings", "off", "--nodns", "none",
        "--connect-timeout", "60", "--openssl-timeout", "60",
        "--add-ca", str(ca), "--jsonfile", str(json_file),
        "--protocols", "--std", "--server-preference", "--server-defaults", "--vulnerable",
        f"127.0.0.1:{port}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=TESTSSL_TIMEOUT,
                            stdin=subprocess.DEVNULL, cwd=out)
    assert json_file.exists(), f"testssl wrote no JSON (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
    findings = json.loads(json_file.read_text())
    problems = [f for f in findings if f["severity"] in ("FATAL", "WARN") and f["id"] not in TESTSSL_OWN_WARNINGS]
    assert not problems, f"testssl could not complete its checks: {problems}\n{result.stdout[-3000:]}"
    missing = expected - {f["id"] for f in findings}
    assert not missing, f"testssl skipped {sorted(missing)}:\n{result.stdout[-3000:]}"
    return findings


@pytest.mark.timeout(TESTSSL_TIMEOUT + 120)
@pytest.mark.parametrize("profile", ["intermediate", "modern"])
def test_testssl_finds_nothing_above_low(profile_proxy, tls_certs, tmp_path, profile):
    proxy = profile_proxy(profile)
    expected = EXPECTED_CHECKS | (EXPECTED_TLS12_CHECKS if profile == "intermediate" else set())
    findings = run_testssl(proxy.tls_port, tls_certs.ca, tmp_path, expected)
    by_id = {f["id"]: f for f in findings}

    assert by_id["LUCKY13"]["severity"] == "OK", by_id["LUCKY13"]
    assert by_id["cipherlist_AVERAGE"]["finding"] == "not offered"  # testssl's "obsolete CBC"
    assert by_id["TLS1_2"]["finding"] == ("offered" if profile == "intermediate" else "not offered")

    blocking = [f for f in findings
                if f["severity"] in BLOCKING_SEVERITIES and f["id"] not in CERTIFICATE_ONLY_FINDINGS]
    assert not blocking, f"testssl findings above LOW: {json.dumps(blocking, indent=1)}"
    if profile == "intermediate":
        assert by_id["cipher_order"]["severity"] in ("OK", "INFO"), by_id["cipher_order"]
