#!/usr/bin/env python3
"""What verifying a multi-record file costs: writes a cp037 invoice batch (a header, invoices
and lines in turn, a trailer with the record count and the sum of the invoice totals) of N
records, then times `legacy-mcp call get_invoice` (one process per call, so every call indexes
and verifies the file) with three mappings: no checks, header and trailer checked, and the same
with `when_incomplete: last_complete`. Prints a table; asserts nothing about time.

    cargo build --release
    python3 bench/multirecord_batch.py [--records 1000000] [--runs 3]
"""
import argparse
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "fixtures/legacy"))
import generate as g  # noqa: E402

WORK = pathlib.Path("/tmp/legacy-mcp-multirecord")
LRECL = g.INVOICE_LRECL


def pad(b):
    return b + b"\x40" * (LRECL - len(b))


def write_batch(n):
    out = bytearray(pad(g.text("HD", 2, "cp037") + g.text("000042", 6, "cp037") + g.text("20260102", 8, "cp037")))
    total = 0
    for i in range(n):
        if i % 3 == 0:
            cents = (i % 100000) - 5000
            total += cents
            rec = (g.text("IH", 2, "cp037") + g.text(str(70000000 + i), 8, "cp037") + g.text("CUSTOMER", 20, "cp037")
                   + g.packed(126001, 4) + g.packed(cents, 6))
        else:
            rec = (g.text("IL", 2, "cp037") + g.text(str(70000000 + i - i % 3), 8, "cp037") + g.text("001", 3, "cp037")
                   + g.text("ITEM", 15, "cp037") + g.zoned_ebcdic(1, 5) + g.packed(100, 6))
        out += pad(rec)
    out += g.trailer(n, total)
    (WORK / "data").mkdir(parents=True, exist_ok=True)
    (WORK / "data/INVOICES.DAT").write_bytes(out)
    return len(out)


def mappings():
    base = (ROOT / "mappings/examples/as400-ebcdic/invoices.yaml").read_text().replace(
        "directory: ../../../fixtures/legacy/as400", f"directory: {WORK / 'data'}")
    start, end = base.index("        header_record:"), base.index("        key: [invoice_no]")
    plain = base[:start] + "        other_record_types: [HD, TR]\n" + base[end:]
    last = base.replace("        header_record:", "        when_incomplete: last_complete\n        header_record:", 1)
    out = {}
    for name, text in [("no checks", plain), ("header + trailer verified", base), ("same, last_complete", last)]:
        d = WORK / name.replace(" ", "_").replace(",", "").replace("+", "and")
        d.mkdir(parents=True, exist_ok=True)
        (d / "invoices.yaml").write_text(text)
        out[name] = d
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    binary = ROOT / "target/release/legacy-mcp"
    size = write_batch(a.records)
    print(f"{a.records + 2:,} records, {size / 1e6:.0f} MB, median of {a.runs} runs\n")
    print("| mapping | process start to answer |\n|---|---|")
    for name, d in mappings().items():
        times = []
        for _ in range(a.runs):
            t = time.perf_counter()
            subprocess.run([binary, "call", "--mappings", d, "get_invoice", "--args", '{"invoice_no":"70000003"}'],
                           check=True, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - t)
        print(f"| {name} | {statistics.median(times) * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
