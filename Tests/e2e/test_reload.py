"""Reload: SIGHUP, `portcullis reload` and changed files build a new snapshot; open
connections survive, a broken conf is refused and the old one keeps serving."""

import copy
import http.client
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time

from websockets.sync.client import connect

from conftest import pool, portcullis_bin, route


def wait_until(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def status_of(proxy, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def test_sighup_adds_a_route_while_a_tunnel_and_a_slow_request_stay_open(
        portcullis, upstream, ws_upstream):
    arrived = threading.Event()

    def slow(req):
        req.read_body()
        arrived.set()
        time.sleep(2)
        req.send_bytes(200, b"slow done", content_type="text/plain")

    old = upstream(slow, name="old")
    new = upstream(name="new")
    proxy = portcullis(
        upstreams={"old": pool(old.addr), "ws": pool(ws_upstream.addr)},
        routes=[route("ws", "/ws", "ws"), route("root", "/", "old")],
        edge={"watch_interval": "0s"})

    ws = connect(f"ws://127.0.0.1:{proxy.port}/ws", proxy=None, open_timeout=10, legacy=True)
    ws.send("before reload")
    assert ws.recv(timeout=10) == "before reload"
    result = {}

    def slow_client():
        conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=20)
        conn.request("GET", "/slow")
        resp = conn.getresponse()
        result["status"], result["body"] = resp.status, resp.read()
        conn.close()

    t = threading.Thread(target=slow_client)
    t.start()
    assert arrived.wait(10)

    config = copy.deepcopy(proxy.config)
    config["upstreams"]["new"] = pool(new.addr)
    config["routes"].insert(0, route("new", "/new", "new"))
    proxy.rewrite_config(config)
    proxy.proc.send_signal(signal.SIGHUP)

    assert wait_until(lambda: status_of(proxy, "/new/y") == 200 and new.requests
                      and new.requests[-1]["path"] == "/new/y"), proxy.tail()
    assert proxy.wait_for_stderr("configuration reloaded")
    t.join(timeout=15)
    assert result == {"status": 200, "body": b"slow done"}
    ws.send("after reload")
    assert ws.recv(timeout=10) == "after reload"
    ws.close()


def test_reload_command_refuses_a_broken_conf_and_the_old_one_keeps_serving(portcullis, upstream):
    up = upstream(name="app")
    proxy = portcullis(upstreams={"app": pool(up.addr)}, routes=[route("root", "/", "app")],
                       edge={"watch_interval": "0s"})
    good = proxy.config
    broken = copy.deepcopy(good)
    broken["routes"][0]["proxy"]["upstream"] = "nope"
    proxy.rewrite_config(broken)

    # Without --admin the broken file cannot name the edge: errors printed, nothing sent.
    result = subprocess.run([portcullis_bin(), "reload", "--config", str(proxy.config_path)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1, result
    assert f"{proxy.config_path}:" in result.stderr
    assert 'no upstream named "nope"' in result.stderr

    # With --admin the edge itself validates, refuses and says why.
    result = subprocess.run([portcullis_bin(), "reload", "--config", str(proxy.config_path),
                             "--admin", f"127.0.0.1:{proxy.admin_port}"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1, result
    assert "reload refused by the edge (HTTP 422)" in result.stderr
    assert 'no upstream named "nope"' in result.stderr
    assert status_of(proxy, "/still-here") == 200
    assert up.requests[-1]["path"] == "/still-here"
    assert proxy.wait_for_stderr("reload refused")

    proxy.rewrite_config(good)
    result = subprocess.run([portcullis_bin(), "reload", "--config", str(proxy.config_path)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "reloaded" in result.stdout


def test_a_replaced_certificate_file_is_served_to_new_connections(
        portcullis, upstream, tls_certs, tmp_path):
    cert, key = tmp_path / "live.pem", tmp_path / "live.key"
    shutil.copy(tls_certs.a_cert, cert)
    shutil.copy(tls_certs.a_key, key)
    up = upstream(name="app")
    proxy = portcullis(upstreams={"app": pool(up.addr)}, routes=[route("root", "/", "app")],
                       tls=[{"certificate": str(cert), "private_key": str(key)}],
                       edge={"watch_interval": "1s"})

    def served_names():
        ctx = ssl.create_default_context(cafile=str(tls_certs.ca))
        ctx.check_hostname = False
        with socket.create_connection(("127.0.0.1", proxy.tls_port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="x.test") as tls:
                return [v for k, v in tls.getpeercert().get("subjectAltName", ()) if k == "DNS"]

    assert served_names() == ["a.test"]
    # Replace both files the way certificate tools do: write aside, rename over.
    for source, target in ((tls_certs.b_cert, cert), (tls_certs.b_key, key)):
        staging = target.with_name(target.name + ".tmp")
        shutil.copy(source, staging)
        staging.replace(target)
    assert wait_until(lambda: served_names() == ["b.test"], timeout=10), proxy.tail()
