#!/usr/bin/env python3
"""Writes DATA/READY.md (default /work/curation-data) listing every set whose set.json exists."""
import json, sys
from pathlib import Path

data = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/curation-data")
sets = sorted(p for p in data.iterdir() if (p / "set.json").exists())
out = ["# Curation benchmark datasets (ready)", "",
       "Built by `bench/curation/build_sets.py` (branch `curbench`); scored by `bench/curation/evaluate.py`.",
       "Each set: `data/` is what you ingest; `truth.jsonl` has one row per item (`kind: good` or the planted "
       "defect, `of` = the item it was copied from); `natural.jsonl` lists natural look-alike pairs among the good "
       "items (not defects: merging them is counted neither right nor wrong); `set.json` has counts and provenance.",
       "", "Score a binary on all sets (fresh default project per set, nothing but the modality and the rulebook's "
       "labels set):", "", "```sh",
       "python3 /work/wt-curbench/bench/curation/evaluate.py --strata /path/to/strata --all --markdown",
       "python3 /work/wt-curbench/bench/curation/evaluate.py --strata /path/to/strata --set NAME --json   # details",
       "```", "", "| set | modality | items | good | defects planted | natural pairs |", "|---|---|---|---|---|---|"]
for p in sets:
    m = json.loads((p / "set.json").read_text())
    d = ", ".join(f"{k} {v}" for k, v in sorted(m["counts"].items()) if k != "good")
    out.append(f"| `{p}` | {m['modality']} | {m['items']} | {m['counts'].get('good', 0)} | {d} | {m['natural_pairs']} |")
out += ["", "## Per set: what it is and how to ingest it by hand", ""]
for p in sets:
    m = json.loads((p / "set.json").read_text())
    src = p.name.replace("_", "-")
    out.append(f"### {p.name}")
    out.append(f"{m['description']}. Labels: {m['labels']}. Source: {m['provenance']}. Good items per label: "
               f"{json.dumps(m['good_per_label'], ensure_ascii=False)}.")
    out.append("")
    out.append("```sh")
    out.append(f"strata init proj-{src} --modality {m['modality']}")
    out.append(f"# rulebook.yaml must list the labels: {', '.join(sorted(m['good_per_label']))}"
               f" (evaluate.py writes it)")
    if m["modality"] == "text":
        out.append(f"strata ingest {p}/data --source {src} --records --text-field text --label-field label "
                   f"--id-field id -C proj-{src}")
    else:
        out.append(f"strata ingest {p}/data --source {src} --meta {p}/data/labels.csv -C proj-{src}")
    out.append(f"strata run -C proj-{src}")
    out.append("```")
    out.append("")
(data / "READY.md.tmp").write_text("\n".join(out), encoding="utf-8")
(data / "READY.md.tmp").rename(data / "READY.md")
print(f"READY.md: {len(sets)} sets")
