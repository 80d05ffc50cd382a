"""Socket routes at their limits: a client that stops reading, a client that sends too
fast, protocol violations on the wire, credentials that expire, and the drain on SIGTERM.
Each checks the close code the client sees (docs/configuration.md, "What clients see")."""

import json
import signal
import time

import pytest
from websockets.exceptions import ConnectionClosed

from socketkit import (
    OP_CONT,
    OP_TEXT,
    Keys,
    WSClient,
    envelopes,
    frame,
    publish,
    raw_connect,
    read_close,
    socket_route,
    start_edge,
    wait_envelopes,
)


def close_of(conn: str, reason: str | None = None):
    """Predicate for wait_envelopes: the `close` envelope of `conn`."""
    def find(found):
        return next((e for e in found if e["kind"] == "close" and e["conn"] == conn
                     and (reason is None or e.get("reason") == reason)), None)
    return find


def test_a_client_that_stops_reading_is_closed_as_a_slow_consumer_and_slows_nobody(
        portcullis, rooms, redis_url, bus_prefix, bus):
    rooms(redis_url, bus_prefix)
    edge = start_edge(portcullis, redis_url, bus_prefix,
                      [socket_route("ws", "/ws", send_queue="64KiB", rate_limit="off")])
    inbound, out_edge = f"{bus_prefix}:in:echo", f"{bus_prefix}:out:edge:{edge.id}"
    with WSClient(edge.url("/ws")) as reader:
        reader.emit("join", {"room": "r"})
        reader.wait_event("join")
        # The slow client completes the handshake, joins, then never reads a byte.
        slow = raw_connect(edge.port, "/ws", rcvbuf=4096)
        try:
            slow.sendall(frame(OP_TEXT, b'{"event":"join","data":{"room":"r"}}'))
            opens = wait_envelopes(bus, inbound, lambda es: [e for e in es if e["kind"] == "open"][1:] and
                                   [e for e in es if e["kind"] == "open"], what="two opens")
            reader_conn, slow_conn = opens[0]["conn"], opens[1]["conn"]
            # Both joins are on the edge's stream before the first emit is published, so the
            # edge applies them first.
            wait_envelopes(bus, out_edge, lambda es: {e.get("target") for e in es if e["kind"] == "join"}
                           >= {reader_conn, slow_conn}, what="both joins")

            # Published while the edge is paused, so they reach it in one read and go out to
            # each socket back to back: the reader is briefly megabytes behind, far over
            # send_queue, yet catches up at once; only the slow client stays behind.
            count, pad = 100, "x" * 60_000
            edge.pc.proc.send_signal(signal.SIGSTOP)
            try:
                for i in range(count):
                    publish(bus, f"{bus_prefix}:out:bcast", kind="emit", app="echo", to="room", target="r",
                            event="big", data=json.dumps({"i": i, "pad": pad}))
            finally:
                edge.pc.proc.send_signal(signal.SIGCONT)
            got = reader.wait_for(lambda c: len(c.events("big")) >= count and c.events("big"), timeout=20,
                                  what=f"{count} emits")
            assert [e["data"]["i"] for e in got] == list(range(count))
            assert all(e["data"]["pad"] == pad for e in got)

            closed = wait_envelopes(bus, inbound, close_of(slow_conn), timeout=15,
                                    what="the slow client's close")
            assert closed["reason"] == "slow consumer"
            assert not reader.closed.is_set()
            assert close_of(reader_conn)(envelopes(bus, inbound)) is None
        finally:
            slow.close()


def test_a_burst_over_the_rate_limit_gets_rate_limited_errors_then_close_1008(
        portcullis, rooms, redis_url, bus_prefix, bus):
    rooms(redis_url, bus_prefix)
    limit = {"messages_per_second": 5, "burst": 5, "close_after": 3}
    edge = start_edge(portcullis, redis_url, bus_prefix, [socket_route("ws", "/ws", rate_limit=limit)])
    with WSClient(edge.url("/ws")) as ws:
        for i in range(20):
            try:
                ws.emit("m", i)
            except ConnectionClosed:
                break
        assert ws.wait_closed() == (1008, "rate limit exceeded")
        errors = ws.events("error")
        assert len(errors) == 2  # refusals 1 and 2; the third in a row closes
        assert {e["data"]["code"] for e in errors} == {"rate_limited"}
    found = wait_envelopes(bus, f"{bus_prefix}:in:echo",
                           lambda es: es if any(e["kind"] == "close" for e in es) else None)
    assert [json.loads(e["data"]) for e in found if e["kind"] == "message"] == [0, 1, 2, 3, 4]
    assert found[-1]["reason"] == "rate limit exceeded"


