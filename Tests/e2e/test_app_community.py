"""The community app (Circle's headless websockets, docs/apps/community.md) end to end:
the SHIPPED route file conf/routes.d/community.yaml included from a test conf that defines
the `products` key set, an edge, Redis and `portcullis-rooms` running `community`.

Clients are the ones the product's docs show: a raw WebSocket client sending the docs'
frames with `Origin` and `Authorization: Bearer` headers (Circle's example uses node `ws`;
`websockets` sends the same bytes), and Rails' own ActionCable client on Node
(`actioncable/community.mjs`). The backend's part is played by redis-py: it keeps the
room member sets and publishes events by XADD of `emit` envelopes to `<prefix>:out:bcast`.
"""

from __future__ import annotations

import json
import queue
import secrets
import shutil
import subprocess
import threading
import time
from pathlib import Path

import jwt
import pytest
import requests

from productkit import ROUTES_D, ProductKeys
from socketkit import WSClient, publish, raw_connect, start_edge, wait_envelopes

APP = "community"
ROUTE_FILE = ROUTES_D / "community.yaml"
CLIENT = Path(__file__).resolve().parent / "actioncable" / "community.mjs"
ORIGIN = "https://your-whitelisted-domain.com"
WAIT = 30.0  # generous: two cores shared with other builds

NOTIFICATION, CHAT_ROOM = "NotificationChannel", "ChatRoomChannel"
ROOM, THREADS = "Chats::RoomChannel", "Chats::CommunityMemberThreadsChannel"
MEMBER_CHANNELS = (NOTIFICATION, CHAT_ROOM, THREADS)


def stream(channel: str, ident) -> str:
    return {
        NOTIFICATION: f"notification-channel-{ident}",
        CHAT_ROOM: f"chat-room-channel-{ident}",
        ROOM: f"chat-room-{ident}-channel",
        THREADS: f"chat-community-member-{ident}-threads-channel",
    }[channel]


def identifier(channel: str, **params) -> str:
    """The identifier as the docs' client builds it: JSON.stringify({channel, …})."""
    return json.dumps({"channel": channel, **params}, separators=(",", ":"))


# --- what the docs say each event carries, and where it is published ----------------------

SENDER = {"id": 43, "name": "Bob", "avatar_url": None}
MESSAGE = {
    "id": 1001, "chat_room_uuid": "3f1c-room-5", "chat_room_kind": "group_chat", "chat_room_participant_id": 501,
    "body": "héllo ✓ \"all\" </script>", "rich_text_body": {"body": {"type": "doc", "content": []}},
    "sent_at": "2025-01-02T03:04:05.000Z", "created_at": "2025-01-02T03:04:05.000Z", "sender": SENDER,
    "creation_uuid": "c-77", "chat_thread_id": None, "parent_message_id": None, "lesson_id": None,
    "edited_at": None, "replies_count": 0, "total_thread_participants_count": 0,
    "thread_participants_preview": {}, "chat_thread_replies_count": 0,
}
UPDATED = {k: v for k, v in MESSAGE.items() if k not in ("chat_room_kind", "chat_thread_replies_count")}
UPDATED.update(body="edited", edited_at="2025-01-02T03:05:00.000Z")
PARENT = dict(UPDATED)
EVENTS = {
    "newNotification": ({"id": 9001, "action": "mention", "notifiable_type": "Comment", "read_at": None},
                        (NOTIFICATION,)),
    "updateNewNotificationCount": ({"new_notifications_count": 3}, (NOTIFICATION,)),
    "resetNewNotificationCount": ({"new_notifications_count": 0}, (NOTIFICATION,)),
    "chatRoomCreated": ({"id": 5, "uuid": "3f1c-room-5", "identifier": "room-5", "unread_messages_count": 1,
                         "chat_room_kind": "group_chat", "chat_room_name": "Design", "chat_room_description": "",
                         "chat_room_show_history": True, "other_participants_preview": [SENDER],
                         "current_participant": {"id": 501}, "last_message": MESSAGE}, (CHAT_ROOM,)),
    "chatRoomUpdated": ({"uuid": "3f1c-room-5", "chat_room_name": "Design team", "chat_room_description": "d",
                         "chat_room_show_history": False, "pinned_message": UPDATED}, (CHAT_ROOM, ROOM)),
    "chatRoomDeleted": ({"chat_room_uuid": "3f1c-room-5"}, (CHAT_ROOM,)),
    "chatRoomRead": ({"chat_room_uuid": "3f1c-room-5"}, (CHAT_ROOM,)),
    "chatRoomPinned": ({"chat_room_id": 5, "pinned_at": "2025-01-02T03:06:00.000Z"}, (CHAT_ROOM,)),
    "chatRoomUnPinned": ({"chat_room_id": 5}, (CHAT_ROOM,)),
    "newMessage": (MESSAGE, (CHAT_ROOM, ROOM, THREADS)),
    "updatedMessage": (UPDATED, (ROOM, THREADS)),
    "deletedMessage": ({"id": 1001, "parent_message": PARENT}, (ROOM, THREADS)),
    "chatThreadRead": ({"chat_thread_id": 77}, (THREADS,)),
}


