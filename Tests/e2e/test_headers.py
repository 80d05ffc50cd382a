"""Header hygiene: hop-by-hop headers stop at the edge in both directions; the edge adds
X-Forwarded-For/-Proto/-Host and a request id that the client and the access log see."""

import http.client

import pytest

from conftest import pool, route


def names(pairs):
    return {k.lower() for k, _ in pairs}


def values(pairs, name):
    return [v for k, v in pairs if k.lower() == name.lower()]


@pytest.fixture
def echo_proxy(portcullis, upstream):
    up = upstream(name="app")
    proxy = portcullis(upstreams={"app": pool(up.addr)}, routes=[route("root", "/", "app")])
    return proxy, up


def raw_get(proxy, path, headers, host="site.test"):
    """A GET through http.client, which sends headers exactly as given."""
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", host)
        for name, value in headers:
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read()
        return resp, body
    finally:
        conn.close()


def test_hop_by_hop_request_headers_do_not_reach_the_upstream(echo_proxy):
    proxy, up = echo_proxy
    resp, _ = raw_get(proxy, "/hop", [
        ("Connection", "close, X-Secret-Hop"),
        ("X-Secret-Hop", "secret-connection-listed"),
        ("Keep-Alive", "timeout=99, max=999"),
        ("Proxy-Connection", "keep-alive-from-client"),
        ("TE", "trailers, deflate;q=0.5"),
        ("Trailer", "X-Client-Trailer"),
        ("Upgrade", "h2c-from-client"),
        ("X-End-To-End", "kept"),
    ])
    assert resp.status == 200
    seen = up.requests[-1]["headers"]
    header_names = names(seen)
    assert "x-secret-hop" not in header_names
    assert "proxy-connection" not in header_names
    assert "trailer" not in header_names
    assert "upgrade" not in header_names
    assert values(seen, "X-End-To-End") == ["kept"]
    # The edge may speak its own Connection/Keep-Alive/TE to the upstream, but none of the
    # client's values may leak through.
    for _, value in seen:
        assert "x-secret-hop" not in value.lower()
        assert value not in ("timeout=99, max=999", "trailers, deflate;q=0.5", "h2c-from-client")
    assert all("close" not in v.lower() for v in values(seen, "Connection"))


def hop_response_app(req):
    req.read_body()
    req.send_bytes(200, b"with hop headers", {
        "Connection": "X-Resp-Hop",
        "X-Resp-Hop": "upstream-secret",
        "Keep-Alive": "timeout=7, max=77",
        "Proxy-Connection": "keep-alive-from-upstream",
        "Upgrade": "h2c-from-upstream",
        "X-End-To-End": "kept",
    })


def test_hop_by_hop_response_headers_do_not_reach_the_client(portcullis, upstream):
    up = upstream(hop_response_app, name="app")
    proxy = portcullis(upstreams={"app": pool(up.addr)}, routes=[route("root", "/", "app")])
    resp, body = raw_get(proxy, "/", [])
    assert resp.status == 200
    assert body == b"with hop headers"
    got = resp.getheaders()
    header_names = names(got)
    assert "x-resp-hop" not in header_names
    assert "proxy-connection" not in header_names
    assert "upgrade" not in header_names
    assert values(got, "X-End-To-End") == ["kept"]
    for _, value in got:
        assert "x-resp-hop" not in value.lower()
        assert value not in ("timeout=7, max=77", "upstream-secret", "h2c-from-upstream")


def test_x_forwarded_for_is_the_client_ip_when_absent(echo_proxy):
    proxy, up = echo_proxy
    resp, _ = raw_get(proxy, "/", [])
    assert resp.status == 200
    assert values(up.requests[-1]["headers"], "X-Forwarded-For") == ["127.0.0.1"]


def test_forwarding_headers_from_an_ordinary_client_are_replaced_with_what_the_edge_saw(echo_proxy):
    proxy, up = echo_proxy
    resp, _ = raw_get(proxy, "/", [("X-Forwarded-For", "1.2.3.4"), ("X-Real-IP", "1.2.3.4"),
                                   ("Forwarded", "for=1.2.3.4;proto=https")], host="shop.test")
    assert resp.status == 200
    seen = up.requests[-1]["headers"]
    assert values(seen, "X-Forwarded-For") == ["127.0.0.1"]
    assert values(seen, "X-Real-IP") == ["127.0.0.1"]
    assert values(seen, "Forwarded") == ['for=127.0.0.1;proto=http;host="shop.test"']


def test_a_trusted_proxy_chain_is_extended_and_the_real_client_named(portcullis, upstream):
    up = upstream(name="app")
    proxy = portcullis(upstreams={"app": pool(up.addr)}, routes=[route("root", "/", "app")],
                       listener={"trusted_proxies": ["127.0.0.0/8"]})
    resp, _ = raw_get(proxy, "/", [("X-Forwarded-For", "203.0.113.9, 127.0.0.5"),
                                   ("X-Forwarded-Proto", "https"), ("Forwarded", "for=203.0.113.9")],
                      host="shop.test")
    assert resp.status == 200
    seen = up.requests[-1]["headers"]
    xff = values(seen, "X-Forwarded-For")
    assert len(xff) == 1
    assert [part.strip() for part in xff[0].split(",")] == ["203.0.113.9", "127.0.0.5", "127.0.0.1"]
    assert values(seen, "X-Real-IP") == ["203.0.113.9"]
    assert values(seen, "X-Forwarded-Proto") == ["https"]
    assert values(seen, "Forwarded") == ['for=203.0.113.9, for=127.0.0.1;proto=http;host="shop.test"']
    request_lines = [line for line in proxy.output().splitlines() if line.endswith("request")]
    assert "client=203.0.113.9" in request_lines[-1], "the access log names the real client"


def test_x_forwarded_proto_and_host_describe_the_original_request(echo_proxy):
    proxy, up = echo_proxy
    resp, _ = raw_get(proxy, "/", [("X-Forwarded-Proto", "https"),
                                   ("X-Forwarded-Host", "spoofed.test")], host="shop.test")
    assert resp.status == 200
    seen = up.requests[-1]["headers"]
    assert values(seen, "X-Forwarded-Proto") == ["http"]
    assert values(seen, "X-Forwarded-Host") == ["shop.test"]


def test_request_id_is_generated_sent_upstream_echoed_and_logged(echo_proxy):
    proxy, up = echo_proxy
    resp, _ = raw_get(proxy, "/logged-path", [])
    assert resp.status == 200
    echoed = resp.getheader("X-Request-Id")
    assert echoed, "no X-Request-Id in the response"
    assert values(up.requests[-1]["headers"], "X-Request-Id") == [echoed]
    assert proxy.wait_for_stderr(echoed), (
        f"request id {echoed} not in the access log:\n{proxy.stderr()[-3000:]}")
    # Two requests never share an id.
    resp2, _ = raw_get(proxy, "/logged-path", [])
    assert resp2.getheader("X-Request-Id") not in (None, "", echoed)


def test_client_request_id_is_passed_through_unchanged(echo_proxy):
    proxy, up = echo_proxy
    rid = "client-chosen-id-0c7f3a"
    resp, _ = raw_get(proxy, "/", [("X-Request-Id", rid)])
    assert resp.status == 200
    assert values(up.requests[-1]["headers"], "X-Request-Id") == [rid]
    assert resp.getheader("X-Request-Id") == rid
    assert proxy.wait_for_stderr(rid), f"{rid} not in the access log"
