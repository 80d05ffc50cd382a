"""The quick start, verbatim: `scripts/run --debug` (the README's `scripts/run` on a debug
build), then every try line the README prints and every command scripts/run prints for
the products, each run as a user would paste it, from the repository root. Needs the
ports conf/dev.yaml and the demo backend use (8080, 8443, 9090, 9001) to be free."""

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

REPO_ROOT = Path(__file__).resolve().parents[2]
PORTS = (8080, 8443, 9090, 9001)
START_TIMEOUT = 600.0  # scripts/run builds first (a no-op after scripts/test's build)


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory):
    busy = [port for port in PORTS if not port_free(port)]
    assert not busy, f"the quick start needs ports {busy} free"
    log_path = tmp_path_factory.mktemp("quickstart") / "run.log"
    log = open(log_path, "wb")
    env = {k: v for k, v in os.environ.items() if k not in ("PORTCULLIS_REDIS_URL", "PORTCULLIS_TEST_REDIS_URL")}
    run = subprocess.Popen(["scripts/run", "--debug"], cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=log,
                           stderr=subprocess.STDOUT, env=env, start_new_session=True)
    session = requests.Session()
    session.trust_env = False
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            if session.get("http://127.0.0.1:9090/healthz", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            pass
        if run.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"scripts/run did not come up:\n{log_path.read_text()[-4000:]}")
        time.sleep(0.2)
    yield log_path.read_text()
    os.killpg(run.pid, signal.SIGINT)
    try:
        code = run.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)
        pytest.fail("scripts/run did not stop on Ctrl-C")
    assert code == 0, log_path.read_text()[-4000:]
    assert all(port_free(port) for port in PORTS), "scripts/run left something listening"


def run_line(command: str, seconds: float = 8) -> str:
    """Runs one pasted line; lines that keep listening (the try clients) get Ctrl-C after
    `seconds`, as a user would stop them."""
    process = subprocess.Popen(["bash", "-c", command], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGINT)
        out, _ = process.communicate(timeout=10)
    return out


def readme_try_lines() -> list[str]:
    readme = (REPO_ROOT / "README.md").read_text()
    block = re.search(r"with a dev token it minted.*?```sh\n(.*?)```", readme, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def printed_product_lines(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines()
            if line.strip().startswith((".venv/bin/python scripts/dev/try.py", "curl -s -H \"Authorization"))]


def test_readme_try_lines(quickstart):
    lines = readme_try_lines()
    assert len(lines) == 4, lines
    outputs = {line: run_line(line) for line in lines}
    hello, tls, health, echo = (outputs[line] for line in lines)
    assert "hello" in hello.lower(), hello
    assert "hello" in tls.lower(), tls
    assert health.strip() == "ok", health
    assert '{"event":"hello","data":{"n":1}}' in echo and '"ack":1' in echo, echo


def test_every_product_command_scripts_run_prints(quickstart):
    lines = printed_product_lines(quickstart)
    clients = [line for line in lines if "try.py" in line]
    assert len(clients) >= 2, quickstart
    for line in clients:
        out = run_line(line)
        if " ws " in line:
            assert '{"event":"hello","data":{"n":1}}' in out, f"{line}\n{out}"
            continue
        assert "connected" in out or "confirm_subscription" in out, f"{line}\n{out}"
        assert "error" not in out.lower(), f"{line}\n{out}"
    for line in (line for line in lines if line.startswith("curl")):
        out = run_line(line)
        assert '"success":true' in out or '"published"' in out, f"{line}\n{out}"
