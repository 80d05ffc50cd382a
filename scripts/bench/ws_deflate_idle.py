"""Edge memory per WebSocket that exchanged one compressed message and then sits idle, for
each `socket.compression` setting that changes what a connection keeps between messages.

    .venv/bin/python scripts/bench/ws_deflate_idle.py BIN_DIR REDIS_PORT [N]

BIN_DIR holds release `portcullis` and `portcullis-rooms`; REDIS_PORT is a running
loopback redis-server (keys go under a fresh prefix, deleted afterwards). Per setting one
edge (one event loop) and one rooms worker (echo app) are started and stopped by PID;
N (default 2000) `websockets` clients, which offer permessage-deflate as browsers do, each
send one 1 KiB JSON message, wait for its echo and stay open. Prints one JSON line per
setting: the 101's extension answer, (connections, VmRSS KiB) points, and the least-squares
slope in KiB per connection. `scripts/bench/ws --deflate` measures connections that sent
nothing (the handshake only) and CPU per message.
"""

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

from websockets.asyncio.client import connect

SETTINGS = {
    "off": "off",
    "defaults": "on",
    "client_context": "{client_no_context_takeover: false}",
    "server_context": "{server_no_context_takeover: false}",
}
PADDING = " ".join(["room message user online status update"] * 25)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def slope(points):
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    return sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)


async def measure(port, pid, count, steps=4):
    url = f"ws://127.0.0.1:{port}/ws"
    probe = await connect(url)
    answer = probe.response.headers.get("Sec-WebSocket-Extensions")
    await probe.close()
    await asyncio.sleep(1)
    points, conns = [(0, rss_kib(pid))], []

    async def one(i):
        ws = await connect(url, ping_interval=None, max_size=None)
        conns.append(ws)
        await ws.send(json.dumps({"event": "echo", "data": {"i": i, "pad": PADDING}}))
        await ws.recv()

    for _ in range(steps):
        for _ in range(0, count // steps, 100):
            await asyncio.gather(*(one(len(conns) + j) for j in range(100)))
        await asyncio.sleep(1.5)
        points.append((len(conns), rss_kib(pid)))
    for ws in conns:
        await ws.close()
    return answer, points


def run(bin_dir, redis_port, count, name, compression):
    tmp = tempfile.mkdtemp(prefix="ws-deflate-idle-")
    prefix = "idle" + os.urandom(4).hex()
    port, admin = free_port(), free_port()
    with open(f"{tmp}/edge.yaml", "w") as f:
        f.write(f"""version: 1
edge: {{id: idle-{name.replace('_', '-')}, event_loops: 1, access_log: false, watch_interval: 0s}}
listeners: [{{name: ws, address: 127.0.0.1:{port}}}]
admin: {{address: 127.0.0.1:{admin}}}
redis: {{url: redis://127.0.0.1:{redis_port}}}
bus: {{prefix: {prefix}}}
routes:
  - name: echo
    match: {{path: /ws}}
    socket: {{app: echo, mode: json, rate_limit: off, compression: {compression}}}
""")
    with open(f"{tmp}/rooms.yaml", "w") as f:
        f.write(f"redis: {{url: redis://127.0.0.1:{redis_port}}}\nbus: {{prefix: {prefix}}}\napps: [echo]\n")
    procs = []
    try:
        for exe, cfg in (("portcullis-rooms", "rooms.yaml"), ("portcullis", "edge.yaml")):
            log = open(f"{tmp}/{exe}.log", "w")
            procs.append(subprocess.Popen([f"{bin_dir}/{exe}", "serve", "--config", f"{tmp}/{cfg}"],
                                          stdout=log, stderr=log, stdin=subprocess.DEVNULL))
        time.sleep(3)
        answer, points = asyncio.run(measure(port, procs[1].pid, count))
        print(json.dumps({"setting": name, "compression": compression, "extension": answer,
                          "points": points, "kib_per_conn": round(slope(points), 2)}), flush=True)
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(timeout=15)
        keys = subprocess.run(["redis-cli", "-p", str(redis_port), "--scan", "--pattern", f"{prefix}:*"],
                              capture_output=True, text=True).stdout.split()
        if keys:
            subprocess.run(["redis-cli", "-p", str(redis_port), "DEL", *keys], capture_output=True)


def main(argv):
    if len(argv) not in (3, 4):
        sys.exit(__doc__)
    bin_dir, redis_port = argv[1], int(argv[2])
    count = int(argv[3]) if len(argv) == 4 else 2000
    for name, compression in SETTINGS.items():
        run(bin_dir, redis_port, count, name, compression)


if __name__ == "__main__":
    main(sys.argv)
