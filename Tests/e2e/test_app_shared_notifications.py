"""The "Shared" notifications product end to end (docs/apps/shared-notifications.md), from
the shipped conf/routes.d/shared-notifications.yaml: python-socketio connects as the
product's client does (`io(".../v1/shared", {transports: ["websocket"], query: {token}})`),
emits `join` with an ack, and receives what a backend publishes for its user, through the
product's own REST endpoints on the admin listener (`POST /emit/:userId/:event`,
`POST /emit/:event`) or by XADD of the envelope they write (room `user:<id>` in
`/v1/shared`). Every body and error of the publish API is in test_publish.py."""

import json
import threading
import time

import pytest
import requests
import socketio

from productkit import ProductKeys, Publisher, start_product
from socketkit import WAIT, publish

NAMESPACE = "/v1/shared"
APP = "shared-notifications"


@pytest.fixture
def keys(tmp_path):
    return ProductKeys(tmp_path)


@pytest.fixture
def publisher(tmp_path):
    return Publisher(tmp_path)


@pytest.fixture
def edge(portcullis, rooms, redis_url, bus_prefix, keys, publisher):
    return start_product(portcullis, rooms, redis_url, bus_prefix, keys, APP, publisher=publisher)


class SharedClient:
    """A python-socketio client of the Shared namespace that records every event."""

    EVENTS = ("notification", "system_announcement", "data_sync", "mention", "custom_event")

    def __init__(self):
        http = requests.Session()
        http.trust_env = False
        self.sio = socketio.Client(reconnection=False, http_session=http)
        self.events: list[tuple[str, object]] = []
        self.cond = threading.Condition()
        for event in self.EVENTS:
            self.sio.on(event, (lambda name: lambda data: self._record(name, data))(event), namespace=NAMESPACE)
        self.sio.on("disconnect", lambda *args: self._record("disconnect", args), namespace=NAMESPACE)

    def _record(self, event, data):
        with self.cond:
            self.events.append((event, data))
            self.cond.notify_all()

    def connect(self, edge, token: str) -> None:
        self.sio.connect(f"http://127.0.0.1:{edge.port}/?token={token}", namespaces=[NAMESPACE],
                         transports=["websocket"], wait_timeout=WAIT)

    def join(self):
        return self.sio.call("join", {}, namespace=NAMESPACE, timeout=WAIT)

    def wait(self, event: str, count: int = 1) -> list:
        deadline = time.monotonic() + WAIT
        with self.cond:
            while len(self.received(event)) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no {event!r} after {WAIT:.0f}s; got {self.events}")
                self.cond.wait(remaining)
            return self.received(event)

    def received(self, event: str) -> list:
        return [data for name, data in self.events if name == event]

    def close(self):
        self.sio.disconnect()


@pytest.fixture
def clients():
    made: list[SharedClient] = []

    def make() -> SharedClient:
        client = SharedClient()
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def emit_to_user(bus, prefix: str, user: str, event: str, payload: dict) -> None:
    """What `POST /emit/:userId/:event` publishes (docs/publish.md)."""
    publish(bus, f"{prefix}:out:bcast", kind="emit", app=APP, ns=NAMESPACE, to="room", target=f"user:{user}",
            event=event, data=json.dumps(payload))


def test_join_is_acknowledged_and_each_user_gets_only_their_own_events(edge, keys, clients, bus, bus_prefix):
    phone, laptop, idle, other = clients(), clients(), clients(), clients()
    for client in (phone, laptop, idle):
        client.connect(edge, keys.token("64abc123def456789", scope="conversation"))
    other.connect(edge, keys.token("64def000000000000", scope="conversation"))
    for client in (phone, laptop, other):
        assert client.join() == {"success": True, "message": "SUCCESS"}

    lead = {"title": "New Lead", "message": "You have a new lead from John Doe", "type": "lead",
            "data": {"lead_id": "64lead", "contact_name": "John Doe"}}
    emit_to_user(bus, bus_prefix, "64abc123def456789", "notification", lead)
    emit_to_user(bus, bus_prefix, "64def000000000000", "mention", {"type": "comment_mention"})
    assert phone.wait("notification") == [lead]
    assert laptop.wait("notification") == [lead]
    assert other.wait("mention") == [{"type": "comment_mention"}]
    # A socket that has not joined gets nothing; nobody gets another user's events. The
    # mention was published after the notification, so by now both have been delivered.
    assert idle.received("notification") == []
    assert other.received("notification") == []
    assert phone.received("mention") == [] and laptop.received("mention") == []


