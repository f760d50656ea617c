#!/usr/bin/env python3
"""Scores a `strata` binary's DEFAULT curation pipeline on the curation benchmark's datasets (and on the shared
sample data), from Strata's own outputs (`strata quarantine list --json`, `strata findings --json`).

    python3 evaluate.py --strata PATH [--data /work/curation-data] [--set NAME ... | --all]
                        [--shared /work/shared/sample-data/dirty] [--json] [--markdown] [--keep]

Per set, as a new user would: `strata init` with the set's modality (the only setting chosen), a rulebook
listing the set's labels (so the labels of labels.csv / the label field can be imported; nothing else in the
project's settings or pipeline.yaml is touched), `strata ingest`, `strata run`. Then, against truth.jsonl:

  false removals   good items quarantined, or removed as a duplicate of an item that is not of their family
                   (a family is an original and the copies made of it); pairs listed in natural.jsonl are not
                   counted either way
  class loss       per label, the share of its good items removed; the worst label is reported
  near dups        precision over the duplicate pairs the pipeline stages reported (removed -> kept), recall over
                   the planted near duplicates (found when linked to their family by the pipeline's duplicate
                   pairs, ingest's exact pairs included), F1
  defect recall    per planted kind: exact_duplicate (removed as a duplicate of its family), empty_text,
                   garbage_text, blank_image, tiny_image, silent_audio, clipped_audio (removed at all: quarantined
                   or removed as a duplicate), with the reasons Strata gave
Exit status 0 when every set was evaluated (the scores are the result, not a pass/fail), 2 on usage errors and
when a strata command failed in a way that left nothing to score.
"""
import argparse, collections, csv, json, os, shutil, subprocess, sys, tempfile, time
from pathlib import Path

DUP_KINDS = {"duplicate", "near-duplicate"}
MOD_FLAG = {"text": "text", "image": "image", "audio": "audio"}


def sh(cmd, check=True):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {p.returncode}:\n{p.stderr[-2000:]}\n{p.stdout[-2000:]}")
    return p


def rulebook(labels):
    out = ["version: 1", "labels:"]
    for n in sorted(labels):
        out.append(f"  - name: {json.dumps(n)}")
        out.append(f"    definition: {json.dumps('The sample is ' + n + '.')}")
    return "\n".join(out) + "\n"


class Union:
    def __init__(self):
        self.p = {}

    def find(self, a):
        self.p.setdefault(a, a)
        while self.p[a] != a:
            self.p[a] = self.p[self.p[a]]
            a = self.p[a]
        return a

    def union(self, a, b):
        self.p[self.find(a)] = self.find(b)


def run_strata(strata, proj, modality, data, labels, source, records):
    t0 = time.time()
    sh([strata, "init", str(proj), "--modality", modality])
    (proj / "rulebook.yaml").write_text(rulebook(labels), encoding="utf-8")
    if records:
        ing = sh([strata, "ingest", str(data), "--source", source, "--date", "2026-12-07", "--records",
                  "--text-field", "text", "--label-field", "label", "--id-field", "id", "-C", str(proj), "--json"])
    else:
        ing = sh([strata, "ingest", str(data), "--source", source, "--date", "2026-12-07", "--meta",
                  str(data / "labels.csv"), "-C", str(proj), "--json"])
    t1 = time.time()
    run = sh([strata, "run", "-C", str(proj)], check=False)
    t2 = time.time()
    findings = json.loads(sh([strata, "findings", "-C", str(proj), "--json"]).stdout)
    quarantine = json.loads(sh([strata, "quarantine", "list", "-C", str(proj), "--json"]).stdout)
    return dict(ingest_json=ing.stdout, run_rc=run.returncode, run_out=run.stdout, run_err=run.stderr,
                findings=findings, quarantine=quarantine, ingest_s=round(t1 - t0, 2), run_s=round(t2 - t1, 2))


