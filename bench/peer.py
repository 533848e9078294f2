#!/usr/bin/env python3
"""legacy-mcp side by side with its closest peer, MCP Toolbox for Databases (issue 21).

    python3 bench/peer.py            # the full run (about 12 minutes)
    python3 bench/peer.py --quick    # one short round, to prove the harness works
    python3 bench/peer.py --only "SQLite, TEXT columns, key" --levels 1,16 --rounds 3

The same data (100,000 rows in SQLite and PostgreSQL, once with unbounded TEXT columns as real
ERP schemas have them, once with declared sizes), the same SQL, the same two tools (a key
lookup; a name-prefix search, ten rows), the same load generator (wrk from Debian, one Lua
script for both servers: bench/peer/call.lua, which checks every answer and counts failures),
concurrency 1, 4, 16 and 64. The two servers run side by side for the whole run and the cells
are interleaved (legacy-mcp, then Toolbox, then Toolbox, then legacy-mcp, ...) so that neither
gets the quieter minute. Both speak MCP over HTTP: legacy-mcp in a 2025-11-25 session (the
harness initializes it; its audit line is written to a file, as in production), Toolbox
stateless as it answers by default. Each server reads with its own driver: legacy-mcp through
ODBC (SQLite3 and psqlODBC, as on an ERP host), Toolbox with its Go drivers.

Reported per cell: calls/s, p50 and p99 latency (wrk), CPU per call (the server process's
user+system time over the cell divided by its calls; the database server's own CPU is not
counted for either), and each server's peak RSS over the whole run (VmHWM). Ratios are
legacy-mcp over Toolbox from the same round. Results go to target/bench/peer.md.

Installs what it needs when missing: wrk (apt), Toolbox (npm ci in bench/peer, pinned by its
package-lock.json). Needs PostgreSQL on 127.0.0.1:5432 (trust, database test) and the ODBC
drivers scripts/test installs. Numbers are measurements, never assertions.
"""
import argparse
import json
import os
import shutil
import socket
import sqlite3
import statistics
import subprocess
import threading
import time
import urllib.request

from run import fmt, sh  # bench/run.py: the shared helpers of the harness

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.join(ROOT, "bench", "peer")
OUT = os.path.join(ROOT, "target", "bench", "peer")
BIN = os.path.join(ROOT, "target", "release", "legacy-mcp")
TOOLBOX = os.path.join(HERE, "node_modules", "@toolbox-sdk", "server-linux-x64", "bin", "toolbox")
ROWS = 100_000
PG_ODBC = "Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=5432;Database=test;Uid=postgres"

# (label, database, table, kind): the tool of each server is named f"{db}_{shape}_{kind}".
CASES = [
    ("SQLite, TEXT columns, key lookup", "sqlite", "text", "get"),
    ("SQLite, TEXT columns, prefix search", "sqlite", "text", "search"),
    ("PostgreSQL, text columns, key lookup", "pg", "text", "get"),
    ("PostgreSQL, text columns, prefix search", "pg", "text", "search"),
    ("SQLite, sized columns, key lookup", "sqlite", "sized", "get"),
    ("PostgreSQL, sized columns, key lookup", "pg", "sized", "get"),
]
COLUMNS = {
    "text": "item_no TEXT PRIMARY KEY, name TEXT, price REAL, qty INTEGER, category TEXT",
    "sized": "item_no VARCHAR(20) PRIMARY KEY, name VARCHAR(100), price REAL, qty INTEGER, category VARCHAR(20)",
}
GET = "SELECT item_no, name, price, qty, category FROM bench_{shape} WHERE item_no = {p}"
SEARCH = "SELECT item_no, name, price FROM bench_{shape} WHERE name LIKE {p} ORDER BY item_no"


