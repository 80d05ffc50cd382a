"""ActionCable routes end to end with Rails' own JavaScript client: `actioncable/client.mjs`
runs Debian's @rails/actioncable (ruby-actioncable) on Node with node-ws as its
WebSocket, against an edge route with `socket.protocol: actioncable` and
`portcullis-rooms` running the `cable-chat` app (ChatChannel: confirm and stream
`chat:<room>`, `speak` broadcast to the stream).

The script prints one JSON line per client event (connected, received, rejected, …); see
its header. Its `--self-test` runs the same client against a small ActionCable server of
its own, so a broken harness (Node, node-ws or the Rails client missing or incompatible)
fails that test rather than every edge test."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from socketkit import Keys, socket_route, start_edge, wait_envelopes

APP = "cable-chat"
CLIENT = Path(__file__).resolve().parent / "actioncable" / "client.mjs"
NODE_TIMEOUT = 30


def run_client(*args: str, timeout: float = NODE_TIMEOUT) -> tuple[int, list[dict], str]:
    """Runs client.mjs; its exit code, its JSON lines and its stderr (the Rails client's log)."""
    node = shutil.which("node") or shutil.which("nodejs")
    assert node, "node is not installed (scripts/lib/common.sh PORTCULLIS_APT_PACKAGES has nodejs)"
    result = subprocess.run([node, str(CLIENT), *args], capture_output=True, text=True, timeout=timeout,
                            stdin=subprocess.DEVNULL)
    lines = []
    for line in result.stdout.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            lines.append({"event": "unparsed", "line": line})
    return result.returncode, lines, result.stderr


def describe(code: int, lines: list[dict], stderr: str) -> str:
    return f"exit {code}; stdout:\n" + "\n".join(json.dumps(line) for line in lines) + \
        "\nstderr (last lines):\n" + "\n".join(stderr.splitlines()[-30:])


@pytest.fixture
def keys(tmp_path):
    return Keys(tmp_path)


@pytest.fixture
def cable_edge(portcullis, rooms, redis_url, bus_prefix):
    """An edge with the ActionCable route at /cable and a worker running cable-chat."""
    rooms(redis_url, bus_prefix, apps=(APP,))
    return start_edge(portcullis, redis_url, bus_prefix,
                      [socket_route("cable", "/cable", APP, protocol="actioncable")])


def test_rails_client_harness_works_against_its_own_server():
    code, lines, stderr = run_client("--self-test")
    assert code == 0, describe(code, lines, stderr)
    events = [line["event"] for line in lines]
    assert events[0] == "loaded"
    assert events.count("connected") == 2
    assert events.count("received") == 2
    assert "rejected" in events
    assert events[-1] == "done"


def test_rails_client_subscribes_speaks_and_every_subscriber_gets_the_broadcast(cable_edge, bus, bus_prefix):
    url = cable_edge.url("/cable")
    code, lines, stderr = run_client("--url", url, "--room", "lobby", "--clients", "2", "--body", "hi ✓ \"all\"")
    assert code == 0, describe(code, lines, stderr)
    connected = [line for line in lines if line["event"] == "connected"]
    assert sorted(line["client"] for line in connected) == [0, 1]
    assert all(line["protocol"] == "actioncable-v1-json" for line in connected)
    received = [line for line in lines if line["event"] == "received"]
    assert sorted(line["client"] for line in received) == [0, 1]
    assert all(line["data"] == {"body": "hi ✓ \"all\"", "user": None} for line in received)
    assert lines[-1]["event"] == "done"

    # What the edge published: open with the identifier as the client wrote it and the
    # subscription's channel and params, the speak message, a close per subscription.
    identifier = '{"channel":"ChatChannel","room":"lobby"}'
    stream = f"{bus_prefix}:in:{APP}"
    found = wait_envelopes(bus, stream, lambda es: es if sum(e["kind"] == "close" for e in es) >= 2 else None,
                           what="two subscriptions' open, the speak and two closes")
    opens = [e for e in found if e["kind"] == "open"]
    assert {e["ns"] for e in opens} == {identifier}
    assert len({e["conn"] for e in opens}) == 2
    handshake = json.loads(opens[0]["data"])
    assert handshake["channel"] == "ChatChannel"
    # As Rails hands a channel its params: the whole identifier, channel included.
    assert handshake["params"] == {"channel": "ChatChannel", "room": "lobby"}
    speaks = [e for e in found if e["kind"] == "message"]
    assert len(speaks) == 1
    assert (speaks[0]["ns"], speaks[0]["event"]) == (identifier, "speak")
    assert json.loads(speaks[0]["data"])["body"] == "hi ✓ \"all\""
    assert "user" not in speaks[0]


def test_rails_client_subscription_to_another_channel_is_rejected(cable_edge):
    code, lines, stderr = run_client("--url", cable_edge.url("/cable"), "--channel", "OtherChannel",
                                     "--room", "lobby", "--clients", "1", "--expect", "reject")
    assert code == 0, describe(code, lines, stderr)
    assert [line["event"] for line in lines if line["event"] in ("connected", "rejected")] == ["rejected"]


def test_rails_client_subscription_without_room_is_rejected(cable_edge):
    code, lines, stderr = run_client("--url", cable_edge.url("/cable"), "--clients", "1", "--expect", "reject")
    assert code == 0, describe(code, lines, stderr)
    assert "connected" not in [line["event"] for line in lines]


def test_authenticated_speaker_is_named_in_the_broadcast(portcullis, rooms, redis_url, bus_prefix, keys):
    rooms(redis_url, bus_prefix, apps=(APP,))
    route = socket_route("cable", "/cable", APP, protocol="actioncable",
                         auth={"key_set": "main", "tokens": ["query:token"]})
    edge = start_edge(portcullis, redis_url, bus_prefix, [route], auth=keys.config())
    url = edge.url("/cable") + "?token=" + keys.token("user-42")
    code, lines, stderr = run_client("--url", url, "--room", "7", "--clients", "1", "--body", "signed")
    assert code == 0, describe(code, lines, stderr)
    received = [line["data"] for line in lines if line["event"] == "received"]
    assert received == [{"body": "signed", "user": "user-42"}]
