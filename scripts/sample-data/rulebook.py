"""Writes a rulebook whose labels are the clean label sets of the shared sample data."""
import csv, json, sys
from pathlib import Path

clean = Path(sys.argv[1]).parent / "clean"
labels = set()
for f in (clean / "text").glob("*.jsonl"):
    for line in f.read_text(encoding="utf-8").splitlines():
        labels.add(json.loads(line)["label"])
for f in clean.glob("*/*/labels.csv"):
    with f.open(newline="", encoding="utf-8") as fh:
        labels.update(row["label"] for row in csv.DictReader(fh))
print("version: 1\nlabels:")
for name in sorted(labels):
    print(f"  - name: {json.dumps(name)}\n    definition: {json.dumps('the sample is ' + name)}")
