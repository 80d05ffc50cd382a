"""Mutated WebSocket traffic on socket routes never crashes the edge, leaks no
connections, and leaves it echoing: frames with bad lengths, masks, opcodes, reserved
bits, fragments and control frames, cut at random points, from many clients."""

import os
import random
import socket
import struct
import time

from socketkit import WSClient, frame, raw_connect, socket_route, start_edge
from test_robustness import open_fds

OPCODES = [0x0, 0x1, 0x2, 0x3, 0x8, 0x9, 0xA, 0xB, 0xF]


def random_frame(rng: random.Random) -> bytes:
    """A frame that is valid about half the time."""
    payload = bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 2, 5, 125, 126, 300])))
    if rng.random() < 0.5:
        payload = rng.choice([b"hello", b'{"event":"e","data":1}', "é€𝄞".encode(), b"\xc0\xaf", b"\xed\xa0\x80"])
    data = frame(rng.choice(OPCODES), payload, fin=rng.random() < 0.8, mask=rng.random() < 0.95)
    b = bytearray(data)
    roll = rng.random()
    if roll < 0.15:
        b[0] |= rng.choice([0x40, 0x20, 0x10])  # reserved bits
    elif roll < 0.25 and len(b) > 1:
        b[1] = (b[1] & 0x80) | rng.choice([126, 127])  # length form that does not match
    elif roll < 0.3:
        b[1:2] = bytes([0xFF]) + struct.pack("!Q", 1 << 63)  # 64-bit length with the top bit set
    elif roll < 0.4 and len(b) > 3:
        del b[rng.randrange(2, len(b)):]  # truncated
    return bytes(b)


def test_mutated_frames_never_crash_or_leak_and_sockets_keep_working(portcullis, rooms, redis_url, bus_prefix):
    rooms(redis_url, bus_prefix)
    edge = start_edge(portcullis, redis_url, bus_prefix, [
        socket_route("json", "/ws", max_message_size="64KiB", rate_limit="off"),
        socket_route("raw", "/raw", mode="opaque", max_message_size="64KiB", rate_limit="off"),
    ])
    with WSClient(edge.url("/ws")) as ws:
        ws.emit("warm")
        ws.wait_event("warm")
    time.sleep(0.5)
    baseline = open_fds(edge.pc.pid)
    rng = random.Random(20261122)
    for case in range(int(os.environ.get("E2E_WS_FUZZ_CASES", "400"))):
        try:
            sock = raw_connect(edge.port, rng.choice(["/ws", "/raw"]), timeout=2)
        except (ConnectionError, OSError) as exc:
            raise AssertionError(f"case {case}: handshake failed: {exc}\n{edge.pc.tail()}")
        with sock:
            data = b"".join(random_frame(rng) for _ in range(rng.randint(1, 6)))
            try:
                step = rng.choice([1, 7, 64, 4096])
                for pos in range(0, len(data), step):
                    sock.sendall(data[pos:pos + step])
                if rng.random() < 0.3:
                    sock.shutdown(socket.SHUT_WR)
                sock.settimeout(0.2)
                sock.recv(65536)
            except OSError:
                pass
        assert edge.pc.proc.poll() is None, edge.pc.tail()
    with WSClient(edge.url("/ws")) as ws:
        ws.emit("after", {"n": 1})
        assert ws.wait_event("after")["data"] == {"n": 1}
    deadline = time.monotonic() + 10
    while open_fds(edge.pc.pid) > baseline + 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert open_fds(edge.pc.pid) <= baseline + 2, "connections leaked"
