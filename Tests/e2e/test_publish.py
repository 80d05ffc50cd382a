"""The publish API on the admin listener end to end (docs/publish.md): backends post to
`/emit/:userId/:event`, `/emit/:event`, `/publish` and AnyCable's `/_broadcast`, and real
clients receive it through the bus — python-socketio in the "shared" product's namespace,
Rails' own ActionCable client (actioncable/client.mjs) on a `cable-chat` stream.

The Socket.IO route has `emit_endpoints: {room: "shared:user:{user}"}`: as in the product, a
socket gets notifications once its user's sockets joined that room (here a backend's
`join` envelope on the bus stands in for the product's `join` handler). Also checked:
401 without or with a wrong key, 400 with the reason for bad bodies, 405, 413, 503 while
Redis is away, and the rule that plain HTTP from another host is refused (403) while TLS
from there is served."""

import json
import secrets
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
import socketio

from socketkit import WAIT, Keys, publish, socket_route, start_edge, wait_envelopes

NS = "/v1/shared"
APP = "shared"
CABLE_APP = "cable-chat"
CLIENT = Path(__file__).resolve().parent / "actioncable" / "client.mjs"


@pytest.fixture
def keys(tmp_path):
    return Keys(tmp_path)


@pytest.fixture
def publish_key(tmp_path) -> tuple[str, Path]:
    """A bearer key in a file, written as editors and `echo` leave it: with a newline."""
    key = secrets.token_hex(32)
    path = tmp_path / "publish.key"
    path.write_text(key + "\n")
    return key, path


def shared_route(**emit_endpoints) -> dict:
    route = socket_route("shared", "/socket.io", APP, protocol="socketio",
                         socketio={"namespaces": [NS], "transports": ["websocket"]},
                         auth={"key_set": "main", "tokens": ["query:token"]})
    route["socket"]["emit_endpoints"] = emit_endpoints or {"room": "shared:user:{user}"}
    return route


def cable_route() -> dict:
    return socket_route("cable", "/cable", CABLE_APP, protocol="actioncable")


@pytest.fixture
def edge(portcullis, rooms, redis_url, bus_prefix, keys, publish_key):
    """An edge with the shared Socket.IO route, an ActionCable route and publishing on, and
    a worker running cable-chat (it confirms ActionCable subscriptions)."""
    rooms(redis_url, bus_prefix, apps=(CABLE_APP,))
    _, key_file = publish_key
    return start_edge(portcullis, redis_url, bus_prefix, [shared_route(), cable_route()], auth=keys.config(),
                      admin={"publish": {"key_file": str(key_file), "max_body_size": "64KiB"}})


class Backend:
    """A backend posting to the admin listener with the bearer key."""

    def __init__(self, base: str, key: str, verify=True):
        self.base = base
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.headers["Authorization"] = f"Bearer {key}"
        self.session.verify = verify

    def post(self, path: str, body=None, *, raw: bytes | None = None, headers: dict | None = None):
        data = raw if raw is not None else json.dumps(body).encode()
        return self.session.post(self.base + path, data=data, timeout=WAIT,
                                 headers={"Content-Type": "application/json", **(headers or {})})


@pytest.fixture
def backend(edge, publish_key):
    client = Backend(edge.pc.admin_url, publish_key[0])
    yield client
    client.session.close()


class Notifications:
    """A product client: python-socketio in /v1/shared, recording every event it gets."""

    def __init__(self, edge, token: str):
        self.events: list[tuple[str, tuple]] = []
        self._cond = threading.Condition()
        http = requests.Session()
        http.trust_env = False
        self.sio = socketio.Client(reconnection=False, http_session=http)
        self.sio.on("*", self._record, namespace=NS)
        self.sio.connect(f"http://127.0.0.1:{edge.port}/?token={token}", transports=["websocket"],
                         namespaces=[NS], wait_timeout=WAIT)

    def _record(self, event, *args):
        with self._cond:
            self.events.append((event, args))
            self._cond.notify_all()

    def wait(self, event: str, count: int = 1, timeout: float = WAIT) -> list[tuple]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [args for name, args in self.events if name == event]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no {count}x {event!r} after {timeout:.0f}s; got {self.events}")
                self._cond.wait(remaining)

    def got(self, event: str) -> list[tuple]:
        with self._cond:
            return [args for name, args in self.events if name == event]

    def close(self):
        self.sio.disconnect()


