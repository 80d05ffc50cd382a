"""Runs the hostile-request suite (Tests/e2e/hostile.py) through Portcullis, nginx and
HAProxy, each in front of the same recording backend, and prints what each did per case.

Every proxy gets the same setup: `/public` open, `/admin` only with
`Authorization: Bearer <token>` (Portcullis checks a JWT; nginx and HAProxy compare the
same string), `site.test`, a 1 MiB body limit on `/public`, and the client's
`X-Auth-Subject`/`X-Auth-Scopes` removed (the headers an auth layer would set). nginx and
HAProxy use their common reverse-proxy settings (`proxy_pass` without a URI part and
`$proxy_add_x_forwarded_for`; `option forwardfor`), nothing hardened beyond that.

An outcome is `refused <status>` (the backend saw nothing), `forwarded <target>`, or
`UNSAFE: …` (the backend read two requests from one, reached /admin without the
token, got no or two Hosts, or a client-sent identity header). The table and the counts
go to stdout and to OUT/compare.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "Tests" / "e2e"))
sys.path.insert(0, str(ROOT / "scripts" / "bench"))

import jwt  # noqa: E402

from benchkit import ensure_tools, free_ports, http_get  # noqa: E402
from hostile import CASES, SERVER_NAME, RecordingBackend, outcome, send  # noqa: E402

PROXIES = ["portcullis", "nginx", "haproxy"]
SECRET = b"hostile-compare-secret-0123456789abcdef"


def nginx_conf(prefix: Path, port: int, backend: int, token: str) -> str:
    proxy = f"""proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";
            proxy_set_header Host $host; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Auth-Subject ""; proxy_set_header X-Auth-Scopes "";"""
    return f"""worker_processes 1;
daemon off;
error_log {prefix}/error.log warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi; uwsgi_temp_path {prefix}/uwsgi; scgi_temp_path {prefix}/scgi;
    upstream app {{ server 127.0.0.1:{backend}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{port};
        server_name site.test {SERVER_NAME};
        location /public {{ client_max_body_size 1m; {proxy} }}
        location /admin {{
            if ($http_authorization != "Bearer {token}") {{ return 401; }}
            {proxy}
        }}
        location / {{ return 404; }}
    }}
}}
"""


def haproxy_cfg(port: int, backend: int, token: str) -> str:
    return f"""global
    maxconn 2000
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    option http-keep-alive
frontend fe
    bind 127.0.0.1:{port}
    http-request deny deny_status 401 if {{ path_beg /admin }} !{{ req.hdr(authorization) -m str "Bearer {token}" }}
    http-request deny deny_status 413 if {{ path_beg /public }} {{ req.hdr_val(content-length) gt 1048576 }}
    http-request del-header X-Auth-Subject
    http-request del-header X-Auth-Scopes
    option forwardfor
    use_backend app if {{ path_beg /public }} or {{ path_beg /admin }}
    default_backend notfound
backend notfound
    http-request deny deny_status 404
backend app
    http-reuse always
    server s1 127.0.0.1:{backend}
"""


def portcullis_conf(directory: Path, port: int, admin: int, backend: int) -> str:
    (directory / "hs.key").write_bytes(SECRET)
    return f"""version: 1
edge: {{ id: compare, event_loops: 1, access_log: false }}
listeners:
  - {{ name: main, address: "127.0.0.1:{port}", server_name: {SERVER_NAME} }}
admin: {{ address: "127.0.0.1:{admin}" }}
auth:
  key_sets:
    main: [ {{ secret_file: {directory}/hs.key, alg: HS256, kid: k1, default: true }} ]
upstreams:
  app: {{ servers: ["127.0.0.1:{backend}"] }}
routes:
  - {{ name: public, match: {{ path: /public }}, proxy: {{ upstream: app }}, max_body_size: 1MiB }}
  - {{ name: admin, match: {{ path: /admin }}, proxy: {{ upstream: app }}, auth: {{ key_set: main }} }}
