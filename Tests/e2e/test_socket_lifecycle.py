"""How credentials end a live socket, for each wire protocol, end to end: real clients
(`websockets` for raw and ActionCable, python-socketio for Socket.IO over the WebSocket
transport and over its default long-polling-then-upgrade), `portcullis` on a real
redis-server, and `portcullis-rooms` running `echo`, `socketio-reference` and
`cable-chat`.

- expiry: a JWT-authenticated connection lives until the token's `exp`, then gets the
  protocol's notice (raw close 4001 `credentials expired`; Socket.IO `loggedOut`
  `{"reason":"token_expired"}` then DISCONNECT, and the client stays away; ActionCable
  `disconnect` `token_expired` with `reconnect: true`, then close 4001);
- in-band refresh: accepted for the same subject with at least the same scopes (the
  connection outlives its first token), refused otherwise (the old expiry stands);
- `portcullis revoke --jti` / `--subject` with two edges on one Redis: every covered
  socket gets its notice within a second of the command, the others stay;
- a destroyed express-session closes the sockets it authenticated (session checks every
  second);
- Socket.IO CONNECT `auth` tokens (`auth.tokens: [socketio]`);
- the drain on SIGTERM: raw 1001, ActionCable `server_restart` with `reconnect: true`,
  Socket.IO a bare transport close after which python-socketio reconnects.

Clients record arrival times with `time.time()` so they compare with a token's `exp`
(whole Unix seconds) and with when `portcullis revoke` returned. Every test has its own
bus prefix, revocation prefix and session prefix, and its own subjects."""

import json
import secrets
import subprocess
import time

import jwt
import pytest
import socketio
from websockets.exceptions import InvalidStatus

from conftest import portcullis_bin
from lifecyclekit import (
    APPS,
    EXPIRY_EVENT,
    ORIGIN,
    REFRESH_EVENT,
    CableClient,
    Credentials,
    FrameClient,
    RawClient,
    SioClient,
    jwt_policies,
    lifecycle_routes,
    session_policies,
)
from socketkit import WAIT, envelopes, start_edge, wait_envelopes

# The edge ends a connection on a one-second sweep, from an instant computed as
# now + (exp - whole seconds now): up to a second for the rounding, up to a second for the
# sweep. LATE is that plus slack for a loaded two-core machine.
LATE = 4.0
# `portcullis revoke` reaches every edge's sockets within a second (the disconnect is
# pushed on the bus, not found by a sweep).
REVOCATION_LATENCY = 1.0
# With `auth.session_check_interval: 1s` a destroyed session is found within the interval
# plus one sweep (about 2 s); + 1 s slack.
SESSION_LATENCY = 2.0 + 1.0

KINDS = {  # test id → (protocol, Socket.IO transports)
    "raw": ("raw", None),
    "socketio-websocket": ("socketio", ["websocket"]),
    "socketio-polling-upgrade": ("socketio", None),
    "socketio-polling": ("socketio", ["polling"]),
    "actioncable": ("actioncable", None),
}
APP_OF = {"raw": "echo", "socketio": "socketio-reference", "actioncable": "cable-chat"}


def subject(label: str = "u") -> str:
    return f"{label}-{secrets.token_hex(4)}"


@pytest.fixture
def creds(tmp_path, bus_prefix):
    return Credentials(tmp_path, bus_prefix)


@pytest.fixture
def worker(rooms, redis_url, bus_prefix):
    return rooms(redis_url, bus_prefix, apps=APPS)


@pytest.fixture
def clients():
    """Opens clients of any protocol and closes them all at teardown."""
    opened = []

    def open_client(kind: str, edge, *, token=None, cookie=None, reconnection=False):
        protocol, transports = KINDS[kind]
        origin = ORIGIN if cookie else None
        if protocol == "raw":
            client = RawClient(edge, token=token, cookie=cookie, origin=origin)
        elif protocol == "actioncable":
            client = CableClient(edge, token=token, cookie=cookie, origin=origin)
        else:
            client = SioClient(reconnection=reconnection, suppress_origin=bool(cookie))
            opened.append(client)
            headers = {"Cookie": f"connect.sid={cookie}", "Origin": ORIGIN} if cookie else None
            client.connect(edge, transports, token=token, headers=headers)
            client.wait_event("auth")  # the reference app's greeting: the namespace is joined
            client.wait_upgraded(transports)
            return client
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        client.close()


