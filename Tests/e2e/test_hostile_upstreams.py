"""Responses with ambiguous framing from an upstream: 502 at the edge, and the upstream
connection that carried them is never used again (where its next response starts is in
doubt). A response that breaks its framing after it started is cut: the client connection
closes."""

from __future__ import annotations

import http.client

import pytest

from conftest import pool, route
from rawhttp import RawConnection, request_bytes
from upstreams import read_request_head

BAD_HEADS = {
    "length-and-chunked": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "two-lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello",
    "same-length-twice": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
    "signed-length": b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
    "gzip-coding": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nhello",
    "unparsable": b"HTTP/1.1 200 OK\r\nX-A b\r\n\r\n",
    "bare-lf": b"HTTP/1.1 200 OK\nContent-Length: 4\n\ngood",
    "obs-fold": b"HTTP/1.1 200 OK\r\nX-A: b\r\n c\r\nContent-Length: 4\r\n\r\ngood",
    "nul-in-value": b"HTTP/1.1 200 OK\r\nX-A: b\x00c\r\nContent-Length: 4\r\n\r\ngood",
    "cr-in-value": b"HTTP/1.1 200 OK\r\nX-A: b\rSet-Cookie: x=1\r\nContent-Length: 4\r\n\r\ngood",
    "http2-status-line": b"HTTP/2.0 200 OK\r\nContent-Length: 4\r\n\r\ngood",
    "unsolicited-101": b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
}


def serve_then_good(bad: bytes):
    """An upstream whose first connection answers `bad` and whose later ones answer well."""
    state = {"connections": 0}

    def handler(sock):
        state["connections"] += 1
        first = state["connections"] == 1
        while True:
            head = read_request_head(sock)
            if not head:
                return
            if first:
                sock.sendall(bad)
            else:
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood")

    return handler, state


def get(port, path="/x"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": "site.test"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@pytest.mark.parametrize("name", list(BAD_HEADS))
def test_an_ambiguous_upstream_response_is_a_502_and_its_connection_is_discarded(
        name, portcullis, raw_upstream):
    handler, state = serve_then_good(BAD_HEADS[name])
    up = raw_upstream(handler)
    proxy = portcullis(upstreams={"app": pool(up.addr)}, routes=[route("root", "/", "app")])
    status, _ = get(proxy.port)
    assert status == 502
    assert state["connections"] == 1, "a GET with an invalid answer must not be replayed"
    status, body = get(proxy.port)
    assert (status, body) == (200, b"good")
    assert state["connections"] == 2, "the connection that carried the invalid response was reused"


def test_a_chunked_response_that_breaks_mid_body_cuts_the_client_connection(portcullis, raw_upstream):
    def handler(sock):
        read_request_head(sock)
        sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n")
        sock.recv(1)

    up = raw_upstream(handler)
    proxy = portcullis(upstreams={"app": pool(up.addr)}, routes=[route("root", "/", "app")])
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    conn.request("GET", "/x", headers={"Host": "site.test"})
    resp = conn.getresponse()
    assert resp.status == 200
    with pytest.raises(http.client.IncompleteRead):
        resp.read()
    conn.close()


def answer_each_request_with(response: bytes):
    def handler(sock):
        while read_request_head(sock):
            sock.sendall(response)

    return handler


def test_interim_responses_are_dropped_and_the_final_one_relayed(portcullis, raw_upstream):
    up = raw_upstream(answer_each_request_with(
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal"))
    proxy = portcullis(upstreams={"app": pool(up.addr)}, routes=[route("root", "/", "app")])
    with RawConnection(proxy.port) as conn:
        for _ in range(2):
            conn.send(request_bytes("GET", "/x", host="site.test"))
            response = conn.read_response()
            assert (response.status, response.body) == (200, b"final")
            assert response.header("link") is None


def test_a_body_delimited_by_the_upstreams_close_reaches_the_client_whole_then_the_connection_closes(
        portcullis, raw_upstream):
    body = b"x" * 100_000

    def handler(sock):
        read_request_head(sock)
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + body)
        sock.close()

    up = raw_upstream(handler)
    proxy = portcullis(upstreams={"app": pool(up.addr)}, routes=[route("root", "/", "app")])
    with RawConnection(proxy.port) as conn:
        conn.send(request_bytes("GET", "/x", host="site.test"))
        response = conn.read_response()
        assert response.status == 200
        assert response.header("connection") == "close"
        assert response.header("transfer-encoding") is None
        assert response.body == body


def test_a_chunked_response_is_relayed_chunked_to_http11_and_dechunked_to_http10(portcullis, raw_upstream):
    up = raw_upstream(answer_each_request_with(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Kept: yes\r\n\r\n"
        b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: 42\r\n\r\n"))
    proxy = portcullis(upstreams={"app": pool(up.addr)}, routes=[route("root", "/", "app")])
    with RawConnection(proxy.port) as conn:
        conn.send(request_bytes("GET", "/x", host="site.test"))
        response = conn.read_response()
        assert (response.status, response.body) == (200, b"hello world")
        assert response.header("transfer-encoding") == "chunked"
        assert response.header("x-kept") == "yes"
        conn.send(request_bytes("GET", "/again", host="site.test"))
        assert conn.read_response().body == b"hello world", "the client connection stays open"
    with RawConnection(proxy.port) as conn:
        conn.send(b"GET /x HTTP/1.0\r\nHost: site.test\r\n\r\n")
        raw = conn.file.read()
    head, _, payload = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200 OK\r\n")
    assert b"transfer-encoding" not in head.lower()
    assert b"connection: close" in head.lower()
    assert payload == b"hello world"


def test_a_head_request_gets_the_head_and_the_connection_carries_on(portcullis, raw_upstream):
    up = raw_upstream(answer_each_request_with(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n"))
    proxy = portcullis(upstreams={"app": pool(up.addr)}, routes=[route("root", "/", "app")])
    with RawConnection(proxy.port) as conn:
        for _ in range(2):
            conn.send(request_bytes("HEAD", "/x", host="site.test"))
            response = conn.read_response("HEAD")
            assert response.status == 200
            assert response.header("content-length") == "12"