def test_a_closed_socket_is_dropped_and_the_others_keep_receiving(edge, keys, clients, bus, bus_prefix):
    first, second = clients(), clients()
    for client in (first, second):
        client.connect(edge, keys.token("u-1", scope="conversation"))
        client.join()
    first.close()
    emit_to_user(bus, bus_prefix, "u-1", "data_sync", {"type": "google_ads_sync_complete", "campaigns_synced": 15})
    assert second.wait("data_sync") == [{"type": "google_ads_sync_complete", "campaigns_synced": 15}]


@pytest.mark.parametrize("claims", [{}, {"scope": "profile"}], ids=["no-scope", "other-scope"])
def test_a_token_without_the_conversation_scope_is_refused(edge, keys, clients, claims):
    client = clients()
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(edge, keys.token("u-1", **claims))


def test_no_token_is_refused(edge, clients):
    client = SharedClient()
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.sio.connect(f"http://127.0.0.1:{edge.port}/", namespaces=[NAMESPACE], transports=["websocket"],
                           wait_timeout=WAIT)


def test_an_expired_token_ends_the_session(edge, keys, clients):
    client = clients()
    client.connect(edge, keys.token("u-1", ttl=3, scope="conversation"))
    assert client.join() == {"success": True, "message": "SUCCESS"}
    client.wait("disconnect")
    assert not client.sio.connected


SUCCESS = {"success": True, "message": "SUCCESS"}


def test_the_products_emit_endpoints_reach_joined_sockets(edge, keys, clients, publisher):
    """The doc's use cases, as its backends call them (with the edge's bearer key)."""
    alice, alice_idle, bob = clients(), clients(), clients()
    alice.connect(edge, keys.token("64abc", scope="conversation"))
    alice_idle.connect(edge, keys.token("64abc", scope="conversation"))
    bob.connect(edge, keys.token("64def", scope="conversation"))
    alice.join()
    bob.join()

    assigned = {"title": "New Lead Assigned", "message": "John Doe has been assigned to you",
                "type": "lead_assigned", "data": {"lead_id": "64lead", "assigned_by": "Manager Name"}}
    answer = publisher.post("/emit/64abc/notification", assigned)
    assert (answer.status_code, answer.json()) == (200, SUCCESS)
    assert alice.wait("notification") == [assigned]

    maintenance = {"title": "Scheduled Maintenance", "priority": "high", "action_url": "/maintenance-info"}
    answer = publisher.post("/emit/system_announcement", {"userIds": ["64abc", "64def"], "data": maintenance})
    assert (answer.status_code, answer.json()) == (200, SUCCESS)
    assert alice.wait("system_announcement") == [maintenance]
    assert bob.wait("system_announcement") == [maintenance]

    # userIds as a JSON string, as the product's controller also accepts; and one id.
    publisher.post("/emit/data_sync", {"userIds": '["64def"]', "data": {"type": "google_ads_sync_complete"}})
    publisher.post("/emit/mention", {"userIds": "64def", "data": {"type": "comment_mention"}})
    assert bob.wait("data_sync") == [{"type": "google_ads_sync_complete"}]
    assert bob.wait("mention") == [{"type": "comment_mention"}]
    # An offline user is not an error.
    assert publisher.post("/emit/64nobody/notification", {}).json() == SUCCESS

    assert alice.received("data_sync") == [] and alice.received("mention") == []
    assert bob.received("notification") == []
    assert alice_idle.received("notification") == [] and alice_idle.received("system_announcement") == []
