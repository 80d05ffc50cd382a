"""Routing: host (exact and *.suffix), longest path prefix, methods, strip_prefix, 404,
and the warning for auth routes whose other methods fall through to a public route."""

import subprocess

import pytest

from conftest import pool, portcullis_bin, route, to_yaml


@pytest.fixture
def routed(portcullis, upstream):
    """Five upstreams, each named after the route that should reach it."""
    ups = {name: upstream(name=name) for name in ("api", "wild", "static", "images", "exact")}
    proxy = portcullis(
        upstreams={name: pool(up.addr) for name, up in ups.items()},
        routes=[
            route("api", "/api", "api", host="api.test", methods=["GET", "POST"],
                  strip_prefix=True),
            route("wild", "/", "wild", host="*.wild.test"),
            route("static", "/static", "static"),
            route("images", "/static/images", "images"),
            route("exact", "/", "exact", host="exact.test"),
        ],
    )
    return proxy, ups


def get(http, proxy, path, host, method="GET"):
    return http.request(method, proxy.url(path), headers={"Host": host}, timeout=10)


def test_exact_host_route_forwards_with_prefix_stripped(http, routed):
    proxy, ups = routed
    r = get(http, proxy, "/api/users/7", "api.test")
    assert r.status_code == 200, r.text
    assert r.json()["server"] == "api"
    assert r.json()["path"] == "/users/7"


def test_strip_prefix_keeps_the_query_and_maps_the_bare_prefix_to_root(http, routed):
    proxy, _ = routed
    r = get(http, proxy, "/api/search?q=a%20b&page=2", "api.test")
    assert r.status_code == 200, r.text
    assert r.json()["path"] == "/search?q=a%20b&page=2"
    r = get(http, proxy, "/api", "api.test")
    assert r.status_code == 200, r.text
    assert r.json()["path"] == "/"


def test_host_match_ignores_the_port_and_letter_case(http, routed):
    proxy, _ = routed
    r = get(http, proxy, "/api/x", f"api.test:{proxy.port}")
    assert r.status_code == 200, r.text
    assert r.json()["server"] == "api"
    r = get(http, proxy, "/api/x", "API.Test")
    assert r.status_code == 200, r.text
    assert r.json()["server"] == "api"


def test_route_without_host_does_not_strip_its_prefix(http, routed):
    proxy, _ = routed
    r = get(http, proxy, "/static/app.css", "anything.test")
    assert r.status_code == 200, r.text
    assert r.json()["server"] == "static"
    assert r.json()["path"] == "/static/app.css"


def test_wildcard_host_matches_subdomains(http, routed):
    proxy, _ = routed
    for host in ("foo.wild.test", "deep.foo.wild.test", "FOO.wild.test"):
        r = get(http, proxy, "/page", host)
        assert r.status_code == 200, (host, r.text)
        assert r.json()["server"] == "wild", host


def test_wildcard_host_does_not_match_a_name_that_only_ends_in_the_suffix(http, routed):
    proxy, ups = routed
    r = get(http, proxy, "/page", "notwild.test")
    assert r.status_code == 404
    assert ups["wild"].requests == []


def test_longest_path_prefix_wins_whatever_the_declaration_order(http, routed):
    proxy, _ = routed
    r = get(http, proxy, "/static/images/logo.png", "any.test")
    assert r.status_code == 200
    assert r.json()["server"] == "images"
    r = get(http, proxy, "/static/fonts/a.woff", "any.test")
    assert r.status_code == 200
    assert r.json()["server"] == "static"


def test_exact_host_route_beats_hostless_routes_only_for_its_host(http, routed):
    proxy, _ = routed
    assert get(http, proxy, "/other", "exact.test").json()["server"] == "exact"
    assert get(http, proxy, "/other", "else.test").status_code == 404


def test_method_outside_the_route_methods_finds_no_route(http, routed):
    proxy, ups = routed
    assert get(http, proxy, "/api/x", "api.test", method="POST").status_code == 200
    r = get(http, proxy, "/api/x", "api.test", method="DELETE")
    assert r.status_code == 404
    assert [q["method"] for q in ups["api"].requests] == ["POST"]


def test_request_matching_no_route_gets_404_and_reaches_no_upstream(http, routed):
    proxy, ups = routed
    r = get(http, proxy, "/nothing/here", "nobody.test")
    assert r.status_code == 404
    assert all(up.requests == [] for up in ups.values())


def fall_through_config(secret_file) -> dict:
    """A public `/` route and a GET/HEAD-only `/admin` route with auth on the same host:
    `POST /admin` reaches the public route."""
    return {
        "version": 1,
        "listeners": [{"name": "main", "address": "127.0.0.1:0"}],
        "admin": {"address": "127.0.0.1:0"},
        "upstreams": {"app": pool("127.0.0.1:9")},
        "auth": {"key_sets": {"main": [{"secret_file": str(secret_file), "alg": "HS256", "default": True}]}},
        "routes": [
            route("public", "/", "app", host="api.test"),
            route("admin-read", "/admin", "app", host="api.test", methods=["GET", "HEAD"],
                  auth={"key_set": "main"}),
        ],
    }


FALL_THROUGH_WARNING = (
    'warning: routes[1] "admin-read" requires auth for GET, HEAD on api.test/admin, but other methods '
    '(POST, PUT, PATCH, DELETE, OPTIONS, ...) fall through to routes[0] "public" which has none')


def test_check_warns_when_other_methods_of_an_auth_route_fall_through_to_a_public_route(tmp_path):
    secret = tmp_path / "hs.key"
    secret.write_text("0123456789abcdef0123456789abcdef")
    conf = tmp_path / "portcullis.yaml"
    conf.write_text(to_yaml(fall_through_config(secret)))
    result = subprocess.run([portcullis_bin(), "check", "--config", str(conf)], capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr
    warnings = [line for line in result.stderr.splitlines() if "warning:" in line]
    assert warnings == [f"{conf}:{admin_route_line(conf)}: {FALL_THROUGH_WARNING}"], result.stderr
    assert "configuration OK" in result.stdout

    config = fall_through_config(secret)
    config["routes"][0]["auth"] = {"key_set": "main"}
    conf.write_text(to_yaml(config))
    result = subprocess.run([portcullis_bin(), "check", "--config", str(conf)], capture_output=True,
                            text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning:" not in result.stderr


def admin_route_line(conf) -> int:
    """The line of the `admin-read` route's item in `conf`, where the warning points."""
    lines = conf.read_text().splitlines()
    name_line = next(i for i, line in enumerate(lines) if '"admin-read"' in line)
    return name_line + 1
