#!/usr/bin/env python3
"""Near-duplicate peers on the curation benchmark's sets, scored exactly like Strata (evaluate.score_core):

  text:   datasketch MinHash + MinHashLSH at the documented defaults (MinHash num_perm=128; MinHashLSH
          threshold=0.9; tokens as in the documentation's example: the words of the text, split on whitespace).
          Also, labelled as a variant, character 5-grams at threshold 0.5.
  images: imagededup PHash and DHash `find_duplicates` at the documented default max_distance_threshold=10
          (imagededup's own hashing code; torch, which it imports for its CNN method only, is replaced by empty
          stand-in modules when missing, see load_imagededup), and imagehash phash (64-bit default) at the same
          threshold.

Every peer sees the items in file order and keeps the first of a group: an item is removed when it matches an item
kept before it, and the pair (removed -> kept) is reported, as Strata's `keep: first` does. Byte-identical pairs
are "exact" (not counted in near-duplicate precision, used for linking, as Strata's ingest pairs are). Empty
texts are left out (any loader rejects them; Strata's ingest does). Audio has no peer here.

    /work/venv-curbench/bin/python peers.py [--data /work/curation-data] [--all | --set NAME ...] [--json]
"""
import argparse, hashlib, json, re, sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate import score_core, fmt


def load(root):
    truth = [json.loads(l) for l in open(root / "truth.jsonl", encoding="utf-8")]
    natural = [json.loads(l) for l in open(root / "natural.jsonl", encoding="utf-8")]
    return truth, natural


def keep_first(items, key_exact, match):
    """items in order; match(i) -> index of an earlier kept item or None, given the kept list."""
    removed, edges, kept = {}, [], []
    seen = {}
    for it in items:
        k = key_exact(it)
        if k in seen:
            removed[it] = ("duplicate", "exact", "ingest", seen[k])
            edges.append((it, seen[k], "ingest", "exact"))
            continue
        seen[k] = it
        m = match(it)
        if m is not None:
            removed[it] = ("duplicate", "near", "peer", m)
            edges.append((it, m, "peer", "near"))
            continue
        kept.append(it)
    return removed, edges


def text_peer(root, name, variant):
    from datasketch import MinHash, MinHashLSH
    rows = [json.loads(l) for l in open(root / "data" / f"{name}.jsonl", encoding="utf-8")]
    rows = [r for r in rows if r["text"].strip()]
    text = {r["id"]: r["text"] for r in rows}
    if variant == "default":
        lsh = MinHashLSH(threshold=0.9, num_perm=128)

        def tokens(t):
            return set(t.split())
    else:
        lsh = MinHashLSH(threshold=0.5, num_perm=128)

        def tokens(t):
            t = " ".join(t.split())
            return {t[i:i + 5] for i in range(max(1, len(t) - 4))}
    mh = {}

    def match(i):
        m = MinHash(num_perm=128)
        for tok in tokens(text[i]):
            m.update(tok.encode("utf8"))
        mh[i] = m
        c = lsh.query(m)
        if c:
            return min(c, key=order.get)
        lsh.insert(i, m)
        return None
    order = {r["id"]: n for n, r in enumerate(rows)}
    return keep_first([r["id"] for r in rows], lambda i: text[i], match)


def image_peer(root, which):
    import imagehash
    from PIL import Image
    files = sorted(p.name for p in (root / "data").iterdir() if p.name != "labels.csv")
    fn = imagehash.phash if which == "phash" else imagehash.dhash
    hashes, kept = {}, []
    good_files = []
    for f in files:
        try:
            with Image.open(root / "data" / f) as im:
                hashes[f] = fn(im)
            good_files.append(f)
        except Exception:
            pass

    def match(f):
        h = hashes[f]
        best = None
        for k in kept:
            if h - hashes[k] <= 10:
                best = k
                break
        if best is None:
            kept.append(f)
        return best
    data = {f: hashlib.sha256((root / "data" / f).read_bytes()).hexdigest() for f in good_files}
    return keep_first(good_files, lambda f: data[f], match)


