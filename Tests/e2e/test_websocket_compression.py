"""permessage-deflate (RFC 7692) on socket routes, with the clients users run: `websockets`
offers the extension by default, so it must come out active and messages must round-trip
through the edge, Redis and the echo app; a client that offers nothing still works; the
edge's frames really are compressed (RSV1) and a compressed bomb is stopped at the limit.
On a proxy route the tunnel leaves the negotiation to the upstream."""

import json
import zlib

from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.sync.client import connect

from conftest import pool, route
from socketkit import OP_BINARY, OP_CLOSE, OP_TEXT, WAIT, _recv_exact, frame, raw_connect, socket_route, start_edge

TEXT = json.dumps({"rows": [{"id": i, "name": f"row {i}", "tags": ["alpha", "beta"]} for i in range(200)]})
BINARY = bytes(range(256)) * 40


def open_ws(url: str, **options):
    return connect(url, proxy=None, max_size=None, open_timeout=10, close_timeout=5, ping_interval=None,
                   **options)


def compressing_edge(portcullis, redis_url, bus_prefix, **socket):
    return start_edge(portcullis, redis_url, bus_prefix,
                      [socket_route("ws", "/ws", mode="opaque", rate_limit="off", compression="on", **socket)])


def read_raw_frame(sock) -> tuple[int, bool, bytes]:
    """One server frame: (opcode, RSV1, payload)."""
    b0, b1 = _recv_exact(sock, 2)
    n = b1 & 0x7F
    if n == 126:
        n = int.from_bytes(_recv_exact(sock, 2), "big")
    elif n == 127:
        n = int.from_bytes(_recv_exact(sock, 8), "big")
    return b0 & 0x0F, bool(b0 & 0x40), _recv_exact(sock, n)


def deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(wbits=-15)
    out = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def inflate(payload: bytes) -> bytes:
    return zlib.decompressobj(wbits=-15).decompress(payload + b"\x00\x00\xff\xff")


def test_websockets_client_negotiates_deflate_and_messages_round_trip(portcullis, rooms, redis_url, bus_prefix):
    rooms(redis_url, bus_prefix)
    edge = compressing_edge(portcullis, redis_url, bus_prefix)
    with open_ws(edge.url("/ws")) as ws:
        answer = ws.response.headers["Sec-WebSocket-Extensions"]
        assert answer.startswith("permessage-deflate") and "server_no_context_takeover" in answer
        assert [type(e) for e in ws.protocol.extensions] == [PerMessageDeflate]
        for message in [TEXT, BINARY, "short", "ünïcödé ✓ " * 100, b""]:
            ws.send(message)
            assert ws.recv(timeout=WAIT) == message


def test_client_offering_nothing_gets_no_extension_and_still_works(portcullis, rooms, redis_url, bus_prefix):
    rooms(redis_url, bus_prefix)
    edge = compressing_edge(portcullis, redis_url, bus_prefix)
    with open_ws(edge.url("/ws"), compression=None) as ws:
        assert "Sec-WebSocket-Extensions" not in ws.response.headers
        assert ws.protocol.extensions == []
        ws.send(TEXT)
        assert ws.recv(timeout=WAIT) == TEXT


def test_route_without_compression_declines_the_offer(portcullis, rooms, redis_url, bus_prefix):
    rooms(redis_url, bus_prefix)
    edge = start_edge(portcullis, redis_url, bus_prefix, [socket_route("ws", "/ws", mode="opaque")])
    with open_ws(edge.url("/ws")) as ws:
        assert "Sec-WebSocket-Extensions" not in ws.response.headers
        ws.send(TEXT)
        assert ws.recv(timeout=WAIT) == TEXT


def test_edge_frames_are_compressed_and_short_ones_are_not(portcullis, rooms, redis_url, bus_prefix):
    rooms(redis_url, bus_prefix)
    edge = compressing_edge(portcullis, redis_url, bus_prefix)
    sock = raw_connect(edge.port, "/ws", headers={"Sec-WebSocket-Extensions": "permessage-deflate"})
    try:
        compressed = deflate(TEXT.encode())
        first = frame(OP_TEXT, compressed)
        sock.sendall(bytes([first[0] | 0x40]) + first[1:])
        opcode, rsv1, payload = read_raw_frame(sock)
        assert (opcode, rsv1) == (OP_TEXT, True)
        assert len(payload) < len(TEXT) // 4
        assert inflate(payload).decode() == TEXT
        sock.sendall(frame(OP_BINARY, b"tiny"))
        assert read_raw_frame(sock) == (OP_BINARY, False, b"tiny")
    finally:
        sock.close()


def test_a_compressed_bomb_closes_with_1009(portcullis, rooms, redis_url, bus_prefix):
    rooms(redis_url, bus_prefix)
    edge = compressing_edge(portcullis, redis_url, bus_prefix, max_message_size="64KiB")
    sock = raw_connect(edge.port, "/ws", headers={"Sec-WebSocket-Extensions": "permessage-deflate"})
    try:
        bomb = deflate(bytes(16 << 20))
        assert len(bomb) < 64 * 1024
        first = frame(OP_BINARY, bomb)
        sock.sendall(bytes([first[0] | 0x40]) + first[1:])
        sock.settimeout(WAIT)
        while True:
            opcode, _, payload = read_raw_frame(sock)
            if opcode == OP_CLOSE:
                assert int.from_bytes(payload[:2], "big") == 1009
                break
    finally:
        sock.close()


def test_tunnel_leaves_the_extension_to_the_upstream(portcullis, ws_upstream):
    proxy = portcullis(upstreams={"ws": pool(ws_upstream.addr)}, routes=[route("ws", "/ws", "ws")])
    with open_ws(f"ws://127.0.0.1:{proxy.port}/ws") as ws:
        offered = ws_upstream.request_headers[0].get("Sec-WebSocket-Extensions", "")
        assert offered.startswith("permessage-deflate")
        assert ws.response.headers["Sec-WebSocket-Extensions"].startswith("permessage-deflate")
        assert [type(e) for e in ws.protocol.extensions] == [PerMessageDeflate]
        ws.send(TEXT)
        assert ws.recv(timeout=WAIT) == TEXT
