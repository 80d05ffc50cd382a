"""The 3D-model activity feed (3D Repo's chat service, docs/apps/model-activity.md) end to
end: python-socketio connecting the way the product's doc shows (path `/chat`, the
WebSocket transport, the express-session cookie `connect.sid` as an extra header), the
shipped `conf/routes.d/model-activity.yaml` included by a main conf of the test's own,
`portcullis-rooms` running the `model-activity` app, a real redis-server holding the
sessions (connect-redis layout) and the model ACL, and a recording upstream as the REST API.

- `join` / `leave` of the notifications room and of a model's room, answered on `message`;
  refusals on `error` (no access, unknown model, malformed data);
- backend events published to `<prefix>:out:bcast` reach the rooms;
- connections without a session, with a logged-out or forged one, or from another Origin
  are refused; token clients bring their token in the CONNECT `auth`;
- `x-socket-id`: the id python-socketio reports (`get_sid()`) reaches the REST upstream
  through the proxy only for the caller's own live socket, and an emit with that id as
  `except` skips that socket only;
- `loggedOut {reason}` then a disconnect when the session is deleted (logout), when it
  runs out, and when a token expires.

Every test has its own bus prefix (and with it session, revocation and app keys)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import urllib.parse
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jwt
import pytest
import requests
import socketio

from conftest import hs256_secret
from lifecyclekit import SioClient
from socketkit import publish, start_edge, wait_envelopes

ROUTE_FILE = Path(__file__).resolve().parents[2] / "conf" / "routes.d" / "model-activity.yaml"
APP = "model-activity"
ORIGIN = "https://app.test"
WAIT = 20.0  # anything that crosses the bus, on a loaded two-core machine
# auth.session_check_interval is 1 s here: a deleted session is found within the interval
# plus the one-second sweep; the rest is slack for a loaded machine.
SESSION_LATENCY = 1.0 + 1.0 + 3.0
# An expiry fires on the one-second sweep after the whole-second instant.
EXPIRY_LATENCY = 2.0 + 3.0

TEAMSPACE = "john"
PROJECT = "a608516e-0fef-4185-bca8-bf03a256ad3d"
MODEL = "808d98ee-aad1-11ec-b909-0242ac120002"
MODEL_DATA = {"teamspace": TEAMSPACE, "project": PROJECT, "model": MODEL}
MODEL_ROOM = f"model::{TEAMSPACE}::{PROJECT}::{MODEL}"


def user(label: str) -> str:
    return f"{label}-{secrets.token_hex(3)}"


class Product:
    """The edge on the shipped route file, the worker, and the product's backend side:
    sessions, tokens, the ACL, REST calls and publishing."""

    def __init__(self, tmp_path, portcullis, rooms, upstream, redis_url, prefix, bus, monkeypatch):
        self.bus = bus
        self.prefix = prefix
        self.cookie_secret = "cookie-" + secrets.token_hex(16)
        (tmp_path / "cookie-secrets").write_text(self.cookie_secret + "\n")
        self.key = hs256_secret()
        (tmp_path / "products.key").write_bytes(self.key)
        self.session_prefix = f"{prefix}:sess:"
        self.api = upstream(name="model-api")
        monkeypatch.setenv("MODEL_API_ADDR", self.api.addr)
        monkeypatch.setenv("MODEL_ACTIVITY_ORIGIN", ORIGIN)
        auth = {
            "cookie_secrets_file": str(tmp_path / "cookie-secrets"),
            "session_prefix": self.session_prefix,
            "session_user_field": "user.username",
            "session_check_interval": "1s",
            "revocation_prefix": f"{prefix}:revoked:",
            "key_sets": {"products": [{"secret_file": str(tmp_path / "products.key"), "alg": "HS256",
                                       "kid": "p1", "default": True}]},
        }
        rooms(redis_url, prefix, apps=(APP,))
        self.edge = start_edge(portcullis, redis_url, prefix, [{"include": str(ROUTE_FILE)}], auth=auth)
        self.http = requests.Session()
        self.http.trust_env = False

    # --- the product's backend ---

    def session(self, username: str, expires_in: timedelta = timedelta(hours=1)) -> tuple[str, str]:
        """A logged-in session as 3D Repo keeps it (connect-redis JSON, the user under
        `user.username`) and its express-signed cookie value: (sid, cookie)."""
        sid = secrets.token_urlsafe(24)
        expires = (datetime.now(timezone.utc) + expires_in).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        record = {"cookie": {"originalMaxAge": int(expires_in.total_seconds() * 1000), "expires": expires,
                             "httpOnly": True, "path": "/"},
                  "user": {"username": username, "roles": []}}
        self.bus.set(self.session_prefix + sid, json.dumps(record), ex=3600)
        signature = base64.b64encode(hmac.new(self.cookie_secret.encode(), sid.encode(), hashlib.sha256).digest())
        return sid, urllib.parse.quote("s:" + sid + "." + signature.decode().rstrip("="), safe="")

    def logout(self, sid: str) -> None:
        assert self.bus.delete(self.session_prefix + sid) == 1

    def token(self, sub: str, ttl: float = 300) -> str:
        now = int(time.time())
        return jwt.encode({"sub": sub, "iat": now, "exp": int(now + ttl)}, self.key, algorithm="HS256",
                          headers={"kid": "p1"})

    def grant(self, model: dict, *users: str) -> None:
        """The model exists; `users` may read it (docs/apps/model-activity.md, ACL layout)."""
        key = f"{model['teamspace']}:{model['project']}:{model['model']}"
        self.bus.sadd(f"{self.prefix}:app:{APP}:models", key)
        if users:
            self.bus.sadd(f"{self.prefix}:app:{APP}:model:{key}:members", *users)

    def publish(self, room: str, event: str, data, *, except_socket: str | None = None) -> None:
        publish(self.bus, f"{self.prefix}:out:bcast", kind="emit", app=APP, to="room", target=room, event=event,
                data=json.dumps(data), **{"except": except_socket})

    def rest(self, path: str, *, cookie: str | None = None, socket_id: str | None = None,
             extra: dict | None = None) -> tuple[int, dict]:
        """A REST call through the proxy route; what the upstream saw (lower-cased headers)."""
        headers = {"Origin": ORIGIN}
        if cookie:
            headers["Cookie"] = f"connect.sid={cookie}"
        if socket_id is not None:
            headers["x-socket-id"] = socket_id
        headers.update(extra or {})
        answer = self.http.post(self.edge.pc.url(path), headers=headers, json={"tag": "v2"}, timeout=WAIT)
        if answer.status_code != 200:
            return answer.status_code, {}
        seen: dict = {}
        for name, value in answer.json()["headers"]:
            seen.setdefault(name.lower(), []).append(value)
        return 200, seen


class Client(SioClient):
    """python-socketio as the product's doc uses it: `io(chatHost, {path: chatPath,
    transports: ['websocket']})`, the cookie as an extra header (a browser sends it and its
    Origin itself), or a token in the CONNECT `auth`. What it receives is recorded."""

    def __init__(self, product: Product, *, cookie: str | None = None, token: str | None = None,
                 origin: str | None = ORIGIN, transports=("websocket",)):
        # The Origin goes in the headers, once: python-socketio's WebSocket transport would
        # add `Origin: http://127.0.0.1:<port>` of its own.
        super().__init__(suppress_origin=True)
        self.product = product
        self.cookie, self.token, self.origin = cookie, token, origin
        self.transports = list(transports) if transports else None

    def connect(self) -> "Client":  # the doc's client, not the lifecycle routes'
        headers = {}
        if self.cookie:
            headers["Cookie"] = f"connect.sid={self.cookie}"
        if self.origin:
            headers["Origin"] = self.origin
        self.sio.connect(f"http://127.0.0.1:{self.product.edge.port}", socketio_path="/chat",
                         transports=self.transports, headers=headers,
                         auth={"token": self.token} if self.token else None, wait_timeout=WAIT)
        return self

    @property
    def socket_id(self) -> str:
        return self.sio.get_sid("/")

    def wait(self, event: str, count: int = 1) -> None:
        self.wait_event(event, count, timeout=WAIT)

    def answers(self) -> list[tuple[str, object]]:
        with self._cond:
            return [(n, a[0]) for _, n, a in self.events if n in ("message", "error")]

    def answer(self, action: str, data) -> tuple[str, object]:
        """Emits `action` with `data` and waits for the `message` or `error` that answers it."""
        before = len(self.answers())
        self.sio.emit(action, data)
        self.wait_for(lambda: len(self.answers()) > before, WAIT, f"the {action} answer")
        return self.answers()[before]

    def received(self, event: str) -> list:
        return [args[0] for _, args in self.named(event)]


