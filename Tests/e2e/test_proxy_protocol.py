"""PROXY protocol (v1 and v2) on a listener behind an L4 balancer: the header names the
client, whose address the edge then states upstream; a connection without one, or from
a peer outside `trusted_proxies`, is closed before any request is read."""

from __future__ import annotations

import socket
import ssl
import struct

from conftest import pool, route

REQUEST = b"GET /x HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n"
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def v2_header(client: str) -> bytes:
    addresses = socket.inet_aton(client) + socket.inet_aton("127.0.0.1") + struct.pack("!HH", 40000, 80)
    return V2_SIGNATURE + bytes([0x21, 0x11]) + struct.pack("!H", len(addresses)) + addresses


def exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


def seen_headers(up) -> dict:
    return {k.lower(): v for k, v in up.requests[-1]["headers"]}


def test_a_v1_or_v2_header_names_the_client_the_upstream_is_told_about(portcullis, upstream):
    up = upstream(name="app")
    proxy = portcullis(upstreams={"app": pool(up.addr)}, routes=[route("root", "/", "app")],
                       listener={"proxy_protocol": True})
    answer = exchange(proxy.port, b"PROXY TCP4 203.0.113.7 127.0.0.1 51000 80\r\n" + REQUEST)
    assert answer.startswith(b"HTTP/1.1 200")
    assert seen_headers(up)["x-forwarded-for"] == "203.0.113.7"
    assert seen_headers(up)["x-real-ip"] == "203.0.113.7"
    answer = exchange(proxy.port, v2_header("198.51.100.9") + REQUEST)
    assert answer.startswith(b"HTTP/1.1 200")
    assert seen_headers(up)["x-forwarded-for"] == "198.51.100.9"


def test_a_connection_without_a_header_or_from_an_untrusted_peer_is_closed_unanswered(portcullis, upstream):
    up = upstream(name="app")
    proxy = portcullis(upstreams={"app": pool(up.addr)}, routes=[route("root", "/", "app")],
                       listener={"proxy_protocol": True})
    assert exchange(proxy.port, REQUEST) == b""
    guarded = portcullis(upstreams={"app": pool(up.addr)}, routes=[route("root", "/", "app")],
                         listener={"proxy_protocol": True, "trusted_proxies": ["192.0.2.0/24"]})
    assert exchange(guarded.port, b"PROXY TCP4 203.0.113.7 127.0.0.1 51000 80\r\n" + REQUEST) == b""
    assert up.requests == []


def test_the_header_comes_before_the_tls_handshake(portcullis, upstream, tls_certs):
    up = upstream(name="app")
    proxy = portcullis(
        upstreams={"app": pool(up.addr)}, routes=[route("root", "/", "app")],
        tls=[{"certificate": str(tls_certs.a_cert), "private_key": str(tls_certs.a_key)}],
        tls_listener={"proxy_protocol": True})
    context = ssl.create_default_context(cafile=str(tls_certs.ca))
    with socket.create_connection(("127.0.0.1", proxy.tls_port), timeout=10) as raw:
        raw.sendall(b"PROXY TCP4 203.0.113.8 127.0.0.1 51000 443\r\n")
        with context.wrap_socket(raw, server_hostname="a.test") as tls:
            tls.sendall(REQUEST.replace(b"site.test", b"a.test"))
            answer = b""
            while chunk := tls.recv(65536):
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 200")
    assert seen_headers(up)["x-forwarded-for"] == "203.0.113.8"
    assert seen_headers(up)["x-forwarded-proto"] == "https"
