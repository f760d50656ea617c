#!/usr/bin/env bash
# Runs the whole curation benchmark and writes bench/curation/results.md.
#
#   bash bench/curation/run.sh [LABEL=STRATA_BINARY ...]
#
# Default binary: main=/work/main/.build/debug/strata. Each LABEL=PATH pair is evaluated (all sets, the guard check,
# the shared sample data) and gets its own section; the first one is the baseline. Peers run from the venv
# /work/venv-curbench (see README.md). Data: DATA (/work/curation-data), SHARED (/work/shared/sample-data/dirty).
# Raw outputs go to OUT (bench/work/curation-<UTC timestamp>, ignored by git).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DATA=${DATA:-/work/curation-data}
SHARED=${SHARED:-/work/shared/sample-data/dirty}
PY=${PY:-/work/venv-curbench/bin/python}
OUT=${OUT:-$REPO/bench/work/curation-$(date -u +%Y%m%dT%H%M%S)}
mkdir -p "$OUT"
[ $# -gt 0 ] || set -- "main=/work/main/.build/debug/strata"
{ lscpu | grep -E '^Model name|^CPU\(s\)'; uptime; date -u; } > "$OUT/machine.txt"
labels=()
for pair in "$@"; do
  label=${pair%%=*}; bin=${pair#*=}
  labels+=("$label")
  commit=$(git -C "$(dirname "$bin")/../.." log -1 --format='%h %s' 2>/dev/null | cut -c1-100 || echo "?")
  stamp=$(date -u -r "$bin" +%Y-%m-%dT%H:%MZ)
  # a snapshot of the binary, so a rebuild during the run cannot change what is measured
  cp "$bin" "$OUT/$label-strata"
  printf '%s\t%s\t%s\t%s\n' "$label" "$bin" "$commit" "$stamp" > "$OUT/$label.meta"
  echo "== $label: $bin ($commit; built $stamp)" >&2
  bin="$OUT/$label-strata"
  python3 "$HERE/evaluate.py" --strata "$bin" --data "$DATA" --all --guard-check --json --work "$OUT/$label-projects" \
    > "$OUT/$label.json"
  python3 "$HERE/evaluate.py" --strata "$bin" --shared "$SHARED" --work "$OUT/$label-shared" > "$OUT/$label.shared.txt" 2>&1
done
echo "== peers" >&2
"$PY" "$HERE/peers.py" --data "$DATA" --json > "$OUT/peers.json"
"$PY" "$HERE/peers.py" --data "$DATA" > "$OUT/peers.md"
{ lscpu | grep -E '^Model name'; uptime; } >> "$OUT/machine.txt"
python3 "$HERE/report.py" "$OUT" "${labels[@]}" > "$HERE/results.md"
echo "wrote $HERE/results.md (raw outputs in $OUT)" >&2
