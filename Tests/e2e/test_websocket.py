"""WebSocket tunnel: a `websockets` client talks through the edge to a `websockets` echo
server upstream."""

import os

import pytest
from websockets.sync.client import connect

from conftest import pool, route
from rawhttp import upgrade_with_first_frame


@pytest.fixture
def ws_proxy(portcullis, ws_upstream, upstream):
    http_up = upstream(name="http")
    proxy = portcullis(
        upstreams={"ws": pool(ws_upstream.addr), "http": pool(http_up.addr)},
        routes=[route("ws", "/ws", "ws"), route("root", "/", "http")])
    return proxy


def open_ws(proxy, path="/ws"):
    return connect(f"ws://127.0.0.1:{proxy.port}{path}", proxy=None, max_size=None,
                   open_timeout=10, close_timeout=5)


def test_websocket_tunnel_echoes_text_and_binary_messages(ws_proxy, ws_upstream):
    with open_ws(ws_proxy, "/ws/chat?room=1") as ws:
        ws.send("hello, edge")
        assert ws.recv(timeout=10) == "hello, edge"
        ws.send("ünïcödé ✓")
        assert ws.recv(timeout=10) == "ünïcödé ✓"
        payload = bytes(range(256)) * 4
        ws.send(payload)
        assert ws.recv(timeout=10) == payload
        for i in range(20):
            ws.send(f"message {i}")
        assert [ws.recv(timeout=10) for _ in range(20)] == [f"message {i}" for i in range(20)]
    assert ws_upstream.paths == ["/ws/chat?room=1"]


def test_websocket_tunnel_carries_a_1mib_message_both_ways(ws_proxy):
    big = os.urandom(1024 * 1024)
    with open_ws(ws_proxy) as ws:
        ws.send(big)
        assert ws.recv(timeout=30) == big
        text = "x" * (1024 * 1024)
        ws.send(text)
        assert ws.recv(timeout=30) == text


def test_plain_requests_still_work_next_to_a_websocket_route(ws_proxy, http):
    with open_ws(ws_proxy) as ws:
        r = http.get(ws_proxy.url("/plain"), timeout=10)
        assert r.status_code == 200
        assert r.json()["server"] == "http"
        ws.send("still open")
        assert ws.recv(timeout=10) == "still open"


def test_a_frame_sent_right_behind_the_upgrade_request_is_tunnelled_too(ws_proxy):
    """Bytes a client pipelines behind its upgrade request must survive the switch from
    HTTP to the byte tunnel (the proxy handler hands them on when it leaves)."""
    received = upgrade_with_first_frame(ws_proxy.port, "/ws", b"early bird")
    assert received.startswith(b"HTTP/1.1 101")
