#!/usr/bin/env bash
# The kernel lane, host side (`make kernel-test`): the integration tests that depend on the kernel,
# run inside a guest booted on Debian's own kernel (OVS kernel datapath, netem) over this
# machine's root filesystem. virtme-ng boots it under QEMU: with KVM where KVM works, else with
# software emulation (TCG), and the output says which. The guest has no network device at all.
#
# Installs what it needs (Debian's kernel, QEMU, virtme-ng in .venv) idempotently; where the lane
# cannot run (not root, no kernel image to be had) it says why in one line and exits 0.
# Results: $KERNEL_LANE_OUT (default /tmp/blocklab-kernel-lane): the guest's log and junit XML.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$repo/.venv"
out="${KERNEL_LANE_OUT:-/tmp/blocklab-kernel-lane}"
memory="${KERNEL_LANE_MEMORY:-4G}"
# How much slower than native the lab's deadlines may be under emulation (lab/run/wait.py).
scale_tcg="${KERNEL_LANE_TIME_SCALE:-6}"

say() { printf 'kernel lane: %s\n' "$*"; }
skip() { say "not run: $*"; exit 0; }

[[ $(id -u) -eq 0 ]] || skip "needs root (it boots a guest and runs labs in it)"
[[ -x $venv/bin/python ]] || skip "no $venv (run make setup first)"

installed() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == 'install ok installed' ]]; }

install_lane() {
  local want=() p
  for p in linux-image-amd64 qemu-system-x86; do installed "$p" || want+=("$p"); done
  if ((${#want[@]})); then
    say "installing ${want[*]} (Debian's kernel and QEMU to boot it)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" \
      >/dev/null
  fi
  if [[ ! -x $venv/bin/vng ]]; then
    say "installing virtme-ng into .venv (boots the kernel over this root filesystem)"
    "$venv/bin/pip" install -q 'virtme-ng>=1.42,<2' >/dev/null
  fi
}

command -v apt-get >/dev/null || skip "not a Debian system (apt-get missing)"
install_lane || skip "could not install Debian's kernel, QEMU or virtme-ng"
kernel="$(find /boot -maxdepth 1 -name "vmlinuz-*" | sort -V | tail -n 1)"
[[ -n $kernel ]] || skip "no kernel image in /boot"
export PATH="$venv/bin:$PATH"

rm -rf "$out"
mkdir -p "$out"
boot() {   # boot [extra vng options...]: run the guest script, its output to the terminal and log
  vng --run "$kernel" --user root --memory "$memory" --cpus 2 \
    --overlay-rwdir /etc --overlay-rwdir /var --rwdir "$out" --cwd "$repo" "$@" \
    --exec "KERNEL_LANE_OUT=$out KERNEL_LANE_ACCEL=$accel BLOCKLAB_TIME_SCALE=$scale \
            bash $repo/scripts/kernel-lane/guest.sh"
}

# KVM first, where it works (here it fails in seconds: "failed to set MSR 0x10a"); else TCG.
accel=kvm scale=1
if [[ -w /dev/kvm ]] && timeout 60 vng --run "$kernel" --user root --exec true >/dev/null 2>&1; then
  say "booting $(basename "$kernel") with KVM"
else
  accel=tcg scale=$scale_tcg
  say "booting $(basename "$kernel") under software emulation (KVM unusable here); deadlines x$scale"
fi
start=$SECONDS
if [[ $accel == kvm ]]; then boot; else boot --disable-kvm; fi 2>&1 | tee "$out/guest.log"
status=$(cat "$out/status" 2>/dev/null || echo "no status (the guest did not finish)")
say "done in $((SECONDS - start)) s: $status"
[[ $status == passed ]]
