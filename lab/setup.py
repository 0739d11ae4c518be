"""The system part of setup, one copy for every path: `blocklab setup` (a wheel user),
`scripts/setup.sh` (`make setup`, the repository's CI, the Vagrant VM) and action.yml.

Owns the Debian packages the lab uses and why, turning off the packages' own daemons, starting
Open vSwitch, making Debian's Mininet module importable by the Python that runs blocklab, and
having the censor compiled for it (lab/run/compiled.py, also standard library only).
Idempotent and quiet when nothing is to do. Standard library only: setup.sh runs it with the
system's python3 (`python3 -m lab.setup`) before any venv exists.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

# (why, packages). "a|b": the first of them the archive has (nginx-light is gone from Ubuntu
# 24.04); "name?": only where the archive has it (Debian 12 has vagrant, newer releases may not).
PACKAGES: list[tuple[str, list[str]]] = [
    ("the lab's network (switch, namespaces, links)",
     ["openvswitch-switch", "mininet", "iproute2", "ethtool", "procps", "psmisc"]),
    ("the Python that runs blocklab", ["python3", "python3-venv"]),
    ("compiling the censor's packet path (Cython's C against Python's headers)",
     ["gcc", "libc6-dev", "python3-dev"]),
    ("the lab's real servers",
     ["dnsmasq-base", "nginx-light|nginx", "openssl", "nsd", "coturn", "openssh-server",
      "socat"]),
    ("the lab's real clients",
     ["dnsutils", "curl", "iperf3", "iputils-ping", "openssh-client", "netcat-openbsd",
      "traceroute"]),
    ("a real browser as a lab client (driven over its DevTools pipe), trusting the run's CA "
     "through NSS", ["chromium", "libnss3-tools"]),
    ("packet captures (`--pcap`): tcpdump, and mergecap from tshark", ["tcpdump", "tshark"]),
    ("the circumvention tools of `blocklab compare`",
     ["dnsdist", "knot-dnsutils", "shadowsocks-libev", "obfs4proxy", "stunnel4", "openvpn",
      "microsocks", "nftables"]),
    ("the lab's private Tor network and its clients (`blocklab compare --tools tor,...`)",
     ["tor"]),
]
# Only for blocklab's own checkout (`--dev`, which scripts/setup.sh passes).
DEV_PACKAGES = ("the checkers blocklab's own unit tests run",
                ["shellcheck", "vagrant?", "vagrant-libvirt?"])
# The packages' services that would listen on the real interfaces (the lab starts its own).
DAEMONS = ["nginx", "nsd", "coturn", "dnsdist", "shadowsocks-libev", "stunnel4", "openvpn",
           "tor"]
OVS_CTL = "/usr/share/openvswitch/scripts/ovs-ctl"
DEBIAN_MININET = Path("/usr/lib/python3/dist-packages/mininet")
POLICY_RC = Path("/usr/sbin/policy-rc.d")


class SetupError(Exception):
    """A step of setup failed; the message says which and why."""


def _run(cmd: list[str], timeout: float = 600, **kw) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    except FileNotFoundError:
        return subprocess.CompletedProcess(cmd, 127, "", f"{cmd[0]}: not found")


def _groups(dev: bool) -> list[tuple[str, list[str]]]:
    return PACKAGES + ([DEV_PACKAGES] if dev else [])


def installed_packages(names: list[str]) -> set[str]:
    """Which of `names` dpkg has installed (one dpkg-query for all)."""
    out = _run(["dpkg-query", "-W", "-f=${Package}\t${Status}\n", *names]).stdout
    return {line.split("\t")[0].split(":")[0] for line in out.splitlines()
            if line.endswith("install ok installed")}


def _available(name: str) -> bool:
    return _run(["apt-cache", "show", name]).returncode == 0


def missing_packages(dev: bool = False) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """([(spec, why)] required and not installed, [(name, why)] optional and not installed)."""
    specs = [(spec, why) for why, group in _groups(dev) for spec in group]
    names = [n for spec, _ in specs for n in spec.rstrip("?").split("|")]
    have = installed_packages(names)
    required, optional = [], []
    for spec, why in specs:
        if spec.endswith("?"):
            if spec[:-1] not in have:
                optional.append((spec[:-1], why))
        elif not any(alt in have for alt in spec.split("|")):
            required.append((spec, why))
    return required, optional


def ovs_running() -> bool:
    return _run(["ovs-vsctl", "--timeout=3", "show"], timeout=30).returncode == 0


def mininet_importable() -> bool:
    importlib.invalidate_caches()
    return importlib.util.find_spec("mininet") is not None


def _mininet_link() -> Path:
    return Path(sysconfig.get_paths()["purelib"]) / "mininet"


def check(dev: bool = False) -> list[str]:
    """What is missing, one line each; [] when this machine can run labs. Changes nothing."""
    required, _ = missing_packages(dev)
    out = [f"Debian package {spec.replace('|', ' or ')} ({why})" for spec, why in required]
    if not ovs_running():
        out.append("Open vSwitch is not running (or `ovs-vsctl show` cannot reach it"
                   + (": run the check as root)" if os.geteuid() != 0 else ")"))
    if not mininet_importable():
        out.append(f"the mininet module is not importable by {sys.executable} "
                   f"(setup links Debian's {DEBIAN_MININET} into {_mininet_link().parent})")
    return out


def _apt_install(dev: bool, say) -> None:
    required, optional = missing_packages(dev)
    # Refresh the lists only when a required package is missing or an optional one is to be
    # had: an optional package the archive lacks must not cost an apt-get update on every run.
    optional = [(n, why) for n, why in optional if _available(n)]
    if not required and not optional:
        return
    if _run(["apt-get", "update", "-qq"]).returncode != 0:
        say("apt-get update failed; installing from the package lists this machine has")
    want: list[tuple[str, str]] = []
    for spec, why in required:
        alts = spec.split("|")
        # the first one the archive has, else the last (apt-get then says why not)
        want.append((next((a for a in alts if _available(a)), alts[-1]), why))
    want += [(n, why) for n, why in optional if _available(n)]
    if not want:
        return
    say("installing Debian packages:")
    for why in dict.fromkeys(w for _, w in want):
        say(f"  {' '.join(n for n, w in want if w == why)}: {why}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # Keep package scripts from starting daemons (nginx on the real interfaces): the lab starts
    # its own copies inside its namespaces. Removed also when the install fails.
    created = False
    if not POLICY_RC.exists():
        POLICY_RC.write_text("#!/bin/sh\nexit 101\n")
        POLICY_RC.chmod(0o755)
        created = True
    try:
        r = _run(["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                  *[n for n, _ in want]], timeout=3600, env=env)
    finally:
        if created:
            POLICY_RC.unlink(missing_ok=True)
    if r.returncode != 0:
        raise SetupError(f"apt-get install failed:\n{(r.stderr or r.stdout).strip()}")


def _quiet_system_daemons(say) -> None:
    """Where systemd runs (the Vagrant VM), turn off the packages' own services."""
    if not Path("/run/systemd/system").is_dir():
        return
    for unit in DAEMONS:
        if (_run(["systemctl", "is-enabled", "--quiet", unit]).returncode == 0
                or _run(["systemctl", "is-active", "--quiet", unit]).returncode == 0):
            say(f"disabling the system's {unit} service (the lab starts its own in its "
                "namespaces)")
            _run(["systemctl", "disable", "--now", "--quiet", unit])


