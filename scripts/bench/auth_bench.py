#!/usr/bin/env python3
"""JWT-protected proxy route: Portcullis vs HAProxy 2.6 `jwt_verify`, same machine, same run.

One backend (the nginx `return 200 "hello world\\n"` of http-proxy), wrk sending
`Authorization: Bearer <token>` and rotating through a pool of distinct tokens (one per
request, so no token is verified twice in a row), for HS256, RS256 (2048-bit) and ES256
(P-256). Series per algorithm:

- Portcullis distinct: the pool through a route with `auth: {key_set: ...}`.
- HAProxy distinct: the same pool through `http_auth_bearer,jwt_header_query('$.alg')`
  (pins the algorithm) and `jwt_verify(alg, key)` (signature only: HAProxy 2.6 checks
  no claim, not even `exp`).
- Portcullis cached: one token over and over (Portcullis's verified-token cache).
- Portcullis no auth (first algorithm only): the same single token sent to the
  unauthenticated `/public` route, so the request bytes match the cached series and the
  ratio cached/no-auth is what the cached check costs.

Rules (docs/measuring.md): proxies on CPU 1 with one thread / event loop, wrk and the
backend on CPU 0, warm-up, interleaved rounds, median and spread, CPU per request from
/proc, loopback only, every process started here stopped by PID. Then a second phase
measures event-loop stalls: a low-rate probe (wrk, one connection, one request every few
ms) on an unauthenticated `/public` route, alone and during a load of fresh RS256/ES256
tokens, compared with the probe during the cached-token load.

Needs python3 with PyJWT and cryptography (the `auth` wrapper picks or makes such a
python) for the keys and tokens; everything else is the standard library and benchkit.
"""

import argparse
import datetime
import http.client
import json
import os
import secrets
import sys
import time
from pathlib import Path

from benchkit import (
    CLK_TCK, IRQ_TIME_IN_TASKS, BenchError, TargetFailed, command_output, cpu_jiffies, cpu_sample,
    cpu_seconds_between, cpu_share, first_line, fmt_spread, format_table, free_ports, git_commit, http_get,
    log, machine_info, memory_kib, own_cpu_seconds, slab_kib, spread,
    tail, ensure_tools, run_main)
from http_proxy import (
    BACKEND_BODY, HAPROXY_PREAMBLE, backend_accepts, backend_nginx_conf, portcullis_binary, versions)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
WRK_REPORT_LUA = HERE / "wrk_report.lua"

SUT_CPU = 1   # proxies
LOAD_CPU = 0  # wrk, backend, this script
TOOLS = {"nginx": "nginx", "wrk": "wrk", "taskset": "util-linux", "haproxy": "haproxy"}

ALGS = ["hs256", "rs256", "es256"]
ALG_NAME = {"hs256": "HS256", "rs256": "RS256", "es256": "ES256"}
ALG_TITLE = {"hs256": "HS256 (HMAC-SHA256, 48-byte secret)", "rs256": "RS256 (RSA 2048-bit)",
             "es256": "ES256 (ECDSA P-256)"}
KINDS = ["portcullis", "haproxy", "cached", "public"]   # series kinds, in table order
KIND_LABEL = {"portcullis": "Portcullis distinct", "haproxy": "HAProxy distinct",
              "cached": "Portcullis cached (1 token)", "public": "Portcullis no auth (1 token sent)"}
KIND_PROXY = {"portcullis": "portcullis", "haproxy": "haproxy", "cached": "portcullis", "public": "portcullis"}
SINGLE_TOKEN_KINDS = ("cached", "public")
PROXY_LABEL = {"portcullis": "Portcullis", "haproxy": "HAProxy"}
PUBLIC_PATH = "/public"
NOISY_PCT = 5.0


def series_id(kind, alg):
    return f"{kind}/{alg}"


def series_label(sid):
    kind, alg = sid.split("/")
    return f"{KIND_LABEL[kind]} {ALG_NAME[alg]}"


# --------------------------------------------------------------------------
# Keys and tokens (PyJWT + cryptography)