@pytest.fixture
def product(tmp_path, portcullis, rooms, upstream, redis_url, bus_prefix, bus, monkeypatch):
    return Product(tmp_path, portcullis, rooms, upstream, redis_url, bus_prefix, bus, monkeypatch)


@pytest.fixture
def clients(product):
    opened: list[Client] = []

    def open_client(**options) -> Client:
        client = Client(product, **options)
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        client.close()


def success(action: str, data) -> tuple[str, dict]:
    return "message", {"event": "success", "data": {"action": action, "data": data}}


def error(code: str, message: str, action: str, data) -> tuple[str, dict]:
    return "error", {"code": code, "message": message, "details": {"action": action, "data": data}}


# --- rooms and events -------------------------------------------------------------------------

@pytest.mark.parametrize("transports", [("websocket",), None], ids=["websocket", "polling-upgrade"])
def test_the_documented_client_joins_its_rooms_and_receives_their_activity(product, clients, transports):
    alice = user("alice")
    product.grant(MODEL_DATA, alice)
    _, cookie = product.session(alice)
    client = clients(cookie=cookie, transports=transports).connect()

    assert client.answer("join", {"notifications": True}) == success("join", {"notifications": True})
    assert client.answer("join", MODEL_DATA) == success("join", MODEL_DATA)

    product.publish(MODEL_ROOM, "containerNewRevision", {**MODEL_DATA, "tag": "v2"})
    product.publish(f"notifications::{alice}", "importSuccess", {"model": MODEL})
    client.wait("importSuccess")
    client.wait("containerNewRevision")
    assert client.received("containerNewRevision") == [{**MODEL_DATA, "tag": "v2"}]
    assert client.received("importSuccess") == [{"model": MODEL}]

    assert client.answer("leave", MODEL_DATA) == success("leave", MODEL_DATA)
    product.publish(MODEL_ROOM, "containerSettingsUpdate", {"name": "renamed"})
    product.publish(f"notifications::{alice}", "importSuccess", {"model": "after-leave"})
    # Both come off one stream in order: once the second is in, the first would be too.
    client.wait("importSuccess", count=2)
    assert client.received("containerSettingsUpdate") == []


