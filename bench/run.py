#!/usr/bin/env python3
"""The benchmark harness (issue 7): one command that builds in release mode, starts what it
needs on 127.0.0.1, measures, and prints a table (also written to target/bench/results.md).

    python3 bench/run.py            # the full run: 3 runs of 5 s per cell (about 10 minutes)
    python3 bench/run.py --quick    # one short run per cell, to prove the harness works

What runs: `legacy-mcp serve --http` with generated mappings (a cached tool, a flat-file key
lookup on the demo export, key lookups on SQLite and PostgreSQL through ODBC, a SOAP call),
a fixed-answer SOAP service, and the floors: an axum handler answering a fixed JSON-RPC result,
the same prepared ODBC query in a loop, the same SOAP request from a plain HTTP client. Load
comes from a separate process (examples/loadgen.rs). Medians over runs are reported; p50/p99
are per run, and the median of those is shown.

Needs: PostgreSQL on 127.0.0.1:5432 (trust, database test) and the ODBC drivers scripts/test
installs. Numbers are measurements, never assertions: nothing here fails on a slow machine.
"""
import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "target", "bench")
BIN = os.path.join(ROOT, "target", "release", "legacy-mcp")
LOADGEN = os.path.join(ROOT, "target", "release", "examples", "loadgen")
ROWS = 100_000
STATELESS_LEVELS = [1, 16]
PG = "Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=5432;Database=test;Uid=postgres"


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def build():
    sh("cargo", "build", "--release", "--locked", "--bins", "--example", "loadgen", cwd=ROOT)


def load_databases():
    """bench_items with ROWS rows in SQLite and PostgreSQL."""
    db = os.path.join(OUT, "bench.db")
    if os.path.exists(db):
        os.remove(db)
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE bench_items (no VARCHAR(20) PRIMARY KEY, name VARCHAR(100), price DECIMAL(12,2))")
    con.executemany("INSERT INTO bench_items VALUES (?, ?, ?)",
                    ((f"I{i:07d}", f"Item number {i}", f"{i % 1000}.{i % 100:02d}") for i in range(ROWS)))
    con.commit()
    con.close()
    sql = (
        "DROP TABLE IF EXISTS bench_items;"
        "CREATE TABLE bench_items (no VARCHAR(20) PRIMARY KEY, name VARCHAR(100), price DECIMAL(12,2));"
        f"INSERT INTO bench_items SELECT 'I' || lpad(g::text, 7, '0'), 'Item number ' || g,"
        f" ((g % 1000) || '.' || lpad((g % 100)::text, 2, '0'))::numeric FROM generate_series(0, {ROWS - 1}) g;"
        "ANALYZE bench_items;"
    )
    sh("psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-c", sql, stdout=subprocess.DEVNULL)
    return db


