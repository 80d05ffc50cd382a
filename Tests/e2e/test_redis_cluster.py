"""Redis Cluster end to end: a local cluster of three masters started by the test (each
node with an append-only file); the edge and portcullis-rooms in cluster mode
(`redis.cluster` seeds), two apps on two different masters (`echo` for plain WebSocket
clients, `socketio-reference` for python-socketio clients), and the echo app's slot moved
to the third master under traffic (IMPORTING/MIGRATING, MIGRATE a few keys at a time, then
NODE), so that the clients follow -ASK while it runs and -MOVED after; then a manual
failover (`CLUSTER FAILOVER`) of the echo app's master to a replica under traffic. Every
message sent before, during and after comes back: 0 lost; duplicates, if any, only as the
bus documents (at-least-once)."""

import threading
import time

import pytest
import requests
import socketio

from rediskit import RedisCluster
from socketkit import WSClient, socket_route, start_edge

ECHO, SIO = "echo", "socketio-reference"
WAIT = 30.0  # generous: a loaded 2-core machine


@pytest.fixture
def cluster(tmp_path):
    c = RedisCluster(tmp_path / "cluster", masters=3)
    try:
        yield c
    finally:
        c.stop()


class SioRecorder:
    """The `n` of every `message-back` a python-socketio client received."""

    def __init__(self, edge):
        self.seen: list[int] = []
        self.lock = threading.Lock()
        http = requests.Session()
        http.trust_env = False
        self.sio = socketio.Client(reconnection=False, http_session=http)
        self.sio.on("message-back", self.record)
        self.sio.connect(f"http://127.0.0.1:{edge.port}", transports=["websocket"], namespaces=["/"],
                         wait_timeout=WAIT)

    def record(self, data):
        with self.lock:
            self.seen.append(data["n"])

    def ns(self) -> list[int]:
        with self.lock:
            return list(self.seen)


def count(sent: int, received: list[int]) -> tuple[set[int], int]:
    """(lost numbers, duplicated receptions) of messages 0..<sent."""
    return set(range(sent)) - set(received), len(received) - len(set(received))


def test_apps_on_different_masters_lose_no_envelope_while_a_slot_moves(cluster, portcullis, rooms, bus_prefix):
    # `cluster` first: it is stopped last, after the edge and the worker.
    url = f"redis://{cluster.seeds[0]}/0"  # credentials and TLS would come from here; the host is not used
    redis = {"cluster": cluster.seeds}
    rooms(url, bus_prefix, apps=(ECHO, SIO), redis=redis, wait=False)
    routes = [socket_route("ws", "/ws", ECHO),
              socket_route("sio", "/socket.io", SIO, protocol="socketio", socketio={"namespaces": ["/"]})]
    edge = start_edge(portcullis, url, bus_prefix, routes, redis=redis)

    echo_stream, sio_stream = f"{bus_prefix}:in:{{{ECHO}}}", f"{bus_prefix}:in:{{{SIO}}}"
    source = cluster.owner(echo_stream)
    assert source != cluster.owner(sio_stream), "the two apps' keys are on different masters"
    target = next(i for i in range(3) if i not in (source, cluster.owner(sio_stream)))

    ws = [WSClient(edge.url("/ws")) for _ in range(2)]
    sio = [SioRecorder(edge) for _ in range(2)]
    try:
        def echoed(client) -> list[int]:
            return [e["data"]["n"] for e in client.events("tick")]

        # Warm-up: one round trip per client (the worker found the groups, the edge reads).
        for client in ws:
            client.emit("tick", {"n": 0})
            client.wait_for(lambda c: 0 in echoed(c), timeout=WAIT, what="the first echo")
        for client in sio:
            client.sio.emit("message", {"n": 0})
        deadline = time.monotonic() + WAIT
        while not all(0 in c.ns() for c in sio):
            assert time.monotonic() < deadline, "no first message-back"
            time.sleep(0.05)
        assert cluster.owner(echo_stream) == source and cluster.client(source).exists(echo_stream)

        slot = cluster.client(0).execute_command("CLUSTER", "KEYSLOT", echo_stream)
        asking_before = int(cluster.client(target).info("commandstats").get("cmdstat_asking", {}).get("calls", 0))
        errors: list[BaseException] = []
        moved: list[int] = []

        def move() -> None:
            try:
                moved.append(cluster.migrate_slot(slot, source, target, keys_per_step=5, pause=0.05))
            except BaseException as error:  # reported by the test thread
                errors.append(error)

        migration = threading.Thread(target=move)
        sent, moved_at = 1, None
        started = time.monotonic()
        while moved_at is None or time.monotonic() - moved_at < 2:  # until 2 s after the move
            for client in ws:  # one message per client every 20 ms
                client.emit("tick", {"n": sent})
            for client in sio:
                client.sio.emit("message", {"n": sent})
            sent += 1
            if migration.ident is None and time.monotonic() - started > 1:
                migration.start()
            if migration.ident is not None and moved_at is None and not migration.is_alive():
                moved_at = time.monotonic()
            assert time.monotonic() - started < 40, "the slot move did not finish"
            time.sleep(0.02)
        migration.join()
        assert not errors, f"the slot move failed: {errors[0]!r}"
        assert cluster.owner(echo_stream) == target, "the echo app's slot moved"
        assert cluster.client(target).exists(echo_stream)
        assert cluster.client(source).execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 0

        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and not (
                all(set(range(sent)) <= set(echoed(c)) for c in ws)
                and all(set(range(sent)) <= set(c.ns()) for c in sio)):
            time.sleep(0.05)
        results = {}
        for name, received in ([(f"ws{i}", echoed(c)) for i, c in enumerate(ws)]
                               + [(f"sio{i}", c.ns()) for i, c in enumerate(sio)]):
            results[name] = count(sent, received)
        summary = {name: f"{len(lost)} lost, {dup} duplicated of {sent}" for name, (lost, dup) in results.items()}
        asking = int(cluster.client(target).info("commandstats").get("cmdstat_asking", {}).get("calls", 0))
        print(f"\nRedis Cluster slot move under traffic ({moved[0]} keys moved, {asking - asking_before} ASKING): "
              f"{summary}")
        assert all(not lost for lost, _ in results.values()), f"envelopes lost: {summary}; {edge.pc.tail()}"
        assert asking > asking_before, "no client followed an -ASK during the move"
    finally:
        for client in ws:
            client.close()
        for client in sio:
            client.sio.disconnect()
    assert "Redis Cluster slot map read" in edge.pc.stderr()


