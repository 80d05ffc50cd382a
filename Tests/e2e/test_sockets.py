"""Socket routes end to end: `websockets` clients on the edge, a real redis-server, and
`portcullis-rooms` running the echo app. Messages, envelopes on the streams, rooms across
two edges, per-user delivery from a backend's XADD, refusals before the upgrade, and
`portcullis revoke --subject` closing live sockets.

Every test has its own bus prefix (conftest `bus_prefix`) and edge ids, so tests that share
the session Redis never see each other's streams."""

import json
import subprocess
import time

import pytest
from websockets.exceptions import InvalidStatus

from conftest import portcullis_bin
from rawhttp import upgrade_with_first_frame

from socketkit import (
    Keys,
    WSClient,
    envelopes,
    publish,
    socket_route,
    start_edge,
    wait_envelopes,
)


@pytest.fixture
def keys(tmp_path):
    return Keys(tmp_path)


def test_json_mode_echoes_the_event_answers_the_ack_and_survives_malformed_json(
        portcullis, rooms, redis_url, bus_prefix):
    rooms(redis_url, bus_prefix)
    edge = start_edge(portcullis, redis_url, bus_prefix, [socket_route("ws", "/ws")])
    with WSClient(edge.url("/ws")) as ws:
        ws.send('{"event":"hi","data":{"n":1},"ack":7}')
        ws.wait_for(lambda c: len(c.events()) >= 2, what="the echo and the ack")
        assert sorted(ws.events(), key=json.dumps) == sorted(
            [{"event": "hi", "data": {"n": 1}}, {"event": "ack", "ack": 7, "data": {"n": 1}}], key=json.dumps)

        ws.send('{"event": "hi", "data": ')
        error = ws.wait_event("error")
        assert error["data"]["code"] == "bad_message"
        assert error["data"]["message"]

        ws.emit("again", [1, "two", None])
        assert ws.wait_event("again")["data"] == [1, "two", None]
        assert not ws.closed.is_set()


def test_opaque_mode_keeps_text_as_text_and_binary_as_binary(portcullis, rooms, redis_url, bus_prefix):
    rooms(redis_url, bus_prefix)
    edge = start_edge(portcullis, redis_url, bus_prefix, [socket_route("raw", "/raw", mode="opaque")])
    binary = b"\x00\xff\x01binary\r\n\x00" + bytes(range(256))
    with WSClient(edge.url("/raw")) as ws:
        ws.send("plain text, ünïcödé ✓, not JSON {")
        ws.wait_for(lambda c: len(c.messages) >= 1)
        ws.send(binary)
        ws.wait_for(lambda c: len(c.messages) >= 2)
        ws.send('{"event":"looks like json"}')
        ws.wait_for(lambda c: len(c.messages) >= 3)
        assert ws.snapshot() == ["plain text, ünïcödé ✓, not JSON {", binary, '{"event":"looks like json"}']
        assert isinstance(ws.messages[1], bytes)


def test_a_frame_sent_right_behind_the_upgrade_request_reaches_the_socket(portcullis, rooms, redis_url, bus_prefix):
    """A client may write its first frame in the same packet as its upgrade request: the
    HTTP side must hand those bytes to the socket, not drop or misread them."""
    rooms(redis_url, bus_prefix)
    edge = start_edge(portcullis, redis_url, bus_prefix, [socket_route("raw", "/raw", mode="opaque")])
    payload = b"first words"
    received = upgrade_with_first_frame(edge.port, "/raw", payload)
    assert received.startswith(b"HTTP/1.1 101")
    # The echo comes back as an unmasked text frame of the same payload.
    assert bytes([0x81, len(payload)]) + payload in received


