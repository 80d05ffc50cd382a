"""redis-server variants for the Redis client's end-to-end tests (test_redis_*.py): ACL users,
TLS only (with a CA, server and client certificates made by openssl), Sentinel, a local
Redis Cluster; started by the test on a free loopback port and stopped at teardown.

The server certificate names `redis.test` only (no IP address): connecting to 127.0.0.1
verifies only with `tls.server_name: redis.test`."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from conftest import _openssl, free_port, stop_process

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

    def __init__(self, d: Path, *, args: list[str] = (), pki: PKI | None = None, auth_clients: str = "yes",
                 port: int | None = None):
        d.mkdir(parents=True, exist_ok=True)
        self.dir, self.pki, self.port = d, pki, port or free_port()
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
        stop_process(self.proc)


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


def _free_port_pair(low: int = 7400, high: int = 7500) -> int:
    """A loopback port in `low..<high` that was free a moment ago, with its cluster bus port
    (port + 10000) free too."""
    import random
    import socket
    ports = list(range(low, high))
    random.shuffle(ports)
    for port in ports:
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", port))
                b.bind(("127.0.0.1", port + 10000))
                return port
        except OSError:
            continue
    raise RuntimeError(f"no free port pair in {low}..{high}")


class RedisCluster:
    """A local Redis Cluster of `masters` masters and no replicas, each node a redis-server
    with `--cluster-enabled yes` and an append-only file, joined with `redis-cli --cluster
    create`. `nodes[i]` serves the i-th third of the slots (0–5460, 5461–10922, 10923–16383)."""

    def __init__(self, d: Path, masters: int = 3):
        d.mkdir(parents=True, exist_ok=True)
        self.dir = d
        self.nodes: list[RedisServer] = []
        try:
            for _ in range(masters):
                self._start_node()
            subprocess.run(["redis-cli", "--cluster", "create", *self.seeds, "--cluster-replicas", "0",
                            "--cluster-yes"], check=True, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
            deadline = time.monotonic() + 30
            while not all(self.client(i).cluster("info")["cluster_state"] == "ok" and
                          len(self.client(i).cluster("slots")) == masters for i in range(masters)):
                assert time.monotonic() < deadline, "the cluster did not form"
                time.sleep(0.1)
        except BaseException:
            self.stop()
            raise

    def _start_node(self) -> int:
        index = len(self.nodes)
        node_dir = self.dir / f"node-{index}"
        self.nodes.append(RedisServer(node_dir, port=_free_port_pair(), args=[
            "--cluster-enabled", "yes", "--cluster-config-file", str(node_dir / "nodes.conf"),
            "--cluster-node-timeout", "2000", "--appendonly", "yes"]))
        return index

    def add_replica(self, master: int, timeout: float = 30.0) -> int:
        """Starts a node, makes it a replica of node `master` and waits until it has synced;
        returns its index."""
        import redis as redis_py
        index = self._start_node()
        master_id = self.node_id(master)
        self.client(0).execute_command("CLUSTER", "MEET", "127.0.0.1", self.nodes[index].port)
        deadline = time.monotonic() + timeout
        while True:  # REPLICATE fails until the new node has heard of the master
            try:
                self.client(index).execute_command("CLUSTER", "REPLICATE", master_id)
                break
            except redis_py.ResponseError:
                assert time.monotonic() < deadline, "the new node never learnt of its master"
                time.sleep(0.05)
        while self.client(index).info("replication").get("master_link_status") != "up":
            assert time.monotonic() < deadline, "the replica did not sync"
            time.sleep(0.05)
        return index

    def failover(self, replica: int) -> None:
        """`CLUSTER FAILOVER` on node `replica`: its master stops taking writes, the replica
        catches up and takes its slots over (nothing acknowledged is lost)."""
        self.client(replica).execute_command("CLUSTER", "FAILOVER")

    @property
    def seeds(self) -> list[str]:
        return [f"127.0.0.1:{node.port}" for node in self.nodes]

    def client(self, index: int):
        import redis as redis_py
        return redis_py.Redis(host="127.0.0.1", port=self.nodes[index].port, socket_timeout=10,
                              decode_responses=True)

    def node_id(self, index: int) -> str:
        return self.client(index).execute_command("CLUSTER", "MYID")

    def owner(self, key: str) -> int:
        """The index of the node that serves `key`'s slot."""
        slot = self.client(0).execute_command("CLUSTER", "KEYSLOT", key)
        for index in range(len(self.nodes)):
            for start, end, master, *_ in self.client(index).execute_command("CLUSTER", "SLOTS"):
                if start <= slot <= end and int(master[1]) == self.nodes[index].port:
                    return index
        raise AssertionError(f"no node serves slot {slot}")

    def migrate_slot(self, slot: int, source: int, target: int, keys_per_step: int = 20,
                     pause: float = 0.02) -> int:
        """Moves `slot` from node `source` to node `target` as `redis-cli --cluster reshard`
        does, a few keys at a time so that clients meet -ASK while it runs: IMPORTING on the
        target, MIGRATING on the source, MIGRATE until the slot is empty, then NODE on every
        node. Returns the number of keys moved."""
        src, dst = self.client(source), self.client(target)
        src_id, dst_id = self.node_id(source), self.node_id(target)
        dst.execute_command("CLUSTER", "SETSLOT", slot, "IMPORTING", src_id)
        src.execute_command("CLUSTER", "SETSLOT", slot, "MIGRATING", dst_id)
        moved = 0
        while keys := src.execute_command("CLUSTER", "GETKEYSINSLOT", slot, keys_per_step):
            src.execute_command("MIGRATE", "127.0.0.1", self.nodes[target].port, "", 0, 5000, "KEYS", *keys)
            moved += len(keys)
            time.sleep(pause)  # pacing, so traffic runs between the steps
        for index in range(len(self.nodes)):
            self.client(index).execute_command("CLUSTER", "SETSLOT", slot, "NODE", dst_id)
        return moved

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