@pytest.mark.parametrize("fragmented", [False, True], ids=["one-frame", "fragments"])
def test_a_message_over_max_message_size_closes_1009(portcullis, rooms, redis_url, bus_prefix, fragmented):
    rooms(redis_url, bus_prefix)
    edge = start_edge(portcullis, redis_url, bus_prefix, [socket_route("ws", "/ws", max_message_size="1KiB")])
    with WSClient(edge.url("/ws")) as ws:
        ws.emit("small", "x" * 900)
        ws.wait_event("small")
        body = json.dumps({"event": "big", "data": "x" * 1200})
        try:
            ws.send([body[:600], body[600:]] if fragmented else body)
        except ConnectionClosed:
            pass
        code, _ = ws.wait_closed()
        assert code == 1009
        assert ws.events("big") == []


@pytest.mark.parametrize("case,frames,code", [
    ("unmasked", [frame(OP_TEXT, b'{"event":"x"}', mask=False)], 1002),
    ("reserved-opcode", [frame(0x3, b"")], 1002),
    ("invalid-utf8", [frame(OP_TEXT, b'{"event":"\xff\xfe"}')], 1007),
    ("invalid-utf8-across-fragments", [frame(OP_TEXT, b"ok \xe2\x82", fin=False), frame(OP_CONT, b"\x28")], 1007),
])
def test_protocol_violations_close_with_the_rfc_6455_code(
        portcullis, rooms, redis_url, bus_prefix, bus, case, frames, code):
    rooms(redis_url, bus_prefix)
    edge = start_edge(portcullis, redis_url, bus_prefix, [socket_route("ws", "/ws", mode="opaque")])
    sock = raw_connect(edge.port, "/ws")
    try:
        for data in frames:
            sock.sendall(data)
        got, _ = read_close(sock)
        assert got == code
        sock.settimeout(10)
        assert sock.recv(1024) == b"", "the edge keeps the TCP connection open after failing it"
    finally:
        sock.close()
    closed = wait_envelopes(bus, f"{bus_prefix}:in:echo",
                            lambda es: next((e for e in es if e["kind"] == "close"), None))
    assert closed["reason"].startswith("protocol error")
    assert not [e for e in envelopes(bus, f"{bus_prefix}:in:echo") if e["kind"] == "message"]


def test_a_socket_is_closed_4001_when_its_token_expires(portcullis, rooms, redis_url, bus_prefix, tmp_path):
    rooms(redis_url, bus_prefix)
    keys = Keys(tmp_path)
    edge = start_edge(portcullis, redis_url, bus_prefix, [socket_route("ws", "/ws", auth={"key_set": "main"})],
                      auth=keys.config())
    with WSClient(edge.url("/ws"), headers=keys.bearer(keys.token("u1", ttl=2))) as ws:
        ws.emit("hi")
        ws.wait_event("hi")
        assert ws.wait_closed(timeout=8) == (4001, "credentials expired")


def test_an_in_band_refresh_keeps_the_socket_past_its_first_token(
        portcullis, rooms, redis_url, bus_prefix, bus, tmp_path):
    rooms(redis_url, bus_prefix)
    keys = Keys(tmp_path)
    edge = start_edge(portcullis, redis_url, bus_prefix, [socket_route("ws", "/ws", auth={"key_set": "main"})],
                      auth=keys.config())
    with WSClient(edge.url("/ws"), headers=keys.bearer(keys.token("u1", ttl=2))) as ws:
        ws.emit("$refresh", {"token": keys.token("u2", ttl=300)})
        refused = ws.wait_event("error")
        assert refused["data"]["code"] == "refresh_refused"
        assert "another subject" in refused["data"]["message"]
        ws.emit("$refresh", {"token": keys.token("u1", ttl=300)})
        refreshed = ws.wait_event("$refreshed")
        assert refreshed["data"]["exp"] > time.time() + 200
        time.sleep(3.5)  # past the first token's exp and the edge's one-second sweep
        ws.emit("still-here")
        ws.wait_event("still-here")
        assert not ws.closed.is_set()
    found = wait_envelopes(bus, f"{bus_prefix}:in:echo",
                           lambda es: next((e for e in es if e["kind"] == "refresh"), None))
    assert found["user"] == "u1"
    assert json.loads(found["claims"])["sub"] == "u1"


def test_sigterm_closes_sockets_with_1001_and_writes_their_close(
        portcullis, rooms, redis_url, bus_prefix, bus):
    rooms(redis_url, bus_prefix)
    edge = start_edge(portcullis, redis_url, bus_prefix, [socket_route("ws", "/ws")])
    with WSClient(edge.url("/ws")) as ws:
        ws.emit("hi")
        ws.wait_event("hi")
        edge.pc.sigterm()
        assert ws.wait_closed() == (1001, "server shutting down")
    assert edge.pc.proc.wait(timeout=15) == 0
    closed = wait_envelopes(bus, f"{bus_prefix}:in:echo",
                            lambda es: next((e for e in es if e["kind"] == "close"), None))
    assert closed["reason"] == "server shutting down"
