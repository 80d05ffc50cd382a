"""Dashboard checks: docs/grafana/portcullis.json reads only metrics the code registers,
and docs/observability.md documents every metric the edge and the rooms worker register.

- every `portcullis_*` name in a panel's query is a string literal in Sources/ (a
  histogram's `_bucket`, `_sum` and `_count` series count as the histogram's name);
- every `portcullis_*` name registered in Sources/ is in docs/observability.md;
- the dashboard is JSON Grafana can import: a title, a uid, and panels with queries.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = REPO_ROOT / "docs" / "grafana" / "portcullis.json"
OBSERVABILITY = REPO_ROOT / "docs" / "observability.md"
METRIC = re.compile(r"\bportcullis_[a-z_]+")


def registered_names() -> set[str]:
    sources = "\n".join(p.read_text() for p in (REPO_ROOT / "Sources").rglob("*.swift"))
    return set(re.findall(r'"(portcullis_[a-z_]+)"', sources))


def queries(dashboard: dict) -> list[str]:
    found = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            found.append(target["expr"])
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        if isinstance(query, dict):
            found.append(query.get("query", ""))
    return found


def base_name(series: str) -> str:
    return re.sub(r"_(bucket|sum|count)$", "", series)


def test_every_metric_in_the_dashboard_is_registered_by_the_code():
    registered = registered_names()
    assert "portcullis_requests_total" in registered, "no metric names found: the check reads the wrong place"
    dashboard = json.loads(DASHBOARD.read_text())
    used = {name for expr in queries(dashboard) for name in METRIC.findall(expr)}
    assert used, "the dashboard has no queries"
    unknown = sorted(name for name in used if name not in registered and base_name(name) not in registered)
    assert not unknown, f"dashboard queries name metrics no code registers: {unknown}"


def test_every_registered_metric_is_documented():
    documented = OBSERVABILITY.read_text()
    missing = sorted(name for name in registered_names() if f"`{name}" not in documented)
    assert not missing, f"metrics missing from docs/observability.md: {missing}"


def test_the_dashboard_has_a_title_a_uid_and_panels_with_queries():
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["title"] and dashboard["uid"]
    graphs = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert graphs and all(p.get("targets") for p in graphs)
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids repeat"