def locate_factory(data: Path, records: bool):
    lines = {}

    def locate(origin, line):
        if origin is None:
            return None
        p = Path(origin)
        try:
            rel = p.resolve().relative_to(data.resolve())
        except ValueError:
            return None
        if records:
            if line is None:
                return None
            if p not in lines:
                lines[p] = p.read_bytes().split(b"\n")
            try:
                return json.loads(lines[p][line - 1].decode("utf-8")).get("id")
            except Exception:
                return None
        return str(rel)
    return locate


CHANGES = [("replaced", "words/characters replaced"), ("punctuation", "punctuation"), ("case", "case"),
           ("jpeg q", "re-encode"), ("re-encoded", "re-encode"), ("resized", "resize"), ("cropped", "crop"),
           ("brightness", "brightness"), ("noise", "noise"), ("gain", "gain"), ("trimmed", "trim"),
           ("resampled", "resample"), ("exclamation", "punctuation")]


def change_of(detail):
    for key, name in CHANGES:
        if key in detail:
            return name
    return detail


def score_set(root: Path, res: dict, records: bool):
    truth = [json.loads(l) for l in open(root / "truth.jsonl", encoding="utf-8")]
    natural = [json.loads(l) for l in open(root / "natural.jsonl", encoding="utf-8")]
    T = {t["item"]: t for t in truth}
    family = {t["item"]: (t["of"] or t["item"]) for t in truth}
    nat = {frozenset((n["a"], n["b"])) for n in natural}
    locate = locate_factory(root / "data", records)

    removed = {}  # item -> (how, reason kind, stage, kept item or None)
    unmapped = []  # quarantine entries that name no truth item (a mapping problem, or a manifest row)
    for q in res["quarantine"]:
        it = locate(q.get("origin"), q.get("line"))
        if it is not None and it in T:
            removed.setdefault(it, ("quarantine", q["kind"], q.get("stage"), None))
        else:
            unmapped.append(f"{q['kind']}: {q.get('origin')}:{q.get('line')}")
    edges = []  # (removed, kept, stage, kind)
    for f in res["findings"]:
        if f["kind"] not in DUP_KINDS:
            continue
        a = locate(f.get("origin"), f.get("line"))
        b = locate(f.get("related_origin"), f.get("related_line"))
        if a is None or a not in T:
            continue
        edges.append((a, b, f.get("stage"), f["kind"]))
        removed.setdefault(a, ("duplicate", f["kind"], f.get("stage"), b))

    sc = score_core(truth, natural, removed, edges)
    sc["unmapped_quarantine"] = unmapped[:10]
    sc["unmapped_quarantine_count"] = len(unmapped)
    return sc


