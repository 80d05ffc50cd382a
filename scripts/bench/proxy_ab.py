#!/usr/bin/env python3
"""Portcullis binaries side by side on the proxy path, and nginx beside them: CPU per request.

    scripts/bench/proxy-ab OLD_BINARY NEW_BINARY [MORE...] [--rounds 4] [--duration 5]
    scripts/bench/proxy-ab BINARY --nginx [--nio-floor]

For a change to the proxy path, the question is what one request costs, and on a shared
2-core machine a few percent is inside the noise of one run. So each binary in turn
serves the same keep-alive load (wrk -t1 -c64 against one route to an nginx backend that
answers 12 bytes), rounds interleaved and reversed every other round, and the figure is
the edge's CPU time per request from /proc (user and system apart: kernel time per
request moves with the peers' wake-ups, user time is the code's own), median and spread
over the rounds, with each binary's ratio to the first. The edge runs on CPU 1 with one
event loop and no access log, wrk and the backend on CPU 0.

With --nginx, an nginx proxy to the same backend (one process: master_process off, so
its CPU is all in one PID) takes part in every round, and each binary gets its ratio to
nginx too: the user/system split shows which side of the system call boundary a gap is on.

With --nio-floor, `portcullis-bench relay-floor` (from the first binary's directory) takes
part too: a bare SwiftNIO relay on one event loop that copies bytes between each client
connection and its own backend connection, with no parsing at all. Its CPU per request is
what NIO's channel pipeline alone costs for the two reads and two writes of a request: the
floor of any proxy built on NIO.
"""

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchkit  # noqa: E402

BACKEND_CONF = """worker_processes 1;
daemon off;
pid {tmp}/backend.pid;
error_log {tmp}/backend.err;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  server {{ listen 127.0.0.1:{port}; location / {{ return 200 "hello world\\n"; }} }}
}}
"""

EDGE_CONF = """version: 1
edge:
  id: proxy-ab
  event_loops: 1
  access_log: false
listeners:
  - name: main
    address: "127.0.0.1:{port}"
admin:
  address: "127.0.0.1:{admin}"
upstreams:
  backend:
    servers: ["127.0.0.1:{backend}"]
    max_idle_per_server: 128
routes:
  - name: all
    match: {{path: /}}
    proxy: {{upstream: backend}}
"""

# The reference proxy, configured as scripts/bench/http-proxy configures it.
NGINX_PROXY_CONF = """worker_processes 1;
daemon off;
master_process off;
pid {tmp}/proxy.pid;
error_log {tmp}/proxy.err;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  upstream backend {{
    server 127.0.0.1:{backend};
    keepalive 64;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
"""

NGINX = "nginx"
FLOOR = "nio-floor"


def parse_args(argv):
    p = argparse.ArgumentParser(prog="scripts/bench/proxy-ab", description=__doc__.split("\n\n")[0])
    p.add_argument("binaries", nargs="+", help="portcullis binaries; ratios are to the first")
    p.add_argument("--rounds", type=int, default=4, help="interleaved rounds (default 4)")
    p.add_argument("--duration", type=int, default=5, help="seconds per measured run (default 5)")
    p.add_argument("--warmup", type=int, default=2, help="warm-up seconds per run (default 2)")
    p.add_argument("--connections", "-c", type=int, default=64, help="wrk connections (default 64)")
    p.add_argument("--no-pin", action="store_true", help="do not pin with taskset (not comparable)")
    p.add_argument("--keep-tmp", action="store_true", help="keep the temp dir with configs and logs")
    p.add_argument("--nginx", action="store_true",
                   help="an nginx proxy takes part too, and every binary gets its ratio to it")
    p.add_argument("--nio-floor", action="store_true",
                   help="portcullis-bench relay-floor (a bare NIO relay) takes part too")
    args = p.parse_args(argv)
    if len(args.binaries) < (1 if args.nginx else 2):
        p.error("give at least two binaries, or one with --nginx")
    for binary in args.binaries:
        if not Path(binary).is_file():
            p.error(f"{binary}: no such file")
    if args.nio_floor and not floor_binary(args).is_file():
        p.error(f"{floor_binary(args)}: no such file (build the portcullis-bench product)")
    return args


def floor_binary(args):
    return Path(args.binaries[0]).resolve().parent / "portcullis-bench"


