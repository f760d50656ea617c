#!/bin/sh
# Builds a project from the shared sample data (../shared/sample-data/dirty) with the pipeline `strata init`
# writes, unchanged: every set as its own source, labels from its manifest (a rulebook naming every label).
# Usage: sample-project.sh STRATA DIR
set -eu
S=$1; P=$2; D=${SAMPLE_DATA:-/work/shared/sample-data/dirty}
rm -rf "$P"; "$S" init "$P" --modality text,image,audio >/dev/null
python3 - "$D" "$P/rulebook.yaml" <<'PY'
import csv, glob, json, re, sys
d, out = sys.argv[1], sys.argv[2]
labels = set()
for f in glob.glob(d + "/*/*/labels.csv"):
    for r in csv.DictReader(open(f)): labels.add(r.get("label", ""))
for f in glob.glob(d + "/text/*/*.jsonl"):
    for line in open(f, errors="replace"):
        try: labels.add(str(json.loads(line).get("label", "")))
        except Exception: pass
labels = sorted(l for l in labels if re.fullmatch(r"[a-z0-9_.\-]+", l or ""))
with open(out, "w") as o:
    o.write("version: 1\nlabels:\n")
    for l in labels: o.write(f"  - name: {l}\n    definition: \"{l}\"\n")
PY
cd "$P"
for s in digits icons photos; do "$S" ingest "$D/images/$s" --source "$s" --meta "$D/images/$s/labels.csv" >/dev/null 2>&1 || true; done
for s in keywords instruments; do "$S" ingest "$D/audio/$s" --source "$s" --meta "$D/audio/$s/labels.csv" >/dev/null 2>&1 || true; done
for s in fortunes_multilang wordnet_glosses; do
  "$S" ingest "$D/text/$s" --source "$(echo $s | tr _ -)" --records --text-field text --label-field label --id-field id >/dev/null 2>&1 || true
done
"$S" status | head -1