def score_core(truth, natural, removed, edges):
    """removed: item -> (how, reason kind, stage, kept item or None); edges: (removed, kept, stage, kind), stage
    "ingest" for byte-exact pairs (not counted in near-duplicate precision)."""
    T = {t["item"]: t for t in truth}
    family = {t["item"]: (t["of"] or t["item"]) for t in truth}
    nat = {frozenset((n["a"], n["b"])) for n in natural}

    def same_family(a, b):
        return b is not None and b in family and family[a] == family[b]

    # false removals of good items
    good = [t for t in truth if t["kind"] == "good"]
    false_rm, fr_reasons = [], collections.Counter()
    for t in good:
        r = removed.get(t["item"])
        if r is None:
            continue
        if r[0] == "duplicate" and (same_family(t["item"], r[3]) or frozenset((t["item"], r[3])) in nat):
            continue
        false_rm.append(t["item"])
        fr_reasons[f"{r[1]}@{r[2]}"] += 1
    per_label = collections.defaultdict(lambda: [0, 0])
    for t in good:
        per_label[t["label"]][0] += 1
        if t["item"] in false_rm:
            per_label[t["label"]][1] += 1
    # the worst label among labels with at least 5 good items (one lost icon of a 1-item label is not a class)
    sized = {k: v for k, v in per_label.items() if v[0] >= 5} or per_label
    worst = max(sized.items(), key=lambda kv: kv[1][1] / kv[1][0])

    # near duplicates: pairs reported by pipeline stages (not ingest's byte-exact pairs)
    tp = fp = neutral = 0
    fp_examples = []
    for a, b, stage, kind in edges:
        if stage == "ingest":
            continue
        if same_family(a, b):
            tp += 1
        elif b is not None and frozenset((a, b)) in nat:
            neutral += 1
        else:
            fp += 1
            if len(fp_examples) < 5:
                fp_examples.append([a, b])
    near = [t for t in truth if t["kind"] == "near_duplicate"]
    # found: a reported pair links it directly to a member of its family. Being removed in favour of the same
    # outside item as a member does not count: with keep-one-per-group reporting that only happens when the group
    # also swallowed an unrelated item, and it would let one large false group score recall.
    direct = {frozenset((a, b)) for a, b, stage, kind in edges if b is not None}
    fam_members = collections.defaultdict(list)
    for t in truth:
        fam_members[family[t["item"]]].append(t["item"])

    def linked(i):
        return any(m != i and frozenset((i, m)) in direct for m in fam_members[family[i]])
    found = [t for t in near if linked(t["item"])]
    prec = tp / (tp + fp) if tp + fp else None
    rec = len(found) / len(near) if near else None
    f1 = (2 * prec * rec / (prec + rec)) if prec and rec else (0.0 if prec is not None and rec is not None else None)
    missed_by_op = collections.Counter(change_of(t.get("detail", "")) for t in near if t not in found)

    # defects
    defects = {}
    for kind in ("exact_duplicate", "empty_text", "garbage_text", "blank_image", "tiny_image", "silent_audio",
                 "clipped_audio"):
        xs = [t for t in truth if t["kind"] == kind]
        if not xs:
            continue
        if kind == "exact_duplicate":
            caught = [t for t in xs if linked(t["item"])]
        else:
            caught = [t for t in xs if t["item"] in removed]
        reasons = collections.Counter(f"{removed[t['item']][1]}" for t in caught if t["item"] in removed)
        defects[kind] = dict(n=len(xs), caught=len(caught), recall=round(len(caught) / len(xs), 3),
                             reasons=dict(reasons))
    return dict(
        items=len(truth), good=len(good), false_removals=len(false_rm),
        false_removal_share=round(len(false_rm) / len(good), 4) if good else None,
        false_removal_reasons=dict(fr_reasons), false_removal_examples=false_rm[:5],
        worst_label=worst[0], worst_label_loss=round(worst[1][1] / worst[1][0], 3),
        per_label_loss={k: f"{v[1]}/{v[0]}" for k, v in sorted(per_label.items())},
        near=dict(planted=len(near), found=len(found), pairs_reported=tp + fp + neutral, true_pairs=tp, false_pairs=fp,
                  natural_pairs=neutral, precision=None if prec is None else round(prec, 3),
                  recall=None if rec is None else round(rec, 3), f1=None if f1 is None else round(f1, 3),
                  false_pair_examples=fp_examples, missed_by_change=dict(missed_by_op)),
        defects=defects)


def evaluate_set(strata, data_root: Path, name: str, work: Path):
    root = data_root / name
    meta = json.loads((root / "set.json").read_text())
    truth = [json.loads(l) for l in open(root / "truth.jsonl", encoding="utf-8")]
    labels = {t["label"] for t in truth}
    records = meta["modality"] == "text"
    proj = work / name
    res = run_strata(strata, proj, meta["modality"], root / "data", labels, name.replace("_", "-"), records)
    sc = score_set(root, res, records)
    sc.update(set=name, modality=meta["modality"], run_rc=res["run_rc"], ingest_s=res["ingest_s"], run_s=res["run_s"],
              run_summary=(res["run_out"].strip().splitlines() + [""])[-1][:200] if res["run_rc"] == 0 else
              (res["run_err"] or res["run_out"]).strip()[-600:], project=str(proj))
    return sc


