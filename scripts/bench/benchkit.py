"""Shared helpers for the scripts in scripts/bench (python3 standard library only).

What every benchmark here needs, following docs/measuring.md: start processes pinned
to a CPU and stop them (and their children) by PID; sample CPU time and memory of a
process tree from /proc; install missing Debian tools; free loopback ports; describe
the machine; median and spread over runs; plain-text tables.
"""

import gzip
import os
import resource
import shutil
import signal
import socket
import statistics
import ssl
import subprocess
import sys
import tempfile
import http.client
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    """A failure that ends the benchmark (or one target) with a message for humans."""


class TargetFailed(BenchError):
    """One target could not start or died; the others may go on (--keep-going)."""

    def __init__(self, target, message):
        super().__init__(message)
        self.target = target


def log(msg=""):
    print(msg, flush=True)


# --------------------------------------------------------------------------
# /proc: CPU time and memory of a process tree


def proc_stat(pid):
    """(ppid, starttime, utime+stime ticks, state) of one process, or None if gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    rest = raw[raw.rindex(")") + 2:].split()  # rest[0] is field 3 (state)
    return int(rest[1]), int(rest[19]), int(rest[11]) + int(rest[12]), rest[0]


def process_tree(root):
    """root and all its descendants, as {pid: starttime}."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = proc_stat(int(entry))
            if st:
                children.setdefault(st[0], []).append(int(entry))
    tree, todo = {}, [root]
    while todo:
        pid = todo.pop()
        st = proc_stat(pid)
        if st is None or st[3] == "Z":
            continue
        tree[pid] = st[1]
        todo.extend(children.get(pid, []))
    return tree


def cpu_sample(root):
    """{pid: (starttime, ticks)} for root's process tree."""
    sample = {}
    for pid in process_tree(root):
        st = proc_stat(pid)
        if st:
            sample[pid] = (st[1], st[2])
    return sample


def cpu_seconds_between(before, after):
    """CPU seconds used between two samples; processes born in between count in full."""
    ticks = 0
    for pid, (start, t) in after.items():
        if pid in before and before[pid][0] == start:
            ticks += t - before[pid][1]
        else:
            ticks += t
    return ticks / CLK_TCK


def kib_field(path, field):
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return None


def memory_kib(root):
    """Summed VmRSS, VmHWM and Private_Dirty (KiB) over root's process tree."""
    totals = {"rss_kib": 0, "hwm_kib": 0, "private_dirty_kib": 0}
    for pid in process_tree(root):
        for key, path, field in (("rss_kib", "status", "VmRSS"),
                                 ("hwm_kib", "status", "VmHWM"),
                                 ("private_dirty_kib", "smaps_rollup", "Private_Dirty")):
            value = kib_field(f"/proc/{pid}/{path}", field)
            if value is not None:
                totals[key] += value
    return totals


def cpu_jiffies(cpu):
    """Ticks of one CPU from /proc/stat: task time (user+nice+system), irq+softirq, steal, total."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith(f"cpu{cpu} "):
            v = [int(x) for x in line.split()[1:]]
            user, nice, system, idle, iowait, irq, softirq, steal = (v + [0] * 8)[:8]
            return {"task": user + nice + system, "irq": irq + softirq, "steal": steal,
                    "total": user + nice + system + idle + iowait + irq + softirq + steal}
    return None


def irq_time_in_tasks():
    """Whether interrupt time on a CPU is also charged to the task it interrupted.

    True with tick-based accounting (CONFIG_IRQ_TIME_ACCOUNTING unset), False when the
    kernel accounts irq time separately, None when the kernel config cannot be read.
    """
    for path in ("/proc/config.gz", f"/boot/config-{os.uname().release}"):
        try:
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rt") as f:
                return "CONFIG_IRQ_TIME_ACCOUNTING=y" not in f.read()
        except OSError:
            continue
    return None


IRQ_TIME_IN_TASKS = irq_time_in_tasks()


def cpu_share(before, after, own_seconds=0.0):
    """Percent of one CPU's time between two cpu_jiffies() samples that went to processes
    other than ours (own_seconds of CPU time), to interrupts, and to hypervisor steal.

    Interrupt time counts as "others" only where the kernel charges it to the
    interrupted task (then ours is inside own_seconds); otherwise, or when unknown, it
    is left out, so "others" is a lower bound and never a false alarm.
    """
    if not before or not after or after["total"] <= before["total"]:
        return None
    total = after["total"] - before["total"]
    pct = lambda key: 100.0 * (after[key] - before[key]) / total
    busy = pct("task") + (pct("irq") if IRQ_TIME_IN_TASKS else 0.0)
    others = max(0.0, busy - 100.0 * own_seconds * CLK_TCK / total)
    return {"others_pct": others, "irq_pct": pct("irq"), "steal_pct": pct("steal")}


def own_cpu_seconds():
    """CPU seconds of this process plus its reaped children (e.g. finished wrk runs)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def slab_kib():
    return kib_field("/proc/meminfo", "Slab")


# --------------------------------------------------------------------------
# Processes started by a benchmark


