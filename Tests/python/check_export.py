"""Reads Strata's exports with the real readers and compares every value.

usage: check_export.py MODE INPUTS EXPORTS...
  MODE     text | image
  INPUTS   JSON list of what the test ingested: {"text": ...} or {"b64": ...}, and "label" (or null)
  EXPORTS  format=folder pairs: jsonl=DIR, csv=DIR, parquet=DIR (repeatable), webdataset=DIR

The JSONL export is checked against the inputs (content bytes hash to the id, labels match); every other
export is then compared with the JSONL export value by value: id, content, label, split, origin, metadata.
JSONL, CSV and Parquet exports are also loaded through their croissant.json with mlcroissant.
Prints one line per check; exits non-zero on the first difference.
"""
import base64, csv, glob, hashlib, json, os, sys

mode, inputs_path, exports = sys.argv[1], sys.argv[2], sys.argv[3:]
expected = {}
for r in json.load(open(inputs_path)):
    b = r["text"].encode("utf-8") if "text" in r else base64.b64decode(r["b64"])
    expected[hashlib.sha256(b).hexdigest()] = (b, r.get("label"))


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def same(a, b, where):
    if a != b:
        fail(f"{where}: {a!r} != {b!r}")


def check_manifest(folder, ext):
    m = json.load(open(os.path.join(folder, "manifest.json")))
    total = 0
    for s in m["shards"]:
        data = open(os.path.join(folder, s["path"]), "rb").read()
        same(hashlib.sha256(data).hexdigest(), s["sha256"], f"{s['path']} sha256")
        same(len(data), s["bytes"], f"{s['path']} size")
        total += s["samples"]
    same(total, m["samples"], "manifest sample count")
    same(sorted(glob.glob(os.path.join(folder, "data", "*." + ext))), sorted(os.path.join(folder, s["path"]) for s in m["shards"]), "shards listed")
    cr = json.load(open(os.path.join(folder, "croissant.json")))
    same(cr["@type"], "sc:Dataset", "croissant type")
    same("http://mlcommons.org/croissant/1.0" in cr["conformsTo"], True, "croissant conformsTo")
    shas = {d["contentUrl"]: d["sha256"] for d in cr["distribution"] if d["@type"] == "cr:FileObject"}
    same(shas, {s["path"]: s["sha256"] for s in m["shards"]}, "croissant distribution")
    card = open(os.path.join(folder, "README.md")).read()
    import yaml
    header = yaml.safe_load(card.split("---\n")[1])
    files = {c["split"]: c["path"] for c in header["configs"][0]["data_files"]}
    same(set(files), set(m["splits"]), "card splits")
    return m


def check_statistics(folder):
    """Every column chunk's statistics, as pyarrow reads them from the footer, against the chunk's own values:
    null count exact; min/max exact for values of at most 256 bytes, otherwise valid bounds (a prefix below the
    minimum, a value above the maximum; the footer marks them inexact, which pyarrow does not show)."""
    import pyarrow.parquet as pq
    checked = 0
    for f in sorted(glob.glob(os.path.join(folder, "data", "*.parquet"))):
        pf = pq.ParquetFile(f)
        md = pf.metadata
        for g in range(md.num_row_groups):
            table = pf.read_row_group(g)
            for c in range(md.num_columns):
                col = md.row_group(g).column(c)
                path = col.path_in_schema
                values = table.column(path.split(".")[0]).to_pylist()
                for part in path.split(".")[1:]:
                    values = [None if v is None else v[part] for v in values]
                st = col.statistics
                if st is None or not st.has_null_count:
                    fail(f"{f} row group {g} column {path}: no statistics")
                present = [v.encode("utf-8") if isinstance(v, str) else v for v in values if v is not None]
                same(st.null_count, len(values) - len(present), f"{f} row group {g} column {path} null_count")
                if not present:
                    same(st.has_min_max, False, f"{f} row group {g} column {path} has_min_max")
                    continue
                if not st.has_min_max:
                    fail(f"{f} row group {g} column {path}: no min/max")
                lo, hi = min(present), max(present)
                smin = st.min.encode("utf-8") if isinstance(st.min, str) else st.min
                smax = st.max.encode("utf-8") if isinstance(st.max, str) else st.max
                if len(lo) <= 256:
                    same(smin, lo, f"{f} row group {g} column {path} min")
                elif not lo.startswith(smin):
                    fail(f"{f} row group {g} column {path}: min {smin[:40]!r} is not an inexact prefix of {lo[:40]!r}")
                if len(hi) <= 256:
                    same(smax, hi, f"{f} row group {g} column {path} max")
                elif not smax > hi:
                    fail(f"{f} row group {g} column {path}: max {smax[:40]!r} is not an inexact bound above {hi[:40]!r}")
                checked += 1
    print(f"statistics: {checked} column chunks with min/max, all right")


def jsonl_rows(folder):
    rows = {}
    for f in sorted(glob.glob(os.path.join(folder, "data", "*.jsonl"))):
        for line in open(f, encoding="utf-8"):
            r = json.loads(line)
            if mode == "text":
                r["content"] = r["content"].encode("utf-8")
            else:
                r["content"] = open(os.path.join(folder, r["content"]), "rb").read()
            rows[r["id"]] = r
    return rows