WRONG = {"text": ("clean.text", "min_length", "100000"), "image": ("filter.quality", "image_min_width", "100000"),
         "audio": ("filter.quality", "audio_min_seconds", "600")}


def set_param(pipe: str, uses: str, key: str, value: str) -> str:
    """Sets `key: value` in the flow-style params map of the first stage that `uses` this kind (the template's
    layout: `uses:` then `params: {...}` on the next lines)."""
    import re
    lines = pipe.split("\n")
    for i, line in enumerate(lines):
        if f"uses: {uses}" in line:
            for j in range(i + 1, min(i + 4, len(lines))):
                if "params: {" in lines[j]:
                    if re.search(rf"\b{key}:", lines[j]):
                        lines[j] = re.sub(rf"\b{key}: *[^,}}]+", f"{key}: {value}", lines[j])
                    else:
                        lines[j] = lines[j].replace("params: {", f"params: {{{key}: {value}, ", 1)
                    return "\n".join(lines)
    raise RuntimeError(f"pipeline.yaml has no `uses: {uses}` stage with a params map")


def guard_check(strata, data_root: Path, name: str, work: Path):
    """The same set with one deliberately wrong parameter (every sample fails it): a guard against silent loss must
    stop the run (non-zero exit) instead of publishing an empty cleaned set."""
    root = data_root / name
    meta = json.loads((root / "set.json").read_text())
    mod = meta["modality"]
    uses, key, value = WRONG[mod]
    truth = [json.loads(l) for l in open(root / "truth.jsonl", encoding="utf-8")]
    proj = work / (name + "-guard")
    sh([strata, "init", str(proj), "--modality", mod])
    (proj / "rulebook.yaml").write_text(rulebook({t["label"] for t in truth}), encoding="utf-8")
    (proj / "pipeline.yaml").write_text(set_param((proj / "pipeline.yaml").read_text(), uses, key, value))
    if mod == "text":
        sh([strata, "ingest", str(root / "data"), "--source", "g", "--records", "--label-field", "label", "--id-field",
            "id", "-C", str(proj)])
    else:
        sh([strata, "ingest", str(root / "data"), "--source", "g", "--meta", str(root / "data/labels.csv"), "-C",
            str(proj)])
    run = sh([strata, "run", "-C", str(proj)], check=False)
    cleaned = [p for p in (proj / "data" / "cleaned").rglob("*") if p.is_file()]
    return dict(set=name, setting=f"{uses} {key}: {value}", run_rc=run.returncode, cleaned_files=len(cleaned),
                fired=run.returncode != 0, output=(run.stderr.strip() or run.stdout.strip())[-700:])


