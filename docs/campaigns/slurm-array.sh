#!/usr/bin/env bash
# blocklab campaign as a Slurm job array: one array task per shard (SLURM_ARRAY_TASK_ID),
# results to a shared filesystem, merged by a job that waits for the array (docs/campaigns.md).
#
#   sbatch docs/campaigns/slurm-array.sh            # from the repository's top folder
#   sbatch --dependency=afterany:JOBID --wrap \
#     ".venv/bin/blocklab campaign merge campaign-results/shard-* --report campaign-report"
#
# Each node needs: root (this script runs as root, or sudo without a password), Debian or
# Ubuntu (scripts/setup.sh installs the packages and starts Open vSwitch), and either the
# openvswitch kernel module or nothing (OVS then uses its userspace datapath). Each task
# works in a copy of the repository on node-local disk.
#SBATCH --job-name=blocklab-campaign
#SBATCH --array=0-15%8
#SBATCH --cpus-per-task=2
#SBATCH --mem=2G
#SBATCH --time=04:00:00
#SBATCH --output=blocklab-campaign-%A_%a.log
set -euo pipefail

repo="${BLOCKLAB_REPO:-${SLURM_SUBMIT_DIR:-$PWD}}"
plan="${PLAN:-docs/campaigns/plan.yaml}"
out="${OUT:-$repo/campaign-results}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo -n"; fi

work="$(mktemp -d "${TMPDIR:-/tmp}/blocklab.XXXXXX")"
trap 'rm -rf "$work"' EXIT
tar -C "$repo" --exclude=./.venv --exclude=./campaign-results -cf - . | tar -C "$work" -xf -
cd "$work"
$sudo bash scripts/setup.sh
# --shard auto: the index from SLURM_ARRAY_TASK_ID (less SLURM_ARRAY_TASK_MIN), the count
# from SLURM_ARRAY_TASK_COUNT. A resubmitted task resumes from its result files.
$sudo .venv/bin/blocklab campaign run "$plan" --shard auto \
  --out "$out/shard-${SLURM_ARRAY_TASK_ID:?run this with sbatch --array}"
