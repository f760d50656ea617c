"""Out-of-fold predictions for the sample data's label-issue check, as a user would make them.

usage: label_model.py SHARED_DIR OUT_DIR EXPORT_DIR...

Reads Strata's JSONL exports (id, content, label, metadata.source), and for each source with enough labels trains a
logistic regression with 5-fold cross-validation, so that every sample's probabilities come from a model that did
not see its label (what confident learning needs). Features: sentence embeddings (all-MiniLM-L6-v2 through the
shared data's offline embedder, no torch) for text; the 8x8 grey pixels for the digits. Icons and audio get no
model (their labels are not learnable from pixels or short clips with a linear model). Writes one
predictions file per source, `preds-<source>.jsonl`, in the format of `strata predictions import`.
"""
import json, os, sys
from collections import Counter, defaultdict

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

shared, out = sys.argv[1], sys.argv[2]
rows = defaultdict(list)
for export in sys.argv[3:]:
    for name in sorted(os.listdir(os.path.join(export, "data"))):
        if not name.endswith(".jsonl"):
            continue
        for line in open(os.path.join(export, "data", name), encoding="utf-8"):
            r = json.loads(line)
            if r.get("label"):
                r["_folder"] = export
                rows[r["metadata"]["source"]].append(r)


def text_features(rs):
    sys.path.insert(0, os.path.join(shared, "sample-data", "tools"))
    from embed_minilm import MiniLM
    return MiniLM().embed([r["content"] for r in rs])


def pixel_features(rs):
    from PIL import Image
    return np.array([np.asarray(Image.open(os.path.join(r["_folder"], r["content"])).convert("L").resize((8, 8)),
                                dtype=np.float32).ravel() / 255.0 for r in rs])


FEATURES = {"wordnet-glosses": text_features, "fortunes-multilang": text_features, "digits": pixel_features}
os.makedirs(out, exist_ok=True)
for source, rs in sorted(rows.items()):
    if source not in FEATURES:
        continue
    counts = Counter(r["label"] for r in rs)
    rs = [r for r in rs if counts[r["label"]] >= 5]  # a class needs a sample in every fold
    X, y = FEATURES[source](rs), np.array([r["label"] for r in rs])
    classes = sorted(set(y))
    probs = cross_val_predict(LogisticRegression(max_iter=5000, C=4.0), X, y,
                              cv=StratifiedKFold(5, shuffle=True, random_state=0), method="predict_proba")
    path = os.path.join(out, f"preds-{source}.jsonl")
    with open(path, "w") as fh:
        for r, p in zip(rs, probs):
            fh.write(json.dumps({"id": r["id"], "classes": classes, "probs": [round(float(v), 6) for v in p]}) + "\n")
    accuracy = float(np.mean(np.array(classes)[probs.argmax(1)] == y))
    print(f"{source}: {len(rs)} samples, {len(classes)} classes, out-of-fold accuracy {accuracy:.3f} -> {path}", file=sys.stderr)