def evaluate_shared(strata, shared: Path, work: Path, repo: Path):
    """The shared sample data: one fresh default project per set, scored by the data's own score.py (after
    converting findings to its vocabulary with scripts/sample-data/to_truth.py), plus false removals: removed
    items (quarantined, or removed as a duplicate) that the truth does not list for that file/line."""
    shared = shared.resolve()
    sets = [f"{m}/{s}" for m in ("text", "images", "audio") for s in sorted(os.listdir(shared / m))
            if (shared / m / s).is_dir()]
    clean = shared.parent / "clean"
    allf = []
    per_set = {}
    truth = [json.loads(l) for l in open(shared / "truth.jsonl")]
    for s in sets:
        mod = {"text": "text", "images": "image", "audio": "audio"}[s.split("/")[0]]
        labels = set()
        cl = clean / s.split("/")[0]
        if mod == "text":
            for line in open(cl / f"{s.split('/')[1]}.jsonl", encoding="utf-8"):
                labels.add(json.loads(line)["label"])
        else:
            with open(cl / s.split("/")[1] / "labels.csv", newline="", encoding="utf-8") as fh:
                labels.update(r["label"] for r in csv.DictReader(fh))
        proj = work / ("shared-" + s.replace("/", "-"))
        res = run_strata(strata, proj, mod, shared / s, labels, s.split("/")[1].replace("_", "-"), mod == "text")
        allf.extend(res["findings"])
        # false removals: removed origins with no truth record for that file (media) or line/id (text)
        tset = [t for t in truth if t["set"] == s]
        if mod == "text":
            listed = {(t.get("file"), t.get("line")) for t in tset} | {("id", t.get("id")) for t in tset if t.get("id")} | \
                     {("id", t.get("of")) for t in tset if t.get("of")}
        else:
            listed = {t.get("file") for t in tset} | {t.get("of") for t in tset if t.get("of")}
        rm = set()
        locate = locate_factory(shared / s, False)
        for q in res["quarantine"]:
            rm.add((q.get("origin"), q.get("line")))
        for f in res["findings"]:
            if f["kind"] in DUP_KINDS:
                rm.add((f.get("origin"), f.get("line")))
        unlisted = []
        for origin, line in rm:
            rel = locate(origin, None)
            if rel is None:
                continue
            if mod == "text":
                rid = None
                try:
                    rid = json.loads(Path(origin).read_bytes().split(b"\n")[line - 1]).get("id")
                except Exception:
                    pass
                if (rel, line) in listed or ("id", rid) in listed:
                    continue
            elif rel in listed or rel == "labels.csv":
                continue
            unlisted.append(f"{rel}:{line}" if line else rel)
        n_clean = (sum(1 for _ in open(cl / f"{s.split('/')[1]}.jsonl")) if mod == "text" else
                   sum(1 for _ in open(cl / s.split("/")[1] / "labels.csv")) - 1)
        per_set[s] = dict(clean_items=n_clean, removed_not_in_truth=len(unlisted), examples=sorted(unlisted)[:5],
                          run_rc=res["run_rc"])
    fpath = work / "shared-findings.json"
    fpath.write_text(json.dumps(allf))
    conv = sh([sys.executable, str(repo / "scripts/sample-data/to_truth.py"), str(shared), str(fpath)])
    ppath = work / "shared-predictions.jsonl"
    ppath.write_text(conv.stdout)
    sc = sh([sys.executable, str(shared.parent / "score.py"), str(ppath), "--truth", str(shared / "truth.jsonl")],
            check=False)
    return dict(per_set=per_set, score_py=sc.stdout, score_py_rc=sc.returncode)


def fmt(x):
    return "-" if x is None else (f"{x:.3f}" if isinstance(x, float) else str(x))


