#!/usr/bin/env bash
# Remote benchmark: strata push / clone vs dvc push / pull, same data, same S3 server (OpenStack Swift + s3api
# from scripts/s3/start.sh), fresh buckets per tool and per round, tool order alternated per round.
#
#   bash bench/remote/run.sh
#
# Environment (defaults in brackets):
#   N [20000]        small text files of 1-4 KiB (bench/ingest/gen.py, 100 folders). N=100000 is the issue's
#                    size; it needs a quiet machine (dvc push alone then takes ~10+ minutes per round here)
#   RUNS [3]         rounds; each round pushes to fresh buckets and clones/pulls into fresh folders
#   STRATA [.build/release/strata]   the binary under test
#   DVC [bench/.venv-remote/bin/dvc] dvc with the s3 extra; created with pip (DVC_SPEC, default 'dvc[s3]') if missing
#   REMOTE [s3]      s3, or file (fallback: strata file:// vs dvc local remote, both on this disk)
#   SEED [20260101]
#
# Everything goes to bench/work/remote-<UTC timestamp>/ (ignored by git): data, projects, clones, logs/,
# meta.env and results.tsv. bench/remote/report.py then writes bench/remote/results.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH=$(dirname "$HERE")
REPO=$(dirname "$BENCH")
STRATA=${STRATA:-$REPO/.build/release/strata}
N=${N:-20000}
RUNS=${RUNS:-3}
REMOTE=${REMOTE:-s3}
SEED=${SEED:-20260101}
DVC_SPEC=${DVC_SPEC:-dvc[s3]}
DVC=${DVC:-$BENCH/.venv-remote/bin/dvc}
export DVC_NO_ANALYTICS=1

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 2; }

"$STRATA" --help >/dev/null 2>&1 || die "$STRATA does not run; build it with \`swift build -c release --product strata\`"
[ -x /usr/bin/time ] || die "GNU time is needed: apt-get install time"
if [ ! -x "$DVC" ]; then
    VENV=$(dirname "$(dirname "$DVC")")
    log "creating $VENV with $DVC_SPEC"
    python3 -m venv "$VENV" && "$VENV/bin/pip" install -q "$DVC_SPEC"
fi
"$DVC" --version >/dev/null || die "$DVC does not run"
case $REMOTE in
    s3) eval "$(bash "$REPO/scripts/s3/start.sh")" ;;
    file) ;;
    *) die "REMOTE must be s3 or file" ;;
esac

TS=$(date -u +%Y%m%dt%H%M%Sz)
WORK=$BENCH/work/remote-$TS
mkdir -p "$WORK/logs"
RESULTS=$WORK/results.tsv
printf 'round\ttool\top\twall_s\tuser_s\tsys_s\tmaxrss_kb\trc\tfiles_after\n' >"$RESULTS"
{
    echo "date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
    echo "cores=$(nproc)"
    echo "kernel=$(uname -r)"
    echo "strata_commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "strata_binary=$STRATA"
    echo "strata_binary_mtime=$(date -u -r "$STRATA" +%Y-%m-%dT%H:%M:%SZ)"
    echo "dvc_version=$("$DVC" --version)"
    echo "dvc_s3=$("$(dirname "$DVC")/pip" show dvc-s3 2>/dev/null | sed -n 's/^Version: //p')"
    echo "remote=$REMOTE"
    echo "endpoint=${AWS_ENDPOINT_URL:-file}"
    echo "n=$N"
    echo "runs=$RUNS"
    echo "load_before=$(uptime | sed 's/.*load average: //')"
} >"$WORK/meta.env"
log "work folder: $WORK"

# timed ROUND TOOL OP DIR_TO_COUNT -- command...   (appends one row to results.tsv)
timed() {
    local round=$1 tool=$2 op=$3 count=$4
    shift 5
    local base="$WORK/logs/r$round-$tool-$op"
    sync
    local rc=0
    /usr/bin/time -f '%e %U %S %M' -o "$base.time" "$@" >"$base.out" 2>"$base.err" || rc=$?
    local wall user sys rss files=-
    read -r wall user sys rss < <(tail -n 1 "$base.time")
    [ "$count" = - ] || files=$(find "$count" -type f | wc -l)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$tool" "$op" "$wall" "$user" "$sys" "$rss" "$rc" "$files" >>"$RESULTS"
    log "round $round  $tool $op: ${wall}s wall, ${user}s user, ${sys}s sys, rc=$rc, files=$files"
    [ "$rc" = 0 ] || { log "$tool $op failed; stderr:"; tail -n 20 "$base.err" >&2; }
}

