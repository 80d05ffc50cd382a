"""Error answers the client sees: 400, 404, 413, 431, 502, 504."""

import select
import socket
import threading
import time

import pytest

from conftest import pool, route
from rawhttp import RawConnection, request_bytes
from upstreams import read_request_head, reset

KiB = 1024
MiB = 1024 * KiB


@pytest.fixture
def limited(portcullis, upstream):
    """A route with max_body_size 1MiB on an echo upstream."""
    up = upstream(name="app")
    proxy = portcullis(upstreams={"app": pool(up.addr)},
                       routes=[route("upload", "/", "app", max_body_size="1MiB")])
    return proxy, up


@pytest.mark.parametrize("garbage", [
    b"THIS IS NOT HTTP AT ALL\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a.test\r\nthis header line has no colon\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a.test\r\nContent-Length: banana\r\n\r\n",
], ids=["request-line", "header-line", "content-length"])
def test_malformed_request_gets_400(limited, garbage):
    proxy, up = limited
    with RawConnection(proxy.port, timeout=10) as conn:
        conn.send(garbage)
        resp = conn.read_response()
    assert resp.status == 400
    assert up.requests == []


def test_content_length_over_route_limit_gets_413_before_the_body_is_sent(limited):
    proxy, up = limited
    with RawConnection(proxy.port, timeout=10) as conn:
        conn.send(request_bytes("POST", "/upload", headers=[("Content-Length", str(2 * MiB))]))
        resp = conn.read_response()  # no body byte was sent
    assert resp.status == 413
    assert up.requests == []


def test_content_length_at_route_limit_is_accepted(limited, http):
    proxy, up = limited
    r = http.post(proxy.url("/upload"), data=b"x" * MiB, timeout=30)
    assert r.status_code == 200
    assert r.json()["body_len"] == MiB


def test_chunked_body_over_route_limit_gets_413(limited):
    proxy, up = limited
    chunk = b"y" * (64 * KiB)
    with RawConnection(proxy.port, timeout=10) as conn:
        conn.send(request_bytes("POST", "/upload", headers=[("Transfer-Encoding", "chunked")]))
        sent = 0
        try:
            while sent < 4 * MiB:
                readable, _, _ = select.select([conn.sock], [], [], 0)
                if readable:
                    break  # the edge answered already
                conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
            else:
                conn.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the edge stopped reading, as it may
        resp = conn.read_response()
    assert resp.status == 413
    assert all(q["body_len"] <= MiB for q in up.requests), "upstream got an oversized body"


def test_headers_over_the_default_32kib_limit_get_431(limited, http):
    proxy, up = limited
    ok = http.get(proxy.url("/"), headers={"X-Big": "a" * (20 * KiB)}, timeout=10)
    assert ok.status_code == 200
    r = http.get(proxy.url("/"), headers={"X-Big": "a" * (40 * KiB)}, timeout=10)
    assert r.status_code == 431
    assert len(up.requests) == 1


def test_listener_max_header_size_is_configurable(portcullis, upstream, http):
    up = upstream(name="app")
    proxy = portcullis(upstreams={"app": pool(up.addr)}, routes=[route("root", "/", "app")],
                       listener={"max_header_size": "8KiB"})
    ok = http.get(proxy.url("/"), headers={"X-Big": "a" * (4 * KiB)}, timeout=10)
    assert ok.status_code == 200
    r = http.get(proxy.url("/"), headers={"X-Big": "a" * (10 * KiB)}, timeout=10)
    assert r.status_code == 431
    many = {f"X-H{i}": "b" * 100 for i in range(100)}  # 100 headers, ~11 KiB in all
    assert http.get(proxy.url("/"), headers=many, timeout=10).status_code == 431
    assert len(up.requests) == 1


def test_upstream_refusing_connections_gets_502(portcullis, dead_addr, http):
    proxy = portcullis(upstreams={"app": pool(dead_addr)}, routes=[route("root", "/", "app")])
    started = time.monotonic()
    r = http.get(proxy.url("/"), timeout=10)
    assert r.status_code == 502
    assert time.monotonic() - started < 5


def test_upstream_resetting_before_responding_gets_502(portcullis, raw_upstream, http):
    def read_then_reset(sock: socket.socket):
        read_request_head(sock)
        reset(sock)

    up = raw_upstream(read_then_reset)
    proxy = portcullis(upstreams={"app": pool(up.addr)}, routes=[route("root", "/", "app")])
    r = http.get(proxy.url("/"), timeout=10)
    assert r.status_code == 502
    assert up.connections >= 1


def test_upstream_closing_mid_response_does_not_look_complete(portcullis, raw_upstream):
    """The upstream promises 1000 body bytes, sends 10 and resets: the client must not
    receive a response that looks whole."""

    def short_body(sock: socket.socket):
        read_request_head(sock)
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
        time.sleep(0.2)
        reset(sock)

    up = raw_upstream(short_body)
    proxy = portcullis(upstreams={"app": pool(up.addr)}, routes=[route("root", "/", "app")])
    with RawConnection(proxy.port, timeout=10) as conn:
        conn.send(request_bytes("GET", "/"))
        try:
            resp = conn.read_response()
        except TimeoutError:
            pytest.fail("the client connection was left hanging after the upstream reset")
        except (ConnectionError, OSError):
            return  # truncated, as the client must see it
    assert resp.status == 502, f"truncated upstream response passed off as whole: {resp}"


def test_upstream_slower_than_response_timeout_gets_504(portcullis, upstream, http):
    release = threading.Event()

    def slow(req):
        req.read_body()
        release.wait(10)
        req.send_bytes(200, b"too late")

    up = upstream(slow, name="slow")
    proxy = portcullis(upstreams={"app": pool(up.addr, response_timeout="1s")},
                       routes=[route("root", "/", "app")])
    started = time.monotonic()
    try:
        r = http.get(proxy.url("/"), timeout=15)
    finally:
        release.set()
    elapsed = time.monotonic() - started
    assert r.status_code == 504
    assert 0.8 <= elapsed < 5, f"504 after {elapsed:.1f}s with response_timeout 1s"
