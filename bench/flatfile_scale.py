#!/usr/bin/env python3
"""Flat-file scale check: a large fixed-width export, key lookups over MCP stdio, memory.

    cargo build --release
    python3 bench/flatfile_scale.py [--gb 2] [--dir /tmp/legacy-mcp-scale] [--lookups 200]

Generates (once) an export of ~GB gigabytes of 100-byte records, starts
`target/release/legacy-mcp serve` over stdio on a mapping for it, and reports:
first lookup (builds the key index), lookup p50/p99 afterwards, peak RSS (VmHWM) of the server,
and the file size, so "the process does not hold the file in memory" is a number.
"""
import argparse, json, os, random, statistics, subprocess, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--gb", type=float, default=2.0)
ap.add_argument("--dir", default="/tmp/legacy-mcp-scale")
ap.add_argument("--lookups", type=int, default=200)
args = ap.parse_args()

RECORD = 100  # 98 bytes of data + CRLF
records = int(args.gb * 1e9 / RECORD)
os.makedirs(os.path.join(args.dir, "data"), exist_ok=True)
path = os.path.join(args.dir, "data", "BIG.TXT")

def record(i):
    key = f"K{i:012d}"
    return f"{key:<20}{'Artikel ' + str(i):<40}{i % 99999:010d}{'X' * 28}".encode("ascii") + b"\r\n"

if not os.path.exists(path) or os.path.getsize(path) != records * RECORD:
    t = time.time()
    with open(path, "wb", buffering=16 << 20) as f:
        chunk = []
        for i in range(records):
            chunk.append(record(i))
            if len(chunk) == 100000:
                f.write(b"".join(chunk)); chunk = []
        f.write(b"".join(chunk))
    print(f"generated {records:,} records ({os.path.getsize(path)/1e9:.2f} GB) in {time.time()-t:.0f}s", file=sys.stderr)

with open(os.path.join(args.dir, "big.yaml"), "w") as f:
    f.write("""
sources:
  big:
    kind: flatfile
    directory: data
    tables:
      records:
        file: BIG.TXT
        format: fixed_width
        key: [key]
        fields:
          key:   { start: 1, length: 20 }
          name:  { start: 21, length: 40 }
          price: { start: 61, length: 10, type: decimal, scale: 2 }
tools:
  get_record:
    description: One record by key.
    parameters: { key: { type: string } }
    source: big
    table: records
    where: { key: key }
    result: { one: true }
""")

binary = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "release", "legacy-mcp")
proc = subprocess.Popen([binary, "serve", "--mappings", os.path.join(args.dir, "big.yaml")],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
ids = iter(range(1, 10**9))

def rpc(method, params=None, notify=False):
    msg = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        msg["params"] = params
    if not notify:
        msg["id"] = next(ids)
    proc.stdin.write((json.dumps(msg) + "\n").encode())
    if notify:
        return None
    return json.loads(proc.stdout.readline())

def hwm_mb():
    with open(f"/proc/{proc.pid}/status") as s:
        for line in s:
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024

rpc("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}})
rpc("notifications/initialized", notify=True)
rss_idle = hwm_mb()
rng = random.Random(7)
t = time.time()
first = rpc("tools/call", {"name": "get_record", "arguments": {"key": f"K{records - 1:012d}"}})
index_s = time.time() - t
assert not first["result"].get("isError"), first
times = []
for _ in range(args.lookups):
    k = rng.randrange(records)
    t = time.perf_counter()
    r = rpc("tools/call", {"name": "get_record", "arguments": {"key": f"K{k:012d}"}})
    times.append((time.perf_counter() - t) * 1000)
    assert r["result"]["structuredContent"]["key"] == f"K{k:012d}", r
times.sort()
# The nightly export replaced: a new file renamed over the old one (new inode and mtime).
import shutil
fresh = path + ".new"
shutil.copyfile(path, fresh)
os.replace(fresh, path)
k = random.randrange(records)
t = time.perf_counter()
r = rpc("tools/call", {"name": "get_record", "arguments": {"key": f"K{k:012d}"}})
reindex_s = time.perf_counter() - t
assert r["result"]["structuredContent"]["key"] == f"K{k:012d}", r
size = os.path.getsize(path)
print(json.dumps({
    "records": records,
    "file_gb": round(size / 1e9, 2),
    "first_lookup_with_index_build_s": round(index_s, 1),
    "index_build_mb_per_s": round(size / 1e6 / index_s),
    "lookup_p50_ms": round(statistics.median(times), 3),
    "first_lookup_after_replacement_s": round(reindex_s, 1),
    "lookup_p99_ms": round(times[int(len(times) * 0.99) - 1], 3),
    "rss_before_mb": round(rss_idle, 1),
    "peak_rss_mb": round(hwm_mb(), 1),
    "index_bytes_per_record": 16,
}, indent=2))
proc.stdin.close()
proc.wait(timeout=30)
