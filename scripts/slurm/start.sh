#!/usr/bin/env bash
# Starts a one-node Slurm cluster for Strata's tests and benchmark: munged, slurmctld and slurmd as plain background
# processes (no systemd, no cgroups, no accounting database). Needs root. Installs the Debian packages if missing.
# Safe to run again: a cluster that is already up is only checked. Stop it with scripts/slurm/stop.sh.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/cluster.sh"
[ "$(id -u)" = 0 ] || { say "run as root (munged and slurmd need it)"; exit 1; }

if ! command -v sbatch >/dev/null || [ ! -x /usr/sbin/slurmctld ] || [ ! -x /usr/sbin/slurmd ] || [ ! -x /usr/sbin/munged ]; then
    say "installing slurmctld slurmd slurm-client munge"
    # The packages' init scripts must not start daemons with the stock config: deny them while installing.
    policy_made=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; policy_made=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -qq update
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -y -qq install --no-install-recommends \
        slurmctld slurmd slurm-client munge >/dev/null || { [ $policy_made = 1 ] && rm -f /usr/sbin/policy-rc.d; fail "apt-get install"; }
    [ $policy_made = 1 ] && rm -f /usr/sbin/policy-rc.d
fi
mkdir -p "$SLURM_TEST_HOME"/{state,spool,log} "$PIDS"

# munge: the key and the daemon (authentication between the Slurm daemons and the client commands).
if ! munge_answers; then
    install -d -o munge -g munge -m 0755 /run/munge
    install -d -o munge -g munge -m 0700 /etc/munge /var/log/munge
    install -d -o munge -g munge -m 0711 /var/lib/munge
    if [ ! -s /etc/munge/munge.key ]; then
        head -c 1024 /dev/urandom >/etc/munge/munge.key
    fi
    chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
    say "starting munged"
    runuser -u munge -- /usr/sbin/munged --socket="$MUNGE_SOCK" || fail "munged did not start"
    touch "$PIDS/munged.ours"
    until_ok "$SLURM_TEST_WAIT" munged munge_answers || fail "munged does not answer"
fi

# slurm.conf. Memory: RealMemory a little under what the kernel reports (slurmd refuses a node that claims more);
# DefMemPerCPU so that a job that asks for no memory does not get the whole node (array tasks would run one by one).
mem_mb=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))
new=$(mktemp)
cat >"$new" <<CONF
$MARK
ClusterName=stratatest
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$SLURM_TEST_HOME/state
SlurmdSpoolDir=$SLURM_TEST_HOME/spool
SlurmctldPidFile=$PIDS/slurmctld.pid
SlurmdPidFile=$PIDS/slurmd.pid
SlurmctldLogFile=$SLURM_TEST_HOME/log/slurmctld.log
SlurmdLogFile=$SLURM_TEST_HOME/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
DefMemPerCPU=$(( mem_mb / SLURM_TEST_CPUS ))
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge=3600
MaxArraySize=10001
MaxJobCount=100000
KillWait=5
InactiveLimit=0
PropagateResourceLimits=NONE
MailProg=/bin/true
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$SLURM_TEST_CPUS RealMemory=$mem_mb State=UNKNOWN
PartitionName=$SLURM_TEST_PARTITION Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
if [ -f "$CONF" ] && ! grep -qxF "$MARK" "$CONF"; then
    rm -f "$new"; say "$CONF exists and was not written by this script: not touching it"; exit 1
fi
if ! cmp -s "$new" "$CONF" 2>/dev/null; then
    mkdir -p /etc/slurm && install -m 0644 "$new" "$CONF"
    say "wrote $CONF"
    # A changed config needs fresh daemons.
    if running slurmctld >/dev/null || running slurmd >/dev/null; then KEEP_MUNGE=1 bash "$(dirname "${BASH_SOURCE[0]}")/stop.sh"; fi
fi
rm -f "$new"

if ! running slurmctld >/dev/null; then
    # In CI, jobs saved by an earlier (killed) cluster must not come back.
    [ "${CI:-}" = true ] && rm -rf "${SLURM_TEST_HOME:?}/state"/* "${SLURM_TEST_HOME:?}/spool"/*
    say "starting slurmctld"
    /usr/sbin/slurmctld -f "$CONF" || fail "slurmctld did not start"
fi
until_ok "$SLURM_TEST_WAIT" slurmctld controller_answers || fail "slurmctld does not answer"
if ! running slurmd >/dev/null; then
    say "starting slurmd"
    /usr/sbin/slurmd -f "$CONF" -N localhost || fail "slurmd did not start"
fi
node_usable() {
    case "$(sinfo -h -N -n localhost -o %T 2>/dev/null | head -n1)" in
        idle*|mixed*|allocated*|completing*) return 0 ;;
        down*|drain*|fail*) scontrol update NodeName=localhost State=RESUME >/dev/null 2>&1; return 1 ;;
        *) return 1 ;;
    esac
}
until_ok "$SLURM_TEST_WAIT" "the node to be usable" node_usable || { sinfo -N -l >&2; fail "node not usable"; }
say "up: partition $SLURM_TEST_PARTITION, $SLURM_TEST_CPUS CPUs, $mem_mb MB"
