"""HTTP/1.1 connection behaviour: upstream keep-alive reuse, Expect: 100-continue,
pipelining, chunked bodies in both directions."""

import http.client
import os
import threading
import time
import zlib

import pytest
import requests

from conftest import pool, route
from rawhttp import RawConnection, request_bytes

REQUESTS = 50


@pytest.fixture
def echo_proxy(portcullis, upstream):
    up = upstream(name="app")
    proxy = portcullis(upstreams={"app": pool(up.addr, max_idle_per_server=8)},
                       routes=[route("root", "/", "app")])
    return proxy, up


def test_sequential_requests_on_one_client_connection_reuse_upstream_connections(echo_proxy):
    proxy, up = echo_proxy
    session = requests.Session()
    session.trust_env = False
    for i in range(REQUESTS):
        r = session.get(proxy.url(f"/seq/{i}"), timeout=10)
        assert r.status_code == 200
        assert r.json()["path"] == f"/seq/{i}"
    session.close()
    assert len(up.requests) == REQUESTS
    assert up.connections <= 4, f"{up.connections} upstream connections for {REQUESTS} requests"


def test_requests_on_fresh_client_connections_reuse_upstream_connections(echo_proxy):
    proxy, up = echo_proxy
    for i in range(REQUESTS):
        conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
        conn.request("GET", f"/fresh/{i}")
        resp = conn.getresponse()
        assert resp.status == 200
        resp.read()
        conn.close()
    assert len(up.requests) == REQUESTS
    assert up.connections <= 4, f"{up.connections} upstream connections for {REQUESTS} requests"


def test_small_requests_on_reused_connections_are_not_stalled_by_delayed_acks(echo_proxy):
    """Head and body written separately without TCP_NODELAY wait ~40 ms each time for the
    peer's delayed ACK; a person sees that as a slow API."""
    proxy, _ = echo_proxy
    session = requests.Session()
    session.trust_env = False
    timings = []
    for i in range(30):
        started = time.monotonic()
        r = session.post(proxy.url(f"/small/{i}"), data=b"k=v&" * 64, timeout=10)
        timings.append(time.monotonic() - started)
        assert r.status_code == 200
    session.close()
    median = sorted(timings[5:])[len(timings[5:]) // 2]
    assert median < 0.025, f"median {median * 1000:.0f} ms per request on a reused connection"


def test_expect_100_continue_gets_interim_response_before_the_body(echo_proxy):
    proxy, up = echo_proxy
    body = b"hello, body"
    with RawConnection(proxy.port, timeout=5) as conn:
        conn.send(request_bytes("POST", "/expect", headers=[
            ("Expect", "100-continue"), ("Content-Length", str(len(body)))]))
        interim = conn.read_response()  # must arrive while we hold the body back
        assert interim.status == 100
        conn.send(body)
        final = conn.read_response("POST")
    assert final.status == 200
    assert up.requests[-1]["body_len"] == len(body)
    assert up.requests[-1]["body_crc32"] == zlib.crc32(body)


def test_pipelined_requests_are_answered_in_order(portcullis, upstream):
    def by_path(req):
        req.read_body()
        if req.path == "/second-slow":
            time.sleep(0.5)
        req.send_bytes(200, req.path.encode(), content_type="text/plain")

    up = upstream(by_path, name="app")
    proxy = portcullis(upstreams={"app": pool(up.addr)}, routes=[route("root", "/", "app")])
    paths = ["/first", "/second-slow", "/third"]
    with RawConnection(proxy.port, timeout=10) as conn:
        conn.send(b"".join(request_bytes("GET", p) for p in paths))  # one write
        responses = [conn.read_response() for _ in paths]
    assert [r.status for r in responses] == [200, 200, 200]
    assert [r.body.decode() for r in responses] == paths


def test_chunked_request_body_reaches_the_upstream_whole(echo_proxy):
    proxy, up = echo_proxy
    chunks = [os.urandom(n) for n in (1, 100, 8191, 65536, 300_000, 7)]
    whole = b"".join(chunks)
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=20)
    conn.request("POST", "/chunked-in", body=iter(chunks), encode_chunked=True,
                 headers={"Transfer-Encoding": "chunked"})
    resp = conn.getresponse()
    echo = resp.read()
    conn.close()
    assert resp.status == 200, echo
    assert up.requests[-1]["body_len"] == len(whole)
    assert up.requests[-1]["body_crc32"] == zlib.crc32(whole)


def test_chunked_response_is_relayed_intact_and_as_it_arrives(portcullis, upstream):
    first_seen = threading.Event()
    pieces = [b"first piece\n"] + [os.urandom(n) for n in (1, 4096, 70_000, 3)] + [b"end"]

    def chunked(req):
        req.read_body()
        # After the first chunk the upstream waits until the client has it: a proxy that
        # buffers the whole response would stall here until the wait times out.
        req.send_chunked(pieces, between=lambda i: first_seen.wait(5) if i == 0 else None)

    up = upstream(chunked, name="app")
    proxy = portcullis(upstreams={"app": pool(up.addr)}, routes=[route("root", "/", "app")])
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=20)
    started = time.monotonic()
    conn.request("GET", "/stream")
    resp = conn.getresponse()
    assert resp.status == 200
    got = resp.read1(len(pieces[0]))
    while len(got) < len(pieces[0]):
        more = resp.read1(len(pieces[0]) - len(got))
        assert more, "response ended early"
        got += more
    first_after = time.monotonic() - started
    first_seen.set()
    rest = resp.read()
    conn.close()
    assert got == pieces[0]
    assert got + rest == b"".join(pieces)
    assert first_after < 4, f"first chunk reached the client only after {first_after:.1f}s"


def test_idle_keep_alive_connections_close_after_idle_timeout_but_slow_responses_do_not(
        portcullis, upstream):
    def app(req):
        req.read_body()
        if req.path == "/slow":
            time.sleep(2.5)
        req.send_bytes(200, b"ok", content_type="text/plain")

    up = upstream(app, name="app")
    proxy = portcullis(upstreams={"app": pool(up.addr)}, routes=[route("root", "/", "app")],
                       listener={"idle_timeout": "1s"})
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    conn.request("GET", "/slow")  # longer than the idle timeout, still answered
    assert conn.getresponse().read() == b"ok"
    conn.request("GET", "/quick")
    assert conn.getresponse().read() == b"ok"
    sock = conn.sock
    sock.settimeout(5)
    started = time.monotonic()
    assert sock.recv(1) == b"", "idle connection was not closed"
    assert 0.5 <= time.monotonic() - started <= 3.5
    conn.close()
