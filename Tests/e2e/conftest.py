"""Fixtures for the end-to-end suite: the built `portcullis` binary behind real clients.

PORTCULLIS_BIN names the binary (scripts/test sets it; default .build/debug/portcullis).

- `portcullis(upstreams, routes, ...)` writes a YAML config into tmp_path, starts
  `portcullis serve --config FILE` with stdout/stderr captured to files, waits until the
  admin /healthz answers 200 and every listener accepts, and on teardown sends SIGTERM
  (SIGKILL after 10 s). A process that died on its own during a test fails the test.
- `upstream(app)`, `raw_upstream(handler)`, `ws_upstream()`: servers from upstreams.py,
  stopped at teardown.
- `http`: a requests.Session that ignores proxy environment variables.
- `tls_certs`: a CA and two leaf certificates (a.test, b.test) made with openssl.
"""

from __future__ import annotations

import json
import secrets
import os
import signal
import socket
import subprocess
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import urllib3

from upstreams import HTTPUpstream, RawUpstream, WebSocketEchoUpstream, echo_app

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def stop_process(proc: subprocess.Popen, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM, then SIGKILL if `proc` has not exited within `timeout`; nothing if it already
    has. The one way the suite stops the processes it started."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
MiB = 1024 * 1024


def portcullis_bin() -> str:
    return os.environ.get("PORTCULLIS_BIN") or str(REPO_ROOT / ".build" / "debug" / "portcullis")


def pytest_configure(config):
    binary = portcullis_bin()
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        raise pytest.UsageError(
            f"portcullis binary not found at {binary!r}: run `swift build` and set "
            "PORTCULLIS_BIN=$(swift build --show-bin-path)/portcullis (scripts/test does)")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def hs256_secret() -> bytes:
    """A random HMAC secret for a `secret_file`. Hex text, so it never ends in a newline the
    edge would trim (as it does for files written by editors and `echo`): 32 random bytes
    end in 0x0A once in 256 runs, and the key is then one byte short."""
    return secrets.token_hex(32).encode()


_handed_out_ports: set[int] = set()


def free_port() -> int:
    """A loopback TCP port that was free a moment ago and that this run has not handed out
    before. The kernel may give the same ephemeral port to two binds in a row once the first
    socket is closed, so two calls for one config (listener and admin) could otherwise get
    the same port and the edge would rightly refuse to start."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out_ports:
            _handed_out_ports.add(port)
            return port


# --- config ---------------------------------------------------------------------------

def to_yaml(value, indent: int = 0) -> str:
    """Block-style YAML with every string double-quoted (JSON string syntax is valid YAML),
    so no value is ever read as a number, bool or sexagesimal."""
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return pad + "{}\n"
        out = []
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                out.append(f"{pad}{key}:\n{to_yaml(item, indent + 1)}")
            else:
                out.append(f"{pad}{key}: {_scalar(item)}\n")
        return "".join(out)
    if isinstance(value, list):
        if not value:
            return pad + "[]\n"
        out = []
        for item in value:
            if isinstance(item, (dict, list)) and item:
                body = to_yaml(item, indent + 1)
                out.append(f"{pad}- {body.lstrip()}")
            else:
                out.append(f"{pad}- {_scalar(item)}\n")
        return "".join(out)
    return pad + _scalar(value) + "\n"


def _scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return json.dumps(str(value))


def pool(*servers: str, **options) -> dict:
    """An upstream pool entry: `pool(up.addr, connect_timeout="1s")`."""
    entry = {"servers": list(servers), "connect_timeout": "1s", "response_timeout": "10s"}
    entry.update(options)
    return entry


def route(name: str, path: str, upstream: str, *, host: str | None = None,
          methods: list[str] | None = None, strip_prefix: bool | None = None, **extra) -> dict:
    """A route entry: `route("api", "/api", "app", host="api.test", strip_prefix=True)`."""
    match: dict = {}
    if host is not None:
        match["host"] = host
    match["path"] = path
    if methods is not None:
        match["methods"] = methods
    proxy: dict = {"upstream": upstream}
    if strip_prefix is not None:
        proxy["strip_prefix"] = strip_prefix
    entry = {"name": name, "match": match, "proxy": proxy}
    entry.update(extra)
    return entry


# --- the process under test -------------------------------------------------------------

@dataclass
class Portcullis:
    """A running `portcullis serve` and the ports it was told to use."""

    proc: subprocess.Popen
    config_path: Path
    stderr_path: Path
    stdout_path: Path
    port: int
    admin_port: int
    tls_port: int | None = None
    terminated: bool = field(default=False)
    admin_tls: bool = field(default=False)
    config: dict = field(default_factory=dict)

    def rewrite_config(self, config: dict) -> None:
        """Replaces the conf file (atomically, as operators' tools do) with `config`."""
        staging = self.config_path.with_suffix(".new")
        staging.write_text(to_yaml(config))
        os.replace(staging, self.config_path)
        self.config = config

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def admin_url(self) -> str:
        scheme = "https" if self.admin_tls else "http"
        return f"{scheme}://127.0.0.1:{self.admin_port}"

    def rss_bytes(self) -> int:
        """VmRSS of the process, from /proc."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS in /proc status")

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def output(self) -> str:
        return self.stdout_path.read_text(errors="replace") + self.stderr()

    def wait_for_stderr(self, text: str, timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.stderr():
                return True
            time.sleep(0.05)
        return text in self.stderr()

    def sigterm(self) -> None:
        self.terminated = True
        self.proc.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.terminated = True
            stop_process(self.proc)

    def tail(self, lines: int = 60) -> str:
        """The last output lines; for a crash, the lines around the fatal error and the
        crashed thread's first frames instead of the end of the backtrace."""
        out = self.output().splitlines()
        markers = ("Fatal error", "Program crashed", "Precondition failed", "Assertion failed")
        first = next((i for i, line in enumerate(out) if any(m in line for m in markers)), None)
        if first is None:
            return "\n".join(out[-lines:])
        picked = out[max(0, first - 10):first + 4]
        crashed = next((i for i, line in enumerate(out) if line.endswith("crashed:")), None)
        if crashed is not None:
            picked += ["..."] + out[crashed:crashed + 25]
        return "\n".join(picked)


def _wait_ready(pc: Portcullis) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    session = requests.Session()
    session.trust_env = False
    ports = [pc.port] + ([pc.tls_port] if pc.tls_port else [])
    last_error = ""
    while time.monotonic() < deadline:
        if pc.proc.poll() is not None:
            pytest.fail(f"portcullis exited with {pc.proc.returncode} during startup; "
                        f"config {pc.config_path}\n--- output ---\n{pc.tail(80)}")
        try:
            # A TLS admin listener's certificate names a test host, not 127.0.0.1.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
                r = session.get(pc.admin_url + "/healthz", timeout=1, verify=not pc.admin_tls)
            if r.status_code == 200:
                for port in ports:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            last_error = f"/healthz answered {r.status_code}"
        except (requests.RequestException, OSError) as exc:
            last_error = repr(exc)
        time.sleep(0.1)
    pytest.fail(f"portcullis not ready after {READY_TIMEOUT:.0f}s ({last_error}); "
                f"config {pc.config_path}\n--- output ---\n{pc.tail(80)}")


def launch_portcullis(directory: Path, n: int, upstreams: dict, routes: list, *,
                      listener: dict | None = None, tls: list[dict] | None = None,
                      edge: dict | None = None, tls_listener: dict | None = None,
                      extra: dict | None = None, admin: dict | None = None,
                      admin_host: str = "127.0.0.1", port: int | None = None) -> Portcullis:
    """Writes a config into `directory` (files numbered `n`), starts `portcullis serve` on
    it and waits until it is ready. `admin` adds keys to `admin:` (`publish`, `tls`);
    `admin_host` is the host its address binds."""
    port, admin_port = port or free_port(), free_port()
    tls_port = free_port() if tls else None
    main = {"name": "main", "address": f"127.0.0.1:{port}"}
    main.update(listener or {})
    listeners = [main]
    if tls:
        tls_entry = {"name": "tls", "address": f"127.0.0.1:{tls_port}",
                     "tls": {"certificates": tls}}
        tls_entry.update(tls_listener or {})
        listeners.append(tls_entry)
    edge_settings = {"id": f"e2e-{n}", "drain_timeout": "5s", "event_loops": 2}
    edge_settings.update(edge or {})
    config = {
        "version": 1,
        "edge": edge_settings,
        "listeners": listeners,
        "admin": {"address": f"{admin_host}:{admin_port}", **(admin or {})},
        "upstreams": upstreams,
        "routes": routes,
    }
    config.update(extra or {})
    config_path = directory / f"portcullis-{n}.yaml"
    config_path.write_text(to_yaml(config))
    stderr_path = directory / f"portcullis-{n}.stderr"
    stdout_path = directory / f"portcullis-{n}.stdout"
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        proc = subprocess.Popen([portcullis_bin(), "serve", "--config", str(config_path)],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                cwd=directory)
    pc = Portcullis(proc, config_path, stderr_path, stdout_path, port, admin_port, tls_port,
                    config=config, admin_tls="tls" in (admin or {}))
    try:
        _wait_ready(pc)
    except BaseException:
        pc.stop()
        raise
    return pc


@pytest.fixture
def portcullis(tmp_path, request):
    """Factory: `proxy = portcullis(upstreams={...}, routes=[...])`."""
    started: list[Portcullis] = []

    def start(upstreams: dict, routes: list, **options) -> Portcullis:
        pc = launch_portcullis(tmp_path, len(started), upstreams, routes, **options)
        started.append(pc)
        return pc

    yield start

    _stop_processes(request, "portcullis", started)


def _stop_processes(request, name: str, started: list) -> None:
    """Teardown of a process factory: stops each process (`.stop()`), prints its config and
    output when the test failed, and fails the test if one exited without being told to
    (`.terminated` is set by the test's own SIGTERM/SIGKILL)."""
    problems = []
    for process in started:
        if process.proc.poll() is not None and not process.terminated:
            problems.append(f"{name} (pid {process.pid}) exited on its own with "
                            f"{process.proc.returncode} during the test\n{process.tail()}")
        process.stop()
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            print(f"\n--- {name} pid {process.pid} config {process.config_path} ---\n"
                  f"{process.config_path.read_text()}--- last output ---\n{process.tail()}")
    if problems:
        pytest.fail("\n".join(problems))


@pytest.fixture
def upstream():
    """Factory: `up = upstream(app=echo_app, name="app")` → a started HTTPUpstream."""
    servers: list = []

    def start(app=echo_app, name: str = "up", port: int = 0) -> HTTPUpstream:
        server = HTTPUpstream(app, name, port)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def raw_upstream():
    servers: list = []

    def start(handler, name: str = "raw") -> RawUpstream:
        server = RawUpstream(handler, name)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def ws_upstream():
    server = WebSocketEchoUpstream()
    yield server
    server.stop()


@pytest.fixture
def http():
    session = requests.Session()
    session.trust_env = False  # never send loopback traffic to an environment proxy
    yield session
    session.close()


@pytest.fixture
def dead_addr() -> str:
    """host:port on loopback where nothing listens (connects are refused)."""
    return f"127.0.0.1:{free_port()}"


# --- TLS material -------------------------------------------------------------------------

@dataclass
class TLSCerts:
    dir: Path
    ca: Path
    a_cert: Path
    a_key: Path
    b_cert: Path
    b_key: Path


def _openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed:\n{result.stderr}")


@pytest.fixture(scope="session")
def tls_certs(tmp_path_factory) -> TLSCerts:
    """A test CA and two EC P-256 leaves it signed: a.test and b.test."""
    d = tmp_path_factory.mktemp("tls")
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
             "-subj", "/CN=Portcullis E2E Test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    for name in ("a", "b"):
        _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}.test",
                 cwd=d)
        (d / f"{name}.ext").write_text(
            f"subjectAltName=DNS:{name}.test\nbasicConstraints=CA:FALSE\n"
            "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", f"{name}.pem", "-days", "30",
                 "-extfile", f"{name}.ext", cwd=d)
    return TLSCerts(d, d / "ca.pem", d / "a.pem", d / "a.key", d / "b.pem", d / "b.key")


