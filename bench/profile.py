#!/usr/bin/env python3
"""Where a call's CPU goes (issue 21, item 3): `perf` on the server while one client calls one
tool, on each path a call can take, and the samples grouped into the rooms that spend them.

    python3 bench/profile.py                 # SQLite key lookup, 10 s per path
    python3 bench/profile.py --tool pg_item --args '{"item_no": "I0054321"}' --seconds 5

Paths: a 2025-11-25 session over HTTP, stateless 2026-07-28 calls over HTTP (version, client
info and capabilities in each request's `_meta`), and MCP over stdio (one client, calls one
after the other). Concurrency 1: the cost of one call, not of contention. The load comes from
bench's own load generator (examples/loadgen.rs), the server and mappings are bench/run.py's.
`perf record -e cpu-clock -g` samples the server's process only (the load generator is not in
the table); the table is written to target/bench/profile.md.

Needs `perf` (Debian's linux-perf; installed here when missing, as root) and what bench/run.py
needs. Numbers are measurements, never assertions.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (bench/run.py: build, data, mappings, processes)

# The rooms, tried in order on each sample's (dso, symbol); the first that matches takes it.
ROOMS = [
    # `_raw_spin_unlock_irq*` is where a virtual machine's samples land when a wake-up
    # re-enables interrupts (try_to_wake_up from futex_wake, by the call graph): wake-ups too.
    ("kernel: scheduler, futex, epoll (threads waking each other)", r"kernel", r"sched|futex|epoll|wake|switch_|raw_spin_unlock_irq|enqueue|dequeue|pick_next|ttwu|select_task|update_curr|finish_task|idle|poll_schedule|hrtimer|__x64_sys_futex|native_queued_spin"),
    ("kernel: TCP over loopback, pipes", r"kernel", r"tcp|ip_|skb|sock|net_|loopback|inet|pipe_|__dev_queue|napi|sk_"),
    ("kernel: other (syscall entry, page cache, timers)", r"kernel", r""),
    ("SQLite / PostgreSQL client and their ODBC drivers", r"sqlite|psqlodbc|libpq|odbc", r""),
    ("malloc/free, memmove", r"libc", r"malloc|free|realloc|memmove|memcpy|memset|_int_|cfree|calloc"),
    ("hyper, axum, http", r"", r"hyper|axum|http::|h1::|httparse"),
    ("tokio", r"", r"tokio"),
    ("rmcp", r"", r"rmcp"),
    ("serde / JSON", r"", r"serde|json|ryu|itoa"),
    ("hashing, indexmap", r"", r"hash|indexmap|sip|Hasher"),
    ("legacy-mcp's own code", r"", r"legacy_mcp"),
    ("vendored unixODBC, odbc-api", r"", r"odbc|SQL[A-Z]"),
    ("the rest", r"", r""),
]


def need_perf():
    if shutil.which("perf"):
        return
    if os.geteuid() != 0:
        sys.exit("perf is missing: install linux-perf (or run as root)")
    run.sh("apt-get", "install", "-y", "-qq", "linux-perf")


def record(pid, secs, out):
    subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-g", "-p", str(pid), "-o", out,
                    "--", "sleep", str(secs)], check=True, capture_output=True)


def rooms(data):
    """Samples per room, as shares of the process's samples."""
    rep = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "dso,sym",
                          "--stdio", "-g", "none", "--percent-limit", "0"],
                         check=True, capture_output=True, text=True).stdout
    shares = {name: 0.0 for name, _, _ in ROOMS}
    for line in rep.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(.*)", line)
        if not m:
            continue
        pct, dso, sym = float(m.group(1)), m.group(2), m.group(3)
        for name, dso_re, sym_re in ROOMS:
            if re.search(dso_re, dso) and re.search(sym_re, sym):
                shares[name] += pct
                break
    return shares


def while_loaded(load, find_pid, secs, data):
    """Start `load` on a thread, profile the server's process for `secs` inside it."""
    result = {}
    t = threading.Thread(target=lambda: result.update(load()))
    t.start()
    time.sleep(1)  # warm: connections open, statements prepared
    record(find_pid(), secs, data)
    t.join()
    return result