def jwt_edge(portcullis, redis_url, bus_prefix, creds, **auth_extra):
    return start_edge(portcullis, redis_url, bus_prefix, lifecycle_routes(jwt_policies()),
                      auth=creds.config(**auth_extra))


# --- expiry ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", list(KINDS))
def test_a_connection_lives_until_its_token_expires_then_gets_the_protocols_notice(
        portcullis, worker, redis_url, bus_prefix, bus, creds, clients, kind):
    edge = jwt_edge(portcullis, redis_url, bus_prefix, creds)
    ttl = 4
    token = creds.token(subject(), ttl=ttl)
    exp = token_exp(token)
    client = clients(kind, edge, token=token, reconnection=True)
    client.roundtrip()
    ended = client.expect_credentials_ended("token_expired", timeout=ttl + LATE + WAIT)
    assert ended >= exp - 0.05, f"ended at {ended:.3f}, before the token's exp {exp}"
    assert ended <= exp + LATE, f"ended at {ended:.3f}, {ended - exp:.1f}s after the token's exp {exp}"
    if isinstance(client, SioClient):
        client.expect_no_reconnect()
    app = APP_OF[KINDS[kind][0]]
    wait_envelopes(bus, f"{bus_prefix}:in:{app}",
                   lambda es: [e for e in es if e["kind"] == "close" and e.get("reason") == "credentials expired"],
                   what="the close envelope for the expiry")


def token_exp(token: str) -> int:
    return jwt.decode(token, options={"verify_signature": False})["exp"]


def test_socketio_expiry_on_the_wire_is_the_notice_then_disconnect_then_close_4001(
        portcullis, worker, redis_url, bus_prefix, creds):
    """The frames behind what python-socketio reports, read with a bare WebSocket that
    speaks Engine.IO by hand: after the CONNECT with `auth.token`, nothing but the
    reference app's greeting until the exp, then `42["loggedOut",…]`, `41`, close 4001."""
    edge = jwt_edge(portcullis, redis_url, bus_prefix, creds)
    token = creds.token(subject(), ttl=3)
    exp = token_exp(token)
    wire = FrameClient(edge.url("/socket.io/?EIO=4&transport=websocket"))
    try:
        wire.wait_for(lambda: wire.messages(), what="the open packet")
        wire.send("40" + json.dumps({"token": token}))
        code, reason = wire.wait_closed(timeout=3 + LATE + WAIT)
        texts = [(t, m) for t, m in wire.received if m != "2"]  # pings, were any due
        frames = [m for _, m in texts]
        greeting = '42["auth",' + json.dumps({"token": token}, separators=(",", ":")) + "]"
        assert len(frames) == 5 and frames[0].startswith('0{"sid":') and frames[1].startswith('40{"sid":') \
            and frames[2] == greeting, wire.describe()
        assert frames[3:] == ['42["loggedOut",{"reason":"token_expired"}]', "41"], wire.describe()
        assert exp - 0.05 <= texts[3][0] <= exp + LATE, f"notice at {texts[3][0]:.3f}, exp {exp}"
        assert (code, reason) == (4001, "credentials expired"), wire.describe()
    finally:
        wire.close()


# --- refresh --------------------------------------------------------------------------------

def refusal_reason(kind: str, answer) -> str:
    """The code a refused refresh names, in each protocol's shape."""
    protocol = KINDS[kind][0]
    if protocol == "raw":  # {"code":"refresh_refused","message":"<code>: <text>"}
        assert answer["code"] == "refresh_refused" and ": " in answer["message"], answer
        return answer["message"].split(": ", 1)[0]
    if protocol == "socketio":
        assert answer.get("status") is False and set(answer) == {"status", "reason"}, answer
        return answer["reason"]
    assert answer["type"] == "refresh_rejected" and set(answer) == {"type", "reason"}, answer
    return answer["reason"]