# ---------- data and the two source projects (not timed) ----------
log "generating $N files"
python3 "$BENCH/ingest/gen.py" small "$WORK/master" "$N" "$SEED" >&2
SP=$WORK/src/strata
DR=$WORK/src/dvc
log "strata: init, ingest, run, version create v1, promote"
"$STRATA" init "$SP" --modality text >"$WORK/logs/prep-strata.out"
"$STRATA" ingest "$WORK/master" --source bench --date 2026-01-01 -C "$SP" >>"$WORK/logs/prep-strata.out" 2>&1
"$STRATA" run -C "$SP" >>"$WORK/logs/prep-strata.out" 2>&1
"$STRATA" version create v1 -m bench -C "$SP" >>"$WORK/logs/prep-strata.out" 2>&1
"$STRATA" version promote v1 -C "$SP" >>"$WORK/logs/prep-strata.out" 2>&1
"$STRATA" version show v1 -C "$SP" | tee -a "$WORK/logs/prep-strata.out" | sed -n 's/^samples: */strata_samples=/p; s/^splits: */strata_splits=/p' >>"$WORK/meta.env"
log "dvc: git init, dvc init, dvc add data"
mkdir -p "$DR"
cp -r "$WORK/master" "$DR/data"
(cd "$DR" && git init -q && "$DVC" init -q && "$DVC" config core.analytics false && "$DVC" add -q data &&
    git add -A >/dev/null && git -c user.email=b@b -c user.name=bench commit -qm data) >"$WORK/logs/prep-dvc.out" 2>&1
echo "bytes=$(find "$WORK/master" -type f -printf '%s\n' | awk '{s+=$1} END {printf "%.0f", s}')" >>"$WORK/meta.env"

# ---------- remotes ----------
remote_url() { # TOOL ROUND
    if [ "$REMOTE" = s3 ]; then echo "s3://rb-$TS-$1-$2/bench"; else echo "$WORK/remotes/$1-$2"; fi
}
new_remote() { # TOOL ROUND: create the bucket (s3) or folder (file)
    if [ "$REMOTE" = s3 ]; then python3 "$HERE/mkbucket.py" "rb-$TS-$1-$2"; else mkdir -p "$WORK/remotes/$1-$2"; fi
}

strata_push() {
    local r=$1 url
    url=$(remote_url strata "$r")
    new_remote strata "$r"
    [ "$REMOTE" = s3 ] || url="file://$url"
    "$STRATA" remote add "r$r" "$url" -C "$SP" >/dev/null
    timed "$r" strata push - -- "$STRATA" push v1 -r "r$r" --json -C "$SP"
}
dvc_push() {
    local r=$1 url
    url=$(remote_url dvc "$r")
    new_remote dvc "$r"
    (cd "$DR" && "$DVC" remote add -f "r$r" "$url" &&
        if [ "$REMOTE" = s3 ]; then "$DVC" remote modify "r$r" endpointurl "$AWS_ENDPOINT_URL" && "$DVC" remote modify "r$r" region "$AWS_REGION"; fi)
    timed "$r" dvc push - -- bash -c 'cd "$1" && exec "$2" push -r "$3"' _ "$DR" "$DVC" "r$r"
}
strata_clone() { # ROUND: whole version, then the train split alone, then the test split alone
    local r=$1 url
    url=$(remote_url strata "$r")
    [ "$REMOTE" = s3 ] || url="file://$url"
    timed "$r" strata clone "$WORK/r$r/strata-clone/data/raw" -- "$STRATA" clone "$url" "$WORK/r$r/strata-clone" --json
    timed "$r" strata clone-train "$WORK/r$r/strata-train/data/raw" -- "$STRATA" clone "$url" "$WORK/r$r/strata-train" --split train --json
    timed "$r" strata clone-test "$WORK/r$r/strata-test/data/raw" -- "$STRATA" clone "$url" "$WORK/r$r/strata-test" --split test --json
}
dvc_pull() { # ROUND: a fresh checkout (git init + dvc init, then the source's .dvc/config and data.dvc), then dvc pull
    local r=$1 d=$WORK/r$r/dvc-checkout
    mkdir -p "$d"
    (cd "$d" && git init -q && "$DVC" init -q && cp "$DR/.dvc/config" .dvc/config && cp "$DR/data.dvc" "$DR/.gitignore" .)
    timed "$r" dvc pull "$d/data" -- bash -c 'cd "$1" && exec "$2" pull -r "$3"' _ "$d" "$DVC" "r$r"
}

for r in $(seq 1 "$RUNS"); do
    log "=== round $r/$RUNS"
    if [ $((r % 2)) = 1 ]; then
        strata_push "$r"; dvc_push "$r"; strata_clone "$r"; dvc_pull "$r"
    else
        dvc_push "$r"; strata_push "$r"; dvc_pull "$r"; strata_clone "$r"
    fi
done
echo "load_after=$(uptime | sed 's/.*load average: //')" >>"$WORK/meta.env"
python3 "$HERE/report.py" "$WORK"
