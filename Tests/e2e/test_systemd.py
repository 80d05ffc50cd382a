"""sd_notify: `portcullis serve` and `portcullis-rooms serve` under a fake systemd. The test
binds the Unix datagram socket systemd would pass in $NOTIFY_SOCKET and reads what each
process tells it: READY=1 once the listeners are bound, WATCHDOG=1 every half of
$WATCHDOG_USEC, RELOADING=1 with MONOTONIC_USEC then READY=1 around a SIGHUP reload,
STOPPING=1 when SIGTERM starts the drain (systemd/portcullis.service is Type=notify)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from conftest import free_port, portcullis_bin, rooms_bin, to_yaml

WAIT = 15.0


class FakeSystemd:
    """The notify socket: a path, or a name in the abstract namespace (`@…`)."""

    def __init__(self, address: str):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address if not address.startswith("@") else "\0" + address[1:])
        self.address = address
        self.messages: list[dict[str, str]] = []

    def next(self, timeout: float = WAIT) -> dict[str, str]:
        self.sock.settimeout(timeout)
        data = self.sock.recv(4096).decode()
        message = dict(line.split("=", 1) for line in data.splitlines() if "=" in line)
        self.messages.append(message)
        return message

    def wait_for(self, key: str, timeout: float = WAIT, skip_watchdog: bool = True) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {key} within {timeout:.0f}s; got {self.messages}")
            message = self.next(remaining)
            if key in message:
                return message
            if not (skip_watchdog and message.keys() == {"WATCHDOG"}):
                raise AssertionError(f"expected {key}, got {message} (all: {self.messages})")

    def close(self):
        self.sock.close()


def edge_config(tmp_path) -> tuple[os.PathLike, int, int]:
    port, admin = free_port(), free_port()
    config = {
        "version": 1,
        "edge": {"id": "notify-1", "drain_timeout": "2s", "event_loops": 1, "watch_interval": "0s"},
        "listeners": [{"name": "main", "address": f"127.0.0.1:{port}"}],
        "admin": {"address": f"127.0.0.1:{admin}"},
        "upstreams": {"app": {"servers": ["127.0.0.1:9"]}},
        "routes": [{"name": "root", "match": {"path": "/"}, "proxy": {"upstream": "app"}}],
    }
    path = tmp_path / "edge.yaml"
    path.write_text(to_yaml(config))
    return path, port, admin


def start(argv: list[str], notify: FakeSystemd, tmp_path, **env) -> subprocess.Popen:
    environment = {**os.environ, "NOTIFY_SOCKET": notify.address, **env}
    log = open(tmp_path / "process.log", "wb")
    return subprocess.Popen(argv, env=environment, stdin=subprocess.DEVNULL, stdout=log, stderr=log)


@pytest.fixture
def processes():
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)


@pytest.mark.parametrize("address", ["path", "abstract"])
def test_the_edge_notifies_ready_reloading_watchdog_and_stopping(tmp_path, processes, address):
    notify = FakeSystemd(str(tmp_path / "notify.sock") if address == "path" else f"@portcullis-test-{os.getpid()}")
    config, port, admin = edge_config(tmp_path)
    edge = start([portcullis_bin(), "serve", "--config", str(config)], notify, tmp_path, WATCHDOG_USEC="400000")
    processes.append(edge)
    try:
        ready = notify.wait_for("READY")
        assert ready["READY"] == "1" and "listener" in ready.get("STATUS", "")
        # Ready means bound: the listener and the admin listener answer at once.
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        assert requests.get(f"http://127.0.0.1:{admin}/healthz", timeout=2).status_code == 200

        # Half of WATCHDOG_USEC: about every 200 ms.
        started = time.monotonic()
        for _ in range(3):
            assert notify.next().keys() == {"WATCHDOG"}
        assert time.monotonic() - started < 5

        before = time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6
        edge.send_signal(signal.SIGHUP)
        reloading = notify.wait_for("RELOADING")
        after = time.clock_gettime(time.CLOCK_MONOTONIC) * 1e6
        assert before <= int(reloading["MONOTONIC_USEC"]) <= after
        assert notify.wait_for("READY")["READY"] == "1"

        edge.send_signal(signal.SIGTERM)
        assert notify.wait_for("STOPPING")["STOPPING"] == "1"
        assert edge.wait(WAIT) == 0
    finally:
        notify.close()


def test_the_watchdog_is_not_pinged_for_another_process(tmp_path, processes):
    notify = FakeSystemd(str(tmp_path / "notify.sock"))
    config, _, _ = edge_config(tmp_path)
    edge = start([portcullis_bin(), "serve", "--config", str(config)], notify, tmp_path, WATCHDOG_USEC="200000",
                 WATCHDOG_PID="1")
    processes.append(edge)
    try:
        notify.wait_for("READY", skip_watchdog=False)
        with pytest.raises(TimeoutError):
            notify.next(timeout=1.0)
        edge.send_signal(signal.SIGTERM)
        assert notify.wait_for("STOPPING", skip_watchdog=False)["STOPPING"] == "1"
    finally:
        notify.close()


def test_the_rooms_worker_notifies_ready_and_stopping(tmp_path, processes, redis_url):
    notify = FakeSystemd(str(tmp_path / "notify.sock"))
    config = tmp_path / "rooms.yaml"
    config.write_text(to_yaml({"redis": {"url": redis_url}, "bus": {"prefix": "notify" + os.urandom(3).hex()},
                               "apps": ["echo"]}))
    worker = start([rooms_bin(), "serve", "--config", str(config)], notify, tmp_path, WATCHDOG_USEC="400000")
    processes.append(worker)
    try:
        ready = notify.wait_for("READY")
        assert "echo" in ready.get("STATUS", "")
        assert notify.next().keys() == {"WATCHDOG"}
        worker.send_signal(signal.SIGTERM)
        assert notify.wait_for("STOPPING")["STOPPING"] == "1"
        assert worker.wait(WAIT) == 0
    finally:
        notify.close()


UNITS = ["portcullis.service", "portcullis-rooms@.service"]


@pytest.mark.parametrize("unit", UNITS)
def test_the_units_verify_and_score_well(tmp_path, unit):
    """systemd-analyze verify passes and `security` rates the exposure below 2.0 ("OK"),
    with the installed binaries' paths pointing at the built ones."""
    source = (Path(__file__).resolve().parents[2] / "systemd" / unit).read_text()
    binaries = {"portcullis": portcullis_bin(), "portcullis-rooms": rooms_bin()}
    text = source.replace("/usr/local/bin/portcullis-rooms", binaries["portcullis-rooms"])
    text = re.sub(r"/usr/local/bin/portcullis\b", binaries["portcullis"], text)
    name = unit.replace("@.", "@1.")
    (tmp_path / name).write_text(text)
    verify = subprocess.run(["systemd-analyze", "verify", "--man=no", str(tmp_path / name)], capture_output=True,
                            text=True, timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    security = subprocess.run(["systemd-analyze", "security", "--offline=true", "--threshold=20",
                               str(tmp_path / name)], capture_output=True, text=True, timeout=60)
    assert security.returncode == 0, security.stdout + security.stderr
    score = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", security.stdout).group(1))
    assert score < 2.0, security.stdout