def install():
    if shutil.which("wrk") is None:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        sh("apt-get", "update", "-qq", env=env)
        sh("apt-get", "install", "-y", "-qq", "wrk", env=env, stdout=subprocess.DEVNULL)
    stamp = os.path.join(HERE, "node_modules", ".package-lock.stamp")
    lock = open(os.path.join(HERE, "package-lock.json")).read()
    if not os.path.exists(TOOLBOX) or not os.path.exists(stamp) or open(stamp).read() != lock:
        sh("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error", cwd=HERE)
        open(stamp, "w").write(lock)


def load_data():
    db = os.path.join(OUT, "peer.db")
    if os.path.exists(db):
        os.remove(db)
    con = sqlite3.connect(db)
    rows = [(f"I{i:07d}", f"Item number {i}", (i % 1000) + 0.5, i % 97, f"cat{i % 20}") for i in range(ROWS)]
    sql = []
    for shape, cols in COLUMNS.items():
        con.execute(f"CREATE TABLE bench_{shape} ({cols})")
        con.executemany(f"INSERT INTO bench_{shape} VALUES (?, ?, ?, ?, ?)", rows)
        pg_cols = cols.replace("REAL", "DOUBLE PRECISION")
        sql.append(
            f"DROP TABLE IF EXISTS bench_{shape}; CREATE TABLE bench_{shape} ({pg_cols});"
            f"INSERT INTO bench_{shape} SELECT 'I' || lpad(g::text, 7, '0'), 'Item number ' || g,"
            f" (g % 1000) + 0.5, g % 97, 'cat' || (g % 20) FROM generate_series(0, {ROWS - 1}) g;"
            f"ANALYZE bench_{shape};"
        )
    con.commit()
    con.close()
    sh("psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-c", "".join(sql), stdout=subprocess.DEVNULL)
    return db


def legacy_mapping(dir_, db):
    """The default mapping for the same tools: no tuning key (no max_text_length, no cache)."""
    tools = []
    for _, src, shape, kind in CASES:
        name = f"{src}_{shape}_{kind}"
        if kind == "get":
            tools.append(f"""
  {name}:
    description: One item by number.
    source: {src}
    sql: {GET.format(shape=shape, p=":item_no")}
    parameters: {{ item_no: {{ type: string }} }}
    columns: {{ item_no: {{type: string}}, name: {{type: string}}, price: {{type: number}}, qty: {{type: integer}}, category: {{type: string}} }}
    result: {{ one: true }}""")
        else:
            tools.append(f"""
  {name}:
    description: Items whose name matches a LIKE pattern, by number, ten at most.
    source: {src}
    sql: {SEARCH.format(shape=shape, p=":prefix")}
    parameters: {{ prefix: {{ type: string }} }}
    columns: {{ item_no: {{type: string}}, name: {{type: string}}, price: {{type: number}} }}
    limit: 10""")
    text = f"""version: 1
sources:
  sqlite: {{ kind: odbc, connection_string: "Driver={{SQLite3}};Database={db}" }}
  pg: {{ kind: odbc, connection_string: "{PG_ODBC}" }}
tools:{"".join(tools)}
"""
    os.makedirs(dir_, exist_ok=True)
    open(os.path.join(dir_, "peer.yaml"), "w").write(text)