def test_inbound_envelopes_carry_open_message_and_close_with_identity(
        portcullis, rooms, redis_url, bus_prefix, bus, keys):
    rooms(redis_url, bus_prefix)
    edge = start_edge(portcullis, redis_url, bus_prefix,
                      [socket_route("ws", "/ws", auth={"key_set": "main"})], auth=keys.config())
    token = keys.token("user-42", tenant="acme")
    with WSClient(edge.url("/ws"), headers=keys.bearer(token)) as ws:
        ws.emit("say", {"text": "hi"}, ack=3)
        ws.wait_event("ack")
    stream = f"{bus_prefix}:in:echo"
    found = wait_envelopes(bus, stream, lambda es: es if [e["kind"] for e in es][-1:] == ["close"] else None,
                           what="open, message, close")
    assert [e["kind"] for e in found] == ["open", "message", "close"]
    opened, message, closed = found
    conn = opened["conn"]
    assert conn.startswith(edge.id + ".") and len(conn) > len(edge.id) + 1
    for envelope in found:
        assert envelope["v"] == "1"
        assert envelope["app"] == "echo"
        assert envelope["edge"] == edge.id
        assert envelope["conn"] == conn
        assert envelope["user"] == "user-42"
        assert int(envelope["ts"]) > 0
        assert len(envelope["id"]) >= 16
    assert len({e["id"] for e in found}) == 3
    claims = json.loads(opened["claims"])
    assert claims["sub"] == "user-42"
    assert claims["tenant"] == "acme"
    assert "claims" not in message and "claims" not in closed
    assert message["event"] == "say"
    assert json.loads(message["data"]) == {"text": "hi"}
    assert message["ack"] == "3"
    assert message.get("dataType", "json") == "json"
    assert closed["reason"] == "client closed (1000)"


def test_anonymous_sockets_have_no_user_and_opaque_messages_keep_their_data_type(
        portcullis, rooms, redis_url, bus_prefix, bus):
    rooms(redis_url, bus_prefix)
    edge = start_edge(portcullis, redis_url, bus_prefix, [socket_route("raw", "/raw", mode="opaque")])
    with WSClient(edge.url("/raw")) as ws:
        ws.send("text")
        ws.send(b"\x00\xff")
        ws.wait_for(lambda c: len(c.messages) >= 2)
    found = wait_envelopes(bus, f"{bus_prefix}:in:echo",
                           lambda es: es if [e["kind"] for e in es][-1:] == ["close"] else None)
    assert [e["kind"] for e in found] == ["open", "message", "message", "close"]
    assert all("user" not in e and "claims" not in e for e in found)
    assert (found[1]["dataType"], found[1]["_data"]) == ("text", b"text")
    assert (found[2]["dataType"], found[2]["_data"]) == ("binary", b"\x00\xff")
    assert "event" not in found[1]


def test_a_room_broadcast_reaches_clients_on_both_edges_but_not_the_sender(
        portcullis, rooms, redis_url, bus_prefix):
    rooms(redis_url, bus_prefix)
    edge_a = start_edge(portcullis, redis_url, bus_prefix, [socket_route("ws", "/ws")])
    edge_b = start_edge(portcullis, redis_url, bus_prefix, [socket_route("ws", "/ws")])
    sender = WSClient(edge_a.url("/ws"))
    on_a = WSClient(edge_a.url("/ws"))
    on_b = WSClient(edge_b.url("/ws"))
    outsider = WSClient(edge_b.url("/ws"))
    clients = [sender, on_a, on_b, outsider]
    try:
        for client in (sender, on_a, on_b):
            client.emit("join", {"room": "r"})
            client.wait_event("join")
        outsider.emit("join", {"room": "elsewhere"})
        outsider.wait_event("join")

        # A join takes effect on the edge after its echo: broadcast until both listeners hear.
        for attempt in range(40):
            sender.emit("broadcast", {"room": "r", "probe": attempt})
            try:
                for client in (on_a, on_b):
                    client.wait_event("broadcast", timeout=0.25)
                break
            except AssertionError:
                continue
        else:
            pytest.fail("room members never received a broadcast")

        sender.emit("broadcast", {"room": "r", "text": "final"})
        final = lambda e: e["data"].get("text") == "final"  # noqa: E731
        for client in (on_a, on_b):
            client.wait_event("broadcast", final)
        sender.wait_event("broadcast", final)  # the echo to the sender itself
        sender.emit("ping-after", None)  # everything for the sender before this is in
        sender.wait_event("ping-after")
        on_a.emit("ping-after", None)
        on_a.wait_event("ping-after")
        assert [e for e in sender.events("broadcast") if final(e)] == [
            {"event": "broadcast", "data": {"room": "r", "text": "final"}}], "the sender got the room emit too"
        for client in (on_a, on_b):
            assert len([e for e in client.events("broadcast") if final(e)]) == 1
        assert outsider.events("broadcast") == []
    finally:
        for client in clients:
            client.close()