# --- fixtures -------------------------------------------------------------------------------

def forged_token(sub: str) -> str:
    """A token in the right form, signed with another secret."""
    now = int(time.time())
    return jwt.encode({"sub": sub, "iat": now, "exp": now + 3600}, "x" * 64, algorithm="HS256", headers={"kid": "k1"})


class Community:
    """The running product: edge URL, tokens, the backend's Redis writes."""

    def __init__(self, edge, keys: ProductKeys, bus, prefix: str, publish_key: str):
        self.edge, self.keys, self.bus, self.prefix = edge, keys, bus, prefix
        self.publish_key = publish_key

    @property
    def url(self) -> str:
        return self.edge.url("/cable")

    def headers(self, token: str | None) -> dict:
        return {"Authorization": f"Bearer {token}"} if token else {}

    def connect(self, token: str | None, origin: str | None = ORIGIN) -> "CableClient":
        return CableClient(self.url, headers=self.headers(token), origin=origin)

    def add_member(self, room: int, member) -> None:
        """What the backend does when a member joins a room (docs/apps/community.md)."""
        self.bus.sadd(f"{self.prefix}:app:{APP}:chat-room:{room}:members", str(member))

    def remove_member(self, room: int, member) -> None:
        self.bus.srem(f"{self.prefix}:app:{APP}:chat-room:{room}:members", str(member))

    def publish(self, stream_name: str, event: str, data, *, app: str | None = APP) -> None:
        """The backend broadcasting `event` on a stream: an emit to the room named like the
        stream, no ns, data = the message JSON."""
        message = json.dumps({"event": event, "data": data}, ensure_ascii=False)
        publish(self.bus, f"{self.prefix}:out:bcast", kind="emit", app=app, to="room", target=stream_name,
                data=message)

    def broadcast(self, stream_name: str, event: str, data) -> requests.Response:
        """The same through AnyCable's HTTP broadcaster format on the admin listener."""
        body = {"stream": stream_name, "data": json.dumps({"event": event, "data": data})}
        return requests.post(self.edge.pc.admin_url + "/_broadcast", json=body, timeout=WAIT,
                             headers={"Authorization": f"Bearer {self.publish_key}"},
                             proxies={"http": None, "https": None})


@pytest.fixture
def community(portcullis, rooms, redis_url, bus, bus_prefix, tmp_path):
    """The shipped route included from a test conf with the `products` key set, and the
    publish API on (docs/publish.md) for the backend's HTTP broadcasts."""
    keys = ProductKeys(tmp_path)
    publish_key = secrets.token_hex(32)
    (tmp_path / "publish.key").write_text(publish_key + "\n")
    rooms(redis_url, bus_prefix, apps=(APP,))
    edge = start_edge(portcullis, redis_url, bus_prefix, [{"include": str(ROUTE_FILE)}], auth=keys.config(),
                      admin={"publish": {"key_file": str(tmp_path / "publish.key")}})
    return Community(edge, keys, bus, bus_prefix, publish_key)


# --- a raw ActionCable client (the docs' `ws` example) ---------------------------------------

class CableClient(WSClient):
    """WSClient speaking ActionCable's JSON by hand, frame by frame as the docs' client."""

    def frames(self) -> list[dict]:
        out = []
        for message in self.snapshot():
            if isinstance(message, str):
                try:
                    out.append(json.loads(message))
                except ValueError:
                    out.append({"unparsed": message})
        return out

    def wait_frame(self, predicate, what: str, timeout: float = WAIT) -> dict:
        return self.wait_for(lambda c: next((f for f in c.frames() if predicate(f)), None), timeout, what)

    def subscribe(self, ident: str, timeout: float = WAIT) -> str:
        """Sends the docs' subscribe command; the type of the answer that follows it."""
        seen = len(self.frames())
        self.send({"command": "subscribe", "identifier": ident})
        answer = self.wait_for(
            lambda c: next((f for f in c.frames()[seen:] if f.get("identifier") == ident and f.get("type") in
                            ("confirm_subscription", "reject_subscription")), None), timeout, f"answer to {ident}")
        return answer["type"]

    def received(self, ident: str | None = None) -> list:
        return [f["message"] for f in self.frames()
                if "message" in f and "type" not in f and (ident is None or f.get("identifier") == ident)]


