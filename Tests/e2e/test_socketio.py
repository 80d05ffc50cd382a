"""Socket.IO routes end to end: python-socketio's client on an edge route with
`socket.protocol: socketio`, a real redis-server, and `portcullis-rooms` running the
`socketio-reference` app (the server the official compliance suite is written against:
`auth` on connect, `message` → `message-back`, `message-with-ack` answered with the same
arguments; /custom only sends `auth`).

Every behaviour is checked over the WebSocket transport alone and over python-socketio's
default (HTTP long-polling, then the upgrade to WebSocket), as Socket.IO clients connect
out of the box. The last tests read the bus, to pin the envelopes the edge writes for a
Socket.IO connection (docs/bus.md)."""

import json
import threading
import time

import pytest
import requests
import socketio

from socketkit import WAIT, socket_route, start_edge, wait_envelopes

APP = "socketio-reference"
TRANSPORTS = {"websocket": ["websocket"], "polling-upgrade": None}


@pytest.fixture(params=list(TRANSPORTS), ids=list(TRANSPORTS))
def transports(request):
    return TRANSPORTS[request.param]


@pytest.fixture
def sio_edge(portcullis, rooms, redis_url, bus_prefix):
    """An edge with the Socket.IO route at /socket.io (namespaces / and /custom) and a
    worker running the reference app."""
    rooms(redis_url, bus_prefix, apps=(APP,))
    route = socket_route("sio", "/socket.io", APP, protocol="socketio",
                         socketio={"namespaces": ["/", "/custom"]})
    return start_edge(portcullis, redis_url, bus_prefix, [route])


class Recorder:
    """Events a python-socketio client received, by (namespace, event), with a condition to
    wait on (handlers run on the client's threads)."""

    def __init__(self):
        self.events: dict[tuple[str, str], list] = {}
        self._cond = threading.Condition()

    def record(self, namespace: str, event: str, args) -> None:
        with self._cond:
            self.events.setdefault((namespace, event), []).append(args)
            self._cond.notify_all()

    def wait(self, event: str, namespace: str = "/", count: int = 1, timeout: float = WAIT) -> list:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.events.get((namespace, event), [])) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no {event!r} on {namespace} after {timeout:.0f}s; got {self.events}")
                self._cond.wait(remaining)
            return self.events[(namespace, event)]

    def get(self, event: str, namespace: str = "/") -> list:
        with self._cond:
            return list(self.events.get((namespace, event), []))


def client(recorder: Recorder, namespaces=("/",)) -> socketio.Client:
    """A sync client that records `auth`, `message-back` and `connect_error` in each
    namespace; no reconnection, no environment proxies."""
    http = requests.Session()
    http.trust_env = False
    sio = socketio.Client(reconnection=False, http_session=http)
    for namespace in namespaces:
        for event in ("auth", "message-back", "connect_error"):
            sio.on(event, (lambda ns, ev: lambda *args: recorder.record(ns, ev, args))(namespace, event),
                   namespace=namespace)
    return sio


def connect(sio: socketio.Client, edge, transports, *, namespaces=("/",), auth=None, query: str = "") -> None:
    sio.connect(f"http://127.0.0.1:{edge.port}{query}", transports=transports, namespaces=list(namespaces),
                auth=auth, wait_timeout=WAIT)


def wait_upgraded(sio: socketio.Client, transports) -> None:
    """With the default transports the client starts on long-polling and upgrades in the
    background; wait until it runs on the WebSocket."""
    if transports is not None:
        assert sio.transport() == "websocket"
        return
    deadline = time.monotonic() + WAIT
    while sio.transport() != "websocket":
        assert time.monotonic() < deadline, f"still on {sio.transport()} after {WAIT:.0f}s"
        time.sleep(0.05)


def test_connect_emit_and_receive_message_back(sio_edge, transports):
    recorder = Recorder()
    sio = client(recorder)
    connect(sio, sio_edge, transports)
    try:
        assert recorder.wait("auth") == [({},)]
        sio.emit("message", (1, "2", {"3": [True]}))
        assert recorder.wait("message-back") == [(1, "2", {"3": [True]})]
        sio.emit("message", "just one")
        assert recorder.wait("message-back", count=2)[1] == ("just one",)
        wait_upgraded(sio, transports)
        sio.emit("message", {"after": "upgrade"})
        assert recorder.wait("message-back", count=3)[2] == ({"after": "upgrade"},)
    finally:
        sio.disconnect()


def test_ack_callback_receives_the_same_arguments(sio_edge, transports):
    recorder = Recorder()
    sio = client(recorder)
    connect(sio, sio_edge, transports)
    try:
        recorder.wait("auth")
        assert sio.call("message-with-ack", (1, "2", {"3": [False]}), timeout=WAIT) == (1, "2", {"3": [False]})
        answered = threading.Event()
        answers = []

        def callback(*args):
            answers.append(args)
            answered.set()

        sio.emit("message-with-ack", "one", callback=callback)
        assert answered.wait(WAIT), "ack callback not called"
        assert answers == [("one",)]
        # The reference server answers nothing else with an ack.
        assert recorder.get("message-back") == []
    finally:
        sio.disconnect()


