#!/usr/bin/env python3
"""Summarises an ingest benchmark run.

  report.py [WORK_DIR]   (default: the newest folder under bench/work/)

Reads WORK_DIR/results.tsv and meta.env, prints a table of medians (wall, user+sys CPU), files/s, GB/s
and the ratios against the issue's targets, and writes bench/ingest/results.md and bench/ingest/results.tsv.
"""
import csv
import os
import shutil
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)

# (tool, op, label) in display order
ROWS = [
    ("strata", "ingest", "strata ingest, small files"),
    ("dvc", "add", "dvc add, small files"),
    ("strata", "status", "strata status, unchanged (1st)"),
    ("strata", "status2", "strata status, unchanged (2nd)"),
    ("dvc", "status", "dvc status, unchanged (1st)"),
    ("dvc", "status2", "dvc status, unchanged (2nd)"),
    ("strata", "ingest-large", "strata ingest, large files"),
    ("strata", "hash", "strata status after touch (hash only)"),
    ("sha256sum", "hash", "sha256sum, large files"),
    ("openssl", "hash", "openssl dgst -sha256, large files"),
]


def load(work):
    with open(os.path.join(work, "results.tsv")) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    meta = {}
    path = os.path.join(work, "meta.env")
    if os.path.exists(path):
        for line in open(path):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                meta[k] = v
    return rows, meta


def summarise(rows):
    groups = {}
    for r in rows:
        groups.setdefault((r["tool"], r["op"]), []).append(r)
    out = {}
    for key, rs in groups.items():
        wall = [float(r["wall_s"]) for r in rs]
        cpu = [float(r["user_s"]) + float(r["sys_s"]) for r in rs]
        out[key] = {
            "n": len(rs),
            "wall": statistics.median(wall),
            "wall_min": min(wall),
            "wall_max": max(wall),
            "user": statistics.median(float(r["user_s"]) for r in rs),
            "sys": statistics.median(float(r["sys_s"]) for r in rs),
            "cpu": statistics.median(cpu),
            "rss_mib": statistics.median(int(r["maxrss_kb"]) for r in rs) / 1024,
            "rcs": sorted({r["rc"] for r in rs}),
            "files": int(rs[0]["files"]),
            "bytes": int(float(rs[0]["bytes"])),
        }
    return out


def ratio(a, b):
    return a / b if a and b else float("nan")


def build(work):
    rows, meta = load(work)
    s = summarise(rows)
    lines = []
    p = lines.append
    p("| operation | runs | wall median (min-max) s | CPU user+sys s | user / sys s | files/s | GB/s | max RSS MiB | exit |")
    p("|---|---|---|---|---|---|---|---|---|")
    for tool, op, label in ROWS:
        m = s.get((tool, op))
        if not m:
            continue
        fps = m["files"] / m["wall"] if m["wall"] else float("inf")
        gbs = m["bytes"] / m["wall"] / 1e9 if m["wall"] else float("inf")
        p(f"| {label} | {m['n']} | {m['wall']:.2f} ({m['wall_min']:.2f}-{m['wall_max']:.2f}) | {m['cpu']:.2f} | "
          f"{m['user']:.2f} / {m['sys']:.2f} | {fps:,.0f} | {gbs:.3f} | {m['rss_mib']:.0f} | {','.join(m['rcs'])} |")

    def get(tool, op, field="wall"):
        m = s.get((tool, op))
        return m[field] if m else None

    def gbs(tool, op):
        m = s.get((tool, op))
        return m["bytes"] / m["wall"] / 1e9 if m and m["wall"] else None

    checks = []
    r_ingest = ratio(get("dvc", "add"), get("strata", "ingest"))
    r_ingest_cpu = ratio(get("dvc", "add", "cpu"), get("strata", "ingest", "cpu"))
    r_status = ratio(get("dvc", "status"), get("strata", "status"))
    r_status_cpu = ratio(get("dvc", "status", "cpu"), get("strata", "status", "cpu"))
    r_status2 = ratio(get("dvc", "status2"), get("strata", "status2"))
    r_hash = ratio(gbs("strata", "hash"), gbs("sha256sum", "hash"))
    r_hash_ossl = ratio(gbs("strata", "hash"), gbs("openssl", "hash"))
    if get("dvc", "add"):
        checks.append(("ingest: dvc add / strata ingest (wall)", r_ingest, 5.0, f"CPU ratio {r_ingest_cpu:.1f}x"))
    if get("dvc", "status"):
        checks.append(("unchanged status: dvc / strata (wall, 1st)", r_status, 10.0,
                       f"CPU ratio {r_status_cpu:.1f}x; 2nd call {r_status2:.1f}x"))
    if gbs("sha256sum", "hash"):
        note = f"vs openssl: {r_hash_ossl:.2f}" if gbs("openssl", "hash") else ""
        checks.append(("hashing: strata GB/s / sha256sum GB/s", r_hash, 0.8, note))
    r_lines = ["| ratio | measured | target | met | note |", "|---|---|---|---|---|"]
    for name, value, target, note in checks:
        met = "yes" if value == value and value >= target else "NO"
        shown = f"{value:.2f}" if target < 1 else f"{value:.1f}x"
        tshown = f">= {target:.2f}" if target < 1 else f">= {target:.0f}x"
        r_lines.append(f"| {name} | {shown} | {tshown} | {met} | {note} |")
    return meta, lines, r_lines


