"""What a lab host sees of the file system: its resolver and the CAs it trusts.

Every Mininet host has its own mount namespace, so a bind mount made inside it changes only
that host's view: /etc/resolv.conf names the scenario's resolver and /etc/ssl/certs holds only
the lab CA, for curl, openssl, dig and Python alike.

Each host also has a home folder of its own in the run directory (`home()`; Lab.popen runs
commands with HOME set to it): browsers find the NSS database trusting the lab CA in
$HOME/.pki/nssdb there, and their profiles go there too. It goes with the run directory.
"""
from __future__ import annotations

import shutil
from pathlib import Path

HOME = "home"


class HostConfigError(Exception):
    pass


def bind(host, source: Path, target: str) -> None:
    out = host.cmd(f"mount --bind {source} {target} 2>&1; echo rc=$?").strip()
    if not out.endswith("rc=0"):
        raise HostConfigError(f"{host.name}: cannot mount {source} on {target}: {out}")


def home(folder: Path) -> Path:
    """The home folder of the host whose per-host files are in `folder`."""
    return folder / HOME


def configure(host, folder: Path, resolver_ip: str, trust_dir: Path | None,
              nss_db: Path | None = None) -> None:
    """Mount the host's resolv.conf, hosts and trust store (None: it keeps the machine's,
    without the lab CA); give it its home folder, with a copy of `nss_db` as its browsers'
    NSS database (None: its browsers do not trust the lab CA either)."""
    folder.mkdir(parents=True, exist_ok=True)
    home(folder).mkdir(exist_ok=True)
    if nss_db is not None:
        shutil.copytree(nss_db, home(folder) / ".pki" / "nssdb")
    resolv = folder / "resolv.conf"
    resolv.write_text(f"nameserver {resolver_ip}\noptions timeout:2 attempts:2\n")
    bind(host, resolv, "/etc/resolv.conf")
    if trust_dir is not None:
        bind(host, trust_dir, "/etc/ssl/certs")
    hosts = folder / "hosts"
    hosts.write_text(f"127.0.0.1 localhost\n127.0.1.1 {host.name}\n")
    bind(host, hosts, "/etc/hosts")
    host.cmd(f"export HOME={home(folder)}")