# --- Redis --------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """The Redis that scripts/test started (PORTCULLIS_TEST_REDIS_URL), or a redis-server of
    our own on a free loopback port for runs outside scripts/test."""
    url = os.environ.get("PORTCULLIS_TEST_REDIS_URL")
    if url:
        yield url
        return
    port = free_port()
    data = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(data)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


# --- socket routes: portcullis-rooms, bus prefixes, a private Redis -----------------------
#
# - `bus_prefix`: a fresh `t<hex>` bus prefix per test, so tests that share the session
#   Redis never see each other's streams. `edge_id()` makes unique edge ids.
# - `rooms(redis_url, prefix, ...)`: starts `portcullis-rooms serve` (PORTCULLIS_ROOMS_BIN,
#   default next to the portcullis binary) with the echo app, waits until its consumer is
#   in the app's group, and stops it at teardown (SIGTERM, SIGKILL after 10 s). A worker
#   that died on its own fails the test; `Rooms.kill()` is a deliberate SIGKILL.
# - `private_redis`: a redis-server of the test's own on a free loopback port, which the
#   test may stop and start again on the same port.

def rooms_bin() -> str:
    return os.environ.get("PORTCULLIS_ROOMS_BIN") or str(Path(portcullis_bin()).parent / "portcullis-rooms")


def edge_id() -> str:
    """A unique edge id (1–32 of A-Z a-z 0-9 _ -)."""
    return "e" + os.urandom(5).hex()


@pytest.fixture
def bus(redis_url):
    """redis-py on the session Redis, to read and write the bus streams."""
    import redis as redis_py
    client = redis_py.Redis.from_url(redis_url, socket_timeout=10)
    yield client
    client.close()


@pytest.fixture
def bus_prefix() -> str:
    return "t" + os.urandom(6).hex()


@dataclass
class Rooms:
    """A running `portcullis-rooms serve`."""

    proc: subprocess.Popen
    config_path: Path
    output_path: Path
    worker_id: str
    prefix: str
    redis_url: str
    terminated: bool = False

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.output_path.read_text(errors="replace")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM kill would: nothing is acknowledged afterwards."""
        self.terminated = True
        self.proc.kill()
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.terminated = True
            stop_process(self.proc)


