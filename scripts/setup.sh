#!/usr/bin/env bash
# blocklab setup: the one idempotent installer used by `make setup`, CI and the Vagrant VM.
# It installs the Debian packages the lab uses, builds .venv with the project in it (and
# Debian's Mininet module importable), and starts Open vSwitch. Quiet when nothing is to do.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.venv"

# Debian packages: the lab's network, its real servers and its real clients, and the checkers the
# unit tests run. "a|b": the first of them the archive has (nginx-light is gone from Ubuntu 24.04);
# "name?": only where the archive has it (Debian 12 has vagrant, newer releases may not).
packages=(
  openvswitch-switch mininet iproute2 ethtool procps psmisc
  python3 python3-venv
  dnsmasq-base 'nginx-light|nginx' openssl nsd coturn openssh-server socat
  dnsutils curl iperf3 iputils-ping openssh-client netcat-openbsd traceroute tcpdump
  dnsdist knot-dnsutils shadowsocks-libev obfs4proxy stunnel4 openvpn microsocks nftables
  shellcheck 'vagrant?' 'vagrant-libvirt?'
)

say() { printf 'setup: %s\n' "$*"; }

need_root() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: must run as root (it installs Debian packages and starts Open vSwitch)" >&2
    exit 1
  fi
}

installed() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == 'install ok installed' ]]; }
available() { apt-cache show "$1" >/dev/null 2>&1; }

install_packages() {
  local todo=() optional=() want=() p alt have_optional=0
  local -a alts
  for p in "${packages[@]}"; do
    if [[ $p == *\? ]]; then
      installed "${p%\?}" || optional+=("${p%\?}")
      continue
    fi
    IFS='|' read -r -a alts <<<"$p"
    for alt in "${alts[@]}"; do installed "$alt" && continue 2; done
    todo+=("$p")
  done
  # Refresh the lists only when a required package is missing or an optional one is to be had:
  # an optional package the archive lacks must not cost an apt-get update on every run.
  for p in "${optional[@]}"; do available "$p" && have_optional=1; done
  ((${#todo[@]} || have_optional)) || return 0
  apt-get update -qq
  for p in "${todo[@]}"; do
    IFS='|' read -r -a alts <<<"$p"
    for alt in "${alts[@]}"; do available "$alt" && break; done
    want+=("$alt")   # the first one the archive has, else the last (apt-get then says why not)
  done
  for p in "${optional[@]}"; do available "$p" && want+=("$p"); done
  ((${#want[@]})) || return 0
  say "installing Debian packages: ${want[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Keep package scripts from starting daemons (nginx on the real interfaces): the lab starts
  # its own copies inside its namespaces.
  local guard=/usr/sbin/policy-rc.d created=0 rc=0
  if [[ ! -e $guard ]]; then printf '#!/bin/sh\nexit 101\n' >"$guard"; chmod +x "$guard"; created=1; fi
  apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null || rc=$?
  ((created)) && rm -f "$guard"   # also when the install failed: never leave daemons disabled
  return "$rc"
}

# The lab runs its own servers (nginx, nsd, coturn, the tunnel servers) inside its namespaces.
# Where systemd runs (the Vagrant VM), the packages' own services would listen on the real
# interfaces: turn them off.
quiet_system_daemons() {
  [[ -d /run/systemd/system ]] || return 0
  local unit
  for unit in nginx nsd coturn dnsdist shadowsocks-libev stunnel4 openvpn; do
    if systemctl is-enabled --quiet "$unit" 2>/dev/null || systemctl is-active --quiet "$unit" 2>/dev/null; then
      say "disabling the system's $unit service (the lab starts its own in its namespaces)"
      systemctl disable --now --quiet "$unit" 2>/dev/null || true
    fi
  done
}

kernel_datapath() {
  [[ -d /sys/module/openvswitch ]] || modprobe -q openvswitch 2>/dev/null
}

start_ovs() {
  local ctl=/usr/share/openvswitch/scripts/ovs-ctl
  if ovs-vsctl --timeout=3 show >/dev/null 2>&1; then
    return 0
  fi
  say "starting Open vSwitch"
  "$ctl" --no-ovs-vswitchd --system-id=random start >/dev/null 2>&1
  # Userspace TSO is read once when ovs-vswitchd starts: set it before (10.1 vs 1.36 Gbit/s).
  ovs-vsctl --no-wait set Open_vSwitch . other_config:userspace-tso-enable=true
  "$ctl" --no-ovsdb-server start >/dev/null 2>&1
  ovs-vsctl --timeout=10 show >/dev/null
}

build_venv() {
  local stamp="$venv/.blocklab-installed" want
  want="$(sha256sum "$repo/pyproject.toml" | cut -d' ' -f1)"
  if [[ ! -x $venv/bin/python ]]; then
    say "creating $venv"
    /usr/bin/python3 -m venv "$venv"
  fi
  if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
    say "installing blocklab and its Python dependencies into .venv"
    local log="$venv/pip.log"
    if ! { "$venv/bin/pip" install -q --upgrade pip && "$venv/bin/pip" install -q -e "${repo}[test]"; } >"$log" 2>&1; then
      cat "$log" >&2
      echo "setup: pip install failed (log above, also in $log)" >&2
      exit 1
    fi
    echo "$want" >"$stamp"
  fi
  # Debian's Mininet lives in the system Python's dist-packages: make just that module visible.
  local site
  site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  if [[ ! -e $site/mininet ]]; then
    ln -s /usr/lib/python3/dist-packages/mininet "$site/mininet"
  fi
}

main() {
  need_root
  install_packages
  quiet_system_daemons
  kernel_datapath || true
  start_ovs
  build_venv
}

main "$@"
