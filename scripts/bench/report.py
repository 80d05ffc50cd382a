#!/usr/bin/env python3
"""Turns the JSON of scripts/bench/all into the figures table of docs/performance.md.

    python3 scripts/bench/report.py out/bench                      # print the Markdown
    python3 scripts/bench/report.py out/bench --doc docs/performance.md

With --doc the text between `<!-- bench:begin -->` and `<!-- bench:end -->` is replaced;
the rest of the document (how to read it, profiles) is left as written. Every figure is a
median of the run's rounds; every ratio is against a peer measured in the same run.
A missing bench file leaves its rows as "not measured".
"""

import argparse
import json
import sys
from pathlib import Path

BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"


def load(directory, name):
    path = directory / name
    if not path.exists():
        return None
    if name.endswith(".jsonl"):
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return json.loads(path.read_text())


def med(value):
    """The median of a {median,min,max} spread, or the value itself."""
    if isinstance(value, dict):
        return value.get("median")
    return value


def x(value):
    return f"{value:.2f}×" if value is not None else "n/a"


def num(value, fmt="{:,.0f}"):
    return fmt.format(value) if value is not None else "n/a"


def verdict(value, target, higher_is_better):
    if value is None:
        return "not measured"
    ok = value >= target if higher_is_better else value <= target
    return "met" if ok else "not met"


def table(rows):
    out = ["| " + " | ".join(rows[0]) + " |", "|" + "|".join("---" for _ in rows[0]) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows[1:]]
    return "\n".join(out)


def machine_line(docs):
    for doc in docs:
        if doc and doc.get("machine"):
            m = doc["machine"]
            vers = doc.get("versions", {})
            return (f"Machine: {m.get('nproc')} vCPU {m.get('cpu_model')}, "
                    f"{m.get('mem_total_kib', 0) / 1048576:.0f} GiB, kernel {m.get('kernel')}; commit "
                    f"`{doc.get('commit') or '-'}`, run {doc.get('started', '?')[:16]}Z. Peers: "
                    + "; ".join(f"{k} {v}" for k, v in sorted(vers.items())))
    return "Machine: not recorded."


PROXY_SCENARIOS = ["keepalive", "body4k", "close", "tls", "tls-handshake"]


def proxy_section(docs, rows):
    """One table per scenario; every scenario's req/s against both peers, and for the
    keep-alive ones CPU per request and p99 too."""
    lines = []
    for scenario in PROXY_SCENARIOS:
        doc = docs.get(scenario)
        if not doc:
            rows.append([f"proxy ({scenario}) req/s vs nginx and HAProxy", "not measured", "≥ 1.0×", "not measured"])
            continue
        s, r = doc["summary"], doc["ratios"]
        lines += [f"{doc.get('scenario_title', scenario)} (`--scenario {scenario}`):", ""]
        lines.append(table([["target", "req/s", "p50 ms", "p99 ms", "CPU µs/req"]] + [
            [t, num(med(s[t]["rps"])), num(med(s[t]["p50_us"]) / 1000, "{:.2f}"),
             num(med(s[t]["p99_us"]) / 1000, "{:.2f}"), num(med(s[t].get("sut_cpu_us_per_req")), "{:.1f}")]
            for t in doc["targets"] if t in s]))
        lines.append("")
        for peer in ("nginx", "haproxy"):
            e = r.get(f"portcullis/{peer}", {})
            rows.append([f"proxy ({scenario}) req/s vs {peer}", x(e.get("rps")), "≥ 1.0×",
                         verdict(e.get("rps"), 1.0, True)])
            if scenario in ("keepalive", "body4k"):
                rows.append([f"proxy ({scenario}) CPU per request vs {peer}", x(e.get("sut_cpu_s_per_10k")), "≤ 1.0×",
                             verdict(e.get("sut_cpu_s_per_10k"), 1.0, False)])
                rows.append([f"proxy ({scenario}) p99 vs {peer}", x(e.get("p99_us")), "≤ 1.0×",
                             verdict(e.get("p99_us"), 1.0, False)])
    scaling, single = docs.get("scaling"), docs.get("keepalive")
    if scaling:
        s = scaling["summary"]
        lines += ["Two event loops / workers / threads per proxy, unpinned, beside wrk and the backend on the "
                  "same two CPUs (`--workers 2`): scaling, not a per-core figure.", ""]
        lines.append(table([["target", "req/s", "p99 ms", "CPU µs/req"]] + [
            [t, num(med(s[t]["rps"])), num(med(s[t]["p99_us"]) / 1000, "{:.2f}"),
             num(med(s[t].get("sut_cpu_us_per_req")), "{:.1f}")] for t in scaling["targets"] if t in s]))
        lines.append("")
        e = scaling["ratios"].get("portcullis/nginx", {})
        rows.append(["proxy with 2 event loops req/s vs nginx with 2 workers", x(e.get("rps")), "≥ 1.0×",
                     verdict(e.get("rps"), 1.0, True)])
        if single and "portcullis" in s and "portcullis" in single["summary"]:
            two, one = med(s["portcullis"]["rps"]), med(single["summary"]["portcullis"]["rps"])
            rows.append(["Portcullis req/s, 2 event loops / 1 (two runs)", x(two / one if one else None),
                         "> 1×", verdict(two / one if one else None, 1.0, True)])
    return lines