def handshake_status(port: int, headers: dict) -> str:
    """The status line the edge answers an upgrade of /cable with."""
    try:
        raw_connect(port, "/cable", headers=headers, timeout=WAIT).close()
        return "101"
    except ConnectionError as error:
        return str(error)


# --- the docs' ws client ----------------------------------------------------------------------

def test_the_docs_ws_client_gets_welcome_confirmation_and_pings(community, bus, bus_prefix):
    """Circle's connection test, frame for frame: headers on the upgrade, subscribe, the
    optional `{"action":"message","data":"Hello Server!"}`; the docs' expected output is
    welcome, confirm_subscription with the identifier as sent, then a ping every 3 s."""
    token = community.keys.token("42")
    ident = identifier(CHAT_ROOM, community_member_id=42)
    with community.connect(token) as client:
        client.send({"command": "subscribe", "identifier": ident})
        client.send({"action": "message", "data": "Hello Server!"})
        client.wait_frame(lambda f: f.get("type") == "confirm_subscription", "confirm_subscription")
        pings = client.wait_for(lambda c: (p := [f for f in c.frames() if f.get("type") == "ping"])[1:] and p,
                                WAIT, "two pings")
        frames = client.frames()
        assert frames[0] == {"type": "welcome"}
        assert {"identifier": ident, "type": "confirm_subscription"} in frames
        assert all(isinstance(p["message"], int) and abs(p["message"] - time.time()) < 120 for p in pings)
        assert pings[1]["message"] > pings[0]["message"]

        # The stray frame broke nothing: the subscription still gets its stream's events.
        community.publish(stream(CHAT_ROOM, 42), "chatRoomRead", {"chat_room_uuid": "u-1"})
        client.wait_for(lambda c: c.received(ident), WAIT, "chatRoomRead")
        assert client.received(ident) == [{"event": "chatRoomRead", "data": {"chat_room_uuid": "u-1"}}]
        assert not client.closed.is_set()

    # The stray frame is no ActionCable command: the edge ignored it, as Rails does.
    found = wait_envelopes(bus, f"{bus_prefix}:in:{APP}", lambda es: es if any(e["kind"] == "close" for e in es)
                           else None, WAIT, "the subscription's open and close")
    assert [e["kind"] for e in found] == ["open", "close"]
    assert found[0]["ns"] == ident and found[0]["user"] == "42"


# --- every event, to exactly its subscribers -------------------------------------------------

