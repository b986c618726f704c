#!/usr/bin/env bash
# A real single-node Slurm cluster on this machine, from Debian's slurm-wlm and munge (22.05; no
# systemd, no cgroups), for trying a sweep's batch scripts and for the tests.
#
#   eval "$(bash scripts/slurm-local.sh start [DIR])"   # prints: export SLURM_CONF=DIR/slurm.conf
#   bash scripts/slurm-local.sh stop [DIR]              # cancels its jobs, stops its daemons, removes DIR
#
# DIR (default ${TMPDIR:-/tmp}/switchyard-slurm) holds everything: config, state, spool, logs and
# munge's key and socket; it must be new or empty, so every cluster starts from an empty state.
# Ports are picked free, so it does not disturb another Slurm on the machine. Needs root: munged
# runs as the `munge` user, slurmctld and slurmd as root.
#
# What this config does, and why (measured on Debian bookworm, 2 cores):
# - munged runs as `munge` with its key (0600, owned by munge) and socket under DIR/munge (0755),
#   so it needs neither /etc/munge nor /run/munge; Slurm finds the socket through AuthInfo.
# - ProctrackType=proctrack/linuxproc with TaskPlugin=task/none: no cgroups needed.
# - The node line comes from `slurmd -C`, with RealMemory at 90 % of what it detects (a node
#   whose RealMemory exceeds what slurmd detects is drained).
# - AuthInfo=...,cred_expire=10 and SchedulerParameters=bf_interval=1,sched_interval=2: a
#   requeued job restarts about 14 s after the requeue (Slurm holds it for cred_expire; the
#   defaults make that about 2 minutes).
# - DependencyParameters=kill_invalid_depend on its own line (under SchedulerParameters 22.05
#   ignores it): a job whose afterok dependency can no longer be met is cancelled.
# - KillWait=30: SIGTERM at the time limit, on requeue or cancel, SIGKILL 30 s later.
set -euo pipefail

cmd=${1:-}
dir=${2:-${TMPDIR:-/tmp}/switchyard-slurm}
export PATH="$PATH:/usr/sbin:/sbin"

say() { echo "slurm-local: $*" >&2; }
die() { say "$*"; exit 2; }

need_tools() {
  local missing=()
  for c in munged munge slurmctld slurmd sinfo squeue sbatch scancel scontrol runuser; do
    command -v "$c" >/dev/null || missing+=("$c")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    die "not found: ${missing[*]}. Install Debian's Slurm and munge: apt-get install -y slurm-wlm munge"
  fi
  id munge >/dev/null 2>&1 || die "no 'munge' user (the munge package creates it): apt-get install -y munge"
  [ "$(id -u)" = 0 ] || die "needs root: munged runs as the munge user, slurmd as root"
}

free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

pid_of() { [ -s "$1" ] && cat "$1" || true; }