def _start_ovs(say) -> None:
    if not Path("/sys/module/openvswitch").is_dir():
        _run(["modprobe", "-q", "openvswitch"])   # else OVS's userspace datapath
    if ovs_running():
        return
    say("starting Open vSwitch (the lab's switch)")
    _run([OVS_CTL, "--no-ovs-vswitchd", "--system-id=random", "start"])
    # Userspace TSO is read once when ovs-vswitchd starts: set it before (10.1 vs 1.36 Gbit/s).
    _run(["ovs-vsctl", "--no-wait", "set", "Open_vSwitch", ".",
          "other_config:userspace-tso-enable=true"])
    _run([OVS_CTL, "--no-ovsdb-server", "start"])
    if _run(["ovs-vsctl", "--timeout=10", "show"], timeout=60).returncode != 0:
        raise SetupError(f"Open vSwitch did not start ({OVS_CTL} start); see "
                         "/var/log/openvswitch/")


def _link_mininet(say) -> None:
    """Debian's Mininet lives in the system Python's dist-packages: make just that module
    visible to this Python (a venv's site-packages gets a symlink)."""
    if mininet_importable():
        return
    if not DEBIAN_MININET.is_dir():
        raise SetupError(f"{DEBIAN_MININET} is missing (Debian's mininet package installs it)")
    link = _mininet_link()
    if sys.prefix == sys.base_prefix:
        raise SetupError(f"the mininet module is not importable by {sys.executable}, which is "
                         "not a venv: install blocklab into a venv (setup links Debian's "
                         "module into it) or run it with /usr/bin/python3")
    say(f"linking Debian's mininet module into {link.parent} (blocklab builds labs with it)")
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink():
        link.unlink()
    link.symlink_to(DEBIAN_MININET)
    importlib.invalidate_caches()


def _compile_censor(say) -> None:
    """The censor's Cython build for these sources (lab/run/compiled.py), by a Python that has
    Cython (the venv's, not the system's first pass). A failed build is said and not fatal:
    the censor then runs from source, with ~1.7 times the CPU per packet."""
    from lab.run import compiled
    try:
        compiled.build(say)
    except (compiled.BuildError, OSError, RuntimeError, subprocess.SubprocessError) as e:
        say(f"could not compile the censor, which runs from source: {e}")


def setup(dev: bool = False, say=print) -> None:
    """Make this machine able to run labs; says each thing it does, nothing when done."""
    if os.geteuid() != 0:
        raise SetupError("needs root: it installs Debian packages and starts Open vSwitch. "
                         "Run it with sudo.")
    _apt_install(dev, say)
    _quiet_system_daemons(say)
    _start_ovs(say)
    _link_mininet(say)
    _compile_censor(say)


def say(line: str) -> None:
    """How setup tells what it does, under `blocklab setup` and `python3 -m lab.setup` alike."""
    print(f"setup: {line}", flush=True)


def check_command(dev: bool = False) -> int:
    """`blocklab setup --check`: what is missing one a line (exit 1), or `setup: complete`."""
    missing = check(dev)
    for line in missing:
        print(f"missing: {line}")
    if missing:
        print(f"blocklab: setup is incomplete ({len(missing)} missing); "
              "`sudo blocklab setup` installs it", file=sys.stderr)
        return 1
    print("setup: complete")
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python3 -m lab.setup [--dev]`: what scripts/setup.sh runs before the venv exists."""
    p = argparse.ArgumentParser(prog="python3 -m lab.setup")
    p.add_argument("--dev", action="store_true")
    args = p.parse_args(argv)
    try:
        setup(args.dev, say=say)
    except SetupError as e:
        print(f"setup: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