def test_a_failover_to_a_replica_under_traffic_loses_no_envelope(cluster, portcullis, rooms, bus_prefix):
    url = f"redis://{cluster.seeds[0]}/0"
    redis = {"cluster": cluster.seeds}
    rooms(url, bus_prefix, apps=(ECHO,), redis=redis, wait=False)
    edge = start_edge(portcullis, url, bus_prefix, [socket_route("ws", "/ws", ECHO)], redis=redis)
    echo_stream = f"{bus_prefix}:in:{{{ECHO}}}"
    master = cluster.owner(echo_stream)
    replica = cluster.add_replica(master)

    ws = [WSClient(edge.url("/ws")) for _ in range(2)]
    try:
        def echoed(client) -> list[int]:
            return [e["data"]["n"] for e in client.events("tick")]

        for client in ws:
            client.emit("tick", {"n": 0})
            client.wait_for(lambda c: 0 in echoed(c), timeout=WAIT, what="the first echo")
        sent, switched_at, asked_at = 1, None, None
        started = time.monotonic()
        while switched_at is None or time.monotonic() - switched_at < 2:  # until 2 s after the switch
            for client in ws:  # one message per client every 20 ms
                client.emit("tick", {"n": sent})
            sent += 1
            elapsed = time.monotonic() - started
            if switched_at is None and elapsed > 1:
                if asked_at is None or time.monotonic() - asked_at > 10:  # asked again if not taken up
                    cluster.failover(replica)
                    asked_at = time.monotonic()
                elif sent % 10 == 0 and cluster.owner(echo_stream) == replica:
                    switched_at = time.monotonic()
            assert elapsed < 40, "the failover did not happen"
            time.sleep(0.02)

        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and not all(set(range(sent)) <= set(echoed(c)) for c in ws):
            time.sleep(0.05)
        results = {f"ws{i}": count(sent, echoed(c)) for i, c in enumerate(ws)}
        summary = {name: f"{len(lost)} lost, {dup} duplicated of {sent}" for name, (lost, dup) in results.items()}
        print(f"\nRedis Cluster failover under traffic: {summary}")
        assert all(not lost for lost, _ in results.values()), f"envelopes lost: {summary}; {edge.pc.tail()}"
        assert not any(c.events("error") for c in ws), "the edge refused messages"
    finally:
        for client in ws:
            client.close()
    assert "Redis Cluster masters changed" in edge.pc.stderr()
