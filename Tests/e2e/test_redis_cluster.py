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


class WSEcho:
    """A plain WebSocket client of the echo app: sends `tick` {n}, gets it back."""

    def __init__(self, edge):
        self.ws = WSClient(edge.url("/ws"))

    def send(self, n: int) -> None:
        self.ws.emit("tick", {"n": n})

    def received(self) -> list[int]:
        return [e["data"]["n"] for e in self.ws.events("tick")]

    def refused(self) -> list:
        return self.ws.events("error")

    def close(self) -> None:
        self.ws.close()


class SioEcho:
    """A python-socketio client of the reference app: sends `message` {n}, gets
    `message-back` {n}."""

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

    def send(self, n: int) -> None:
        self.sio.emit("message", {"n": n})

    def received(self) -> list[int]:
        with self.lock:
            return list(self.seen)

    def refused(self) -> list:
        return []

    def close(self) -> None:
        self.sio.disconnect()


def wait_until(condition, what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} after {timeout:.0f} s"
        time.sleep(0.05)


def warm_up(clients) -> None:
    """One round trip per client: the worker has its groups and the edge reads."""
    for client in clients:
        client.send(0)
    wait_until(lambda: all(0 in c.received() for c in clients), "no first echo")


def tally(clients: dict, sent: int, title: str) -> None:
    """Waits for every echo of messages 0..<sent, prints lost and duplicated counts per
    client and asserts none was lost or refused."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline and not all(set(range(sent)) <= set(c.received()) for c in clients.values()):
        time.sleep(0.05)
    summary, lost_any = {}, False
    for name, client in clients.items():
        received = client.received()
        lost = set(range(sent)) - set(received)
        lost_any = lost_any or bool(lost)
        duplicated = sorted({n for n in received if received.count(n) > 1})
        summary[name] = (f"{len(lost)} lost {sorted(lost)[:5]}, {len(received) - len(set(received))} duplicated "
                         f"{duplicated[:5]} of {sent}")
    print(f"\n{title}: {summary}")
    assert not lost_any, f"envelopes lost: {summary}"
    assert not any(c.refused() for c in clients.values()), "the edge refused messages"


def asking_calls(cluster, node: int) -> int:
    return int(cluster.client(node).info("commandstats").get("cmdstat_asking", {}).get("calls", 0))


def cluster_edge(cluster, portcullis, rooms, bus_prefix, apps: tuple[str, ...]):
    """portcullis-rooms running `apps` and an edge with a route per app, both in cluster
    mode."""
    url = f"redis://{cluster.seeds[0]}/0"  # credentials and TLS would come from here; the host is not used
    redis = {"cluster": cluster.seeds}
    rooms(url, bus_prefix, apps=apps, redis=redis, wait=False)
    routes = {ECHO: socket_route("ws", "/ws", ECHO),
              SIO: socket_route("sio", "/socket.io", SIO, protocol="socketio", socketio={"namespaces": ["/"]})}
    return start_edge(portcullis, url, bus_prefix, [routes[app] for app in apps], redis=redis)


def test_apps_on_different_masters_lose_no_envelope_while_a_slot_moves(cluster, portcullis, rooms, bus_prefix):
    # `cluster` first: it is stopped last, after the edge and the worker.
    edge = cluster_edge(cluster, portcullis, rooms, bus_prefix, (ECHO, SIO))
    echo_stream, sio_stream = f"{bus_prefix}:in:{{{ECHO}}}", f"{bus_prefix}:in:{{{SIO}}}"
    source = cluster.owner(echo_stream)
    assert source != cluster.owner(sio_stream), "the two apps' keys are on different masters"
    target = next(i for i in range(3) if i not in (source, cluster.owner(sio_stream)))

    clients = {"ws0": WSEcho(edge), "ws1": WSEcho(edge), "sio0": SioEcho(edge), "sio1": SioEcho(edge)}
    try:
        warm_up(clients.values())
        assert cluster.owner(echo_stream) == source and cluster.client(source).exists(echo_stream)

        slot = cluster.client(0).execute_command("CLUSTER", "KEYSLOT", echo_stream)
        asking_before = asking_calls(cluster, target)
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
            for client in clients.values():  # one message per client every 20 ms
                client.send(sent)
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

        asking = asking_calls(cluster, target) - asking_before
        tally(clients, sent, f"Redis Cluster slot move under traffic ({moved[0]} keys moved, {asking} ASKING)")
        assert asking > 0, "no client followed an -ASK during the move"
    finally:
        for client in clients.values():
            client.close()
    assert "Redis Cluster slot map read" in edge.pc.stderr()


def test_a_failover_to_a_replica_under_traffic_loses_no_envelope(cluster, portcullis, rooms, bus_prefix):
    edge = cluster_edge(cluster, portcullis, rooms, bus_prefix, (ECHO,))
    echo_stream = f"{bus_prefix}:in:{{{ECHO}}}"
    replica = cluster.add_replica(cluster.owner(echo_stream))

    clients = {"ws0": WSEcho(edge), "ws1": WSEcho(edge)}
    try:
        warm_up(clients.values())
        sent, switched_at, asked_at = 1, None, None
        started = time.monotonic()
        while switched_at is None or time.monotonic() - switched_at < 2:  # until 2 s after the switch
            for client in clients.values():  # one message per client every 20 ms
                client.send(sent)
            sent += 1
            if switched_at is None and time.monotonic() - started > 1:
                if asked_at is None or time.monotonic() - asked_at > 10:  # asked again if not taken up
                    cluster.failover(replica)
                    asked_at = time.monotonic()
                elif sent % 10 == 0 and cluster.owner(echo_stream) == replica:
                    switched_at = time.monotonic()
            assert time.monotonic() - started < 40, "the failover did not happen"
            time.sleep(0.02)
        tally(clients, sent, "Redis Cluster failover under traffic")
    finally:
        for client in clients.values():
            client.close()
    assert "Redis Cluster masters changed" in edge.pc.stderr()
