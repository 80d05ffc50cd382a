"""docs/keys.md's worked HS256 rotation, pasted as the page prints it (only `cd
/etc/portcullis` points at a temporary conf directory) against a running edge, with a
token of each kid checked through the edge at every step: nothing fails, the old kid works
until it is retired and not after."""

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


def worked_rotation() -> str:
    doc = (REPO_ROOT / "docs" / "keys.md").read_text()
    start = doc.index("A worked HS256 rotation for key set `main`")
    return re.search(r"```sh\n(.*?)```", doc[start:], re.S).group(1)


def test_the_worked_hs256_rotation_runs_as_printed(tmp_path):
    (tmp_path / "keys").mkdir()
    old_secret = os.urandom(32).hex()
    (tmp_path / "keys" / "hs256-2026-05.key").write_text(old_secret + "\n")
    port, admin = free_port(), free_port()
    (tmp_path / "portcullis.yaml").write_text(f"""version: 1
edge: {{id: runbook, watch_interval: 1s}}
listeners: [{{name: a, address: "127.0.0.1:{port}"}}]
admin: {{address: "127.0.0.1:{admin}"}}
upstreams: {{app: {{servers: ["127.0.0.1:9"]}}}}
auth:
  key_sets:
    main:
      - {{ secret_file: keys/hs256-2026-05.key, alg: HS256, kid: hs-2026-05 }}
routes:
  - {{name: r, match: {{path: /}}, proxy: {{upstream: app}}, auth: {{key_set: main}}}}
""")
    edge = subprocess.Popen([portcullis_bin(), "serve", "--config", "portcullis.yaml"], cwd=tmp_path,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    session = requests.Session()
    session.trust_env = False

    def status(token: str) -> int:
        # Authenticated, the request reaches the (dead) upstream: 502; refused: 401.
        return session.get(f"http://127.0.0.1:{port}/x", headers={"Authorization": f"Bearer {token}"},
                           timeout=5).status_code

    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if session.get(f"http://127.0.0.1:{admin}/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "edge did not start"
            time.sleep(0.1)
        old_token = jwt.encode({"sub": "u", "exp": int(time.time()) + 600}, old_secret, algorithm="HS256",
                               headers={"kid": "hs-2026-05"})
        assert status(old_token) == 502

        script = worked_rotation().replace("cd /etc/portcullis", f"cd {tmp_path}")
        env = {**os.environ, "PATH": f"{Path(portcullis_bin()).parent}:{os.environ['PATH']}"}
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True,
                                timeout=120, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        both, after = [line for line in result.stdout.splitlines() if line.startswith("key set main:")]
        assert "hs-2026-05" in both and len(both.split(",")) == 2, result.stdout
        assert "hs-2026-05" not in after, result.stdout

        new_file = next((tmp_path / "keys").glob("hs256-*-*-*.key"))
        new_kid = after.split(":", 1)[1].split()[0]
        new_token = jwt.encode({"sub": "u", "exp": int(time.time()) + 600},
                               new_file.read_bytes().rstrip(b"\n"), algorithm="HS256", headers={"kid": new_kid})
        assert status(new_token) == 502
        assert status(old_token) == 401
        assert not (tmp_path / "keys" / "hs256-2026-05.key").exists()
    finally:
        edge.terminate()
        edge.wait(20)
