"""Responses with ambiguous framing from an upstream: 502 at the edge, and the upstream
connection that carried them is never used again (where its next response starts is in
doubt). A response that breaks its framing after it started is cut: the client connection
closes."""

from __future__ import annotations

import http.client

import pytest

from conftest import pool, route
from upstreams import read_request_head

BAD_HEADS = {
    "length-and-chunked": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "two-lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello",
    "same-length-twice": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
    "signed-length": b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
    "gzip-coding": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nhello",
    "unparsable": b"HTTP/1.1 200 OK\r\nX-A b\r\n\r\n",
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
