"""The marketplace chat end to end: the shipped route file conf/routes.d/marketplace-chat.yaml
included by a main conf of the test's own (listener, Redis, bus prefix, the `products`
key set), `portcullis-rooms` running the `marketplace-chat` app, and python-socketio
clients connecting the way the product's documented client does:

    io('https://…/v1/conversations/events', {path: '/v1/conversations/sockets',
       transports: ['websocket'], query: {token, user_id, user_role}})

Each test waits for what it expects (bounded, generous waits for a loaded two-core
machine); "nothing arrived" is asserted only after a later event that the same bus stream
carries behind it has arrived (the edge delivers each stream in order)."""

from __future__ import annotations

import json
import re
import threading
import time

import jwt
import pytest
import requests
import socketio

from conftest import REPO_ROOT, edge_id, hs256_secret
from socketkit import Keys

APP = "marketplace-chat"
PATH = "/v1/conversations/sockets"
NS = "/v1/conversations/events"
ROUTE_FILE = REPO_ROOT / "conf" / "routes.d" / "marketplace-chat.yaml"
WAIT = 20.0
# How late after a token's exp the edge may end the socket: its one-second sweep plus
# slack for a loaded machine.
LATE = 4.0
OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


# --- the edge and the worker ------------------------------------------------------------------

def products_key_set(keys: Keys) -> dict:
    """The main conf's `auth:` with the `products` key set the route file names: the test's
    HS256 secret file (socketkit's `Keys` signs with kid `k1`)."""
    return {"key_sets": {"products": [{"secret_file": str(keys.path), "alg": "HS256", "kid": "k1",
                                       "default": True}]}}


def foreign_token(sub: str) -> str:
    """Well formed, the right kid, signed with another secret."""
    now = int(time.time())
    return jwt.encode({"sub": sub, "iat": now, "exp": now + 300}, hs256_secret(), algorithm="HS256",
                      headers={"kid": "k1"})


class ChatEdge:
    def __init__(self, pc, keys: Keys, prefix: str, store):
        self.pc = pc
        self.keys = keys
        self.prefix = prefix
        self.store = store

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.pc.port}"

    def key(self, *parts: str) -> str:
        """An app key, as docs/apps/marketplace-chat.md lays them out."""
        return f"{self.prefix}:app:{APP}:" + ":".join(parts)


@pytest.fixture
def chat(portcullis, rooms, redis_url, bus_prefix, bus, tmp_path) -> ChatEdge:
    """The edge on a main conf that includes the shipped route file by its absolute path,
    and a worker with the app."""
    assert ROUTE_FILE.is_file(), ROUTE_FILE
    rooms(redis_url, bus_prefix, apps=(APP,))
    keys = Keys(tmp_path)
    extra = {"redis": {"url": redis_url}, "bus": {"prefix": bus_prefix}, "auth": products_key_set(keys)}
    pc = portcullis(upstreams={}, routes=[{"include": str(ROUTE_FILE)}], extra=extra,
                    edge={"id": edge_id(), "watch_interval": "0s"})
    return ChatEdge(pc, keys, bus_prefix, bus)


# --- a client as the product's ------------------------------------------------------------------