def test_each_documented_event_reaches_exactly_the_subscribers_of_its_stream(community):
    """Alice (member 42 by her token's community_member_id claim) and Bob (member 43 by his
    sub) subscribe to all their channels; both are in room 5, only Bob in room 6. Every
    documented event is published on each stream the docs name for it, Alice's or room
    5's; then a few on Bob's own streams and room 6. Each client gets exactly what its
    subscriptions follow, with the fields as published, under the right identifier."""
    community.add_member(5, 42)
    community.add_member(5, 43)
    community.add_member(6, 43)
    alice = community.connect(community.keys.token("auth0|alice", community_member_id=42))
    bob = community.connect(community.keys.token("43"))
    try:
        subs = {}
        for client, member, rooms in ((alice, 42, (5,)), (bob, "43", (5, 6))):
            for channel in MEMBER_CHANNELS:
                ident = identifier(channel, community_member_id=member)
                assert client.subscribe(ident) == "confirm_subscription", ident
                subs[(client, channel)] = ident
            for room in rooms:
                ident = identifier(ROOM, chat_room_id=room)
                assert client.subscribe(ident) == "confirm_subscription", ident
                subs[(client, ROOM, room)] = ident

        expected = {alice: [], bob: []}
        for name, (data, channels) in EVENTS.items():
            for channel in channels:
                message = {"event": name, "data": {**data, "_on": channel}}
                if channel == ROOM:
                    community.publish(stream(ROOM, 5), name, message["data"])
                    expected[alice].append((subs[(alice, ROOM, 5)], message))
                    expected[bob].append((subs[(bob, ROOM, 5)], message))
                else:
                    community.publish(stream(channel, 42), name, message["data"])
                    expected[alice].append((subs[(alice, channel)], message))
        for channel, target, event in ((NOTIFICATION, 43, "newNotification"), (THREADS, 43, "chatThreadRead"),
                                       (ROOM, 6, "newMessage"), (CHAT_ROOM, 43, "chatRoomDeleted")):
            data = {"for": "bob", "_on": channel}
            community.publish(stream(channel, target), event, data)
            key = (bob, ROOM, 6) if channel == ROOM else (bob, channel)
            expected[bob].append((subs[key], {"event": event, "data": data}))
        # A last one without `app`: also delivered (the field only narrows delivery).
        community.publish(stream(NOTIFICATION, 42), "updateNewNotificationCount", {"new_notifications_count": 4},
                          app=None)
        expected[alice].append((subs[(alice, NOTIFICATION)],
                                {"event": "updateNewNotificationCount", "data": {"new_notifications_count": 4}}))
        # out:bcast is delivered in order: once each has the last of its own, nothing more is coming.
        for client in (alice, bob):
            client.wait_for(lambda c: len([f for f in c.frames() if "message" in f and "type" not in f])
                            >= len(expected[client]), WAIT, f"{len(expected[client])} messages")
        time.sleep(0.5)

        for client in (alice, bob):
            got = [(f["identifier"], f["message"]) for f in client.frames() if "message" in f and "type" not in f]
            assert got == expected[client]
        # Alice's member streams and room 5 gave her every event the docs list, each once.
        assert sorted({m["event"] for _, m in expected[alice]}) == sorted(EVENTS)
    finally:
        alice.close()
        bob.close()


def test_backends_may_broadcast_over_http_in_anycables_format(community):
    """POST /_broadcast {"stream", "data"} on the admin listener publishes like the XADD."""
    community.add_member(5, 42)
    with community.connect(community.keys.token("42")) as client:
        room = identifier(ROOM, chat_room_id=5)
        own = identifier(CHAT_ROOM, community_member_id=42)
        assert client.subscribe(room) == "confirm_subscription"
        assert client.subscribe(own) == "confirm_subscription"
        answer = community.broadcast(stream(ROOM, 5), "deletedMessage", EVENTS["deletedMessage"][0])
        assert answer.status_code == 201, answer.text
        answer = community.broadcast(stream(CHAT_ROOM, 42), "chatRoomPinned", EVENTS["chatRoomPinned"][0])
        assert answer.status_code == 201, answer.text
        client.wait_for(lambda c: len(c.received()) >= 2, WAIT, "both broadcasts")
        assert [(f["identifier"], f["message"]) for f in client.frames() if "message" in f and "type" not in f] == [
            (room, {"event": "deletedMessage", "data": EVENTS["deletedMessage"][0]}),
            (own, {"event": "chatRoomPinned", "data": EVENTS["chatRoomPinned"][0]}),
        ]


# --- refusals ----------------------------------------------------------------------------------

def test_another_members_channels_and_a_foreign_room_are_rejected(community):
    """Alice may follow only her own member streams and rooms she belongs to; what is
    published for Bob never reaches her."""
    community.add_member(6, 43)
    community.add_member(7, 42)
    with community.connect(community.keys.token("42")) as alice:
        for channel in MEMBER_CHANNELS:
            for other in (43, "43"):
                assert alice.subscribe(identifier(channel, community_member_id=other)) == "reject_subscription"
        assert alice.subscribe(identifier(ROOM, chat_room_id=6)) == "reject_subscription"
        assert alice.subscribe(identifier(ROOM, chat_room_id=6, community_member_id=42)) == "reject_subscription"
        assert alice.subscribe(identifier(ROOM, chat_room_id=7, community_member_id=43)) == "reject_subscription"
        assert alice.subscribe(identifier(ROOM)) == "reject_subscription"
        assert alice.subscribe(identifier(NOTIFICATION)) == "reject_subscription"
        assert alice.subscribe(identifier("Chats::SecretChannel", community_member_id=42)) == "reject_subscription"
        own = identifier(NOTIFICATION, community_member_id="42")
        assert alice.subscribe(own) == "confirm_subscription"

        # A room she is added to afterwards is hers at the next subscribe.
        ident = identifier(ROOM, chat_room_id=6)
        community.add_member(6, 42)
        assert alice.subscribe(ident) == "confirm_subscription"

        for channel in MEMBER_CHANNELS:
            community.publish(stream(channel, 43), "newNotification", {"for": "bob"})
        community.publish(stream(ROOM, 7), "newMessage", {"room": 7})
        community.publish(stream(NOTIFICATION, 42), "newNotification", {"for": "alice"})
        alice.wait_for(lambda c: c.received(own), WAIT, "alice's own notification")
        time.sleep(0.5)
        assert [(f["identifier"], f["message"]) for f in alice.frames() if "message" in f and "type" not in f] == \
            [(own, {"event": "newNotification", "data": {"for": "alice"}})]


