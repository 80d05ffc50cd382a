"""TLS listener: certificates by SNI with the first as default, TLS 1.1 refused, ALPN
http/1.1, and X-Forwarded-Proto https."""

import shutil
import socket
import ssl
import subprocess
import threading

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


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated:DeprecationWarning")
def test_tls_1_1_is_refused(tls_proxy, tls_certs):
    proxy, _ = tls_proxy
    # Control: this client does speak TLS 1.1 to a server that allows it, so a refusal
    # below comes from the edge and not from the client's own OpenSSL policy.
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    server_ctx.minimum_version = ssl.TLSVersion.TLSv1_1
    server_ctx.load_cert_chain(tls_certs.a_cert, tls_certs.a_key)
    listener = socket.create_server(("127.0.0.1", 0))
    control_port = listener.getsockname()[1]

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
        version, _ = handshake(control_port, tls11_client_context())
        assert version == "TLSv1.1"
    finally:
        t.join(timeout=5)
        listener.close()

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