def mappings(dir_, db, soap_url, slow_url):
    os.makedirs(dir_, exist_ok=True)
    exports = os.path.join(ROOT, "fixtures", "demo-erp")
    demo_sources = open(os.path.join(ROOT, "mappings", "demo", "sources.yaml")).read()
    open(os.path.join(dir_, "sources.yaml"), "w").write(demo_sources.replace("../../fixtures/demo-erp", exports))
    sql_tool = lambda name, src: f"""
  {name}:
    description: One item by number through ODBC.
    source: {src}
    sql: SELECT no, name, price FROM bench_items WHERE no = :item_no
    parameters: {{ item_no: {{ type: string }} }}
    columns: {{ no: {{type: string}}, name: {{type: string}}, price: {{type: decimal}} }}
    result: {{ one: true }}
"""
    soap_tool = lambda name, src, cache: f"""
  {name}:
    description: One item by number from the SOAP service.
    parameters: {{ item_no: {{ type: string }} }}
    source: {src}
    operation: {{ element: GetItem, namespace: "urn:bench", action: "urn:bench/GetItem", body: {{ ItemNo: item_no }} }}
    response: {{ path: GetItemResponse/Item }}
    columns: {{ "No": {{type: string}}, Description: {{type: string}}, Price: {{type: decimal}} }}
    result: {{ one: true }}
{cache}"""
    text = f"""version: 1
sources:
  sqlite: {{ kind: odbc, connection_string: "Driver={{SQLite3}};Database={db}", pool_size: 4 }}
  pg: {{ kind: odbc, connection_string: "{PG}", pool_size: 4 }}
  soap: {{ kind: soap, endpoint: "{soap_url}" }}
  slow_soap: {{ kind: soap, endpoint: "{slow_url}" }}
tools:
  cached_item:
    description: One item by number, from the read cache.
    parameters: {{ item_no: {{ type: string }} }}
    source: exports
    table: items
    where: {{ item_no: item_no }}
    result: {{ one: true }}
    cache: {{ ttl: 1h }}
  flat_item:
    description: One item by number from the fixed-width export.
    parameters: {{ item_no: {{ type: string }} }}
    source: exports
    table: items
    where: {{ item_no: item_no }}
    result: {{ one: true }}
{sql_tool("sqlite_item", "sqlite")}{sql_tool("pg_item", "pg")}{soap_tool("soap_item", "soap", "")}{soap_tool("soap_cached", "slow_soap", "    cache: { ttl: 1h }")}"""
    open(os.path.join(dir_, "bench.yaml"), "w").write(text)


def many_tools(dir_, n):
    """A mapping directory with n flat-file tools on the demo export."""
    os.makedirs(dir_, exist_ok=True)
    exports = os.path.join(ROOT, "fixtures", "demo-erp")
    demo_sources = open(os.path.join(ROOT, "mappings", "demo", "sources.yaml")).read()
    open(os.path.join(dir_, "sources.yaml"), "w").write(demo_sources.replace("../../fixtures/demo-erp", exports))
    tools = "".join(f"""
  item_{i:04d}:
    description: Item {i} by number.
    parameters: {{ item_no: {{ type: string, max_length: 20 }} }}
    source: exports
    table: items
    where: {{ item_no: item_no }}
    result: {{ one: true }}
""" for i in range(n))
    open(os.path.join(dir_, "tools.yaml"), "w").write("version: 1\ntools:" + tools)


class Proc:
    """A child that prints `port N` (loadgen servers) or `listening on http://A/mcp`."""

    def __init__(self, cmd, marker, stream="stdout"):
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        src = self.p.stdout if stream == "stdout" else self.p.stderr
        for line in src:
            if marker in line:
                self.line = line.strip()
                break
        else:
            raise SystemExit(f"{cmd[0]} exited: {self.p.stderr.read()}")

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()


