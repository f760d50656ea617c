"""Outcome benchmark for issue 19 (partial): label-issue gating and slice verdicts on real labelled sets with planted
label flips and a starved class, judged by the accuracy of a simple model trained on what each arm produces.

Drives the built strata binary (init, ingest, predictions import, analyze label-issues / errors). Models: logistic
regression on features (pixels / tabular) or TF-IDF (text), scikit-learn. Usage:
  /work/venv-outcome/bin/python bench/outcome/run.py [--splits 5] [--out bench/outcome/raw.json]
"""
import argparse, json, os, subprocess, sys, tempfile
import numpy as np
from sklearn import datasets
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
STRATA = os.path.join(HERE, "..", "..", ".build", "debug", "strata")
SHARED = "/work/shared/sample-data/clean/text"


def load_sets():
    out = []
    for name, loader in [("digits", datasets.load_digits), ("wine", datasets.load_wine),
                         ("breast_cancer", datasets.load_breast_cancer), ("iris", datasets.load_iris)]:
        d = loader()
        names = [str(n).replace(" ", "_") for n in d.target_names]
        out.append(dict(name=name, source="pypi:scikit-learn " + name, kind="features", X=np.asarray(d.data, float),
                        y=np.asarray(d.target), classes=names))
    for name in ["wordnet_glosses", "fortunes_multilang"]:
        rows = [json.loads(l) for l in open(os.path.join(SHARED, name + ".jsonl"), encoding="utf-8")]
        classes = sorted({r["label"] for r in rows})
        out.append(dict(name=name, source="shared sample-data " + name, kind="text", X=np.array([r["text"] for r in rows], dtype=object),
                        y=np.array([classes.index(r["label"]) for r in rows]), classes=classes))
    return out


def model(kind):
    if kind == "text":
        return make_pipeline(TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=1), LogisticRegression(max_iter=2000, C=10))
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))


def accuracy(kind, X, y, Xt, yt):
    if len(set(y)) < 2:
        return float("nan")
    m = model(kind).fit(X, y)
    return float((m.predict(Xt) == yt).mean())


def run(cmd, cwd=None, ok=(0,)):
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if r.returncode not in ok:
        raise RuntimeError(f"{' '.join(cmd)} -> {r.returncode}\n{r.stderr}\n{r.stdout[:2000]}")
    return r.stdout