def test_notifications_reach_their_own_user_only(product, clients):
    alice, bob = user("alice"), user("bob")
    clients_of = {}
    for name in (alice, bob):
        _, cookie = product.session(name)
        clients_of[name] = clients(cookie=cookie).connect()
        assert clients_of[name].answer("join", {"notifications": True})[0] == "message"
    product.publish(f"notifications::{bob}", "issueAssigned", {"issue": 7})
    product.publish(f"notifications::{alice}", "issueAssigned", {"issue": 8})
    clients_of[alice].wait("issueAssigned")
    clients_of[bob].wait("issueAssigned")
    assert clients_of[alice].received("issueAssigned") == [{"issue": 8}]
    assert clients_of[bob].received("issueAssigned") == [{"issue": 7}]


def test_refusals_come_on_the_error_event_with_what_was_sent(product, clients):
    alice = user("alice")
    product.grant(MODEL_DATA, "someone-else")
    _, cookie = product.session(alice)
    client = clients(cookie=cookie).connect()

    assert client.answer("join", MODEL_DATA) == error(
        "UNAUTHORISED", "You do not have sufficient access rights to join the room requested", "join", MODEL_DATA)
    unknown = {**MODEL_DATA, "model": "no-such-model"}
    assert client.answer("join", unknown) == error("ROOM_NOT_FOUND", "Model not found", "join", unknown)
    assert client.answer("leave", unknown) == error("ROOM_NOT_FOUND", "Model not found", "leave", unknown)
    assert client.answer("join", {}) == error("ROOM_NOT_FOUND", "Cannot identify the room indicated", "join", {})
    name, payload = client.answer("join", "notifications")
    assert (name, payload["code"], payload["details"]) == (
        "error", "INVALID_ARGUMENTS", {"action": "join", "data": "notifications"})
    name, payload = client.answer("join", {"teamspace": "a:b", "project": PROJECT, "model": MODEL})
    assert (name, payload["code"]) == ("error", "INVALID_ARGUMENTS")

    # Refused joins left the socket out of the room: of two events published in this order
    # on one stream, the second arrives and the first never did.
    assert client.answer("join", {"notifications": True})[0] == "message"
    product.publish(MODEL_ROOM, "containerNewRevision", {"tag": "v3"})
    product.publish(f"notifications::{alice}", "importSuccess", {"model": MODEL})
    client.wait("importSuccess")
    assert client.received("containerNewRevision") == []


