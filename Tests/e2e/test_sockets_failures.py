"""Socket routes when something dies: Redis restarts under connected clients, a rooms
worker is SIGKILLed mid-stream (another takes over its pending entries), and an edge is
SIGKILLed (the rooms worker's presence reaper writes `close` for its connections)."""

import signal
import subprocess
import threading
import time

from socketkit import (
    WSClient,
    envelopes,
    socket_route,
    start_edge,
    wait_envelopes,
)


def test_clients_stay_connected_through_a_redis_restart_and_echo_resumes(
        private_redis, portcullis, rooms, bus_prefix):  # private_redis first: it stops last
    rooms(private_redis.url, bus_prefix)
    edge = start_edge(portcullis, private_redis.url, bus_prefix, [socket_route("ws", "/ws")])
    with WSClient(edge.url("/ws")) as ws:
        ws.emit("before", 0)
        ws.wait_event("before")

        private_redis.stop()
        time.sleep(1)
        assert ws.ping(), "no pong while Redis is down"
        ws.emit("during", 1)  # held in the edge's append buffer until Redis is back
        time.sleep(1)
        assert not ws.closed.is_set(), f"closed {ws.close_code} {ws.close_reason!r} while Redis was down"
        assert ws.events("error") == [], "a message refused although the append buffer has room"

        private_redis.start()  # same port, empty: streams and the consumer group are gone
        deadline = time.monotonic() + 20
        attempt = 0
        while not ws.events("after"):
            assert time.monotonic() < deadline, (
                f"no echo within 20 s of Redis coming back; received {ws.snapshot()[-5:]}")
            assert not ws.closed.is_set(), f"closed {ws.close_code} {ws.close_reason!r}"
            attempt += 1
            ws.emit("after", attempt)
            time.sleep(0.5)
        assert ws.wait_event("during")["data"] == 1, "the message sent while Redis was down was lost"
        assert ws.ping()
        assert not ws.closed.is_set()


def test_edge_and_worker_stop_on_sigterm_while_redis_is_down(private_redis, portcullis, rooms, bus_prefix):
    worker = rooms(private_redis.url, bus_prefix)
    edge = start_edge(portcullis, private_redis.url, bus_prefix, [socket_route("ws", "/ws")],
                      edge={"drain_timeout": "2s"})
    with WSClient(edge.url("/ws")) as ws:
        ws.emit("hi")
        ws.wait_event("hi")
        private_redis.stop()
        time.sleep(0.5)
        edge.pc.sigterm()
        worker.proc.send_signal(signal.SIGTERM)
        worker.terminated = True
        assert ws.wait_closed() == (1001, "server shutting down")
    # drain_timeout (2 s) + the bus's bounded wait for unanswered appends (5 s) + slack
    deadline = time.monotonic() + 12
    exits = {}
    for name, proc in (("portcullis", edge.pc.proc), ("portcullis-rooms", worker.proc)):
        try:
            exits[name] = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            exits[name] = "still running"
    for proc in (edge.pc.proc, worker.proc):  # no 10 s SIGTERM grace again at teardown
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
    assert exits == {"portcullis": 0, "portcullis-rooms": 0}, (
        f"12 s after SIGTERM with Redis down: {exits}")


def test_a_worker_killed_mid_stream_loses_nothing_once_another_takes_over(
        portcullis, rooms, redis_url, bus_prefix, bus):
    total = 300
    first = rooms(redis_url, bus_prefix, worker_id="worker-a", claim_idle="1s")
    edge = start_edge(portcullis, redis_url, bus_prefix, [socket_route("ws", "/ws", rate_limit="off")])
    with WSClient(edge.url("/ws")) as ws:
        def send_all():
            for i in range(total):
                ws.emit("n", f"payload-{i}")
                time.sleep(0.003)

        sender = threading.Thread(target=send_all, daemon=True)
        sender.start()
        ws.wait_for(lambda c: len(c.events("n")) >= 40, what="the first echoes")
        first.kill()
        echoed_before_kill = len(ws.events("n"))
        assert echoed_before_kill < total, "the worker finished before it was killed"

        rooms(redis_url, bus_prefix, worker_id="worker-b", claim_idle="1s")
        sender.join(10)
        want = {f"payload-{i}" for i in range(total)}
        ws.wait_for(lambda c: want <= {e["data"] for e in c.events("n")}, timeout=20,
                    what=f"all {total} echoes")
        assert not ws.closed.is_set()

    # Every entry ends acknowledged: nothing stays pending for the dead consumer. The
    # socket's `close` envelope is appended after the client left, so wait for it first:
    # until it is in the stream, a pending count of 0 can be followed by its delivery.
    stream, group = f"{bus_prefix}:in:echo", "portcullis-rooms:echo"
    deadline = time.monotonic() + 10

    def closed_and_settled():
        last = bus.xrevrange(stream, count=1)
        return bool(last) and last[0][1].get(b"kind") == b"close" and bus.xpending(stream, group)["pending"] == 0

    while not closed_and_settled() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert bus.xrevrange(stream, count=1)[0][1].get(b"kind") == b"close"
    assert bus.xpending(stream, group)["pending"] == 0


def test_a_killed_edge_gets_close_envelopes_for_its_connections_from_the_reaper(
        portcullis, rooms, redis_url, bus_prefix, bus):
    rooms(redis_url, bus_prefix, reap_interval="1s")
    edge = start_edge(portcullis, redis_url, bus_prefix, [socket_route("ws", "/ws")],
                      bus={"heartbeat_interval": "1s", "heartbeat_ttl": "2s"})
    stream = f"{bus_prefix}:in:echo"
    conns_key = f"{bus_prefix}:edge:{edge.id}:conns"
    with WSClient(edge.url("/ws")) as ws:
        ws.emit("hi")
        ws.wait_event("hi")
        conn = next(e["conn"] for e in envelopes(bus, stream) if e["kind"] == "open")
        assert bus.hexists(conns_key, conn)

        edge.pc.terminated = True
        edge.pc.proc.kill()
        edge.pc.proc.wait(timeout=10)
        killed_at = time.monotonic()

        closed = wait_envelopes(
            bus, stream, lambda es: next((e for e in es if e["kind"] == "close" and e["conn"] == conn), None),
            timeout=10, what="the reaper's close")
        took = time.monotonic() - killed_at
        assert closed["reason"] == "edge gone"
        assert closed["app"] == "echo"
        assert closed["edge"] == edge.id
        deadline = time.monotonic() + 5
        while bus.exists(conns_key) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not bus.exists(conns_key), "the dead edge's connection registry was not deleted"
        print(f"close 'edge gone' {took:.1f}s after SIGKILL (heartbeat ttl 2s)")