def toolbox_config(path, db):
    docs = [
        f"kind: source\nname: sqlite\ntype: sqlite\ndatabase: {db}\n",
        "kind: source\nname: pg\ntype: postgres\nhost: 127.0.0.1\nport: \"5432\"\ndatabase: test\n"
        "user: postgres\npassword: postgres\n",
    ]
    for _, src, shape, kind in CASES:
        p = "?" if src == "sqlite" else "$1"
        if kind == "get":
            stmt, param = GET.format(shape=shape, p=p), ("item_no", "Item number.")
        else:
            stmt, param = SEARCH.format(shape=shape, p=p) + " LIMIT 10", ("prefix", "A LIKE pattern.")
        docs.append(
            f"kind: tool\nname: {src}_{shape}_{kind}\ntype: {'sqlite' if src == 'sqlite' else 'postgres'}-sql\n"
            f"source: {src}\ndescription: {param[1]}\nstatement: {stmt}\n"
            f"parameters:\n  - name: {param[0]}\n    type: string\n    description: {param[1]}\n"
        )
    open(path, "w").write("---\n".join(docs))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server child whose output is drained (a full pipe would stall it)."""

    def __init__(self, name, cmd, url, ready=None):
        self.name, self.url = name, url
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
        self.lines = []
        seen = threading.Event()

        def drain():
            for line in self.p.stdout:
                self.lines.append(line)
                if ready and ready in line:
                    self.line = line
                    seen.set()
        threading.Thread(target=drain, daemon=True).start()
        if ready:
            if not seen.wait(30):
                raise SystemExit(f"{name} did not start: {''.join(self.lines[-20:])}")
        else:
            for _ in range(300):
                try:
                    host, port = url.split("/")[2].split(":")
                    socket.create_connection((host, int(port)), 0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                raise SystemExit(f"{name} did not start: {''.join(self.lines[-20:])}")

    def cpu(self):
        fields = open(f"/proc/{self.p.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self):
        for line in open(f"/proc/{self.p.pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return None

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()


def post(url, body, headers=None):
    req = urllib.request.Request(url, json.dumps(body).encode(), {
        "Content-Type": "application/json", "Accept": "application/json, text/event-stream", **(headers or {})})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.headers, r.read().decode()


def legacy_session(url):
    headers, _ = post(url, {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "wrk", "version": "1"}}})
    sid = headers["Mcp-Session-Id"]
    post(url, {"jsonrpc": "2.0", "method": "notifications/initialized"},
         {"Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"})
    return sid


def wrk(server, tool, kind, conns, secs, session):
    env = dict(os.environ, TOOL=tool, KIND=kind, SESSION=session or "")
    threads = min(2, conns)
    before = server.cpu()
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{conns}", f"-d{secs}s", "--timeout", "10s", "-s", os.path.join(HERE, "call.lua"), server.url],
        env=env, capture_output=True, text=True, check=True)
    spent = server.cpu() - before
    line = next(l for l in out.stdout.splitlines() if l.startswith("RESULT "))
    r = json.loads(line[len("RESULT "):])
    r["rps"] = r["requests"] / r["seconds"]
    r["cpu_us"] = spent * 1e6 / r["requests"] if r["requests"] else None
    if r["errors"] or r["socket_errors"]:
        r["note"] = out.stderr.strip().splitlines()[:1]
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="one short round at concurrency 1 and 16")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--only", help="run only the cases whose label contains this text")
    ap.add_argument("--levels", help="concurrency levels, comma-separated (default 1,4,16,64)")
    ap.add_argument("--rounds", type=int, help="interleaved rounds per cell (default 2)")
    a = ap.parse_args()
    levels, secs, rounds = ([1, 16], 1, 1) if a.quick else ([1, 4, 16, 64], 5, 2)
    if a.levels:
        levels = [int(x) for x in a.levels.split(",")]
    if a.rounds:
        rounds = a.rounds
    cases = [c for c in CASES if not a.only or a.only in c[0]]
    os.makedirs(OUT, exist_ok=True)
    install()
    if not a.no_build:
        sh("cargo", "build", "--release", "--locked", "--bin", "legacy-mcp", cwd=ROOT)
    db = load_data()
    mdir = os.path.join(OUT, "mappings")
    shutil.rmtree(mdir, ignore_errors=True)
    legacy_mapping(mdir, db)
    settings = os.path.join(OUT, "settings.toml")
    open(settings, "w").write('[audit]\nstderr = false\nfile = "audit.jsonl"\n[log]\nlevel = "error"\n')
    tb_config = os.path.join(OUT, "toolbox.yaml")
    toolbox_config(tb_config, db)
    legacy = Server("legacy-mcp", [BIN, "serve", "--http", "127.0.0.1:0", "--mappings", mdir, "--config", settings], None, "listening on")
    legacy.url = legacy.line.split("listening on ")[1].strip()
    port = free_port()
    toolbox = Server("Toolbox", [TOOLBOX, "--tools-file", tb_config, "--port", str(port), "--disable-version-check",
                                 "--log-level", "ERROR"], f"http://127.0.0.1:{port}/mcp")
    results = {}
    try:
        session = legacy_session(legacy.url)
        for label, src, shape, kind in cases:
            tool = f"{src}_{shape}_{kind}"
            for conns in levels:
                runs = {"legacy-mcp": [], "Toolbox": []}
                for rnd in range(rounds):
                    order = [(legacy, session), (toolbox, None)]
                    if (rnd + conns) % 2:
                        order.reverse()
                    for server, sid in order:
                        wrk(server, tool, kind, conns, 1, sid)  # warm-up: connections, statements
                        runs[server.name].append(wrk(server, tool, kind, conns, secs, sid))
                results[(label, conns)] = {n: {k: statistics.median([r[k] for r in rs if r.get(k) is not None] or [0])
                                               for k in ("rps", "p50_us", "p99_us", "cpu_us", "errors", "socket_errors")}
                                           for n, rs in runs.items()}
                l, t = results[(label, conns)]["legacy-mcp"], results[(label, conns)]["Toolbox"]
                print(f"{label:45} c={conns:<3} legacy {l['rps']:8.0f}/s p50 {l['p50_us']:6.0f}µs  "
                      f"toolbox {t['rps']:8.0f}/s p50 {t['p50_us']:6.0f}µs  errors {l['errors']}/{t['errors']}", flush=True)
        rss = {s.name: s.peak_rss_mb() for s in (legacy, toolbox)}
    finally:
        legacy.stop()
        toolbox.stop()
    report(results, rss, levels, secs, rounds, a.quick)


def report(results, rss, levels, secs, rounds, quick):
    lines = [
        f"legacy-mcp {version()} and MCP Toolbox 1.12.0, {ROWS:,} rows, wrk, {rounds} interleaved round(s) of {secs} s per cell"
        + (" (QUICK MODE: too short to quote)" if quick else ""),
        "",
        "| case | c | legacy-mcp calls/s | Toolbox calls/s | ratio | p50 legacy / Toolbox (ms) | p99 legacy / Toolbox (ms) | CPU/call legacy / Toolbox (µs) | failed calls |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (label, conns), r in results.items():
        l, t = r["legacy-mcp"], r["Toolbox"]
        ratio = l["rps"] / t["rps"] if t["rps"] else None
        lines.append(
            f"| {label} | {conns} | {fmt(l['rps'])} | {fmt(t['rps'])} | {fmt(ratio, 2)}× | "
            f"{fmt(l['p50_us'] / 1000, 2)} / {fmt(t['p50_us'] / 1000, 2)} | {fmt(l['p99_us'] / 1000, 2)} / {fmt(t['p99_us'] / 1000, 2)} | "
            f"{fmt(l['cpu_us'])} / {fmt(t['cpu_us'])} | {int(l['errors'] + l['socket_errors'])} / {int(t['errors'] + t['socket_errors'])} |")
    lines += ["", f"Peak RSS over the whole run: legacy-mcp {fmt(rss['legacy-mcp'], 1)} MB, Toolbox {fmt(rss['Toolbox'], 1)} MB."]
    text = "\n".join(lines) + "\n"
    open(os.path.join(OUT, "peer.md"), "w").write(text)
    print("\n" + text)


def version():
    out = subprocess.run([BIN, "--version"], capture_output=True, text=True)
    return out.stdout.strip().split()[-1] if out.returncode == 0 else "?"


if __name__ == "__main__":
    main()
