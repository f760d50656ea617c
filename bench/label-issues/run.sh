#!/usr/bin/env bash
# bench/label-issues: Strata's confident learning vs cleanlab.filter.find_label_issues on 1,000,000 samples x 10 classes
# with injected label flips. Both read the same .npy files, flag label issues with the same method and defaults, and
# write the flagged indices; runs alternate (Strata, cleanlab, Strata, ...) so load on a shared machine hits both.
# usage: bash bench/label-issues/run.sh [RUNS] [N]
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-5}
N=${2:-1000000}
export PATH="$PATH:/opt/swift/usr/bin"
BENCH=bench/label-issues
VENV=bench/.venv-label-issues
WORK=${WORK:-/tmp/strata-bench-label-issues}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check cleanlab==2.9.0 numpy==2.4.6 scikit-learn==1.9.1
fi
[ -n "${SKIP_BUILD:-}" ] || swift build -c release --product strata >/dev/null
STRATA=${STRATA:-.build/release/strata}   # or a release binary built elsewhere (with SKIP_BUILD=1)
mkdir -p "$WORK/data"
RESULTS="$WORK/results-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$RESULTS"
[ -f "$WORK/data/probs.npy" ] && [ "$(cat "$WORK/data/n" 2>/dev/null)" = "$N" ] || { "$VENV/bin/python" $BENCH/gen.py "$WORK/data" "$N" 10 0.1 0; echo "$N" > "$WORK/data/n"; }
cat "$WORK/data/probs.npy" "$WORK/data/labels.npy" > /dev/null  # warm the page cache
for i in $(seq 1 "$RUNS"); do
  /usr/bin/time -v -o "$RESULTS/strata-$i.time" "$STRATA" analyze label-issues --probs-npy "$WORK/data/probs.npy" \
    --labels-npy "$WORK/data/labels.npy" --out "$RESULTS/strata-$i.txt" 2> "$RESULTS/strata-$i.log"
  /usr/bin/time -v -o "$RESULTS/cleanlab-$i.time" "$VENV/bin/python" $BENCH/run_cleanlab.py "$WORK/data/probs.npy" \
    "$WORK/data/labels.npy" "$RESULTS/cleanlab-$i.txt" 2> "$RESULTS/cleanlab-$i.log"
  echo "run $i: strata $(cat "$RESULTS/strata-$i.log" | tail -1) | cleanlab $(tail -1 "$RESULTS/cleanlab-$i.log")"
done
"$VENV/bin/python" $BENCH/compare.py "$WORK/data" "$RESULTS" | tee "$RESULTS/summary.json"
