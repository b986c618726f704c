#!/usr/bin/env bash
# Installs what the Slurm tests and scripts/slurm-local.sh need, from Debian: Slurm 22.05
# (slurm-wlm: slurmctld, slurmd and the client commands) and munge (its authentication). Needs
# root (apt). Idempotent: does nothing when both are installed.
set -euo pipefail

packages=(slurm-wlm munge)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-slurm: ${packages[*]} already installed" >&2
  exit 0
fi
if [ "$(id -u)" != 0 ]; then echo "install-slurm: needs root for apt-get install ${missing[*]}" >&2; exit 2; fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
export PATH="$PATH:/usr/sbin:/sbin"
for c in slurmctld slurmd sbatch squeue munged; do
  command -v "$c" >/dev/null || { echo "install-slurm: $c did not install" >&2; exit 1; }
done
echo "install-slurm: installed ${missing[*]}" >&2
