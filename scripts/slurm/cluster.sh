# shellcheck shell=bash
# Settings and helpers shared by start.sh and stop.sh (sourced). Every setting can be overridden from the environment.
#
#   SLURM_TEST_HOME   [/var/tmp/strata-test-slurm]  state, spool, logs and pid files of the test cluster
#   SLURM_TEST_CPUS   [nproc]                       CPUs of the single node
#   SLURM_TEST_WAIT   [60]                          seconds to wait for each daemon
#   SLURM_TEST_PARTITION [debug]                    name of the one (default) partition
#
# The cluster config is written to /etc/slurm/slurm.conf (where sbatch, squeue and scontrol look by default), with a
# marker line; a slurm.conf without the marker belongs to someone else and is never overwritten.
: "${SLURM_TEST_HOME:=/var/tmp/strata-test-slurm}"
: "${SLURM_TEST_CPUS:=$(nproc)}"
: "${SLURM_TEST_WAIT:=60}"
: "${SLURM_TEST_PARTITION:=debug}"
export PATH="$PATH:/usr/sbin:/sbin"

CONF=/etc/slurm/slurm.conf
MARK="# written by strata scripts/slurm/start.sh (test cluster)"
MUNGE_SOCK=/run/munge/munge.socket.2
PIDS="$SLURM_TEST_HOME/pids"

say() { echo "[slurm-test] $*" >&2; }
fail() { say "FAILED: $*"; show_logs; exit 1; }

show_logs() {
    local f
    for f in /var/log/munge/munged.log "$SLURM_TEST_HOME/log/slurmctld.log" "$SLURM_TEST_HOME/log/slurmd.log"; do
        [ -f "$f" ] && { echo "--- tail of $f" >&2; tail -n 30 "$f" >&2; }
    done
    return 0
}

# running NAME: pid of a live (not zombie) daemon NAME from its pid file, or nothing.
running() {
    local pid
    pid=$(cat "$PIDS/$1.pid" 2>/dev/null | tr -cd '0-9') || true
    [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
    grep -q "^$1" "/proc/$pid/comm" 2>/dev/null || return 1
    # a killed daemon that was not reaped yet is a zombie: it does not count
    [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ] || return 1
    echo "$pid"
}

munge_answers() { munge -n -S "$MUNGE_SOCK" 2>/dev/null | unmunge -S "$MUNGE_SOCK" >/dev/null 2>&1; }
controller_answers() { scontrol ping 2>/dev/null | grep -q 'is UP'; }

# until_ok SECONDS WHAT COMMAND...: retry COMMAND every 0.25 s
until_ok() {
    local end=$(( $(date +%s) + $1 )) what=$2
    shift 2
    while ! "$@"; do
        [ "$(date +%s)" -lt "$end" ] || { say "gave up after waiting for $what"; return 1; }
        sleep 0.25
    done
}
