#!/usr/bin/env python3
"""Score predicted duplicate removals against the truth file, and turn Strata findings into pairs.

    python3 score.py strata-pairs CORPUS.jsonl FINDINGS.json [FINDINGS.json ...] > OUT.tsv
    python3 score.py score TRUTH.tsv CORPUS.jsonl PAIRS.tsv > SCORE.json

Pairs files: removed_id <TAB> kept_id, one line per document a tool removed.

Truth clusters: every original with its generated duplicates (near and exact). A cluster of c documents holds
c - 1 truth duplicates.
- A removal X -> K is correct when X and K are in the same truth cluster.
- precision = correct removals / all removals
- recall = sum over clusters of min(correct removals in it, c - 1) / number of truth duplicates. Which member
  of a cluster a tool keeps does not matter (datatrove keeps a union-find root, not always the first).
- recall_strict = generated duplicates removed with a partner in their cluster / generated duplicates (the
  issue's wording: the original must be kept). Every duplicate comes after its original in the corpus, so
  keep-first tools score the same on both.
- recall by band of true word-5-gram Jaccard vs the original (near duplicates, strict), and for exact copies.
"""
import json
import sys
from collections import defaultdict

BANDS = [(0.80, 0.85), (0.85, 0.90), (0.90, 0.95), (0.95, 1.0)]


def band_name(lo, hi):
    return f"{lo:.2f}-{hi:.2f}"


def corpus_ids(path):
    ids = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            i = line.index('"id": "') + 7
            ids.append(line[i:line.index('"', i)])
    return ids


def strata_pairs(corpus, findings_files):
    ids = corpus_ids(corpus)
    seen = set()
    for fp in findings_files:
        with open(fp) as f:
            for x in json.load(f):
                if x.get("kind") not in ("duplicate", "near-duplicate") or x.get("line") is None:
                    continue
                if x.get("origin") != corpus or x.get("related_origin") != corpus:
                    sys.exit(f"unexpected origin in finding: {x}")
                d, k = ids[x["line"] - 1], ids[x["related_line"] - 1]
                if d in seen:
                    continue
                seen.add(d)
                print(f"{d}\t{k}")


def score(truth_path, corpus, pairs_path):
    cluster, kind, jac = {}, {}, {}
    size = defaultdict(lambda: 1)
    with open(truth_path) as f:
        next(f)
        for line in f:
            d, o, k, j = line.rstrip("\n").split("\t")
            cluster[d] = o
            cluster[o] = o
            kind[d] = k
            jac[d] = float(j)
            size[o] += 1
    n_truth = sum(c - 1 for c in size.values())
    removals = correct = originals_removed = 0
    correct_in = defaultdict(int)
    found = set()
    wrong = []
    with open(pairs_path) as f:
        for line in f:
            if not line.strip():
                continue
            d, k = line.rstrip("\n").split("\t")
            removals += 1
            if d in size:
                originals_removed += 1
            c = cluster.get(d)
            if c is not None and c == cluster.get(k):
                correct += 1
                correct_in[c] += 1
                if d in kind:
                    found.add(d)
            elif len(wrong) < 10:
                wrong.append([d, k])
    recall = sum(min(v, size[c] - 1) for c, v in correct_in.items()) / n_truth if n_truth else 1.0
    res = {
        "docs": len(corpus_ids(corpus)), "truth_duplicates": n_truth,
        "truth_near": sum(1 for k in kind.values() if k == "near"),
        "truth_exact": sum(1 for k in kind.values() if k == "exact"),
        "removals": removals, "correct": correct,
        "precision": correct / removals if removals else 1.0,
        "recall": recall,
        "recall_strict": len(found) / len(kind) if kind else 1.0,
        "originals_removed": originals_removed,
        "wrong_examples": wrong,
        "bands": {},
    }
    for lo, hi in BANDS:
        docs = [d for d, k in kind.items() if k == "near" and lo <= jac[d] < hi + (1e-9 if hi == 1.0 else 0)]
        res["bands"][band_name(lo, hi)] = {"n": len(docs), "recall": sum(d in found for d in docs) / len(docs)
                                           if docs else None}
    ex = [d for d, k in kind.items() if k == "exact"]
    res["bands"]["exact"] = {"n": len(ex), "recall": sum(d in found for d in ex) / len(ex) if ex else None}
    near = [d for d, k in kind.items() if k == "near"]
    res["recall_near"] = sum(d in found for d in near) / len(near) if near else None
    json.dump(res, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    if sys.argv[1] == "strata-pairs":
        strata_pairs(sys.argv[2], sys.argv[3:])
    elif sys.argv[1] == "score":
        score(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