def strata_judgement(ds, Xp, yp, probs, work):
    """Project with the dirty pool, OOF probabilities imported; returns gated issues, raw issues, trust, verdicts."""
    proj = os.path.join(work, "p")
    run([STRATA, "init", proj, "--modality", "text"])
    classes = ds["classes"]
    with open(os.path.join(proj, "rulebook.yaml"), "w") as f:
        f.write("version: 1\nlabels:\n" + "".join(f"  - {{name: \"{c}\", definition: \"class {c}\"}}\n" for c in classes)
                + "policies:\n  unclear: {action: escalate}\n  no_fit: {action: skip}\nannotators_per_sample: 1\n")
    os.makedirs(os.path.join(work, "in"))
    with open(os.path.join(work, "in", "pool.jsonl"), "w", encoding="utf-8") as f:
        for i, (x, l) in enumerate(zip(Xp, yp)):
            text = x if ds["kind"] == "text" else " ".join(f"{v:g}" for v in x)
            f.write(json.dumps({"id": f"s{i}", "text": f"[{i}] {text}", "label": classes[l]}) + "\n")
    with open(os.path.join(work, "preds.jsonl"), "w") as f:
        for i, p in enumerate(probs):
            f.write(json.dumps({"id": f"s{i}", "classes": classes, "probs": [float(v) for v in p]}) + "\n")
    run([STRATA, "ingest", os.path.join(work, "in"), "--source", ds["name"].replace("_", "-"), "--records", "--label-field", "label", "--id-field", "id"], cwd=proj)
    run([STRATA, "predictions", "import", os.path.join(work, "preds.jsonl"), "--model", "lr"], cwd=proj)
    li = json.loads(run([STRATA, "analyze", "label-issues", "--json", "--limit", "0"], cwd=proj))
    errors = json.loads(run([STRATA, "analyze", "errors", "--json"], cwd=proj, ok=(0, 1)))
    # Raw confident learning (no gate): the array path.
    np.save(os.path.join(work, "p.npy"), np.asarray(probs, dtype=np.float64))
    np.save(os.path.join(work, "l.npy"), np.asarray(yp, dtype=np.int64))
    raw = [int(v) for v in run([STRATA, "analyze", "label-issues", "--probs-npy", os.path.join(work, "p.npy"),
                                 "--labels-npy", os.path.join(work, "l.npy")]).split()]
    gated = [int(i["origin_line"]) if "origin_line" in i else int(i["line"]) - 1 for i in li["issues"]]
    verdicts = {(r["kind"], r["slice"]): r["cause"] for r in errors["recommendations"] if r["cause"] != "fine"}
    return gated, raw, li["trust"], li["withheld"], verdicts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--splits", type=int, default=5)
    ap.add_argument("--flip", type=float, default=0.08)
    ap.add_argument("--out", default=os.path.join(HERE, "raw.json"))
    ap.add_argument("--sets", default="", help="comma-separated set names (default: all)")
    a = ap.parse_args()
    results = []
    for ds in load_sets():
        if a.sets and ds["name"] not in a.sets.split(","):
            continue
        X, y, k = ds["X"], ds["y"], len(ds["classes"])
        for split in range(a.splits):
            rng = np.random.default_rng(1000 + split)
            Xp, Xt, yp_true, yt = train_test_split(X, y, test_size=0.3, stratify=y, random_state=split)
            # A starved class: the last class keeps 15% of its pool samples (at least 6).
            starved = k - 1
            idx = np.where(yp_true == starved)[0]
            drop = rng.choice(idx, size=max(0, len(idx) - max(6, int(0.15 * len(idx)))), replace=False)
            keep = np.setdiff1d(np.arange(len(yp_true)), drop)
            Xp, yp_true = Xp[keep], yp_true[keep]
            # Label flips: a share of the pool moved to another class at random.
            yp = yp_true.copy()
            flips = rng.choice(len(yp), size=int(a.flip * len(yp)), replace=False)
            for i in flips:
                yp[i] = (yp[i] + 1 + rng.integers(k - 1)) % k
            # A relabelled slice (with 3+ classes): 15% of class 0's pool samples systematically labeled class 1.
            moved = []
            if k >= 3:
                idx0 = [i for i in np.where(yp_true == 0)[0] if i not in set(flips.tolist())]
                moved = rng.choice(idx0, size=max(5, int(0.15 * len(idx0))), replace=False)
                yp[moved] = 1
            flipped = set(int(i) for i in flips) | set(int(i) for i in moved)
            n_folds = min(5, int(np.bincount(yp, minlength=k).min())) if np.bincount(yp, minlength=k).min() >= 2 else 2
            probs = cross_val_predict(model(ds["kind"]), Xp, yp, cv=StratifiedKFold(max(2, n_folds), shuffle=True, random_state=split),
                                      method="predict_proba")
            with tempfile.TemporaryDirectory() as work:
                gated, raw, trust, withheld, verdicts = strata_judgement(ds, Xp, yp, probs, work)

            def prec(fl):
                return (sum(1 for i in fl if i in flipped) / len(fl)) if fl else None
            # Arms.
            naive = accuracy(ds["kind"], Xp, yp, Xt, yt)
            oracle = accuracy(ds["kind"], Xp, yp_true, Xt, yt)
            reviewed = yp.copy()
            for i in gated:
                reviewed[i] = yp_true[i]  # a person looks at each flagged sample and gives its true label
            review = accuracy(ds["kind"], Xp, reviewed, Xt, yt)
            keep = np.setdiff1d(np.arange(len(yp)), gated)
            dropped = accuracy(ds["kind"], Xp[keep], yp[keep], Xt, yt)
            raw_keep = np.setdiff1d(np.arange(len(yp)), raw)
            dropped_raw = accuracy(ds["kind"], Xp[raw_keep], yp[raw_keep], Xt, yt)
            starved_name = ds["classes"][starved]
            label_verdicts = {s: c for (kd, s), c in verdicts.items() if kd == "label"}
            results.append(dict(set=ds["name"], kind=ds["kind"], split=split, pool=len(yp), flips=len(flipped), classes=k,
                                trustworthy=trust["trustworthy"], accuracy_oof=trust["accuracy"]["value"], skill=trust["skill"],
                                ece=trust.get("calibration_error"), gated=len(gated), withheld=withheld, raw=len(raw),
                                precision_gated=prec(gated), precision_raw=prec(raw),
                                recall_gated=sum(1 for i in gated if i in flipped) / max(1, len(flipped)),
                                naive=naive, oracle=oracle, review=review, drop=dropped, drop_raw=dropped_raw,
                                starved_class=starved_name, starved_verdict=label_verdicts.get(starved_name),
                                moved_to=ds["classes"][1] if k >= 3 else None, moved=len(moved),
                                moved_verdict=label_verdicts.get(ds["classes"][1]) if k >= 3 else None,
                                other_label_verdicts={s: c for s, c in label_verdicts.items() if s != starved_name and not (k >= 3 and s == ds["classes"][1])}))
            r = results[-1]
            print(f"{ds['name']:<20} split {split}: oof {r['accuracy_oof']:.3f} trust {r['trustworthy']} flags {r['gated']}/{r['raw']} "
                  f"prec {r['precision_gated']} / {r['precision_raw']}  naive {naive:.3f} oracle {oracle:.3f} review {review:.3f} "
                  f"drop {dropped:.3f}  starved {r['starved_verdict']} moved {r['moved_verdict']} others {r['other_label_verdicts']}", flush=True)
    json.dump(results, open(a.out, "w"), indent=1)


if __name__ == "__main__":
    main()