def make_keys_and_tokens(tmp, count, lifetime):
    """Keys (public halves and the HMAC secret in files) and token pools, one per algorithm.

    Returns {alg: {...paths, "kid", "good" sample tokens, "bad", "expired", "pool" file,
    "single" file}} and the library versions used."""
    try:
        import jwt
        import cryptography
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec, rsa
    except ImportError as exc:
        raise BenchError(f"PyJWT and cryptography are needed to make tokens ({exc}); run through "
                         f"scripts/bench/auth, which finds or creates such a python")

    def public_pem(key):
        return key.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)

    keydir = tmp / "keys"
    keydir.mkdir()
    hs_secret = secrets.token_urlsafe(36)  # 48 base64url characters: printable for haproxy.cfg
    signing = {
        "hs256": (hs_secret, secrets.token_urlsafe(36)),
        "rs256": (rsa.generate_private_key(65537, 2048), rsa.generate_private_key(65537, 2048)),
        "es256": (ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())),
    }
    (keydir / "hs.key").write_bytes(hs_secret.encode())  # no newline; 48 bytes >= 32
    (keydir / "rs.pub.pem").write_bytes(public_pem(signing["rs256"][0]))
    (keydir / "es.pub.pem").write_bytes(public_pem(signing["es256"][0]))

    now = int(time.time())
    out = {}
    for alg in ALGS:
        key, other_key = signing[alg]
        kid = alg[:2] + "1"
        header = {"kid": kid}

        def sign(claims, k=key, name=ALG_NAME[alg]):
            return jwt.encode(claims, k, algorithm=name, headers=header)

        started = time.monotonic()
        pool = [sign({"sub": f"user-{i:06d}", "jti": f"{alg}-{i:06d}-{secrets.token_hex(6)}",
                      "iat": now, "exp": now + lifetime}) for i in range(count)]
        gen_s = time.monotonic() - started
        if len(set(pool)) != count:
            raise BenchError(f"{ALG_NAME[alg]}: token pool is not distinct")
        pool_file = tmp / f"{alg}.tokens"
        pool_file.write_text("\n".join(pool) + "\n")
        single_file = tmp / f"{alg}.single.tokens"
        single_file.write_text(pool[0] + "\n")
        claims = {"sub": "user-x", "jti": f"{alg}-extra", "iat": now, "exp": now + lifetime}
        out[alg] = {
            "kid": kid,
            "pool_file": pool_file, "single_file": single_file,
            "good": [pool[0], pool[count // 2], pool[-1]],
            "bad": sign(claims, k=other_key),                      # right kid/alg, wrong key
            "expired": sign({"sub": "user-x", "jti": f"{alg}-expired", "iat": now - 7200,
                             "exp": now - 3600}),                  # right key, exp an hour ago
            "token_bytes": len(pool[0]),
            "generate_s": gen_s,
        }
    out["hs256"]["secret"] = hs_secret
    out["hs256"]["key_file"] = keydir / "hs.key"
    out["rs256"]["key_file"] = keydir / "rs.pub.pem"
    out["es256"]["key_file"] = keydir / "es.pub.pem"
    # An HS256 token on an RS256/ES256 route (and vice versa): algorithm pinning.
    for alg in ALGS:
        other = "rs256" if alg == "hs256" else "hs256"
        out[alg]["wrong_alg"] = out[other]["good"][0]
    libs = {"pyjwt": jwt.__version__, "cryptography": cryptography.__version__}
    return out, libs


# --------------------------------------------------------------------------
# Configs


def portcullis_yaml(port, admin_port, backend_port, keys, cache_size):
    return f"""version: 1
edge: {{ id: bench, drain_timeout: 1s, event_loops: 1, access_log: false }}
listeners:
  - {{ name: bench, address: "127.0.0.1:{port}" }}
admin: {{ address: "127.0.0.1:{admin_port}" }}
upstreams:
  backend: {{ servers: ["127.0.0.1:{backend_port}"], max_idle_per_server: 128 }}
auth:
  token_cache_size: {cache_size}
  key_sets:
    hs: [ {{ secret_file: {keys['hs256']['key_file']}, alg: HS256, kid: hs1, default: true }} ]
    rs: [ {{ pem_file: {keys['rs256']['key_file']}, alg: RS256, kid: rs1, default: true }} ]
    es: [ {{ pem_file: {keys['es256']['key_file']}, alg: ES256, kid: es1, default: true }} ]
routes:
  - {{ name: hs, match: {{ path: /hs }}, proxy: {{ upstream: backend }}, auth: {{ key_set: hs }} }}
  - {{ name: rs, match: {{ path: /rs }}, proxy: {{ upstream: backend }}, auth: {{ key_set: rs }} }}
  - {{ name: es, match: {{ path: /es }}, proxy: {{ upstream: backend }}, auth: {{ key_set: es }} }}
  - {{ name: public, match: {{ path: {PUBLIC_PATH} }}, proxy: {{ upstream: backend }} }}
"""


def haproxy_cfg(port, backend_port, keys):
    """One frontend routing by path like Portcullis; each JWT backend pins the algorithm
    from the token header, verifies the signature, and drops Authorization before the
    upstream (as Portcullis does by default: forward_authorization false)."""
    verify_key = {"hs256": f'"{keys["hs256"]["secret"]}"',          # HMAC: the secret itself
                  "rs256": f'"{keys["rs256"]["key_file"]}"',        # RS/ES: public key file
                  "es256": f'"{keys["es256"]["key_file"]}"'}
    backends = []
    for alg in ALGS:
        name = ALG_NAME[alg]
        backends.append(f"""backend {alg[:2]}
    http-reuse always
    http-request deny deny_status 401 unless {{ http_auth_bearer,jwt_header_query('$.alg') -m str {name} }}
    http-request deny deny_status 401 unless {{ http_auth_bearer,jwt_verify("{name}",{verify_key[alg]}) -m int 1 }}
    http-request del-header Authorization
    server b1 127.0.0.1:{backend_port}
""")
    return HAPROXY_PREAMBLE + f"""frontend bench
    bind 127.0.0.1:{port}
    use_backend hs if {{ path /hs }}
    use_backend rs if {{ path /rs }}
    use_backend es if {{ path /es }}
    default_backend public

backend public
    http-reuse always
    server b1 127.0.0.1:{backend_port}

""" + "\n".join(backends)


def auth_lua():
    """wrk script: each thread loads the token file (init), then every request takes the
    next token of the pool; threads start at different offsets. Plus wrk_report's `done`."""
    return r"""-- generated by scripts/bench/auth_bench.py
-- setup runs in the main Lua state once per thread, before that thread's init.
local next_thread = 0
function setup(thread)
  thread:set("thread_no", next_thread)
  next_thread = next_thread + 1
end

local headers = {}
local tokens = {}
local n, i = 0, 0

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    if #line > 0 then
      n = n + 1
      tokens[n] = "Bearer " .. line
    end
  end
  file:close()
  assert(n > 0, "no tokens in " .. args[1])
  local threads = tonumber(args[2]) or 1
  i = math.floor(n * (_G.thread_no or 0) / threads) % n
end

function request()
  i = i % n + 1
  headers["Authorization"] = tokens[i]
  return wrk.format("GET", nil, headers)
end

""" + WRK_REPORT_LUA.read_text()


def probe_lua():
    """wrk script for the probe: one request, then `delay` ms of rest, on one connection."""
    return r"""-- generated by scripts/bench/auth_bench.py
local pause_ms = 5
function init(args)
  pause_ms = tonumber(args[1]) or 5
end
function delay()
  return pause_ms
end

""" + WRK_REPORT_LUA.read_text()


def parse_wrk(out):
    for line in out.splitlines():
        if line.startswith("WRK_JSON "):
            return json.loads(line[len("WRK_JSON "):])
    return None


# --------------------------------------------------------------------------
# The bench


class Bench:
    def __init__(self, args, tmp, procs):
        self.args, self.tmp, self.procs = args, tmp, procs
        self.ports = {}
        self.roots = {}    # proxy -> Popen
        self.logs = {}
        self.backend = None
        self.portcullis_bin = None
        self.skipped = {}  # proxy -> reason
        self.keys = None
        self.checks = []    # preflight requests and their answers
        self.auth_lua = tmp / "auth.lua"
        self.probe_lua = tmp / "probe.lua"

    # ---- processes

    def start_all(self, proxies):
        names = ["backend", "portcullis", "portcullis_admin", "haproxy"]
        self.ports = dict(zip(names, free_ports(len(names))))
        self.auth_lua.write_text(auth_lua())
        self.probe_lua.write_text(probe_lua())
        self.start_backend()
        for proxy in proxies:
            try:
                getattr(self, f"start_{proxy}")()
                self.preflight(proxy)
            except TargetFailed as exc:
                self.drop(exc)
        return [p for p in proxies if p not in self.skipped]

    def drop(self, exc):
        if not self.args.keep_going:
            raise exc
        log(f"\nDROPPING {PROXY_LABEL[exc.target]}: {exc}\n")
        self.skipped[exc.target] = str(exc)
        proc = self.roots.pop(exc.target, None)
        if proc is not None:
            self.procs.stop_one(proc)

    def wait_public(self, proxy, proc, log_path):
        """Poll GET /public until it returns the backend's 200 hello world."""
        port = self.ports[proxy]
        deadline = time.monotonic() + self.args.start_timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise TargetFailed(proxy, f"{PROXY_LABEL.get(proxy, proxy)} exited with code {proc.returncode} "
                                          f"before answering on 127.0.0.1:{port}; last log lines "
                                          f"({log_path}):\n{tail(log_path)}")
            try:
                status, body = http_get(port, PUBLIC_PATH)
                if status == 200 and body == BACKEND_BODY:
                    return
                last = f"HTTP {status} {body[:80]!r}"
            except (OSError, http.client.HTTPException) as exc:
                last = f"{type(exc).__name__}: {exc}"
            time.sleep(0.1)
        raise TargetFailed(proxy, f"{PROXY_LABEL.get(proxy, proxy)} did not answer 200 on 127.0.0.1:{port}"
                                  f"{PUBLIC_PATH} within {self.args.start_timeout:.0f}s (last: {last}); "
                                  f"last log lines ({log_path}):\n{tail(log_path)}")

    def start_backend(self):
        prefix = self.tmp / "backend"
        prefix.mkdir()
        (prefix / "nginx.conf").write_text(backend_nginx_conf(prefix, self.ports["backend"]))
        self.backend = self.procs.start(
            "backend", ["nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
                        "-e", str(prefix / "error.log"), "-g", "daemon off;"], LOAD_CPU, prefix / "stderr.log")
        deadline = time.monotonic() + self.args.start_timeout
        while True:
            try:
                if http_get(self.ports["backend"], "/")[0] == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            if self.backend.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"backend nginx did not start:\n{tail(prefix / 'error.log')}")
            time.sleep(0.1)

    def start_portcullis(self):
        self.portcullis_bin = self.portcullis_bin or portcullis_binary(self.args)
        prefix = self.tmp / "portcullis"
        prefix.mkdir()
        cfg = prefix / "portcullis.yaml"
        cfg.write_text(portcullis_yaml(self.ports["portcullis"], self.ports["portcullis_admin"],
                                       self.ports["backend"], self.keys, self.args.cache_size))
        self.logs["portcullis"] = prefix / "portcullis.log"
        self.roots["portcullis"] = self.procs.start(
            "portcullis", [str(self.portcullis_bin), "serve", "--config", str(cfg)], SUT_CPU,
            self.logs["portcullis"], env=dict(os.environ))
        self.wait_public("portcullis", self.roots["portcullis"], self.logs["portcullis"])

    def start_haproxy(self):
        prefix = self.tmp / "haproxy"
        prefix.mkdir()
        cfg = prefix / "haproxy.cfg"
        cfg.write_text(haproxy_cfg(self.ports["haproxy"], self.ports["backend"], self.keys))
        self.logs["haproxy"] = prefix / "haproxy.log"
        code, out = command_output(["haproxy", "-c", "-f", str(cfg)], timeout=20)
        if code != 0:
            raise TargetFailed("haproxy", f"haproxy -c refused {cfg}:\n{out}")
        self.roots["haproxy"] = self.procs.start(
            "haproxy", ["haproxy", "-f", str(cfg), "-db"], SUT_CPU, self.logs["haproxy"])
        self.wait_public("haproxy", self.roots["haproxy"], self.logs["haproxy"])

    def check_alive(self, proxy):
        if self.backend.poll() is not None:
            raise BenchError(f"the backend nginx exited (code {self.backend.returncode}):\n"
                             f"{tail(self.tmp / 'backend' / 'error.log')}")
        proc = self.roots.get(proxy)
        if proc is not None and proc.poll() is not None:
            raise TargetFailed(proxy, f"{PROXY_LABEL[proxy]} (pid {proc.pid}) exited with code "
                                      f"{proc.returncode} during the run; last log lines "
                                      f"({self.logs[proxy]}):\n{tail(self.logs[proxy])}")

    # ---- checks before measuring

    def preflight(self, proxy):
        """Every token kind passes, bad ones are refused: proves auth is on and configured alike.

        Expected: valid tokens 200; no token, wrong key, wrong alg 401; an expired token
        401 on Portcullis, while HAProxy 2.6 (signature only) lets it through."""
        port = self.ports[proxy]
        checks = []
        for alg in self.args.algs:
            k = self.keys[alg]
            path = "/" + alg[:2]
            cases = [(f"valid #{n}", tok, 200) for n, tok in enumerate(k["good"], 1)]
            cases += [("no token", None, 401), ("wrong key", k["bad"], 401), ("wrong alg", k["wrong_alg"], 401),
                      ("expired", k["expired"], 401 if proxy == "portcullis" else 200)]
            for name, token, want in cases:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                try:
                    got, body = http_get(port, path, timeout=5.0, headers=headers)
                except (OSError, http.client.HTTPException) as exc:
                    got, body = None, str(exc).encode()
                checks.append({"proxy": proxy, "alg": alg, "case": name, "want": want, "got": got})
                if got != want:
                    if proxy == "haproxy" and name == "expired":
                        continue  # reported below; it is HAProxy's behaviour, not a setup error
                    raise TargetFailed(proxy, f"preflight {PROXY_LABEL[proxy]} {ALG_NAME[alg]} {name}: "
                                              f"expected HTTP {want}, got {got} {body[:120]!r}; log "
                                              f"({self.logs[proxy]}):\n{tail(self.logs[proxy])}")
        self.checks += checks

    # ---- load

    def wrk_argv(self, sid, duration, connections=None, threads=None):
        kind, alg = sid.split("/")
        proxy = KIND_PROXY[kind]
        threads = threads or self.args.threads
        token_file = self.keys[alg]["single_file" if kind in SINGLE_TOKEN_KINDS else "pool_file"]
        path = PUBLIC_PATH if kind == "public" else f"/{alg[:2]}"
        url = f"http://127.0.0.1:{self.ports[proxy]}{path}"
        return ["wrk", "-t", str(threads), "-c", str(connections or self.args.connections),
                "-d", f"{duration}s", "--timeout", f"{self.args.wrk_timeout}s", "--latency",
                "-s", str(self.auth_lua), url, "--", str(token_file), str(threads)]

    def wrk(self, sid, duration):
        proxy = KIND_PROXY[sid.split("/")[0]]
        code, out = self.procs.run(self.wrk_argv(sid, duration), LOAD_CPU, timeout=duration + 60)
        report = parse_wrk(out)
        if code != 0 or report is None:
            self.check_alive(proxy)
            raise TargetFailed(proxy, f"wrk for {series_label(sid)} failed (exit {code}):\n{out}")
        return report, out

    def measure(self, sid, duration, round_no):
        proxy = KIND_PROXY[sid.split("/")[0]]
        root = self.roots[proxy]
        cpu0 = cpu_sample(root.pid)
        bcpu0 = cpu_sample(self.backend.pid)
        accepts0 = backend_accepts(self.ports["backend"])
        slab0 = slab_kib()
        sut0, load0, own0 = cpu_jiffies(SUT_CPU), cpu_jiffies(LOAD_CPU), own_cpu_seconds()
        report, raw = self.wrk(sid, duration)
        sut1, load1, own1 = cpu_jiffies(SUT_CPU), cpu_jiffies(LOAD_CPU), own_cpu_seconds()
        cpu1 = cpu_sample(root.pid)
        bcpu1 = cpu_sample(self.backend.pid)
        accepts1 = backend_accepts(self.ports["backend"])
        slab1 = slab_kib()
        self.check_alive(proxy)

        seconds = report["duration_us"] / 1e6
        requests = report["requests"]
        cpu = cpu_seconds_between(cpu0, cpu1)
        run = {
            "series": sid, "kind": sid.split("/")[0], "alg": sid.split("/")[1], "proxy": proxy,
            "round": round_no, "duration_s": seconds, "requests": requests,
            "rps": requests / seconds if seconds else 0.0,
            "p50_us": report["p50_us"], "p90_us": report["p90_us"], "p99_us": report["p99_us"],
            "p999_us": report["p999_us"], "max_us": report["lat_max_us"], "mean_us": report["lat_mean_us"],
            "non2xx": report["err_status"],
            "socket_errors": {k: report[f"err_{k}"] for k in ("connect", "read", "write", "timeout")},
            "slab_kib": slab1, "slab_delta_kib": slab1 - slab0 if slab0 and slab1 else None,
            "backend_conns_opened": (accepts1 - accepts0 - 1) if None not in (accepts0, accepts1) else None,
            "backend_cpu_s": cpu_seconds_between(bcpu0, bcpu1),
            "sut_cpu_s": cpu,
            "sut_cpu_pct": 100.0 * cpu / seconds if seconds else None,
            "sut_cpu_us_per_req": cpu / requests * 1e6 if requests else None,
            "sut_processes": len(cpu1),
            "wrk_output": raw,
        }
        run["socket_error_count"] = sum(run["socket_errors"].values())
        run["errors"] = run["non2xx"] + run["socket_error_count"]
        run.update({f"sut_{k}": v for k, v in memory_kib(root.pid).items()})
        if self.procs.pin:
            share = cpu_share(sut0, sut1, cpu) or {}
            run.update({f"sut_cpu_{k}": v for k, v in share.items()})
            share = cpu_share(load0, load1, own1 - own0 + run["backend_cpu_s"]) or {}
            run.update({f"load_cpu_{k}": v for k, v in share.items()})
        return run

    # ---- event-loop stall probe

    def probe_argv(self, proxy, duration):
        return ["wrk", "-t", "1", "-c", "1", "-d", f"{duration}s", "--timeout", f"{self.args.wrk_timeout}s",
                "--latency", "-s", str(self.probe_lua),
                f"http://127.0.0.1:{self.ports[proxy]}{PUBLIC_PATH}", "--", str(self.args.probe_interval_ms)]

    def probe_prefix(self):
        # The probe shares CPU 0 with wrk and the backend: when we may, give it priority so
        # that its latency is the proxy's, not CPU 0's run queue.
        return ["nice", "-n", "-10"] if os.geteuid() == 0 else []

    def stall_run(self, proxy, sid):
        """The probe on `proxy` for probe_duration s, alone (sid None) or inside a load of sid."""
        d = self.args.probe_duration
        load_proc, load_log = None, None
        load0 = cpu_jiffies(LOAD_CPU)
        if sid:
            load_log = self.tmp / f"stall-{sid.replace('/', '-')}.log"
            load_proc = self.procs.start("wrk-load", self.wrk_argv(sid, d + 2), LOAD_CPU, load_log)
            time.sleep(1.0)  # the probe runs entirely inside the load
        code, out = self.procs.run(self.probe_prefix() + self.probe_argv(proxy, d), LOAD_CPU, timeout=d + 60)
        load_report = None
        if load_proc is not None:
            try:
                load_proc.wait(timeout=d + 60)
            finally:
                self.procs.stop_one(load_proc)
            load_report = parse_wrk(load_log.read_text(errors="replace"))
        load1 = cpu_jiffies(LOAD_CPU)
        self.check_alive(proxy)
        probe = parse_wrk(out)
        if code != 0 or probe is None or (sid and load_report is None):
            raise TargetFailed(proxy, f"stall probe on {PROXY_LABEL[proxy]} failed (exit {code}):\n{out}\n"
                                      + (tail(load_log) if load_log else ""))
        busy = None
        if load0 and load1 and load1["total"] > load0["total"]:
            busy = 100.0 * (load1["task"] + load1["irq"] - load0["task"] - load0["irq"]) / (
                load1["total"] - load0["total"])
        res = {
            "proxy": proxy, "load": sid or "none",
            "probe_requests": probe["requests"], "probe_rps": probe["requests"] / (probe["duration_us"] / 1e6),
            "probe_p50_us": probe["p50_us"], "probe_p90_us": probe["p90_us"], "probe_p99_us": probe["p99_us"],
            "probe_p999_us": probe["p999_us"], "probe_max_us": probe["lat_max_us"],
            "probe_errors": probe["err_status"] + sum(probe[f"err_{k}"] for k in ("connect", "read", "write",
                                                                                   "timeout")),
            "load_cpu_busy_pct": busy,
        }
        if load_report:
            res.update({
                "load_rps": load_report["requests"] / (load_report["duration_us"] / 1e6),
                "load_p99_us": load_report["p99_us"],
                "load_errors": load_report["err_status"] + sum(load_report[f"err_{k}"] for k in (
                    "connect", "read", "write", "timeout")),
            })
        return res


# --------------------------------------------------------------------------
# Reporting


SUMMARY_KEYS = ["rps", "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "non2xx", "socket_error_count",
                "sut_cpu_us_per_req", "sut_cpu_pct", "sut_rss_kib", "sut_private_dirty_kib",
                "backend_conns_opened", "slab_delta_kib", "sut_cpu_others_pct", "sut_cpu_irq_pct",
                "sut_cpu_steal_pct", "load_cpu_others_pct", "load_cpu_irq_pct", "load_cpu_steal_pct"]


def summarize(runs, series):
    return {s: {k: spread([r.get(k) for r in runs if r["series"] == s]) for k in SUMMARY_KEYS} for s in series}


def median(summary, sid, key):
    s = summary.get(sid, {}).get(key)
    return s["median"] if s else None


def ratios(summary, algs):
    out = {}
    public = series_id("public", algs[0])
    for alg in algs:
        p, h, c = (series_id(k, alg) for k in ("portcullis", "haproxy", "cached"))
        entry = {}
        for key in ("rps", "p99_us", "sut_cpu_us_per_req"):
            a, b = median(summary, p, key), median(summary, h, key)
            entry[f"portcullis/haproxy {key}"] = a / b if a is not None and b else None
            a, b = median(summary, c, key), median(summary, p, key)
            entry[f"cached/distinct {key}"] = a / b if a is not None and b else None
            a, b = median(summary, c, key), median(summary, public, key)
            entry[f"cached/no-auth {key}"] = a / b if a is not None and b else None
        a, b = median(summary, p, "sut_cpu_us_per_req"), median(summary, c, "sut_cpu_us_per_req")
        entry["portcullis verify cost us"] = a - b if a is not None and b is not None else None
        out[alg] = entry
    return out


def render_alg_table(summary, alg, series):
    ms = lambda v: f"{v:.2f}"
    cols = [
        ("series", lambda sid, s: KIND_LABEL[sid.split("/")[0]]),
        ("req/s", lambda sid, s: fmt_spread(s["rps"], lambda v: f"{v:,.0f}")),
        ("p50 ms", lambda sid, s: fmt_spread(s["p50_us"], ms, 1000)),
        ("p99 ms", lambda sid, s: fmt_spread(s["p99_us"], ms, 1000)),
        ("max ms", lambda sid, s: fmt_spread(s["max_us"], ms, 1000)),
        ("non-2xx", lambda sid, s: fmt_spread(s["non2xx"], lambda v: f"{v:.0f}")),
        ("sock err", lambda sid, s: fmt_spread(s["socket_error_count"], lambda v: f"{v:.0f}")),
        ("CPU µs/req", lambda sid, s: fmt_spread(s["sut_cpu_us_per_req"], lambda v: f"{v:.1f}")),
        ("CPU %", lambda sid, s: fmt_spread(s["sut_cpu_pct"], lambda v: f"{v:.0f}")),
        ("RSS MiB", lambda sid, s: fmt_spread(s["sut_rss_kib"], lambda v: f"{v:.1f}", 1024)),
        ("upstream conns", lambda sid, s: fmt_spread(s["backend_conns_opened"], lambda v: f"{v:.0f}")),
        (f"CPU{LOAD_CPU} others %", lambda sid, s: fmt_spread(s["load_cpu_others_pct"], lambda v: f"{v:.0f}")),
        (f"CPU{SUT_CPU} others %", lambda sid, s: fmt_spread(s["sut_cpu_others_pct"], lambda v: f"{v:.0f}")),
    ]
    rows = [[name for name, _ in cols]]
    rows += [[fn(sid, summary[sid]) for _, fn in cols] for sid in series if sid.endswith("/" + alg)]
    return format_table(rows)


def render_ratios(rat):
    lines = ["ratios of medians (req/s: higher is better; p99 and CPU/req: lower is better):"]
    fmt = lambda v: f"{v:.3g}x" if v is not None else "n/a"
    for alg, e in rat.items():
        lines.append(f"  {ALG_NAME[alg]}  Portcullis/HAProxy: req/s {fmt(e['portcullis/haproxy rps'])}"
                     f"  p99 {fmt(e['portcullis/haproxy p99_us'])}"
                     f"  CPU/req {fmt(e['portcullis/haproxy sut_cpu_us_per_req'])}"
                     f"   | Portcullis cached/distinct: req/s {fmt(e['cached/distinct rps'])}"
                     f"  CPU/req {fmt(e['cached/distinct sut_cpu_us_per_req'])}"
                     f"   | cached/no-auth: req/s {fmt(e['cached/no-auth rps'])}"
                     f"  CPU/req {fmt(e['cached/no-auth sut_cpu_us_per_req'])}"
                     + (f"   | verify+miss cost ≈ {e['portcullis verify cost us']:.1f} µs/req"
                        if e["portcullis verify cost us"] is not None else ""))
    return "\n".join(lines)


def render_stall(stall, summary, connections):
    ms = lambda v: f"{v / 1000:.2f}" if v is not None else "-"
    idle = {r["proxy"]: r for r in stall if r["load"] == "none"}
    rows = [["proxy", "load on the proxy", "load req/s", "load err", "probe req", "probe p50 ms",
             "probe p99 ms", "probe p99.9 ms", "probe max ms", "p99 vs idle", f"{connections}xCPU/req ms",
             "probe err", f"CPU{LOAD_CPU} busy %"]]
    for r in stall:
        base = idle.get(r["proxy"])
        per_req = median(summary, r["load"], "sut_cpu_us_per_req")
        rows.append([
            PROXY_LABEL[r["proxy"]],
            "none (probe alone)" if r["load"] == "none" else series_label(r["load"]).replace("Portcullis ", "")
            .replace("HAProxy ", ""),
            f"{r['load_rps']:,.0f}" if "load_rps" in r else "-",
            str(r.get("load_errors", "-")),
            str(r["probe_requests"]),
            ms(r["probe_p50_us"]), ms(r["probe_p99_us"]), ms(r["probe_p999_us"]), ms(r["probe_max_us"]),
            f"{r['probe_p99_us'] / base['probe_p99_us']:.1f}x" if base and base["probe_p99_us"] else "-",
            ms(connections * per_req) if per_req is not None else "-",
            str(r["probe_errors"]),
            f"{r['load_cpu_busy_pct']:.0f}" if r.get("load_cpu_busy_pct") is not None else "-",
        ])
    return format_table(rows)


def progress_line(run):
    noise = " ".join(f"CPU{c} {run[k]:.0f}%" for c, k in ((LOAD_CPU, "load_cpu_others_pct"),
                                                            (SUT_CPU, "sut_cpu_others_pct")) if k in run)
    flag = ""
    if run["non2xx"]:
        flag += "  NON-2XX!"
    if noisiness(run) > NOISY_PCT:
        flag += "  NOISY"
    return (f"{series_label(run['series']):<36} {run['rps']:>9,.0f} req/s  p50 {run['p50_us'] / 1000:.2f} ms"
            f"  p99 {run['p99_us'] / 1000:.2f} ms  non-2xx {run['non2xx']}  sock err {run['socket_error_count']}"
            f"  CPU {run['sut_cpu_us_per_req']:.1f} µs/req ({run['sut_cpu_pct']:.0f}%)"
            + (f"  others on {noise}" if noise else "") + flag)


def noisiness(run):
    """Largest share (%) of a benchmark CPU taken by other processes or hypervisor steal."""
    return max(run.get(k) or 0.0 for k in ("load_cpu_others_pct", "sut_cpu_others_pct",
                                           "load_cpu_steal_pct", "sut_cpu_steal_pct"))


# --------------------------------------------------------------------------
# Main


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="scripts/bench/auth",
        description="Requests/s through a JWT-protected route with a pool of distinct tokens: Portcullis vs "
                    "HAProxy 2.6 jwt_verify (HS256, RS256, ES256), plus Portcullis with one cached token, and "
                    "event-loop stalls under fresh RS256/ES256 tokens. Proxies pinned to CPU 1 with one "
                    "thread each; backend and wrk on CPU 0.",
        epilog="Portcullis binary: $PORTCULLIS_BIN or .build/release/portcullis (built when missing). "
               "Exit codes: 0 ok, 1 error, 2 a proxy failed (see --keep-going) or a valid token was refused, "
               "130 interrupted.")
    p.add_argument("--duration", type=int, default=8, help="seconds per measured run (default 8)")
    p.add_argument("--rounds", type=int, default=2,
                   help="measured rounds; odd rounds run the series in reverse order (default 2)")
    p.add_argument("--warmup", type=int, default=3, help="warm-up seconds per series (default 3, 0 = none)")
    p.add_argument("--tokens", type=int, default=10000, help="distinct tokens per algorithm (default 10000)")
    p.add_argument("--cache-size", type=int, default=None,
                   help="Portcullis auth.token_cache_size (default: tokens/10, so that a pool cycled in "
                        "order never hits the cache; the cached series still hits)")
    p.add_argument("--only", default=",".join(KINDS),
                   help=f"comma-separated series kinds (default {','.join(KINDS)})")
    p.add_argument("--algs", default=",".join(ALGS), help=f"comma-separated algorithms (default {','.join(ALGS)})")
    p.add_argument("--connections", "-c", type=int, default=64, help="wrk connections (default 64)")
    p.add_argument("--threads", "-t", type=int, default=1, help="wrk threads (default 1)")
    p.add_argument("--probe-duration", type=int, default=8,
                   help="seconds per event-loop stall probe run (default 8; 0 = skip the stall phase)")
    p.add_argument("--probe-interval-ms", type=int, default=5,
                   help="probe pause between its requests, ms (default 5: ~200 req/s on one connection)")
    p.add_argument("--json", metavar="FILE", help="also write all runs and the summary as JSON")
    p.add_argument("--keep-going", action="store_true", help="if a proxy fails, drop it and measure the rest")
    p.add_argument("--no-pin", action="store_true", help="do not pin with taskset (not comparable)")
    p.add_argument("--pause", type=float, default=1.0, help="seconds of rest between runs (default 1)")
    p.add_argument("--wrk-timeout", type=int, default=2, help="wrk per-request timeout, seconds (default 2)")
    p.add_argument("--start-timeout", type=float, default=20.0, help="seconds to wait for each process (default 20)")
    p.add_argument("--build-timeout", type=int, default=1800, help="seconds for swift build (default 1800)")
    p.add_argument("--keep-tmp", action="store_true", help="keep the temp dir with configs, keys, tokens, logs")
    args = p.parse_args(argv)
    kinds = [k.strip().lower() for k in args.only.split(",") if k.strip()]
    if not kinds or any(k not in KINDS for k in kinds) or len(set(kinds)) != len(kinds):
        p.error(f"--only takes distinct names from {','.join(KINDS)}; got {args.only!r}")
    algs = [a.strip().lower() for a in args.algs.split(",") if a.strip()]
    if not algs or any(a not in ALGS for a in algs) or len(set(algs)) != len(algs):
        p.error(f"--algs takes distinct names from {','.join(ALGS)}; got {args.algs!r}")
    for name in ("duration", "rounds", "connections", "threads", "tokens"):
        if getattr(args, name) <= 0:
            p.error(f"--{name.replace('_', '-')} must be positive")
    if not (0 <= args.warmup <= 600 and args.duration <= 600 and args.rounds <= 50
            and 0 <= args.probe_duration <= 600 and 1 <= args.probe_interval_ms <= 1000):
        p.error("keep --warmup, --duration, --probe-duration within 600s, --rounds within 50, "
                "--probe-interval-ms within 1..1000")
    if args.tokens > 200_000:
        p.error("--tokens at most 200000 (each wrk thread holds the whole pool)")
    if args.cache_size is None:
        args.cache_size = max(1, args.tokens // 10)
    if not 0 <= args.cache_size <= 10_000_000:
        p.error("--cache-size within 0..10000000")
    if args.connections < args.threads:
        p.error("--connections must be >= --threads")
    args.kinds = kinds
    args.algs = algs
    return args


def run_bench(args, tmp, procs):
    started = datetime.datetime.now(datetime.timezone.utc)
    ensure_tools(TOOLS)
    machine = machine_info()
    if not args.no_pin and len(os.sched_getaffinity(0) & {SUT_CPU, LOAD_CPU}) < 2:
        log(f"warning: CPUs {LOAD_CPU} and {SUT_CPU} are not both available; not pinning")
        args.no_pin = True
    procs.pin = not args.no_pin

    series = [series_id(k, a) for a in args.algs for k in KINDS
              if k in args.kinds and (k != "public" or a == args.algs[0])]
    proxies = [p for p in ("portcullis", "haproxy") if any(KIND_PROXY[s.split("/")[0]] == p for s in series)]
    stall_algs = [a for a in args.algs if a != "hs256"] or list(args.algs)

    # Time bound: tokens must outlive the run (exp is checked by Portcullis).
    estimate = (len(series) * (args.warmup + args.pause + args.rounds * (args.duration + args.pause))
                + (len(stall_algs) * 2 + 3) * (args.probe_duration + 4) + 120)
    lifetime = max(3600, 2 * estimate)

    bench = Bench(args, tmp, procs)
    if "portcullis" in proxies:
        try:  # build before pinning ourselves to CPU 0, so the build may use every CPU
            bench.portcullis_bin = portcullis_binary(args)
        except TargetFailed as exc:
            bench.drop(exc)
    t0 = time.monotonic()
    bench.keys, libs = make_keys_and_tokens(tmp, args.tokens, lifetime)
    gen_s = time.monotonic() - t0
    if procs.pin:
        os.sched_setaffinity(0, {LOAD_CPU})

    proxies = [p for p in proxies if p not in bench.skipped]
    proxies = bench.start_all(proxies)
    series = [s for s in series if KIND_PROXY[s.split("/")[0]] in proxies]
    vers = versions(proxies + ["haproxy"], bench.portcullis_bin if "portcullis" in proxies else None)
    vers["openssl"] = first_line(command_output(["openssl", "version"])[1])
    vers.update(libs)

    log(f"Portcullis auth bench  {started:%Y-%m-%d %H:%M:%SZ}  commit {git_commit(REPO) or '-'}")
    log(f"machine : nproc {machine['nproc']}, {machine['cpu_model']}, "
        f"{(machine['mem_total_kib'] or 0) / 1048576:.0f} GiB, kernel {machine['kernel']}, "
        f"loadavg {' '.join(machine['loadavg'])}")
    log("versions: " + " | ".join(f"{k}: {v}" for k, v in vers.items()))
    log(f"setup   : backend nginx `return 200` (1 worker, CPU {LOAD_CPU}); wrk -t{args.threads} "
        f"-c{args.connections} + Lua rotating `Authorization: Bearer` through the token file (CPU {LOAD_CPU}); "
        f"proxies 1 thread/event loop (CPU {SUT_CPU}); {'pinned' if procs.pin else 'NOT pinned'}")
    log(f"tokens  : {args.tokens} distinct per algorithm (sub/jti distinct, kid set, exp now+{lifetime // 60} min), "
        f"made in {gen_s:.1f}s; sizes " + ", ".join(f"{ALG_NAME[a]} {bench.keys[a]['token_bytes']} B"
                                                    for a in args.algs))
    log(f"cache   : Portcullis auth.token_cache_size {args.cache_size}"
        + (": cache off, every request verifies (the cached series then verifies too)" if args.cache_size == 0
           else f" < pool {args.tokens}: tokens come back in order {args.tokens} requests apart and a full "
           f"CLOCK cache evicts never-hit entries first, so the distinct series always miss (verify + insert "
           f"+ evict); a cache >= the pool would turn them into hits after the first pass"
           if args.cache_size < args.tokens else f" >= pool {args.tokens}: the distinct series HIT the cache "
                                                  f"after the first pass; not a verification benchmark"))
    log("HAProxy : deny unless http_auth_bearer,jwt_header_query('$.alg') == alg, deny unless "
        "jwt_verify(alg, key) == 1 (HS256: the secret string; RS256/ES256: the SPKI PEM file), "
        "del-header Authorization. jwt_verify checks the SIGNATURE ONLY: no exp/nbf/iat "
        "(HAProxy 2.6 checks no claim) — Portcullis also parses the claims and checks exp.")
    log(f"runs    : warm-up {args.warmup:g}s per series, then {args.rounds} round(s) x {args.duration:g}s, "
        f"interleaved; series: {', '.join(series_label(s) for s in series)}")
    checks = bench.checks
    exp_h = [c for c in checks if c["proxy"] == "haproxy" and c["case"] == "expired"]
    log(f"checks  : {len(checks)} preflight requests: valid tokens 200; no token, wrong key, wrong alg 401"
        + ("; expired token: Portcullis 401" if any(c["proxy"] == "portcullis" for c in checks) else "")
        + (f", HAProxy {'/'.join(str(c['got']) for c in exp_h)} (exp not checked)" if exp_h else ""))
    if bench.skipped:
        log(f"skipped : {', '.join(PROXY_LABEL[p] for p in bench.skipped)}")
    log()

    def alive(sid):
        return KIND_PROXY[sid.split("/")[0]] not in bench.skipped

    if args.warmup > 0:
        for sid in series:
            if not alive(sid):
                continue
            log(f"warm-up  {series_label(sid)} ({args.warmup:g}s)")
            try:
                bench.wrk(sid, args.warmup)
                bench.check_alive(KIND_PROXY[sid.split("/")[0]])
            except TargetFailed as exc:
                bench.drop(exc)

    runs = []
    for r in range(args.rounds):
        order = series if r % 2 == 0 else list(reversed(series))
        for sid in order:
            if not alive(sid):
                continue
            time.sleep(args.pause)
            try:
                run = bench.measure(sid, args.duration, r + 1)
            except TargetFailed as exc:
                bench.drop(exc)
                continue
            runs.append(run)
            log(f"[round {r + 1}/{args.rounds}] {progress_line(run)}")

    stall = []
    if args.probe_duration > 0:
        plan = []
        for proxy in proxies:
            plan.append((proxy, None))
            kinds = ["portcullis", "cached"] if proxy == "portcullis" else ["haproxy"]
            for kind in kinds:
                if kind not in args.kinds:
                    continue
                algs = stall_algs if kind != "cached" else stall_algs[-1:]
                plan += [(proxy, series_id(kind, a)) for a in algs]
        log(f"\nevent-loop stall probe: wrk -t1 -c1 GET {PUBLIC_PATH} (no auth), one request every "
            f"{args.probe_interval_ms} ms{' at nice -10' if os.geteuid() == 0 else ''}, {args.probe_duration}s, "
            f"alone and inside a -c{args.connections} load")
        for proxy, sid in plan:
            if proxy in bench.skipped:
                continue
            time.sleep(args.pause)
            try:
                res = bench.stall_run(proxy, sid)
            except TargetFailed as exc:
                bench.drop(exc)
                continue
            stall.append(res)
            log(f"  {PROXY_LABEL[proxy]:<10} load {sid or 'none':<18} probe p50 {res['probe_p50_us'] / 1000:.2f} ms"
                f"  p99 {res['probe_p99_us'] / 1000:.2f} ms  max {res['probe_max_us'] / 1000:.2f} ms"
                + (f"  (load {res['load_rps']:,.0f} req/s)" if "load_rps" in res else ""))

    measured = [s for s in series if any(r["series"] == s for r in runs)]
    summary = summarize(runs, measured)
    rat = ratios(summary, args.algs)
    log()
    log(f"Results: median (min–max) over {args.rounds} run(s) of {args.duration:g}s. CPU µs/req and RSS: the "
        f"proxy's (utime+stime from /proc over the run / requests). upstream conns: connections the backend "
        f"accepted during a run. CPUn others: share of that CPU taken by processes not started here.")
    for alg in args.algs:
        if any(s.endswith("/" + alg) for s in measured):
            log(f"\n{ALG_TITLE[alg]}, {args.tokens} distinct tokens")
            log(render_alg_table(summary, alg, measured))
    log()
    log(render_ratios(rat))
    log("note: HAProxy's figure is signature verification only (2.6 jwt_verify checks no claim, not exp); "
        "Portcullis verifies the signature and parses and checks the claims (exp, nbf, iat).")
    if stall:
        log()
        log("Event-loop stalls: a 1-connection probe on the unauthenticated route, alone and during the load "
            "(64 connections, closed loop). Verification runs on the proxy's one event loop, so every "
            "verification queued ahead of the probe delays it; compare fresh tokens with the cached load, "
            "which keeps the loop just as saturated with cheap auth. "
            f"{args.connections}xCPU/req: the loop time for one request per connection, from the measured "
            "runs' median CPU µs/req — what a request waits behind in a closed loop.")
        log(render_stall(stall, summary, args.connections))
    bad_valid = [r for r in runs if r["non2xx"]]
    if bad_valid:
        log(f"\nERROR: {len(bad_valid)} run(s) got non-2xx answers for valid tokens: "
            + ", ".join(f"{series_label(r['series'])} round {r['round']}: {r['non2xx']}" for r in bad_valid))
    noisy = [r for r in runs if noisiness(r) > NOISY_PCT]
    if noisy:
        log(f"\nWARNING: other processes or hypervisor steal took up to {max(noisiness(r) for r in noisy):.0f}% of a benchmark CPU "
            f"during {len(noisy)} of {len(runs)} runs (marked NOISY); rerun when the machine is quiet.")
    if bench.skipped:
        log()
        for p, why in bench.skipped.items():
            log(f"NOT MEASURED: {PROXY_LABEL[p]}: " + "\n    ".join(why.splitlines()[:4]))

    if args.json:
        doc = {
            "bench": "auth", "started": started.isoformat(), "commit": git_commit(REPO),
            "machine": machine, "versions": vers,
            "settings": {k: v for k, v in vars(args).items() if k != "json"},
            "pinned": procs.pin, "sut_cpu": SUT_CPU, "load_cpu": LOAD_CPU, "clk_tck": CLK_TCK,
            "irq_time_in_tasks": IRQ_TIME_IN_TASKS, "token_lifetime_s": lifetime,
            "token_bytes": {a: bench.keys[a]["token_bytes"] for a in args.algs},
            "haproxy_checks_exp": False,
            "checks": checks, "series": measured, "skipped": bench.skipped,
            "runs": runs, "summary": summary, "ratios": rat, "stall": stall,
        }
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n")
        log(f"\nwrote {args.json}")
    if bench.skipped or bad_valid:
        args.keep_tmp = True
        return 2
    return 0


def main(argv):
    return run_main(argv, parse_args, run_bench, tmp_prefix='portcullis-auth-bench-',
                    failure_hint='--keep-going measures the other proxy; --only haproxy leaves Portcullis out',
                    kept_what='configs, keys, tokens and logs')


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
