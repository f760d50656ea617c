"""Tables for results.md from raw.json (see run.py)."""
import json, os, sys
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rows = json.load(open(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "raw.json")))
sets = []
for r in rows:
    if r["set"] not in sets:
        sets.append(r["set"])


def pm(v):
    v = np.asarray(v, float) * 100
    return f"{v.mean():+.1f} ± {v.std(ddof=1) if len(v) > 1 else 0:.1f}"


print("| set | pool | planted wrong labels | OOF accuracy | trusted (splits) | flags shown / raw CL | precision shown | precision raw CL | recall shown |")
print("|---|---|---|---|---|---|---|---|---|")
for s in sets:
    R = [r for r in rows if r["set"] == s]
    ps = [r["precision_gated"] for r in R if r["precision_gated"] is not None]
    pr = [r["precision_raw"] for r in R if r["precision_raw"] is not None]
    print(f"| {s} | {R[0]['pool']} | {np.mean([r['flips'] + r.get('moved', 0) for r in R]):.0f} | {np.mean([r['accuracy_oof'] for r in R]) * 100:.1f}% | "
          f"{sum(r['trustworthy'] for r in R)}/{len(R)} | {np.mean([r['gated'] for r in R]):.1f} / {np.mean([r['raw'] for r in R]):.1f} | "
          f"{(np.mean(ps) * 100 if ps else float('nan')):.0f}% | {(np.mean(pr) * 100 if pr else float('nan')):.0f}% | "
          f"{np.mean([r['recall_gated'] for r in R]) * 100:.0f}% |")
print()
print("Accuracy on the clean held-out 30%, paired difference against naive in points (mean ± sd over splits):")
print()
print("| set | naive | clean oracle | + review flagged (shown) | drop flagged (shown) | drop raw CL flags | share of oracle gain by review |")
print("|---|---|---|---|---|---|---|")
for s in sets:
    R = [r for r in rows if r["set"] == s]
    n = np.array([r["naive"] for r in R])
    d = lambda key: np.array([r[key] for r in R]) - n
    gain = d("oracle").mean()
    share = d("review").mean() / gain if gain > 0 else float("nan")
    print(f"| {s} | {n.mean() * 100:.1f}% | {pm(d('oracle'))} | {pm(d('review'))} | {pm(d('drop'))} | {pm(d('drop_raw'))} | {share * 100:.0f}% |")
print()
print("Slice verdicts on the planted slices (count of splits):")
print()
print("| set | starved class -> too-few-samples | relabelled class -> label-trouble | verdicts on other (healthy) classes |")
print("|---|---|---|---|")
for s in sets:
    R = [r for r in rows if r["set"] == s]
    st = sum(r["starved_verdict"] == "too-few-samples" for r in R)
    mv = [r for r in R if r.get("moved_to")]
    mvt = f"{sum(r['moved_verdict'] == 'label-trouble' for r in mv)}/{len(mv)}" if mv else "n/a (2 classes)"
    others = [f"split {r['split']}: {r['other_label_verdicts']}" for r in R if r["other_label_verdicts"]]
    print(f"| {s} | {st}/{len(R)} | {mvt} | {'; '.join(others) if others else 'none'} |")