def test_origin_must_be_whitelisted(community):
    token = community.keys.token("42")
    port = community.edge.port
    bearer = {"Authorization": f"Bearer {token}"}
    assert handshake_status(port, {**bearer, "Origin": ORIGIN}) == "101"
    for origin in ("https://evil.example", "http://your-whitelisted-domain.com", "https://a.your-whitelisted-domain.com",
                   "null"):
        assert " 403 " in handshake_status(port, {**bearer, "Origin": origin}), origin
    assert " 403 " in handshake_status(port, bearer)


def test_a_missing_expired_or_forged_token_is_refused(community):
    keys, port = community.keys, community.edge.port
    origin = {"Origin": ORIGIN}
    refused = {
        "none": {},
        "expired an hour ago": {"Authorization": f"Bearer {keys.token('42', ttl=-3600)}"},
        "another secret": {"Authorization": f"Bearer {forged_token('42')}"},
        "not bearer": {"Authorization": f"Basic {keys.token('42')}"},
    }
    for what, headers in refused.items():
        assert " 401 " in handshake_status(port, {**origin, **headers}), what
    # The route reads the header only, not the query.
    query = f"/cable?token={keys.token('42')}"
    try:
        raw_connect(port, query, headers=origin, timeout=WAIT).close()
        pytest.fail("a token in the query was taken")
    except ConnectionError as error:
        assert " 401 " in str(error)


def test_an_expiring_token_ends_the_session_with_actioncables_disconnect(community, bus, bus_prefix):
    """Member tokens last an hour; here six seconds. At exp the edge sends
    {"type":"disconnect","reason":"token_expired","reconnect":true} and closes with 4001."""
    token = community.keys.token("42", ttl=6)
    ident = identifier(NOTIFICATION, community_member_id=42)
    with community.connect(token) as client:
        assert client.subscribe(ident) == "confirm_subscription"
        code, _ = client.wait_closed(WAIT)
        frames = client.frames()
    assert {"type": "disconnect", "reason": "token_expired", "reconnect": True} in frames
    assert code == 4001
    closes = wait_envelopes(bus, f"{bus_prefix}:in:{APP}",
                            lambda es: [e for e in es if e["kind"] == "close"], WAIT, "the close")
    assert closes[0]["reason"] == "credentials expired"


def test_a_member_removed_from_a_room_loses_it_at_the_next_subscribe(community):
    """The documented way to end a live room subscription: SREM the member, then publish a
    `disconnect` to the member's connections (target = the token's sub). The client
    connects again (Rails' does by itself) and subscribes again: the room is refused, the
    rest confirmed."""
    community.add_member(5, 42)
    token = community.keys.token("auth0|alice", community_member_id=42)
    room, own = identifier(ROOM, chat_room_id=5), identifier(NOTIFICATION, community_member_id=42)
    with community.connect(token) as client:
        assert client.subscribe(room) == "confirm_subscription"
        assert client.subscribe(own) == "confirm_subscription"
        community.remove_member(5, 42)
        publish(community.bus, f"{community.prefix}:out:bcast", kind="disconnect", to="user", target="auth0|alice",
                reason="membership changed")
        client.wait_closed(WAIT)
        assert {"type": "disconnect", "reason": "remote", "reconnect": True} in client.frames()
    with community.connect(token) as again:
        assert again.subscribe(room) == "reject_subscription"
        assert again.subscribe(own) == "confirm_subscription"


# --- Rails' ActionCable client -------------------------------------------------------------------

