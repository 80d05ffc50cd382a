#!/usr/bin/env python3
"""HTTP reverse-proxy benchmark: direct vs Portcullis vs nginx vs HAProxy.

One backend (an nginx answering `return 200 "hello world\\n"`), one machine, one
run. wrk measures it directly and through each proxy, in interleaved rounds
(A B C D, D C B A, ...). Rules followed (docs/measuring.md): proxies (the
systems under test, SUT) are pinned to CPU 1 with one worker/thread/event loop
each; backend and wrk are pinned to CPU 0; loopback only; every process is
started, watched and stopped by this script, by PID.

Per run it records requests/s, p50/p90/p99/p99.9/max latency, errors, the
SUT's CPU time (utime+stime of all its processes from /proc/<pid>/stat),
VmRSS/Private_Dirty, kernel Slab, and how many connections the backend
accepted (from nginx stub_status: shows whether the proxy reuses upstream
connections). Only python3's standard library is used.
"""

import argparse
import datetime
import http.client
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchkit import (
    CLK_TCK, IRQ_TIME_IN_TASKS, BenchError, TargetFailed, command_output, cpu_jiffies, cpu_sample,
    cpu_seconds_between, cpu_share, own_cpu_seconds, ensure_tools, first_line, fmt_spread, format_table, free_ports,
    git_commit, http_get, log, machine_info,
    memory_kib, slab_kib, spread, tail, run_main)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
WRK_LUA = HERE / "wrk_report.lua"
DEFAULT_PORTCULLIS_BIN = REPO / ".build" / "release" / "portcullis"

TARGETS = ["direct", "portcullis", "nginx", "haproxy"]
LABELS = {"direct": "direct", "portcullis": "Portcullis", "nginx": "nginx", "haproxy": "HAProxy"}
SUT_CPU = 1   # systems under test
LOAD_CPU = 0  # wrk, backend and this script
BACKEND_BODY = b"hello world\n"
BODY_4K = b"x" * 4095 + b"\n"
# What one run sends (--scenario): the path, whether each request closes its connection
# (a new TCP connection, or TLS handshake, per request) and whether the proxies listen on TLS.
SCENARIOS = {
    "keepalive": {"path": "/", "close": False, "tls": False, "body": BACKEND_BODY,
                  "title": "keep-alive, 12-byte response"},
    "body4k": {"path": "/4k", "close": False, "tls": False, "body": BODY_4K,
               "title": "keep-alive, 4 KiB response"},
    "close": {"path": "/", "close": True, "tls": False, "body": BACKEND_BODY,
              "title": "a new connection per request"},
    "tls": {"path": "/", "close": False, "tls": True, "body": BACKEND_BODY,
            "title": "TLS keep-alive (P-256 certificate)"},
    "tls-handshake": {"path": "/", "close": True, "tls": True, "body": BACKEND_BODY,
                      "title": "a full TLS handshake per request (P-256, no resumption)"},
}
STATUS_PATH = "/__bench_stub_status"
TOOLS = {"nginx": "nginx", "wrk": "wrk", "taskset": "util-linux"}  # tool -> Debian package


# --------------------------------------------------------------------------
# Configs (all generated into the temp dir)


