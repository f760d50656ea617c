#!/usr/bin/env bash
# Near-duplicate benchmark: Strata's dedup stages vs datasketch (MinHash + MinHashLSH) vs datatrove's
# 4-stage MinHash dedup, on a generated corpus with known near and exact duplicates.
#
#   bash bench/neardup/run.sh
#
# Environment (defaults in brackets):
#   N_DOCS [100000]     documents of 50-300 words (~10% near duplicates, ~5% exact duplicates)
#   RUNS [3]            repetitions; every run uses fresh projects and output folders
#   THRESHOLDS ["0.8 0.75"]   Strata dedup.near thresholds, one project each
#   STRATA [.build/release/strata]   the binary under test (a release build; copied into the work folder
#                       first, so a rebuild during the run changes nothing)
#   SKIP_PEERS [0]      1: Strata only; the ratios then use the peers' figures of the last run that measured
#                       them (bench/neardup/peers.tsv, written by report.py after every run with peers), and say so
#   PEER_RUNS [RUNS]    the peers run in the first PEER_RUNS runs only (datatrove takes minutes per run)
#   PEERS ["datasketch datatrove"]   which peers run; a peer left out is reported from bench/neardup/peers.tsv
#   SEED [20260101]
#
# Everything goes to bench/work/neardup-<UTC timestamp>/ (ignored by git; nothing is deleted while measuring).
# The peers run from the venv bench/.venv-neardup (created here if missing; never commit it).
# At the end report.py prints the table and writes bench/neardup/results.md and results.tsv.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH=$(dirname "$HERE")
REPO=$(dirname "$BENCH")
STRATA=${STRATA:-$REPO/.build/release/strata}
N_DOCS=${N_DOCS:-100000}
RUNS=${RUNS:-3}
THRESHOLDS=${THRESHOLDS:-"0.8 0.75"}
SKIP_PEERS=${SKIP_PEERS:-0}
PEER_RUNS=${PEER_RUNS:-$RUNS}
PEERS=${PEERS:-"datasketch datatrove"}
SEED=${SEED:-20260101}
VENV=$BENCH/.venv-neardup
PY=$VENV/bin/python
PIP_SPECS=("datasketch==2.0.0" "datatrove==0.10.1" "spacy" "regex" "tokenizers" "xxhash<4" "orjson" "numpy")

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 2; }

# ---------- prerequisites ----------
"$STRATA" --help >/dev/null 2>&1 || die "$STRATA does not run; build it first with \`make release\`"
if [ ! -x /usr/bin/time ]; then
    log "installing GNU time (Debian package 'time')"
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq time
fi
if [ "$SKIP_PEERS" != 1 ]; then
    if ! "$PY" -c 'import datasketch, datatrove, spacy, orjson' 2>/dev/null; then
        log "creating $VENV with ${PIP_SPECS[*]}"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q "${PIP_SPECS[@]}"
    fi
fi

# ---------- work folder and metadata ----------
TS=$(date -u +%Y%m%dT%H%M%SZ)
WORK=$BENCH/work/neardup-$TS
mkdir -p "$WORK/logs" "$WORK/scores" "$WORK/pairs"
RESULTS=$WORK/results.tsv
printf 'run\ttool\top\twall_s\tuser_s\tsys_s\tmaxrss_kb\ttree_rss_kb\ttree_pss_kb\trc\n' >"$RESULTS"
pyver() { "$PY" -c "import importlib.metadata as m; print(m.version('$1'))" 2>/dev/null || echo none; }
{
    echo "date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "host_cores=$(nproc)"
    echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "mem_gib=$(awk '/MemTotal/ {printf "%.0f", $2/1048576}' /proc/meminfo)"
    echo "kernel=$(uname -r)"
    echo "strata_commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "strata_sources_dirty=$(git -C "$REPO" status --porcelain Sources 2>/dev/null | wc -l) files"
    echo "strata_version=$("$STRATA" --version 2>/dev/null || echo unknown)"
    echo "strata_binary_mtime=$(date -u -r "$STRATA" +%Y-%m-%dT%H:%M:%SZ)"
    echo "python=$("$PY" -c 'import platform; print(platform.python_version())' 2>/dev/null || echo none)"
    for p in datasketch datatrove spacy xxhash numpy scipy; do echo "${p}_version=$(pyver $p)"; done
    echo "n_docs=$N_DOCS"
    echo "runs=$RUNS"
    echo "peer_runs=$([ "$SKIP_PEERS" = 1 ] && echo 0 || echo "$PEER_RUNS")"
    echo "peers=$([ "$SKIP_PEERS" = 1 ] && echo none || echo "$PEERS")"
    echo "thresholds=$THRESHOLDS"
    echo "seed=$SEED"
    echo "load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$WORK/meta.env"
log "work folder: $WORK"
# Measure a private copy: others may rebuild .build/release/strata while this runs.
cp "$STRATA" "$WORK/strata"
echo "strata_binary_sha256=$(sha256sum "$WORK/strata" | cut -c1-16)" >>"$WORK/meta.env"
STRATA=$WORK/strata

# ---------- data (generated once; every tool reads the same corpus) ----------
DATA=$WORK/data
log "generating $N_DOCS documents"
python3 "$HERE/gen.py" "$DATA" "$N_DOCS" "$SEED" 2>"$WORK/logs/gen.err"
cat "$WORK/logs/gen.err" >&2
CORPUS=$DATA/corpus.jsonl
TRUTH=$DATA/truth.tsv
# datatrove hands whole files to its tasks: the same corpus in 2 shards (in order) lets both workers run.
mkdir -p "$DATA/shards"
split -n l/2 -d --additional-suffix=.jsonl "$CORPUS" "$DATA/shards/part"
sync

warm() { cat "$@" >/dev/null; }

# timed RUN TOOL OP -- command...   (appends one row to results.tsv; stdout/stderr/time/mem under logs/)
timed() {
    local run=$1 tool=$2 op=$3
    shift 4
    local base="$WORK/logs/run$run-$tool-$op"
    sync
    local rc=0
    python3 "$HERE/treemem.py" "$base.mem" -- \
        /usr/bin/time -f '%e %U %S %M' -o "$base.time" "$@" >"$base.out" 2>"$base.err" || rc=$?
    local wall user sys rss trss tpss
    read -r wall user sys rss < <(tail -n 1 "$base.time")
    read -r trss tpss < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["peak_rss_kb"], d["peak_pss_kb"])' "$base.mem")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$tool" "$op" "$wall" "$user" "$sys" "$rss" "$trss" "$tpss" "$rc" >>"$RESULTS"
    log "run $run  $tool $op: ${wall}s wall, ${user}s user, ${sys}s sys, ${rss} KiB max RSS, ${tpss} KiB tree PSS, rc=$rc"
    [ "$rc" = 0 ] || log "warning: $tool $op failed (see $base.err)"
}