class NodeClient:
    """community.mjs running; its JSON lines arrive on a queue as it prints them."""

    def __init__(self, *args: str, timeout: float = WAIT):
        node = shutil.which("node") or shutil.which("nodejs")
        assert node, "node is not installed (scripts/lib/common.sh PORTCULLIS_APT_PACKAGES has nodejs)"
        self.proc = subprocess.Popen([node, str(CLIENT), *args, "--timeout", str(int(timeout))],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.lines: list[dict] = []
        self._queue: queue.Queue = queue.Queue()
        self._stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=lambda: self._stderr.extend(self.proc.stderr), daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            try:
                value = json.loads(line)
            except ValueError:
                value = {"event": "unparsed", "line": line}
            self._queue.put(value)
        self._queue.put(None)

    def wait(self, predicate, what: str, timeout: float = WAIT) -> dict:
        for line in self.lines:
            if predicate(line):
                return line
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if predicate(line):
                return line
        raise AssertionError(f"waited for {what}; {self.describe()}")

    def finish(self, timeout: float = WAIT) -> int:
        code = self.proc.wait(timeout=timeout)
        while (line := self._queue.get(timeout=5)) is not None:
            self.lines.append(line)
        return code

    def describe(self) -> str:
        return "stdout:\n" + "\n".join(json.dumps(line) for line in self.lines) + \
            "\nstderr (last lines):\n" + "".join(self._stderr[-30:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def node_clients():
    started: list[NodeClient] = []

    def start(*args: str, timeout: float = WAIT) -> NodeClient:
        client = NodeClient(*args, timeout=timeout)
        started.append(client)
        return client

    yield start
    for client in started:
        client.stop()


def test_rails_client_receives_its_notifications_and_its_rooms_messages(community, node_clients):
    community.add_member(5, 42)
    token = community.keys.token("auth0|alice", community_member_id=42)
    own = {"channel": NOTIFICATION, "community_member_id": 42}
    room = {"channel": ROOM, "chat_room_id": 5}
    client = node_clients("--url", community.url, "--token", token, "--origin", ORIGIN,
                          "--subscribe", json.dumps(own), "--subscribe", json.dumps(room), "--count", "3")
    for params in (own, room):
        ident = json.dumps(params, separators=(",", ":"))
        client.wait(lambda line: line["event"] == "connected" and line["identifier"] == ident, f"{ident} confirmed")
    community.publish(stream(NOTIFICATION, 42), "updateNewNotificationCount", {"new_notifications_count": 3})
    community.publish(stream(NOTIFICATION, 43), "newNotification", {"for": "bob"})
    community.publish(stream(ROOM, 5), "newMessage", MESSAGE)
    community.publish(stream(NOTIFICATION, 42), "resetNewNotificationCount", {"new_notifications_count": 0})
    code = client.finish()
    assert code == 0, client.describe()
    received = [(json.loads(line["identifier"])["channel"], line["data"]) for line in client.lines
                if line["event"] == "received"]
    assert received == [
        (NOTIFICATION, {"event": "updateNewNotificationCount", "data": {"new_notifications_count": 3}}),
        (ROOM, {"event": "newMessage", "data": MESSAGE}),
        (NOTIFICATION, {"event": "resetNewNotificationCount", "data": {"new_notifications_count": 0}}),
    ]
    assert client.lines[-1]["event"] == "done"


def test_rails_client_is_rejected_from_another_members_channel_and_a_foreign_room(community, node_clients):
    community.add_member(6, 43)
    token = community.keys.token("42")
    client = node_clients("--url", community.url, "--token", token, "--origin", ORIGIN, "--expect", "reject",
                          "--subscribe", json.dumps({"channel": THREADS, "community_member_id": 43}),
                          "--subscribe", json.dumps({"channel": ROOM, "chat_room_id": 6}))
    assert client.finish() == 0, client.describe()
    events = [line["event"] for line in client.lines]
    assert events.count("rejected") == 2 and "connected" not in events


def test_rails_client_hears_the_token_expire_and_plans_to_reconnect(community, node_clients):
    token = community.keys.token("42", ttl=8)
    client = node_clients("--url", community.url, "--token", token, "--origin", ORIGIN, "--expect", "disconnect",
                          "--subscribe", json.dumps({"channel": CHAT_ROOM, "community_member_id": 42}))
    assert client.finish() == 0, client.describe()
    frames = [line["data"] for line in client.lines if line["event"] == "frame"]
    assert {"type": "disconnect", "reason": "token_expired", "reconnect": True} in frames
    disconnected = [line for line in client.lines if line["event"] == "disconnected"]
    assert disconnected and disconnected[0]["willAttemptReconnect"] is True