@pytest.mark.parametrize("kind", ["raw", "socketio-websocket", "socketio-polling-upgrade", "actioncable"])
def test_a_refresh_for_the_same_subject_and_scopes_moves_the_expiry_and_any_other_changes_nothing(
        portcullis, worker, redis_url, bus_prefix, bus, creds, clients, kind):
    edge = jwt_edge(portcullis, redis_url, bus_prefix, creds)
    user, scopes = subject(), "chat:read chat:write"
    ttl = 6
    first = creds.token(user, ttl=ttl, scope=scopes)
    old_exp = token_exp(first)
    refused = clients(kind, edge, token=first)
    refreshed = clients(kind, edge, token=first)

    # Refused: another subject, fewer scopes, a token the key set did not sign.
    for token, want in [(creds.token(subject("other"), scope=scopes), "wrong_subject"),
                        (creds.token(user, scope="chat:read"), "fewer_scopes"),
                        (creds.foreign_token(user), "bad_signature")]:
        accepted, answer = refused.refresh(token)
        assert not accepted, f"{kind}: refresh refused for {want} accepted: {answer}"
        assert refusal_reason(kind, answer) == want, f"{kind}: refusal {answer}, expected {want}"
    refused.roundtrip()

    # Accepted: same subject, a superset of the scopes, a later exp.
    later = creds.token(user, ttl=300, scope=scopes + " admin")
    accepted, answer = refreshed.refresh(later)
    assert accepted, f"{kind}: refresh refused: {answer}"
    protocol = KINDS[kind][0]
    if protocol == "raw":
        assert answer == {"exp": token_exp(later)}
    elif protocol == "socketio":
        assert answer == {"status": True}
    else:
        assert answer == {"type": "refreshed", "exp": token_exp(later)}

    # The refused connection still ends at the first token's exp ...
    ended = refused.expect_credentials_ended("token_expired", timeout=ttl + LATE + WAIT)
    assert old_exp - 0.05 <= ended <= old_exp + LATE, f"ended at {ended:.3f}, exp {old_exp}"
    # ... the refreshed one outlives it: past the old exp, its rounding and a sweep on
    # either event loop (bounded wait; the edge sweeps once a second).
    time.sleep(max(0.0, old_exp + 2.5 - time.time()))
    refreshed.roundtrip()
    assert not refreshed.closed, refreshed.describe()
    if isinstance(refreshed, SioClient):
        assert refreshed.named(EXPIRY_EVENT) == [], refreshed.describe()

    # Handlers hear of the accepted refresh only, and never see the refresh as a message.
    stream = f"{bus_prefix}:in:{APP_OF[protocol]}"
    # (Seconds after every refresh was answered: what the edge appended for them is in.)
    found = [e for e in envelopes(bus, stream) if e["kind"] == "refresh"]
    assert len(found) == 1 and found[0]["user"] == user, found
    messages = [e.get("event") for e in envelopes(bus, stream) if e["kind"] == "message"]
    assert REFRESH_EVENT not in messages and "$refresh" not in messages and "refresh" not in messages, messages


# --- revocation ---------------------------------------------------------------------------

def revoke(edge, *args: str) -> tuple[float, float]:
    """Runs `portcullis revoke` on the edge's config; (start, exit) times."""
    started = time.time()
    done = subprocess.run([portcullis_bin(), "revoke", "--config", str(edge.pc.config_path), *args, "--ttl", "1h"],
                          capture_output=True, text=True, timeout=60)
    finished = time.time()
    assert done.returncode == 0, f"revoke failed ({done.returncode}): {done.stdout}{done.stderr}"
    return started, finished


@pytest.mark.parametrize("by", ["jti", "subject"])
@pytest.mark.parametrize("kind", ["raw", "socketio-websocket", "socketio-polling-upgrade", "actioncable"])
def test_revoke_ends_the_covered_sockets_on_every_edge_within_a_second(
        portcullis, worker, redis_url, bus_prefix, creds, clients, kind, by):
    edge_a = jwt_edge(portcullis, redis_url, bus_prefix, creds)
    edge_b = jwt_edge(portcullis, redis_url, bus_prefix, creds)
    user = subject()
    iat = int(time.time()) - 5  # before the subject's cutoff, which is the command's second
    if by == "jti":
        jti = "jti-" + secrets.token_hex(6)
        revoked = creds.token(user, jti=jti, iat=iat)
        spared = creds.token(user, jti="jti-" + secrets.token_hex(6), iat=iat)  # same subject, other token
        command = ["--jti", jti]
    else:
        revoked = creds.token(user, jti="jti-" + secrets.token_hex(6), iat=iat)
        spared = creds.token(subject("other"), iat=iat)
        command = ["--subject", user]
    targets = [clients(kind, edge, token=revoked) for edge in (edge_a, edge_b)]
    bystanders = [clients(kind, edge, token=spared) for edge in (edge_a, edge_b)]
    for client in targets + bystanders:
        client.roundtrip()

    started, finished = revoke(edge_a, *command)
    latencies = [client.expect_credentials_ended("token_revoked", timeout=WAIT) - finished for client in targets]
    assert max(latencies) <= REVOCATION_LATENCY, \
        f"notices {[round(x, 3) for x in latencies]}s after revoke returned (it ran {finished - started:.2f}s)"
    for client in bystanders:
        client.roundtrip()
        assert not client.closed, client.describe()
        if isinstance(client, SioClient):
            assert client.named(EXPIRY_EVENT) == [], client.describe()

    # The revoked token no longer opens a connection.
    protocol, transports = KINDS[kind]
    if protocol == "socketio":
        sio = SioClient()
        try:
            with pytest.raises(socketio.exceptions.ConnectionError):
                sio.connect(edge_b, transports, token=revoked)
            assert [args for _, args in sio.named("connect_error")][0][0]["data"] == {"code": "revoked"}, \
                sio.describe()
        finally:
            sio.close()
    else:
        with pytest.raises(InvalidStatus) as refused:
            (RawClient if protocol == "raw" else CableClient)(edge_b, token=revoked)
        assert refused.value.response.status_code == 401


