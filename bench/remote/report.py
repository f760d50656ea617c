#!/usr/bin/env python3
"""Table of a finished bench/remote run: medians per tool and operation, ratios dvc/strata.

  report.py WORK_DIR [--out bench/remote/results-table.md]

Prints the table (markdown) and writes it to WORK_DIR/table.md.
"""
import csv
import os
import statistics
import sys


def main():
    work = sys.argv[1]
    meta = {}
    with open(os.path.join(work, "meta.env")) as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                meta[k] = v
    rows = list(csv.DictReader(open(os.path.join(work, "results.tsv")), delimiter="\t"))
    ops = []
    for r in rows:
        if (r["tool"], r["op"]) not in ops:
            ops.append((r["tool"], r["op"]))
    med = {}
    out = []
    out.append("| tool | operation | rounds ok | wall s (median) | user+sys CPU s (median) | peak RSS MiB (median) | per-round wall s | files after |")
    out.append("|---|---|---|---|---|---|---|---|")
    for tool, op in ops:
        rs = [r for r in rows if r["tool"] == tool and r["op"] == op]
        ok = [r for r in rs if r["rc"] == "0"]
        if not ok:
            out.append("| %s | %s | 0 of %d | failed | | | | |" % (tool, op, len(rs)))
            continue
        wall = statistics.median(float(r["wall_s"]) for r in ok)
        cpu = statistics.median(float(r["user_s"]) + float(r["sys_s"]) for r in ok)
        rss = statistics.median(float(r["maxrss_kb"]) for r in ok) / 1024
        med[(tool, op)] = (wall, cpu)
        out.append("| %s | %s | %d of %d | %.2f | %.2f | %.0f | %s | %s |" % (
            tool, op, len(ok), len(rs), wall, cpu, rss,
            " / ".join(r["wall_s"] for r in rs), " / ".join(r["files_after"] for r in rs)))
    out.append("")
    out.append("| comparison | wall ratio (dvc / strata) | CPU ratio (dvc / strata) |")
    out.append("|---|---|---|")
    for label, d, s in [("push", ("dvc", "push"), ("strata", "push")),
                        ("clone/pull whole", ("dvc", "pull"), ("strata", "clone")),
                        ("dvc pull whole vs strata clone --split train", ("dvc", "pull"), ("strata", "clone-train"))]:
        if d in med and s in med:
            out.append("| %s | %.1fx | %.1fx |" % (label, med[d][0] / med[s][0], med[d][1] / med[s][1]))
    if ("strata", "clone") in med and ("strata", "clone-train") in med:
        out.append("")
        out.append("strata clone --split train / whole clone, wall: %.2f" % (med[("strata", "clone-train")][0] / med[("strata", "clone")][0]))
    if ("strata", "clone") in med and ("strata", "clone-test") in med:
        out.append("")
        out.append("strata clone --split test / whole clone, wall: %.2f" % (med[("strata", "clone-test")][0] / med[("strata", "clone")][0]))
    text = "\n".join(out) + "\n"
    header = "\n".join("- %s: %s" % (k, v) for k, v in meta.items())
    with open(os.path.join(work, "table.md"), "w") as f:
        f.write(header + "\n\n" + text)
    print(header + "\n\n" + text)


if __name__ == "__main__":
    main()