def child_of(parent_name, name):
    """The pid of the newest process called `name` (the server the stdio load generator started)."""
    for _ in range(50):
        out = subprocess.run(["pgrep", "-n", "-f", f"{name} serve --mappings"], capture_output=True, text=True)
        if out.stdout.strip():
            return int(out.stdout.split()[0])
        time.sleep(0.1)
    sys.exit(f"no {name} started by {parent_name}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", default="sqlite_item")
    ap.add_argument("--args", default='{"item_no": "I0054321"}')
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--report-only", action="store_true", help="regroup the last run's samples")
    a = ap.parse_args()
    saved = os.path.join(run.OUT, "profile.json")
    if a.report_only:
        return report(a, {k: tuple(v) for k, v in json.load(open(saved)).items()})
    need_perf()
    os.makedirs(run.OUT, exist_ok=True)
    if not a.no_build:
        run.build()
    db = run.load_databases()
    soap = run.Proc([run.LOADGEN, "soap-server"], "port")
    soap_url = f"http://127.0.0.1:{soap.line.split()[1]}/soap"
    mdir = os.path.join(run.OUT, "mappings")
    shutil.rmtree(mdir, ignore_errors=True)
    run.mappings(mdir, db, soap_url, soap_url)
    settings = os.path.join(run.OUT, "settings.toml")
    open(settings, "w").write('[audit]\nstderr = false\nfile = "audit.jsonl"\n[log]\nlevel = "error"\n')
    server = run.Proc([run.BIN, "serve", "--http", "127.0.0.1:0", "--mappings", mdir, "--config", settings],
                      "listening on", "stderr")
    url = server.line.split("listening on ")[1]
    secs = a.seconds
    http = ["http", "--url", url, "--tool", a.tool, "--args", a.args, "--concurrency", 1,
            "--seconds", secs + 2, "--pid", server.p.pid]
    paths = {}
    try:
        paths["session (HTTP, 2025-11-25)"] = (
            while_loaded(lambda: run.loadgen(*http), lambda: server.p.pid, secs,
                         os.path.join(run.OUT, "perf-session.data")), "perf-session.data")
        paths["stateless (HTTP, 2026-07-28)"] = (
            while_loaded(lambda: run.loadgen(*http, "--stateless"), lambda: server.p.pid, secs,
                         os.path.join(run.OUT, "perf-stateless.data")), "perf-stateless.data")
        calls = 4_000 * (secs + 2)  # outlasts the profile at this machine's stdio rate
        stdio = ["stdio", "--bin", run.BIN, "--mappings", mdir, "--config", settings, "--tool", a.tool,
                 "--args", a.args, "--calls", calls]
        paths["stdio (one client)"] = (
            while_loaded(lambda: run.loadgen(*stdio), lambda: child_of("loadgen", "legacy-mcp"), secs,
                         os.path.join(run.OUT, "perf-stdio.data")), "perf-stdio.data")
    finally:
        server.stop()
        soap.stop()
    json.dump(paths, open(saved, "w"))
    report(a, paths)


def report(a, paths):
    names = list(paths)
    shares = {n: rooms(os.path.join(run.OUT, paths[n][1])) for n in names}
    lines = [f"Where the server's CPU goes: `{a.tool}` at concurrency 1, `perf record -e cpu-clock -g` "
             f"for {a.seconds} s per path (bench/profile.py)", "",
             "| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    calls = []
    for n in names:
        r = paths[n][0]
        rps, cpu = r.get("calls_per_s"), r.get("cpu_us_per_call")
        calls.append(f"{rps:,.0f} calls/s, {cpu:,.0f} µs CPU/call" if rps and cpu else
                     (f"{rps:,.0f} calls/s" if rps else "—"))
    lines.append("| calls, CPU per call | " + " | ".join(calls) + " |")
    for room, _, _ in ROOMS:
        row = []
        for n in names:
            pct = shares[n][room]
            cpu = paths[n][0].get("cpu_us_per_call")
            row.append(f"{pct:.1f}%" + (f" ({pct * cpu / 100:.0f} µs)" if cpu else ""))
        lines.append(f"| {room} | " + " | ".join(row) + " |")
    text = "\n".join(lines) + "\n"
    open(os.path.join(run.OUT, "profile.md"), "w").write(text)
    print(text)


if __name__ == "__main__":
    main()
