"""Doc checks: what the docs promise stays true of the code and the repository.

- every `*_file` key the conf reader accepts is in configuration.md's Secrets table;
- every relative link in README.md and docs/ points at a file of the repository (and none
  leaves it);
- every built-in app of portcullis-rooms is listed where configuration.md lists them, and
  served by conf/rooms.yaml;
- every command in the README's quick-start block starts with a program the repository
  ships or a fresh machine has.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").rglob("*.md"))]


def section(text: str, heading: str) -> str:
    start = text.index(heading)
    following = text.find("\n## ", start + len(heading))
    return text[start:] if following < 0 else text[start:following]


def test_every_secret_file_key_is_in_the_secrets_table():
    sources = "\n".join(p.read_text() for p in (REPO_ROOT / "Sources" / "PortcullisConfig").glob("*.swift"))
    # Public material (verification keys, CA and client certificates) is not secret.
    public = {"jwks_file", "pem_file", "ca_file", "certificate_file"}
    keys = set(re.findall(r'"([a-z_]+_file)"', sources)) - public
    assert keys, "no *_file keys found: the check reads the wrong place"
    table = section((REPO_ROOT / "docs" / "configuration.md").read_text(), "## Secrets")
    missing = sorted(k for k in keys if k not in table)
    assert not missing, f"*_file keys missing from configuration.md's Secrets section: {missing}"


def test_relative_links_point_into_the_repository():
    problems = []
    for doc in DOCS:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text()):
            if re.match(r"[a-z]+:", target):
                continue
            resolved = (doc.parent / target).resolve()
            if not resolved.is_relative_to(REPO_ROOT):
                problems.append(f"{doc.relative_to(REPO_ROOT)}: {target} leaves the repository")
            elif not resolved.exists():
                problems.append(f"{doc.relative_to(REPO_ROOT)}: {target} does not exist")
    assert not problems, "\n".join(problems)


def test_built_in_apps_are_documented_and_served():
    registry = (REPO_ROOT / "Sources" / "PortcullisRooms" / "RoomsApps.swift").read_text()
    apps = re.findall(r'"([a-z0-9-]+)":\s*\w+App\(', registry)
    assert apps, "no apps found in RoomsApps.swift"
    configuration = (REPO_ROOT / "docs" / "configuration.md").read_text()
    apps_row = next(line for line in configuration.splitlines() if line.startswith("| `apps`"))
    rooms = (REPO_ROOT / "conf" / "rooms.yaml").read_text()
    for app in apps:
        assert f"`{app}`" in apps_row, f"{app} missing from configuration.md's apps row"
        assert re.search(rf"^\s*- {re.escape(app)}\b", rooms, re.M), f"{app} not served by conf/rooms.yaml"


def test_quick_start_commands_exist():
    readme = (REPO_ROOT / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", readme, re.S)[:2]
    assert blocks, "no sh blocks in the README"
    known = {"curl", "openssl", "redis-cli"}
    for line in "\n".join(blocks).splitlines():
        command = line.split("#")[0].strip()
        if not command:
            continue
        program = command.split()[0]
        assert program in known or (REPO_ROOT / program).exists(), f"README runs {program!r}, which is not here"
        for script in re.findall(r"\bscripts/[\w./-]+", command):
            assert (REPO_ROOT / script).exists(), f"README names {script}, which does not exist"