def cpu_ticks(pid):
    """(utime, stime) of one process in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])


def wait_for(port, proc, what, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise benchkit.TargetFailed(what, f"{what} exited with code {proc.returncode}")
        try:
            benchkit.http_get(port)
            return
        except OSError:
            time.sleep(0.1)
    raise benchkit.TargetFailed(what, f"{what} did not answer on port {port} within {timeout:.0f}s")


def wrk(procs, port, seconds, connections):
    code, out = procs.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"http://127.0.0.1:{port}/"],
                          cpu=0, timeout=seconds + 30)
    requests = re.search(r"(\d+) requests in", out)
    if code != 0 or not requests:
        raise benchkit.BenchError(f"wrk failed (exit code {code}):\n{out}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors", out)
    if errors:
        raise benchkit.BenchError(f"wrk saw errors:\n{out}")
    return int(requests.group(1)), float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def run_bench(args, tmp, procs):
    benchkit.ensure_tools({"nginx": "nginx", "wrk": "wrk", "taskset": "util-linux"})
    backend_port, edge_port, admin_port = benchkit.free_ports(3)
    (tmp / "backend.conf").write_text(BACKEND_CONF.format(tmp=tmp, port=backend_port))
    (tmp / "edge.yaml").write_text(EDGE_CONF.format(port=edge_port, admin=admin_port, backend=backend_port))
    backend = procs.start("backend", ["nginx", "-c", str(tmp / "backend.conf"), "-p", str(tmp)], 0,
                          tmp / "backend.log")
    wait_for(backend_port, backend, "backend nginx")
    (tmp / "proxy.conf").write_text(NGINX_PROXY_CONF.format(tmp=tmp, port=edge_port, backend=backend_port))
    labels = [f"{i + 1}:{Path(b).name}" for i, b in enumerate(args.binaries)]
    targets = (list(zip(labels, args.binaries)) + ([(NGINX, NGINX)] if args.nginx else [])
               + ([(FLOOR, FLOOR)] if args.nio_floor else []))
    results = {label: [] for label, _ in targets}
    machine = benchkit.machine_info()
    benchkit.log(f"proxy-ab  {machine['nproc']} CPUs, {machine['cpu_model']}, kernel {machine['kernel']}, "
                 f"loadavg {' '.join(machine['loadavg'])}")
    benchkit.log(f"wrk -t1 -c{args.connections}, {args.rounds} round(s) x {args.duration}s, warm-up {args.warmup}s")
    for round_index in range(args.rounds):
        order = list(targets)
        if round_index % 2:
            order.reverse()
        for label, binary in order:
            if binary == NGINX:
                argv = [NGINX, "-c", str(tmp / "proxy.conf"), "-p", str(tmp)]
            elif binary == FLOOR:
                argv = [str(floor_binary(args)), "relay-floor", "--port", str(edge_port),
                        "--upstream", str(backend_port)]
            else:
                argv = [binary, "serve", "--config", str(tmp / "edge.yaml")]
            edge = procs.start(label, argv, 1, tmp / f"edge-{label.replace('/', '_')}.log")
            wait_for(edge_port, edge, label)
            if args.warmup:
                wrk(procs, edge_port, args.warmup, args.connections)
            before = cpu_ticks(edge.pid)
            count, rate = wrk(procs, edge_port, args.duration, args.connections)
            after = cpu_ticks(edge.pid)
            procs.stop_one(edge)
            user = (after[0] - before[0]) / benchkit.CLK_TCK / count * 1e6
            system = (after[1] - before[1]) / benchkit.CLK_TCK / count * 1e6
            results[label].append((user + system, user, system, rate))
            benchkit.log(f"[round {round_index + 1}/{args.rounds}] {label:28s} CPU {user + system:6.2f} µs/req "
                         f"(user {user:5.2f}, sys {system:5.2f})  {rate:9,.0f} req/s")
    first = labels[0]
    header = ["binary", "CPU µs/req", "user µs/req", "sys µs/req", "req/s", "CPU vs 1", "user vs 1"]
    if args.nginx:
        header += ["CPU vs nginx", "user vs nginx", "sys vs nginx", "req/s vs nginx"]
    rows = [header]
    medians = {label: [statistics.median(run[i] for run in results[label]) for i in range(4)]
               for label, _ in targets}
    for label, _ in targets:
        cpu, user, system, rate = medians[label]
        spread = benchkit.fmt_spread(benchkit.spread([run[0] for run in results[label]]), lambda v: f"{v:.2f}")
        row = [label, spread, f"{user:.2f}", f"{system:.2f}", f"{rate:,.0f}",
               f"{cpu / medians[first][0]:.3f}x", f"{user / medians[first][1]:.3f}x"]
        if args.nginx:
            reference = medians[NGINX]
            row += [f"{cpu / reference[0]:.2f}x", f"{user / reference[1]:.2f}x", f"{system / reference[2]:.2f}x",
                    f"{rate / reference[3]:.2f}x"]
        rows.append(row)
    benchkit.log("\nmedians over the rounds (CPU: min–max in parentheses); ratios to the first binary"
                 + (" and to nginx" if args.nginx else ""))
    benchkit.log(benchkit.format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(benchkit.run_main(sys.argv[1:], parse_args, run_bench, tmp_prefix="portcullis-proxy-ab-",
                               failure_hint="see the logs in the temp dir", kept_what="configs and logs"))
