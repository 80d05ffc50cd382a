#!/usr/bin/env python3
"""WebSocket benchmark: the edge's socket route against a reference floor, in one run.

System under test (SUT, CPU 1): `portcullis serve` with one event loop and a socket route
(`/ws/echo` -> app `echo`, raw protocol, json mode). Beside it, one more edge per other
protocol measured (`--protocols`), each its own process with one socket route: Socket.IO
(`/socket.io/` -> app `echo`) and ActionCable (`/cable` -> app `cable-chat`). Behind them,
on CPU 0: their `redis-server` (own port and data dir) and `portcullis-rooms serve` running
the echo and cable-chat apps. The reference (CPU 1 too): `portcullis-bench floor-server`,
a minimal NIO WebSocket server that fans one pre-encoded frame out to every connection and
echoes text. The load is `portcullis-bench` (NIO, CPU 0): `hold`, `broadcast` and `echo`.

Measured (docs/measuring.md of the team docs):
  1. idle memory: VmRSS and Private_Dirty of the SUT and /proc/meminfo Slab at each step of
     held connections; slope per connection by least squares (user space vs kernel);
  2. broadcast to N subscribers of one room, published by XADD to `<prefix>:out:bcast`
     (floor: a `fire` message): p50/p99/max of receive - send and time to the last
     subscriber, every series interleaved (A B C D, D C B A) at each N, with ratios
     (raw / floor, and each other protocol / raw);
  3. echo round trip at a fixed rate (p50/p99) and closed loop (max sustained msg/s),
     beside `redis-benchmark XADD` on the same Redis (raw protocol only).
Per run: the SUT's CPU from /proc/<pid>/stat (CPU-us per delivery or message) and the
share of the SUT's CPU other processes took. Every process is started and stopped here,
by PID; traffic stays on 127.0.0.0/8. Python standard library only (plus benchkit).
"""

import argparse
import base64
import csv
import datetime
import io
import json
import os
import queue
import socket
import subprocess
import threading
import time
from pathlib import Path

from benchkit import (
    BenchError, TargetFailed, command_output, cpu_jiffies, cpu_sample, cpu_seconds_between, cpu_share,
    ensure_tools, first_line, format_table, free_ports, git_commit, log, machine_info, memory_kib,
    own_cpu_seconds, run_main, slab_kib, spread, tail)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SUT_CPU = 1   # the edge and the floor server
LOAD_CPU = 0  # redis, rooms, load generators, this script
TOOLS = {"redis-server": "redis-server", "redis-benchmark": "redis-tools", "taskset": "util-linux"}
BINARIES = ("portcullis", "portcullis-rooms", "portcullis-bench")
PREFIX = "portcullis"
APP = "echo"
ROOM = "bench"
WS_PATH = "/ws/echo"
CABLE_APP = "cable-chat"
# Each protocol's edge: the target name (`edge` is raw, as before), its route and how its
# broadcast subscribers join. One publisher envelope for all (an `emit` to a room, no `ns`,
# data {"t":…}); only `app` and the room differ, and the rooms differ so that a broadcast
# reaches one series: raw and Socket.IO clients send the echo app's `join` event,
# ActionCable clients subscribe to cable-chat's ChatChannel, which follows `chat:<room>`.
PROTOCOLS = {
    "raw": {"target": "edge", "path": WS_PATH, "app": APP, "room": ROOM},
    "socketio": {"target": "socketio", "path": "/socket.io/?EIO=4&transport=websocket", "app": APP,
                 "room": "bench-socketio"},
    "actioncable": {"target": "actioncable", "path": "/cable", "app": CABLE_APP, "room": "chat:bench",
                    "identifier": '{"channel":"ChatChannel","room":"bench"}'},
}
TARGET_PROTOCOL = {spec["target"]: name for name, spec in PROTOCOLS.items()}
LABELS = {"edge": "Portcullis", "socketio": "Socket.IO", "actioncable": "ActionCable", "floor": "floor"}
NOISY_PCT = 5.0
MAX_CONNECTIONS = 19_500  # one client process, 20,000 fds

# Targets the summary checks (issue 4).
TARGET_KIB_PER_CONN = 12.0
TARGET_BCAST_P99_MS = 50.0
TARGET_BCAST_AT = 10_000
TARGET_ECHO_P50_MS = 1.0
TARGET_VS_RAW = 1.15  # Socket.IO and ActionCable: memory per connection and broadcast p50/p99


# --------------------------------------------------------------------------
# Configs


# The socket route of each protocol's edge. `rate_limit: off`: the default 100 msg/s per
# connection would cap the closed-loop echo (and answer `rate_limited`), not measure the
# edge; the other protocols get the same. Heartbeats are the defaults (Engine.IO ping every
# 25 s, ActionCable beat every 3 s): part of what each protocol costs.
ROUTES = {
    "raw": f"""  - name: echo
    match: {{path: {WS_PATH}}}
    socket: {{app: {APP}, protocol: raw, mode: json, rate_limit: off}}
""",
    "socketio": f"""  - name: socketio
    match: {{path: /socket.io}}
    socket: {{app: {APP}, protocol: socketio, rate_limit: off, socketio: {{path: /socket.io/}}}}
""",
    "actioncable": f"""  - name: actioncable
    match: {{path: /cable}}
    socket: {{app: {CABLE_APP}, protocol: actioncable, rate_limit: off}}
""",
}
EDGE_IDS = {"raw": "bench-1", "socketio": "bench-socketio", "actioncable": "bench-actioncable"}


def edge_yaml(port, admin_port, redis_port, protocol="raw", deflate=False):
    """One edge with the socket route of `protocol` (each protocol gets its own process: one
    client process and one edge each hold at most ~19,500 connections, and memory slopes
    must not reuse what another protocol's connections freed); `deflate` turns the route's
    `compression` on (its defaults)."""
    routes = ROUTES[protocol].replace("rate_limit: off", "rate_limit: off, compression: on") if deflate \
        else ROUTES[protocol]
    return f"""version: 1
edge: {{id: {EDGE_IDS[protocol]}, event_loops: 1, access_log: false}}
listeners: [{{name: ws, address: 127.0.0.1:{port}}}]
admin: {{address: 127.0.0.1:{admin_port}}}
redis: {{url: redis://127.0.0.1:{redis_port}}}
bus: {{prefix: {PREFIX}}}
routes:
{routes}"""


def rooms_yaml(redis_port, protocols=("raw",)):
    apps = [APP] + ([CABLE_APP] if "actioncable" in protocols else [])
    return f"""redis:
  url: redis://127.0.0.1:{redis_port}
bus:
  prefix: {PREFIX}
apps:
""" + "".join(f"  - {app}\n" for app in apps)


# --------------------------------------------------------------------------
# Small clients for readiness checks


def redis_command(port, *args, timeout=2.0):
    """One command over RESP; the first reply line (enough for PING and DEL)."""
    payload = f"*{len(args)}\r\n".encode() + b"".join(
        f"${len(a.encode())}\r\n{a}\r\n".encode() for a in args)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n", 1)[0].decode(errors="replace")


