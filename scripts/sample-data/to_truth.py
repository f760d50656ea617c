"""Converts `strata findings --json` into the sample data's truth vocabulary (see score.py)."""
import json, os, sys

data, findings_path = os.path.realpath(sys.argv[1]), sys.argv[2]
findings = json.load(open(findings_path))
sets = [f"{m}/{s}" for m in ("text", "images", "audio") for s in sorted(os.listdir(os.path.join(data, m)))
        if os.path.isdir(os.path.join(data, m, s))]

def locate(path):
    for s in sets:
        root = os.path.join(data, s) + "/"
        if path and path.startswith(root):
            return s, path[len(root):]
    return None, None

_lines = {}
def record_id(path, line):
    if path not in _lines:
        with open(path, "rb") as fh:
            _lines[path] = fh.read().split(b"\n")
    try:
        return json.loads(_lines[path][line - 1].decode("utf-8", "replace")).get("id")
    except Exception:
        return None

KIND = {  # strata kind -> truth kind (None: not a truth kind)
    "corrupt": "corrupt_truncated", "not-media": "not_media", "invalid-utf8": "invalid_utf8", "invalid-text": "nul_bytes",
    "missing-field": "missing_field", "missing-label": "missing_field", "duplicate-id": "duplicate_id",
    "unsafe-path": "path_traversal", "missing-file": "missing_file", "unlisted-file": "orphan_file",
    "wrong-extension": "wrong_extension", "wrong-encoding": "wrong_encoding", "bad-filename": "bad_filename",
    # pipeline (filter.quality) rejections
    "too-small": "tiny_image", "near-uniform": "blank_image", "mostly-silence": "silent_audio", "clipping": "clipped_audio",
    # strata analyze label-issues (out-of-fold model predictions)
    "label-issue": "label_flip",
}
import csv
_csv = {}
def manifest_file(path, line):
    """The file a manifest row (CSV, physical line) names."""
    if path not in _csv:
        with open(path, newline="", encoding="utf-8", errors="replace") as fh:
            text = fh.read().split("\n")
        _csv[path] = text
    row = next(csv.reader([_csv[path][line - 1]]), [])
    return row[0] if row else None

conflicts = set()
for f in findings:
    if f["kind"] != "conflicting-label":
        continue
    conflicts.add((f["origin"], f.get("line")))
    if f["origin"].endswith(".csv") and f.get("line"):
        named = manifest_file(f["origin"], f["line"])
        if named:
            conflicts.add((os.path.normpath(os.path.join(os.path.dirname(f["origin"]), named)), None))
dup_origins = {(f["origin"], f.get("line")) for f in findings if f["kind"] == "duplicate"}
out = []
for f in findings:
    s, rel = locate(f.get("origin"))
    if s is None:
        continue
    text = s.startswith("text/")
    line = f.get("line")
    k = f["kind"]
    rec = {"set": s}
    if k in ("duplicate", "near-duplicate"):
        rs, rrel = locate(f.get("related_origin"))
        kind = "conflicting_duplicate" if (f["origin"], line) in conflicts else "exact_duplicate"
        if k == "near-duplicate" or f.get("stage") != "ingest":
            kind = "near_duplicate"  # the pipeline's exact-dups stage compares normalized text: a near duplicate of the raw bytes
        if text:
            rec.update(kind=kind, file=rel, line=line, of=record_id(f["related_origin"], f["related_line"]))
            i = record_id(f["origin"], line)  # lets the scorer match a pair kept the other way round
            if i: rec["id"] = i
        else:
            rec.update(kind=kind, file=rel, of=rrel)
    elif k == "conflicting-label":
        if text or rel != "labels.csv":
            continue  # reported with the duplicate it belongs to
        named = manifest_file(f["origin"], line)
        if not named or (os.path.normpath(os.path.join(os.path.dirname(f["origin"]), named)), None) in dup_origins:
            continue
        rec.update(kind="conflicting_label", file=named)
    elif k == "invalid-label":
        rec.update(kind="wrong_type" if "expected a string" in f["reason"] else "invalid_label", file=rel, line=line)
        if rel == "labels.csv":
            rec = {"set": s, "kind": rec["kind"], "file": manifest_file(f["origin"], line)}
        if text: rec["id"] = record_id(f["origin"], line)
    elif k == "too-large":
        rec.update(kind="oversize_record" if text else "decompression_bomb", file=rel)
        if line is not None: rec["line"] = line
    elif k == "empty":
        rec.update(kind="empty_text" if line is not None else ("empty_file" if text or s.startswith("images") else "empty_file"), file=rel)
        if line is not None: rec["line"] = line
        if s.startswith("audio") and "no samples" in f["reason"]: rec["kind"] = "zero_length_audio"
    elif k == "malformed-row":
        rec.update(kind="malformed_json" if text else "malformed_row", file=rel, line=line)
        if text and "nested" in f["reason"]: rec["kind"] = "deeply_nested_json"
        if text and "expected a string" in f["reason"]: rec["kind"] = "wrong_type"
    elif k == "missing-file":
        continue  # located below by the file the row names
    elif k in KIND:
        rec.update(kind=KIND[k], file=rel)
        if line is not None: rec["line"] = line
        if text and line is not None and rel.endswith(".jsonl"):
            i = record_id(f["origin"], line)
            if i: rec["id"] = i
    else:
        continue
    out.append(rec)
# A row naming a missing file: the truth locates it by the file it names.
for f in findings:
    if f["kind"] == "missing-file":
        s, rel = locate(f.get("origin"))
        named = f["reason"].split("names ", 1)[-1].split(",")[0]
        ns, nrel = locate(named)
        if ns: out.append({"set": ns, "kind": "missing_file", "file": nrel})
for r in out:
    print(json.dumps(r))