def test_binary_arguments_come_back_as_binary(sio_edge, transports):
    recorder = Recorder()
    sio = client(recorder)
    connect(sio, sio_edge, transports)
    blob = bytes(range(256)) + b"\x00\r\n\xff"
    try:
        recorder.wait("auth")
        sio.emit("message", (b"\x01\x02\x03", {"nested": [blob, "text"]}, 4))
        assert recorder.wait("message-back") == [(b"\x01\x02\x03", {"nested": [blob, "text"]}, 4)]
        # A binary ack: BINARY_EVENT with an id is answered by BINARY_ACK.
        assert sio.call("message-with-ack", (b"\x04\x05\x06", "x"), timeout=WAIT) == (b"\x04\x05\x06", "x")
    finally:
        sio.disconnect()


def test_custom_namespace_receives_the_connect_auth(sio_edge, transports):
    recorder = Recorder()
    sio = client(recorder, namespaces=("/", "/custom"))
    connect(sio, sio_edge, transports, namespaces=("/", "/custom"), auth={"token": "abc"})
    try:
        assert recorder.wait("auth", namespace="/custom") == [({"token": "abc"},)]
        assert recorder.wait("auth", namespace="/") == [({"token": "abc"},)]
        assert sorted(sio.namespaces) == ["/", "/custom"]
        # /custom has no message handler on the reference server; / does.
        sio.emit("message", "to custom", namespace="/custom")
        sio.emit("message", "to main")
        assert recorder.wait("message-back") == [("to main",)]
        time.sleep(0.5)
        assert recorder.get("message-back", namespace="/custom") == []
    finally:
        sio.disconnect()


def test_unknown_namespace_gets_connect_error(sio_edge, transports):
    recorder = Recorder()
    sio = client(recorder, namespaces=("/random",))
    with pytest.raises(socketio.exceptions.ConnectionError, match="/random"):
        connect(sio, sio_edge, transports, namespaces=("/random",))
    assert recorder.get("connect_error", namespace="/random") == [({"message": "Invalid namespace"},)]
    assert not sio.connected


def test_disconnect_leaves_every_namespace(sio_edge, transports, bus, bus_prefix):
    recorder = Recorder()
    sio = client(recorder, namespaces=("/", "/custom"))
    connect(sio, sio_edge, transports, namespaces=("/", "/custom"))
    recorder.wait("auth", namespace="/custom")
    sio.disconnect()
    assert not sio.connected
    stream = f"{bus_prefix}:in:{APP}"
    found = wait_envelopes(bus, stream, lambda es: es if sum(e["kind"] == "close" for e in es) >= 2 else None,
                           what="a close for / and for /custom")
    opened = {e["ns"]: e for e in found if e["kind"] == "open"}
    closed = {e["ns"]: e for e in found if e["kind"] == "close"}
    assert set(opened) == {"/", "/custom"}
    assert set(closed) == {"/", "/custom"}
    assert len({e["conn"] for e in found}) == 1


def test_inbound_envelopes_follow_the_socketio_conventions(sio_edge, bus, bus_prefix):
    """What the edge writes for a Socket.IO client (docs/bus.md): `open` per namespace with
    the handshake query and the CONNECT auth, `message` with the event name, the argument
    list and `args`, `ack` when asked, attachments for binary arguments, `close` per
    namespace."""
    recorder = Recorder()
    sio = client(recorder)
    connect(sio, sio_edge, ["websocket"], auth={"token": "t-1"}, query="/?room=lobby")
    try:
        recorder.wait("auth")
        sio.emit("message", (1, "two"))
        recorder.wait("message-back")
        assert sio.call("message-with-ack", (b"\xff\x00", {"k": True}), timeout=WAIT) == (b"\xff\x00", {"k": True})
    finally:
        sio.disconnect()
    stream = f"{bus_prefix}:in:{APP}"
    found = wait_envelopes(bus, stream, lambda es: es if [e["kind"] for e in es][-1:] == ["close"] else None,
                           what="open, messages, close")
    assert [e["kind"] for e in found] == ["open", "message", "message", "close"]
    opened, message, binary, closed = found
    assert opened["ns"] == "/"
    handshake = json.loads(opened["data"])
    assert handshake["query"]["room"] == "lobby"
    assert handshake["auth"] == {"token": "t-1"}
    assert (message["ns"], message["event"], message["args"]) == ("/", "message", "1")
    assert json.loads(message["data"]) == [1, "two"]
    assert "ack" not in message
    assert (binary["event"], binary["args"]) == ("message-with-ack", "1")
    assert binary["ack"].isdigit()
    assert json.loads(binary["data"]) == [{"_placeholder": True, "num": 0}, {"k": True}]
    raw = {k.decode(): v for k, v in bus.xrange(stream, min=binary["_id"], max=binary["_id"])[0][1].items()}
    assert raw["att:0"] == b"\xff\x00"
    assert closed["ns"] == "/"
