#!/usr/bin/env bash
# Record-ingest benchmark: `strata ingest --records` of generated JSONL (bench/records/gen.py), labels on and off,
# side by side with `cat FILE > /dev/null` and `openssl dgst -sha256 FILE` on the same file (the disk/hash floor).
#
#   bash bench/records/run.sh          (needs a release build: make release)
#
# Environment: SIZES [100000 200000] documents per file; RUNS [3]; STRATA [.build/release/strata];
# WORK [bench/work/records-<UTC timestamp>]. Output: <work>/results.tsv (one line per run) and the median table
# on stdout. Every run ingests into a fresh project; projects and generated files stay in <work> (about 1.2 GB
# per 200,000 documents per run: delete <work> afterwards with chmod -R u+w <work> && rm -rf <work>).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$(dirname "$HERE")")
STRATA=${STRATA:-$REPO/.build/release/strata}
SIZES=${SIZES:-"100000 200000"}
RUNS=${RUNS:-3}
WORK=${WORK:-$REPO/bench/work/records-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$WORK"
OUT=$WORK/results.tsv
{
    echo "# date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ) cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') cores=$(nproc)"
    echo "# strata_commit=$(git -C "$REPO" rev-parse --short HEAD) binary=$STRATA"
    printf 'docs\tbytes\ttool\trun\twall_s\tuser_s\tsys_s\tmaxrss_kb\tload1\taccepted\tlabels\tobject_files\tproject_mb\tproject_files\n'
} >"$OUT"
RULEBOOK='version: 1\nlabels:\n  - name: cat\n    definition: a cat\n  - name: dog\n    definition: a dog\n  - name: bird\n    definition: a bird\n'
for n in $SIZES; do
    f=$WORK/docs-$n.jsonl
    [ -f "$f" ] || python3 "$HERE/gen.py" "$f" "$n"
    bytes=$(stat -c %s "$f")
    for run in $(seq 1 "$RUNS"); do
        for tool in cat openssl strata-labels strata-nolabels; do
            load=$(cut -d' ' -f1 /proc/loadavg)
            case $tool in
            # cat into a pipe (cat straight to /dev/null may skip the copy altogether).
            cat) /usr/bin/time -o "$WORK/time" -f "%e %U %S %M" sh -c 'cat "$0" | cat >/dev/null' "$f"; t=$(tail -1 "$WORK/time"); rest="-\t-\t-\t-\t-" ;;
            openssl) /usr/bin/time -o "$WORK/time" -f "%e %U %S %M" openssl dgst -sha256 "$f" >/dev/null; t=$(tail -1 "$WORK/time"); rest="-\t-\t-\t-\t-" ;;
            strata-*)
                d=$(mktemp -d "$WORK/p.XXXX")
                "$STRATA" init "$d/p" --modality text >/dev/null 2>&1
                printf "$RULEBOOK" >"$d/p/rulebook.yaml"
                extra=(); [ "$tool" = strata-labels ] && extra=(--label-field label)
                /usr/bin/time -o "$d/time" -f "%e %U %S %M" "$STRATA" ingest "$f" --source s --records --id-field id "${extra[@]}" -C "$d/p" >"$d/out" 2>/dev/null
                t=$(tail -1 "$d/time")
                acc=$(awk '/accepted/ {print $2}' "$d/out"); lab=$(awk '/labels imported/ {print $3}' "$d/out")
                rest="$acc\t${lab:-0}\t$(find "$d/p/.strata/objects" -type f | wc -l)\t$(du -sm "$d/p" | cut -f1)\t$(find "$d/p" -type f | wc -l)"
                # Projects are kept until the end: deleting ~100,000 object files slows the disk for minutes and
                # would land inside the next measurement.
                ;;
            esac
            printf "%s\t%s\t%s\t%s\t%s\t%s\t%b\n" "$n" "$bytes" "$tool" "$run" "$(echo "$t" | tr ' ' '\t')" "$load" "$rest" >>"$OUT"
        done
    done
done
python3 - "$OUT" <<'PY'
import sys, statistics
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if not l.startswith("#")]
head, rows = rows[0], rows[1:]
groups = {}
for r in rows:
    groups.setdefault((int(r[0]), r[2]), []).append(r)
print("| docs | MB | tool | runs | median wall s | MB/s | median user s | median sys s | median peak RSS MiB | load (1 min) |")
print("|---|---|---|---|---|---|---|---|---|---|")
for (n, tool), rs in sorted(groups.items()):
    mb = int(rs[0][1]) / 1e6
    wall = statistics.median(float(r[4]) for r in rs)
    print(f"| {n:,} | {mb:.0f} | {tool} | {len(rs)} | {wall:.2f} | {mb / wall:.1f} | {statistics.median(float(r[5]) for r in rs):.2f} | "
          f"{statistics.median(float(r[6]) for r in rs):.2f} | {statistics.median(int(r[7]) for r in rs) / 1024:.0f} | "
          f"{min(float(r[8]) for r in rs):.1f}-{max(float(r[8]) for r in rs):.1f} |")
PY
