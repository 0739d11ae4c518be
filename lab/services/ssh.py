"""OpenSSH's sshd on :22, for `serve: [ssh]` and `serve: [vps]` (a box for circumvention servers),
on the server's IPv4 address and, in a dual-stack lab, its IPv6 one.

Everything is per run, in the run directory: each server's host key, one client key pair that
every sshd trusts for root (`AuthorizedKeysFile`), and a known_hosts naming every ssh server by
address and domains. Clients use them through `lab.clients.ssh_args(lab)`; nothing is written
to anyone's ~/.ssh. Password login is off; only the run's key logs in.
"""
from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from lab.run.hostconfig import bind
from lab.services.base import Service
from lab.services.daemon import daemon
from lab.services.dns import dns_names

SSHD = "/usr/sbin/sshd"           # sshd re-executes itself: it wants an absolute path
PRIVSEP_DIR = Path("/run/sshd")   # compiled into Debian's sshd; systemd-tmpfiles makes it


class Keys:
    """The run's ssh material, in `<run>/ssh/`."""

    def __init__(self, run_path: Path):
        self.folder = run_path / "ssh"
        self.client_key = self.folder / "id_ed25519"
        self.authorized_keys = self.folder / "authorized_keys"
        self.known_hosts = self.folder / "known_hosts"

    def ensure(self) -> "Keys":
        """Make the client key pair (once per run) and the files that trust it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if not self.client_key.exists():
            private, public = _keypair("blocklab-client")
            _write_private(self.client_key, private)
            self.client_key.with_suffix(".pub").write_text(public)
            self.authorized_keys.write_text(public)
            self.known_hosts.touch()
        return self

    def add_host(self, names: list[str], public: str) -> None:
        with open(self.known_hosts, "a") as f:
            f.write(f"{','.join(names)} {' '.join(public.split()[:2])}\n")


def _keypair(comment: str) -> tuple[bytes, str]:
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    return private, f"{public} {comment}\n"


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _root_login_allowed(host, folder: Path) -> None:
    """Without PAM, sshd refuses a locked account ('!' in shadow), even with a key. Where
    root is locked (a VM installed without a root password), this host alone (its own mount
    namespace) sees a copy of /etc/shadow with root unlocked and still without a password."""
    try:
        lines = Path("/etc/shadow").read_text().splitlines(keepends=True)
    except OSError:
        return
    out, changed = [], False
    for line in lines:
        parts = line.split(":")
        if parts[0] == "root" and len(parts) > 1 and parts[1].startswith("!"):
            parts[1], changed = "*", True
        out.append(":".join(parts))
    if changed:
        shadow = folder / "shadow"
        fd = os.open(shadow, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        with os.fdopen(fd, "w") as f:
            f.write("".join(out))
        bind(host, shadow, "/etc/shadow")


def sshd(server, host, run_path: Path, folder: Path) -> Service:
    """sshd -D on the server's address, port 22, root by the run's key only."""
    folder.mkdir(parents=True, exist_ok=True)
    keys = Keys(run_path).ensure()
    private, public = _keypair(f"blocklab-host-{server.name}")
    host_key = folder / "ssh_host_ed25519_key"
    _write_private(host_key, private)
    host_key.with_suffix(".pub").write_text(public)
    exact, wild = dns_names(server)
    keys.add_host([server.ip, *([server.ip6] if server.ip6 else []), *exact, *(f"*.{z}" for z in wild)], public)
    PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
    _root_login_allowed(host, folder)
    conf = folder / "sshd_config"
    listen = "".join(f"ListenAddress {a}\n" for a in
                     [f"{server.ip}:22"] + ([f"[{server.ip6}]:22"] if server.ip6 else []))
    conf.write_text(f"""{listen}HostKey {host_key}
PidFile {folder}/sshd.pid
AuthorizedKeysFile {keys.authorized_keys}
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PrintMotd no
PrintLastLog no
UseDNS no
LogLevel VERBOSE
Subsystem sftp internal-sftp
""")
    cmd = [SSHD, "-D", "-e", "-f", str(conf)]
    return daemon(f"ssh@{server.name}", host, cmd, folder / "sshd.log", [("tcp", 22)],
                  checks=[[SSHD, "-t", "-f", str(conf)]])
