"""Process lifecycle and CLI: graceful drain on SIGTERM, `check`, `version`, admin."""

import http.client
import os
import re
import socket
import subprocess
import threading
import time
from pathlib import Path
from textwrap import dedent

import pytest

from conftest import pool, portcullis_bin, route


def run_cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([portcullis_bin(), *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def test_admin_healthz_answers_200(portcullis, upstream, http):
    up = upstream(name="app")
    proxy = portcullis(upstreams={"app": pool(up.addr)}, routes=[route("root", "/", "app")])
    r = http.get(proxy.admin_url + "/healthz", timeout=5)
    assert r.status_code == 200


def connect_refused_within(port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except ConnectionRefusedError:
            return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def test_sigterm_finishes_in_flight_request_refuses_new_connections_and_exits_0(
        portcullis, upstream):
    arrived = threading.Event()

    def slow(req):
        req.read_body()
        arrived.set()
        time.sleep(3)
        req.send_bytes(200, b"finished after drain started", content_type="text/plain")

    up = upstream(slow, name="slow")
    proxy = portcullis(upstreams={"app": pool(up.addr, response_timeout="30s")},
                       routes=[route("root", "/", "app")], edge={"drain_timeout": "5s"})
    result = {}

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=20)
        try:
            conn.request("GET", "/slow")
            resp = conn.getresponse()
            result["status"] = resp.status
            result["body"] = resp.read()
        except Exception as exc:  # noqa: BLE001 - reported below
            result["error"] = repr(exc)
        finally:
            conn.close()

    t = threading.Thread(target=client)
    t.start()
    assert arrived.wait(10), "the slow request never reached the upstream"
    signalled = time.monotonic()
    proxy.sigterm()

    assert connect_refused_within(proxy.port, 2.0), "new connections still accepted after SIGTERM"
    t.join(timeout=15)
    assert result.get("status") == 200, result
    assert result.get("body") == b"finished after drain started"
    try:
        code = proxy.proc.wait(timeout=max(0.1, signalled + 5 + 2 - time.monotonic()))
    except subprocess.TimeoutExpired:
        pytest.fail("portcullis still running 7s after SIGTERM with drain_timeout 5s")
    assert code == 0, proxy.tail()


def test_drain_timeout_bounds_shutdown_when_a_request_never_finishes(portcullis, upstream):
    arrived = threading.Event()
    release = threading.Event()

    def stuck(req):
        req.read_body()
        arrived.set()
        release.wait(30)
        req.send_bytes(200, b"too late")

    up = upstream(stuck, name="stuck")
    proxy = portcullis(upstreams={"app": pool(up.addr, response_timeout="60s")},
                       routes=[route("root", "/", "app")], edge={"drain_timeout": "2s"})

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=40)
        try:
            conn.request("GET", "/stuck")
            conn.getresponse().read()
        except Exception:  # noqa: BLE001 - the connection is cut, as it should be
            pass
        finally:
            conn.close()

    t = threading.Thread(target=client, daemon=True)
    t.start()
    try:
        assert arrived.wait(10)
        signalled = time.monotonic()
        proxy.sigterm()
        try:
            proxy.proc.wait(timeout=2 + 3)
        except subprocess.TimeoutExpired:
            pytest.fail("portcullis did not exit within drain_timeout (2s) + 3s")
        assert time.monotonic() - signalled >= 1.5, "exited before the drain timeout"
    finally:
        release.set()


def write_config(path, body: str) -> None:
    path.write_text(dedent(body).lstrip("\n"))


GOOD_CONFIG = """
    version: 1
    edge:
      id: check-1
      drain_timeout: 5s
    listeners:
      - name: main
        address: "127.0.0.1:18080"
    admin:
      address: "127.0.0.1:19090"
    upstreams:
      app:
        servers: ["127.0.0.1:9001", "127.0.0.1:9002"]
        connect_timeout: 1s
    routes:
      - name: api-route
        match:
          host: api.test
          path: /api
          methods: [GET, POST]
        proxy:
          upstream: app
          strip_prefix: true
        max_body_size: 1MiB
      - name: root-route
        match:
          path: /
        proxy:
          upstream: app
"""


def test_check_accepts_a_valid_config_and_prints_the_route_table(tmp_path):
    conf = tmp_path / "good.yaml"
    write_config(conf, GOOD_CONFIG)
    result = run_cli("check", "--config", str(conf))
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout + result.stderr
    for text in ("api-route", "root-route", "/api", "api.test", "app"):
        assert text in out, f"{text!r} not in the route table:\n{out}"


@pytest.mark.parametrize("broken,line,key", [
    (GOOD_CONFIG.replace("upstream: app\n          strip_prefix", "upstream: nope\n          strip_prefix"),
     21, "upstream"),
    (GOOD_CONFIG.replace("connect_timeout: 1s", "connect_timeout: soon"), 13, "connect_timeout"),
], ids=["unknown-upstream", "bad-duration"])
def test_check_rejects_a_broken_config_naming_file_line_and_key(tmp_path, broken, line, key):
    conf = tmp_path / "broken.yaml"
    write_config(conf, broken)
    assert key in conf.read_text().splitlines()[line - 1], "test data: wrong line number"
    result = run_cli("check", "--config", str(conf))
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    pattern = re.compile(rf"{re.escape(str(conf))}:{line}: \S*{key}\S*: \S.*")
    assert pattern.search(out), f"no '{conf}:{line}: <key>: <message>' line in:\n{out}"


def test_check_prints_sizes_as_the_conf_writes_them(tmp_path):
    conf = tmp_path / "good.yaml"
    write_config(conf, GOOD_CONFIG)
    out = run_cli("check", "--config", str(conf)).stdout
    api = next(line for line in out.splitlines() if "api-route" in line)
    assert " 1MiB " in api, api


def test_check_of_the_shipped_example_names_the_variable_that_finds_its_files(tmp_path):
    """conf/portcullis.yaml reads certificates and secrets from ${PORTCULLIS_TLS_DIR} and
    ${PORTCULLIS_SECRETS_DIR}; a first check without them says so, and with them passes."""
    shipped = Path(__file__).resolve().parents[2] / "conf" / "portcullis.yaml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTCULLIS_")}
    env["PORTCULLIS_SECRETS_DIR"] = str(tmp_path / "secrets")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "products-hs256.key").write_text("k" * 64)
    (tmp_path / "secrets" / "cookie-secrets").write_text("c" * 64 + "\n")
    result = subprocess.run([portcullis_bin(), "check", "--config", str(shipped)], capture_output=True, text=True,
                            timeout=30, env=env)
    assert result.returncode == 1
    missing = [line for line in result.stderr.splitlines() if "no such file" in line]
    assert len(missing) == 4, result.stderr
    assert all("${PORTCULLIS_TLS_DIR}, which is not set" in line for line in missing), result.stderr

    tls = tmp_path / "tls"
    for domain in ("example.com", "example.net"):
        (tls / domain).mkdir(parents=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", str(tls / domain / "privkey.pem"), "-out", str(tls / domain / "fullchain.pem"),
                        "-days", "1", "-subj", f"/CN={domain}"], check=True, capture_output=True)
    env["PORTCULLIS_TLS_DIR"] = str(tls)
    result = subprocess.run([portcullis_bin(), "check", "--config", str(shipped)], capture_output=True, text=True,
                            timeout=30, env=env)
    assert result.returncode == 0, result.stderr


def test_serve_refuses_to_start_with_a_broken_config(tmp_path):
    conf = tmp_path / "broken.yaml"
    write_config(conf, GOOD_CONFIG.replace("upstream: app\n          strip_prefix",
                                           "upstream: nope\n          strip_prefix"))
    result = run_cli("serve", "--config", str(conf), timeout=30)
    assert result.returncode != 0
    assert f"{conf}:21:" in result.stdout + result.stderr


def test_version_prints_a_version_number():
    result = run_cli("version")
    assert result.returncode == 0, result.stderr
    assert re.search(r"\d+\.\d+", result.stdout), result.stdout
    flag = run_cli("--version")
    assert flag.returncode == 0, flag.stderr
    assert flag.stdout == result.stdout
