"""Helpers for the product tests (test_app_*.py): an edge that loads a product's SHIPPED
route file from conf/routes.d/, with the main-conf pieces every product file relies on
(the `products` key set, Redis, the bus), and a worker running the product's app."""

from __future__ import annotations

from pathlib import Path

from socketkit import Keys, SocketEdge, start_edge

ROUTES_D = Path(__file__).resolve().parents[2] / "conf" / "routes.d"


class ProductKeys(Keys):
    """The `products` key set the shipped route files name."""

    def config(self) -> dict:
        return {"key_sets": {"products": [{"secret_file": str(self.path), "alg": "HS256", "kid": "k1",
                                           "default": True}]}}


def start_product(portcullis, rooms, redis_url: str, prefix: str, keys: ProductKeys, product: str, *,
                  app: str | None = None, auth: dict | None = None, upstreams: dict | None = None,
                  edge: dict | None = None) -> SocketEdge:
    """Starts `portcullis-rooms` with the product's app (named after the file unless `app`
    says otherwise) and an edge including conf/routes.d/<product>.yaml as shipped.
    `auth` adds main-conf `auth` keys (cookie secrets, session fields) to the key set."""
    rooms(redis_url, prefix, apps=(app or product,))
    auth_config = keys.config()
    auth_config.update(auth or {})
    route_file = ROUTES_D / f"{product}.yaml"
    assert route_file.is_file(), f"{route_file} is not shipped"
    if upstreams:
        return _start_with_upstreams(portcullis, redis_url, prefix, route_file, auth_config, upstreams, edge)
    return start_edge(portcullis, redis_url, prefix, [{"include": str(route_file)}], auth=auth_config, edge=edge)


def _start_with_upstreams(portcullis, redis_url, prefix, route_file, auth_config, upstreams, edge) -> SocketEdge:
    from conftest import edge_id

    ident = edge_id()
    extra = {"redis": {"url": redis_url}, "bus": {"prefix": prefix}, "auth": auth_config}
    settings = {"id": ident, "watch_interval": "0s"}
    settings.update(edge or {})
    pc = portcullis(upstreams=upstreams, routes=[{"include": str(route_file)}], extra=extra, edge=settings)
    return SocketEdge(pc, ident, prefix)