def nginx_conf(prefix, server_block, http_extra="", workers=1):
    """A self-contained nginx.conf: one worker, every path inside prefix, no access log."""
    temps = "\n".join(f"    {kind}_temp_path {prefix}/{kind}_temp;"
                      for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
{temps}
    # Do not close client connections every 1000 requests (the 1.22 default).
    keepalive_requests 1000000;
    keepalive_timeout 75s;
{http_extra}
{server_block}
}}
"""


def backend_nginx_conf(prefix, port):
    server = f"""    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location = {STATUS_PATH} {{ stub_status; }}
        location = /4k {{
            default_type text/plain;
            alias {prefix}/4k.txt;
            open_file_cache max=16;
        }}
        location / {{
            default_type text/plain;
            return 200 "hello world\\n";
        }}
    }}"""
    return nginx_conf(prefix, server)


def proxy_nginx_conf(prefix, port, backend_port, tls=None, workers=1):
    """tls: (certificate, key) files to listen on TLS with."""
    listen = f"listen 127.0.0.1:{port} backlog=4096"
    if tls:
        listen += f" ssl;\n        ssl_certificate {tls[0]};\n        ssl_certificate_key {tls[1]}"
    upstream = f"""    upstream backend {{
        server 127.0.0.1:{backend_port};
        keepalive 64;
        keepalive_requests 1000000;
        keepalive_timeout 60s;
    }}"""
    server = f"""    server {{
        {listen};
        location / {{
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}"""
    return nginx_conf(prefix, server, upstream, workers)


# One thread, the same limits and timeouts for every HAProxy the benches start.
HAPROXY_PREAMBLE = """global
    nbthread 1
    maxconn 4096

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-request 10s
    timeout http-keep-alive 30s

"""


def haproxy_cfg(port, backend_port, tls_pem=None, workers=1):
    """tls_pem: certificate and key in one file, to listen on TLS with."""
    ssl = f" ssl crt {tls_pem}" if tls_pem else ""
    return HAPROXY_PREAMBLE.replace("nbthread 1", f"nbthread {workers}") + f"""frontend bench
    bind 127.0.0.1:{port}{ssl}
    default_backend backend

backend backend
    http-reuse always
    server b1 127.0.0.1:{backend_port}
"""


def portcullis_yaml(port, admin_port, backend_port, tls=None, workers=1):
    """tls: (certificate, key) files to listen on TLS with."""
    listener_tls = f", tls: {{ certificate: {tls[0]}, private_key: {tls[1]} }}" if tls else ""
    return f"""version: 1
edge: {{ id: bench, drain_timeout: 1s, event_loops: {workers}, access_log: false }}
listeners:
  - {{ name: bench, address: "127.0.0.1:{port}"{listener_tls} }}
admin: {{ address: "127.0.0.1:{admin_port}" }}
upstreams:
  backend: {{ servers: ["127.0.0.1:{backend_port}"], max_idle_per_server: 128 }}
routes:
  - {{ name: all, match: {{ path: / }}, proxy: {{ upstream: backend }} }}
"""


# --------------------------------------------------------------------------
# Starting and checking


def wait_ready(target, port, proc, log_path, timeout, tls=False):
    """Poll until GET / on port returns the backend's 200 hello world; fail clearly otherwise."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise TargetFailed(target, f"{LABELS[target]} exited with code {proc.returncode} "
                                       f"before answering on 127.0.0.1:{port}; last log lines "
                                       f"({log_path}):\n{tail(log_path)}")
        try:
            status, body = http_get(port, tls=tls)
            if status == 200 and body == BACKEND_BODY:
                return
            last = f"HTTP {status} {body[:80]!r}"
        except (OSError, http.client.HTTPException) as exc:
            last = f"{type(exc).__name__}: {exc}"
        time.sleep(0.1)
    raise TargetFailed(target, f"{LABELS[target]} did not answer 200 {BACKEND_BODY!r} on "
                               f"127.0.0.1:{port} within {timeout:.0f}s (last: {last}); "
                               f"last log lines ({log_path}):\n{tail(log_path)}")


def backend_accepts(port):
    """nginx stub_status 'accepts' counter of the backend, or None."""
    try:
        status, body = http_get(port, STATUS_PATH, timeout=2.0)
        return int(body.decode().splitlines()[2].split()[0]) if status == 200 else None
    except (OSError, http.client.HTTPException, ValueError, IndexError):
        return None


def portcullis_binary(args):
    """Path of the Portcullis binary, building it (release) when it is missing."""
    path = Path(os.environ.get("PORTCULLIS_BIN") or DEFAULT_PORTCULLIS_BIN)
    if path.is_file() and os.access(path, os.X_OK):
        return path
    if not shutil.which("swift"):
        raise TargetFailed("portcullis", f"{path} is missing and swift is not installed to build it")
    argv = ["swift", "build", "-c", "release", "--product", "portcullis"]
    log(f"{path} missing: running `{' '.join(argv)}` in {REPO} (up to {args.build_timeout}s)")
    try:
        res = subprocess.run(argv, cwd=REPO, stdout=sys.stderr, stderr=sys.stderr,
                             timeout=args.build_timeout)
    except subprocess.TimeoutExpired:
        raise TargetFailed("portcullis", f"swift build did not finish within {args.build_timeout}s")
    if res.returncode != 0:
        raise TargetFailed("portcullis", f"swift build failed with exit code {res.returncode}")
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise TargetFailed("portcullis", f"swift build succeeded but {path} is still missing")
    return path


def versions(targets, portcullis_bin):
    found = {
        "nginx": first_line(command_output(["nginx", "-v"])[1]).replace("nginx version: ", ""),
        "wrk": first_line(command_output(["wrk", "-v"])[1]).split(" Copyright")[0],
    }
    if "haproxy" in targets:
        found["haproxy"] = first_line(command_output(["haproxy", "-v"])[1]).split(" - ")[0]
    if portcullis_bin:
        code, out = command_output([str(portcullis_bin), "--version"])
        if code != 0:
            code, out = command_output([str(portcullis_bin), "version"])
        found["portcullis"] = first_line(out) if code == 0 else f"unknown ({portcullis_bin})"
    return found


class Bench:
    """The backend, the proxies under test and their measured runs."""

    def __init__(self, args, tmp, procs):
        self.args, self.tmp, self.procs = args, tmp, procs
        self.ports = {}
        self.roots = {}       # target -> Popen of its (master) process; none for direct
        self.logs = {}
        self.backend = None
        self.portcullis_bin = None
        self.skipped = {}     # target -> reason
        self.tls_files = None  # (certificate, key, both) in the TLS scenarios

    @property
    def sut_cpus(self):
        """CPU 1 for one worker; with more, every CPU (the box maximum, beside wrk)."""
        return SUT_CPU if self.args.workers == 1 else "0,1"

    @property
    def scenario(self):
        return SCENARIOS[self.args.scenario]

    def make_certificate(self):
        """A self-signed P-256 certificate for 127.0.0.1, and the PEM HAProxy wants (both)."""
        prefix = self.tmp / "tls"
        prefix.mkdir()
        cert, key, both = prefix / "cert.pem", prefix / "key.pem", prefix / "both.pem"
        code, out = command_output(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1"])
        if code != 0:
            raise BenchError(f"openssl could not make the test certificate:\n{out}")
        both.write_text(cert.read_text() + key.read_text())
        self.tls_files = (str(cert), str(key), str(both))

    def start_all(self, targets):
        names = ["backend", "portcullis", "portcullis_admin", "nginx", "haproxy"]
        self.ports = dict(zip(names, free_ports(len(names))))
        self.ports["direct"] = self.ports["backend"]
        self.tls_files = None
        if self.scenario["tls"]:
            self.make_certificate()
        self.start_backend()
        for target in targets:
            try:
                if target != "direct":
                    getattr(self, f"start_{target}")()
                self.check_scenario(target)
            except TargetFailed as exc:
                self.drop(exc)
        return [t for t in targets if t not in self.skipped]

    def check_scenario(self, target):
        """The scenario's request gets the scenario's body, so no run measures errors."""
        tls = self.scenario["tls"] and target != "direct"
        try:
            status, body = http_get(self.ports[target], self.scenario["path"], timeout=5.0, tls=tls)
        except (OSError, http.client.HTTPException) as exc:
            status, body = None, str(exc).encode()
        if status != 200 or body != self.scenario["body"]:
            raise TargetFailed(target, f"GET {self.scenario['path']} through {LABELS[target]} answered {status} "
                                       f"{body[:80]!r}, not the backend's {len(self.scenario['body'])} bytes")

    def drop(self, exc):
        """Give up on one target: re-raise, or with --keep-going stop it and note why."""
        if not self.args.keep_going:
            raise exc
        log(f"\nDROPPING {LABELS[exc.target]}: {exc}\n")
        self.skipped[exc.target] = str(exc)
        proc = self.roots.pop(exc.target, None)
        if proc is not None:
            self.procs.stop_one(proc)  # a stuck proxy must not keep CPU {SUT_CPU} busy

    def start_backend(self):
        prefix = self.tmp / "backend"
        prefix.mkdir()
        (prefix / "nginx.conf").write_text(backend_nginx_conf(prefix, self.ports["backend"]))
        # nginx's `return` takes no 4 KiB literal, so /4k is a file; its workers may run as
        # nobody, who must reach it through the (0700) temp dir.
        (prefix / "4k.txt").write_bytes(BODY_4K)
        for path, mode in ((self.tmp, 0o711), (prefix, 0o711), (prefix / "4k.txt", 0o644)):
            path.chmod(mode)
        log_path = prefix / "stderr.log"
        self.backend = self.procs.start(
            "backend", ["nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
                        "-e", str(prefix / "error.log"), "-g", "daemon off;"], LOAD_CPU, log_path)
        try:
            wait_ready("direct", self.ports["backend"], self.backend, prefix / "error.log",
                       self.args.start_timeout)
        except TargetFailed as exc:
            raise BenchError(f"backend: {exc}")

    def start_nginx(self):
        prefix = self.tmp / "nginx"
        prefix.mkdir()
        (prefix / "nginx.conf").write_text(proxy_nginx_conf(
            prefix, self.ports["nginx"], self.ports["backend"], self.tls_files[:2] if self.tls_files else None,
            self.args.workers))
        self.logs["nginx"] = prefix / "error.log"
        self.roots["nginx"] = self.procs.start(
            "nginx", ["nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
                      "-e", str(prefix / "error.log"), "-g", "daemon off;"], self.sut_cpus, prefix / "stderr.log")
        wait_ready("nginx", self.ports["nginx"], self.roots["nginx"], self.logs["nginx"], self.args.start_timeout,
                   tls=self.scenario["tls"])

    def start_haproxy(self):
        prefix = self.tmp / "haproxy"
        prefix.mkdir()
        cfg = prefix / "haproxy.cfg"
        cfg.write_text(haproxy_cfg(self.ports["haproxy"], self.ports["backend"],
                                   self.tls_files[2] if self.tls_files else None, self.args.workers))
        self.logs["haproxy"] = prefix / "haproxy.log"
        self.roots["haproxy"] = self.procs.start(
            "haproxy", ["haproxy", "-f", str(cfg), "-db"], self.sut_cpus, self.logs["haproxy"])
        wait_ready("haproxy", self.ports["haproxy"], self.roots["haproxy"], self.logs["haproxy"],
                   self.args.start_timeout, tls=self.scenario["tls"])

    def start_portcullis(self):
        self.portcullis_bin = self.portcullis_bin or portcullis_binary(self.args)
        prefix = self.tmp / "portcullis"
        prefix.mkdir()
        cfg = prefix / "portcullis.yaml"
        cfg.write_text(portcullis_yaml(self.ports["portcullis"], self.ports["portcullis_admin"],
                                       self.ports["backend"], self.tls_files[:2] if self.tls_files else None,
                                       self.args.workers))
        self.logs["portcullis"] = prefix / "portcullis.log"
        # Access logging is off in the generated conf (`edge.access_log: false`), like the peers.
        env = dict(os.environ)
        self.roots["portcullis"] = self.procs.start(
            "portcullis", [str(self.portcullis_bin), "serve", "--config", str(cfg)], self.sut_cpus,
            self.logs["portcullis"], env=env)
        wait_ready("portcullis", self.ports["portcullis"], self.roots["portcullis"],
                   self.logs["portcullis"], self.args.start_timeout, tls=self.scenario["tls"])

    def check_alive(self, target):
        if self.backend.poll() is not None:
            raise BenchError(f"the backend nginx exited (code {self.backend.returncode}):\n"
                             f"{tail(self.tmp / 'backend' / 'error.log')}")
        proc = self.roots.get(target)
        if proc is not None and proc.poll() is not None:
            raise TargetFailed(target, f"{LABELS[target]} (pid {proc.pid}) exited with code "
                                       f"{proc.returncode} during the run; last log lines "
                                       f"({self.logs[target]}):\n{tail(self.logs[target])}")

    def wrk(self, target, duration):
        # The backend (direct) is plain HTTP in every scenario: the reference for the rest.
        scheme = "https" if self.scenario["tls"] and target != "direct" else "http"
        url = f"{scheme}://127.0.0.1:{self.ports[target]}{self.scenario['path']}"
        argv = ["wrk", "-t", str(self.args.threads), "-c", str(self.args.connections),
                "-d", f"{duration}s", "--timeout", f"{self.args.wrk_timeout}s", "--latency",
                "-s", str(WRK_LUA)]
        if self.scenario["close"]:
            argv += ["-H", "Connection: close"]
        argv.append(url)
        code, out = self.procs.run(argv, LOAD_CPU, timeout=duration + 60)
        report = None
        for line in out.splitlines():
            if line.startswith("WRK_JSON "):
                report = json.loads(line[len("WRK_JSON "):])
        if code != 0 or report is None:
            self.check_alive(target)  # "exited with code N" says more than wrk's view
            raise TargetFailed(target, f"wrk against {LABELS[target]} failed (exit {code}):\n{out}")
        return report, out

    def measure(self, target, duration, round_no):
        """One wrk run against target, with CPU/memory/backend figures around it."""
        root = self.roots.get(target)
        cpu0 = cpu_sample(root.pid) if root else None
        bcpu0 = cpu_sample(self.backend.pid)
        accepts0 = backend_accepts(self.ports["backend"])
        slab0 = slab_kib()
        sut_cpu0, load_cpu0, own0 = cpu_jiffies(SUT_CPU), cpu_jiffies(LOAD_CPU), own_cpu_seconds()
        report, raw = self.wrk(target, duration)
        sut_cpu1, load_cpu1, own1 = cpu_jiffies(SUT_CPU), cpu_jiffies(LOAD_CPU), own_cpu_seconds()
        cpu1 = cpu_sample(root.pid) if root else None
        bcpu1 = cpu_sample(self.backend.pid)
        accepts1 = backend_accepts(self.ports["backend"])
        slab1 = slab_kib()
        self.check_alive(target)

        seconds = report["duration_us"] / 1e6
        requests = report["requests"]
        run = {
            "target": target, "round": round_no, "duration_s": seconds, "requests": requests,
            "rps": requests / seconds if seconds else 0.0,
            "p50_us": report["p50_us"], "p90_us": report["p90_us"], "p99_us": report["p99_us"],
            "p999_us": report["p999_us"], "max_us": report["lat_max_us"],
            "mean_us": report["lat_mean_us"],
            "non2xx": report["err_status"],
            "socket_errors": {k: report[f"err_{k}"] for k in ("connect", "read", "write", "timeout")},
            "slab_kib": slab1, "slab_delta_kib": slab1 - slab0 if slab0 and slab1 else None,
            # The status query itself is one accepted connection.
            "backend_conns_opened": (accepts1 - accepts0 - 1) if None not in (accepts0, accepts1) else None,
            "wrk_output": raw,
        }
        run["errors"] = run["non2xx"] + sum(run["socket_errors"].values())
        run["backend_cpu_s"] = cpu_seconds_between(bcpu0, bcpu1)
        cpu = cpu_seconds_between(cpu0, cpu1) if root else 0.0
        # Who else ran on our CPUs: a noise indicator on a shared machine. Ours on the
        # load CPU: wrk (a reaped child), this script and the backend.
        if self.procs.pin:
            share = cpu_share(sut_cpu0, sut_cpu1, cpu) or {}
            run.update({f"sut_cpu_{k}": v for k, v in share.items()})
            share = cpu_share(load_cpu0, load_cpu1, own1 - own0 + run["backend_cpu_s"]) or {}
            run.update({f"load_cpu_{k}": v for k, v in share.items()})
        if root:
            run["sut_cpu_s"] = cpu
            run["sut_cpu_pct"] = 100.0 * cpu / seconds if seconds else None
            run["sut_cpu_s_per_10k"] = cpu / requests * 10_000 if requests else None
            run["sut_cpu_us_per_req"] = cpu / requests * 1e6 if requests else None
            run["sut_processes"] = len(cpu1)
            run.update({f"sut_{k}": v for k, v in memory_kib(root.pid).items()})
        return run


# --------------------------------------------------------------------------
# Reporting


SUMMARY_KEYS = ["rps", "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "errors",
                "sut_cpu_s_per_10k", "sut_cpu_us_per_req", "sut_cpu_pct", "sut_rss_kib",
                "sut_private_dirty_kib", "backend_conns_opened", "slab_delta_kib",
                "sut_cpu_others_pct", "sut_cpu_irq_pct", "sut_cpu_steal_pct",
                "load_cpu_others_pct", "load_cpu_irq_pct", "load_cpu_steal_pct"]
NOISY_PCT = 5.0  # other tasks' share of the SUT's CPU above which a run is flagged


def summarize(runs, targets):
    return {t: {k: spread([r.get(k) for r in runs if r["target"] == t]) for k in SUMMARY_KEYS}
            for t in targets}


def ratios(summary):
    out = {}
    p = summary.get("portcullis")
    for peer in ("nginx", "haproxy"):
        q = summary.get(peer)
        if not p or not q:
            continue
        entry = {}
        for key in ("rps", "p99_us", "sut_cpu_s_per_10k"):
            a, b = p.get(key), q.get(key)
            entry[key] = a["median"] / b["median"] if a and b and b["median"] else None
        out[f"portcullis/{peer}"] = entry
    return out


def render_table(summary, targets):
    ms = lambda v: f"{v:.2f}"
    cols = [
        ("target", lambda t, s: LABELS[t]),
        ("req/s", lambda t, s: fmt_spread(s["rps"], lambda v: f"{v:,.0f}")),
        ("p50 ms", lambda t, s: fmt_spread(s["p50_us"], ms, 1000)),
        ("p99 ms", lambda t, s: fmt_spread(s["p99_us"], ms, 1000)),
        ("max ms", lambda t, s: fmt_spread(s["max_us"], ms, 1000)),
        ("errors", lambda t, s: fmt_spread(s["errors"], lambda v: f"{v:.0f}")),
        ("CPU s/10k req", lambda t, s: fmt_spread(s["sut_cpu_s_per_10k"], lambda v: f"{v:.3f}")),
        ("CPU %", lambda t, s: fmt_spread(s["sut_cpu_pct"], lambda v: f"{v:.0f}")),
        ("RSS MiB", lambda t, s: fmt_spread(s["sut_rss_kib"], lambda v: f"{v:.1f}", 1024)),
        ("upstream conns", lambda t, s: fmt_spread(s["backend_conns_opened"], lambda v: f"{v:.0f}")),
        (f"CPU{LOAD_CPU} others %", lambda t, s: fmt_spread(s["load_cpu_others_pct"], lambda v: f"{v:.0f}")),
        (f"CPU{SUT_CPU} others %", lambda t, s: fmt_spread(s["sut_cpu_others_pct"], lambda v: f"{v:.0f}")),
    ]
    rows = [[name for name, _ in cols]]
    rows += [[fn(t, summary[t]) for _, fn in cols] for t in targets]
    return format_table(rows)


def render_ratios(rat):
    if not rat:
        return "ratios: n/a (needs portcullis and nginx/haproxy in the same run)"
    lines = ["ratios of medians (req/s: higher is better; p99 and CPU: lower is better):"]
    for name, entry in rat.items():
        parts = []
        for key, label in (("rps", "req/s"), ("p99_us", "p99"), ("sut_cpu_s_per_10k", "CPU/10k")):
            v = entry.get(key)
            parts.append(f"{label} {v:.3g}x" if v is not None else f"{label} n/a")
        lines.append(f"  {name.replace('portcullis', 'Portcullis').replace('haproxy', 'HAProxy'):<22} "
                     + "   ".join(parts))
    return "\n".join(lines)


def progress_line(run):
    cpu = (f"  CPU {run['sut_cpu_s_per_10k']:.3f} s/10k ({run['sut_cpu_pct']:.0f}%)"
           if run.get("sut_cpu_s_per_10k") is not None else "")
    conns = run.get("backend_conns_opened")
    noise = " ".join(f"CPU{c} {run[k]:.0f}%" for c, k in ((LOAD_CPU, "load_cpu_others_pct"),
                                                            (SUT_CPU, "sut_cpu_others_pct")) if k in run)
    return (f"{LABELS[run['target']]:<10} {run['rps']:>10,.0f} req/s  p50 {run['p50_us'] / 1000:.2f} ms"
            f"  p99 {run['p99_us'] / 1000:.2f} ms  max {run['max_us'] / 1000:.2f} ms"
            f"  errors {run['errors']}{cpu}"
            + (f"  upstream conns {conns}" if conns is not None else "")
            + (f"  others on {noise}" if noise else "")
            + ("  NOISY" if noisiness(run) > NOISY_PCT else ""))


def noisiness(run):
    """Largest share (%) other processes took of a CPU this run depended on."""
    keys = ["load_cpu_others_pct"] + ([] if run["target"] == "direct" else ["sut_cpu_others_pct"])
    return max(run.get(k) or 0.0 for k in keys)


# --------------------------------------------------------------------------
# Main


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="scripts/bench/http-proxy",
        description="wrk against one backend: direct, through Portcullis, nginx and HAProxy "
                    "(proxies pinned to CPU 1, one worker each; backend and wrk on CPU 0).",
        epilog="Portcullis binary: $PORTCULLIS_BIN or .build/release/portcullis (built when missing). "
               "Exit codes: 0 ok, 1 error, 2 a target failed (see --keep-going), 130 interrupted.")
    p.add_argument("--scenario", choices=sorted(SCENARIOS), default="keepalive",
                   help="what each request is: keepalive (default), body4k (4 KiB response), close (a new "
                        "connection per request), tls (TLS keep-alive), tls-handshake (a TLS handshake per "
                        "request); the backend (direct) is plain HTTP in all of them")
    p.add_argument("--workers", type=int, choices=[1, 2], default=1,
                   help="event loops / worker processes / threads per proxy (default 1, pinned to CPU 1); "
                        "2 lets each proxy use both CPUs, beside wrk and the backend: scaling, not a per-core figure")
    p.add_argument("--duration", type=int, default=10, help="seconds per measured run (default 10)")
    p.add_argument("--connections", "-c", type=int, default=64, help="wrk connections (default 64)")
    p.add_argument("--threads", "-t", type=int, default=1, help="wrk threads (default 1)")
    p.add_argument("--warmup", type=int, default=3, help="warm-up seconds per target (default 3, 0 = none)")
    p.add_argument("--rounds", type=int, default=2,
                   help="measured rounds; odd rounds run the targets in reverse order (default 2)")
    p.add_argument("--only", default=",".join(TARGETS),
                   help=f"comma-separated targets, in order (default {','.join(TARGETS)})")
    p.add_argument("--json", metavar="FILE", help="also write all runs and the summary as JSON")
    p.add_argument("--keep-going", action="store_true",
                   help="if a proxy fails to build/start or dies, skip it and measure the rest")
    p.add_argument("--no-pin", action="store_true", help="do not pin with taskset (not comparable)")
    p.add_argument("--pause", type=float, default=1.0, help="seconds of rest between runs (default 1)")
    p.add_argument("--wrk-timeout", type=int, default=2, help="wrk per-request timeout, seconds (default 2)")
    p.add_argument("--start-timeout", type=float, default=20.0,
                   help="seconds to wait for each process to answer (default 20)")
    p.add_argument("--build-timeout", type=int, default=1800, help="seconds for swift build (default 1800)")
    p.add_argument("--keep-tmp", action="store_true", help="keep the temp dir with configs and logs")
    args = p.parse_args(argv)
    targets = [t.strip() for t in args.only.split(",") if t.strip()]
    bad = [t for t in targets if t not in TARGETS]
    if bad or not targets or len(set(targets)) != len(targets):
        p.error(f"--only takes distinct names from {','.join(TARGETS)}; got {args.only!r}")
    for name in ("duration", "rounds", "connections", "threads"):
        if getattr(args, name) <= 0:
            p.error(f"--{name} must be positive")
    if not (0 <= args.warmup <= 600 and args.duration <= 600 and args.rounds <= 50):
        p.error("keep --warmup and --duration within 600s and --rounds within 50")
    args.targets = targets
    return args


def run_bench(args, tmp, procs):
    started = datetime.datetime.now(datetime.timezone.utc)
    ensure_tools(dict(TOOLS, haproxy="haproxy") if "haproxy" in args.targets else TOOLS)
    machine = machine_info()
    if not args.no_pin and len(os.sched_getaffinity(0) & {SUT_CPU, LOAD_CPU}) < 2:
        log(f"warning: CPUs {LOAD_CPU} and {SUT_CPU} are not both available; not pinning")
        args.no_pin = True
    procs.pin = not args.no_pin

    bench = Bench(args, tmp, procs)
    if "portcullis" in args.targets:
        try:  # build before pinning ourselves to CPU 0, so the build may use every CPU
            bench.portcullis_bin = portcullis_binary(args)
        except TargetFailed as exc:
            bench.drop(exc)
    if procs.pin:
        os.sched_setaffinity(0, {LOAD_CPU})

    targets = [t for t in args.targets if t not in bench.skipped]
    targets = bench.start_all(targets)
    vers = versions(targets, bench.portcullis_bin if "portcullis" in targets else None)

    log(f"Portcullis HTTP proxy bench  {started:%Y-%m-%d %H:%M:%SZ}  commit {git_commit(REPO) or '-'}")
    log(f"machine : nproc {machine['nproc']}, {machine['cpu_model']}, "
        f"{(machine['mem_total_kib'] or 0) / 1048576:.0f} GiB, kernel {machine['kernel']}, "
        f"loadavg {' '.join(machine['loadavg'])}")
    log("versions: " + " | ".join(f"{k}: {v}" for k, v in vers.items()))
    log(f"scenario: {args.scenario}: {SCENARIOS[args.scenario]['title']}; {args.workers} worker(s) per proxy")
    log(f"setup   : backend nginx `return 200 \"hello world\\n\"` (1 worker, CPU {LOAD_CPU}); "
        f"wrk -t{args.threads} -c{args.connections} (CPU {LOAD_CPU}); proxies 1 worker/thread/loop "
        f"(CPU {SUT_CPU}); {'pinned' if procs.pin else 'NOT pinned'}")
    log(f"runs    : warm-up {args.warmup:g}s per target, then {args.rounds} round(s) x "
        f"{args.duration:g}s, interleaved; targets {', '.join(LABELS[t] for t in targets)}")
    if bench.skipped:
        log(f"skipped : {', '.join(LABELS[t] for t in bench.skipped)}")
    log()

    if args.warmup > 0:
        for t in targets:
            log(f"warm-up  {LABELS[t]} ({args.warmup:g}s)")
            try:
                bench.wrk(t, args.warmup)
                bench.check_alive(t)
            except TargetFailed as exc:
                bench.drop(exc)

    runs = []
    for r in range(args.rounds):
        order = targets if r % 2 == 0 else list(reversed(targets))
        for t in order:
            if t in bench.skipped:
                continue
            time.sleep(args.pause)
            try:
                run = bench.measure(t, args.duration, r + 1)
            except TargetFailed as exc:
                bench.drop(exc)
                continue
            runs.append(run)
            log(f"[round {r + 1}/{args.rounds}] {progress_line(run)}")

    measured = [t for t in targets if any(r["target"] == t for r in runs)]
    summary = summarize(runs, measured)
    rat = ratios(summary)
    log()
    log(f"Results: median (min–max) over {args.rounds} run(s) of {args.duration:g}s. CPU and RSS: "
        f"the proxy's, all its processes. upstream conns: connections the backend accepted "
        f"during a run (direct: wrk's own, plus its probe). CPUn others: share of that CPU "
        f"taken by processes not started here (CPU{LOAD_CPU}: wrk+backend, CPU{SUT_CPU}: proxies)")
    log(render_table(summary, measured))
    log()
    log(render_ratios(rat))
    noisy = [r for r in runs if noisiness(r) > NOISY_PCT]
    if noisy:
        worst = max(noisiness(r) for r in noisy)
        log(f"\nWARNING: other processes took up to {worst:.0f}% of a benchmark CPU during "
            f"{len(noisy)} of {len(runs)} runs (marked NOISY); rerun when the machine is "
            f"quiet, or add --rounds.")
    if bench.skipped:
        log()
        for t, why in bench.skipped.items():
            log(f"NOT MEASURED: {LABELS[t]}: " + "\n    ".join(why.splitlines()[:4]))

    if args.json:
        doc = {
            "bench": "http-proxy", "scenario": args.scenario, "workers": args.workers, "scenario_title": SCENARIOS[args.scenario]["title"],
            "started": started.isoformat(), "commit": git_commit(REPO),
            "machine": machine, "versions": vers,
            "settings": {k: v for k, v in vars(args).items() if k not in ("json",)},
            "pinned": procs.pin, "sut_cpu": SUT_CPU, "load_cpu": LOAD_CPU, "clk_tck": CLK_TCK,
            "irq_time_in_tasks": IRQ_TIME_IN_TASKS,
            "targets": measured, "skipped": bench.skipped,
            "runs": runs, "summary": summary, "ratios": rat,
        }
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n")
        log(f"\nwrote {args.json}")
    if bench.skipped:
        args.keep_tmp = True  # the messages above point at its logs
        return 2
    return 0


def main(argv):
    return run_main(argv, parse_args, run_bench, tmp_prefix='portcullis-bench-',
                    failure_hint='--keep-going measures the other targets; --only direct,nginx,haproxy leaves Portcullis out',
                    kept_what='configs and logs')


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
