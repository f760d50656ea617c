"""Summarizes a bench/imagedup work folder: medians per tool, quality, ratios. Writes results.md and results.tsv
next to this script and prints the markdown table.

    python report.py WORK_DIR
"""
import csv
import json
import os
import statistics
import sys

work = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
rows = list(csv.DictReader(open(os.path.join(work, "results.tsv")), delimiter="\t"))
tools = []
for r in rows:
    if r["tool"] not in tools:
        tools.append(r["tool"])
meta = dict(line.strip().split("=", 1) for line in open(os.path.join(work, "meta.env")) if "=" in line)


def med(tool, key):
    return statistics.median(float(r[key]) for r in rows if r["tool"] == tool and r["rc"] == "0")


def score(tool):
    runs = sorted(f for f in os.listdir(os.path.join(work, "scores")) if f.endswith("-%s.json" % tool))
    s = json.load(open(os.path.join(work, "scores", runs[-1])))
    return s


summary = {}
for t in tools:
    s = score(t)
    summary[t] = {"wall": med(t, "wall_s"), "cpu": med(t, "user_s") + med(t, "sys_s"), "pss_mib": med(t, "tree_pss_kb") / 1024,
                  "precision": s["precision"], "recall": s["recall"], "removals": s["removals"],
                  "direct": s.get("direct")}

lines = ["| tool | wall s (median) | CPU s | peak memory MiB (tree PSS) | precision | recall | images removed |",
         "|---|---|---|---|---|---|---|"]
for t in tools:
    x = summary[t]
    lines.append("| %s | %.2f | %.2f | %.0f | %.4f | %.4f | %d |" % (t, x["wall"], x["cpu"], x["pss_mib"], x["precision"], x["recall"], x["removals"]))
lines.append("")
lines.append("| comparison | speed (wall) | CPU | memory | recall |")
lines.append("|---|---|---|---|---|")
for a, b in [("strata-both", "imagededup-phash"), ("strata-both", "imagededup-dhash"), ("strata-phash", "imagededup-phash")]:
    if a in summary and b in summary:
        x, y = summary[a], summary[b]
        lines.append("| %s vs %s | %.1fx faster | %.1fx less | %.1fx less | %.4f vs %.4f |" % (
            a, b, y["wall"] / x["wall"], y["cpu"] / x["cpu"], y["pss_mib"] / x["pss_mib"], x["recall"], y["recall"]))
for t in tools:
    d = summary[t]["direct"]
    if d:
        lines.append("")
        lines.append("%s direct pairs (no transitive closure): precision %.4f, recall %.4f" % (t, d["precision"], d["recall"]))
table = "\n".join(lines)
print(table)
with open(os.path.join(here, "results.tsv"), "w") as f:
    f.write("tool\twall_s\tcpu_s\tpss_mib\tprecision\trecall\tremovals\n")
    for t in tools:
        x = summary[t]
        f.write("%s\t%.3f\t%.3f\t%.1f\t%.4f\t%.4f\t%d\n" % (t, x["wall"], x["cpu"], x["pss_mib"], x["precision"], x["recall"], x["removals"]))
json.dump({"meta": meta, "summary": summary}, open(os.path.join(here, "results.meta.json"), "w"), indent=1)