def test_emits_and_disconnects_to_a_user_reach_every_socket_of_that_user_only(
        portcullis, rooms, redis_url, bus_prefix, bus, keys):
    rooms(redis_url, bus_prefix)
    edge = start_edge(portcullis, redis_url, bus_prefix,
                      [socket_route("ws", "/ws", auth={"key_set": "main"})], auth=keys.config())
    u1a = WSClient(edge.url("/ws"), headers=keys.bearer(keys.token("u1")))
    u1b = WSClient(edge.url("/ws"), headers=keys.bearer(keys.token("u1")))
    u2 = WSClient(edge.url("/ws"), headers=keys.bearer(keys.token("u2")))
    try:
        for client in (u1a, u1b, u2):  # the whole path is up (the edge reads its streams)
            client.emit("hello")
            client.wait_event("hello")

        broadcast = f"{bus_prefix}:out:bcast"
        publish(bus, broadcast, kind="emit", app="echo", to="user", target="u1", event="note",
                data='{"x":1}')
        for client in (u1a, u1b):
            assert client.wait_event("note") == {"event": "note", "data": {"x": 1}}
        u2.emit("sync")  # anything for u2 published before this echo has arrived by now
        u2.wait_event("sync")
        assert u2.events("note") == []

        publish(bus, broadcast, kind="disconnect", to="user", target="u1", reason="bye")
        for client in (u1a, u1b):
            assert client.wait_closed() == (4000, "bye")
        u2.emit("still-here")
        u2.wait_event("still-here")
        assert not u2.closed.is_set()
    finally:
        for client in (u1a, u1b, u2):
            client.close()


def test_refused_upgrades_get_401_or_403_and_never_reach_the_bus(
        portcullis, rooms, redis_url, bus_prefix, bus, keys):
    rooms(redis_url, bus_prefix)
    browser = {"key_set": "main", "clients": "browser", "origins": ["https://app.test"]}
    edge = start_edge(portcullis, redis_url, bus_prefix,
                      [socket_route("api", "/api", auth={"key_set": "main"}),
                       socket_route("web", "/web", auth=browser)], auth=keys.config())
    token = keys.bearer(keys.token("u1"))

    with pytest.raises(InvalidStatus) as refused:
        WSClient(edge.url("/api"))
    assert refused.value.response.status_code == 401
    assert refused.value.response.headers["WWW-Authenticate"].startswith("Bearer")
    with pytest.raises(InvalidStatus) as refused:
        WSClient(edge.url("/api"), headers=keys.bearer("not.a.token"))
    assert refused.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as refused:
        WSClient(edge.url("/web"), headers=token, origin="https://evil.test")
    assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus) as refused:
        WSClient(edge.url("/web"), headers=token)  # a browser route needs an Origin
    assert refused.value.response.status_code == 403

    # The one accepted socket is the only `open` on the stream.
    with WSClient(edge.url("/web"), headers=token, origin="https://app.test") as ws:
        ws.emit("hi")
        ws.wait_event("hi")
        opens = [e for e in envelopes(bus, f"{bus_prefix}:in:echo") if e["kind"] == "open"]
        assert len(opens) == 1 and opens[0]["user"] == "u1"


def test_revoking_a_subject_closes_its_live_sockets_and_refuses_its_old_tokens(
        portcullis, rooms, redis_url, bus_prefix, keys):
    rooms(redis_url, bus_prefix)
    edge = start_edge(portcullis, redis_url, bus_prefix,
                      [socket_route("ws", "/ws", auth={"key_set": "main"})], auth=keys.config())
    old = keys.bearer(keys.token("u1", iat=int(time.time()) - 5))
    u1 = WSClient(edge.url("/ws"), headers=old)
    u2 = WSClient(edge.url("/ws"), headers=keys.bearer(keys.token("u2")))
    try:
        for client in (u1, u2):
            client.emit("hello")
            client.wait_event("hello")
        done = subprocess.run([portcullis_bin(), "revoke", "--config", str(edge.pc.config_path),
                               "--subject", "u1", "--ttl", "1h"], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        assert "close the live sockets of u1" in done.stdout
        assert u1.wait_closed() == (4001, "token_revoked")
        u2.emit("still-here")
        u2.wait_event("still-here")
        with pytest.raises(InvalidStatus) as refused:
            WSClient(edge.url("/ws"), headers=old)
        assert refused.value.response.status_code == 401
    finally:
        u1.close()
        u2.close()
