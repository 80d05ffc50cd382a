#!/usr/bin/env python3
"""WebSocket benchmark: the edge's socket route against a reference floor, in one run.

System under test (SUT, CPU 1): `portcullis serve` with one event loop and a socket route
(`/ws/echo` -> app `echo`, raw protocol, json mode). Behind it, on CPU 0: its own
`redis-server` (own port and data dir) and `portcullis-rooms serve` running the echo app.
The reference (CPU 1 too): `portcullis-bench floor-server`, a minimal NIO WebSocket server
that fans one pre-encoded frame out to every connection and echoes text. The load is
`portcullis-bench` (NIO, CPU 0): `hold`, `broadcast` and `echo`.

Measured (docs/measuring.md of the team docs):
  1. idle memory: VmRSS and Private_Dirty of the SUT and /proc/meminfo Slab at each step of
     held connections; slope per connection by least squares (user space vs kernel);
  2. broadcast to N subscribers of one room, published by XADD to `<prefix>:out:bcast`
     (floor: a `fire` message): p50/p99/max of receive - send and time to the last
     subscriber, edge and floor interleaved (A B, B A) at each N, with ratios;
  3. echo round trip at a fixed rate (p50/p99) and closed loop (max sustained msg/s),
     beside `redis-benchmark XADD` on the same Redis.
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
LABELS = {"edge": "Portcullis", "floor": "floor"}
NOISY_PCT = 5.0
MAX_CONNECTIONS = 19_500  # one client process, 20,000 fds

# Targets the summary checks (issue 4).
TARGET_KIB_PER_CONN = 12.0
TARGET_BCAST_P99_MS = 50.0
TARGET_BCAST_AT = 10_000
TARGET_ECHO_P50_MS = 1.0


# --------------------------------------------------------------------------
# Configs


def edge_yaml(port, admin_port, redis_port):
    """The socket route under test. `rate_limit: off`: the default 100 msg/s per connection
    would cap the closed-loop echo (and answer `rate_limited`), not measure the edge."""
    return f"""version: 1
