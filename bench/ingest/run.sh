#!/usr/bin/env bash
# Ingest benchmark: strata ingest / status vs dvc add / status on many small files,
# and SHA-256 throughput (strata vs sha256sum) on a few large files.
#
#   bash bench/ingest/run.sh            (or: make bench-ingest)
#
# Environment (defaults in brackets):
#   N_SMALL [100000]   small text files of 1-4 KiB, in 100 folders
#   LARGE_GIB [2]      GiB of random bytes in files of 64-256 MiB
#   RUNS [3]           repetitions; every run uses fresh copies and fresh projects
#   STRATA [.build/release/strata]   the binary under test (build it with `make release`)
#   DVC_SPEC [dvc==3.67.1]           what pip installs into bench/.venv
#   SKIP_DVC [0]       1: measure strata only
#   CLEAN [0]          1: delete this run's work folder at the end (deleting ~1M small files slows
#                      the disk for minutes: never do it between measurements)
#
# Everything goes to bench/work/<UTC timestamp>/ (a fresh folder per invocation; nothing is deleted
# while measuring). Results: <work>/results.tsv, then bench/ingest/report.py prints the table and
# writes bench/ingest/results.md and bench/ingest/results.tsv.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH=$(dirname "$HERE")
REPO=$(dirname "$BENCH")
STRATA=${STRATA:-$REPO/.build/release/strata}
N_SMALL=${N_SMALL:-100000}
LARGE_GIB=${LARGE_GIB:-2}
RUNS=${RUNS:-3}
DVC_SPEC=${DVC_SPEC:-dvc==3.67.1}
SKIP_DVC=${SKIP_DVC:-0}
CLEAN=${CLEAN:-0}
SEED=${SEED:-20260101}
export DVC_NO_ANALYTICS=1

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 2; }

# ---------- prerequisites ----------
"$STRATA" --help >/dev/null 2>&1 || die "$STRATA does not run; build it first with \`make release\`"
if [ ! -x /usr/bin/time ]; then
    log "installing GNU time (Debian package 'time')"
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq time
fi
VENV=$BENCH/.venv
DVC=$VENV/bin/dvc
if [ "$SKIP_DVC" != 1 ]; then
    if [ ! -x "$DVC" ]; then
        log "creating $VENV and installing $DVC_SPEC"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q --upgrade pip
        "$VENV/bin/pip" install -q "$DVC_SPEC"
    fi
    "$DVC" --version >/dev/null || die "dvc in $VENV does not run"
fi
command -v git >/dev/null || die "git is needed for dvc init"
command -v sha256sum >/dev/null || die "sha256sum (coreutils) is needed"

