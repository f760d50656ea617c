#!/usr/bin/env bash
# Stops the test cluster started by scripts/slurm/start.sh: cancels its jobs, shuts down slurmctld and slurmd, and
# munged if start.sh started it (KEEP_MUNGE=1 keeps it). Does nothing when the cluster is not running.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/cluster.sh"
[ "$(id -u)" = 0 ] || { say "run as root"; exit 1; }

ctld=$(running slurmctld || true)
slurmd=$(running slurmd || true)
if [ -n "$ctld" ] && controller_answers; then
    jobs=$(squeue -h -o %A -t PENDING,RUNNING,SUSPENDED,CONFIGURING 2>/dev/null | sort -u | tr '\n' ' ')
    if [ -n "${jobs// /}" ]; then say "cancelling jobs $jobs"; scancel $jobs 2>/dev/null || true; sleep 1; fi
    scontrol shutdown >/dev/null 2>&1 || true
fi
# Wait for each daemon to exit by its pid, then insist (TERM, then KILL), never by name.
for pid in $slurmd $ctld; do
    gone() { [ ! -d "/proc/$pid" ] || [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" = Z ]; }
    until_ok 20 "pid $pid to exit" gone || { kill -TERM "$pid" 2>/dev/null || true; until_ok 10 "pid $pid after TERM" gone || kill -KILL "$pid" 2>/dev/null || true; }
done
rm -f "$PIDS/slurmctld.pid" "$PIDS/slurmd.pid"
if [ -f "$PIDS/munged.ours" ] && [ "${KEEP_MUNGE:-0}" != 1 ]; then
    /usr/sbin/munged --stop --socket="$MUNGE_SOCK" >/dev/null 2>&1 || true
    rm -f "$PIDS/munged.ours"
fi
say "stopped"
