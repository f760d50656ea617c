#!/usr/bin/env bash
# Image near-duplicate benchmark: Strata's `dedup.near` for images vs imagededup (PHash and DHash) on generated
# images with a truth file.
#
#   bash bench/imagedup/run.sh
#
# Environment (defaults in brackets):
#   N_IMAGES [20000]   images (40% in near-duplicate groups of 4, the rest distinct; see gen.py)
#   RUNS [3]           repetitions, tools alternating within each run (A B C D, A B C D, ...)
#   STRATA [.build/release/strata]   the binary under test (copied into the work folder first)
#   SEED [20260401]
#   TOOLS ["strata-both imagededup-phash strata-phash imagededup-dhash"]   what runs, in this order, each run
#   DATA []            a folder gen.py already filled (images/ and truth.csv), to reuse instead of generating
#
# Everything goes to bench/work/imagedup-<UTC timestamp>/ (ignored by git; nothing is deleted while measuring).
# imagededup runs from the venv bench/.venv-imagedup (created here if missing; it pulls torch, about 4 GB).
# Strata: the images are ingested once (not timed: ingest validates every image, which imagededup does not do);
# each run copies that project and times `strata run` of a pipeline with one `dedup.near` stage.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH=$(dirname "$HERE")
REPO=$(dirname "$BENCH")
STRATA=${STRATA:-$REPO/.build/release/strata}
N_IMAGES=${N_IMAGES:-20000}
RUNS=${RUNS:-3}
SEED=${SEED:-20260401}
TOOLS=${TOOLS:-"strata-both imagededup-phash strata-phash imagededup-dhash"}
VENV=$BENCH/.venv-imagedup
PY=$VENV/bin/python

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 2; }

"$STRATA" --help >/dev/null 2>&1 || die "$STRATA does not run; build it first with \`make release\`"
[ -x /usr/bin/time ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time; }
if ! "$PY" -c 'import imagededup' 2>/dev/null; then
    log "creating $VENV with imagededup==0.3.3.post2"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q imagededup==0.3.3.post2
fi

TS=$(date -u +%Y%m%dT%H%M%SZ)
WORK=$BENCH/work/imagedup-$TS
mkdir -p "$WORK/logs" "$WORK/scores" "$WORK/pairs"
RESULTS=$WORK/results.tsv
printf 'run\ttool\twall_s\tuser_s\tsys_s\tmaxrss_kb\ttree_rss_kb\ttree_pss_kb\trc\n' >"$RESULTS"
{
    echo "date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "host_cores=$(nproc)"
    echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "strata_commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "imagededup_version=$("$PY" -c 'import importlib.metadata as m; print(m.version("imagededup"))')"
    echo "torch_version=$("$PY" -c 'import importlib.metadata as m; print(m.version("torch"))')"
    echo "n_images=$N_IMAGES"
    echo "runs=$RUNS"
    echo "seed=$SEED"
    echo "load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$WORK/meta.env"
log "work folder: $WORK"
cp "$STRATA" "$WORK/strata"
STRATA=$WORK/strata

if [ -n "${DATA:-}" ] && [ -f "$DATA/truth.csv" ]; then
    log "reusing the images in $DATA"
else
    DATA=$WORK/data
    log "generating $N_IMAGES images"
    "$PY" "$HERE/gen.py" "$DATA" "$N_IMAGES" "$SEED"
fi
IMAGES=$DATA/images
TRUTH=$DATA/truth.csv
sync

# The project every Strata run copies: images ingested once.
BASE=$WORK/base
"$STRATA" init "$BASE" --modality image >/dev/null
log "ingesting into the base project (not timed)"
/usr/bin/time -f '%e %U %S %M' -o "$WORK/logs/ingest.time" "$STRATA" ingest "$IMAGES" --source bench --date 2026-04-01 -C "$BASE" --json >"$WORK/logs/ingest.json"
log "ingest: $(cat "$WORK/logs/ingest.time") (wall user sys maxrss)"

timed() { # RUN TOOL -- command...
    local run=$1 tool=$2
    shift 3
    local base="$WORK/logs/run$run-$tool"
    sync
    cat "$IMAGES"/* >/dev/null  # warm the page cache for both tools alike
    local rc=0
    "$PY" "$BENCH/neardup/treemem.py" "$base.mem" -- \
        /usr/bin/time -f '%e %U %S %M' -o "$base.time" "$@" >"$base.out" 2>"$base.err" || rc=$?
    local wall user sys rss trss tpss
    read -r wall user sys rss < <(tail -n 1 "$base.time")
    read -r trss tpss < <("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["peak_rss_kb"], d["peak_pss_kb"])' "$base.mem")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$tool" "$wall" "$user" "$sys" "$rss" "$trss" "$tpss" "$rc" >>"$RESULTS"
    log "run $run  $tool: ${wall}s wall, ${user}s user, ${sys}s sys, tree PSS ${tpss} KiB, rc=$rc"
}

strata_one() { # RUN NAME HASH MAX_DISTANCE
    local run=$1 tool=$2 hash=$3 dist=$4
    local P=$WORK/run$run-$tool
    [ -e "$P" ] && P=$P-$(date +%s%N)  # a tool listed twice in TOOLS gets a fresh project, not the cached one
    cp -a "$BASE" "$P"
    cat >"$P/pipeline.yaml" <<YAML
version: 1
stages:
  - name: near-dups
    uses: dedup.near
    params: {modalities: [image], image_hash: $hash, image_max_distance: $dist, keep: first}
YAML
    timed "$run" "$tool" -- "$STRATA" run -C "$P" --json
    "$STRATA" findings --kind near-duplicate --json -C "$P" >"$WORK/pairs/run$run-$tool.json"
    "$PY" "$HERE/score.py" "$TRUTH" "$WORK/pairs/run$run-$tool.json" --strata >"$WORK/scores/run$run-$tool.json"
}

peer_one() { # RUN METHOD
    local run=$1 method=$2 tool="imagededup-$2"
    timed "$run" "$tool" -- "$PY" "$HERE/run_imagededup.py" "$method" "$IMAGES" 10 "$WORK/pairs/run$run-$tool.json"
    "$PY" "$HERE/score.py" "$TRUTH" "$WORK/pairs/run$run-$tool.json" >"$WORK/scores/run$run-$tool.json"
}

for run in $(seq 1 "$RUNS"); do
    for tool in $TOOLS; do
        case $tool in
            strata-both) strata_one "$run" strata-both both 24 ;;
            strata-phash) strata_one "$run" strata-phash phash 10 ;;
            imagededup-phash) peer_one "$run" phash ;;
            imagededup-dhash) peer_one "$run" dhash ;;
            *) die "unknown tool $tool" ;;
        esac
    done
done

"$PY" "$HERE/report.py" "$WORK" | tee "$WORK/report.md"
log "done: $WORK"