def main(argv):
    if len(argv) > 1:
        work = os.path.abspath(argv[1])
    else:
        root = os.path.join(BENCH, "work")
        runs = sorted(d for d in os.listdir(root) if os.path.exists(os.path.join(root, d, "results.tsv")))
        if not runs:
            sys.exit("no results under bench/work/")
        work = os.path.join(root, runs[-1])
    meta, table, ratios = build(work)
    head = [
        "# Ingest benchmark results",
        "",
        f"Measured {meta.get('date_utc', '?')} on {meta.get('host_cores', '?')} cores "
        f"({meta.get('cpu', '?')}, SHA-NI: {meta.get('sha_ni', '?')}), {meta.get('mem_gib', '?')} GiB, "
        f"{meta.get('fs', '?')}, kernel {meta.get('kernel', '?')}.",
        f"Strata commit {meta.get('strata_commit', '?')} ({'DEBUG' if '/debug/' in meta.get('strata_binary', '') else 'release'} binary "
        f"built {meta.get('strata_binary_mtime', '?')}); "
        f"{meta.get('dvc_version') and 'dvc ' + meta['dvc_version'] or 'dvc not run'}; {meta.get('sha256sum', '')}.",
        f"Data: {meta.get('n_small', '?')} text files of 1-4 KiB in 100 folders; {meta.get('large_gib', '?')} GiB of "
        f"random bytes in files of 64-256 MiB. {meta.get('runs', '?')} runs, each with fresh copies and fresh projects; "
        f"page cache warmed and `sync` before every timed command. Load average at start {meta.get('load_at_start', '?')}, "
        f"at end {meta.get('load_at_end', '?')}.",
        *([f"Note: {meta['note']}", ""] if meta.get("note") else [""]),
        "Medians over runs; GB/s is 10^9 bytes per wall second; files/s is files per wall second.",
        "",
    ]
    tail = ["", "Where the time goes, and what to change: `bench/ingest/PROFILE.md`."]
    text = "\n".join(head + table + ["", "## Against the targets", ""] + ratios + tail) + "\n"
    print(text)
    with open(os.path.join(HERE, "results.md"), "w") as f:
        f.write(text)
    shutil.copyfile(os.path.join(work, "results.tsv"), os.path.join(HERE, "results.tsv"))
    if os.path.exists(os.path.join(work, "meta.env")):
        shutil.copyfile(os.path.join(work, "meta.env"), os.path.join(HERE, "results.meta.env"))
    print(f"wrote {os.path.join(HERE, 'results.md')}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