class MiniWebSocket:
    """A blocking WebSocket client for readiness checks: the handshake (offering a
    subprotocol if given), masked text messages out, text messages in (pings answered)."""

    def __init__(self, port, path, subprotocol=None, timeout=3.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        key = base64.b64encode(os.urandom(16)).decode()
        offer = f"Sec-WebSocket-Protocol: {subprotocol}\r\n" if subprotocol else ""
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           f"Sec-WebSocket-Version: 13\r\n{offer}\r\n").encode())
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                self.status = None
                return
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.status = int(head.split(b" ", 2)[1])

    def _need(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise OSError("closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _frame(self, opcode, payload):
        mask = os.urandom(4)
        header = bytes([0x80 | opcode, 0x80 | len(payload)]) if len(payload) < 126 else \
            bytes([0x80 | opcode, 0x80 | 126]) + len(payload).to_bytes(2, "big")
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def send(self, payload):
        self._frame(0x1, payload)

    def recv(self):
        """The next text message, or None when the server closes."""
        while True:
            b0, b1 = self._need(2)
            length = b1 & 0x7F
            if length == 126:
                length = int.from_bytes(self._need(2), "big")
            elif length == 127:
                length = int.from_bytes(self._need(8), "big")
            data = self._need(length)
            opcode = b0 & 0x0F
            if opcode == 0x1:
                return data
            if opcode == 0x9:
                self._frame(0xA, data)
            elif opcode == 0x8:
                return None

    def recv_until(self, predicate, limit=10):
        """The first text message `predicate` accepts (Engine.IO pings `2` answered `3`)."""
        for _ in range(limit):
            data = self.recv()
            if data is None or predicate(data):
                return data
            if data == b"2":
                self.send(b"3")
        return None

    def close(self):
        try:
            self._frame(0x8, b"\x03\xe8")
        except OSError:
            pass
        self.sock.close()


def ws_echo_once(port, path, payload, timeout=3.0):
    """Handshake, send one masked text frame, return (status, first text message or None)."""
    ws = MiniWebSocket(port, path, timeout=timeout)
    try:
        if ws.status != 101:
            return ws.status, None
        ws.send(payload)
        return ws.status, ws.recv()
    finally:
        ws.close()


def session_check(protocol, port, timeout=3.0):
    """(ok, detail): a Socket.IO client connects to `/` and has an event echoed by the echo
    app; an ActionCable client is welcomed and has its ChatChannel subscription confirmed by
    cable-chat. Either way the whole path edge -> Redis -> rooms -> Redis -> edge works."""
    spec = PROTOCOLS[protocol]
    ws = MiniWebSocket(port, spec["path"], subprotocol="actioncable-v1-json" if protocol == "actioncable" else None,
                       timeout=timeout)
    try:
        if ws.status != 101:
            return False, f"HTTP {ws.status}"
        if protocol == "socketio":
            opened = ws.recv()
            if not (opened or b"").startswith(b"0{"):
                return False, f"no Engine.IO open packet: {opened!r}"
            ws.send(b"40")
            connected = ws.recv_until(lambda m: m.startswith(b"4"))
            if not (connected or b"").startswith(b"40{"):
                return False, f"no CONNECT answer: {connected!r}"
            ws.send(b'42["echo",{"t":1}]')
            echoed = ws.recv_until(lambda m: m.startswith(b"42"))
            return echoed is not None and b'"t":1' in echoed, f"answer {echoed!r}"
        welcome = ws.recv()
        if welcome != b'{"type":"welcome"}':
            return False, f"no welcome: {welcome!r}"
        ws.send(b'{"command":"subscribe","identifier":' + json.dumps(spec["identifier"]).encode() + b"}")
        confirmed = ws.recv_until(lambda m: b"subscription" in m)
        return confirmed is not None and b'"confirm_subscription"' in confirmed, f"answer {confirmed!r}"
    finally:
        ws.close()


def wait_until(check, proc, name, log_path, timeout, what):
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise TargetFailed(name, f"{name} exited with code {proc.returncode} before {what}; "
                                     f"last log lines ({log_path}):\n{tail(log_path)}")
        try:
            ok, last = check()
            if ok:
                return
        except (OSError, ValueError, IndexError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        time.sleep(0.2)
    raise TargetFailed(name, f"{name}: {what} did not happen within {timeout:.0f}s (last: {last}); "
                             f"last log lines ({log_path}):\n{tail(log_path)}")


# --------------------------------------------------------------------------
# portcullis-bench clients driven over stdin


class Client:
    """A `portcullis-bench` client subcommand: commands go to its stdin, its JSON lines are
    read by a thread. Closing stdin makes it close its connections and exit."""

    def __init__(self, procs, name, argv, cpu, log_path):
        self.name, self.log_path, self.procs = name, log_path, procs
        self.err = open(log_path, "ab")
        self.proc = subprocess.Popen(procs.argv(cpu, argv), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.err, start_new_session=True)
        procs.running.append((name, self.proc))
        self.lines = queue.Queue()
        self.last_progress = 0.0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.proc.stdout:
            try:
                self.lines.put(json.loads(raw))
            except ValueError:
                self.err.write(b"stdout: " + raw)
        self.lines.put(None)

    def send(self, command):
        try:
            self.proc.stdin.write((command + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise BenchError(f"{self.name} is gone (exit {self.proc.poll()}):\n{tail(self.log_path)}")

    def wait_for(self, types, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                item = self.lines.get(timeout=0.5)
            except queue.Empty:
                if time.monotonic() > deadline:
                    raise BenchError(f"{self.name}: no {'/'.join(types)} line within {timeout:.0f}s; "
                                     f"log ({self.log_path}):\n{tail(self.log_path)}")
                continue
            if item is None:
                self.proc.wait(timeout=5)
                raise BenchError(f"{self.name} exited with code {self.proc.returncode}; "
                                 f"log ({self.log_path}):\n{tail(self.log_path)}")
            kind = item.get("type")
            if kind in types:
                return item
            if kind == "progress" and time.monotonic() - self.last_progress >= 5:
                self.last_progress = time.monotonic()
                log(f"    {self.name}: {item['open']:,}/{item['target']:,} open, {item['failures']} failed, "
                    f"{item['rate']:.0f}/s")
            elif kind == "error":
                raise BenchError(f"{self.name}: {item.get('message')}")

    def ramp(self, count, ramp_rate):
        self.send(f"target {count}")
        report = self.wait_for({"ready", "ramp_failed"}, timeout=count / ramp_rate * 3 + 60)
        if report["type"] != "ready":
            raise BenchError(f"{self.name}: could not open {count} connections: {report['open']} open, "
                             f"{report['failures']} failed ({report.get('failure_kinds')}), "
                             f"first error: {report.get('first_error')}")
        return report

    def finish(self, timeout=30):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        self.procs.stop_one(self.proc)
        self.err.close()


# --------------------------------------------------------------------------
# Figures


def least_squares(points):
    """slope, intercept and r^2 of y = a x + b over (x, y) points; None with < 2 distinct x."""
    if len({x for x, _ in points}) < 2:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    sxy = sum((x - mx) * (y - my) for x, y in points)
    syy = sum((y - my) ** 2 for _, y in points)
    slope = sxy / sxx
    r2 = (sxy * sxy) / (sxx * syy) if syy else 1.0
    return {"slope": slope, "intercept": my - slope * mx, "r2": r2}


def values_of(runs, key, scale=1.0):
    """spread() of run[key] (a dotted key reaches into nested dicts), times scale."""
    out = []
    for run in runs:
        v = run
        for k in key.split("."):
            v = v.get(k) if isinstance(v, dict) else None
        if v is not None:
            out.append(v * scale)
    return spread(out)


LATENCY_FIGURES = {"p50_ms": ("latency.p50_us", 1e-3), "p99_ms": ("latency.p99_us", 1e-3),
                   "max_ms": ("latency.max_us", 1e-3)}


def figures(runs, spec):
    """{name: spread over runs} for spec {name: (dotted key, scale)}."""
    return {name: values_of(runs, key, scale) for name, (key, scale) in spec.items()}


def fmt(value, pattern="{:.2f}", none="-"):
    return none if value is None else pattern.format(value)


def fmt_spread(s, pattern="{:.2f}", scale=1.0):
    if s is None:
        return "-"
    med, lo, hi = (pattern.format(s[k] * scale) for k in ("median", "min", "max"))
    return med if lo == hi else f"{med} ({lo}–{hi})"


def ratio(a, b):
    return a / b if a is not None and b else None


# --------------------------------------------------------------------------
# The bench


class Bench:
    def __init__(self, args, tmp, procs):
        self.args, self.tmp, self.procs = args, tmp, procs
        self.bin = args.bin_dir
        self.ports = {}
        self.roots = {}   # name -> Popen: redis, rooms, edge (raw), socketio, actioncable, floor
        self.logs = {}
        self.edges = [PROTOCOLS[p]["target"] for p in args.protocols]  # SUT processes besides floor

    def binary(self, name):
        return str(self.bin / name)

    # ---- processes

    def start_all(self):
        names = ["redis", "floor"] + [n for t in self.edges for n in (t, f"{t}-admin")]
        self.ports = dict(zip(names, free_ports(len(names))))
        self.start_redis()
        self.start_rooms()
        for protocol in self.args.protocols:
            self.start_edge(protocol)
        self.start_floor()

    def start_redis(self):
        data = self.tmp / "redis"
        data.mkdir()
        self.logs["redis"] = data / "redis.log"
        self.roots["redis"] = self.procs.start("redis", [
            "redis-server", "--port", str(self.ports["redis"]), "--bind", "127.0.0.1", "--dir", str(data),
            "--save", "", "--appendonly", "no", "--daemonize", "no", "--maxclients", "1000",
            "--logfile", ""], LOAD_CPU, self.logs["redis"])
        wait_until(lambda: ((r := redis_command(self.ports["redis"], "PING")) == "+PONG", r),
                   self.roots["redis"], "redis", self.logs["redis"], self.args.start_timeout, "answering PING")

    def start_rooms(self):
        cfg = self.tmp / "rooms.yaml"
        cfg.write_text(rooms_yaml(self.ports["redis"], self.args.protocols))
        self.logs["rooms"] = self.tmp / "rooms.log"
        self.roots["rooms"] = self.procs.start(
            "rooms", [self.binary("portcullis-rooms"), "serve", "--config", str(cfg)], LOAD_CPU, self.logs["rooms"])

    def start_edge(self, protocol):
        target = PROTOCOLS[protocol]["target"]
        cfg = self.tmp / f"{target}.yaml"
        cfg.write_text(edge_yaml(self.ports[target], self.ports[f"{target}-admin"], self.ports["redis"], protocol,
                                  self.args.deflate))
        code, out = command_output([self.binary("portcullis"), "check", "--config", str(cfg)])
        if code != 0:
            raise TargetFailed(target, f"`portcullis check` refuses the {protocol} socket route config (exit {code}); "
                                       f"the edge's socket routes may not be in this build:\n{out}")
        self.logs[target] = self.tmp / f"{target}.log"
        self.roots[target] = self.procs.start(
            target, [self.binary("portcullis"), "serve", "--config", str(cfg)], SUT_CPU, self.logs[target])
        self.preflight(target)

    def start_floor(self):
        self.logs["floor"] = self.tmp / "floor.log"
        self.roots["floor"] = self.procs.start(
            "floor", [self.binary("portcullis-bench"), "floor-server", "--port", str(self.ports["floor"])],
            SUT_CPU, self.logs["floor"])
        self.preflight("floor")

    def preflight(self, target):
        """A python client gets its message echoed (Socket.IO: after connecting to `/`;
        ActionCable: its subscription confirmed instead): the whole path works (for the
        edges: edge -> Redis -> rooms app -> Redis -> edge)."""
        message = b'{"event":"echo","data":{"t":1}}'
        protocol = TARGET_PROTOCOL.get(target, "raw")

        def check():
            if protocol != "raw":
                return session_check(protocol, self.ports[target])
            status, text = ws_echo_once(self.ports[target], WS_PATH, message)
            return text is not None and b'"t":1' in text, f"HTTP {status}, answer {text!r}"
        what = {"raw": "echoing a message over the socket route",
                "socketio": "connecting to / and echoing a Socket.IO event",
                "actioncable": "confirming an ActionCable subscription"}[protocol]
        wait_until(check, self.roots[target], target, self.logs[target], self.args.start_timeout, what)

    def check_alive(self):
        for name, proc in self.roots.items():
            if proc.poll() is not None:
                raise TargetFailed(name, f"{name} (pid {proc.pid}) exited with code {proc.returncode}; "
                                         f"last log lines ({self.logs[name]}):\n{tail(self.logs[name])}")

    def url(self, target):
        path = PROTOCOLS[TARGET_PROTOCOL[target]]["path"] if target in TARGET_PROTOCOL else WS_PATH
        return f"ws://127.0.0.1:{self.ports[target]}{path}"

    def client(self, name, argv):
        return Client(self.procs, name, [self.binary("portcullis-bench")] + argv, LOAD_CPU,
                      self.tmp / f"{name}.log")

    def client_common(self, target):
        return ["--url", self.url(target), "--ramp", f"{self.args.ramp}/s",
                "--source-addresses", self.args.source_addresses] \
            + (["--deflate"] if self.args.deflate and target != "floor" else [])

    def protocol_args(self, target, subscribe=True):
        """`--protocol` (and the ActionCable subscription) for a hold or broadcast client."""
        protocol = TARGET_PROTOCOL.get(target)
        if protocol in (None, "raw"):
            return []
        argv = ["--protocol", protocol]
        if protocol == "actioncable" and subscribe:
            argv += ["--cable-identifier", PROTOCOLS[protocol]["identifier"]]
        return argv

    # ---- CPU windows

    def cpu_begin(self):
        return {"t": time.monotonic(), "own": own_cpu_seconds(), "sut": cpu_jiffies(SUT_CPU),
                "procs": {n: cpu_sample(p.pid) for n, p in self.roots.items()}}

    def cpu_end(self, begin):
        end = self.cpu_begin()
        cpu = {n: cpu_seconds_between(begin["procs"][n], end["procs"][n]) for n in self.roots}
        ours_on_sut = sum(cpu[t] for t in self.edges) + cpu["floor"]
        share = cpu_share(begin["sut"], end["sut"], ours_on_sut) if self.procs.pin else None
        return {"seconds": end["t"] - begin["t"], "cpu_s": cpu,
                "sut_cpu_others_pct": share["others_pct"] if share else None}

    # ---- 1. memory

    def memory(self, target):
        pid = self.roots[target].pid
        hold = self.client(f"hold-{target}", ["hold", "--connections", "0"] + self.client_common(target)
                           + self.protocol_args(target, subscribe=self.args.cable_hold == "subscribed"))
        points = []
        try:
            hold.wait_for({"ready"}, 30)
            for count in self.args.mem_steps:
                report = hold.ramp(count, self.args.ramp) if count else {"open": 0}
                time.sleep(self.args.settle)
                self.check_alive()
                mem = memory_kib(pid)
                point = {"connections": report["open"], "rss_kib": mem["rss_kib"],
                         "private_dirty_kib": mem["private_dirty_kib"], "slab_kib": slab_kib(),
                         "client_rss_kib": memory_kib(hold.proc.pid)["rss_kib"]}
                points.append(point)
                log(f"  {LABELS[target]:<11} {point['connections']:>6,} conns  RSS {point['rss_kib'] / 1024:8.1f} MiB"
                    f"  Private_Dirty {point['private_dirty_kib'] / 1024:8.1f} MiB"
                    f"  Slab {point['slab_kib'] / 1024:8.1f} MiB")
        finally:
            hold.finish()
        fit_points = [p for p in points if p["connections"] >= self.args.fit_from] or points
        fits = {key: least_squares([(p["connections"], p[key]) for p in fit_points])
                for key in ("rss_kib", "private_dirty_kib", "slab_kib")}
        return {"target": target, "points": points, "fit_from": self.args.fit_from, "fits": fits}

    # ---- 2. broadcast

    def broadcast(self):
        args = self.args
        common = ["broadcast", "--control", "--broadcasts", str(args.broadcasts),
                  "--warmup-broadcasts", str(args.warmup_broadcasts), "--gap-ms", str(args.gap_ms)]
        bus = ["--redis-url", f"redis://127.0.0.1:{self.ports['redis']}", "--prefix", PREFIX]
        # One client per series (each edge its own process, so no fd limit is shared); every
        # edge reads each XADD, and only the series' room has members. `--bcast-hold one`:
        # an edge series' subscribers are open only during its own runs, so that idle edges'
        # heartbeats (ActionCable beats every 3 s) do not share CPU 1 with another series'
        # fan-out; the floor sends nothing to idle connections and stays held.
        hold_all = args.bcast_hold == "all"
        clients = {}
        for target in self.edges:
            spec = PROTOCOLS[TARGET_PROTOCOL[target]]
            clients[target] = self.client(f"bcast-{target}", common + self.client_common(target) + bus + [
                "--app", spec["app"], "--room", spec["room"], "--label", target] + self.protocol_args(target))
        clients["floor"] = self.client("bcast-floor", common + self.client_common("floor") + [
            "--room", ROOM, "--floor"])
        series = list(clients)
        runs = []
        try:
            for client in clients.values():
                client.wait_for({"ready"}, 30)
            for count in args.bcast_steps:
                for target, client in clients.items():
                    if hold_all or target == "floor":
                        log(f"  ramping {LABELS[target]} subscribers to {count:,}")
                        client.ramp(count, args.ramp)
                for r in range(args.rounds):
                    order = series if r % 2 == 0 else series[::-1]
                    for target in order:
                        client = clients[target]
                        if not (hold_all or target == "floor"):
                            log(f"  opening {count:,} {LABELS[target]} subscribers")
                            client.ramp(count, args.ramp)
                        runs.append(self.broadcast_run(client, target, count, r + 1))
                        if not (hold_all or target == "floor"):
                            client.ramp(0, args.ramp)
        finally:
            for client in clients.values():
                client.finish()
        return runs

    def broadcast_run(self, client, target, count, round_no):
        args = self.args
        time.sleep(args.pause)
        begin = self.cpu_begin()
        client.send(f"measure {args.broadcasts}")
        timeout = 120 + (args.broadcasts + args.warmup_broadcasts) * (10 + args.gap_ms / 1000)
        result = client.wait_for({"result"}, timeout)
        window = self.cpu_end(begin)
        self.check_alive()
        sent = result["broadcasts"] + args.warmup_broadcasts + result["probes"]
        cpu = window["cpu_s"][target]
        # The other SUT processes (idle edges answering heartbeats, the floor) on CPU 1.
        bystanders = sum(window["cpu_s"][t] for t in self.edges + ["floor"] if t != target)
        run = dict(result, target=target, step=count, round=round_no, window=window,
                   sut_cpu_s=cpu, sut_cpu_others_pct=window["sut_cpu_others_pct"],
                   sut_bystanders_cpu_pct=100 * bystanders / window["seconds"],
                   sut_cpu_us_per_delivery=cpu / (sent * result["connections"]) * 1e6
                   if result["connections"] else None)
        log(f"  [round {round_no}] {LABELS[target]:<11} N={result['connections']:>6,}  "
            f"p50 {result['latency']['p50_us'] / 1000:7.2f} ms  p99 {result['latency']['p99_us'] / 1000:7.2f} ms  "
            f"max {result['latency']['max_us'] / 1000:7.2f} ms  last {result['last_subscriber']['p50_us'] / 1000:7.2f} ms"
            f"  missing {result['missing']}  CPU {fmt(run['sut_cpu_us_per_delivery'], '{:.2f}')} µs/delivery"
            f"  client CPU {result['client_cpu_s']:.2f} s"
            + (f"  bystanders {run['sut_bystanders_cpu_pct']:.1f}% CPU" if len(self.edges) > 1 else "")
            + ("" if result["all_joined"] else "  NOT ALL JOINED")
            + ("  NOISY" if (run["sut_cpu_others_pct"] or 0) > NOISY_PCT else ""))
        return run

    # ---- 3. echo

    def echo_run(self, target, mode, round_no):
        args = self.args
        argv = [self.binary("portcullis-bench"), "echo", "--label", target] + self.client_common(target) \
            + (["--padding", str(args.echo_padding)] if args.echo_padding else [])
        if mode == "fixed":
            argv += ["--connections", str(args.echo_connections), "--rate", str(args.echo_rate),
                     "--duration", str(args.echo_duration), "--warmup", str(args.echo_warmup)]
        else:
            argv += ["--closed-loop", "--connections", str(args.closed_connections),
                     "--inflight", str(args.closed_inflight), "--duration", str(args.echo_duration),
                     "--warmup", str(args.echo_warmup)]
        time.sleep(args.pause)
        begin = self.cpu_begin()
        code, out = self.procs.run(argv, LOAD_CPU, timeout=args.echo_duration + args.echo_warmup + 120)
        window = self.cpu_end(begin)
        self.check_alive()
        result = None
        for line in out.splitlines():
            if line.startswith("{") and '"type":"result"' in line:
                result = json.loads(line)
        if code != 0 or result is None:
            raise BenchError(f"portcullis-bench echo against {target} failed (exit {code}):\n{out[-3000:]}")
        answered = result["answered"] or None
        cpu = window["cpu_s"]
        run = dict(result, target=target, round=round_no, window=window,
                   sut_cpu_others_pct=window["sut_cpu_others_pct"],
                   sut_cpu_us_per_msg=cpu[target] / answered * 1e6 if answered else None,
                   sut_cpu_pct=100 * cpu[target] / window["seconds"],
                   rooms_cpu_pct=100 * cpu["rooms"] / window["seconds"] if target == "edge" else None,
                   redis_cpu_pct=100 * cpu["redis"] / window["seconds"] if target == "edge" else None,
                   rooms_cpu_us_per_msg=cpu["rooms"] / answered * 1e6 if answered and target == "edge" else None,
                   redis_cpu_us_per_msg=cpu["redis"] / answered * 1e6 if answered and target == "edge" else None)
        log(f"  [round {round_no}] {LABELS[target]:<10} {mode:<6} {result['completed_per_s']:>8,.0f} msg/s  "
            f"p50 {result['latency']['p50_us'] / 1000:6.3f} ms  p99 {result['latency']['p99_us'] / 1000:6.3f} ms  "
            f"max {result['latency']['max_us'] / 1000:7.2f} ms  lost {result['lost']}  "
            + (f"error frames {result['other_frames']}  " if result["other_frames"] else "")
            + f"CPU {fmt(run['sut_cpu_us_per_msg'], '{:.1f}')} µs/msg"
            + (f" (rooms {fmt(run['rooms_cpu_us_per_msg'], '{:.1f}')}, redis {fmt(run['redis_cpu_us_per_msg'], '{:.1f}')})"
               if target == "edge" else "")
            + ("  NOISY" if (run["sut_cpu_others_pct"] or 0) > NOISY_PCT else ""))
        return run

    def echo(self):
        runs = []
        for mode in ("fixed", "closed"):
            for r in range(self.args.rounds):
                for target in (["edge", "floor"] if r % 2 == 0 else ["floor", "edge"]):
                    runs.append(self.echo_run(target, mode, r + 1))
        return runs

    def redis_benchmark(self):
        results = []
        for clients in (1, 50):
            argv = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(self.ports["redis"]), "-P", "1",
                    "-c", str(clients), "-n", str(self.args.xadd_requests), "--csv",
                    "XADD", "benchstream", "*", "f", "v"]
            code, out = self.procs.run(argv, LOAD_CPU, timeout=300)
            rows = [r for r in csv.reader(io.StringIO(out)) if r and r[0] != "test"]
            if code != 0 or not rows:
                raise BenchError(f"redis-benchmark failed (exit {code}):\n{out[-2000:]}")
            row = rows[-1]
            results.append({"clients": clients, "rps": float(row[1]), "p50_ms": float(row[4]),
                            "p99_ms": float(row[6]), "max_ms": float(row[7])})
            log(f"  redis-benchmark -P 1 -c {clients:<2} XADD  {float(row[1]):>10,.0f} req/s  "
                f"p50 {float(row[4]):.3f} ms  p99 {float(row[6]):.3f} ms")
        redis_command(self.ports["redis"], "DEL", "benchstream")
        return results


# --------------------------------------------------------------------------
# Reporting


def memory_table(memory):
    rows = [["target", "RSS KiB/conn", "Private_Dirty KiB/conn", "Slab KiB/conn (both ends)", "r² (RSS)",
             "RSS at max MiB", "points"]]
    for m in memory:
        f = m["fits"]
        slope = lambda k: fmt(f[k]["slope"] if f[k] else None, "{:.2f}")
        rows.append([LABELS[m["target"]], slope("rss_kib"), slope("private_dirty_kib"), slope("slab_kib"),
                     fmt(f["rss_kib"]["r2"] if f["rss_kib"] else None, "{:.3f}"),
                     f"{m['points'][-1]['rss_kib'] / 1024:.1f}",
                     ",".join(f"{p['connections']:,}" for p in m["points"])])
    return format_table(rows)


def broadcast_summary(runs, steps, targets=("edge", "floor")):
    out = []
    for step in steps:
        entry = {"step": step}
        for target in targets:
            mine = [r for r in runs if r["step"] == step and r["target"] == target]
            entry[target] = figures(mine, dict(
                LATENCY_FIGURES, connections=("connections", 1), last_ms=("last_subscriber.p50_us", 1e-3),
                cpu_us_per_delivery=("sut_cpu_us_per_delivery", 1), client_cpu_s=("client_cpu_s", 1)))
            entry[target]["missing"] = sum(r["missing"] for r in mine)
        med = lambda t, k: entry[t][k]["median"] if entry[t][k] else None
        keys = ("p50_ms", "p99_ms", "last_ms", "cpu_us_per_delivery")
        entry["ratios"] = {k: ratio(med("edge", k), med("floor", k)) for k in keys}
        entry["vs_raw"] = {t: {k: ratio(med(t, k), med("edge", k)) for k in keys}
                           for t in targets if t not in ("edge", "floor")}
        out.append(entry)
    return out


def broadcast_table(summary, targets=("edge", "floor")):
    rows = [["N", "series", "p50 ms", "p99 ms", "max ms", "last subscriber ms", "missing", "CPU µs/delivery",
             "client CPU s"]]
    for e in summary:
        for target in targets:
            s = e[target]
            rows.append([f"{e['step']:,}", LABELS[target], fmt_spread(s["p50_ms"]), fmt_spread(s["p99_ms"]),
                         fmt_spread(s["max_ms"]), fmt_spread(s["last_ms"]), str(s["missing"]),
                         fmt_spread(s["cpu_us_per_delivery"]), fmt_spread(s["client_cpu_s"])])
        r = e["ratios"]
        rows.append(["", "ratio", fmt(r["p50_ms"], "{:.2f}x"), fmt(r["p99_ms"], "{:.2f}x"), "",
                     fmt(r["last_ms"], "{:.2f}x"), "", fmt(r["cpu_us_per_delivery"], "{:.2f}x"), ""])
        for target, v in e["vs_raw"].items():
            rows.append(["", f"{LABELS[target]} / raw", fmt(v["p50_ms"], "{:.2f}x"), fmt(v["p99_ms"], "{:.2f}x"), "",
                         fmt(v["last_ms"], "{:.2f}x"), "", fmt(v["cpu_us_per_delivery"], "{:.2f}x"), ""])
    return format_table(rows)


def memory_slopes(memory):
    """{target: {rss_kib, private_dirty_kib, slab_kib}}: KiB per connection (None without a fit)."""
    return {m["target"]: {k: (m["fits"][k]["slope"] if m["fits"][k] else None)
                          for k in ("rss_kib", "private_dirty_kib", "slab_kib")} for m in memory}


def bcast_reference_step(bsummary):
    """The step the protocol verdicts use: 10,000 subscribers if measured, else the largest."""
    if not bsummary:
        return None
    return next((e for e in bsummary if e["step"] == TARGET_BCAST_AT), bsummary[-1])


def vs_raw_summary(memory, bsummary, targets):
    """Each other protocol against raw: memory slopes and broadcast latency at the reference
    step, with their ratios to raw (the figures behind the ≤ 1.15x targets)."""
    slopes = memory_slopes(memory)
    at = bcast_reference_step(bsummary)
    out = {"step": at["step"] if at else None, "targets": {}}
    for target in targets:
        if target == "floor":
            continue
        mem = slopes.get(target, {})
        raw = slopes.get("edge", {})
        med = lambda t, k: at[t][k]["median"] if at and at.get(t) and at[t][k] else None
        out["targets"][target] = {
            "protocol": TARGET_PROTOCOL[target],
            "memory": {k: mem.get(k) for k in ("rss_kib", "private_dirty_kib", "slab_kib")},
            "memory_ratio": {k: ratio(mem.get(k), raw.get(k)) for k in ("rss_kib", "private_dirty_kib", "slab_kib")},
            "broadcast": {k: med(target, k) for k in ("p50_ms", "p99_ms", "last_ms")},
            "broadcast_ratio": {k: ratio(med(target, k), med("edge", k)) for k in ("p50_ms", "p99_ms", "last_ms")},
        }
    return out


def vs_raw_table(vs):
    step = f" at N={vs['step']:,}" if vs["step"] else ""
    rows = [["protocol", "RSS KiB/conn", "x raw", "Private_Dirty KiB/conn", "x raw", f"bcast p50 ms{step}",
             "x raw", f"bcast p99 ms{step}", "x raw", "last subscriber ms", "x raw"]]
    for target, v in vs["targets"].items():
        m, mr, b, br = v["memory"], v["memory_ratio"], v["broadcast"], v["broadcast_ratio"]
        rows.append([LABELS[target] if target != "edge" else "raw", fmt(m["rss_kib"]), fmt(mr["rss_kib"], "{:.2f}x"),
                     fmt(m["private_dirty_kib"]), fmt(mr["private_dirty_kib"], "{:.2f}x"),
                     fmt(b["p50_ms"]), fmt(br["p50_ms"], "{:.2f}x"), fmt(b["p99_ms"]), fmt(br["p99_ms"], "{:.2f}x"),
                     fmt(b["last_ms"]), fmt(br["last_ms"], "{:.2f}x")])
    return format_table(rows)


def echo_summary(runs, xadd):
    out = {}
    for mode in ("fixed", "closed"):
        for target in ("edge", "floor"):
            mine = [r for r in runs if r["mode"] == mode and r["target"] == target]
            out[f"{target}_{mode}"] = figures(mine, dict(
                LATENCY_FIGURES, msg_per_s=("completed_per_s", 1),
                **{k: (k, 1) for k in ("sut_cpu_us_per_msg", "rooms_cpu_us_per_msg", "redis_cpu_us_per_msg",
                                       "sut_cpu_pct", "rooms_cpu_pct", "redis_cpu_pct")}))
            out[f"{target}_{mode}"]["lost"] = sum(r["lost"] for r in mine)
            out[f"{target}_{mode}"]["errors"] = sum(r["other_frames"] for r in mine)
    med = lambda key, k: out[key][k]["median"] if out.get(key, {}).get(k) else None
    x1 = next((x for x in xadd if x["clients"] == 1), None)
    x50 = next((x for x in xadd if x["clients"] == 50), None)
    out["ratios"] = {
        "edge_closed_msgs_per_xadd50_rps": ratio(med("edge_closed", "msg_per_s"), x50 and x50["rps"]),
        "edge_fixed_p50_per_xadd1_p50": ratio(med("edge_fixed", "p50_ms"), x1 and x1["p50_ms"]),
        "edge_vs_floor_fixed_p50": ratio(med("edge_fixed", "p50_ms"), med("floor_fixed", "p50_ms")),
        "edge_vs_floor_closed_msgs": ratio(med("edge_closed", "msg_per_s"), med("floor_closed", "msg_per_s")),
    }
    return out


def echo_table(summary, xadd, args):
    rows = [["series", "msg/s", "p50 ms", "p99 ms", "max ms", "lost", "errors", "SUT CPU µs/msg", "rooms µs/msg",
             "redis µs/msg", "CPU % SUT/rooms/redis"]]
    names = {"fixed": f"fixed {args.echo_rate:g}/s, {args.echo_connections} conns",
             "closed": f"closed loop, {args.closed_connections}x{args.closed_inflight} in flight"}
    for mode in ("fixed", "closed"):
        for target in ("edge", "floor"):
            s = summary[f"{target}_{mode}"]
            rows.append([f"{LABELS[target]} {names[mode]}", fmt_spread(s["msg_per_s"], "{:,.0f}"),
                         fmt_spread(s["p50_ms"], "{:.3f}"), fmt_spread(s["p99_ms"], "{:.3f}"),
                         fmt_spread(s["max_ms"]), str(s["lost"]), str(s["errors"]),
                         fmt_spread(s["sut_cpu_us_per_msg"], "{:.1f}"),
                         fmt_spread(s["rooms_cpu_us_per_msg"], "{:.1f}"), fmt_spread(s["redis_cpu_us_per_msg"], "{:.1f}"),
                         "/".join(fmt(s[k]["median"] if s[k] else None, "{:.0f}")
                                  for k in ("sut_cpu_pct", "rooms_cpu_pct", "redis_cpu_pct"))])
    for x in xadd:
        rows.append([f"redis-benchmark XADD -P 1 -c {x['clients']}", f"{x['rps']:,.0f}", f"{x['p50_ms']:.3f}",
                     f"{x['p99_ms']:.3f}", f"{x['max_ms']:.2f}", "", "", "", "", "", ""])
    return format_table(rows)


def target_lines(memory, bsummary, esummary, vs=None):
    lines = []

    def verdict(value, limit):
        return "n/a" if value is None else ("PASS" if value <= limit else "FAIL")
    edge_mem = next((m for m in memory if m["target"] == "edge"), None)
    kib = edge_mem["fits"]["rss_kib"]["slope"] if edge_mem and edge_mem["fits"]["rss_kib"] else None
    pd = edge_mem["fits"]["private_dirty_kib"]["slope"] if edge_mem and edge_mem["fits"]["private_dirty_kib"] else None
    lines.append(f"  {verdict(kib, TARGET_KIB_PER_CONN):<4}  user space per idle connection ≤ {TARGET_KIB_PER_CONN:g} KiB: "
                 f"RSS slope {fmt(kib)} KiB (Private_Dirty {fmt(pd)} KiB)")
    at = next((e for e in bsummary if e["step"] == TARGET_BCAST_AT), None)
    p99 = at["edge"]["p99_ms"]["median"] if at and at["edge"]["p99_ms"] else None
    lines.append(f"  {verdict(p99, TARGET_BCAST_P99_MS):<4}  broadcast p99 ≤ {TARGET_BCAST_P99_MS:g} ms at "
                 f"{TARGET_BCAST_AT:,} subscribers: "
                 + (f"{p99:.2f} ms" if p99 is not None else f"not measured (no {TARGET_BCAST_AT:,} step)"))
    fixed = esummary.get("edge_fixed", {}).get("p50_ms") if esummary else None
    p50 = fixed["median"] if fixed else None
    lines.append(f"  {verdict(p50, TARGET_ECHO_P50_MS):<4}  echo round trip p50 ≤ {TARGET_ECHO_P50_MS:g} ms "
                 f"(fixed rate): {fmt(p50, '{:.3f}')} ms")
    for target, v in (vs or {}).get("targets", {}).items():
        if target == "edge":
            continue
        name, mr, br = LABELS[target], v["memory_ratio"], v["broadcast_ratio"]
        lines.append(f"  {verdict(mr['rss_kib'], TARGET_VS_RAW):<4}  {name} idle memory ≤ {TARGET_VS_RAW:.2f}x raw: "
                     f"RSS slope {fmt(mr['rss_kib'], '{:.3f}x')} "
                     f"(Private_Dirty {fmt(mr['private_dirty_kib'], '{:.3f}x')})")
        worst = max((x for x in (br["p50_ms"], br["p99_ms"]) if x is not None), default=None)
        if not vs["step"]:
            lines.append(f"  n/a   {name} broadcast p50 and p99 ≤ {TARGET_VS_RAW:.2f}x raw: not measured")
            continue
        where = f"at {vs['step']:,} subscribers" + ("" if vs["step"] == TARGET_BCAST_AT
                                                    else f" (no {TARGET_BCAST_AT:,} step)")
        lines.append(f"  {verdict(worst, TARGET_VS_RAW):<4}  {name} broadcast p50 and p99 ≤ {TARGET_VS_RAW:.2f}x raw "
                     f"{where}: p50 {fmt(br['p50_ms'], '{:.3f}x')}, p99 {fmt(br['p99_ms'], '{:.3f}x')}")
    return lines


# --------------------------------------------------------------------------
# Main


PHASES = ["memory", "broadcast", "echo"]


def counts(text):
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated counts, got {text!r}")
    if not values or any(v < 0 or v > MAX_CONNECTIONS for v in values) or values != sorted(values):
        raise argparse.ArgumentTypeError(f"counts must ascend within 0…{MAX_CONNECTIONS}: {text!r}")
    return values


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="scripts/bench/ws",
        description="WebSocket bench: the edge's socket route (with redis-server and portcullis-rooms' "
                    "echo app) against portcullis-bench floor-server: idle memory per connection, "
                    "broadcast latency to N subscribers, echo round trip and maximum rate.",
        epilog="Binaries: $PORTCULLIS_BIN_DIR (portcullis, portcullis-rooms, portcullis-bench); the bash "
               "wrapper builds them when it is unset. Exit codes: 0 ok, 1 error, 2 a target failed, "
               "130 interrupted.")
    p.add_argument("--quick", action="store_true",
                   help="smoke run in about a minute: small N, 1 round, short echo runs")
    p.add_argument("--only", default=",".join(PHASES), help=f"phases, comma-separated (default {','.join(PHASES)})")
    p.add_argument("--protocols", default=",".join(PROTOCOLS),
                   help="socket protocols measured in the memory and broadcast phases, each on its own edge, "
                        f"comma-separated (default {','.join(PROTOCOLS)}); raw is always included (the reference "
                        "the others' ratios are taken to); echo is raw only")
    p.add_argument("--bcast-hold", choices=["one", "all"], default=None,
                   help="broadcast phase: open an edge series' subscribers only for its own runs (one; default "
                        "with several protocols) or hold every series at each N (all; default with raw only, "
                        "as before)")
    p.add_argument("--cable-hold", choices=["subscribed", "welcomed"], default="subscribed",
                   help="what an idle ActionCable connection holds in the memory phase: one confirmed "
                        "ChatChannel subscription (default; Rails' client connects for a subscription) or "
                        "just the welcome")
    p.add_argument("--mem-steps", type=counts, default=None,
                   help="held connections to sample memory at (default 0,1000,5000,10000,19000)")
    p.add_argument("--fit-from", type=int, default=None,
                   help="fit the memory slope over steps ≥ this (default 1000; quick: 250)")
    p.add_argument("--bcast-steps", type=counts, default=None, help="subscriber counts (default 1000,10000,19000)")
    p.add_argument("--broadcasts", type=int, default=None, help="measured broadcasts per run (default 20)")
    p.add_argument("--warmup-broadcasts", type=int, default=2, help="unmeasured broadcasts per run (default 2)")
    p.add_argument("--gap-ms", type=int, default=100, help="pause between broadcasts, ms (default 100)")
    p.add_argument("--rounds", type=int, default=None,
                   help="interleaved rounds per broadcast step and echo mode (default 2; quick: 1)")
    p.add_argument("--echo-connections", type=int, default=100, help="fixed-rate echo connections (default 100)")
    p.add_argument("--echo-rate", type=float, default=1000.0, help="fixed-rate echo msg/s (default 1000)")
    p.add_argument("--echo-duration", type=float, default=None, help="echo seconds measured (default 10)")
    p.add_argument("--echo-warmup", type=float, default=None, help="echo warm-up seconds (default 2)")
    p.add_argument("--echo-padding", type=int, default=0,
                   help="bytes of word-like padding in each echo message (default 0: about 60-byte messages)")
    p.add_argument("--deflate", action="store_true",
                   help="edges' routes with `compression: on`; their clients offer permessage-deflate")
    p.add_argument("--closed-connections", type=int, default=100, help="closed-loop connections (default 100)")
    p.add_argument("--closed-inflight", type=int, default=1, help="closed-loop messages in flight per connection")
    p.add_argument("--xadd-requests", type=int, default=None, help="redis-benchmark -n (default 100000)")
    p.add_argument("--ramp", type=float, default=None, help="new connections per second (default 500; quick: 1000)")
    p.add_argument("--source-addresses", default="127.0.0.2-127.0.0.40",
                   help="client source addresses (default 127.0.0.2-127.0.0.40)")
    p.add_argument("--settle", type=float, default=None, help="seconds before each memory sample (default 2)")
    p.add_argument("--pause", type=float, default=0.5, help="seconds of rest before each run (default 0.5)")
    p.add_argument("--json", metavar="FILE", help="also write every figure as JSON")
    p.add_argument("--no-pin", action="store_true", help="do not pin with taskset (not comparable)")
    p.add_argument("--start-timeout", type=float, default=30.0, help="seconds for each process to get ready")
    p.add_argument("--keep-tmp", action="store_true", help="keep the temp dir with configs and logs")
    args = p.parse_args(argv)
    quick = args.quick
    defaults = {
        "mem_steps": [0, 250, 1000, 2000] if quick else [0, 1000, 5000, 10000, 19000],
        "fit_from": 250 if quick else 1000,
        "bcast_steps": [250, 2000] if quick else [1000, 10000, 19000],
        "broadcasts": 10 if quick else 20,
        "rounds": 1 if quick else 2,
        "echo_duration": 2.0 if quick else 10.0,
        "echo_warmup": 0.5 if quick else 2.0,
        "xadd_requests": 20000 if quick else 100000,
        "ramp": 1000.0 if quick else 500.0,
        "settle": 1.0 if quick else 2.0,
    }
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.phases = [s.strip() for s in args.only.split(",") if s.strip()]
    if not args.phases or any(s not in PHASES for s in args.phases):
        p.error(f"--only takes names from {','.join(PHASES)}")
    wanted = {s.strip() for s in args.protocols.split(",") if s.strip()}
    if any(s not in PROTOCOLS for s in wanted):
        p.error(f"--protocols takes names from {','.join(PROTOCOLS)}")
    args.protocols = [name for name in PROTOCOLS if name in wanted or name == "raw"]
    if args.bcast_hold is None:
        args.bcast_hold = "one" if len(args.protocols) > 1 else "all"
    for name in ("broadcasts", "rounds", "echo_connections", "closed_connections", "closed_inflight",
                 "xadd_requests"):
        if getattr(args, name) <= 0:
            p.error(f"--{name.replace('_', '-')} must be positive")
    if not (0 < args.ramp <= 5000 and 0 < args.echo_duration <= 600 and 0 <= args.echo_warmup <= 60
            and args.rounds <= 20 and args.broadcasts <= 1000):
        p.error("keep --ramp within 5000/s, --echo-duration within 600 s, --rounds within 20, "
                "--broadcasts within 1000")
    bin_dir = os.environ.get("PORTCULLIS_BIN_DIR")
    args.bin_dir = Path(bin_dir) if bin_dir else REPO / ".build" / "release"
    return args


def versions(bench):
    found = {}
    for name in ("portcullis", "portcullis-rooms"):
        code, out = command_output([bench.binary(name), "--version"])
        if code != 0:
            code, out = command_output([bench.binary(name), "version"])
        found[name] = first_line(out) if code == 0 else "?"
    found["redis-server"] = first_line(command_output(["redis-server", "--version"])[1])
    found["redis-benchmark"] = first_line(command_output(["redis-benchmark", "--version"])[1])
    return found


def raise_fd_limit():
    """Children inherit this process's soft RLIMIT_NOFILE: raise it to the hard limit."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def run_bench(args, tmp, procs):
    started = datetime.datetime.now(datetime.timezone.utc)
    missing = [b for b in BINARIES if not (args.bin_dir / b).is_file()]
    if missing:
        raise BenchError(f"missing in {args.bin_dir}: {', '.join(missing)} (run scripts/bench/ws, which builds "
                         f"them, or set PORTCULLIS_BIN_DIR)")
    ensure_tools(TOOLS)
    fd_limit = raise_fd_limit()
    machine = machine_info()
    if not args.no_pin and len(os.sched_getaffinity(0) & {SUT_CPU, LOAD_CPU}) < 2:
        log(f"warning: CPUs {LOAD_CPU} and {SUT_CPU} are not both available; not pinning")
        args.no_pin = True
    procs.pin = not args.no_pin
    if procs.pin:
        os.sched_setaffinity(0, {LOAD_CPU})

    bench = Bench(args, tmp, procs)
    bench.start_all()
    vers = versions(bench)
    log(f"Portcullis WebSocket bench  {started:%Y-%m-%d %H:%M:%SZ}  commit {git_commit(REPO) or '-'}"
        + ("  (--quick: smoke figures only)" if args.quick else ""))
    log(f"machine : nproc {machine['nproc']}, {machine['cpu_model']}, "
        f"{(machine['mem_total_kib'] or 0) / 1048576:.0f} GiB, kernel {machine['kernel']}, "
        f"loadavg {' '.join(machine['loadavg'])}, fd limit {fd_limit}")
    log("versions: " + " | ".join(f"{k}: {v}" for k, v in vers.items()))
    others = [p for p in args.protocols if p != "raw"]
    log(f"setup   : edge (1 event loop) and floor-server on CPU {SUT_CPU}; redis-server, portcullis-rooms "
        f"(echo{', cable-chat' if 'actioncable' in others else ''}), portcullis-bench clients on CPU {LOAD_CPU}; "
        f"{'pinned' if procs.pin else 'NOT pinned'}; ramp {args.ramp:g}/s from {args.source_addresses}")
    if others:
        log(f"protocols: raw (Portcullis) and {', '.join(LABELS[PROTOCOLS[p]['target']] for p in others)}, one edge "
            f"process each (1 event loop, CPU {SUT_CPU}), over WebSocket; ActionCable idle connections "
            f"{'hold one subscription' if args.cable_hold == 'subscribed' else 'are only welcomed'}")
    log(f"binaries: {args.bin_dir}")
    log()

    memory, bruns, eruns, xadd = [], [], [], []
    if "memory" in args.phases:
        log(f"1. idle memory at {', '.join(f'{n:,}' for n in args.mem_steps)} connections "
            f"(settle {args.settle:g}s; fit over ≥ {args.fit_from:,})")
        for target in bench.edges + ["floor"]:
            memory.append(bench.memory(target))
        log()
    if "broadcast" in args.phases:
        log(f"2. broadcast to one room: {args.broadcasts} measured (+{args.warmup_broadcasts} warm-up) per run, "
            f"{args.gap_ms} ms apart, {args.rounds} interleaved round(s) per N"
            + ("; each edge series' subscribers open only for its own runs (--bcast-hold one)"
               if args.bcast_hold == "one" else ""))
        bruns = bench.broadcast()
        log()
    if "echo" in args.phases:
        log(f"3. echo round trip: fixed {args.echo_rate:g} msg/s over {args.echo_connections} connections, and "
            f"closed loop {args.closed_connections}x{args.closed_inflight}; {args.echo_duration:g}s "
            f"(+{args.echo_warmup:g}s warm-up) per run")
        eruns = bench.echo()
        xadd = bench.redis_benchmark()
        log()

    targets = bench.edges + ["floor"]
    bsummary = broadcast_summary(bruns, args.bcast_steps, targets) if bruns else []
    vs = vs_raw_summary(memory, bsummary, targets) if others and (memory or bsummary) else None
    esummary = echo_summary(eruns, xadd) if eruns else {}
    log("Results: median (min–max) over rounds. CPU: the SUT's utime+stime from /proc/<pid>/stat "
        "(broadcast: per delivered frame, probes and warm-ups included; echo: per answered message).")
    if memory:
        log("\nIdle memory per connection (least-squares slope; Slab counts both loopback ends, client "
            "and server socket):")
        log(memory_table(memory))
    if bsummary:
        log("\nBroadcast (receive − publish; last subscriber = per-broadcast time to the last delivery; "
            "ratio = Portcullis / floor):")
        log(broadcast_table(bsummary, targets))
    if esummary:
        log("\nEcho round trip (Portcullis: client → edge → Redis → rooms echo app → Redis → edge → client):")
        log(echo_table(esummary, xadd, args))
        r = esummary["ratios"]
        log(f"ratios: edge closed-loop msg/s / XADD req/s (-c 50) {fmt(r['edge_closed_msgs_per_xadd50_rps'], '{:.3f}')}; "
            f"edge fixed-rate p50 / XADD p50 (-c 1) {fmt(r['edge_fixed_p50_per_xadd1_p50'], '{:.1f}')}x; "
            f"edge/floor p50 {fmt(r['edge_vs_floor_fixed_p50'], '{:.1f}')}x; "
            f"edge/floor max msg/s {fmt(r['edge_vs_floor_closed_msgs'], '{:.3f}')}")
    if vs:
        log(f"\nProtocols against raw (the same run; target ≤ {TARGET_VS_RAW:.2f}x raw on memory per idle "
            "connection and broadcast p50/p99):")
        log(vs_raw_table(vs))
    log("\nTargets:")
    for line in target_lines(memory, bsummary, esummary, vs):
        log(line)
    noisy = [r for r in bruns + eruns if (r.get("sut_cpu_others_pct") or 0) > NOISY_PCT]
    if noisy:
        log(f"\nWARNING: other processes took up to {max(r['sut_cpu_others_pct'] for r in noisy):.0f}% of CPU "
            f"{SUT_CPU} during {len(noisy)} run(s) (marked NOISY); rerun when the machine is quiet.")
    if args.quick:
        log("\n(--quick: small N and short runs; for sizing and smoke checks, not for the record)")

    if args.json:
        doc = {"bench": "ws", "started": started.isoformat(), "commit": git_commit(REPO), "machine": machine,
               "versions": vers, "settings": {k: (str(v) if isinstance(v, Path) else v)
                                              for k, v in vars(args).items() if k != "json"},
               "pinned": procs.pin, "sut_cpu": SUT_CPU, "load_cpu": LOAD_CPU,
               "protocols": args.protocols, "memory": memory, "broadcast_runs": bruns, "broadcast": bsummary,
               "vs_raw": vs,
               "echo_runs": eruns, "echo": esummary, "redis_benchmark": xadd}
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n")
        log(f"\nwrote {args.json}")
    return 0


def main(argv):
    return run_main(argv, parse_args, run_bench, tmp_prefix="portcullis-ws-bench-",
                    failure_hint="the log tail above names the process; --keep-tmp keeps every log",
                    kept_what="configs and logs")


if __name__ == "__main__":
    import sys
    sys.exit(main(sys.argv[1:]))