def loadgen(*args, pin=False):
    # pin: the load generator and everything it starts share core 0 (taskset), so no hand-over
    # between them waits for another core to wake up.
    cmd = (["taskset", "-c", "0"] if pin else []) + [LOADGEN, *map(str, args)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def median_of(runs, key):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def repeat(n, f):
    runs = [f() for _ in range(n)]
    return {k: median_of(runs, k) for k in runs[0]}


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem = next((int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
    return f"{platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}), {mem / 2**20:.0f} GiB RAM"


def fmt(v, d=0):
    return "—" if v is None else f"{v:,.{d}f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one short run per cell")
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args()
    runs, secs, calls = (1, 1, 300) if a.quick else (3, 5, 3000)
    levels = [1, 4, 16, 64]
    os.makedirs(OUT, exist_ok=True)
    if not a.no_build:
        build()
    db = load_databases()
    soap = Proc([LOADGEN, "soap-server"], "port")
    slow = Proc([LOADGEN, "soap-server", "--delay-ms", "200"], "port")
    soap_url = f"http://127.0.0.1:{soap.line.split()[1]}/soap"
    slow_base = f"http://127.0.0.1:{slow.line.split()[1]}"
    mdir = os.path.join(OUT, "mappings")
    shutil.rmtree(mdir, ignore_errors=True)
    mappings(mdir, db, soap_url, slow_base + "/soap")
    settings = os.path.join(OUT, "settings.toml")
    open(settings, "w").write('[audit]\nstderr = false\nfile = "audit.jsonl"\n[log]\nlevel = "error"\n')
    server = Proc([BIN, "serve", "--http", "127.0.0.1:0", "--mappings", mdir, "--config", settings], "listening on", "stderr")
    url = server.line.split("listening on ")[1]
    floor = Proc([LOADGEN, "floor-http"], "port")
    floor_url = f"http://127.0.0.1:{floor.line.split()[1]}/mcp"
    rows = []
    try:
        cases = [
            ("cache hit", "cached_item", {"item_no": "SCH-01000"}, ("http", floor_url)),
            ("flat-file key lookup", "flat_item", {"item_no": "SCH-01000"}, ("http", floor_url)),
            ("SQLite via ODBC", "sqlite_item", {"item_no": "I0054321"}, ("odbc", f"Driver={{SQLite3}};Database={db}")),
            ("PostgreSQL via ODBC", "pg_item", {"item_no": "I0054321"}, ("odbc", PG)),
            ("SOAP (local service)", "soap_item", {"item_no": "SCH-01000"}, ("soap", soap_url)),
        ]
        results = {}
        for label, tool, args, _ in cases:
            for c in levels:
                results[(label, c)] = repeat(runs, lambda: loadgen(
                    "http", "--url", url, "--tool", tool, "--args", json.dumps(args),
                    "--concurrency", c, "--seconds", secs, "--pid", server.p.pid))
            # The same calls stateless at 2026-07-28 (no session; the version, client info and
            # capabilities in every request's _meta), as the official 2026 clients send them.
            for c in STATELESS_LEVELS:
                results[(label, f"2026 c={c}")] = repeat(runs, lambda: loadgen(
                    "http", "--url", url, "--tool", tool, "--args", json.dumps(args),
                    "--concurrency", c, "--seconds", secs, "--pid", server.p.pid, "--stateless"))
            for pin, key in ((False, "stdio"), (True, "stdio, one core")):
                results[(label, key)] = repeat(runs, lambda: loadgen(
                    "stdio", "--bin", BIN, "--mappings", mdir, "--config", settings, "--tool", tool,
                    "--args", json.dumps(args), "--calls", calls, pin=pin))
        floors = {}
        for c in levels:
            floors[("http", c)] = repeat(runs, lambda: loadgen(
                "http", "--url", floor_url, "--tool", "x", "--args", "{}", "--concurrency", c,
                "--seconds", secs, "--pid", floor.p.pid))
            floors[("soap", c)] = repeat(runs, lambda: loadgen(
                "floor-soap", "--url", soap_url, "--concurrency", c, "--seconds", secs))
        # The stdio floor: the load generator itself as the server, a fixed answer per line.
        for pin, key in ((False, "stdio"), (True, "stdio, one core")):
            floors[(key,)] = repeat(runs, lambda: loadgen(
                "stdio", "--bin", LOADGEN, "--mappings", "-", "--tool", "x", "--args", "{}", "--calls", calls, pin=pin))
            floors[("handover", key)] = repeat(runs, lambda: loadgen("handover", "--calls", calls * 4, pin=pin))
        sqlq = "SELECT no, name, price FROM bench_items WHERE no = ?"
        for kind, conn in (("sqlite", f"Driver={{SQLite3}};Database={db}"), ("pg", PG)):
            floors[("odbc", kind)] = repeat(runs, lambda: loadgen(
                "floor-odbc", "--connection", conn, "--sql", sqlq, "--param", "I0054321", "--calls", calls))
        startup = {}
        for n in (10, 1000):
            d = os.path.join(OUT, f"tools-{n}")
            shutil.rmtree(d, ignore_errors=True)
            many_tools(d, n)
            startup[n] = loadgen("startup", "--bin", BIN, "--mappings", d, "--runs", 3 if a.quick else 7)
        burst = loadgen("burst", "--url", url, "--tool", "soap_cached", "--args", '{"item_no": "SCH-01000"}',
                        "--n", 100, "--count-url", slow_base + "/count")
    finally:
        for p in (server, floor, soap, slow):
            p.stop()
    report(results, floors, startup, burst, cases, levels, a.quick)


def report(results, floors, startup, burst, cases, levels, quick):
    lines = [f"Machine: {machine()}. Load generator on the same cores. "
             f"{'Quick mode: one short run per cell, not for comparison.' if quick else 'Median of 3 runs of 5 s per cell.'}", ""]
    lines += ["| case | transport | calls/s | p50 µs | p99 µs | CPU µs/call | server RSS MB | floor calls/s | floor p50 µs | p50 over floor µs |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for label, tool, args, (fkind, _) in cases:
        for c in levels + [f"2026 c={n}" for n in STATELESS_LEVELS] + ["stdio", "stdio, one core"]:
            r = results[(label, c)]
            if str(c).startswith("2026"):
                n = int(c.split("=")[1])
                f = floors[("odbc", "sqlite" if "SQLite" in label else "pg")] if fkind == "odbc" else floors[(fkind, n)]
                f = None if fkind == "odbc" and n != 1 else f
            elif str(c).startswith("stdio"):
                f = {"http": floors[(c,)], "soap": floors[("soap", 1)]}.get(fkind) or \
                    floors[("odbc", "sqlite" if "SQLite" in label else "pg")]
            elif fkind == "odbc":
                f = floors[("odbc", "sqlite" if "SQLite" in label else "pg")] if c == 1 else None
            else:
                f = floors[(fkind, c)]
            over = None if f is None else r["p50_us"] - f["p50_us"]
            transport = {"stdio": "stdio, sequential", "stdio, one core": "stdio, one core"}.get(
                c, f"HTTP 2026-07-28 stateless c={str(c).split('=')[-1]}" if str(c).startswith("2026") else f"HTTP c={c}")
            lines.append(f"| {label} | {transport} | {fmt(r['calls_per_s'])} | {fmt(r['p50_us'])} | {fmt(r['p99_us'])} | "
                         f"{fmt(r['cpu_us_per_call'])} | {fmt(r['rss_mb'], 1)} | {fmt(f and f['calls_per_s'])} | "
                         f"{fmt(f and f['p50_us'])} | {fmt(over)} |")
    lines += ["", "Floors: HTTP = an axum handler returning a fixed JSON-RPC answer (same client); stdio = the load "
              "generator as the server, answering each line with a fixed JSON-RPC answer (same client); ODBC = the same "
              "prepared query in a loop on one connection (sequential; the floor of the ODBC rows over HTTP c=1 and "
              "stdio); SOAP = the same request from a plain HTTP client (c=1 for the stdio row).", ""]
    lines += ["\"stdio, one core\": the load generator, the server and its threads pinned to core 0 (`taskset -c 0`); "
              "PostgreSQL runs where the system puts it.", ""]
    a, b = floors[("handover", "stdio")], floors[("handover", "stdio, one core")]
    lines += [f"Thread hand-over on this machine (a message to a thread blocked on a channel and back: two wake-ups, "
              f"the trip an ODBC call makes to its worker thread): p50 {fmt(a['p50_us'])} µs (p99 {fmt(a['p99_us'])}) "
              f"with the threads free to use both cores, {fmt(b['p50_us'])} µs (p99 {fmt(b['p99_us'])}) on one core.", ""]
    lines += ["| startup (stdio: start to first tools/list answer) | median ms | idle RSS MB |", "|---|---|---|"]
    for n, s in startup.items():
        lines.append(f"| {n} tools | {fmt(s['median_ms'], 1)} | {fmt(s['idle_rss_mb'], 1)} |")
    lines += ["", f"Single-flight: 100 concurrent identical calls of a cached SOAP tool (backend answers in 200 ms): "
              f"{burst['backend_calls']} backend call(s); p50 {fmt(burst['p50_us'] / 1000, 1)} ms, "
              f"p99 {fmt(burst['p99_us'] / 1000, 1)} ms."]
    text = "\n".join(lines) + "\n"
    open(os.path.join(OUT, "results.md"), "w").write(text)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
