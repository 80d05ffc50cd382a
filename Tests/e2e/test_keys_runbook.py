"""docs/keys.md's worked rotations (HS256, ES256 in a JWKS, cookie secrets), each pasted as
the page prints it (only `cd /etc/portcullis` points at a temporary conf directory) against
a running edge: what the reloads answer, and tokens of each kid checked through the edge:
the old kid works until it is retired and not after."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import jwt
import requests

from conftest import free_port, portcullis_bin

REPO_ROOT = Path(__file__).resolve().parents[2]


def block_after(marker: str) -> str:
    doc = (REPO_ROOT / "docs" / "keys.md").read_text()
    return re.search(r"```sh\n(.*?)```", doc[doc.index(marker):], re.S).group(1)


class RunningEdge:
    """An edge on `directory/portcullis.yaml` with one authenticated proxy route to a dead
    upstream (authenticated: 502, refused: 401)."""

    def __init__(self, directory: Path, auth: str):
        self.port, self.admin = free_port(), free_port()
        (directory / "portcullis.yaml").write_text(f"""version: 1
edge: {{id: runbook, watch_interval: 1s}}
listeners: [{{name: a, address: "127.0.0.1:{self.port}"}}]
admin: {{address: "127.0.0.1:{self.admin}"}}
upstreams: {{app: {{servers: ["127.0.0.1:9"]}}}}
auth:
{auth}
routes:
  - {{name: r, match: {{path: /}}, proxy: {{upstream: app}}, auth: {{key_set: main}}}}
""")
        self.proc = subprocess.Popen([portcullis_bin(), "serve", "--config", "portcullis.yaml"], cwd=directory,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.session = requests.Session()
        self.session.trust_env = False
        deadline = time.monotonic() + 20
        while True:
            try:
                if self.session.get(f"http://127.0.0.1:{self.admin}/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "edge did not start"
            time.sleep(0.1)

    def status(self, token: str) -> int:
        return self.session.get(f"http://127.0.0.1:{self.port}/x", headers={"Authorization": f"Bearer {token}"},
                                timeout=5).status_code

    def stop(self):
        self.proc.terminate()
        self.proc.wait(20)


def paste(script: str, directory: Path, **env) -> str:
    environment = {**os.environ, "PATH": f"{Path(portcullis_bin()).parent}:{os.environ['PATH']}", **env}
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script.replace("cd /etc/portcullis", f"cd {directory}")],
                            capture_output=True, text=True, timeout=120, env=environment)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_worked_es256_rotation_runs_as_printed(tmp_path):
    keys, issuer = tmp_path / "keys", tmp_path / "issuer"
    keys.mkdir()
    issuer.mkdir()
    generate = subprocess.run([portcullis_bin(), "keys", "generate", "--alg", "ES256", "--kid", "es-2026-05",
                               "--jwks", str(keys / "jwks.json"), "--private-out", str(issuer / "old.key.pem")],
                              capture_output=True, text=True, timeout=30)
    assert generate.returncode == 0, generate.stderr
    edge = RunningEdge(tmp_path, "  key_sets:\n    main:\n      - { jwks_file: keys/jwks.json }")
    try:
        old_token = jwt.encode({"sub": "u", "exp": int(time.time()) + 600}, (issuer / "old.key.pem").read_bytes(),
                               algorithm="ES256", headers={"kid": "es-2026-05"})
        assert edge.status(old_token) == 502
        script = block_after("A worked ES256 rotation for key set `main`").replace(
            "ISSUER_KEYS=/etc/issuer/keys", f"ISSUER_KEYS={issuer}")
        both, after = [line for line in paste(script, tmp_path).splitlines() if line.startswith("key set main:")]
        assert "es-2026-05 ES256" in both and len(both.split(",")) == 2, both
        assert "es-2026-05" not in after, after
        new_kid = after.split(":", 1)[1].split()[0]
        new_key = next(p for p in issuer.glob("es256-*.key.pem"))
        new_token = jwt.encode({"sub": "u", "exp": int(time.time()) + 600}, new_key.read_bytes(), algorithm="ES256",
                               headers={"kid": new_kid})
        assert edge.status(new_token) == 502
        assert edge.status(old_token) == 401
    finally:
        edge.stop()


def test_the_worked_cookie_secret_rotation_runs_as_printed(tmp_path):
    (tmp_path / "secrets").mkdir()
    old = os.urandom(24).hex()
    (tmp_path / "secrets" / "cookie-secrets").write_text(old + "\n")
    (tmp_path / "hs.key").write_text(os.urandom(32).hex())
    edge = RunningEdge(tmp_path, "  cookie_secrets_file: secrets/cookie-secrets\n  key_sets:\n    main:\n"
                                 "      - { secret_file: hs.key, alg: HS256, kid: k }")
    try:
        lines = [line for line in paste(block_after("A worked rotation (paste in order)"), tmp_path).splitlines()
                 if line.startswith("cookie secrets")]
        assert len(lines) == 2, lines
        two, one = (line.split(": ", 1)[1].split(", ") for line in lines)
        assert len(two) == 2 and len(one) == 1 and one[0] == two[0], lines
        remaining = (tmp_path / "secrets" / "cookie-secrets").read_text().splitlines()
        assert remaining != [old] and len(remaining) == 1
        check = subprocess.run([portcullis_bin(), "check", "--config", "portcullis.yaml"], cwd=tmp_path,
                               capture_output=True, text=True, timeout=30)
        assert f"cookie secrets (sha256 prefixes, signing first): {one[0]}" in check.stdout, check.stdout
    finally:
        edge.stop()


def test_the_worked_hs256_rotation_runs_as_printed(tmp_path):
    (tmp_path / "keys").mkdir()
    old_secret = os.urandom(32).hex()
    (tmp_path / "keys" / "hs256-2026-05.key").write_text(old_secret + "\n")
    edge = RunningEdge(tmp_path, "  key_sets:\n    main:\n"
                                 "      - { secret_file: keys/hs256-2026-05.key, alg: HS256, kid: hs-2026-05 }")
    try:
        old_token = jwt.encode({"sub": "u", "exp": int(time.time()) + 600}, old_secret, algorithm="HS256",
                               headers={"kid": "hs-2026-05"})
        assert edge.status(old_token) == 502
        output = paste(block_after("A worked HS256 rotation for key set `main`"), tmp_path)
        both, after = [line for line in output.splitlines() if line.startswith("key set main:")]
        assert "hs-2026-05" in both and len(both.split(",")) == 2, output
        assert "hs-2026-05" not in after, output
        new_file = next((tmp_path / "keys").glob("hs256-*-*-*.key"))
        new_kid = after.split(":", 1)[1].split()[0]
        new_token = jwt.encode({"sub": "u", "exp": int(time.time()) + 600},
                               new_file.read_bytes().rstrip(b"\n"), algorithm="HS256", headers={"kid": new_kid})
        assert edge.status(new_token) == 502
        assert edge.status(old_token) == 401
        assert not (tmp_path / "keys" / "hs256-2026-05.key").exists()
    finally:
        edge.stop()
