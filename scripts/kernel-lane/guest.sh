#!/usr/bin/env bash
# The kernel lane, guest side: runs inside the guest host.sh boots (Debian's kernel, this
# machine's root filesystem read-only, /etc and /var as throw-away overlays, no network device).
# It provisions the guest with the same scripts/setup.sh the Vagrant VM runs — here its
# kernel-module branch loads openvswitch and OVS starts on the kernel datapath — then runs the
# integration tests marked `kernel` (pyproject.toml's markers) and writes $KERNEL_LANE_OUT/status.
set -uo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$KERNEL_LANE_OUT"
echo "failed" >"$out/status"

# A fresh OVS database (the overlay holds the host's, with the host's bridges in it).
rm -f /etc/openvswitch/conf.db /etc/openvswitch/.conf.db.~lock~
mkdir -p /var/log/openvswitch /var/run/openvswitch
modprobe -q sch_netem || true          # the lab probes for netem; load it as the VM's kernel would
if ! bash "$repo/scripts/setup.sh"; then
  echo "kernel lane: scripts/setup.sh failed in the guest"; exit 1
fi
if [[ ! -d /sys/module/openvswitch ]]; then
  echo "kernel lane: the openvswitch module did not load"; exit 1
fi
echo "kernel lane: guest kernel $(uname -r) ($(uname -v | cut -c1-40)), ${KERNEL_LANE_ACCEL:-?}," \
  "$(ovs-vswitchd --version | head -n 1), datapath: kernel (openvswitch module loaded)"

cd "$repo" || exit 1
export PYTHONDONTWRITEBYTECODE=1
# As make test does: labs two at a time, then the machine-snapshot tests alone.
"$repo/.venv/bin/python" -m pytest -v -p no:cacheprovider -m "kernel and not serial" -n 2 \
  --durations=5 --junitxml="$out/junit.xml" -o junit_family=xunit2 tests/integration
rc=$?
"$repo/.venv/bin/python" -m pytest -v -p no:cacheprovider -m "kernel and serial" \
  --junitxml="$out/junit-serial.xml" -o junit_family=xunit2 tests/integration
rc=$((rc ? rc : $?))
if ((rc == 0)); then echo passed >"$out/status"; else echo "failed (pytest exit $rc)" >"$out/status"; fi
