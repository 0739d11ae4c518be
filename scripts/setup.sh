#!/usr/bin/env bash
# blocklab setup for this checkout: what `make setup`, CI and the Vagrant VM run. The system part
# (Debian packages, Open vSwitch, Debian's Mininet module) is lab/setup.py, the same code as
# `blocklab setup`; this script adds what only a checkout needs: .venv with the project in it
# (editable) and the checkers the unit tests run. Idempotent; quiet when nothing is to do.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.venv"

say() { printf 'setup: %s\n' "$*"; }

need_root() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: must run as root (it installs Debian packages and starts Open vSwitch)" >&2
    exit 1
  fi
}

# The system part is Python, run by Debian's python3 (the one whose dist-packages has Debian's
# Mininet): a machine without it gets it first.
python=/usr/bin/python3
bootstrap_python() {
  [[ -x $python ]] && return 0
  say "installing python3 (the rest of setup is Python)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 >/dev/null
}

system_setup() {
  (cd "$repo" && "$python" -m lab.setup --dev)
}

build_venv() {
  local stamp="$venv/.blocklab-installed" want
  want="$(sha256sum "$repo/pyproject.toml" | cut -d' ' -f1)"
  if [[ ! -x $venv/bin/python ]]; then
    say "creating $venv"
    "$python" -m venv "$venv"
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
}

main() {
  need_root
  bootstrap_python
  system_setup
  build_venv
  # The same system part again, now from .venv: links Debian's Mininet module into it.
  "$venv/bin/blocklab" setup --dev
}

main "$@"