def load_imagededup():
    """imagededup's hashing methods (PHash, DHash) without torch: the package imports torch and torchvision at the
    top for its CNN method, which this benchmark does not use and this machine does not have. Empty stand-in modules
    satisfy those imports; the hashing code that runs is imagededup's own. scikit-learn and scipy are imported
    first so that they do not see the stand-ins."""
    import types
    import sklearn.metrics.pairwise, scipy.stats  # noqa: F401

    class _Any:
        def __init__(self, *a, **k): pass
        def __call__(self, *a, **k): return _Any()
        def __getattr__(self, n): return _Any()
        def __mro_entries__(self, bases): return (object,)

    class _Mod(types.ModuleType):
        __path__ = []

        def __getattr__(self, n):
            if n.startswith("__"):
                raise AttributeError(n)
            return _Any()
    try:
        import torch  # noqa: F401  (a real torch, if installed, is used as is)
    except ImportError:
        for name in ("torch", "torch.nn", "torch.utils", "torch.utils.data", "torchvision", "torchvision.transforms",
                     "torchvision.models", "torchvision.models.vision_transformer"):
            sys.modules.setdefault(name, _Mod(name))
    import logging
    logging.disable(logging.WARNING)
    from imagededup.methods import PHash, DHash
    return PHash, DHash


def imagededup_peer(root, which):
    """imagededup find_duplicates at its documented defaults (max_distance_threshold=10), then keep-first in file
    order over the duplicate lists it returns."""
    PHash, DHash = load_imagededup()
    method = (PHash if which == "phash" else DHash)(verbose=False)
    dups = method.find_duplicates(image_dir=str(root / "data"), num_enc_workers=1, num_dist_workers=1)
    files = sorted(f for f in dups)
    kept = []

    def match(f):
        partners = set(dups.get(f, []))
        for k in kept:
            if k in partners:
                return k
        kept.append(f)
        return None
    data = {f: hashlib.sha256((root / "data" / f).read_bytes()).hexdigest() for f in files}
    return keep_first(files, lambda f: data[f], match)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="/work/curation-data")
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    data = Path(a.data)
    names = a.set or sorted(p.name for p in data.iterdir() if (p / "set.json").exists())
    out = []
    for n in names:
        root = data / n
        meta = json.loads((root / "set.json").read_text())
        truth, natural = load(root)
        if meta["modality"] == "text":
            peers = [("datasketch MinHashLSH (defaults: words, threshold 0.9)", lambda: text_peer(root, n, "default")),
                     ("datasketch, variant: char 5-grams, threshold 0.5", lambda: text_peer(root, n, "chars"))]
        elif meta["modality"] == "image":
            peers = [("imagededup PHash find_duplicates (default threshold 10)", lambda: imagededup_peer(root, "phash")),
                     ("imagededup DHash find_duplicates (default threshold 10)", lambda: imagededup_peer(root, "dhash")),
                     ("imagehash phash, distance <= 10", lambda: image_peer(root, "phash"))]
        else:
            continue
        for label, fn in peers:
            removed, edges = fn()
            sc = score_core(truth, natural, removed, edges)
            out.append(dict(set=n, modality=meta["modality"], peer=label, near=sc["near"],
                            good_removed=sc["false_removals"], good=sc["good"]))
    if a.json:
        print(json.dumps(out, indent=1))
        return
    pooled = {}
    for r in out:
        k = (r["modality"], r["peer"])
        a = pooled.setdefault(k, [0, 0, 0, 0, 0, 0])
        nr = r["near"]
        for n, v in enumerate((nr["true_pairs"], nr["false_pairs"], nr["found"], nr["planted"], r["good_removed"],
                               r["good"])):
            a[n] += v
    print("| set | peer | near-dup P | near-dup R | F1 | pairs true/false | good items removed as duplicates |")
    print("|---|---|---|---|---|---|---|")
    for r in out:
        nr = r["near"]
        print(f"| {r['set']} | {r['peer']} | {fmt(nr['precision'])} | {fmt(nr['recall'])} | {fmt(nr['f1'])} | "
              f"{nr['true_pairs']}/{nr['false_pairs']} | {r['good_removed']} of {r['good']} |")
    print()
    print("| modality | peer | near-dup P | near-dup R | F1 | pairs true/false | good items removed as duplicates |")
    print("|---|---|---|---|---|---|---|")
    for (m, peer), (tp, fp, fo, pl, gr, g) in sorted(pooled.items()):
        p = tp / (tp + fp) if tp + fp else None
        rc = fo / pl if pl else None
        f1 = 2 * p * rc / (p + rc) if p and rc else None
        print(f"| {m} | {peer} | {fmt(p)} | {fmt(rc)} | {fmt(f1)} | {tp}/{fp} | {gr} of {g} |")



if __name__ == "__main__":
    main()
