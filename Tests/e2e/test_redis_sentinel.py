"""Redis Sentinel end to end: a master (`min-replicas-to-write 1`), a replica and a
sentinel started by the test; the edge and portcullis-rooms find the master through
`redis.sentinels` + `redis.master_name`, and a `SENTINEL failover` under light socket
traffic loses no envelope: every message sent before, during and after the switch comes
back as its echo."""

import time

import pytest
import redis as redis_py

from rediskit import RedisServer, Sentinel
from socketkit import WSClient, socket_route, start_edge


@pytest.fixture
def sentinel_setup(tmp_path):
    master = RedisServer(tmp_path / "master", args=["--min-replicas-to-write", "1"])
    replica = RedisServer(tmp_path / "replica", args=["--replicaof", "127.0.0.1", str(master.port)])
    sentinel = None
    try:
        r = redis_py.Redis(host="127.0.0.1", port=replica.port, socket_timeout=5)
        deadline = time.monotonic() + 15
        while r.info("replication").get("master_link_status") != "up":
            assert time.monotonic() < deadline, "the replica did not sync"
            time.sleep(0.05)
        sentinel = Sentinel(tmp_path / "sentinel", master.port)
        yield master, replica, sentinel
    finally:
        for process in (sentinel, replica, master):
            if process is not None:
                process.stop()


def test_a_sentinel_failover_under_light_traffic_loses_no_envelope(portcullis, rooms, sentinel_setup, bus_prefix):
    master, replica, sentinel = sentinel_setup
    # The URL's host is never used: the sentinel names the master.
    url = "redis://127.0.0.1:1/0"
    redis = {"sentinels": [f"127.0.0.1:{sentinel.port}"], "master_name": sentinel.name}
    rooms(url, bus_prefix, redis=redis, wait=False)
    edge = start_edge(portcullis, url, bus_prefix, [socket_route("ws", "/ws")], redis=redis)
    sent = 0
    with WSClient(edge.url("/ws")) as ws:
        def echoed() -> set[int]:
            return {e["data"]["n"] for e in ws.events("tick")}

        ws.emit("tick", {"n": 0})
        ws.wait_for(lambda c: 0 in echoed(), timeout=30, what="the first echo (the master found)")
        sent = 1
        switched_at = None
        started = time.monotonic()
        while time.monotonic() - started < 6:  # one message every 20 ms
            ws.emit("tick", {"n": sent})
            sent += 1
            if switched_at is None and time.monotonic() - started > 1:
                sentinel.failover()
                switched_at = time.monotonic()
            time.sleep(0.02)
        assert sentinel.master()[1] == replica.port, "the failover promoted the replica"
        # Echoes written while the edge still reads the old master arrive once it follows.
        sending_ended = time.monotonic()
        deadline = sending_ended + 30
        while len(echoed()) < sent and time.monotonic() < deadline:
            time.sleep(0.05)
        # The clients ask the sentinels every second, so readers follow at once too (without
        # that, until the sentinels reconfigure the old master: about 10 s).
        late = time.monotonic() - sending_ended
        ticks = [e["data"]["n"] for e in ws.events("tick")]
        lost = set(range(sent)) - set(ticks)
        duplicated = len(ticks) - len(set(ticks))
        refused = [e for e in ws.events("error")]
        assert not lost, (f"{len(lost)} of {sent} envelopes lost: {sorted(lost)[:20]}; {duplicated} duplicated; "
                          f"{len(refused)} refused by the edge: {refused[:3]}")
        assert not refused
        assert late < 5, f"the last echoes came {late:.1f} s after the last message"
    assert "Redis master found through Sentinel" in edge.pc.stderr()
