"""scripts/install, staged with --destdir (no root, no systemd): the layout, the modes, the
units pointing at the installed binaries, the installed confs passing both `check`s once
their certificate and secret directories exist, and a second install keeping what an
operator edited. (Creating the user and `systemctl daemon-reload` need root and a running
systemd; they are the two steps --destdir skips.)"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from conftest import portcullis_bin

REPO_ROOT = Path(__file__).resolve().parents[2]


def install(destdir: Path, prefix: str = "/usr/local") -> subprocess.CompletedProcess:
    return subprocess.run(["scripts/install", "--from", str(Path(portcullis_bin()).parent), "--destdir",
                           str(destdir), "--prefix", prefix], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=120)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_staged_install_lays_out_binaries_confs_and_units(tmp_path):
    root = tmp_path / "root"
    result = install(root, prefix="/opt/portcullis")
    assert result.returncode == 0, result.stdout + result.stderr

    for exe in ("portcullis", "portcullis-rooms"):
        binary = root / "opt/portcullis/bin" / exe
        assert mode(binary) == 0o755
        assert subprocess.run([str(binary), "--version"], capture_output=True, timeout=30).returncode == 0
    conf = root / "etc/portcullis"
    assert mode(conf) == 0o750 and mode(conf / "secrets") == 0o750 and mode(conf / "tls") == 0o750
    for name in ("portcullis.yaml", "rooms.yaml"):
        assert mode(conf / name) == 0o640
    shipped = sorted(p.name for p in (REPO_ROOT / "conf/routes.d").glob("*.yaml"))
    assert sorted(p.name for p in (conf / "routes.d").glob("*.yaml")) == shipped

    units = root / "etc/systemd/system"
    for unit in ("portcullis.service", "portcullis-rooms@.service"):
        text = (units / unit).read_text()
        assert "/usr/local/bin" not in text and "ExecStart=/opt/portcullis/bin/" in text, text

    # The installed confs check once the operator has put certificates and secrets in place.
    tls, secrets = tmp_path / "tls", tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "products-hs256.key").write_text(os.urandom(32).hex())
    (secrets / "cookie-secrets").write_text(os.urandom(32).hex() + "\n")
    for domain in ("example.com", "example.net"):
        (tls / domain).mkdir(parents=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", str(tls / domain / "privkey.pem"), "-out", str(tls / domain / "fullchain.pem"),
                        "-days", "1", "-subj", f"/CN={domain}"], check=True, capture_output=True)
    env = {**os.environ, "PORTCULLIS_TLS_DIR": str(tls), "PORTCULLIS_SECRETS_DIR": str(secrets)}
    bin_dir = root / "opt/portcullis/bin"
    edge = subprocess.run([str(bin_dir / "portcullis"), "check", "--config", str(conf / "portcullis.yaml")],
                          capture_output=True, text=True, env=env, timeout=30)
    assert edge.returncode == 0, edge.stderr
    rooms = subprocess.run([str(bin_dir / "portcullis-rooms"), "check", "--config", str(conf / "rooms.yaml")],
                           capture_output=True, text=True, env=env, timeout=30)
    assert rooms.returncode == 0, rooms.stdout + rooms.stderr


def test_a_second_install_keeps_edited_confs(tmp_path):
    root = tmp_path / "root"
    assert install(root).returncode == 0
    edited = root / "etc/portcullis/portcullis.yaml"
    edited.write_text(edited.read_text() + "# edited by the operator\n")
    result = install(root)
    assert result.returncode == 0, result.stderr
    assert edited.read_text().endswith("# edited by the operator\n")
    assert "kept" in result.stdout + result.stderr
