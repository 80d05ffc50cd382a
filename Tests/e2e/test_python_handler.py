"""The Python example handler (examples/handlers/python/pychat.py) end to end: the edge
serves conf/examples/pychat.yaml as shipped (plus an authenticated route of the same app),
the handler runs as a subprocess of this interpreter (`sys.executable pychat.py
--redis-url … --prefix <test prefix> --app pychat --consumer … --claim-idle 1`; it needs
only redis-py, which requirements.txt has), and `websockets` clients
join a room and talk. Nothing here uses portcullis-rooms: the handler alone consumes
`<prefix>:in:pychat`.

- chat: join with an ack, `said` reaches everyone in the room (across both routes), a
  bad event is answered with `error`, a duplicate envelope id is handled once, an entry
  of another contract version is dead-lettered and an unknown kind skipped;
- crash: the handler is SIGKILLed while a client talks, entries are left pending for its
  consumer name and for a dead one, and a restarted handler handles all of them (its own
  pending entries at once, the dead consumer's through XAUTOCLAIM); SIGTERM then stops it
  cleanly."""

from __future__ import annotations

import json
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import REPO_ROOT, STOP_TIMEOUT
from socketkit import Keys, WSClient, envelopes, socket_route, start_edge, wait_envelopes

APP = "pychat"
HANDLER = REPO_ROOT / "examples" / "handlers" / "python" / "pychat.py"
ROUTE_FILE = REPO_ROOT / "conf" / "examples" / "pychat.yaml"
WAIT = 30.0  # anything that crosses Redis and the handler, on a loaded 2-core machine