def join_user_room(bus, edge, user: str) -> None:
    """What the product's `join` handler does: put the user's sockets in its room."""
    publish(bus, f"{edge.prefix}:out:bcast", kind="join", app=APP, ns=NS, to="user", target=user,
            room=f"shared:user:{user}")


@pytest.fixture
def users(edge, keys, bus):
    """Notification clients for u1 (joined) and u2 (joined) and u3 (connected, never joined)."""
    clients = {user: Notifications(edge, keys.token(user)) for user in ("u1", "u2", "u3")}
    for user in ("u1", "u2"):
        join_user_room(bus, edge, user)
    yield clients
    for client in clients.values():
        client.close()


SUCCESS = {"success": True, "message": "SUCCESS"}


def settle(users, backend):
    """Publishes a marker to every joined user and waits for it, so every earlier envelope
    (the joins) has been applied."""
    marker = f"ready-{secrets.token_hex(3)}"
    assert backend.post(f"/emit/{marker}", {"userIds": ["u1", "u2"], "data": {}}).status_code == 200
    users["u1"].wait(marker)
    users["u2"].wait(marker)


# --- the shared product's endpoints ----------------------------------------------------------

def test_emit_to_one_user_reaches_every_socket_of_that_user(edge, users, backend, keys, bus):
    settle(users, backend)
    second = Notifications(edge, keys.token("u1"))
    try:
        join_user_room(bus, edge, "u1")
        settle(users, backend)
        payload = {"title": "New Lead", "message": "You have a new lead", "type": "lead",
                   "data": {"lead_id": "64lead", "contact_name": "John Doe"}}
        answer = backend.post("/emit/u1/notification", payload)
        assert (answer.status_code, answer.json()) == (200, SUCCESS)
        assert users["u1"].wait("notification") == [(payload,)]
        assert second.wait("notification") == [(payload,)]
        time.sleep(0.3)
        assert users["u2"].got("notification") == []
        assert users["u3"].got("notification") == []
    finally:
        second.close()


def test_emit_to_many_users_accepts_the_forms_the_product_sends(users, backend):
    settle(users, backend)
    announcement = {"title": "System Maintenance", "priority": "high"}
    answer = backend.post("/emit/system_announcement", {"userIds": ["u1", "u2", "u3", "offline"], "data": announcement})
    assert (answer.status_code, answer.json()) == (200, SUCCESS)
    assert users["u1"].wait("system_announcement") == [(announcement,)]
    assert users["u2"].wait("system_announcement") == [(announcement,)]

    as_string = backend.post("/emit/data_sync", {"userIds": json.dumps(["u2"]), "data": {"campaigns_synced": 15}})
    assert (as_string.status_code, as_string.json()) == (200, SUCCESS)
    one_id = backend.post("/emit/data_sync", {"userIds": "u1", "data": {"campaigns_synced": 16}})
    assert one_id.status_code == 200
    assert users["u2"].wait("data_sync") == [({"campaigns_synced": 15},)]
    assert users["u1"].wait("data_sync") == [({"campaigns_synced": 16},)]
    time.sleep(0.3)
    # u3 never joined its room, as a product client that skipped `join`.
    assert users["u3"].got("system_announcement") == []
    assert len(users["u1"].got("system_announcement")) == 1


def test_percent_encoded_segments_are_decoded(edge, keys, bus, backend, users):
    client = Notifications(edge, keys.token("user one"))
    try:
        join_user_room(bus, edge, "user one")
        answer = backend.post("/emit/user%20one/new%20lead", {"n": 1})
        assert answer.status_code == 200
        assert client.wait("new lead") == [({"n": 1},)]
    finally:
        client.close()


