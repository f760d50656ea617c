"""Summarizes the runs: medians, ratios, agreement of the flagged sets, precision/recall of the injected flips.

usage: python compare.py DATA_DIR RESULTS_DIR
"""
import json
import os
import re
import statistics
import sys

import numpy as np

data, results = sys.argv[1], sys.argv[2]
flipped = np.load(os.path.join(data, "flipped.npy"))
truth = set(np.flatnonzero(flipped).tolist())


def flagged(path):
    with open(path) as f:
        return set(int(line) for line in f if line.strip())


def runs(tool):
    out = []
    for name in sorted(os.listdir(results)):
        if name.startswith(tool + "-") and name.endswith(".time"):
            text = open(os.path.join(results, name)).read()
            wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", text)
            seconds = (int(wall.group(1) or 0) * 3600 + int(wall.group(2)) * 60 + float(wall.group(3)))
            rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) / 1024
            user = float(re.search(r"User time \(seconds\): ([\d.]+)", text).group(1))
            system = float(re.search(r"System time \(seconds\): ([\d.]+)", text).group(1))
            log = open(os.path.join(results, name.replace(".time", ".log"))).read()
            compute = float(re.search(r"compute ([\d.]+) s", log).group(1))
            out.append({"wall": seconds, "rss": rss, "cpu": user + system, "compute": compute})
    return out


summary = {}
for tool in ("strata", "cleanlab"):
    r = runs(tool)
    summary[tool] = {k: statistics.median(x[k] for x in r) for k in ("wall", "rss", "cpu", "compute")}
    summary[tool]["runs"] = len(r)
    s = flagged(os.path.join(results, f"{tool}-1.txt"))
    summary[tool]["flagged"] = len(s)
    summary[tool]["precision"] = len(s & truth) / max(len(s), 1)
    summary[tool]["recall"] = len(s & truth) / max(len(truth), 1)
    summary[tool]["set"] = s
a, b = summary["strata"].pop("set"), summary["cleanlab"].pop("set")
summary["jaccard"] = len(a & b) / max(len(a | b), 1)
summary["identical"] = a == b
summary["injected"] = len(truth)
for k in ("wall", "compute", "cpu"):
    summary[f"{k}_ratio"] = summary["cleanlab"][k] / summary["strata"][k]
summary["rss_ratio"] = summary["cleanlab"]["rss"] / summary["strata"]["rss"]
print(json.dumps(summary, indent=2))
