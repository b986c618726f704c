#!/usr/bin/env bash
# Installs what the Slurm tests and scripts/slurm-local.sh need, from Debian: Slurm 22.05
# (slurm-wlm: slurmctld, slurmd and the client commands) and munge (its authentication). Needs
# root (apt). Idempotent: does nothing when both are installed.
set -euo pipefail

bash "$(dirname "$0")/apt-ensure.sh" install-slurm slurm-wlm munge
export PATH="$PATH:/usr/sbin:/sbin"
for c in slurmctld slurmd sbatch squeue munged; do
  command -v "$c" >/dev/null || { echo "install-slurm: $c is missing after the install" >&2; exit 1; }
done
