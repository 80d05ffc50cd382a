"""Malformed and mutated HTTP from many clients never crashes the edge, leaks no
connections, and leaves it serving."""

import os
import random
import socket
import time

from conftest import pool, route

SEEDS = [
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello",
    b"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nConnection: close\r\n\r\n",
    b"GET / HTTP/1.0\r\n\r\n",
]
INSERTS = [b"\r\n", b"\r\n\r\n", b":", b" ", b"0\r\n", b"ffffffff\r\n",
           b"Content-Length: 99999999999999999999\r\n", b"Transfer-Encoding: chunked\r\n"]


def mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op, i = rng.random(), rng.randrange(len(b) + 1)
        if op < 0.3 and b:
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif op < 0.5:
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 20)))
        elif op < 0.7 and b:
            del b[i:i + rng.randint(1, 10)]
        elif op < 0.85:
            b[i:i] = rng.choice(INSERTS)
        else:
            b += rng.choice(SEEDS)
    return bytes(b)


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_mutated_requests_never_crash_or_leak_and_the_edge_keeps_serving(portcullis, upstream, http):
    up = upstream(name="app")
    proxy = portcullis(upstreams={"app": pool(up.addr, response_timeout="2s")},
                       routes=[route("small", "/x", "app", max_body_size="1KiB"), route("root", "/", "app")],
                       listener={"max_header_size": "8KiB"})
    assert http.get(proxy.url("/warm"), timeout=5).status_code == 200
    time.sleep(0.5)
    baseline = open_fds(proxy.pid)
    rng = random.Random(20261122)
    for _ in range(int(os.environ.get("E2E_FUZZ_CASES", "1500"))):
        data = mutate(rng, rng.choice(SEEDS))
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=2) as s:
            try:
                for pos in range(0, len(data), 64):
                    s.sendall(data[pos:pos + 64])
                if rng.random() < 0.5:
                    s.shutdown(socket.SHUT_WR)
                s.recv(65536)
            except OSError:
                pass
        assert proxy.proc.poll() is None, proxy.tail()
    assert http.get(proxy.url("/after"), timeout=5).status_code == 200
    deadline = time.monotonic() + 10
    while open_fds(proxy.pid) > baseline + 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert open_fds(proxy.pid) <= baseline + 2, "connections leaked"