class Processes:
    """Every process this script starts; stop_all() ends them by PID (and their children)."""

    def __init__(self, pin):
        self.pin = pin
        self.running = []  # (name, Popen)

    def argv(self, cpu, argv):
        return (["taskset", "-c", str(cpu)] + argv) if self.pin else argv

    def start(self, name, argv, cpu, log_path, env=None):
        with open(log_path, "ab") as out:
            proc = subprocess.Popen(
                self.argv(cpu, argv), stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.running.append((name, proc))
        return proc

    def run(self, argv, cpu, timeout):
        """Run a short-lived command (a load generator) to completion; its stdout+stderr.

        The command is killed on timeout or interrupt."""
        proc = subprocess.Popen(self.argv(cpu, argv), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.running.append((argv[0], proc))
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
            raise BenchError(f"{argv[0]} did not finish within {timeout:.0f}s:\n{out.decode(errors='replace')}")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            self.running.remove((argv[0], proc))
        return proc.returncode, out.decode(errors="replace")

    def stop(self, name, proc, grace=5.0):
        tree = process_tree(proc.pid)  # workers too, in case the master dies first
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=grace)
        for pid, start in tree.items():
            st = proc_stat(pid)
            if pid != proc.pid and st and st[1] == start and st[3] != "Z":
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def stop_one(self, proc):
        for entry in list(self.running):
            if entry[1] is proc:
                self.running.remove(entry)
                self.stop(*entry)

    def stop_all(self):
        while self.running:
            name, proc = self.running.pop()
            try:
                self.stop(name, proc)
            except Exception as exc:  # keep stopping the others
                print(f"warning: could not stop {name} (pid {proc.pid}): {exc}", file=sys.stderr)


def install_signal_handlers():
    def handler(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


def ignore_signals():
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)


# --------------------------------------------------------------------------
# Environment


def ensure_tools(tools):
    """Install the Debian packages of missing tools ({tool: package}); apt-get update first.

    Does nothing (and never calls apt-get) when every tool is already on PATH.
    """
    missing = sorted({pkg for tool, pkg in tools.items() if not shutil.which(tool)})
    if not missing:
        return
    if not shutil.which("apt-get"):
        raise BenchError(f"missing packages {missing} and no apt-get to install them")
    log(f"installing missing packages: {' '.join(missing)}")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for argv in (sudo + ["apt-get", "update"],
                 sudo + ["apt-get", "install", "-y", "--no-install-recommends"] + missing):
        res = subprocess.run(argv, env=env, stdout=sys.stderr, stderr=sys.stderr, timeout=900)
        if res.returncode != 0:
            raise BenchError(f"{' '.join(argv)} failed with exit code {res.returncode}")
    still = [tool for tool in tools if not shutil.which(tool)]
    if still:
        raise BenchError(f"still missing after apt-get install: {still}")


def free_ports(count):
    """Distinct free loopback ports (held open together so they differ)."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def http_get(port, path="/", timeout=1.0, headers=None, tls=False):
    """(status, body) of one GET to 127.0.0.1:port; headers: optional extra request headers;
    tls: over TLS without verifying the (self-signed) certificate."""
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def tail(path, lines=25):
    try:
        text = Path(path).read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return "(no log)"
    return "\n".join("    " + line for line in text[-lines:]) or "    (empty log)"


def command_output(argv, timeout=10):
    try:
        res = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, timeout=timeout)
        return res.returncode, res.stdout.decode(errors="replace").strip()
    except (OSError, subprocess.TimeoutExpired) as exc:
        return -1, str(exc)


def first_line(text):
    return text.splitlines()[0].strip() if text else "?"


def machine_info():
    model = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {
        "nproc": int(command_output(["nproc"])[1] or 0),
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "mem_total_kib": kib_field("/proc/meminfo", "MemTotal"),
        "kernel": os.uname().release,
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
    }


def git_commit(repo):
    code, out = command_output(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"])
    return out if code == 0 else None


# --------------------------------------------------------------------------
# Results


def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def format_table(rows):
    """Rows of strings as aligned text: first column left, the others right, a rule under the header."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def fmt_spread(s, fmt, divisor=1):
    """'median (min–max)' of a spread() result, or just the median when all runs agree."""
    if s is None:
        return "-"
    med, lo, hi = (fmt(v / divisor) for v in (s["median"], s["min"], s["max"]))
    return med if lo == hi else f"{med} ({lo}–{hi})"


def run_main(argv, parse_args, run_bench, *, tmp_prefix: str, failure_hint: str, kept_what: str) -> int:
    """The harness every bench script shares: parse arguments, run the bench in a temp dir
    with signal handling, stop every process it started, keep the temp dir only on failure
    (or --keep-tmp). Exit codes: 0 ok, 1 error, 2 a target failed, 130 interrupted."""
    args = parse_args(argv)
    install_signal_handlers()
    procs = Processes(pin=not args.no_pin)
    tmp = Path(tempfile.mkdtemp(prefix=tmp_prefix))
    keep = False
    code = 1
    try:
        code = run_bench(args, tmp, procs)
        keep = args.keep_tmp
    except KeyboardInterrupt:
        print("\ninterrupted; stopping every process started", file=sys.stderr)
        code = 130
    except BenchError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        if isinstance(exc, TargetFailed):
            print(f"hint: {failure_hint}", file=sys.stderr)
        code, keep = (2 if isinstance(exc, TargetFailed) else 1), True
    finally:
        ignore_signals()  # finish cleaning up even on a second Ctrl-C
        procs.stop_all()
        if keep:
            print(f"{kept_what} kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return code