def auth_section(doc, verify, rows):
    lines = []
    if verify:
        lines.append(table([["algorithm", "distinct tokens, CPU µs/verify", "cached token, CPU µs/verify"]] + [
            [alg, num(next((v["cpu_us_per_call"] for v in verify if v["alg"] == alg and v["series"] == "distinct"), None),
                      "{:.1f}"),
             num(next((v["cpu_us_per_call"] for v in verify if v["alg"] == alg and v["series"] == "cached"), None),
                 "{:.2f}")]
            for alg in dict.fromkeys(v["alg"] for v in verify)]))
    if not doc:
        rows.append(["JWT distinct tokens vs HAProxy", "not measured", "≥ 1.0×", "not measured"])
        return lines
    s = doc["summary"]
    lines.append("")
    lines.append(table([["series", "req/s", "p99 ms", "CPU µs/req"]] + [
        [sid, num(med(s[sid]["rps"])), num(med(s[sid]["p99_us"]) / 1000, "{:.2f}"),
         num(med(s[sid]["sut_cpu_us_per_req"]), "{:.1f}")] for sid in doc["series"] if sid in s]))
    for alg, e in doc["ratios"].items():
        rows.append([f"JWT {alg.upper()} distinct tokens req/s vs HAProxy", x(e.get("portcullis/haproxy rps")),
                     "≥ 1.0×", verdict(e.get("portcullis/haproxy rps"), 1.0, True)])
    for alg, e in doc["ratios"].items():
        rows.append([f"JWT {alg.upper()} cached token req/s vs the same route without auth (CPU/req ratio beside)",
                     f"{x(e.get('cached/no-auth rps'))} (CPU {x(e.get('cached/no-auth sut_cpu_us_per_req'))})",
                     "≥ 0.9×", verdict(e.get("cached/no-auth rps"), 0.9, True)])
    return lines


