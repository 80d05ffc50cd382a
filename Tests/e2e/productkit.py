"""Helpers for the product tests (test_app_*.py): an edge that loads a product's SHIPPED
route file from conf/routes.d/, with the main-conf pieces every product file relies on
(the `products` key set, Redis, the bus, optionally the publish API), and a worker running
the product's app."""

from __future__ import annotations

import secrets
from pathlib import Path

import requests

from conftest import edge_id
from socketkit import Keys, SocketEdge

ROUTES_D = Path(__file__).resolve().parents[2] / "conf" / "routes.d"


class ProductKeys(Keys):
    """The `products` key set the shipped route files name."""

    def config(self) -> dict:
        return {"key_sets": {"products": [{"secret_file": str(self.path), "alg": "HS256", "kid": "k1",
                                           "default": True}]}}


class Publisher:
    """A backend calling the admin listener's publish API with its bearer key."""

    def __init__(self, directory: Path):
        self.key = secrets.token_hex(32)
        self.path = directory / "publish.key"
        self.path.write_text(self.key + "\n")
        self.base = ""
        self.session = requests.Session()
        self.session.trust_env = False

    def admin(self) -> dict:
        return {"publish": {"key_file": str(self.path)}}

    def post(self, path: str, body) -> requests.Response:
        return self.session.post(self.base + path, json=body, timeout=10,
                                 headers={"Authorization": f"Bearer {self.key}"})


def start_product(portcullis, rooms, redis_url: str, prefix: str, keys: ProductKeys, product: str, *,
                  app: str | None = None, auth: dict | None = None, upstreams: dict | None = None,
                  edge: dict | None = None, publisher: Publisher | None = None) -> SocketEdge:
    """Starts `portcullis-rooms` with the product's app (named after the file unless `app`
    says otherwise) and an edge including conf/routes.d/<product>.yaml as shipped.
    `auth` adds main-conf `auth` keys (cookie secrets, session fields) to the key set;
    `publisher` turns the publish API on with its key."""
    rooms(redis_url, prefix, apps=(app or product,))
    auth_config = keys.config()
    auth_config.update(auth or {})
    route_file = ROUTES_D / f"{product}.yaml"
    assert route_file.is_file(), f"{route_file} is not shipped"
    ident = edge_id()
    extra = {"redis": {"url": redis_url}, "bus": {"prefix": prefix}, "auth": auth_config}
    settings = {"id": ident, "watch_interval": "0s"}
    settings.update(edge or {})
    pc = portcullis(upstreams=upstreams or {}, routes=[{"include": str(route_file)}], extra=extra, edge=settings,
                    admin=publisher.admin() if publisher else None)
    if publisher:
        publisher.base = pc.admin_url
    return SocketEdge(pc, ident, prefix)