class PyHandler:
    """One run of pychat.py; its output goes to a file of its own."""

    def __init__(self, directory: Path, redis_url: str, prefix: str, consumer: str, n: int):
        self.log_path = directory / f"pychat-{n}.log"
        self.consumer = consumer
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-u", str(HANDLER), "--redis-url", redis_url, "--prefix", prefix,
                 "--app", APP, "--consumer", consumer, "--claim-idle", "1"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, cwd=directory)
        self.terminated = False

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_output(self, text: str, timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.proc.poll() is not None:
                pytest.fail(f"pychat exited with {self.proc.returncode}\n{self.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"pychat did not log {text!r} within {timeout:.0f}s\n{self.output()}")
            time.sleep(0.05)

    def kill(self) -> None:
        self.terminated = True
        self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self) -> int:
        self.terminated = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        return self.proc.returncode


@pytest.fixture
def pychat(tmp_path, redis_url, bus_prefix, request):
    """Factory: `pychat(consumer)` starts the handler and waits until it consumes."""
    started: list[PyHandler] = []

    def start(consumer: str = "pychat-a") -> PyHandler:
        handler = PyHandler(tmp_path, redis_url, bus_prefix, consumer, len(started))
        started.append(handler)
        handler.wait_output(f"as {consumer}")
        return handler

    yield start
    problems = [f"pychat (pid {h.proc.pid}) exited on its own with {h.proc.returncode}\n{h.output()}"
                for h in started if h.proc.poll() is not None and not h.terminated]
    for handler in started:
        handler.stop()
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            print(f"\n--- pychat pid {handler.proc.pid} ---\n{handler.output()}")
    if problems:
        pytest.fail("\n".join(problems))


@pytest.fixture
def keys(tmp_path):
    return Keys(tmp_path)


def chat_edge(portcullis, redis_url, prefix, keys):
    """The shipped route (/ws/pychat, public) and the same app behind JWT auth (/ws/pychat-auth)."""
    routes = [{"include": str(ROUTE_FILE)},
              socket_route("pychat-auth", "/ws/pychat-auth", APP, auth={"key_set": "main"}, rate_limit="off")]
    return start_edge(portcullis, redis_url, prefix, routes, auth=keys.config())


def join(client: WSClient, room: str, ack: int) -> None:
    client.emit("join", {"room": room}, ack=ack)
    answer = client.wait_event("ack", lambda e: e.get("ack") == ack, timeout=WAIT)
    assert answer["data"] == {"ok": True}


def said_texts(client: WSClient) -> list[str]:
    return [e["data"]["text"] for e in client.events("said")]


def test_clients_join_a_room_and_hear_each_other(portcullis, pychat, redis_url, bus_prefix, bus, keys):
    pychat()
    edge = chat_edge(portcullis, redis_url, bus_prefix, keys)
    alice = WSClient(edge.url("/ws/pychat-auth"), headers=Keys.bearer(keys.token("alice")))
    bob = WSClient(edge.url("/ws/pychat-auth"), headers=Keys.bearer(keys.token("bob")))
    guest = WSClient(edge.url("/ws/pychat"))
    outsider = WSClient(edge.url("/ws/pychat"))
    with alice, bob, guest, outsider:
        join(alice, "lobby", 1)
        join(bob, "lobby", 2)
        join(guest, "lobby", 3)
        join(outsider, "elsewhere", 4)

        alice.emit("say", {"room": "lobby", "text": "hello"})
        for client in (alice, bob, guest):
            said = client.wait_event("said", timeout=WAIT)
            assert said["data"] == {"user": "alice", "text": "hello"}
        guest.emit("say", {"room": "lobby", "text": "hi, anonymous here"}, ack=9)
        assert guest.wait_event("ack", lambda e: e.get("ack") == 9, timeout=WAIT)["data"] == {"ok": True}
        assert bob.wait_event("said", lambda e: e["data"]["text"] == "hi, anonymous here",
                              timeout=WAIT)["data"]["user"] is None

        # Anything else: an error to the sender only, and a negative answer to its ack.
        bob.emit("dance", {"room": "lobby"}, ack=5)
        error = bob.wait_event("error", timeout=WAIT)
        assert error["data"]["code"] == "bad_request"
        assert bob.wait_event("ack", lambda e: e.get("ack") == 5, timeout=WAIT)["data"] == {
            "ok": False, "error": "bad_request"}

        # The same envelope id twice (a publisher's retried XADD): handled once. The handler
        # works through its stream in order, so once bob hears the message sent after the
        # copies, both copies have been dealt with.
        stream = f"{bus_prefix}:in:{APP}"
        opened = wait_envelopes(bus, stream, lambda es: next(
            (e for e in es if e["kind"] == "open" and e.get("user") == "alice"), None), what="alice's open")
        duplicate = {"v": "1", "id": secrets.token_hex(16), "kind": "message", "app": APP, "edge": edge.id,
                     "conn": opened["conn"], "user": "alice", "event": "say",
                     "data": json.dumps({"room": "lobby", "text": "only once"})}
        bus.xadd(stream, duplicate)
        bus.xadd(stream, duplicate)
        alice.emit("say", {"room": "lobby", "text": "after the copies"})
        bob.wait_event("said", lambda e: e["data"]["text"] == "after the copies", timeout=WAIT)
        assert said_texts(bob).count("only once") == 1

        # An entry of another contract version goes to the dead-letter stream; a kind from
        # a newer writer is skipped. Both are acknowledged, and the chat goes on.
        future_version = bus.xadd(stream, {"v": "2", "id": secrets.token_hex(16), "kind": "message"}).decode()
        future_kind = bus.xadd(stream, {"v": "1", "id": secrets.token_hex(16), "kind": "teleport",
                                        "conn": opened["conn"]}).decode()
        alice.emit("say", {"room": "lobby", "text": "after the oddities"})
        bob.wait_event("said", lambda e: e["data"]["text"] == "after the oddities", timeout=WAIT)
        [dead] = envelopes(bus, f"{bus_prefix}:dead:{APP}")
        assert (dead["v"], dead["source"]) == ("2", future_version)
        assert dead["error"].startswith("unsupportedVersion"), dead
        for entry_id in (future_version, future_kind):
            assert bus.xpending_range(stream, f"portcullis-rooms:{APP}", entry_id, entry_id, 1) == []

        assert outsider.events("said") == [], "a client in another room heard the lobby"
        assert alice.events("error") == [] and guest.events("error") == []
        for client in (alice, bob, guest, outsider):
            assert not client.closed.is_set()


def test_a_killed_handler_restarts_and_loses_nothing(portcullis, pychat, redis_url, bus_prefix, bus, keys):
    stream, group = f"{bus_prefix}:in:{APP}", f"portcullis-rooms:{APP}"
    first = pychat("pychat-a")
    edge = chat_edge(portcullis, redis_url, bus_prefix, keys)
    alice = WSClient(edge.url("/ws/pychat-auth"), headers=Keys.bearer(keys.token("alice")))
    bob = WSClient(edge.url("/ws/pychat-auth"), headers=Keys.bearer(keys.token("bob")))
    with alice, bob:
        join(alice, "lobby", 1)
        join(bob, "lobby", 2)

        # As fast as it can: the handler gets a backlog, so the kill most likely finds it
        # with a batch read and not yet acknowledged (the pending entries made below are
        # there whatever the timing).
        total = 200
        def talk():
            for i in range(total):
                alice.emit("say", {"room": "lobby", "text": f"m-{i}"})
        talker = threading.Thread(target=talk, daemon=True)
        talker.start()
        bob.wait_for(lambda c: len(c.events("said")) >= 20, timeout=WAIT, what="the first said events")
        first.kill()
        heard_before_kill = len(said_texts(bob))
        talker.join(WAIT)
        assert not talker.is_alive()

        # A crash right after XREADGROUP, for certain: with the handler dead, read entries
        # for its consumer name (they must be handled on restart, from its pending list)
        # and for a consumer that never comes back (they must be taken over by XAUTOCLAIM).
        late = [f"late-{i}" for i in range(10)]
        for text in late:
            alice.emit("say", {"room": "lobby", "text": text})
        wait_envelopes(bus, stream, lambda es: sum(1 for e in es if '"late-' in e.get("data", "")) == len(late),
                       timeout=WAIT, what="the late messages")
        for consumer in ("pychat-a", "ghost"):
            read = bus.xreadgroup(group, consumer, {stream: ">"}, count=5)
            assert len(read[0][1]) == 5, f"{consumer} read {read}"
        pending = {c["name"].decode(): c["pending"] for c in bus.xinfo_consumers(stream, group)}
        assert pending["pychat-a"] >= 5 and pending["ghost"] == 5, pending
        assert not set(late) & set(said_texts(bob)), "a late message was handled with no handler running"

        restarted_at = time.monotonic()
        second = pychat("pychat-a")
        want = {f"m-{i}" for i in range(total)} | set(late)
        for client in (bob, alice):
            client.wait_for(lambda c: want <= set(said_texts(c)), timeout=60,
                            what=f"all {len(want)} said events")
        took = time.monotonic() - restarted_at
        assert set(said_texts(bob)) == want
        duplicates = len(said_texts(bob)) - len(want)  # at least once: the killed handler's last entry
        assert duplicates <= 5, f"{duplicates} duplicates"

        deadline = time.monotonic() + WAIT
        while bus.xpending(stream, group)["pending"] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert bus.xpending(stream, group)["pending"] == 0, bus.xpending_range(stream, group, "-", "+", 20)
        assert "re-reading" in second.output(), second.output()
        assert "claimed" in second.output(), second.output()
        assert not bus.exists(f"{bus_prefix}:dead:{APP}"), envelopes(bus, f"{bus_prefix}:dead:{APP}")
        print(f"bob heard {heard_before_kill} of {total} before the kill; pending then {pending}; "
              f"caught up {took:.1f}s after the restart ({duplicates} duplicates)")

    assert second.stop() == 0, second.output()
    assert "stopped" in second.output()
