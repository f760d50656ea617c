#!/usr/bin/env bash
# Slurm executor benchmark: the near-duplicate pipeline (dedup.exact + dedup.near) on the bench/neardup corpus, run
# by the local executor and by the Slurm executor on a one-node cluster on this machine, alternating (A B A B ...).
# The difference is what Slurm costs: submitting, scheduling, starting `strata task run` per array job, polling.
#
#   sudo bash scripts/slurm/start.sh      # the cluster (make bench-slurm does both)
#   bash bench/slurm/run.sh
#
# Environment (defaults in brackets):
#   N_DOCS [100000]   documents (bench/neardup/gen.py)
#   RUNS [5]          runs of each executor
#   SLURM_WORKERS [2] workers (elements of the run's worker array job); per-step mode: array jobs at once
#   SLURM_MODE [workers]  workers: workers started once per run (the default); per-step: one array job per step
#   SLURM_LAUNCHER [srun] workers mode: srun (one job per worker, granted at once) or sbatch (one array job)
#   TASKS_PER_JOB []  per-step mode: tasks per array job (1: one array job per task)
#   STRATA [.build/release/strata]   copied into the work folder first (a release build)
#   SEED [20260101]
#   CORPUS_DIR []     reuse corpus.jsonl from an earlier work folder's data/ (same N_DOCS and SEED) instead of generating
# Everything goes to bench/work/slurm-<UTC timestamp>/; report.py writes bench/slurm/results.md.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH=$(dirname "$HERE")
REPO=$(dirname "$BENCH")
STRATA=${STRATA:-$REPO/.build/release/strata}
N_DOCS=${N_DOCS:-100000}
RUNS=${RUNS:-5}
SLURM_WORKERS=${SLURM_WORKERS:-2}
SEED=${SEED:-20260101}
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 2; }

"$STRATA" --help >/dev/null 2>&1 || die "$STRATA does not run; build it with \`make release\`"
scontrol ping 2>/dev/null | grep -q 'is UP' || die "no Slurm controller answers; start one with \`sudo bash scripts/slurm/start.sh\`"
[ -x /usr/bin/time ] || die "GNU time is missing (Debian package 'time')"

TS=$(date -u +%Y%m%dT%H%M%SZ)
WORK=$BENCH/work/slurm-$TS
mkdir -p "$WORK/logs"
cp "$STRATA" "$WORK/strata"
STRATA=$WORK/strata
{
    echo "date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "host_cores=$(nproc)"
    echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "strata_commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "strata_sources_dirty=$(git -C "$REPO" status --porcelain Sources 2>/dev/null | wc -l) files"
    echo "slurm=$(sbatch --version)"
    echo "n_docs=$N_DOCS"
    echo "runs=$RUNS"
    echo "slurm_workers=$SLURM_WORKERS"
    echo "tasks_per_job=${TASKS_PER_JOB:-packed}"
    echo "slurm_mode=${SLURM_MODE:-workers}"
    echo "slurm_launcher=${SLURM_LAUNCHER:-srun}"
    echo "load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$WORK/meta.env"
log "work folder: $WORK"

if [ -n "${CORPUS_DIR:-}" ]; then
    log "reusing the corpus in $CORPUS_DIR"
    mkdir -p "$WORK/data" && cp "$CORPUS_DIR/corpus.jsonl" "$WORK/data/corpus.jsonl"
else
    log "generating $N_DOCS documents"
    python3 "$BENCH/neardup/gen.py" "$WORK/data" "$N_DOCS" "$SEED" 2>"$WORK/logs/gen.err"
fi

# One project per executor, ingested once; every timed run is `strata run --force` (nothing from the cache).
for ex in local slurm; do
    P=$WORK/$ex
    "$STRATA" init "$P" --modality text >/dev/null
    cat >"$P/pipeline.yaml" <<YAML
version: 1
stages:
  - name: exact-dups
    uses: dedup.exact
  - name: near-dups
    uses: dedup.near
    params: {threshold: 0.8, ngram: 5, permutations: 128, bands: 16, keep: first}
YAML
    log "ingest ($ex)"
    "$STRATA" ingest "$WORK/data/corpus.jsonl" --source bench --records --text-field text --id-field id --date 2026-01-01 -C "$P" --json >"$WORK/logs/ingest-$ex.json"
done
sed -i "s/^  kind: local/  kind: slurm\n  workers: $SLURM_WORKERS\n  mode: ${SLURM_MODE:-workers}\n  launcher: ${SLURM_LAUNCHER:-srun}${TASKS_PER_JOB:+\\n  tasks_per_job: $TASKS_PER_JOB}/" "$WORK/slurm/strata.yaml"
grep -q "kind: slurm" "$WORK/slurm/strata.yaml" || die "could not set the executor in $WORK/slurm/strata.yaml"

# An untimed warm-up of each (page cache, first-run effects of the cluster).
"$STRATA" run -C "$WORK/local" --json >/dev/null
"$STRATA" run -C "$WORK/slurm" --json >/dev/null

timed() { # RUN EXECUTOR
    local base="$WORK/logs/run$1-$2"
    sync
    /usr/bin/time -f '%e %U %S %M' -o "$base.time" "$STRATA" run --force -C "$WORK/$2" --json >"$base.json" 2>"$base.err" \
        || die "run $1 ($2) failed: $(tail -n 5 "$base.err")"
    local run
    run=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_id"])' "$base.json")
    cp "$WORK/$2/.strata/runs/$run/log.jsonl" "$base.log.jsonl"
    log "run $1 $2: $(cut -d' ' -f1 "$base.time") s wall"
}
for run in $(seq 1 "$RUNS"); do
    if [ $((run % 2)) = 1 ]; then timed "$run" local; timed "$run" slurm; else timed "$run" slurm; timed "$run" local; fi
done
echo "load_at_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$WORK/meta.env"
python3 "$HERE/report.py" "$WORK"
