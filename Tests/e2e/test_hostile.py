"""The strict request path against hostile requests (`hostile.CASES`, raw sockets).

One edge, one recording backend behind an open `/public` route and a JWT-protected
`/admin` route. For every case either the edge refuses with the expected status and the
backend saw nothing, or the backend saw exactly one request with the normalized target,
one valid `Host`, no client copy of an identity or forwarding header, and the body as the
edge framed it. After the whole suite the edge still serves, and its refusals are counted
in `/metrics`.
"""

from __future__ import annotations

import time

import jwt
import pytest
import requests

from conftest import hs256_secret, launch_portcullis, pool
from hostile import CASES, HOST, SERVER_NAME, RecordingBackend, problems, send

KID = "hostile"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    directory = tmp_path_factory.mktemp("hostile")
    secret = hs256_secret()
    (directory / "hs.key").write_bytes(secret)
    backend = RecordingBackend()
    routes = [
        {"name": "public", "match": {"path": "/public"}, "proxy": {"upstream": "app"},
         "max_body_size": "1MiB"},
        {"name": "admin", "match": {"path": "/admin"}, "proxy": {"upstream": "app"},
         "auth": {"key_set": "main"}},
    ]
    edge = launch_portcullis(
        directory, 0, {"app": pool(backend.addr)}, routes,
        listener={"server_name": SERVER_NAME},
        extra={"auth": {"key_sets": {"main": [{"secret_file": str(directory / "hs.key"), "alg": "HS256",
                                                "kid": KID, "default": True}]}}})
    now = int(time.time())
    token = jwt.encode({"sub": "user-42", "iat": now, "exp": now + 3600}, secret, algorithm="HS256",
                       headers={"kid": KID})
    yield edge, backend, token
    edge.stop()
    backend.stop()


def run_case(setup, case):
    edge, backend, token = setup
    backend.settle()
    before = len(backend.seen)
    answer = send(edge.port, case, token)
    backend.settle()
    return answer, backend.seen[before:]


@pytest.mark.parametrize("case", [c for c in CASES if c.status is not None], ids=lambda c: c.id)
def test_a_hostile_request_is_refused_and_reaches_no_backend(setup, case):
    answer, seen = run_case(setup, case)
    assert answer.status == case.status, f"{case.id}: answered {answer.status} {answer.error}"
    assert not [s for s in seen if s.complete], f"{case.id}: the backend read {seen}"
    assert not problems(case, seen, edge_sets_identity=True)
    if case.status >= 400 and case.status not in (401, 404):
        assert answer.closed, f"{case.id}: the connection stayed open after a {case.status}"


@pytest.mark.parametrize("case", [c for c in CASES if c.status is None], ids=lambda c: c.id)
def test_an_acceptable_request_reaches_the_backend_once_in_canonical_form(setup, case):
    answer, seen = run_case(setup, case)
    assert answer.status == 200, f"{case.id}: answered {answer.status} {answer.error}"
    assert not problems(case, seen, edge_sets_identity=True)
    assert len(seen) == 1, f"{case.id}: the backend read {seen}"
    request = seen[0]
    assert request.complete
    assert request.target == case.target
    assert request.values("host") == [case.host]
    assert request.body == case.body
    assert request.notes == [f"trailer {trailer}" for trailer in case.trailers]
    framing = request.values("content-length") + request.values("transfer-encoding")
    assert len(framing) <= 1, f"ambiguous framing upstream: {request.headers}"
    assert request.values("x-forwarded-for") == ["127.0.0.1"]
    assert request.values("x-real-ip") == ["127.0.0.1"]
    assert request.values("x-forwarded-proto") == ["http"]
    assert request.values("x-forwarded-host") == [case.host]
    assert request.values("forwarded") == [f'for=127.0.0.1;proto=http;host="{case.host}"']
    names = request.folded_names()
    assert names.count("x-auth-subject") == (1 if case.authorized else 0)
    if case.authorized:
        assert request.values("x-auth-subject") == ["user-42"]
    assert not [n for n, _ in request.headers if "_" in n and n.lower().replace("_", "-").startswith("x-")
                and n.lower().replace("_", "-") in {"x-auth-subject", "x-auth-scopes", "x-forwarded-for"}]


def test_the_suite_covers_every_class_with_enough_cases():
    kinds = {case.kind for case in CASES}
    assert {"framing", "syntax", "chunked", "host", "method", "path", "identity", "forwarding",
            "limits"} <= kinds
    assert len(CASES) >= 80
    assert len({case.id for case in CASES}) == len(CASES)


def test_after_the_hostile_suite_the_edge_still_serves_and_counted_its_refusals(setup):
    edge, backend, token = setup
    counted = {"te-and-cl": "length_with_transfer_encoding", "cl-duplicate-same": "duplicate_content_length",
               "above-root": "path_above_root", "host-userinfo": "bad_host", "host-missing": "missing_host",
               "obs-fold": "obs_fold", "chunk-size-not-hex": "bad_chunk", "encoded-slash": "encoded_slash",
               "request-line-9k": "request_line_too_long"}
    for case in CASES:
        if case.id in counted:
            run_case(setup, case)
    session = requests.Session()
    session.trust_env = False
    r = session.get(edge.url("/public/after"), headers={"Host": HOST}, timeout=10)
    assert r.status_code == 200 and r.text == "ok"
    r = session.get(edge.url("/admin/after"), headers={"Host": HOST, "Authorization": f"Bearer {token}"},
                    timeout=10)
    assert r.status_code == 200
    metrics = session.get(edge.admin_url + "/metrics", timeout=10).text
    for reason in counted.values():
        assert f'reason="{reason}"' in metrics, f"no refusal counted for {reason}"
    assert edge.proc.poll() is None