def _wait_consumer(worker: Rooms, app: str, timeout: float = 15.0) -> None:
    """Waits until the worker's consumer is in `portcullis-rooms:<app>` (it is reading)."""
    import redis as redis_py
    client = redis_py.Redis.from_url(worker.redis_url, socket_timeout=2)
    stream, group = f"{worker.prefix}:in:{app}", f"portcullis-rooms:{app}"
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if worker.proc.poll() is not None:
                pytest.fail(f"portcullis-rooms exited with {worker.proc.returncode} during startup; "
                            f"config {worker.config_path}\n--- output ---\n{worker.tail()}")
            try:
                names = {c["name"].decode() for c in client.xinfo_consumers(stream, group)}
                if worker.worker_id in names:
                    return
            except redis_py.RedisError:
                pass
            time.sleep(0.05)
    finally:
        client.close()
    pytest.fail(f"portcullis-rooms consumer {worker.worker_id} not in {group} after {timeout:.0f}s\n"
                f"--- output ---\n{worker.tail()}")


@pytest.fixture
def rooms(tmp_path, request):
    """Factory: `worker = rooms(redis_url, bus_prefix, worker_id="w-a", claim_idle="1s")`."""
    started: list[Rooms] = []

    def start(redis_url: str, prefix: str, *, worker_id: str | None = None, claim_idle: str = "1s",
              reap_interval: str | None = "1s", apps: tuple[str, ...] = ("echo",), wait: bool = True,
              redis: dict | None = None) -> Rooms:
        n = len(started)
        worker_id = worker_id or f"rooms-{n}-{os.urandom(3).hex()}"
        worker = {"id": worker_id, "claim_idle": claim_idle}
        if reap_interval is not None:
            worker["reap_interval"] = reap_interval
        # `redis` adds keys beside the URL (username, password_file, tls); `wait` then needs
        # a URL redis-py can use as it is.
        config = {"redis": {"url": redis_url, **(redis or {})}, "bus": {"prefix": prefix}, "worker": worker,
                  "apps": list(apps)}
        config_path = tmp_path / f"rooms-{n}.yaml"
        config_path.write_text(to_yaml(config))
        output_path = tmp_path / f"rooms-{n}.log"
        with open(output_path, "wb") as out:
            proc = subprocess.Popen([rooms_bin(), "serve", "--config", str(config_path)],
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    cwd=tmp_path)
        handle = Rooms(proc, config_path, output_path, worker_id, prefix, redis_url)
        started.append(handle)
        if wait:
            for app in apps:
                _wait_consumer(handle, app)
        return handle

    yield start

    _stop_processes(request, "portcullis-rooms", started)


class PrivateRedis:
    """A redis-server of one test's own (no persistence), stoppable and restartable on the
    same port."""

    def __init__(self, directory: Path):
        self.dir = directory
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self):
        import redis as redis_py
        return redis_py.Redis.from_url(self.url, socket_timeout=5)

    def start(self, timeout: float = 10.0) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        log = open(self.dir / f"redis-{self.starts}.log", "wb")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server on port {self.port} exited with {self.proc.returncode}: "
                                   + (self.dir / f"redis-{self.starts}.log").read_text(errors="replace")[-2000:])
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} not ready after {timeout:.0f}s")

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)


@pytest.fixture
def private_redis(tmp_path):
    d = tmp_path / "private-redis"
    d.mkdir()
    server = PrivateRedis(d)
    server.start()
    yield server
    server.stop()
