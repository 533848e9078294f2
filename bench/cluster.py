#!/usr/bin/env python3
"""Throughput of 1 vs 3 replicas, measured with wrk on this machine.

    python3 bench/cluster.py [--seconds 5] [--no-build]

Serves the demo mappings with `cache: {ttl: 5m}` on get_item and sends stateless 2026-07-28
calls (any replica may answer each) for items drawn from the export, in three set-ups:

  1. one replica, no [cluster], wrk straight at it (the single-process baseline);
  2. one replica with [cluster] (Redis) behind HAProxy;
  3. three replicas with [cluster] behind HAProxy (round robin).

Each is measured cold (every item a miss once: flat-file key lookups, shared through Redis in
2 and 3) and hot (every answer cached). Redis and HAProxy are started here on free ports and
stopped at the end. Prints a Markdown table for docs/scale-out.md.
"""
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "target/release/legacy-mcp"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, what):
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"{what} did not listen on {port}")


def mappings(tmp):
    """The demo mappings, the exports by absolute path, get_item cached."""
    out = Path(tmp) / "mappings"
    out.mkdir()
    for f in (ROOT / "mappings/demo").glob("*.yaml"):
        text = f.read_text()
        text = text.replace("../../fixtures/demo-erp", str(ROOT / "fixtures/demo-erp"))
        if f.name == "items.yaml":
            text = text.replace("    result:\n      one: true\n",
                                "    result:\n      one: true\n    cache: { ttl: 5m }\n", 1)
        (out / f.name).write_text(text)
    return out


def replica(maps, port, redis_port=None):
    env = dict(os.environ, LEGACY_MCP_LOG="error")
    if redis_port:
        env["LEGACY_MCP__CLUSTER__REDIS"] = f"redis://127.0.0.1:{redis_port}"
        env["LEGACY_MCP__CLUSTER__KEY_PREFIX"] = f"bench{port}"
    p = subprocess.Popen([str(BIN), "serve", "--mappings", str(maps), "--http", f"127.0.0.1:{port}"],
                         env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    wait_port(port, "legacy-mcp")
    return p


def haproxy(tmp, port, backends):
    servers = "".join(f"  server r{i} 127.0.0.1:{b} check inter 1s\n" for i, b in enumerate(backends))
    cfg = Path(tmp) / f"haproxy{port}.cfg"
    cfg.write_text(
        "global\n  maxconn 4096\ndefaults\n  mode http\n  timeout connect 1s\n"
        "  timeout client 30s\n  timeout server 30s\n  option http-buffer-request\n"
        f"frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\n"
        f"backend b\n  balance roundrobin\n{servers}")
    exe = shutil.which("haproxy") or "/usr/sbin/haproxy"
    p = subprocess.Popen([exe, "-f", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, "haproxy")
    return p


def wrk(url, items, seconds, conns):
    env = dict(os.environ, ITEMS_FILE=str(items))
    out = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{seconds}s", "-s",
                          str(ROOT / "bench/cluster/stateless.lua"), url],
                         env=env, capture_output=True, text=True, check=True).stdout
    r = json.loads(re.search(r"RESULT (\{.*\})", out).group(1))
    if r["errors"] or r["socket_errors"]:
        sys.exit(f"failures against {url}: {r}")
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args()
    if not a.no_build:
        subprocess.run(["cargo", "build", "--release", "--locked"], cwd=ROOT, check=True)
    tmp = tempfile.mkdtemp()
    procs = []
    try:
        maps = mappings(tmp)
        items = Path(tmp) / "items.txt"
        numbers = [l.split()[0] for l in (ROOT / "fixtures/demo-erp/ITEMS.TXT")
                   .read_text(encoding="latin-1").splitlines() if l.strip()]
        items.write_text("\n".join(numbers) + "\n")
        redis_port = free_port()
        procs.append(subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                                       "--save", "", "--appendonly", "no"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_port(redis_port, "redis-server")
        setups = []
        single = free_port()
        procs.append(replica(maps, single))
        setups.append(("1 replica, no cluster, direct", f"http://127.0.0.1:{single}/mcp"))
        one = free_port()
        procs.append(replica(maps, one, redis_port))
        lb1 = free_port()
        procs.append(haproxy(tmp, lb1, [one]))
        setups.append(("1 replica + Redis, behind HAProxy", f"http://127.0.0.1:{lb1}/mcp"))
        three = [free_port() for _ in range(3)]
        for p in three:
            procs.append(replica(maps, p, redis_port))
        lb3 = free_port()
        procs.append(haproxy(tmp, lb3, three))
        setups.append(("3 replicas + Redis, behind HAProxy", f"http://127.0.0.1:{lb3}/mcp"))
        rows = []
        for name, url in setups:
            # Cold: 2,000 distinct items, each a miss once (then hits): one short run.
            cold = wrk(url, items, 2, 16)
            hot = wrk(url, items, a.seconds, 16)
            rows.append((name, cold, hot))
        print(f"\nMachine: {os.cpu_count()} cores. wrk -t2 -c16, stateless get_item (cached, ttl 5m).\n")
        print("| set-up | first 2 s (misses then hits) calls/s | hot calls/s | hot p50 ms | hot p99 ms |")
        print("|---|---|---|---|---|")
        for name, cold, hot in rows:
            print(f"| {name} | {cold['requests'] / cold['seconds']:,.0f} | "
                  f"{hot['requests'] / hot['seconds']:,.0f} | {hot['p50_us'] / 1000:.2f} | "
                  f"{hot['p99_us'] / 1000:.2f} |")
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
