"""`rediss://` end to end: a TLS-only redis-server (Debian's, `--tls-port`, `--port 0`) with
a CA, server and client certificates made by openssl; the edge and portcullis-rooms verify
the server with `redis.tls.ca_file` and `server_name`, present a client certificate, log in
as an ACL user, and a socket route echoes through the bus. A server signed by another CA is
refused with a clear log line."""

import pytest

from rediskit import ACL_ARGS, ACL_PASSWORD, SERVER_NAME, RedisServer, make_pki, wait_for_text
from socketkit import WSClient, socket_route, start_edge


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("redis-pki"))


def tls_keys(pki, *, ca=None, client_cert: bool = True) -> dict:
    tls = {"ca_file": str(ca or pki.ca), "server_name": SERVER_NAME}
    if client_cert:
        tls.update(certificate_file=str(pki.client_cert), private_key_file=str(pki.client_key))
    return {"tls": tls}


@pytest.mark.parametrize("auth_clients", ["yes", "optional"])
def test_edge_and_rooms_over_tls_as_an_acl_user_echo_through_the_bus(
        tmp_path, portcullis, rooms, pki, bus_prefix, auth_clients):
    server = RedisServer(tmp_path / "redis-tls", args=ACL_ARGS, pki=pki, auth_clients=auth_clients)
    try:
        (tmp_path / "redis.pw").write_text(ACL_PASSWORD + "\n")
        # With tls-auth-clients optional the client certificate may be left out.
        redis = {"username": "portcullis", "password_file": str(tmp_path / "redis.pw"),
                 **tls_keys(pki, client_cert=auth_clients == "yes")}
        rooms(server.url, bus_prefix, redis=redis, wait=False)
        edge = start_edge(portcullis, server.url, bus_prefix, [socket_route("ws", "/ws")], redis=redis)
        with WSClient(edge.url("/ws")) as ws:
            ws.emit("hello", {"over": "tls"}, ack=1)
            assert ws.wait_event("hello")["data"] == {"over": "tls"}
            ws.wait_event("ack")
        assert "TLS handshake" not in edge.pc.stderr()
    finally:
        server.stop()


def test_a_server_signed_by_another_ca_is_refused_with_a_clear_log_line(
        tmp_path, portcullis, rooms, pki, bus_prefix):
    server = RedisServer(tmp_path / "redis-tls", pki=pki)
    try:
        redis = tls_keys(pki, ca=pki.other_ca)
        worker = rooms(server.url, bus_prefix, redis=redis, wait=False)
        edge = start_edge(portcullis, server.url, bus_prefix, [socket_route("ws", "/ws")], redis=redis)
        expected = f"TLS handshake with Redis at 127.0.0.1:{server.port} failed"
        for read in (edge.pc.stderr, worker.output):
            assert wait_for_text(read, expected), read()[-2000:]
            assert "CERTIFICATE_VERIFY_FAILED" in read()
        assert edge.pc.proc.poll() is None
        assert worker.proc.poll() is None
    finally:
        server.stop()
