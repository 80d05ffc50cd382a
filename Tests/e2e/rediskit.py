"""redis-server variants for the Redis client's end-to-end tests (test_redis_*.py): ACL users,
TLS only (with a CA, server and client certificates made by openssl), started by the test
on a free loopback port and stopped at teardown.

The server certificate names `redis.test` only (no IP address): connecting to 127.0.0.1
verifies only with `tls.server_name: redis.test`."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from conftest import _openssl, free_port

SERVER_NAME = "redis.test"
# The ACL of the tests' servers: one user with every right, the default user off, so a
# client without the right user and password can do nothing.
ACL_ARGS = ["--user", "portcullis", "on", ">s3cret-pw", "~*", "&*", "+@all", "--user", "default", "off"]
ACL_PASSWORD = "s3cret-pw"


@dataclass
class PKI:
    dir: Path
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path


def make_pki(d: Path) -> PKI:
    """A CA, a server certificate for redis.test and a client certificate signed by it, and
    another CA that signed neither (the wrong CA)."""
    d.mkdir(parents=True, exist_ok=True)
    for name, cn in (("ca", "Portcullis Redis Test CA"), ("other-ca", "Some Other CA")):
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN={cn}",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    leaves = {"server": (SERVER_NAME, f"subjectAltName=DNS:{SERVER_NAME}\nextendedKeyUsage=serverAuth\n"),
              "client": ("portcullis", "extendedKeyUsage=clientAuth\n")}
    for name, (cn, ext) in leaves.items():
        _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}", cwd=d)
        (d / f"{name}.ext").write_text(ext)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=d)
    return PKI(d, d / "ca.pem", d / "server.pem", d / "server.key", d / "client.pem", d / "client.key",
               d / "other-ca.pem")


class RedisServer:
    """One redis-server: plain TCP, or TLS only (`pki` given; `auth_clients` is its
    `tls-auth-clients`), with `args` added (ACL_ARGS)."""

    def __init__(self, d: Path, *, args: list[str] = (), pki: PKI | None = None, auth_clients: str = "yes"):
        d.mkdir(parents=True, exist_ok=True)
        self.dir, self.pki, self.port = d, pki, free_port()
        ports = ["--port", str(self.port)]
        if pki is not None:
            ports = ["--port", "0", "--tls-port", str(self.port), "--tls-cert-file", str(pki.server_cert),
                     "--tls-key-file", str(pki.server_key), "--tls-ca-cert-file", str(pki.ca),
                     "--tls-auth-clients", auth_clients]
        self.log = d / "redis.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                ["redis-server", *ports, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(d), *args],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while "Ready to accept connections" not in self.log.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not start:\n{self.log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"{'rediss' if self.pki else 'redis'}://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def wait_for_text(read, text: str, timeout: float = 10.0) -> bool:
    """Polls `read()` (a process's output) until it holds `text`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in read():
            return True
        time.sleep(0.05)
    return False


class Sentinel:
    """A Redis Sentinel (`redis-server FILE --sentinel`) monitoring the master on
    `master_port` as `name`, with quick failure detection."""

    def __init__(self, d: Path, master_port: int, name: str = "portcullis"):
        d.mkdir(parents=True, exist_ok=True)
        self.name, self.port = name, free_port()
        conf = d / "sentinel.conf"
        conf.write_text(f"port {self.port}\nbind 127.0.0.1\ndir {d}\n"
                        f"sentinel monitor {name} 127.0.0.1 {master_port} 1\n"
                        f"sentinel down-after-milliseconds {name} 1000\n"
                        f"sentinel failover-timeout {name} 5000\n")
        self.log = d / "sentinel.log"
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(["redis-server", str(conf), "--sentinel"],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        if not wait_for_text(lambda: self.log.read_text(errors="replace"), "+monitor master"):
            self.stop()
            raise RuntimeError(f"sentinel did not start:\n{self.log.read_text(errors='replace')[-2000:]}")

    def client(self):
        import redis as redis_py
        return redis_py.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def master(self) -> tuple[str, int]:
        host, port = self.client().execute_command("SENTINEL", "get-master-addr-by-name", self.name)
        return host.decode(), int(port)

    def failover(self, timeout: float = 30.0) -> None:
        """`SENTINEL failover`, asked again while the sentinel knows no replica to promote yet."""
        import redis as redis_py
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.client().execute_command("SENTINEL", "failover", self.name)
                return
            except redis_py.ResponseError as error:
                if "NOGOODSLAVE" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
