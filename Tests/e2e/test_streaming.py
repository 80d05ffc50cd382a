"""Bodies stream through the edge: a 1 GiB upload or download passes whole while the
edge's resident memory stays bounded, also while the receiving side stops reading for a
few seconds (backpressure instead of buffering).

E2E_BIG_BYTES sets the transfer size (default 1 GiB)."""

import http.client
import json
import os
import struct
import threading
import time
import zlib

import pytest

from conftest import pool, route

MiB = 1024 * 1024
BIG = int(os.environ.get("E2E_BIG_BYTES", str(1024 * MiB)))
BLOCK = MiB
RSS_GROWTH_LIMIT = 150 * MiB
PAUSE_SECONDS = 3.0
PAUSE_AT = min(64 * MiB, BIG // 4)


def numbered_blocks(total: int, seed: bytes):
    """`total` bytes in 1 MiB blocks, each starting with its index, so a lost, repeated or
    reordered block changes the checksum."""
    index = 0
    sent = 0
    while sent < total:
        size = min(BLOCK, total - sent)
        block = (struct.pack(">Q", index) + seed[8:])[:size]
        yield block
        sent += size
        index += 1


class RssSampler:
    """Samples the edge's VmRSS every 50 ms in a thread."""

    def __init__(self, proxy):
        self.proxy = proxy
        self.baseline = proxy.rss_bytes()
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.proxy.rss_bytes())
            except (OSError, RuntimeError):
                return
            self._stop.wait(0.05)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak - self.baseline


def report(capsys, what: str, seconds: float, growth: int, baseline: int):
    with capsys.disabled():
        print(f"\n    {what}: {BIG / MiB:.0f} MiB in {seconds:.1f}s "
              f"({BIG / MiB / seconds:.0f} MiB/s); edge RSS baseline {baseline / MiB:.0f} MiB, "
              f"peak growth {growth / MiB:.1f} MiB")


def big_route_proxy(portcullis, up):
    return portcullis(
        upstreams={"big": pool(up.addr, response_timeout="300s")},
        routes=[route("big", "/", "big", max_body_size=f"{BIG // MiB + 16}MiB")],
    )


def slow_sink_app(req):
    """Counts and checksums the body, and stops reading for a while part-way through."""
    length = 0
    crc = 0
    paused = False
    for chunk in req.body_chunks():
        length += len(chunk)
        crc = zlib.crc32(chunk, crc)
        if not paused and length >= PAUSE_AT:
            paused = True
            time.sleep(PAUSE_SECONDS)
    req.send_json({"body_len": length, "body_crc32": crc})


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_upload_of_1gib_streams_in_bounded_memory(portcullis, upstream, capsys, framing):
    up = upstream(slow_sink_app, name="sink")
    proxy = big_route_proxy(portcullis, up)
    seed = os.urandom(BLOCK)

    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=120)
    conn.request("POST", "/warmup", body=b"warm")
    assert conn.getresponse().read()
    sampler = RssSampler(proxy)
    started = time.monotonic()
    conn.putrequest("POST", "/upload")
    if framing == "chunked":
        conn.putheader("Transfer-Encoding", "chunked")
    else:
        conn.putheader("Content-Length", str(BIG))
    conn.endheaders()
    crc = 0
    for block in numbered_blocks(BIG, seed):
        crc = zlib.crc32(block, crc)
        if framing == "chunked":
            conn.send(b"%x\r\n" % len(block))
            conn.send(block)
            conn.send(b"\r\n")
        else:
            conn.send(block)
    if framing == "chunked":
        conn.send(b"0\r\n\r\n")
    resp = conn.getresponse()
    echo = resp.read()
    elapsed = time.monotonic() - started
    growth = sampler.stop()
    conn.close()

    assert resp.status == 200, echo[:500]
    result = json.loads(echo)
    assert result["body_len"] == BIG
    assert result["body_crc32"] == crc
    report(capsys, f"upload ({framing})", elapsed, growth, sampler.baseline)
    assert growth < RSS_GROWTH_LIMIT, f"edge RSS grew by {growth / MiB:.0f} MiB"


def test_download_of_1gib_streams_in_bounded_memory(portcullis, upstream, capsys):
    seed = os.urandom(BLOCK)
    sent = {}

    def source(req):
        req.read_body()
        if req.path == "/warmup":
            req.send_bytes(200, b"warm")
            return
        req.send_response(200)
        req.send_header("Content-Type", "application/octet-stream")
        req.send_header("Content-Length", str(BIG))
        req.end_headers()
        crc = 0
        for block in numbered_blocks(BIG, seed):
            crc = zlib.crc32(block, crc)
            req.wfile.write(block)
        req.wfile.flush()
        sent["crc"] = crc

    up = upstream(source, name="source")
    proxy = big_route_proxy(portcullis, up)

    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=120)
    conn.request("GET", "/warmup")
    assert conn.getresponse().read() == b"warm"
    sampler = RssSampler(proxy)
    started = time.monotonic()
    conn.request("GET", "/download")
    resp = conn.getresponse()
    assert resp.status == 200
    received = 0
    crc = 0
    paused = False
    buf = bytearray(BLOCK)
    view = memoryview(buf)
    while True:
        n = resp.readinto(view)
        if not n:
            break
        received += n
        crc = zlib.crc32(view[:n], crc)
        if not paused and received >= PAUSE_AT:
            paused = True
            time.sleep(PAUSE_SECONDS)  # the client stops reading; the edge must not buffer
    elapsed = time.monotonic() - started
    growth = sampler.stop()
    conn.close()

    assert received == BIG
    for _ in range(40):  # the upstream records its checksum just after its last write
        if "crc" in sent:
            break
        time.sleep(0.05)
    assert crc == sent.get("crc")
    report(capsys, "download", elapsed, growth, sampler.baseline)
    assert growth < RSS_GROWTH_LIMIT, f"edge RSS grew by {growth / MiB:.0f} MiB"