class ChatClient:
    """python-socketio on the chat namespace, recording every event it receives (with the
    time) so that tests can wait for them."""

    def __init__(self, edge: ChatEdge, user: str, role: str, token: str | None = None, ttl: float = 300):
        self.edge = edge
        self.user = user
        self.role = role
        self.token = token if token is not None else edge.keys.token(user, ttl)
        http = requests.Session()
        http.trust_env = False
        self.sio = socketio.Client(reconnection=False, http_session=http)
        self.events: list[tuple[float, str, tuple]] = []
        self._cond = threading.Condition()
        self.sio.on("*", self._record, namespace=NS)
        for name in ("connect", "disconnect", "connect_error"):
            self.sio.on(name, (lambda event: lambda *args: self._record(event, *args))(name), namespace=NS)

    def _record(self, event: str, *args) -> None:
        with self._cond:
            self.events.append((time.time(), event, args))
            self._cond.notify_all()

    def connect(self, **query) -> "ChatClient":
        """Connects as the doc's client does; returns once the namespace answered."""
        params = {"token": self.token, "user_id": self.user, "user_role": self.role, **query}
        url = self.edge.url + "?" + "&".join(f"{k}={requests.utils.quote(v)}" for k, v in params.items())
        self.sio.connect(url, socketio_path=PATH, transports=["websocket"], namespaces=[NS], wait_timeout=WAIT)
        return self

    def online(self) -> dict:
        """Connects and waits for `active_user_list`: from then on the socket is in its
        rooms (the worker sent the joins before the list, on the same stream)."""
        self.connect()
        return self.wait("active_user_list")

    # receiving

    def received(self, event: str) -> list:
        """The first argument of each `event` received so far."""
        with self._cond:
            return [args[0] if args else None for _, name, args in self.events if name == event]

    def wait(self, event: str, predicate=lambda data: True, count: int = 1, timeout: float = WAIT):
        """The `count`-th `event` matching `predicate`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [d for d in self.received(event) if predicate(d)]
                if len(found) >= count:
                    return found[count - 1]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{self.role} {self.user}: no {event!r} #{count} after {timeout:.0f}s; "
                                         f"received {[(n, a) for _, n, a in self.events][-12:]}")
                self._cond.wait(min(remaining, 0.5))

    def wait_time(self, event: str, timeout: float = WAIT) -> float:
        self.wait(event, timeout=timeout)
        with self._cond:
            return next(t for t, name, _ in self.events if name == event)

    # sending

    def call(self, event: str, data):
        """Emits with an ack callback and returns the server's answer."""
        return self.sio.call(event, data, namespace=NS, timeout=WAIT)

    def emit(self, event: str, data) -> None:
        self.sio.emit(event, data, namespace=NS)

    def message(self, to: str, content="hello", **extra) -> dict:
        room = f"{self.user}.{to}" if self.role == "BUYER" else f"{to}.{self.user}"
        return {"room_id": room, "from": self.user, "to": to, "type": "TEXT", "content": content, **extra}

    def close(self) -> None:
        try:
            self.sio.disconnect()
        except Exception:  # noqa: BLE001 - teardown
            pass


