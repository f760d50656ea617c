#!/usr/bin/env bash
# Stops the sshd that start.sh started (by its pid file, after checking its command line names our config).
set -euo pipefail
dir="${STRATA_SSHD_DIR:-/tmp/strata-sshd-$(id -u)}"
[ -f "$dir/sshd.pid" ] || exit 0
pid=$(cat "$dir/sshd.pid")
if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "$dir/sshd_config"; then
    kill "$pid"
fi
rm -f "$dir/sshd.pid"