edge: {{id: bench-1, event_loops: 1, access_log: false}}
listeners: [{{name: ws, address: 127.0.0.1:{port}}}]
admin: {{address: 127.0.0.1:{admin_port}}}
redis: {{url: redis://127.0.0.1:{redis_port}}}
bus: {{prefix: {PREFIX}}}
routes:
  - name: echo
    match: {{path: {WS_PATH}}}
    socket: {{app: {APP}, protocol: raw, mode: json, rate_limit: off}}
"""


def rooms_yaml(redis_port):
    return f"""redis:
  url: redis://127.0.0.1:{redis_port}
bus:
  prefix: {PREFIX}
apps:
  - {APP}
"""


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


def ws_echo_once(port, path, payload, timeout=3.0):
    """Handshake, send one masked text frame, return (status, first text message or None)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        key = base64.b64encode(os.urandom(16)).decode()
        s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                   f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                return None, None
            buf += chunk
        head, buf = buf.split(b"\r\n\r\n", 1)
        status = int(head.split(b" ", 2)[1])
        if status != 101:
            return status, None
        mask = os.urandom(4)
        s.sendall(bytes([0x81, 0x80 | len(payload)]) + mask
                  + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

        def need(n):
            nonlocal buf
            while len(buf) < n:
                chunk = s.recv(4096)
                if not chunk:
                    raise OSError("closed")
                buf += chunk
            out, buf = buf[:n], buf[n:]
            return out

        while True:
            b0, b1 = need(2)
            length = b1 & 0x7F
            if length == 126:
                length = int.from_bytes(need(2), "big")
            elif length == 127:
                length = int.from_bytes(need(8), "big")
            data = need(length)
            if b0 & 0x0F == 0x1:
                s.sendall(bytes([0x88, 0x82]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(b"\x03\xe8")))
                return status, data
            if b0 & 0x0F == 0x8:
                return status, None


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
        self.roots = {}   # name -> Popen: redis, rooms, edge, floor
        self.logs = {}

    def binary(self, name):
        return str(self.bin / name)

    # ---- processes

    def start_all(self):
        names = ["redis", "edge", "admin", "floor"]
        self.ports = dict(zip(names, free_ports(len(names))))
        self.start_redis()
        self.start_rooms()
        self.start_edge()
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
        cfg.write_text(rooms_yaml(self.ports["redis"]))
        self.logs["rooms"] = self.tmp / "rooms.log"
        self.roots["rooms"] = self.procs.start(
            "rooms", [self.binary("portcullis-rooms"), "serve", "--config", str(cfg)], LOAD_CPU, self.logs["rooms"])

    def start_edge(self):
        cfg = self.tmp / "edge.yaml"
        cfg.write_text(edge_yaml(self.ports["edge"], self.ports["admin"], self.ports["redis"]))
        code, out = command_output([self.binary("portcullis"), "check", "--config", str(cfg)])
        if code != 0:
            raise TargetFailed("edge", f"`portcullis check` refuses the socket route config (exit {code}); "
                                       f"the edge's socket routes may not be in this build:\n{out}")
        self.logs["edge"] = self.tmp / "edge.log"
        self.roots["edge"] = self.procs.start(
            "edge", [self.binary("portcullis"), "serve", "--config", str(cfg)], SUT_CPU, self.logs["edge"])
        self.preflight("edge")

    def start_floor(self):
        self.logs["floor"] = self.tmp / "floor.log"
        self.roots["floor"] = self.procs.start(
            "floor", [self.binary("portcullis-bench"), "floor-server", "--port", str(self.ports["floor"])],
            SUT_CPU, self.logs["floor"])
        self.preflight("floor")

    def preflight(self, target):
        """A python client gets its message echoed: the whole path works (for the edge:
        edge -> Redis -> rooms echo app -> Redis -> edge)."""
        message = b'{"event":"echo","data":{"t":1}}'

        def check():
            status, text = ws_echo_once(self.ports[target], WS_PATH, message)
            return text is not None and b'"t":1' in text, f"HTTP {status}, answer {text!r}"
        wait_until(check, self.roots[target], target, self.logs[target], self.args.start_timeout,
                   "echoing a message over the socket route")

    def check_alive(self):
        for name, proc in self.roots.items():
            if proc.poll() is not None:
                raise TargetFailed(name, f"{name} (pid {proc.pid}) exited with code {proc.returncode}; "
                                         f"last log lines ({self.logs[name]}):\n{tail(self.logs[name])}")

    def url(self, target):
        return f"ws://127.0.0.1:{self.ports[target]}{WS_PATH}"

    def client(self, name, argv):
        return Client(self.procs, name, [self.binary("portcullis-bench")] + argv, LOAD_CPU,
                      self.tmp / f"{name}.log")

    def client_common(self, target):
        return ["--url", self.url(target), "--ramp", f"{self.args.ramp}/s",
                "--source-addresses", self.args.source_addresses]

    # ---- CPU windows

    def cpu_begin(self):
        return {"t": time.monotonic(), "own": own_cpu_seconds(), "sut": cpu_jiffies(SUT_CPU),
                "procs": {n: cpu_sample(p.pid) for n, p in self.roots.items()}}

    def cpu_end(self, begin):
        end = self.cpu_begin()
        cpu = {n: cpu_seconds_between(begin["procs"][n], end["procs"][n]) for n in self.roots}
        ours_on_sut = cpu["edge"] + cpu["floor"]
        share = cpu_share(begin["sut"], end["sut"], ours_on_sut) if self.procs.pin else None
        return {"seconds": end["t"] - begin["t"], "cpu_s": cpu,
                "sut_cpu_others_pct": share["others_pct"] if share else None}

    # ---- 1. memory

    def memory(self, target):
        pid = self.roots[target].pid
        hold = self.client(f"hold-{target}", ["hold", "--connections", "0"] + self.client_common(target))
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
                log(f"  {LABELS[target]:<10} {point['connections']:>6,} conns  RSS {point['rss_kib'] / 1024:8.1f} MiB"
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
                  "--warmup-broadcasts", str(args.warmup_broadcasts), "--gap-ms", str(args.gap_ms),
                  "--room", ROOM]
        clients = {
            "edge": self.client("bcast-edge", common + self.client_common("edge") + [
                "--redis-url", f"redis://127.0.0.1:{self.ports['redis']}", "--prefix", PREFIX, "--app", APP]),
            "floor": self.client("bcast-floor", common + self.client_common("floor") + ["--floor"]),
        }
        runs = []
        try:
            for client in clients.values():
                client.wait_for({"ready"}, 30)
            for count in args.bcast_steps:
                for target, client in clients.items():
                    log(f"  ramping {LABELS[target]} subscribers to {count:,}")
                    client.ramp(count, args.ramp)
                for r in range(args.rounds):
                    order = ["edge", "floor"] if r % 2 == 0 else ["floor", "edge"]
                    for target in order:
                        runs.append(self.broadcast_run(clients[target], target, count, r + 1))
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
        run = dict(result, target=target, step=count, round=round_no, window=window,
                   sut_cpu_s=cpu, sut_cpu_others_pct=window["sut_cpu_others_pct"],
                   sut_cpu_us_per_delivery=cpu / (sent * result["connections"]) * 1e6
                   if result["connections"] else None)
        log(f"  [round {round_no}] {LABELS[target]:<10} N={result['connections']:>6,}  "
            f"p50 {result['latency']['p50_us'] / 1000:7.2f} ms  p99 {result['latency']['p99_us'] / 1000:7.2f} ms  "
            f"max {result['latency']['max_us'] / 1000:7.2f} ms  last {result['last_subscriber']['p50_us'] / 1000:7.2f} ms"
            f"  missing {result['missing']}  CPU {fmt(run['sut_cpu_us_per_delivery'], '{:.2f}')} µs/delivery"
            f"  client CPU {result['client_cpu_s']:.2f} s"
            + ("" if result["all_joined"] else "  NOT ALL JOINED")
            + ("  NOISY" if (run["sut_cpu_others_pct"] or 0) > NOISY_PCT else ""))
        return run

    # ---- 3. echo

    def echo_run(self, target, mode, round_no):
        args = self.args
        argv = [self.binary("portcullis-bench"), "echo", "--label", target] + self.client_common(target)
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


def broadcast_summary(runs, steps):
    out = []
    for step in steps:
        entry = {"step": step}
        for target in ("edge", "floor"):
            mine = [r for r in runs if r["step"] == step and r["target"] == target]
            entry[target] = figures(mine, dict(
                LATENCY_FIGURES, connections=("connections", 1), last_ms=("last_subscriber.p50_us", 1e-3),
                cpu_us_per_delivery=("sut_cpu_us_per_delivery", 1), client_cpu_s=("client_cpu_s", 1)))
            entry[target]["missing"] = sum(r["missing"] for r in mine)
        med = lambda t, k: entry[t][k]["median"] if entry[t][k] else None
        entry["ratios"] = {k: ratio(med("edge", k), med("floor", k))
                           for k in ("p50_ms", "p99_ms", "last_ms", "cpu_us_per_delivery")}
        out.append(entry)
    return out


def broadcast_table(summary):
    rows = [["N", "series", "p50 ms", "p99 ms", "max ms", "last subscriber ms", "missing", "CPU µs/delivery",
             "client CPU s"]]
    for e in summary:
        for target in ("edge", "floor"):
            s = e[target]
            rows.append([f"{e['step']:,}", LABELS[target], fmt_spread(s["p50_ms"]), fmt_spread(s["p99_ms"]),
                         fmt_spread(s["max_ms"]), fmt_spread(s["last_ms"]), str(s["missing"]),
                         fmt_spread(s["cpu_us_per_delivery"]), fmt_spread(s["client_cpu_s"])])
        r = e["ratios"]
        rows.append(["", "ratio", fmt(r["p50_ms"], "{:.2f}x"), fmt(r["p99_ms"], "{:.2f}x"), "",
                     fmt(r["last_ms"], "{:.2f}x"), "", fmt(r["cpu_us_per_delivery"], "{:.2f}x"), ""])
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


def target_lines(memory, bsummary, esummary):
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
    log(f"setup   : edge (1 event loop) and floor-server on CPU {SUT_CPU}; redis-server, portcullis-rooms "
        f"(echo), portcullis-bench clients on CPU {LOAD_CPU}; {'pinned' if procs.pin else 'NOT pinned'}; "
        f"ramp {args.ramp:g}/s from {args.source_addresses}")
    log(f"binaries: {args.bin_dir}")
    log()

    memory, bruns, eruns, xadd = [], [], [], []
    if "memory" in args.phases:
        log(f"1. idle memory at {', '.join(f'{n:,}' for n in args.mem_steps)} connections "
            f"(settle {args.settle:g}s; fit over ≥ {args.fit_from:,})")
        for target in ("edge", "floor"):
            memory.append(bench.memory(target))
        log()
    if "broadcast" in args.phases:
        log(f"2. broadcast to one room: {args.broadcasts} measured (+{args.warmup_broadcasts} warm-up) per run, "
            f"{args.gap_ms} ms apart, {args.rounds} interleaved round(s) per N")
        bruns = bench.broadcast()
        log()
    if "echo" in args.phases:
        log(f"3. echo round trip: fixed {args.echo_rate:g} msg/s over {args.echo_connections} connections, and "
            f"closed loop {args.closed_connections}x{args.closed_inflight}; {args.echo_duration:g}s "
            f"(+{args.echo_warmup:g}s warm-up) per run")
        eruns = bench.echo()
        xadd = bench.redis_benchmark()
        log()

    bsummary = broadcast_summary(bruns, args.bcast_steps) if bruns else []
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
        log(broadcast_table(bsummary))
    if esummary:
        log("\nEcho round trip (Portcullis: client → edge → Redis → rooms echo app → Redis → edge → client):")
        log(echo_table(esummary, xadd, args))
        r = esummary["ratios"]
        log(f"ratios: edge closed-loop msg/s / XADD req/s (-c 50) {fmt(r['edge_closed_msgs_per_xadd50_rps'], '{:.3f}')}; "
            f"edge fixed-rate p50 / XADD p50 (-c 1) {fmt(r['edge_fixed_p50_per_xadd1_p50'], '{:.1f}')}x; "
            f"edge/floor p50 {fmt(r['edge_vs_floor_fixed_p50'], '{:.1f}')}x; "
            f"edge/floor max msg/s {fmt(r['edge_vs_floor_closed_msgs'], '{:.3f}')}")
    log("\nTargets:")
    for line in target_lines(memory, bsummary, esummary):
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
               "memory": memory, "broadcast_runs": bruns, "broadcast": bsummary,
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
