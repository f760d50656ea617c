#!/usr/bin/env python3
"""Checks the built sets against their truth files: every data item is in the truth and the other way round, labels
agree, ids are unique, exact duplicates are byte-identical to their original, near duplicates differ from it,
`of` names a good item, natural pairs name good items. Exit 1 with the problems listed, 0 when all hold.

    python3 verify_sets.py [/work/curation-data]
"""
import csv, json, sys
from pathlib import Path

data = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/curation-data")
problems = []
for root in sorted(p for p in data.iterdir() if (p / "set.json").exists()):
    meta = json.loads((root / "set.json").read_text())
    truth = [json.loads(l) for l in open(root / "truth.jsonl", encoding="utf-8")]
    T = {t["item"]: t for t in truth}
    if len(T) != len(truth):
        problems.append(f"{root.name}: duplicate items in truth.jsonl")
    if meta["modality"] == "text":
        rows = [json.loads(l) for l in open(root / "data" / f"{root.name}.jsonl", encoding="utf-8")]
        content = {r["id"]: r["text"].encode() for r in rows}
        labels = {r["id"]: r["label"] for r in rows}
        if len(content) != len(rows):
            problems.append(f"{root.name}: duplicate ids in the data")
    else:
        files = {p.name for p in (root / "data").iterdir() if p.name != "labels.csv"}
        content = {f: (root / "data" / f).read_bytes() for f in files}
        with open(root / "data" / "labels.csv", newline="", encoding="utf-8") as fh:
            labels = {r["file"]: r["label"] for r in csv.DictReader(fh)}
        if set(labels) != files:
            problems.append(f"{root.name}: labels.csv and the files differ: {sorted(set(labels) ^ files)[:5]}")
    if set(content) != set(T):
        problems.append(f"{root.name}: data and truth differ: {sorted(set(content) ^ set(T))[:5]}")
    for t in truth:
        i = t["item"]
        if labels.get(i) != t["label"]:
            problems.append(f"{root.name}: {i}: label {labels.get(i)!r} in the data, {t['label']!r} in the truth")
        if t["kind"] in ("exact_duplicate", "near_duplicate"):
            o = T.get(t["of"])
            if o is None or o["kind"] != "good":
                problems.append(f"{root.name}: {i}: `of` {t['of']} is not a good item")
                continue
            same = content.get(i) == content.get(t["of"])
            if t["kind"] == "exact_duplicate" and not same:
                problems.append(f"{root.name}: {i}: exact duplicate differs from {t['of']}")
            if t["kind"] == "near_duplicate" and same:
                problems.append(f"{root.name}: {i}: near duplicate is byte-identical to {t['of']}")
    for l in open(root / "natural.jsonl", encoding="utf-8"):
        n = json.loads(l)
        if T.get(n["a"], {}).get("kind") != "good" or T.get(n["b"], {}).get("kind") != "good":
            problems.append(f"{root.name}: natural pair {n['a']} {n['b']} names a non-good item")
    print(f"{root.name}: {len(truth)} items checked")
for p in problems:
    print("problem:", p)
sys.exit(1 if problems else 0)