# ---------- work folder and metadata ----------
TS=$(date -u +%Y%m%dT%H%M%SZ)
WORK=$BENCH/work/$TS
# Every run keeps its copies (deleting ~1M small files slows the disk for minutes), about 14 GiB for the defaults:
# refuse to start rather than fail half-way with ENOSPC (and leave the rest of the machine without space).
NEED_GIB=$(awk -v r="$RUNS" -v n="$N_SMALL" -v l="$LARGE_GIB" 'BEGIN { printf "%d", r * (n * 16 / 1048576 + 1.5 * l) + l + n * 4 / 1048576 + 1 }')
FREE_GIB=$(df -P -BG "$BENCH" | awk 'NR==2 { sub("G", "", $4); print $4 }')
[ "$FREE_GIB" -ge "$NEED_GIB" ] || die "about $NEED_GIB GiB of free space needed under $BENCH, $FREE_GIB GiB free; delete old runs (chmod -R u+w bench/work && rm -rf bench/work/<old run>) or lower RUNS / N_SMALL / LARGE_GIB"
mkdir -p "$WORK/logs"
RESULTS=$WORK/results.tsv
printf 'run\ttool\top\twall_s\tuser_s\tsys_s\tmaxrss_kb\trc\tfiles\tbytes\n' >"$RESULTS"
{
    echo "date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "host_cores=$(nproc)"
    echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "sha_ni=$(grep -q -m1 sha_ni /proc/cpuinfo && echo yes || echo no)"
    echo "mem_gib=$(awk '/MemTotal/ {printf "%.0f", $2/1048576}' /proc/meminfo)"
    echo "kernel=$(uname -r)"
    echo "fs=$(df -T "$WORK" | awk 'NR==2 {print $2}')"
    echo "strata_commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "strata_binary=$STRATA"
    echo "strata_binary_mtime=$(date -u -r "$STRATA" +%Y-%m-%dT%H:%M:%SZ)"
    if [ "$SKIP_DVC" != 1 ]; then echo "dvc_version=$("$DVC" --version)"; fi
    echo "sha256sum=$(sha256sum --version | head -1)"
    echo "n_small=$N_SMALL"
    echo "large_gib=$LARGE_GIB"
    echo "runs=$RUNS"
    echo "load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$WORK/meta.env"
log "work folder: $WORK"

# ---------- data (generated once, copied fresh per run and tool) ----------
SMALL=$WORK/master/small
LARGE=$WORK/master/large
log "generating $N_SMALL small files"
python3 "$HERE/gen.py" small "$SMALL" "$N_SMALL" "$SEED" >&2
log "generating $LARGE_GIB GiB of large files"
python3 "$HERE/gen.py" large "$LARGE" "$LARGE_GIB" "$SEED" >&2
SMALL_BYTES=$(find "$SMALL" -type f -printf '%s\n' | awk '{s+=$1} END {printf "%.0f\n", s}')
LARGE_FILES=$(find "$LARGE" -type f | wc -l)
LARGE_BYTES=$(find "$LARGE" -type f -printf '%s\n' | awk '{s+=$1} END {printf "%.0f\n", s}')
sync

warm() { # read every file under the given paths so that timed runs start with a warm page cache
    local p
    for p in "$@"; do find "$p" -type f -exec cat {} + >/dev/null; done
}

# timed RUN TOOL OP FILES BYTES -- command...   (appends one row to results.tsv)
timed() {
    local run=$1 tool=$2 op=$3 files=$4 bytes=$5
    shift 6
    local base="$WORK/logs/run$run-$tool-$op"
    sync  # no dirty pages of earlier steps may be flushed inside the measurement
    local rc=0
    /usr/bin/time -f '%e %U %S %M' -o "$base.time" "$@" >"$base.out" 2>"$base.err" || rc=$?
    local wall user sys rss
    read -r wall user sys rss < <(tail -n 1 "$base.time")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$tool" "$op" "$wall" "$user" "$sys" "$rss" "$rc" "$files" "$bytes" >>"$RESULTS"
    log "run $run  $tool $op: ${wall}s wall, ${user}s user, ${sys}s sys, rc=$rc"
}

strata_small() {
    local run=$1 dir=$2
    warm "$dir/data"
    timed "$run" strata ingest "$N_SMALL" "$SMALL_BYTES" -- \
        "$STRATA" ingest "$dir/data" --source bench --date 2026-01-01 -C "$dir/proj" --json
    grep -q '"accepted" *: *'"$N_SMALL" "$WORK/logs/run$run-strata-ingest.out" ||
        log "warning: strata accepted count is not $N_SMALL (see $WORK/logs/run$run-strata-ingest.out)"
}

dvc_small() {
    local run=$1 dir=$2
    warm "$dir/repo"
    timed "$run" dvc add "$N_SMALL" "$SMALL_BYTES" -- \
        bash -c 'cd "$1" && exec "$2" add -q data' _ "$dir/repo" "$DVC"
}

# ---------- runs ----------
for run in $(seq 1 "$RUNS"); do
    R=$WORK/run$run
    log "=== run $run/$RUNS: preparing fresh copies"
    mkdir -p "$R/strata" "$R/large"
    cp -r "$SMALL" "$R/strata/data"
    "$STRATA" init "$R/strata/proj" --modality text >"$WORK/logs/run$run-strata-init.out" 2>&1
    if [ "$SKIP_DVC" != 1 ]; then
        mkdir -p "$R/dvc/repo"
        (cd "$R/dvc/repo" && git init -q && "$DVC" init -q && "$DVC" config core.analytics false)
        cp -r "$SMALL" "$R/dvc/repo/data"
    fi
    "$STRATA" init "$R/large/proj" --modality text >>"$WORK/logs/run$run-strata-init.out" 2>&1
    sync

    # Small files: ingest vs add (alternating which tool goes first), then unchanged status twice each.
    if [ "$SKIP_DVC" = 1 ]; then
        strata_small "$run" "$R/strata"
    elif [ $((run % 2)) = 1 ]; then
        strata_small "$run" "$R/strata"; dvc_small "$run" "$R/dvc"
    else
        dvc_small "$run" "$R/dvc"; strata_small "$run" "$R/strata"
    fi
    warm "$R/strata"
    timed "$run" strata status "$N_SMALL" "$SMALL_BYTES" -- "$STRATA" status -C "$R/strata/proj" --json
    timed "$run" strata status2 "$N_SMALL" "$SMALL_BYTES" -- "$STRATA" status -C "$R/strata/proj" --json
    if [ "$SKIP_DVC" != 1 ]; then
        warm "$R/dvc/repo"
        timed "$run" dvc status "$N_SMALL" "$SMALL_BYTES" -- bash -c 'cd "$1" && exec "$2" status' _ "$R/dvc/repo" "$DVC"
        timed "$run" dvc status2 "$N_SMALL" "$SMALL_BYTES" -- bash -c 'cd "$1" && exec "$2" status' _ "$R/dvc/repo" "$DVC"
    fi

    # Large files: ingest (hash + copy + syncfs), sha256sum, and strata status after touch (hash only).
    # Random bytes are not text, so a text project quarantines them: the same read, hash and copy work.
    warm "$LARGE"
    timed "$run" strata ingest-large "$LARGE_FILES" "$LARGE_BYTES" -- \
        "$STRATA" ingest "$LARGE" --source large --date 2026-01-01 -C "$R/large/proj" --json
    warm "$LARGE"
    timed "$run" sha256sum hash "$LARGE_FILES" "$LARGE_BYTES" -- bash -c 'exec sha256sum "$1"/*' _ "$LARGE"
    if command -v openssl >/dev/null; then
        timed "$run" openssl hash "$LARGE_FILES" "$LARGE_BYTES" -- bash -c 'exec openssl dgst -sha256 "$1"/*' _ "$LARGE"
    fi
    touch "$LARGE"/*
    warm "$LARGE"
    timed "$run" strata hash "$LARGE_FILES" "$LARGE_BYTES" -- "$STRATA" status -C "$R/large/proj" --json
    grep -q '"files_hashed" *: *'"$LARGE_FILES" "$WORK/logs/run$run-strata-hash.out" ||
        log "warning: strata status did not re-hash all $LARGE_FILES large files (see $WORK/logs/run$run-strata-hash.out)"
done
echo "load_at_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$WORK/meta.env"

python3 "$HERE/report.py" "$WORK"
if [ "$CLEAN" = 1 ]; then
    log "deleting $WORK/run* and $WORK/master"
    chmod -R u+w "$WORK" && rm -rf "$WORK"/run* "$WORK/master"
else
    log "data kept in $WORK (delete it when done: chmod -R u+w $BENCH/work && rm -rf $BENCH/work/*)"
fi
