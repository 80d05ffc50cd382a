"""Observability end to end: after requests to a proxied route, a refused one, a dead
upstream and a WebSocket that opens and closes, `/metrics` shows the histograms, counters
and gauges of docs/observability.md with their labels and counts, and the access log
written as JSON (`edge.log_format: json`) carries the fields docs/observability.md lists."""

from __future__ import annotations

import json
import re
import subprocess
import time
from datetime import datetime, timezone

import requests

from conftest import edge_id, pool, route
from socketkit import Keys, WSClient, socket_route
from upstreams import read_request_head, reset

SERIES = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(pc) -> list[tuple[str, dict, float]]:
    session = requests.Session()
    session.trust_env = False
    text = session.get(pc.admin_url + "/metrics", timeout=5).text
    series = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SERIES.match(line)
        assert match, f"not a Prometheus sample line: {line!r}"
        name, labels, value = match.groups()
        series.append((name, dict(LABEL.findall(labels or "")), float(value)))
    return series


def value(series, name: str, **labels) -> float | None:
    found = [v for n, l, v in series if n == name and all(l.get(k) == w for k, w in labels.items())]
    assert len(found) <= 1, f"{name}{labels} matches {len(found)} series"
    return found[0] if found else None


def json_lines(pc) -> list[dict]:
    lines = []
    for line in pc.stderr().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def wait_for(predicate, what: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_metrics_and_json_access_log_describe_requests_upstreams_and_sockets(
        portcullis, upstream, dead_addr, redis_url, bus_prefix, tmp_path):
    keys = Keys(tmp_path)
    up = upstream(name="app")
    api = route("api", "/api", "app")
    api["auth"] = {"key_set": "main"}
    pc = portcullis(
        upstreams={"app": pool(up.addr), "gone": pool(dead_addr)},
        routes=[api, route("gone", "/gone", "gone"), socket_route("ws", "/ws", auth={"key_set": "main"})],
        edge={"id": edge_id(), "watch_interval": "0s", "log_format": "json"},
        extra={"redis": {"url": redis_url}, "bus": {"prefix": bus_prefix}, "auth": keys.config()})
    token = keys.token("user-42")
    http = requests.Session()
    http.trust_env = False

    for _ in range(3):
        r = http.get(pc.url("/api/items?secret=1"), headers={**keys.bearer(token), "User-Agent": "obs-test/1.0",
                                                             "X-Request-Id": "obs-req-1"})
        assert r.status_code == 200
    assert http.get(pc.url("/api/items")).status_code == 401
    assert http.get(pc.url("/gone/x")).status_code == 502
    with WSClient(f"ws://127.0.0.1:{pc.port}/ws", headers=keys.bearer(token)) as ws:
        ws.wait_for(lambda c: value(scrape(pc), "portcullis_sockets_open", route="ws", protocol="raw") == 1,
                    what="the socket counted open")
    wait_for(lambda: value(scrape(pc), "portcullis_sockets_open", route="ws", protocol="raw") == 0,
             "the socket counted closed")

    series = scrape(pc)
    # Request durations: one histogram per route and status, counts matching the counter.
    assert value(series, "portcullis_request_duration_seconds_count", route="api", status="200") == 3
    assert value(series, "portcullis_requests_total", route="api", status="200") == 3
    assert value(series, "portcullis_request_duration_seconds_count", route="api", status="401") == 1
    assert value(series, "portcullis_request_duration_seconds_count", route="gone", status="502") == 1
    assert value(series, "portcullis_request_duration_seconds_count", route="ws", status="101") == 1
    buckets = [(l["le"], v) for n, l, v in series
               if n == "portcullis_request_duration_seconds_bucket" and l.get("route") == "api"
               and l.get("status") == "200"]
    assert [float(le) for le, _ in buckets] == [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
                                                10, 30, float("inf")], buckets
    assert dict(buckets)["+Inf"] == 3
    assert value(series, "portcullis_request_duration_seconds_sum", route="api", status="200") > 0
    # Upstreams: time to the response head by upstream and server; errors by kind.
    assert value(series, "portcullis_upstream_duration_seconds_count", upstream="app", server=up.addr) == 3
    assert value(series, "portcullis_upstream_errors_total", upstream="gone", server=dead_addr,
                 kind="connect_failed") >= 1
    # Sockets and the bus.
    assert value(series, "portcullis_handshakes_total", route="ws", protocol="raw", result="accepted") == 1
    assert value(series, "portcullis_socket_closes_total", reason="client") == 1
    # The open and close envelopes' XADDs are answered asynchronously (the close's after the
    # socket left the gauge).
    wait_for(lambda: (value(scrape(pc), "portcullis_bus_append_duration_seconds_count") or 0) >= 2,
             "the open and close appends timed")
    assert value(series, "portcullis_redis_up") == 1
    assert value(series, "portcullis_auth_failures_total", route="api", reason="missing_token") == 1
    # Nothing labels a series with a path or a user.
    for name, labels, _ in series:
        assert "user-42" not in labels.values() and "/api/items" not in labels.values(), (name, labels)

    lines = wait_for(lambda: (lambda ls: ls if any(l["msg"] == "socket closed" for l in ls) else None)(
        json_lines(pc)), "the socket closed line")
    for line in lines:
        assert {"ts", "level", "msg", "logger"} <= line.keys(), line
    requests_logged = [line for line in lines if line["msg"] == "request" and line.get("route") == "api"]
    ok = [line for line in requests_logged if line["status"] == "200"]
    assert len(ok) == 3, requests_logged
    assert ok[0]["method"] == "GET"
    assert ok[0]["path"] == "/api/items", "the path is logged without its query"
    assert ok[0]["upstream"] == up.addr
    assert ok[0]["user.agent"] == "obs-test/1.0"
    assert ok[0]["subject"] == "user-42"
    assert ok[0]["request.id"] == "obs-req-1"
    assert int(ok[0]["bytes.out"]) > 0
    assert float(ok[0]["duration.ms"]) > 0
    refused = [line for line in requests_logged if line["status"] == "401"]
    assert refused and refused[0]["subject"] == "-" and refused[0]["upstream"] == "-"
    opened = [line for line in lines if line["msg"] == "socket open"]
    closed = [line for line in lines if line["msg"] == "socket closed"]
    assert len(opened) == 1 and len(closed) == 1, (opened, closed)
    assert opened[0]["route"] == "ws" and opened[0]["protocol"] == "raw" and opened[0]["subject"] == "user-42"
    assert closed[0]["conn.id"] == opened[0]["conn.id"]
    assert closed[0]["protocol"] == "raw" and closed[0]["subject"] == "user-42"
    assert closed[0]["reason"] and float(closed[0]["duration.ms"]) >= 0


def not_after(cert) -> int:
    out = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-in", str(cert)],
                         capture_output=True, text=True, check=True).stdout
    text = " ".join(out.strip().removeprefix("notAfter=").split())
    return int(datetime.strptime(text, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=timezone.utc).timestamp())