"""


def wait_port(port: int, proc: subprocess.Popen, name: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{name} exited with {proc.returncode} during startup")
        try:
            http_get(port, "/", timeout=0.5)
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"{name} did not start listening on {port}")


def version(argv: list[str]) -> str:
    result = subprocess.run(argv, capture_output=True, text=True)
    return (result.stdout + result.stderr).strip().splitlines()[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--portcullis", default=str(ROOT / ".build" / "debug" / "portcullis"))
    parser.add_argument("--out", default=str(ROOT / "out" / "hostile"))
    args = parser.parse_args()
    ensure_tools({"nginx": "nginx-light", "haproxy": "haproxy"})
    now = int(time.time())
    token = jwt.encode({"sub": "user-42", "iat": now, "exp": now + 3600}, SECRET, algorithm="HS256",
                       headers={"kid": "k1"})
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    backend = RecordingBackend()
    procs: dict[str, subprocess.Popen] = {}
    ports = dict(zip(["portcullis", "admin", "nginx", "haproxy"], free_ports(4)))
    results: dict[str, dict[str, str]] = {name: {} for name in PROXIES}
    with tempfile.TemporaryDirectory(prefix="hostile-compare-") as tmp:
        work = Path(tmp)
        try:
            conf = work / "portcullis.yaml"
            conf.write_text(portcullis_conf(work, ports["portcullis"], ports["admin"], backend.port))
            procs["portcullis"] = subprocess.Popen([args.portcullis, "serve", "--config", str(conf)],
                                                   stdout=subprocess.DEVNULL, stderr=open(work / "p.log", "wb"))
            nginx_dir = work / "nginx"
            nginx_dir.mkdir()
            (nginx_dir / "nginx.conf").write_text(nginx_conf(nginx_dir, ports["nginx"], backend.port, token))
            procs["nginx"] = subprocess.Popen(["nginx", "-p", str(nginx_dir), "-c", str(nginx_dir / "nginx.conf")],
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            (work / "haproxy.cfg").write_text(haproxy_cfg(ports["haproxy"], backend.port, token))
            procs["haproxy"] = subprocess.Popen(["haproxy", "-db", "-f", str(work / "haproxy.cfg")],
                                                stdout=subprocess.DEVNULL, stderr=open(work / "h.log", "wb"))
            for name in PROXIES:
                wait_port(ports[name], procs[name], name)
            for name in PROXIES:
                for case in CASES:
                    backend.settle()
                    before = len(backend.seen)
                    answer = send(ports[name], case, token)
                    backend.settle()
                    results[name][case.id] = outcome(case, answer, backend.seen[before:],
                                                     edge_sets_identity=name == "portcullis")
                alive = procs[name].poll() is None
                results[name]["(still serving)"] = "yes" if alive else f"NO: exited {procs[name].returncode}"
        finally:
            for proc in procs.values():
                proc.terminate()
            for proc in procs.values():
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
            backend.stop()
    report = render(results, {
        "portcullis": version([args.portcullis, "version"]),
        "nginx": version(["nginx", "-v"]).replace("nginx version: ", ""),
        "haproxy": version(["haproxy", "-v"]).split(" - ")[0],
    })
    (out / "compare.md").write_text(report)
    print(report)
    return 1 if any(v.startswith("UNSAFE") for v in results["portcullis"].values()) else 0


def render(results: dict[str, dict[str, str]], versions: dict[str, str]) -> str:
    lines = [f"Hostile-request suite: {len(CASES)} cases; " + "; ".join(f"{k} {v}" for k, v in versions.items()), ""]
    lines.append("| proxy | refused | forwarded | closed | UNSAFE |")
    lines.append("|---|---|---|---|---|")
    for name in PROXIES:
        values = [results[name][c.id] for c in CASES]
        count = lambda prefix: sum(v.startswith(prefix) for v in values)  # noqa: E731
        lines.append(f"| {name} | {count('refused')} | {count('forwarded')} | {count('closed')} | {count('UNSAFE')} |")
    lines += ["", "| case | kind | Portcullis | nginx | HAProxy |", "|---|---|---|---|---|"]
    for case in CASES:
        row = [results[name][case.id] for name in PROXIES]
        lines.append(f"| {case.id} | {case.kind} | " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    lines.append("| (still serving) | | " + " | ".join(results[n]["(still serving)"] for n in PROXIES) + " |")
    differs = [c.id for c in CASES
               if all(results["portcullis"][c.id].split(" ")[0:2] != results[o][c.id].split(" ")[0:2]
                      for o in ("nginx", "haproxy"))]
    lines += ["", f"Portcullis differs from both in {len(differs)} cases: " + ", ".join(differs), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
