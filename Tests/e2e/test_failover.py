"""Upstream failures: a failed connect is retried once on another server for idempotent
requests (not for POST), and a server with `max_fails` consecutive connect failures is
skipped for `fail_timeout`."""

import http.client
import time

from conftest import pool, route


def send(proxy, method: str, path: str) -> int:
    """One request on a fresh client connection (so requests spread over event loops)."""
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=15)
    try:
        conn.request(method, path, body=b"payload" if method == "POST" else None)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def test_get_is_retried_on_the_other_server_when_connect_fails(portcullis, upstream, dead_addr):
    alive = upstream(name="alive")
    proxy = portcullis(
        upstreams={"app": pool(dead_addr, alive.addr, max_fails=1000, fail_timeout="30s")},
        routes=[route("root", "/", "app")])
    statuses = [send(proxy, "GET", f"/get/{i}") for i in range(20)]
    assert statuses == [200] * 20
    assert len(alive.requests) == 20


def test_post_is_not_retried_when_connect_fails(portcullis, upstream, dead_addr):
    alive = upstream(name="alive")
    proxy = portcullis(
        upstreams={"app": pool(dead_addr, alive.addr, max_fails=1000, fail_timeout="30s")},
        routes=[route("root", "/", "app")])
    statuses = [send(proxy, "POST", f"/post/{i}") for i in range(12)]
    assert set(statuses) <= {200, 502}, statuses
    assert 502 in statuses, f"no POST failed although half of them go to a dead server: {statuses}"
    assert 200 in statuses, statuses
    assert len(alive.requests) == statuses.count(200)


def test_server_with_repeated_connect_failures_is_ejected(portcullis, upstream, dead_addr):
    alive = upstream(name="alive")
    proxy = portcullis(
        upstreams={"app": pool(dead_addr, alive.addr, max_fails=2, fail_timeout="60s")},
        routes=[route("root", "/", "app")])
    # POSTs are not retried, so every POST sent to the dead server fails visibly.
    statuses = [send(proxy, "POST", f"/post/{i}") for i in range(30)]
    assert 502 in statuses, f"the dead server never got a POST: {statuses}"
    assert statuses[-15:] == [200] * 15, f"dead server still picked after ejection: {statuses}"


def test_ejected_server_gets_traffic_again_after_fail_timeout(portcullis, upstream, dead_addr):
    alive = upstream(name="alive")
    proxy = portcullis(
        upstreams={"app": pool(dead_addr, alive.addr, max_fails=1, fail_timeout="2s")},
        routes=[route("root", "/", "app")])
    statuses = [send(proxy, "POST", f"/eject/{i}") for i in range(8)]
    assert 502 in statuses, statuses
    # The dead server comes back on the same port; once fail_timeout has passed the edge
    # tries it again and it starts getting requests.
    revived = upstream(name="revived", port=int(dead_addr.rsplit(":", 1)[1]))
    time.sleep(2.5)
    statuses = [send(proxy, "GET", f"/after/{i}") for i in range(12)]
    assert statuses == [200] * 12
    assert len(revived.requests) >= 1, "the recovered server never got traffic again"
