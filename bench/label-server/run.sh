#!/usr/bin/env bash
# bench/label-server: CLIENTS concurrent clients submit labels over loopback to `strata label serve` for DURATION
# seconds, then the server is killed with -9 while they are still sending. Reports submissions per second,
# p50/p99 latency of POST /api/labels, and acknowledged (201) vs stored after the kill (must be equal).
# Each run gets a fresh project folder (nothing is deleted until the end). Usage: bash bench/label-server/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
CLIENTS=${CLIENTS:-50}
DURATION=${DURATION:-20}
SAMPLES=${SAMPLES:-20000}
RUNS=${RUNS:-3}
WORK=${WORK:-bench/label-server/.work}
export PATH="$PATH:/opt/swift/usr/bin"

# BIN=/path/to/strata skips the build (e.g. a release binary built with another --scratch-path).
if [ -z "${BIN:-}" ]; then
  swift build -c release --product strata >/dev/null
  BIN=$PWD/.build/release/strata
fi
mkdir -p "$WORK"
swiftc -O bench/label-server/loadgen.swift -o "$WORK/loadgen"
RESULTS="$WORK/results-$(date +%Y%m%d-%H%M%S).jsonl"

for run in $(seq 1 "$RUNS"); do
  P="$WORK/project-$run-$$-$(date +%s)"
  "$BIN" init "$P" --modality text >/dev/null
  cat > "$P/rulebook.yaml" <<'YAML'
version: 1
labels:
  - {name: positive, definition: The writer is pleased.}
  - {name: negative, definition: The writer is unhappy.}
  - {name: neutral, definition: No feeling either way.}
decision_path:
  question: Does the text express a feeling?
  answers:
    - answer: "yes"
      next:
        question: Is the feeling good?
        answers:
          - {answer: "yes", label: positive}
          - {answer: "no", label: negative}
    - {answer: "no", label: neutral}
annotators_per_sample: 3
gold_rate: 0
YAML
  python3 - "$P/in.jsonl" "$SAMPLES" <<'PY'
import json, random, sys
random.seed(7)
words = "the parcel arrived late early broken fine great awful box driver support refund price quality".split()
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write(json.dumps({"text": "Review %d: " % i + " ".join(random.choice(words) for _ in range(20))}) + "\n")
PY
  "$BIN" ingest "$P/in.jsonl" --source bench --records -C "$P" >/dev/null
  : > "$P/tokens"
  for i in $(seq 1 "$CLIENTS"); do
    "$BIN" label taskers add "c$i" --role tasker --json -C "$P" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["name"], d["token"])' >> "$P/tokens"
  done
  "$BIN" label serve --port 0 --json -C "$P" > "$P/server.out" 2>"$P/server.err" &
  SERVER=$!
  for _ in $(seq 1 100); do grep -q listening "$P/server.out" 2>/dev/null && break; sleep 0.1; done
  PORT=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["port"])' "$P/server.out")
  # The clients would go on for 5 s more: the kill lands in the middle of the load.
  "$WORK/loadgen" 127.0.0.1 "$PORT" "$P/tokens" $((DURATION + 5)) "$P/acked" > "$P/load.json" &
  LOAD=$!
  sleep "$DURATION"
  # CPU seconds the server used (user + sys, from /proc) and the load average, just before the kill.
  python3 -c 'import os,sys; f=open("/proc/%s/stat" % sys.argv[1]).read().rsplit(")",1)[1].split(); t=os.sysconf("SC_CLK_TCK"); print("%.2f %.2f" % (int(f[11])/t, int(f[12])/t))' "$SERVER" > "$P/server.cpu" || echo "0 0" > "$P/server.cpu"
  cut -d" " -f1 /proc/loadavg > "$P/loadavg"
  kill -9 "$SERVER"
  wait "$LOAD" || true
  wait "$SERVER" 2>/dev/null || true
  python3 - "$P" "$run" >> "$RESULTS" <<'PY'
import json, sqlite3, sys
p, run = sys.argv[1], int(sys.argv[2])
load = json.load(open(p + "/load.json"))
acked = set(tuple(l.split()) for l in open(p + "/acked") if l.strip())
db = sqlite3.connect(p + "/.strata/catalog.sqlite")
stored = set(db.execute("SELECT annotator, sampleId FROM labelEvent WHERE source = 'human'").fetchall())
user, sys_ = (float(x) for x in open(p + "/server.cpu").read().split())
load.update(run=run, acked_pairs=len(acked), stored=len(stored), lost=len(acked - stored),
            server_user_s=user, server_sys_s=sys_, loadavg=float(open(p + "/loadavg").read()))
print(json.dumps(load))
PY
  tail -1 "$RESULTS"
done

python3 - "$RESULTS" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = lambda k: statistics.median(r[k] for r in rows)
print("runs: %d, clients: %d" % (len(rows), rows[0]["clients"]))
print("submissions/s median: %.0f  (runs: %s)" % (med("per_second"), ", ".join("%.0f" % r["per_second"] for r in rows)))
print("POST p50 median: %.2f ms, p99 median: %.2f ms" % (med("p50_ms"), med("p99_ms")))
print("server CPU (user+sys) median: %.1f s over the load, %.3f ms per acknowledged label; load average at the kill: %s" % (
    statistics.median(r["server_user_s"] + r["server_sys_s"] for r in rows),
    statistics.median(1000 * (r["server_user_s"] + r["server_sys_s"]) / max(r["acked_pairs"], 1) for r in rows),
    ", ".join("%.1f" % r["loadavg"] for r in rows)))
print("load generator CPU (user+sys) median: %.1f s" % statistics.median(r.get("loadgen_user_s", 0) + r.get("loadgen_sys_s", 0) for r in rows))
print("acknowledged vs stored: %s" % ", ".join("%d/%d lost %d" % (r["acked_pairs"], r["stored"], r["lost"]) for r in rows))
ok = med("per_second") >= 2000 and med("p99_ms") < 50 and all(r["lost"] == 0 for r in rows)
print("floor (>= 2000/s, p99 < 50 ms, zero lost): " + ("met" if ok else "NOT met"))
PY