# --- who may connect ----------------------------------------------------------------------------

def test_connections_without_a_live_session_or_from_another_origin_are_refused(product, clients):
    alice = user("alice")
    sid, cookie = product.session(alice)
    product.logout(sid)
    _, live = product.session(alice)
    forged = urllib.parse.quote(f"s:{secrets.token_urlsafe(24)}.{'A' * 43}", safe="")
    for options in ({"cookie": cookie}, {"cookie": forged}, {"cookie": live, "origin": "https://evil.test"}):
        client = clients(**options)
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect()
        assert not client.sio.connected

    # Neither a cookie nor a token: the handshake passes (a token may come in the
    # CONNECT), the CONNECT without one is refused.
    client = clients()
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect()
    assert [args[0].get("data") for _, args in client.named("connect_error")] == [{"code": "missing_token"}]


def test_a_token_client_connects_with_its_token_in_the_connect_auth(product, clients):
    bob = user("bob")
    product.grant(MODEL_DATA, bob)
    client = clients(token=product.token(bob), origin=None).connect()
    assert client.answer("join", MODEL_DATA) == success("join", MODEL_DATA)
    product.publish(MODEL_ROOM, "federationNewRevision", {"tag": "t"})
    client.wait("federationNewRevision")

    stranger = clients(token=jwt.encode({"sub": bob, "exp": int(time.time()) + 60}, hs256_secret(),
                                        algorithm="HS256", headers={"kid": "p1"}), origin=None)
    with pytest.raises(socketio.exceptions.ConnectionError):
        stranger.connect()
    assert [args[0].get("data") for _, args in stranger.named("connect_error")] == [{"code": "bad_signature"}]


# --- x-socket-id and except ---------------------------------------------------------------------

