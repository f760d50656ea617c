"""Scores near-duplicate pairs against the truth file, over unordered pairs of files.

    python score.py TRUTH_CSV PAIRS_JSON            pairs as {"pairs": [[a, b], ...]} (imagededup)
    python score.py TRUTH_CSV STRATA_FINDINGS_JSON --strata     `strata findings --kind near-duplicate --json`

Both tools' pairs are closed transitively (union-find), since a deduplicated set keeps one image per cluster;
for imagededup the direct pairs are scored too. Truth pairs: every pair inside a group.
Prints JSON: precision, recall, predicted and true pair counts, removals (cluster members beyond the first).
"""
import csv
import itertools
import json
import sys


def clusters(pairs, names):
    parent = {n: n for n in names}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
    groups = {}
    for n in names:
        groups.setdefault(find(n), []).append(n)
    return [g for g in groups.values() if len(g) > 1]


def pair_set(groups):
    return {tuple(sorted(p)) for g in groups for p in itertools.combinations(g, 2)}


def scores(predicted, truth_pairs):
    hit = len(predicted & truth_pairs)
    return {"precision": hit / len(predicted) if predicted else 1.0, "recall": hit / len(truth_pairs) if truth_pairs else 1.0,
            "predicted_pairs": len(predicted), "true_pairs": len(truth_pairs)}


def main():
    truth = {}
    with open(sys.argv[1]) as f:
        for row in csv.DictReader(f):
            truth[row["file"]] = int(row["group"])
    names = list(truth)
    groups = {}
    for n, g in truth.items():
        if g >= 0:
            groups.setdefault(g, []).append(n)
    truth_pairs = pair_set(groups.values())
    data = json.load(open(sys.argv[2]))
    if len(sys.argv) > 3 and sys.argv[3] == "--strata":
        # each finding: the removed image's origin and the kept image's origin
        pairs = [(f["origin"].rsplit("/", 1)[-1], f["related_origin"].rsplit("/", 1)[-1]) for f in data]
        direct = None
    else:
        pairs = [tuple(p) for p in data["pairs"]]
        direct = {tuple(sorted(p)) for p in pairs}
    cl = clusters(pairs, names)
    out = scores(pair_set(cl), truth_pairs)
    out["removals"] = sum(len(g) - 1 for g in cl)
    if direct is not None:
        out["direct"] = scores(direct, truth_pairs)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
