#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for SECONDS (default 60) on a copy of its committed seed corpus.
# Leak detection is off: Swift runtime metadata and Yams' lazy globals are one-time allocations LeakSanitizer reports.
# A crash stops the script with the failing input saved under Fuzz/artifacts/<target>/ and a non-zero exit.
#   bash Fuzz/run.sh            # 60 s each (what CI runs is set by .ci/run)
#   bash Fuzz/run.sh 3600 fuzz-csv   # a long run of one target
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$PATH:/opt/swift/usr/bin"
SECONDS_EACH=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(fuzz-json fuzz-csv fuzz-lines fuzz-spec fuzz-labels fuzz-bodies)
swift build -c debug --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address 2>&1 | grep -E "error|warning: |Compiling|Build complete" | grep -v "^\[" | tail -5
BIN=$(swift build -c debug --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address --show-bin-path)
export ASAN_OPTIONS=detect_leaks=0
export SWIFT_BACKTRACE=enable=no  # the Swift crash handler trips ASan after a fatalError; libFuzzer prints the stack
WORK=$(mktemp -d /tmp/strata-fuzz.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
status=0
for t in "${TARGETS[@]}"; do
  mkdir -p "$WORK/$t" "artifacts/$t"
  cp corpus/$t/* "$WORK/$t/" 2>/dev/null || true
  dict=(); [ -f "dict/$t.dict" ] && dict=(-dict="dict/$t.dict")
  echo "== $t: ${SECONDS_EACH}s"
  if ! "$BIN/$t" "$WORK/$t" corpus/$t "${dict[@]}" -max_total_time="$SECONDS_EACH" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -detect_leaks=0 \
        -artifact_prefix="artifacts/$t/" -print_final_stats=1 2>"$WORK/$t.log"; then
    tail -40 "$WORK/$t.log"
    echo "== $t FAILED: the input is in Fuzz/artifacts/$t/"
    status=1
  else
    grep -E "stat::number_of_executed_runs|stat::new_units_added" "$WORK/$t.log" | tr '\n' ' '; echo
  fi
done
exit $status