# --- sessions -------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["raw", "socketio-websocket", "socketio-polling-upgrade", "actioncable"])
def test_destroying_the_session_ends_its_sockets_within_two_seconds(
        portcullis, worker, redis_url, bus_prefix, bus, creds, clients, kind):
    edge = start_edge(portcullis, redis_url, bus_prefix, lifecycle_routes(session_policies()),
                      auth=creds.config(session_check_interval="1s"))
    sid, cookie = creds.session(bus, subject())
    _, other_cookie = creds.session(bus, subject("other"))
    client = clients(kind, edge, cookie=cookie)
    other = clients(kind, edge, cookie=other_cookie)
    client.roundtrip()
    other.roundtrip()

    deleted = time.time()
    assert bus.delete(creds.session_prefix + sid) == 1
    noticed = client.expect_credentials_ended("session_ended", timeout=WAIT)
    assert noticed - deleted <= SESSION_LATENCY, f"ended {noticed - deleted:.2f}s after the session was deleted"
    other.roundtrip()
    assert not other.closed, other.describe()
    if isinstance(other, SioClient):
        assert other.named(EXPIRY_EVENT) == [], other.describe()


# --- Socket.IO CONNECT auth -------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["socketio-websocket", "socketio-polling-upgrade"])
def test_socketio_connect_auth_carries_the_token_and_bad_or_missing_tokens_get_connect_error(
        portcullis, worker, redis_url, bus_prefix, bus, creds, clients, http, kind):
    edge = jwt_edge(portcullis, redis_url, bus_prefix, creds)
    _, transports = KINDS[kind]

    # The Engine.IO handshake itself takes no token.
    if transports == ["websocket"]:
        bare = FrameClient(edge.url("/socket.io/?EIO=4&transport=websocket"))
        try:
            bare.wait_for(lambda: bare.messages(), what="the open packet")
            assert bare.messages()[0].startswith('0{"sid":'), bare.describe()
        finally:
            bare.close()
    else:
        answer = http.get(edge.pc.url("/socket.io/?EIO=4&transport=polling"), timeout=WAIT)
        assert answer.status_code == 200 and answer.text.startswith('0{"sid":'), (answer.status_code, answer.text)

    user = subject()
    token = creds.token(user)
    good = clients(kind, edge, token=token)
    assert good.named("auth")[0][1] == ({"token": token},)  # what handlers see as handshake.auth
    good.roundtrip()

    cases = {"bad_signature": {"token": creds.foreign_token(user)},
             "missing_token": None,
             "expired": {"token": creds.token(user, ttl=-120)},
             "malformed": {"token": "not-a-jwt"}}
    for code, auth in cases.items():
        sio = SioClient()
        try:
            with pytest.raises(socketio.exceptions.ConnectionError) as refused:
                sio.connect(edge, transports, auth=auth)
            errors = [args for _, args in sio.named("connect_error")]
            assert len(errors) == 1 and len(errors[0]) == 1, sio.describe()
            error = errors[0][0]
            assert isinstance(error, dict) and error.get("data") == {"code": code} and error.get("message"), \
                f"{code}: connect_error {errors}; ConnectionError {refused.value}; {sio.describe()}"
            assert not sio.sio.connected
        finally:
            sio.close()

    # Only the accepted CONNECT reached the handlers, with the token's subject.
    opens = [e for e in envelopes(bus, f"{bus_prefix}:in:socketio-reference") if e["kind"] == "open"]
    assert [e.get("user") for e in opens] == [user], opens