start() {
  need_tools
  if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
    die "$dir is not empty: a cluster starts from an empty state directory (stop the old one: $0 stop $dir)"
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  chmod 755 "$dir"
  runuser -u munge -- test -x "$dir" \
    || die "the munge user cannot reach $dir: every folder above it must be searchable by others (chmod o+x), or choose another place"
  mkdir -p "$dir/state" "$dir/spool" "$dir/log" "$dir/munge"
  chown munge:munge "$dir/munge"
  chmod 755 "$dir/munge"
  (umask 077 && head -c 1024 /dev/urandom >"$dir/munge/munge.key")
  chown munge:munge "$dir/munge/munge.key"
  chmod 600 "$dir/munge/munge.key"
  runuser -u munge -- munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" \
    || fail "munged did not start: $(tail -n 3 "$dir/munge/munged.log" 2>/dev/null)"

  local node host mem ctld_port slurmd_port
  node=$(slurmd -C | head -n 1)
  host=$(sed -E 's/^NodeName=([^ ]+).*/\1/' <<<"$node")
  mem=$(sed -E 's/.*RealMemory=([0-9]+).*/\1/' <<<"$node")
  node=$(sed -E "s/RealMemory=[0-9]+/RealMemory=$((mem * 9 / 10))/" <<<"$node")
  ctld_port=$(free_port)
  slurmd_port=$(free_port)
  while [ "$slurmd_port" = "$ctld_port" ]; do slurmd_port=$(free_port); done
  cat >"$dir/slurm.conf" <<EOF
# Written by scripts/slurm-local.sh: a single-node cluster on $host (state in $dir).
ClusterName=switchyard
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket,cred_expire=10
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=1,sched_interval=2
DependencyParameters=kill_invalid_depend
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
KillWait=30
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$dir/slurm.conf"
  slurmctld -i || fail "slurmctld did not start: $(tail -n 5 "$dir/log/slurmctld.log" 2>/dev/null)"
  slurmd || fail "slurmd did not start: $(tail -n 5 "$dir/log/slurmd.log" 2>/dev/null)"
  for _ in $(seq 150); do
    if sinfo -h -o '%T' 2>/dev/null | grep -qx idle; then
      say "up: node $host idle (slurmctld port $ctld_port, slurmd port $slurmd_port; state in $dir)"
      echo "export SLURM_CONF=$dir/slurm.conf"
      return 0
    fi
    sleep 0.2
  done
  fail "the node did not become idle within 30 s (sinfo: $(sinfo -h -o '%T %E' 2>&1 || true); slurmd.log: $(tail -n 5 "$dir/log/slurmd.log" 2>/dev/null))"
}

# A failed start stops what it started and removes what it wrote (the folder was empty).
fail() {
  stop_quietly
  rm -rf "$dir"
  die "$1"
}

# Processes of this cluster's jobs left behind by a stopped slurmd: slurmstepd and the job's
# processes, which carry this cluster's SLURM_CONF (and, for a job, SLURM_JOB_ID) in their
# environment from their start.
cluster_processes() {
  local f pid
  for f in $(grep -lsxzF "SLURM_CONF=$dir/slurm.conf" /proc/[0-9]*/environ); do
    pid=${f#/proc/}
    pid=${pid%/environ}
    [ "$pid" = $$ ] && continue
    if grep -qsz '^SLURM_JOB_ID=' "$f" || [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = slurmstepd ]; then
      echo "$pid"
    fi
  done
}

stop_daemons() {
  export SLURM_CONF="$dir/slurm.conf"
  if [ -s "$dir/slurmctld.pid" ] && kill -0 "$(pid_of "$dir/slurmctld.pid")" 2>/dev/null; then
    # Cancel every job (SIGTERM, then SIGKILL after KillWait) and wait until none is left.
    local jobs
    jobs=$(squeue -h -o %A 2>/dev/null | sort -u | tr '\n' ' ' || true)
    if [ -n "${jobs// /}" ]; then
      # shellcheck disable=SC2086
      scancel $jobs 2>/dev/null || true
      for _ in $(seq 200); do
        [ -z "$(squeue -h -o %A 2>/dev/null || true)" ] && break
        sleep 0.2
      done
    fi
  fi
  local f pid
  for f in slurmd.pid slurmctld.pid munge/munged.pid; do
    pid=$(pid_of "$dir/$f")
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  for _ in $(seq 50); do
    local alive=0
    for f in slurmd.pid slurmctld.pid munge/munged.pid; do
      pid=$(pid_of "$dir/$f")
      [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ] && alive=1
    done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  local left
  left=$(cluster_processes)
  if [ -n "$left" ]; then
    say "killing what its jobs left running: $(echo $left)"
    # shellcheck disable=SC2086
    kill -9 $left 2>/dev/null || true
  fi
}

stop_quietly() { stop_daemons >/dev/null 2>&1 || true; }

stop() {
  [ -d "$dir" ] || { say "$dir does not exist: nothing to stop"; return 0; }
  dir=$(cd "$dir" && pwd)
  if [ ! -f "$dir/slurm.conf" ] || ! grep -q '^# Written by scripts/slurm-local.sh' "$dir/slurm.conf"; then
    die "$dir holds no cluster of this script (no slurm.conf written by it); nothing was stopped or removed"
  fi
  stop_daemons
  rm -rf "$dir"
  say "stopped; removed $dir"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) die "usage: $0 start|stop [state dir]" ;;
esac
