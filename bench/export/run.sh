#!/usr/bin/env bash
# Export benchmark: write the same in-memory table of N text samples with metadata to Parquet with Strata's
# writer (`strata bench-parquet`) and with pyarrow (`pq.write_table`), same compression, alternating runs.
#
#   bash bench/export/run.sh
#
# Environment: N [1000000] rows; RUNS [3] per tool and codec; CODECS ["zstd snappy"];
#              STRATA [.build/release/strata]; PYARROW_SPEC [pyarrow==26.0.1]
#
# What is measured: only the write (encode + compress + write for Strata, no fsync; pq.write_table for pyarrow),
# timed inside each process after the table is loaded: wall seconds and CPU seconds (user + system, all threads;
# on a busy machine compare CPU, and quote the load average printed with each run); file size; memory during the write: each process resets
# the kernel's peak-RSS mark (/proc/self/clear_refs) after loading, then reports its RSS before the write and
# the peak during it (both include the loaded table: Strata holds rows as Swift values, pyarrow as Arrow
# columns); and the whole process's peak RSS from /usr/bin/time (loading included).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$(dirname "$HERE")")
STRATA=${STRATA:-$REPO/.build/release/strata}
N=${N:-1000000}
RUNS=${RUNS:-3}
CODECS=${CODECS:-zstd snappy}
VENV=$REPO/bench/.venv-export
WORK=$REPO/bench/work/export
mkdir -p "$WORK"
"$STRATA" --help >/dev/null || { echo "build strata first: swift build -c release" >&2; exit 2; }
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "${PYARROW_SPEC:-pyarrow==26.0.1}"
fi
PY=$VENV/bin/python
DATA=$WORK/table-$N.jsonl
[ -f "$DATA" ] || "$PY" "$HERE/gen.py" "$N" "$DATA"
RESULTS=$WORK/results.tsv
printf 'tool\tcodec\trun\twrite_s\twrite_cpu_s\tbytes\tprocess_peak_kib\tbefore_write_kib\tpeak_write_kib\tload1\n' > "$RESULTS"
measure() {  # tool codec run command...
    local tool=$1 codec=$2 run=$3; shift 3
    local out
    out=$(/usr/bin/time -f '%M' -o "$WORK/time.txt" "$@")
    local fields
    fields=$(echo "$out" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print("\t".join(str(d[k]) for k in ("write_seconds","write_cpu_seconds","bytes")))')
    local mem
    mem=$(echo "$out" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print("\t".join(str(d[k]) for k in ("rss_before_kib","peak_during_write_kib")))')
    local load
    load=$(cut -d' ' -f1 /proc/loadavg)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$codec" "$run" "$fields" "$(tail -1 "$WORK/time.txt")" "$mem" "$load" >> "$RESULTS"
    echo "$tool $codec run $run: wall/cpu/bytes $fields, process peak $(tail -1 "$WORK/time.txt") KiB, write: $mem KiB, load $load" >&2
}
for codec in $CODECS; do
    for run in $(seq 1 "$RUNS"); do
        measure strata "$codec" "$run" "$STRATA" bench-parquet "$DATA" "$WORK/strata.$codec.parquet" --compression "$codec"
        measure pyarrow "$codec" "$run" "$PY" "$HERE/pyarrow_write.py" "$DATA" "$WORK/pyarrow.$codec.parquet" "$codec"
    done
    "$PY" "$HERE/verify.py" "$WORK/strata.$codec.parquet" "$WORK/pyarrow.$codec.parquet"
done
"$PY" - "$RESULTS" <<'PYEOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
print("| codec | tool | write wall s (median) | write CPU s (median) | file MiB | RSS before write MiB | peak during write MiB | added by the write MiB | process peak MiB |")
print("|---|---|---|---|---|---|---|---|---|")
med = {}
for codec in dict.fromkeys(r["codec"] for r in rows):
    for tool in ("strata", "pyarrow"):
        rs = [r for r in rows if r["codec"] == codec and r["tool"] == tool]
        s = statistics.median(float(r["write_s"]) for r in rs)
        cpu = statistics.median(float(r["write_cpu_s"]) for r in rs)
        b = statistics.median(int(r["bytes"]) for r in rs)
        m = statistics.median(int(r["peak_write_kib"]) for r in rs)
        before = statistics.median(int(r["before_write_kib"]) for r in rs)
        added = statistics.median(int(r["peak_write_kib"]) - int(r["before_write_kib"]) for r in rs)
        proc = statistics.median(int(r["process_peak_kib"]) for r in rs)
        med[(codec, tool)] = (s, b, m, added, cpu)
        print(f"| {codec} | {tool} | {s:.2f} | {cpu:.2f} | {b / 2**20:.1f} | {before / 1024:.0f} | {m / 1024:.0f} | {added / 1024:.0f} | {proc / 1024:.0f} |")
print()
for codec in dict.fromkeys(r["codec"] for r in rows):
    (ss, sb, sm, sa, sc), (ps, pb, pm, pa, pc) = med[(codec, "strata")], med[(codec, "pyarrow")]
    print(f"{codec}: strata is {ps / ss:.2f}x pyarrow's speed (wall), uses {sc / pc:.2f}x its CPU; file size {sb / pb:.3f}x; peak during the write {sm / pm:.2f}x; added by the write {sa / max(pa, 1):.2f}x")
loads = [float(r["load1"]) for r in rows]
print(f"\n1-minute load average during the runs: {min(loads):.1f} to {max(loads):.1f} (2 cores)")
PYEOF