# --- POST /publish -----------------------------------------------------------------------------

def test_publish_reaches_users_rooms_and_one_connection(edge, users, backend, bus):
    settle(users, backend)
    answer = backend.post("/publish", [
        {"to": "user", "target": "u3", "app": APP, "ns": NS, "event": "direct", "data": {"x": 1}},
        {"to": "room", "target": "shared:user:u2", "ns": NS, "event": "spread", "args": [1, "two", {"three": 3}]},
    ])
    assert (answer.status_code, answer.json()) == (200, {"published": 2})
    assert users["u3"].wait("direct") == [({"x": 1},)]
    assert users["u2"].wait("spread") == [(1, "two", {"three": 3})]

    # One connection, by the id the edge gave it (from its `open` on the bus): the envelope
    # goes to that edge's own stream.
    opens = wait_envelopes(bus, f"{edge.prefix}:in:{APP}",
                           lambda es: [e for e in es if e["kind"] == "open" and e.get("user") == "u3"],
                           what="u3's open")
    conn = opens[0]["conn"]
    answer = backend.post("/publish", {"to": "conn", "target": conn, "ns": NS, "event": "only-you", "data": "hi"})
    assert answer.status_code == 200
    assert users["u3"].wait("only-you") == [("hi",)]
    entries = bus.xrange(f"{edge.prefix}:out:edge:{edge.id}")
    assert any(fields[b"event"] == b"only-you" for _, fields in entries)


def test_publish_disconnect_and_leave(edge, users, backend):
    settle(users, backend)
    left = backend.post("/publish", {"kind": "leave", "to": "user", "target": "u2", "ns": NS,
                                     "room": "shared:user:u2"})
    assert left.status_code == 200
    backend.post("/emit/u2/after-leave", {})
    backend.post("/emit/u1/after-leave", {})
    users["u1"].wait("after-leave")
    time.sleep(0.3)
    assert users["u2"].got("after-leave") == []

    gone = backend.post("/publish", {"kind": "disconnect", "to": "user", "target": "u3", "reason": "bye"})
    assert gone.status_code == 200
    deadline = time.monotonic() + WAIT
    while users["u3"].sio.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not users["u3"].sio.connected


# --- AnyCable's /_broadcast and Rails' ActionCable client ---------------------------------------