def check_croissant(folder, fmt):
    """Loads the export through its croissant.json with mlcroissant (the MLCommons reference loader) and compares
    every record with the JSONL export: id, label, split and content (text, decoded image, or media file path)."""
    import logging, math
    logging.disable(logging.WARNING)  # mlcroissant warns about recommended fields (license, citeAs) we cannot know
    import mlcroissant as mlc

    def text(v):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return None
        v = v.decode("utf-8") if isinstance(v, bytes) else str(v)
        return v or None

    ds = mlc.Dataset(jsonld=os.path.join(folder, "croissant.json"))
    n = 0
    for r in ds.records(record_set="samples"):
        i = text(r["samples/id"])
        b = base.get(i)
        if b is None:
            fail(f"croissant ({fmt}): unknown id {i}")
        same(text(r["samples/label"]), b["label"], f"croissant ({fmt}) label of {i[:12]}")
        same(text(r["samples/split"]), b["split"], f"croissant ({fmt}) split of {i[:12]}")
        c = r["samples/content"]
        if mode == "text":
            same(c, b["content"], f"croissant ({fmt}) content of {i[:12]}")
        elif fmt == "parquet":
            import io
            from PIL import Image as PILImage
            same(c.size, PILImage.open(io.BytesIO(b["content"])).size, f"croissant ({fmt}) image size of {i[:12]}")
        else:
            same(open(os.path.join(folder, text(c)), "rb").read(), b["content"], f"croissant ({fmt}) file of {i[:12]}")
        n += 1
    same(n, len(base), f"croissant ({fmt}) record count")
    print(f"croissant ({fmt}): mlcroissant read {n} records, every id, label, split and content equal")


base = None
for item in exports:
    fmt, folder = item.split("=", 1)
    if fmt == "jsonl":
        check_manifest(folder, "jsonl")
        base = jsonl_rows(folder)
        same(set(base), set(expected), "ids in the JSONL export")
        for i, r in base.items():
            same(r["content"], expected[i][0], f"jsonl content {i[:12]}")
            same(r["label"], expected[i][1], f"jsonl label {i[:12]}")
            same(os.path.basename(glob.glob(os.path.join(folder, "data", r["split"] + "-*"))[0]).startswith(r["split"]), True, "split file")
        print(f"jsonl: {len(base)} rows match the inputs")
        check_croissant(folder, "jsonl")
        continue
    assert base is not None, "give jsonl=DIR first"

    def compare(rows, who):
        same(len(rows), len(base), f"{who} row count")
        for r in rows:
            b = base.get(r["id"])
            if b is None:
                fail(f"{who}: unknown id {r['id']}")
            for k in ("content", "label", "split", "origin", "metadata"):
                same(r[k], b[k], f"{who} {k} of {r['id'][:12]}")
        print(f"{who}: {len(rows)} rows, every value equal")

    def content_of(v):
        if mode == "text":
            return v.encode("utf-8") if v is not None else None
        return v["bytes"]

    if fmt == "parquet":
        m = check_manifest(folder, "parquet")
        import pyarrow.parquet as pq
        rows = []
        for f in sorted(glob.glob(os.path.join(folder, "data", "*.parquet"))):
            pf = pq.ParquetFile(f)
            for r in pf.read().to_pylist():
                r["content"] = content_of(r["content"])
                r["metadata"] = json.loads(r["metadata"])
                rows.append(r)
        compare(rows, f"pyarrow ({m['compression']})")
        check_croissant(folder, "parquet")
        check_statistics(folder)
        import duckdb
        con = duckdb.connect()
        res = con.execute(f"SELECT id, content, label, split, origin, metadata FROM read_parquet('{folder}/data/*.parquet')")
        rows = []
        for t in res.fetchall():
            c = t[1]
            if mode == "text":
                c = c.encode("utf-8")
            else:
                c = bytes(c["bytes"])
            rows.append({"id": t[0], "content": c, "label": t[2], "split": t[3], "origin": t[4], "metadata": json.loads(t[5])})
        compare(rows, f"duckdb ({m['compression']})")
        from datasets import load_dataset, Image, Audio
        ds = load_dataset("parquet", data_dir=os.path.join(folder, "data"))
        rows = []
        for split in ds:
            d = ds[split]
            if mode == "image":
                same(type(d.features["content"]).__name__, "Image", "datasets feature type")
                d = d.cast_column("content", Image(decode=False))
            for r in d:
                same(r["split"], split, "datasets split")
                r["content"] = content_of(r["content"])
                r["metadata"] = json.loads(r["metadata"])
                rows.append(r)
        compare(rows, f"datasets ({m['compression']})")
    elif fmt == "csv":
        check_manifest(folder, "csv")
        rows = []
        for f in sorted(glob.glob(os.path.join(folder, "data", "*.csv"))):
            with open(f, newline="", encoding="utf-8") as fh:
                for r in csv.DictReader(fh):
                    r["content"] = r["content"].encode("utf-8") if mode == "text" else open(os.path.join(folder, r["content"]), "rb").read()
                    r["label"] = r["label"] or None
                    r["metadata"] = json.loads(r["metadata"])
                    rows.append(r)
        compare(rows, "csv")
        check_croissant(folder, "csv")
    elif fmt == "webdataset":
        check_manifest(folder, "tar")
        import webdataset as wds
        urls = sorted(glob.glob(os.path.join(folder, "data", "*.tar")))
        rows = []
        for s in wds.WebDataset(urls, shardshuffle=False):
            meta = json.loads(s["json"])
            content = s.get("txt") or s.get("png") or s.get("jpg") or s.get("wav") or s.get("flac")
            if "cls" in s:
                same(int(s["cls"]), meta["label_index"], "cls entry")
            rows.append({"id": meta["id"], "content": content, "label": meta["label"], "split": meta["split"],
                         "origin": meta["origin"], "metadata": meta["metadata"]})
        compare(rows, "webdataset")
    else:
        fail("unknown format " + fmt)
print("OK")
