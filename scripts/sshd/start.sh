#!/usr/bin/env bash
# A private sshd on 127.0.0.1 for the SSH remote tests: its own host key, one generated client key, no passwords.
# Prints `export ...` lines on stdout (eval them); everything else goes to stderr. Idempotent: a running server
# is only checked. Needs Debian's openssh-server (installed if missing and we are root).
#   STRATA_SSHD_DIR   state folder (default /tmp/strata-sshd-$UID)   STRATA_SSHD_PORT  port (default 62022)
set -euo pipefail
dir="${STRATA_SSHD_DIR:-/tmp/strata-sshd-$(id -u)}"
port="${STRATA_SSHD_PORT:-62022}"
sshd=/usr/sbin/sshd
if [ ! -x "$sshd" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "installing openssh-server" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server >/dev/null; }
    else
        echo "sshd not found: install openssh-server" >&2; exit 1
    fi
fi
mkdir -p "$dir" && chmod 700 "$dir"
[ -f "$dir/host_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key" >&2
[ -f "$dir/client_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$dir/client_key" >&2
cp "$dir/client_key.pub" "$dir/authorized_keys" && chmod 600 "$dir/authorized_keys"
cat > "$dir/sshd_config" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $dir/host_key
AuthorizedKeysFile $dir/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
PidFile $dir/sshd.pid
MaxStartups 64:30:128
MaxSessions 64
CONF
running() {
    [ -f "$dir/sshd.pid" ] || return 1
    local pid; pid=$(cat "$dir/sshd.pid")
    [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "$dir/sshd_config"
}
if ! running; then
    mkdir -p /run/sshd 2>/dev/null || true
    # Detached from our stdout/stderr: a caller reading them to the end must not wait for the daemon.
    "$sshd" -f "$dir/sshd_config" -E "$dir/sshd.log" </dev/null >>"$dir/sshd.log" 2>&1
    for _ in $(seq 50); do running && break; sleep 0.1; done
    running || { echo "sshd did not start:" >&2; tail -20 "$dir/sshd.log" >&2; exit 1; }
fi
ssh_cmd="ssh -F /dev/null -i $dir/client_key -o IdentitiesOnly=yes -o UserKnownHostsFile=$dir/known_hosts -o StrictHostKeyChecking=accept-new"
# Readiness: one real login.
for i in $(seq 30); do
    if $ssh_cmd -o BatchMode=yes -p "$port" "$(id -un)@127.0.0.1" true 2>/dev/null; then break; fi
    [ "$i" = 30 ] && { echo "sshd on port $port does not accept the generated key:" >&2; tail -20 "$dir/sshd.log" >&2; exit 1; }
    sleep 0.2
done
echo "export STRATA_SSH_COMMAND='$ssh_cmd'"
echo "export STRATA_SSHD_PORT=$port"
echo "export STRATA_SSHD_USER=$(id -un)"
