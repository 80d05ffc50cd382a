#!/usr/bin/env python3
"""A small client to try Portcullis's socket routes by hand: connects, sends what it is told
to, and prints every message it receives, one per line, until Ctrl-C (or --seconds).

  try.py socketio URL [--path /socket.io/] [--namespace NS] [--cookie C] [--auth JSON]
                      [--origin O] [--emit EVENT JSON]... [--seconds N]
  try.py cable URL [--token T] [--origin O] [--subscribe IDENTIFIER_JSON]...
                   [--perform IDENTIFIER_JSON ACTION DATA_JSON]... [--seconds N]
  try.py ws URL [--send TEXT]... [--seconds N]

Socket.IO uses python-socketio over WebSocket; ActionCable and raw WebSockets use the
`websockets` package. scripts/run prints one command per product (with a minted token);
run them with .venv/bin/python, which scripts/run and scripts/test create."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time


def show(*parts) -> None:
    print(" ".join(p if isinstance(p, str) else json.dumps(p) for p in parts), flush=True)


def run_socketio(args) -> None:
    import requests
    import socketio

    http = requests.Session()
    http.trust_env = False
    # No Origin unless asked for: python-socketio would send its own, which routes with an
    # Origin allow-list refuse; a non-browser client sends none.
    sio = socketio.Client(reconnection=False, http_session=http,
                          websocket_extra_options={"suppress_origin": True})
    namespace = args.namespace

    @sio.on("*", namespace=namespace)
    def any_event(event, *data):
        show(f"[{namespace}] {event}", *data)

    @sio.on("connect", namespace=namespace)
    def connected():
        show(f"[{namespace}] connected, sid {sio.get_sid(namespace)}")

    @sio.on("connect_error", namespace=namespace)
    def refused(data):
        show(f"[{namespace}] connect_error", data)

    @sio.on("disconnect", namespace=namespace)
    def disconnected(*reason):
        show(f"[{namespace}] disconnected", *[str(r) for r in reason])

    headers = {"Cookie": args.cookie} if args.cookie else {}
    if args.origin:
        headers["Origin"] = args.origin
    auth = json.loads(args.auth) if args.auth else None
    sio.connect(args.url, namespaces=[namespace], transports=["websocket"], socketio_path=args.path,
                headers=headers, auth=auth, wait_timeout=10)
    for event, data in args.emit or []:
        # The answer, when the server acks (not every event is acked), is printed on arrival.
        sio.emit(event, json.loads(data), namespace=namespace,
                 callback=(lambda name: lambda *answer: show(f"[{namespace}] ack {name}", *answer))(event))
    wait(args.seconds, lambda: sio.connected)
    sio.disconnect()


def run_cable(args) -> None:
    from websockets.sync.client import connect

    headers = {}
    if args.token:
        headers["Authorization"] = f"Bearer {args.token}"
    with connect(args.url, additional_headers=headers, origin=args.origin, subprotocols=["actioncable-v1-json"],
                 proxy=None) as ws:
        for identifier in args.subscribe or []:
            ws.send(json.dumps({"command": "subscribe", "identifier": identifier}))
        for identifier, action, data in args.perform or []:
            body = json.loads(data)
            body["action"] = action
            ws.send(json.dumps({"command": "message", "identifier": identifier, "data": json.dumps(body)}))
        read(ws, args.seconds, quiet_pings=args.quiet_pings)


def run_ws(args) -> None:
    from websockets.sync.client import connect

    with connect(args.url, proxy=None) as ws:
        for text in args.send or []:
            ws.send(text)
        read(ws, args.seconds)


def read(ws, seconds: float, quiet_pings: bool = False) -> None:
    deadline = time.monotonic() + seconds if seconds else None
    while deadline is None or time.monotonic() < deadline:
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            message = ws.recv(timeout=timeout)
        except TimeoutError:
            return
        if quiet_pings and '"type":"ping"' in str(message):
            continue
        show(message if isinstance(message, str) else f"<{len(message)} bytes>")


def wait(seconds: float, alive) -> None:
    deadline = time.monotonic() + seconds if seconds else None
    while alive() and (deadline is None or time.monotonic() < deadline):
        time.sleep(0.1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="protocol", required=True)

    sio = sub.add_parser("socketio")
    sio.add_argument("url")
    sio.add_argument("--path", default="socket.io")
    sio.add_argument("--namespace", default="/")
    sio.add_argument("--cookie")
    sio.add_argument("--auth", help="the CONNECT auth object, as JSON")
    sio.add_argument("--origin", help="an Origin header (browsers send one; other clients none)")
    sio.add_argument("--emit", nargs=2, action="append", metavar=("EVENT", "JSON"))
    sio.add_argument("--seconds", type=float, default=0, help="stop after this long (0: at Ctrl-C)")
    sio.set_defaults(run=run_socketio)

    cable = sub.add_parser("cable")
    cable.add_argument("url")
    cable.add_argument("--token")
    cable.add_argument("--origin")
    cable.add_argument("--subscribe", action="append", metavar="IDENTIFIER_JSON")
    cable.add_argument("--perform", nargs=3, action="append", metavar=("IDENTIFIER_JSON", "ACTION", "DATA_JSON"))
    cable.add_argument("--quiet-pings", action="store_true")
    cable.add_argument("--seconds", type=float, default=0)
    cable.set_defaults(run=run_cable)

    ws = sub.add_parser("ws")
    ws.add_argument("url")
    ws.add_argument("--send", action="append")
    ws.add_argument("--seconds", type=float, default=0)
    ws.set_defaults(run=run_ws)

    args = parser.parse_args()
    try:
        args.run(args)
    except KeyboardInterrupt:
        pass
    except Exception as exc:  # a refused handshake, a dead edge: one line, not a traceback
        show(f"error: {type(exc).__name__}: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
