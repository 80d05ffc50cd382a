"""Redis ACL users end to end: the edge and portcullis-rooms connect as `redis.username`
with the password from `redis.password_file` to a redis-server whose default user is off,
and a socket route echoes through the bus. A wrong password is a clear log line on both,
and neither crashes."""

import pytest

from rediskit import ACL_ARGS, ACL_PASSWORD, RedisServer, wait_for_text
from socketkit import WSClient, socket_route, start_edge


@pytest.fixture
def acl_redis(tmp_path):
    server = RedisServer(tmp_path / "redis-acl", args=ACL_ARGS)
    yield server
    server.stop()


def credentials(tmp_path, password: str) -> dict:
    (tmp_path / "redis.pw").write_text(password + "\n")  # the trailing newline is trimmed
    return {"username": "portcullis", "password_file": str(tmp_path / "redis.pw")}


def test_edge_and_rooms_connect_as_an_acl_user_and_echo_through_the_bus(
        tmp_path, portcullis, rooms, acl_redis, bus_prefix):
    redis = credentials(tmp_path, ACL_PASSWORD)
    rooms(acl_redis.url, bus_prefix, redis=redis, wait=False)
    edge = start_edge(portcullis, acl_redis.url, bus_prefix, [socket_route("ws", "/ws")], redis=redis)
    with WSClient(edge.url("/ws")) as ws:
        ws.emit("hello", {"over": "acl"}, ack=1)
        assert ws.wait_event("hello")["data"] == {"over": "acl"}
        ws.wait_event("ack")
    assert "WRONGPASS" not in edge.pc.stderr()


def test_a_wrong_password_is_logged_clearly_and_nothing_crashes(tmp_path, portcullis, rooms, acl_redis, bus_prefix):
    redis = credentials(tmp_path, "not-the-password")
    worker = rooms(acl_redis.url, bus_prefix, redis=redis, wait=False)
    edge = start_edge(portcullis, acl_redis.url, bus_prefix, [socket_route("ws", "/ws")], redis=redis)
    for read in (edge.pc.stderr, worker.output):
        assert wait_for_text(read, "Redis connect attempt failed"), read()[-2000:]
        assert wait_for_text(read, "WRONGPASS"), read()[-2000:]
        assert "not-the-password" not in read()
    assert edge.pc.proc.poll() is None
    assert worker.proc.poll() is None
