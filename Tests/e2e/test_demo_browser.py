"""The browser demo (scripts/lib/demo_backend.py and scripts/lib/demo/) in headless Chromium:
Debian's `chromium` and `chromium-driver` driven by selenium, against an edge that includes
the shipped conf/routes.d/marketplace-chat.yaml and model-activity.yaml, `portcullis-rooms`
running both apps, a real Redis holding the sessions, and the demo backend behind a /demo
proxy route, as `scripts/run` wires them.

Two browsers (two cookie jars) log in as a buyer and a seller, each sees the other's
message, a backend's notification reaches the buyer's page, and the buyer logs out: the demo backend deletes the session, the edge sends
`loggedOut` on the page's /chat socket and disconnects it, the page shows it, and the
seller's page sees the buyer go offline.

Every wait is on a DOM condition, with generous timeouts for a loaded two-core machine."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import REPO_ROOT, edge_id, free_port, hs256_secret, pool
from socketkit import publish

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

ROUTES_D = REPO_ROOT / "conf" / "routes.d"
BACKEND = REPO_ROOT / "scripts" / "lib" / "demo_backend.py"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
KID = "products-1"
WAIT = 45.0  # a page load, a login and two sockets through the edge, Redis and the worker
# auth.session_check_interval 1 s, the one-second sweep, then slack for a loaded machine.
LOGOUT_WAIT = 30.0

pytestmark = pytest.mark.skipif(not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)),
                                reason="Debian's chromium and chromium-driver are not installed")


class DemoBackend:
    """scripts/lib/demo_backend.py on a free port, with the test's keys and session prefix."""

    def __init__(self, directory: Path, redis_url: str, session_prefix: str, key: Path, cookie_secrets: Path):
        self.port = free_port()
        self.log = directory / "demo-backend.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, str(BACKEND), "--host", "127.0.0.1", "--port", str(self.port),
                 "--redis-url", redis_url, "--session-prefix", session_prefix, "--products-key", str(key),
                 "--kid", KID, "--cookie-secrets", str(cookie_secrets)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        pytest.fail(f"demo backend not listening after 20 s\n{self.log.read_text()}")

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        # Nothing to flush: sessions are in Redis.
        self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def demo(tmp_path, portcullis, rooms, redis_url, bus_prefix, monkeypatch):
    """The edge on the shipped product routes plus /demo, the worker, the demo backend:
    the page's origin and the session prefix."""
    key = tmp_path / "products.key"
    key.write_bytes(hs256_secret() + b"\n")
    cookie_secrets = tmp_path / "cookie-secrets"
    cookie_secrets.write_text(f"demo-{secrets.token_hex(16)}\n")
    session_prefix = f"{bus_prefix}:sess:"
    backend = DemoBackend(tmp_path, redis_url, session_prefix, key, cookie_secrets)
    try:
        port = free_port()
        origin = f"http://127.0.0.1:{port}"
        # The /chat route lets browsers in from the web app's origin: here, the demo page's.
        monkeypatch.setenv("MODEL_ACTIVITY_ORIGIN", origin)
        monkeypatch.setenv("MODEL_API_ADDR", f"127.0.0.1:{free_port()}")
        rooms(redis_url, bus_prefix, apps=("marketplace-chat", "model-activity"))
        auth = {
            "key_sets": {"products": [{"secret_file": str(key), "alg": "HS256", "kid": KID}]},
            "cookie_secrets_file": str(cookie_secrets),
            "session_prefix": session_prefix,
            "session_user_field": "user.username",
            "session_check_interval": "1s",
            "revocation_prefix": f"{bus_prefix}:revoked:",
        }
        routes = [{"include": str(ROUTES_D / "marketplace-chat.yaml")},
                  {"include": str(ROUTES_D / "model-activity.yaml")},
                  {"name": "demo-page", "match": {"path": "/demo"}, "proxy": {"upstream": "demo"}}]
        extra = {"redis": {"url": redis_url}, "bus": {"prefix": bus_prefix}, "auth": auth}
        # The edge must listen where the allowed origin says, which is fixed before it starts.
        pc = portcullis(upstreams={"demo": pool(backend.addr)}, routes=routes, extra=extra,
                        edge={"id": edge_id(), "watch_interval": "0s"}, port=port)
        assert pc.port == port
        yield origin, session_prefix
    finally:
        backend.stop()


@pytest.fixture
def browsers(tmp_path):
    """Factory: a headless Chromium of its own (its own profile, so its own cookies)."""
    opened = []

    def open_browser():
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        profile = tempfile.mkdtemp(prefix="chromium-", dir=tmp_path)
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-proxy-server", "--no-first-run", "--disable-extensions",
                     "--disable-background-networking", "--disable-background-timer-throttling",
                     "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows",
                     f"--user-data-dir={profile}", "--window-size=1000,900"):
            options.add_argument(flag)
        # The page's console (its JavaScript errors) goes into a failure's message.
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
        driver.set_page_load_timeout(WAIT)
        opened.append(driver)
        return driver

    yield open_browser
    for driver in opened:
        driver.quit()