def markdown(results):
    if not results:
        return ""
    out = ["| set | modality | items | good | false removals | worst label loss | near-dup P | near-dup R | F1 | "
           "defect recall (kind: caught/n) | run exit |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        if "error" in r:
            out.append(f"| {r['set']} | | | | error: {r['error'][:80]} | | | | | | |")
            continue
        d = ", ".join(f"{k.replace('_', ' ')} {v['caught']}/{v['n']}" for k, v in r["defects"].items())
        out.append(f"| {r['set']} | {r['modality']} | {r['items']} | {r['good']} | {r['false_removals']} "
                   f"({100 * r['false_removal_share']:.1f}%) | {r['worst_label']} {100 * r['worst_label_loss']:.0f}% | "
                   f"{fmt(r['near']['precision'])} | {fmt(r['near']['recall'])} | {fmt(r['near']['f1'])} | {d} | "
                   f"{r['run_rc']} |")
    # per modality near-dup
    agg = collections.defaultdict(lambda: [0, 0, 0, 0])
    for r in results:
        if "error" in r:
            continue
        a = agg[r["modality"]]
        a[0] += r["near"]["true_pairs"]
        a[1] += r["near"]["false_pairs"]
        a[2] += r["near"]["found"]
        a[3] += r["near"]["planted"]
    out.append("")
    out.append("| modality | near-dup pairs reported (true/false) | precision | planted found | recall | F1 |")
    out.append("|---|---|---|---|---|---|")
    for m, (tp, fp, fo, pl) in sorted(agg.items()):
        p = tp / (tp + fp) if tp + fp else None
        rc = fo / pl if pl else None
        f1 = 2 * p * rc / (p + rc) if p and rc else None
        out.append(f"| {m} | {tp}/{fp} | {fmt(p)} | {fo}/{pl} | {fmt(rc)} | {fmt(f1)} |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--strata", required=True)
    ap.add_argument("--data", default="/work/curation-data")
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--shared", help="also evaluate the shared sample data (its dirty/ folder)")
    ap.add_argument("--work", help="folder for the projects (default: a new temporary folder)")
    ap.add_argument("--guard-check", action="store_true",
                    help="also run one set per modality with a deliberately wrong quality parameter")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the projects")
    a = ap.parse_args()
    strata = os.path.abspath(a.strata)
    if not os.access(strata, os.X_OK):
        print(f"error: --strata {a.strata}: not an executable file", file=sys.stderr)
        return 2
    data = Path(a.data)
    if (a.all or a.set) and not data.is_dir():
        print(f"error: --data {a.data}: no such folder; build the sets first: "
              f"python bench/curation/build_sets.py --out {a.data}", file=sys.stderr)
        return 2
    if a.shared and not (Path(a.shared) / "truth.jsonl").exists():
        print(f"error: --shared {a.shared}: no truth.jsonl there (expected the sample data's dirty/ folder)",
              file=sys.stderr)
        return 2
    names = a.set
    if a.all:
        names = sorted(p.name for p in data.iterdir() if (p / "set.json").exists())
    if not names and not a.shared:
        print("error: name a set (--set NAME), --all, or --shared DIR", file=sys.stderr)
        return 2
    for n in names:
        if not (data / n / "set.json").exists():
            print(f"error: --set {n}: no {data / n / 'set.json'}; sets there: "
                  f"{', '.join(sorted(p.name for p in data.iterdir() if (p / 'set.json').exists()))}", file=sys.stderr)
            return 2
    work = Path(a.work) if a.work else Path(tempfile.mkdtemp(prefix="curbench-"))
    work.mkdir(parents=True, exist_ok=True)
    results, failed = [], False
    for n in names:
        try:
            r = evaluate_set(strata, data, n, work)
        except Exception as e:  # a strata command failed: report it, go on with the other sets
            r = dict(set=n, error=str(e))
            failed = True
        results.append(r)
        if not a.json:
            print(json.dumps(r, ensure_ascii=False) if not a.markdown else f"done {n}", file=sys.stderr)
    guards = []
    if a.guard_check:
        seen = set()
        for n in names:
            mod = json.loads((data / n / "set.json").read_text())["modality"]
            if mod in seen:
                continue
            seen.add(mod)
            try:
                guards.append(guard_check(strata, data, n, work))
            except Exception as e:
                guards.append(dict(set=n, error=str(e)[:500]))
    shared = None
    if a.shared:
        shared = evaluate_shared(strata, Path(a.shared), work, Path(__file__).resolve().parents[2])
    if a.json:
        print(json.dumps(dict(strata=strata, sets=results, guard=guards, shared=shared), indent=1, ensure_ascii=False))
    else:
        print(markdown(results))
        for g in guards:
            print(f"\nguard check on {g['set']}: " + (f"error {g['error']}" if "error" in g else
                  f"`{g['setting']}` -> run exit {g['run_rc']}, {g['cleaned_files']} files in data/cleaned, "
                  f"{'FIRED' if g['fired'] else 'did not fire'}\n  " + g["output"].replace("\n", "\n  ")))
        if shared:
            print("\nshared sample data (score.py):\n" + shared["score_py"])
            print(json.dumps(shared["per_set"], indent=1))
    if not a.keep and not a.work:
        subprocess.run(["chmod", "-R", "u+w", str(work)])
        shutil.rmtree(work, ignore_errors=True)
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