# --- drain ----------------------------------------------------------------------------------

def test_sigterm_drains_each_protocol_with_its_goodbye_and_socketio_clients_reconnect(
        portcullis, worker, redis_url, bus_prefix, clients, monkeypatch):
    routes = lifecycle_routes(None)  # public routes: the drain does not depend on auth
    edge = start_edge(portcullis, redis_url, bus_prefix, routes)
    raw = clients("raw", edge)
    cable = clients("actioncable", edge)
    sio_ws = clients("socketio-websocket", edge, reconnection=True)
    sio_up = clients("socketio-polling-upgrade", edge, reconnection=True)
    for client in (raw, cable, sio_ws, sio_up):
        client.roundtrip()

    edge.pc.sigterm()
    assert raw.wait_closed() == (1001, "server shutting down"), raw.describe()
    cable.wait_closed()
    frames = cable.frames()
    assert frames[-1] == {"type": "disconnect", "reason": "server_restart", "reconnect": True}, cable.describe()
    for sio in (sio_ws, sio_up):
        sio.wait_event("disconnect")
        assert sio.named("disconnect")[0][1] == (sio.sio.reason.TRANSPORT_ERROR,), sio.describe()
        wire = [p for _, p in sio.log.received()]
        assert "41" not in wire and "1" not in wire and sio.named(EXPIRY_EVENT) == [], sio.describe()
        # It tries to come back (every 0.2 s) while no edge listens.
        sio.wait_for(lambda s=sio: [a for a in s.log.attempts() if a[0] > s.named("disconnect")[0][0]],
                     what="a reconnection attempt")
    assert edge.pc.proc.wait(timeout=30) == 0

    # A new edge on the same port: the Socket.IO clients are back on their own.
    restart_on_the_same_port(portcullis, monkeypatch, redis_url, bus_prefix, routes, edge)
    for sio in (sio_ws, sio_up):
        sio.wait_event("connect", count=2, timeout=20)
        sio.wait_event("auth", count=2)
        sio.roundtrip()


def test_sigterm_ends_a_socketio_long_polling_session_so_that_the_client_reconnects(
        portcullis, worker, redis_url, bus_prefix, clients, monkeypatch):
    """A client that stays on long-polling (`transports=['polling']`) gets the same drain as
    one on the WebSocket: no DISCONNECT, and python-socketio comes back by itself."""
    routes = lifecycle_routes(None)
    edge = start_edge(portcullis, redis_url, bus_prefix, routes)
    sio = clients("socketio-polling", edge, reconnection=True)
    sio.roundtrip()

    edge.pc.sigterm()
    sio.wait_event("disconnect")
    wire = [p for _, p in sio.log.received()]
    assert "41" not in wire and sio.named(EXPIRY_EVENT) == [], sio.describe()
    sio.wait_for(lambda: [a for a in sio.log.attempts() if a[0] > sio.named("disconnect")[0][0]],
                 timeout=5, what="a reconnection attempt after the drain")
    assert sio.named("disconnect")[0][1] == (sio.sio.reason.TRANSPORT_ERROR,), sio.describe()
    assert edge.pc.proc.wait(timeout=30) == 0

    restart_on_the_same_port(portcullis, monkeypatch, redis_url, bus_prefix, routes, edge)
    sio.wait_event("connect", count=2, timeout=20)
    sio.wait_event("auth", count=2)
    sio.roundtrip()


def restart_on_the_same_port(portcullis, monkeypatch, redis_url, bus_prefix, routes, edge):
    """Starts a new edge (new id, same bus) listening where `edge` did, as a restarted edge
    behind a stable address would: conftest's launcher picks its ports with `free_port()`,
    so the first pick is pinned to the old port."""
    port = edge.port
    ports = iter([port])
    real_free_port = portcullis.__globals__["free_port"]
    monkeypatch.setitem(portcullis.__globals__, "free_port", lambda: next(ports, None) or real_free_port())
    again = start_edge(portcullis, redis_url, bus_prefix, routes)
    assert again.port == port
    return again