def text_of(driver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def wait_until(driver, what: str, condition, timeout: float = WAIT):
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: condition(d))
    except TimeoutException:
        status = {i: d_text(driver, i) for i in ("status", "chat-status", "activity-status", "peer-status",
                                                    "messages", "notifications")}
        try:
            console = [entry["message"] for entry in driver.get_log("browser")][-20:]
        except Exception as error:  # noqa: BLE001: only for the failure message
            console = [f"<{error.__class__.__name__}>"]
        pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}; the page shows {status}; "
                    f"its console: {console}")


def d_text(driver, element_id: str) -> str:
    try:
        return text_of(driver, element_id)
    except Exception as error:  # noqa: BLE001: only for the failure message
        return f"<{error.__class__.__name__}>"


def log_in(driver, origin: str, user: str, role: str, peer: str) -> None:
    driver.get(origin + "/demo/")
    wait_until(driver, "the login form", lambda d: d.find_element(By.ID, "login-button").is_displayed())
    for field, value in (("user", user), ("peer", peer)):
        box = driver.find_element(By.ID, field)
        box.clear()
        box.send_keys(value)
    Select(driver.find_element(By.ID, "role")).select_by_visible_text(role)
    driver.find_element(By.ID, "login-button").click()
    wait_until(driver, f"{user} logged in", lambda d: text_of(d, "status") == f"logged in as {user} ({role})")
    wait_until(driver, f"{user}'s chat connected", lambda d: text_of(d, "chat-status") == "connected")
    wait_until(driver, f"{user}'s room", lambda d: d.find_element(By.ID, "room").get_attribute("data-ready") == "true")
    wait_until(driver, f"{user}'s activity feed", lambda d: text_of(d, "activity-status") ==
               f"connected, notifications::{user}")


def send(driver, text: str) -> None:
    box = driver.find_element(By.ID, "message-input")
    box.send_keys(text)
    driver.find_element(By.ID, "send-button").click()


def messages(driver) -> list[str]:
    return [item.text for item in driver.find_elements(By.CSS_SELECTOR, "#messages li")]


def test_a_buyer_and_a_seller_chat_in_two_browsers_and_logging_out_disconnects_the_page(
        demo, browsers, bus, bus_prefix):
    origin, session_prefix = demo
    buyer, seller = f"buyer-{secrets.token_hex(3)}", f"seller-{secrets.token_hex(3)}"
    buyer_page, seller_page = browsers(), browsers()

    log_in(buyer_page, origin, buyer, "BUYER", seller)
    log_in(seller_page, origin, seller, "SELLER", buyer)
    # The seller found the room with the buyer online; the buyer heard the seller arrive.
    wait_until(seller_page, "the buyer online", lambda d: text_of(d, "peer-status") == f"{buyer} is online")
    wait_until(buyer_page, "the seller online", lambda d: text_of(d, "peer-status") == f"{seller} is online")

    send(buyer_page, "is the lamp still for sale?")
    for page in (seller_page, buyer_page):
        wait_until(page, "the buyer's message", lambda d: f"{buyer}: is the lamp still for sale?" in messages(d))
    send(seller_page, "yes, 20 euros")
    for page in (buyer_page, seller_page):
        wait_until(page, "the seller's reply", lambda d: f"{seller}: yes, 20 euros" in messages(d))
    assert messages(buyer_page) == [f"{buyer}: is the lamp still for sale?", f"{seller}: yes, 20 euros"]

    # A backend notifies the buyer: the page's /chat socket joined notifications::<user>.
    publish(bus, f"{bus_prefix}:out:bcast", kind="emit", app="model-activity", to="room",
            target=f"notifications::{buyer}", ns="/", event="message",
            data=json.dumps({"event": "issueAssigned", "issue": 7}))
    wait_until(buyer_page, "the buyer's notification", lambda d: 'notification: {"event":"issueAssigned","issue":7}'
               in [item.text for item in d.find_elements(By.CSS_SELECTOR, "#notifications li")])
    assert not seller_page.find_elements(By.CSS_SELECTOR, "#notifications li")

    # The sessions are in Redis as connect-redis keeps them, one per browser.
    assert len(bus.keys(session_prefix + "*")) == 2

    buyer_page.find_element(By.ID, "logout-button").click()
    # What the page shows next comes from the edge: loggedOut on /chat, then the
    # disconnect; the page closes its chat socket, so the seller sees the buyer leave.
    wait_until(buyer_page, "the edge's loggedOut",
               lambda d: text_of(d, "status") == "logged out by the edge (session_ended)", LOGOUT_WAIT)
    assert buyer_page.find_element(By.TAG_NAME, "body").get_attribute("data-state") == "ended"
    wait_until(buyer_page, "the chat closed", lambda d: text_of(d, "chat-status").startswith("disconnected"))
    assert not buyer_page.find_element(By.ID, "send-button").is_enabled()
    assert text_of(buyer_page, "activity-status") == "logged out"
    wait_until(seller_page, "the buyer offline", lambda d: text_of(d, "peer-status") == f"{buyer} is offline")
    assert len(bus.keys(session_prefix + "*")) == 1
    # The seller's session and sockets are untouched.
    assert text_of(seller_page, "status") == f"logged in as {seller} (SELLER)"
    assert text_of(seller_page, "chat-status") == "connected"