def test_x_socket_id_names_the_callers_socket_and_except_leaves_only_that_one_out(product, clients, bus):
    alice, bob = user("alice"), user("bob")
    product.grant(MODEL_DATA, alice, bob)
    _, alice_cookie = product.session(alice)
    _, bob_cookie = product.session(bob)
    laptop = clients(cookie=alice_cookie).connect()
    phone = clients(cookie=alice_cookie).connect()
    bobs = clients(cookie=bob_cookie).connect()
    for client in (laptop, phone, bobs):
        assert client.answer("join", MODEL_DATA) == success("join", MODEL_DATA)

    # What the client reports as its socket id is the connection id on the bus.
    def opened(found):
        conns = sorted(e["conn"] for e in found if e["kind"] == "open")
        return conns if len(conns) == 3 else None

    conns = wait_envelopes(bus, f"{product.prefix}:in:{APP}", opened, timeout=WAIT, what="three opens")
    assert conns == sorted(c.socket_id for c in (laptop, phone, bobs))
    assert laptop.sio.sid != laptop.socket_id  # the Engine.IO sid is another, secret, id

    path = f"/api/v5/teamspaces/{TEAMSPACE}/projects/{PROJECT}/containers/{MODEL}/tickets"
    status, seen = product.rest(path, cookie=alice_cookie, socket_id=laptop.socket_id)
    assert status == 200
    assert seen.get("x-socket-id") == [laptop.socket_id]
    assert seen.get("x-auth-subject") == [alice]

    # The backend leaves the caller's socket out; the user's other socket and others get it.
    product.publish(MODEL_ROOM, "containerNewTicket", {"id": "t1"}, except_socket=seen["x-socket-id"][0])
    product.publish(MODEL_ROOM, "containerUpdateTicket", {"id": "t1"})
    for client in (laptop, phone, bobs):
        client.wait("containerUpdateTicket")
    assert laptop.received("containerNewTicket") == []
    assert phone.received("containerNewTicket") == [{"id": "t1"}]
    assert bobs.received("containerNewTicket") == [{"id": "t1"}]

    # Only the caller's own live socket is vouched for; anything else never reaches the API.
    for socket_id, extra in ((bobs.socket_id, None), ("e1.made-up", None), (laptop.sio.sid, None),
                             (None, {"X_Socket_Id": phone.socket_id})):
        status, seen = product.rest(path, cookie=alice_cookie, socket_id=socket_id, extra=extra)
        assert status == 200
        assert "x-socket-id" not in seen and "x_socket_id" not in seen, (socket_id, extra, seen)
    status, seen = product.rest(path, socket_id=laptop.socket_id,
                                extra={"Authorization": f"Bearer {product.token(bob)}"})
    assert status == 200 and "x-socket-id" not in seen and seen["x-auth-subject"] == [bob]
    closed = laptop.socket_id
    laptop.close()
    deadline = time.monotonic() + WAIT
    while True:
        status, seen = product.rest(path, cookie=alice_cookie, socket_id=closed)
        if "x-socket-id" not in seen or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status == 200 and "x-socket-id" not in seen, "a closed socket is still vouched for"


# --- loggedOut ------------------------------------------------------------------------------------

def logged_out(client: Client, reason: str, since: float, latency: float) -> None:
    """`loggedOut {reason}` then the DISCONNECT, `latency` seconds after `since` at most."""
    noticed = client.expect_credentials_ended(reason, timeout=WAIT)
    assert noticed - since <= latency, f"loggedOut {noticed - since:.1f}s after the credentials ended"
    assert not client.sio.connected


def test_logout_sends_logged_out_then_disconnects_every_socket_of_that_session(product, clients):
    alice = user("alice")
    sid, cookie = product.session(alice)
    _, other_cookie = product.session(alice)  # the same user, logged in elsewhere
    first, second = clients(cookie=cookie).connect(), clients(cookie=cookie).connect()
    elsewhere = clients(cookie=other_cookie).connect()
    for client in (first, second, elsewhere):
        assert client.answer("join", {"notifications": True})[0] == "message"

    logged_out_at = time.time()
    product.logout(sid)
    for client in (first, second):
        logged_out(client, "session_ended", logged_out_at, SESSION_LATENCY)
    assert elsewhere.answer("leave", {"notifications": True})[0] == "message"
    assert elsewhere.received("loggedOut") == []

    again = clients(cookie=cookie)
    with pytest.raises(socketio.exceptions.ConnectionError):
        again.connect()


def test_a_session_that_runs_out_sends_logged_out(product, clients):
    alice = user("alice")
    _, cookie = product.session(alice, expires_in=timedelta(seconds=4))
    client = clients(cookie=cookie).connect()
    assert client.answer("join", {"notifications": True})[0] == "message"
    expires = time.time() + 4
    logged_out(client, "token_expired", expires, EXPIRY_LATENCY)


def test_a_token_that_expires_sends_logged_out(product, clients):
    bob = user("bob")
    token = product.token(bob, ttl=4)
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    client = clients(token=token, origin=None).connect()
    assert client.answer("join", {"notifications": True})[0] == "message"
    logged_out(client, "token_expired", exp, EXPIRY_LATENCY)