def test_certificate_expiry_follows_the_listener_certificates_across_reloads(portcullis, upstream, tls_certs):
    up = upstream(name="app")
    a = {"certificate": str(tls_certs.a_cert), "private_key": str(tls_certs.a_key)}
    b = {"certificate": str(tls_certs.b_cert), "private_key": str(tls_certs.b_key), "server_names": ["B.test"]}
    pc = portcullis(upstreams={"app": pool(up.addr)}, routes=[route("root", "/", "app")], tls=[a],
                    edge={"watch_interval": "0s"})
    name = "portcullis_certificate_expiry_timestamp_seconds"
    assert value(scrape(pc), name, listener="tls", server_name="a.test") == not_after(tls_certs.a_cert)

    config = json.loads(json.dumps(pc.config))
    config["listeners"][1]["tls"]["certificates"] = [b]
    pc.rewrite_config(config)
    session = requests.Session()
    session.trust_env = False
    assert session.post(pc.admin_url + "/reload", timeout=10).status_code == 200
    series = scrape(pc)
    assert value(series, name, listener="tls", server_name="b.test") == not_after(tls_certs.b_cert)
    assert value(series, name, listener="tls", server_name="a.test") is None, "a removed certificate keeps no series"
    assert value(series, "portcullis_reloads_total", result="applied") == 1


def test_upstream_errors_are_counted_by_kind_and_server(portcullis, raw_upstream, dead_addr):
    def hang(sock):
        read_request_head(sock)
        time.sleep(2)

    def read_then_reset(sock):
        read_request_head(sock)
        reset(sock)

    slow, resetting = raw_upstream(hang, name="slow"), raw_upstream(read_then_reset, name="reset")
    pc = portcullis(
        upstreams={"slow": pool(slow.addr, response_timeout="300ms"), "reset": pool(resetting.addr),
                   "dead": pool(dead_addr)},
        routes=[route("slow", "/slow", "slow"), route("reset", "/reset", "reset"), route("dead", "/dead", "dead")])
    http = requests.Session()
    http.trust_env = False
    assert http.get(pc.url("/slow"), timeout=10).status_code == 504
    assert http.get(pc.url("/reset"), timeout=10).status_code == 502
    assert http.get(pc.url("/dead"), timeout=10).status_code == 502

    series = scrape(pc)
    errors = {(l["upstream"], l["server"], l["kind"]): v for n, l, v in series
              if n == "portcullis_upstream_errors_total"}
    assert errors == {("slow", slow.addr, "timeout"): 1, ("reset", resetting.addr, "reset"): 1,
                      ("dead", dead_addr, "connect_failed"): 1}, errors
    assert value(series, "portcullis_request_duration_seconds_count", route="slow", status="504") == 1
    assert value(series, "portcullis_request_duration_seconds_sum", route="slow", status="504") >= 0.3
    # No response head arrived, so no upstream duration was recorded for these servers.
    assert value(series, "portcullis_upstream_duration_seconds_count", upstream="slow", server=slow.addr) == 0


LOGFMT_PAIR = re.compile(r'([^\s=]+)=("(?:[^"\\]|\\.)*"|[^\s"]*)')


def parse_logfmt(line: str) -> dict:
    fields = {}
    for key, raw in LOGFMT_PAIR.findall(line):
        fields[key] = json.loads(raw) if raw.startswith('"') else raw
    return fields


def test_logfmt_lines_parse_back_with_quoted_user_agents(portcullis, upstream):
    up = upstream(name="app")
    pc = portcullis(upstreams={"app": pool(up.addr)}, routes=[route("root", "/", "app")],
                    edge={"log_format": "logfmt"})
    http = requests.Session()
    http.trust_env = False
    agent = 'Mozilla/5.0 (X11; "quoted") a=b'
    assert http.get(pc.url("/x/y?q=1"), headers={"User-Agent": agent}).status_code == 200
    line = wait_for(lambda: next((l for l in pc.stderr().splitlines() if " msg=request " in l), None),
                    "the request line")
    assert line.startswith("ts=") and " level=info msg=request logger=portcullis " in line, line
    fields = parse_logfmt(line)
    assert fields["user.agent"] == agent
    assert fields["path"] == "/x/y" and fields["route"] == "root" and fields["status"] == "200"
    assert fields["upstream"] == up.addr and fields["subject"] == "-"
    for other in pc.stderr().splitlines():
        assert other.startswith("ts="), f"not a logfmt line: {other!r}"
