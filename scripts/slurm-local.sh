#!/usr/bin/env bash
# A one-node Slurm cluster on this host, for CI and for trying deploy/slurm/ by hand.
#
# Installs Debian's slurm-wlm and munge (apt-get, only what is missing), writes a slurm.conf
# for this host (one node: `hostname -s`, CPUs = nproc, RealMemory = /proc/meminfo less
# headroom, select/cons_tres with CR_Core_Memory, proctrack/linuxproc, task/none: no cgroups,
# no systemd), creates a munge key, starts munged, slurmctld and slurmd as plain daemons and
# waits until `sinfo` shows the node idle. Running it again changes nothing when all is up;
# a changed slurm.conf restarts the Slurm daemons. Needs root. Everything listens on this
# host only (the node and the controller are addressed as 127.0.0.1).
#
# Environment:
#   SLURM_LOCAL_MAX_ARRAY_SIZE  MaxArraySize for the test cluster (default: Slurm's, 1001);
#                               a small value exercises deploy/slurm/submit.sh's chunking
#   SLURM_LOCAL_HEADROOM_MB     memory kept back from RealMemory (default 1024)
#   SLURM_LOCAL_TIMEOUT         seconds to wait for the node to become idle (default 60)
#
# Stop it with:  scontrol shutdown; kill "$(cat /run/munge/munged.pid)"
set -euo pipefail

[[ $(id -u) -eq 0 ]] || { echo "slurm-local: run as root" >&2; exit 2; }
started=$SECONDS
say() { echo "slurm-local: $*" >&2; }

# --- packages --------------------------------------------------------------------------
missing=()
for pkg in slurmctld slurmd slurm-client munge; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # The packages' maintainer scripts would start their services; with no init system here
  # they would fail or start them with no configuration. A policy-rc.d that denies every
  # start stops that (only while installing, and only if the host has none of its own).
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=1
  fi
  trap '[[ $own_policy -eq 1 ]] && rm -f "$policy"' EXIT
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [[ $own_policy -eq 1 ]] && rm -f "$policy"
  trap - EXIT
fi

# --- munge -----------------------------------------------------------------------------
key=/etc/munge/munge.key
if [[ ! -s $key ]]; then
  say "creating $key"
  install -d -o munge -g munge -m 700 /etc/munge
  if command -v mungekey >/dev/null; then
    mungekey --create --keyfile="$key" --force
  else
    dd if=/dev/urandom of="$key" bs=1024 count=1 status=none
  fi
fi
chown munge:munge "$key"
chmod 400 "$key"
install -d -o munge -g munge -m 755 /run/munge
install -d -o munge -g munge -m 700 /var/lib/munge /var/log/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  say "starting munged"
  # A stale pid file or socket of a munged that is gone would stop a new one.
  rm -f /run/munge/munged.pid
  runuser -u munge -- /usr/sbin/munged --force
  for _ in $(seq 50); do
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
    sleep 0.1
  done
  munge -n | unmunge >/dev/null || { say "munged does not answer"; exit 1; }
fi

# --- slurm.conf ------------------------------------------------------------------------
host=$(hostname -s)
cpus=$(nproc)
mem_mb=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 ))
headroom=${SLURM_LOCAL_HEADROOM_MB:-1024}
real_mb=$(( mem_mb > 2 * headroom ? mem_mb - headroom : mem_mb / 2 ))
install -d -m 755 /etc/slurm /var/log/slurm /var/lib/slurm
install -d -m 700 /var/lib/slurm/slurmctld /var/lib/slurm/slurmd
conf=/etc/slurm/slurm.conf
new=$(mktemp)
cat >"$new" <<EOF
# Written by landwatch scripts/slurm-local.sh: a one-node test cluster on $host.
ClusterName=landwatch-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$(( real_mb / cpus ))
ReturnToService=2
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPort=6817
SlurmdPort=6818
${SLURM_LOCAL_MAX_ARRAY_SIZE:+MaxArraySize=$SLURM_LOCAL_MAX_ARRAY_SIZE}
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$real_mb State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
changed=0
if ! cmp -s "$new" "$conf"; then
  say "writing $conf ($host: $cpus CPUs, ${real_mb} MB)"
  install -m 644 "$new" "$conf"
  changed=1
fi
rm -f "$new"

# --- daemons ---------------------------------------------------------------------------
running() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
stop() { # pid file: TERM, then wait for it to go
  running "$1" || return 0
  local pid
  pid=$(cat "$1")
  kill "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  say "$1: $pid did not stop"; exit 1
}
if [[ $changed -eq 1 ]]; then
  stop /run/slurmd.pid
  stop /run/slurmctld.pid
fi
if ! running /run/slurmctld.pid; then
  say "starting slurmctld"
  /usr/sbin/slurmctld
fi
if ! running /run/slurmd.pid; then
  say "starting slurmd"
  /usr/sbin/slurmd
fi

# --- wait for the node -----------------------------------------------------------------
deadline=$(( SECONDS + ${SLURM_LOCAL_TIMEOUT:-60} ))
state=
while (( SECONDS < deadline )); do
  state=$(sinfo -h -n "$host" -o %T 2>/dev/null | head -1 || true)
  case $state in
    idle|mixed|allocated) break ;;
    down*|drain*) scontrol update nodename="$host" state=resume 2>/dev/null || true ;;
  esac
  sleep 1
done
case $state in
  idle|mixed|allocated) ;;
  *)
    say "node $host is '${state:-unknown}' after ${SLURM_LOCAL_TIMEOUT:-60} s; logs:"
    tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
    exit 1
    ;;
esac
say "node $host is $state ($(( SECONDS - started )) s)"