score() { # RUN TOOL PAIRS
    python3 "$HERE/score.py" score "$TRUTH" "$CORPUS" "$3" >"$WORK/scores/run$1-$2.json"
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("  %s: precision %.4f  recall %.4f  removals %d" % (sys.argv[2], r["precision"], r["recall"], r["removals"]))' \
        "$WORK/scores/run$1-$2.json" "$2" >&2
}

strata_one() { # RUN THRESHOLD
    local run=$1 thr=$2 tool="strata-$2"
    local P=$WORK/run$run/$tool
    "$STRATA" init "$P" --modality text >"$WORK/logs/run$run-$tool-init.out" 2>&1
    cat >"$P/pipeline.yaml" <<EOF
version: 1
stages:
  - name: exact-dups
    uses: dedup.exact
  - name: near-dups
    uses: dedup.near
    params: {threshold: $thr, ngram: 5, permutations: 128, bands: 16, keep: first}
EOF
    warm "$CORPUS"
    timed "$run" "$tool" ingest -- "$STRATA" ingest "$CORPUS" --source bench --records --text-field text \
        --id-field id --date 2026-01-01 -C "$P" --json
    warm "$CORPUS"
    timed "$run" "$tool" run -- "$STRATA" run -C "$P" --json
    "$STRATA" findings --kind duplicate --json -C "$P" >"$WORK/pairs/run$run-$tool-dup.json"
    "$STRATA" findings --kind near-duplicate --json -C "$P" >"$WORK/pairs/run$run-$tool-near.json"
    python3 "$HERE/score.py" strata-pairs "$CORPUS" "$WORK/pairs/run$run-$tool-dup.json" \
        "$WORK/pairs/run$run-$tool-near.json" >"$WORK/pairs/run$run-$tool.tsv"
    score "$run" "$tool" "$WORK/pairs/run$run-$tool.tsv"
}

has_peer() { case " $PEERS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

datasketch_one() {
    local run=$1
    has_peer datasketch || return 0
    warm "$CORPUS"
    timed "$run" datasketch dedup -- "$PY" "$HERE/run_datasketch.py" "$CORPUS" "$WORK/pairs/run$run-datasketch.tsv" 0.8 128
    score "$run" datasketch "$WORK/pairs/run$run-datasketch.tsv"
}

datatrove_one() {
    local run=$1 out=$WORK/run$run/datatrove
    has_peer datatrove || return 0
    mkdir -p "$out"
    warm "$DATA"/shards/*.jsonl
    timed "$run" datatrove dedup -- "$PY" "$HERE/run_datatrove.py" run "$DATA/shards" "$out" 2 2
    "$PY" "$HERE/run_datatrove.py" pairs "$out" "$WORK/pairs/run$run-datatrove.tsv" >"$WORK/logs/run$run-datatrove-pairs.out"
    score "$run" datatrove "$WORK/pairs/run$run-datatrove.tsv"
}

strata_all() { local t; for t in $THRESHOLDS; do strata_one "$1" "$t"; done; }

# ---------- runs (the order of the tools rotates from run to run) ----------
for run in $(seq 1 "$RUNS"); do
    log "=== run $run/$RUNS"
    mkdir -p "$WORK/run$run"
    if [ "$SKIP_PEERS" = 1 ] || [ "$run" -gt "$PEER_RUNS" ]; then
        strata_all "$run"
    else
        case $((run % 3)) in
            1) strata_all "$run"; datasketch_one "$run"; datatrove_one "$run" ;;
            2) datatrove_one "$run"; strata_all "$run"; datasketch_one "$run" ;;
            0) datasketch_one "$run"; datatrove_one "$run"; strata_all "$run" ;;
        esac
    fi
done

echo "load_at_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$WORK/meta.env"
log "done; report:"
python3 "$HERE/report.py" "$WORK"