def test_anycable_broadcast_reaches_rails_actioncable_subscribers(edge, backend):
    node = shutil.which("node") or shutil.which("nodejs")
    assert node, "node is not installed (scripts/lib/common.sh PORTCULLIS_APT_PACKAGES has nodejs)"
    body = "from the backend ✓"
    proc = subprocess.Popen([node, str(CLIENT), "--url", edge.url("/cable"), "--room", "lobby", "--clients", "2",
                             "--body", body, "--expect", "listen", "--timeout", "20"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    lines = []
    try:
        connected = set()
        while len(connected) < 2:
            line = proc.stdout.readline()
            assert line, f"client exited: {lines} {proc.stderr.read()[-2000:]}"
            event = json.loads(line)
            lines.append(event)
            if event["event"] == "connected":
                connected.add(event["client"])
        # As AnyCable's HTTP adapter posts it: `data` is the JSON text of the message.
        message = json.dumps({"body": body, "user": None})
        answer = backend.post("/_broadcast", {"stream": "chat:lobby", "data": message})
        assert answer.status_code == 201
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    lines += [json.loads(line) for line in out.splitlines()]
    assert proc.returncode == 0, f"{lines}\n{err[-2000:]}"
    received = [line for line in lines if line["event"] == "received"]
    assert sorted(line["client"] for line in received) == [0, 1]
    assert all(line["data"] == {"body": body, "user": None} for line in received)


def test_anycable_batches_go_to_each_stream(edge, backend, bus):
    answer = backend.post("/_broadcast", [{"stream": "chat:a", "data": "{\"n\":1}"},
                                          {"stream": "chat:b", "data": "plain", "meta": {"exclude_socket": "x.y"}}])
    assert answer.status_code == 201
    entries = [fields for _, fields in bus.xrange(f"{edge.prefix}:out:bcast")]
    mine = [e for e in entries if e.get(b"target") in (b"chat:a", b"chat:b")]
    assert [(e[b"to"], e[b"target"], e[b"data"]) for e in mine] == [
        (b"room", b"chat:a", b'{"n":1}'), (b"room", b"chat:b", b'"plain"')]
    assert mine[1][b"except"] == b"x.y"
    assert all(b"ns" not in e and b"event" not in e for e in mine)


# --- refusals ----------------------------------------------------------------------------------

def test_a_missing_or_wrong_key_is_401(edge, backend):
    plain = requests.Session()
    plain.trust_env = False
    for path in ("/publish", "/emit/u1/x", "/emit/x", "/_broadcast"):
        missing = plain.post(edge.pc.admin_url + path, json={"to": "all"}, timeout=WAIT)
        assert missing.status_code == 401, path
        assert missing.headers["WWW-Authenticate"] == "Bearer"
        assert missing.json() == {"error": "missing Authorization: Bearer <key>"}
        wrong = plain.post(edge.pc.admin_url + path, json={"to": "all"}, timeout=WAIT,
                           headers={"Authorization": "Bearer " + "0" * 64})
        assert wrong.status_code == 401, path
        assert wrong.headers["WWW-Authenticate"].startswith("Bearer")
        assert wrong.json() == {"error": "invalid bearer key"}


def test_bad_bodies_are_400_with_the_reason_and_publish_nothing(edge, backend, bus):
    before = bus.xlen(f"{edge.prefix}:out:bcast")
    cases = [
        ("/publish", b"not json", "body: not valid JSON: invalid literal at byte 0"),
        ("/publish", json.dumps([{"to": "all", "event": "ok"}, {"to": "user"}]).encode(),
         "messages[1].target: required with to user"),
        ("/publish", json.dumps({"to": "all", "data": 1, "args": [1]}).encode(),
         "messages[0].args: give data (one argument) or args (the argument list), not both"),
        ("/emit/ev", json.dumps({"data": 1}).encode(), "body.userIds: required"),
        ("/emit/u1/ev", b"{", "body: not valid JSON: expected '\"' at byte 1"),
        ("/emit//ev", b"{}", "userId: must not be empty"),
        ("/_broadcast", json.dumps({"stream": "s", "data": {"a": 1}}).encode(),
         "publications[0].data: expected a string (the payload, usually JSON text), got an object"),
    ]
    for path, raw, reason in cases:
        answer = backend.post(path, raw=raw)
        assert (answer.status_code, answer.json()) == (400, {"error": reason}), path
    assert bus.xlen(f"{edge.prefix}:out:bcast") == before


def test_other_methods_and_oversized_bodies(edge, backend):
    get = backend.session.get(edge.pc.admin_url + "/publish", timeout=WAIT)
    assert get.status_code == 405
    assert get.headers["Allow"] == "POST"
    big = backend.post("/publish", raw=b" " * (64 * 1024 + 1))
    assert big.status_code == 413
    assert "max_body_size" in big.json()["error"]
    assert backend.session.get(edge.pc.admin_url + "/healthz", timeout=WAIT).status_code == 200


def test_without_publish_settings_the_endpoints_are_404(portcullis, redis_url, bus_prefix, keys):
    edge = start_edge(portcullis, redis_url, bus_prefix, [shared_route()], auth=keys.config())
    answer = requests.post(edge.pc.admin_url + "/publish", json={"to": "all"}, timeout=WAIT,
                           proxies={"http": None, "https": None})
    assert answer.status_code == 404
    assert answer.json() == {"error": "publishing is not enabled (admin.publish is not configured)"}


def test_without_an_emit_route_emit_is_404_and_publish_works(portcullis, redis_url, bus_prefix, publish_key):
    key, key_file = publish_key
    edge = start_edge(portcullis, redis_url, bus_prefix, [cable_route()],
                      admin={"publish": {"key_file": str(key_file)}})
    client = Backend(edge.pc.admin_url, key)
    answer = client.post("/emit/u1/x", {})
    assert answer.status_code == 404
    assert "emit_endpoints" in answer.json()["error"]
    assert client.post("/publish", {"to": "all", "event": "e"}).status_code == 200


def test_redis_away_is_503_at_once(portcullis, private_redis, bus_prefix, publish_key):
    key, key_file = publish_key
    edge = start_edge(portcullis, private_redis.url, bus_prefix, [cable_route()],
                      admin={"publish": {"key_file": str(key_file)}})
    client = Backend(edge.pc.admin_url, key)
    assert client.post("/publish", {"to": "all", "event": "e"}).status_code == 200
    private_redis.stop()
    started = time.monotonic()
    answer = client.post("/publish", {"to": "all", "event": "e"})
    assert answer.status_code == 503
    assert "nothing was published" in answer.json()["error"]
    assert time.monotonic() - started < 6
    private_redis.start()
    deadline = time.monotonic() + 15
    while client.post("/publish", {"to": "all", "event": "back"}).status_code != 200:
        assert time.monotonic() < deadline, "publishing did not recover after Redis came back"
        time.sleep(0.2)


# --- plain HTTP from another host, TLS ---------------------------------------------------------

def non_loopback_address() -> str | None:
    """An IPv4 address of this host that is not loopback (the source address of a route
    out), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_plain_http_from_another_host_is_refused_and_tls_is_served(portcullis, redis_url, bus_prefix, publish_key,
                                                                   tls_certs):
    address = non_loopback_address()
    if address is None:
        pytest.skip("no non-loopback address on this host (the decision is unit-tested in PublishAccessTests)")
    key, key_file = publish_key
    plain_edge = start_edge(portcullis, redis_url, bus_prefix, [cable_route()], admin_host="0.0.0.0",
                            admin={"publish": {"key_file": str(key_file)}})
    remote = Backend(f"http://{address}:{plain_edge.pc.admin_port}", key)
    refused = remote.post("/publish", {"to": "all", "event": "e"})
    assert refused.status_code == 403
    assert "only allowed from loopback" in refused.json()["error"]
    assert Backend(plain_edge.pc.admin_url, key).post("/publish", {"to": "all"}).status_code == 200

    tls = {"certificate": str(tls_certs.a_cert), "private_key": str(tls_certs.a_key)}
    tls_edge = start_edge(portcullis, redis_url, bus_prefix, [cable_route()], admin_host="0.0.0.0",
                          admin={"publish": {"key_file": str(key_file)}, "tls": tls})
    port = tls_edge.pc.admin_port
    result = subprocess.run(
        ["curl", "-sS", "--noproxy", "*", "--cacert", str(tls_certs.ca), "--resolve", f"a.test:{port}:{address}",
         "-H", f"Authorization: Bearer {key}", "-H", "Content-Type: application/json",
         "-d", '{"to": "all", "event": "over-tls"}', "-w", "\n%{http_code}", f"https://a.test:{port}/publish"],
        capture_output=True, text=True, timeout=30)
    body, status = result.stdout.rsplit("\n", 1)
    assert (status, json.loads(body)) == ("200", {"published": 1}), result.stderr
    # `portcullis reload` finds the TLS admin listener through the conf file.
    reload = subprocess.run([tls_edge.pc.proc.args[0], "reload", "--config", str(tls_edge.pc.config_path)],
                            capture_output=True, text=True, timeout=30)
    assert reload.returncode == 0, reload.stderr
    assert "reloaded" in reload.stdout