@pytest.fixture
def clients(chat):
    made: list[ChatClient] = []

    def make(user: str, role: str, **options) -> ChatClient:
        client = ChatClient(chat, user, role, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def create_room(buyer: str, seller: str, creator: str, shop=7) -> dict:
    return {"type": "BS", "buyer": buyer, "seller": seller, "shop_id": shop, "creator": creator}


def with_room(clients, buyer: str = "b1", seller: str = "s1"):
    """Buyer and seller online, the buyer created their room; both heard `create_room`."""
    b = clients(buyer, "BUYER")
    s = clients(seller, "SELLER")
    b.online()
    s.online()
    room = b.call("create_room", create_room(buyer, seller, buyer))
    assert room["room_id"] == f"{buyer}.{seller}", room
    s.wait("create_room")
    return b, s


# --- handshake --------------------------------------------------------------------------------------

def test_the_documented_client_connects_and_gets_its_active_user_list(chat, clients):
    buyer = clients("b1", "BUYER")
    assert buyer.online() == {"user_id": "b1", "user_role": "BUYER", "rooms": []}
    assert buyer.sio.connected and buyer.sio.transport() == "websocket"
    assert chat.store.scard(chat.key("user", "b1", "BUYER", "sockets")) == 1


@pytest.mark.parametrize("user,role,subject,reason", [
    ("b1", "BUYER", "b2", "user_id does not match the token"),
    ("b1", "ADMIN", "b1", "user_role must be BUYER or SELLER"),
    ("b1", "", "b1", "user_role must be BUYER or SELLER"),
])
def test_the_namespace_is_refused_unless_the_token_is_the_users_and_the_role_is_buyer_or_seller(
        chat, clients, user, role, subject, reason):
    client = clients(user, role, token=chat.keys.token(subject))
    try:
        client.connect()
    except socketio.exceptions.ConnectionError:
        pass  # the refusal came before connect() returned
    error = client.wait("connect_error")
    assert reason in json.dumps(error), error
    assert client.received("active_user_list") == []
    assert NS not in client.sio.namespaces


@pytest.mark.parametrize("token", ["", "not-a-jwt", "foreign"])
def test_the_handshake_without_a_valid_products_token_is_refused_by_the_edge(chat, clients, token):
    if token == "foreign":
        token = foreign_token("b1")
    client = clients("b1", "BUYER", token=token)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect()
    assert client.received("active_user_list") == []


# --- rooms, messages, typing, read markers, deletion ------------------------------------------------------

def test_create_room_is_answered_to_both_parties_and_is_idempotent(chat, clients):
    buyer, seller = clients("b1", "BUYER"), clients("s1", "SELLER")
    buyer.online()
    seller.online()
    room = {"room_id": "b1.s1", "type": "BS", "buyer": "b1", "seller": "s1", "shop_id": 7, "creator": "b1"}
    assert buyer.call("create_room", create_room("b1", "s1", "b1")) == room
    assert buyer.wait("create_room") == room
    assert seller.wait("create_room") == room
    # Created again by the seller, with another shop: the stored room comes back, once.
    assert seller.call("create_room", create_room("b1", "s1", "s1", shop="x")) == room
    assert seller.wait("create_room", count=2) == room
    assert chat.store.smembers(chat.key("user", "b1", "BUYER", "rooms")) == {b"b1.s1"}
    assert chat.store.smembers(chat.key("user", "s1", "SELLER", "rooms")) == {b"b1.s1"}
    stored = json.loads(chat.store.get(chat.key("room", "b1.s1")))
    assert {k: stored[k] for k in room} == room and ISO_MS.match(stored["created_at"]), stored


def test_messages_reach_every_socket_of_both_parties_and_are_stored_once(chat, clients):
    buyer, seller = with_room(clients)
    phone = clients("b1", "BUYER")
    phone.online()

    sent = buyer.call("new_message", buyer.message("s1", "hi there", client_message_id="c-1"))
    assert OBJECT_ID.match(sent["_id"]) and ISO_MS.match(sent["created_at"]), sent
    assert abs(int(sent["_id"][:8], 16) - time.time()) < 120, sent
    assert {k: sent[k] for k in ("room_id", "from", "to", "type", "content", "client_message_id")} == \
        {"room_id": "b1.s1", "from": "b1", "to": "s1", "type": "TEXT", "content": "hi there",
         "client_message_id": "c-1"}
    for client in (buyer, phone, seller):
        assert client.wait("new_message") == sent

    # The same client_message_id again: the original comes back to the sender only.
    again = buyer.call("new_message", buyer.message("s1", "edited?", client_message_id="c-1"))
    assert again == sent
    assert buyer.wait("new_message", count=2) == sent
    reply = seller.call("new_message", seller.message("b1", "hello back"))
    for client in (buyer, phone, seller):
        client.wait("new_message", lambda m: m["content"] == "hello back")
    assert [m["content"] for m in seller.received("new_message")] == ["hi there", "hello back"]
    assert [m["content"] for m in phone.received("new_message")] == ["hi there", "hello back"]

    # The history, read back from Redis as a backend would.
    history = [json.loads(m) for m in chat.store.lrange(chat.key("room", "b1.s1", "messages"), 0, -1)]
    assert history == [sent, reply]


def test_typing_stop_typing_and_seen_messages_reach_the_other_party_only(chat, clients):
    buyer, seller = with_room(clients)
    typing = {"room_id": "b1.s1", "from": "b1", "to": "s1"}
    buyer.emit("typing", typing)
    buyer.emit("stop_typing", typing)
    assert seller.wait("typing") == typing
    assert seller.wait("stop_typing") == typing

    sent = buyer.call("new_message", buyer.message("s1"))
    seen = {"room_id": "b1.s1", "from": "s1", "to": "b1", "last_message_id": sent["_id"],
            "last_message_created_at": sent["created_at"]}
    assert seller.call("seen_messages", seen) == seen
    assert buyer.wait("seen_messages") == seen
    # Each side now gets an event emitted after all of the above: had the buyer been sent
    # its own typing, or the seller its own read marker, it would have arrived before.
    seller.call("typing", {"room_id": "b1.s1", "from": "s1", "to": "b1"})
    buyer.wait("typing")
    assert buyer.received("typing") == [{"room_id": "b1.s1", "from": "s1", "to": "b1"}]
    assert buyer.received("stop_typing") == []
    buyer.call("stop_typing", typing)
    seller.wait("stop_typing", count=2)
    assert seller.received("seen_messages") == []
    assert json.loads(chat.store.hget(chat.key("room", "b1.s1", "seen"), "s1")) == seen


def test_room_deletion_reaches_both_and_hides_the_room_from_the_deleter(chat, clients):
    buyer, seller = with_room(clients)
    deletion = {"room_id": "b1.s1", "seller": "s1", "buyer": "b1", "deletion_role": "SELLER"}
    assert seller.call("room_deletion", {"room_id": "b1.s1"}) == deletion
    assert buyer.wait("room_deletion") == deletion
    assert seller.wait("room_deletion") == deletion
    assert json.loads(chat.store.hget(chat.key("room", "b1.s1", "deleted"), "SELLER"))["user_id"] == "s1"
    assert clients("s1", "SELLER").online()["rooms"] == []
    assert [r["room_id"] for r in clients("b1", "BUYER").online()["rooms"]] == ["b1.s1"]
    # A new message shows it again.
    buyer.call("new_message", buyer.message("s1", "still there?"))
    seller.wait("new_message")
    assert [r["room_id"] for r in clients("s1", "SELLER").online()["rooms"]] == ["b1.s1"]


# --- refusals ---------------------------------------------------------------------------------------------

def test_someone_elses_room_and_wrong_parties_are_refused_with_an_error_event(chat, clients):
    buyer, seller = with_room(clients)
    intruder = clients("b2", "BUYER")
    intruder.online()
    attempts = [
        ("new_message", {"room_id": "b1.s1", "from": "b2", "to": "s1", "type": "TEXT", "content": "hi"}),
        ("typing", {"room_id": "b1.s1", "from": "b2", "to": "s1"}),
        ("seen_messages", {"room_id": "b1.s1", "from": "b2", "to": "s1", "last_message_id": "x",
                           "last_message_created_at": "y"}),
        ("room_deletion", {"room_id": "b1.s1"}),
        ("create_room", create_room("b1", "s1", "b2")),
    ]
    for event, data in attempts:
        answer = intruder.call(event, data)
        assert answer["error"]["code"] == "forbidden" and answer["error"]["event"] == event, (event, answer)
        intruder.wait("error", lambda e: e["event"] == event)

    # In the room, but lying about who sends, or to whom.
    for data, code in [(buyer.message("s1") | {"from": "s1"}, "forbidden"),
                       (buyer.message("s1") | {"to": "s9"}, "forbidden"),
                       (buyer.message("s1") | {"type": "VIDEO"}, "invalid_payload"),
                       (buyer.message("s1") | {"room_id": "b9.s1"}, "room_not_found")]:
        assert buyer.call("new_message", data)["error"]["code"] == code, data
    # A creator that is not the connected user, a BUYER creating as the seller.
    assert seller.call("create_room", create_room("b1", "s1", "b1"))["error"]["code"] == "forbidden"
    assert buyer.call("create_room", create_room("s1", "b1", "b1"))["error"]["code"] == "forbidden"

    # Nothing reached the seller or the store: a message sent now is the first it gets.
    buyer.call("new_message", buyer.message("s1", "the real one"))
    assert seller.wait("new_message")["content"] == "the real one"
    assert len(seller.received("new_message")) == 1
    for event in ("typing", "seen_messages", "room_deletion"):
        assert seller.received(event) == [], event
    assert chat.store.llen(chat.key("room", "b1.s1", "messages")) == 1
    assert chat.store.hlen(chat.key("room", "b1.s1", "deleted")) == 0
    assert not chat.store.exists(chat.key("room", "s1.b1"))


# --- presence ---------------------------------------------------------------------------------------------

def test_presence_active_user_list_and_status_changes_on_first_connect_and_last_disconnect(chat, clients):
    buyer, seller = with_room(clients)
    offline = {"user_id": "s1", "user_role": "SELLER", "room_id": "b1.s1", "status": False}
    online = dict(offline, status=True)
    seller.close()
    assert buyer.wait("user_status_change") == offline
    assert clients("b1", "BUYER").online()["rooms"] == [{"room_id": "b1.s1", "status": False}]

    phone, laptop = clients("s1", "SELLER"), clients("s1", "SELLER")
    assert phone.online()["rooms"] == [{"room_id": "b1.s1", "status": True}]
    assert buyer.wait("user_status_change", count=2) == online
    laptop.online()
    phone.close()
    # The laptop is still online: no change until it leaves too.
    laptop.close()
    assert buyer.wait("user_status_change", count=3) == offline
    assert [c["status"] for c in buyer.received("user_status_change")] == [False, True, False]
    assert chat.store.scard(chat.key("user", "s1", "SELLER", "sockets")) == 0


# --- token expiry and verify_user -------------------------------------------------------------------------------

def token_exp(token: str) -> int:
    return jwt.decode(token, options={"verify_signature": False})["exp"]


def test_an_expiring_token_ends_the_socket_unless_verify_user_brings_a_fresh_one(chat, clients):
    ttl = 8
    buyer = clients("b1", "BUYER", ttl=ttl)
    seller = clients("s1", "SELLER", ttl=ttl)
    old_exp = token_exp(buyer.token)
    buyer.online()
    seller.online()
    buyer.call("create_room", create_room("b1", "s1", "b1"))
    seller.wait("create_room")

    # verify_user as the doc has it; the edge answers. Another user's token is refused.
    other = seller.call("verify_user", {"token": chat.keys.token("s2"), "user_id": "s1", "user_role": "SELLER"})
    assert other == {"status": False, "reason": "wrong_subject"}, other
    fresh = seller.call("verify_user", {"token": chat.keys.token("s1", 300), "user_id": "s1", "user_role": "SELLER"})
    assert fresh == {"status": True}, fresh

    # The buyer, who did not refresh, is disconnected at its token's exp; the seller hears it.
    ended = buyer.wait_time("disconnect", timeout=ttl + LATE + WAIT)
    assert old_exp - 0.05 <= ended <= old_exp + LATE, f"ended at {ended:.3f}, exp {old_exp}"
    assert seller.wait("user_status_change") == {"user_id": "b1", "user_role": "BUYER", "room_id": "b1.s1",
                                                 "status": False}
    # The seller outlives the first exp (past a sweep on either event loop) and still acts.
    time.sleep(max(0.0, old_exp + 2.5 - time.time()))
    answer = seller.call("typing", {"room_id": "b1.s1", "from": "s1", "to": "b1"})
    assert answer == {"room_id": "b1.s1", "from": "s1", "to": "b1"}
    assert seller.sio.connected and seller.received("disconnect") == []
