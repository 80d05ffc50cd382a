"""portcullis-rooms' admin listener (`admin.address`): /healthz, /readyz (Redis answers and
every app's consumer group exists) and /metrics (envelopes by app and result, handler time,
pending and lag per group, Redis up)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import pytest
import requests

from conftest import free_port, rooms_bin, to_yaml
from socketkit import publish

WAIT = 20.0


def start_worker(tmp_path, redis_url: str, prefix: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    config = tmp_path / "rooms.yaml"
    config.write_text(to_yaml({"redis": {"url": redis_url}, "bus": {"prefix": prefix}, "apps": ["echo"],
                               "admin": {"address": f"127.0.0.1:{port}"}}))
    log = open(tmp_path / "rooms.log", "wb")
    worker = subprocess.Popen([rooms_bin(), "serve", "--config", str(config)], stdin=subprocess.DEVNULL, stdout=log,
                              stderr=log)
    return worker, f"http://127.0.0.1:{port}"


def wait_for(check, what: str):
    deadline = time.monotonic() + WAIT
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except requests.RequestException as exc:
            last = exc
        time.sleep(0.1)
    raise AssertionError(f"{what} not seen within {WAIT:.0f}s (last: {last})")


def get(url: str) -> requests.Response:
    session = requests.Session()
    session.trust_env = False
    return session.get(url, timeout=5)


@pytest.fixture
def worker(tmp_path, redis_url, bus_prefix):
    process, base = start_worker(tmp_path, redis_url, bus_prefix)
    yield process, base
    if process.poll() is None:
        process.kill()
        process.wait(10)


def metric(text: str, name: str, **labels) -> float | None:
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_health_readiness_and_metrics(worker, bus, bus_prefix):
    process, base = worker
    wait_for(lambda: get(base + "/healthz").status_code == 200, "healthz 200")
    ready = wait_for(lambda: (r := get(base + "/readyz")).status_code == 200 and r, "readyz 200")
    assert ready.text == "ready\n"

    publish(bus, f"{bus_prefix}:in:echo", kind="message", app="echo", conn="e1.abc", edge="e1", event="hi",
            data='{"n":1}')
    text = wait_for(lambda: (t := get(base + "/metrics").text) and
                    metric(t, "portcullis_rooms_envelopes_total", app="echo", result="handled") == 1 and t,
                    "one handled envelope")
    assert metric(text, "portcullis_rooms_outputs_total", app="echo") == 1
    assert re.search(r'portcullis_rooms_handler_duration_seconds_count\{app="echo"\} 1', text), text
    text = wait_for(lambda: (t := get(base + "/metrics").text) and
                    metric(t, "portcullis_rooms_pending", app="echo") == 0 and t, "the pending gauge")
    assert metric(text, "portcullis_rooms_redis_up") == 1

    process.send_signal(signal.SIGTERM)
    assert process.wait(WAIT) == 0


def test_not_ready_while_redis_is_away(tmp_path, bus_prefix):
    process, base = start_worker(tmp_path, f"redis://127.0.0.1:{free_port()}", bus_prefix)
    try:
        wait_for(lambda: get(base + "/healthz").status_code == 200, "healthz 200")
        answer = get(base + "/readyz")
        assert answer.status_code == 503 and "redis has not answered" in answer.text
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(WAIT) == 0