def ws_section(doc, rows):
    if not doc:
        rows.append(["sockets (memory, broadcast, echo)", "not measured", "", "not measured"])
        return []
    lines = []
    mem = {m["target"]: m["fits"] for m in doc["memory"]}
    if mem:
        lines.append(table([["target", "RSS KiB per idle connection", "kernel Slab KiB (both ends)"]] + [
            [t, num(f["rss_kib"]["slope"], "{:.2f}"), num(f["slab_kib"]["slope"], "{:.2f}")] for t, f in mem.items()]))
        most = max((p["connections"] for m in doc["memory"] for p in m["points"]), default=0)
        edge = mem.get("edge")
        rows.append([f"idle WebSocket memory (raw, up to {most:,} connections)",
                     f"{edge['rss_kib']['slope']:.2f} KiB" if edge else "n/a", "≤ 6 KiB",
                     verdict(edge["rss_kib"]["slope"] if edge else None, 6.0, False)])
    if doc.get("broadcast"):
        lines.append("")
        lines.append(table([["subscribers", "edge p50 ms", "edge p99 ms", "edge last ms", "floor p99 ms",
                             "floor last ms", "p99 ×floor", "last ×floor"]] + [
            [f"{b['step']:,}", num(med(b["edge"]["p50_ms"]), "{:.1f}"), num(med(b["edge"]["p99_ms"]), "{:.1f}"),
             num(med(b["edge"]["last_ms"]), "{:.1f}"), num(med(b["floor"]["p99_ms"]), "{:.1f}"),
             num(med(b["floor"]["last_ms"]), "{:.1f}"), x(b["ratios"].get("p99_ms")), x(b["ratios"].get("last_ms"))]
            for b in doc["broadcast"] if b.get("edge") and b.get("floor")]))
        last = doc["broadcast"][-1]
        worst = max(last["ratios"].get("p99_ms") or 0, last["ratios"].get("last_ms") or 0) if last.get("ratios") else None
        rows.append([f"broadcast to {last['step']:,}: p99 and last subscriber vs floor", x(worst), "≤ 1.1×",
                     verdict(worst, 1.1, False)])
    echo = doc.get("echo")
    if echo:
        closed = echo.get("edge_closed", {})
        floor = echo.get("floor_closed", {})
        lines.append("")
        lines.append(table([["closed loop, 100 connections", "msg/s", "edge CPU µs/msg", "rooms CPU µs/msg",
                             "Redis CPU µs/msg"], [
            "Portcullis (edge → Redis → rooms → edge)", num(med(closed.get("msg_per_s"))),
            num(med(closed.get("sut_cpu_us_per_msg")), "{:.1f}"), num(med(closed.get("rooms_cpu_us_per_msg")), "{:.1f}"),
            num(med(closed.get("redis_cpu_us_per_msg")), "{:.1f}")],
            ["bare NIO floor", num(med(floor.get("msg_per_s"))), num(med(floor.get("sut_cpu_us_per_msg")), "{:.1f}"),
             "-", "-"]] + [[f"redis-benchmark XADD -c {b['clients']}", num(b["rps"]), "-", "-", "-"]
                           for b in doc.get("redis_benchmark", [])]))
        ratio = echo.get("ratios", {}).get("edge_closed_msgs_per_xadd50_rps")
        rows.append(["echo closed loop msg/s vs redis-benchmark XADD -c 50", x(ratio), "≥ 0.5×",
                     verdict(ratio, 0.5, True)])
        edge_cpu, floor_cpu = med(closed.get("sut_cpu_us_per_msg")), med(floor.get("sut_cpu_us_per_msg"))
        edge_ratio = edge_cpu / floor_cpu if edge_cpu and floor_cpu else None
        rows.append(["edge CPU per echoed message vs floor", x(edge_ratio), "≤ 2×", verdict(edge_ratio, 2.0, False)])
        rooms_cpu = med(closed.get("rooms_cpu_us_per_msg"))
        rows.append(["rooms CPU per echoed message", f"{rooms_cpu:.1f} µs" if rooms_cpu else "n/a", "≤ 30 µs",
                     verdict(rooms_cpu, 30.0, False)])
    return lines


def render(directory):
    proxies = {s: load(directory, f"http-proxy-{s}.json") for s in PROXY_SCENARIOS + ["scaling"]}
    proxy = next((d for d in proxies.values() if d), None)
    auth = load(directory, "auth.json")
    verify = load(directory, "verify.jsonl")
    ws = load(directory, "ws.json")
    rows = [["measure", "this run", "target", "verdict"]]
    parts = [machine_line([proxy, auth, ws])]
    if proxy and proxy.get("settings"):
        settings = proxy["settings"]
        noisy = sum(1 for run in proxy.get("runs", []) if (run.get("sut_cpu_others_pct") or 0) > 5)
        parts.append("")
        parts.append(f"Proxy runs: {settings.get('rounds')} round(s) × {settings.get('duration')} s per target"
                     + (f"; {noisy} of {len(proxy.get('runs', []))} keep-alive runs had other processes on the "
                        "benchmark CPU (NOISY): treat single figures with care" if noisy else "") + ".")
    parts += ["", "### Targets", ""]
    proxy_lines = proxy_section(proxies, rows)
    auth_lines = auth_section(auth, verify, rows)
    ws_lines = ws_section(ws, rows)
    parts += [table(rows), "", "### Proxy (`scripts/bench/http-proxy`)", ""] + proxy_lines
    parts += ["", "### JWT (`portcullis-bench verify`, `scripts/bench/auth`)", ""] + auth_lines
    parts += ["", "### Sockets (`scripts/bench/ws`)", ""] + ws_lines
    return "\n".join(parts) + "\n"


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path, help="where scripts/bench/all wrote its JSON (out/bench)")
    parser.add_argument("--doc", type=Path, help="rewrite the marked section of this Markdown file")
    args = parser.parse_args(argv)
    text = render(args.directory)
    if not args.doc:
        sys.stdout.write(text)
        return 0
    doc = args.doc.read_text()
    if BEGIN not in doc or END not in doc:
        print(f"report: {args.doc} has no {BEGIN} … {END} section", file=sys.stderr)
        return 1
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    args.doc.write_text(head + BEGIN + "\n" + text + END + tail)
    print(f"report: rewrote the figures of {args.doc}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
