"""The Tor network's keys, made when it starts: authority certificates and relay identities.

An authority gets an identity key, a signing key and a certificate from `tor-gencert` (its
`v3ident` is the certificate's fingerprint); every node gets its relay identity from
`tor --list-fingerprint`, which creates the keys in the node's DataDirectory and prints the
fingerprint the DirAuthority and Bridge lines carry. Nothing here needs the network.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

CERT_MONTHS = 12
PASSPHRASE = "blocklab\n"      # the authority identity key's; it never leaves the run directory
_FINGERPRINT = re.compile(r"^[0-9A-F]{40}$")


class TorKeyError(Exception):
    """A key could not be made; the message says which command failed and why."""


def _run(cmd: list[str], stdin: str | None = None) -> str:
    r = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        out = (r.stderr or r.stdout).strip().splitlines()
        raise TorKeyError(f"`{' '.join(cmd[:2])} ...` failed (exit {r.returncode}): "
                        f"{out[-1] if out else 'no output'}")
    return r.stdout


def authority_certificate(data_dir: Path, ip: str, dir_port: int) -> str:
    """Make the authority's v3 keys in DATA/keys; return its v3ident."""
    keys = data_dir / "keys"
    keys.mkdir(parents=True, exist_ok=True, mode=0o700)
    cert = keys / "authority_certificate"
    _run(["tor-gencert", "--create-identity-key", "--passphrase-fd", "0",
          "-i", str(keys / "authority_identity_key"), "-s", str(keys / "authority_signing_key"),
          "-c", str(cert), "-m", str(CERT_MONTHS), "-a", f"{ip}:{dir_port}"], PASSPHRASE)
    for line in cert.read_text().splitlines():
        if line.startswith("fingerprint "):
            return line.split()[1]
    raise TorKeyError(f"{cert}: no fingerprint line")


def relay_fingerprint(data_dir: Path, torrc: Path) -> str:
    """Make the node's relay identity keys (in its DataDirectory); return its fingerprint."""
    out = _run(["tor", "-f", str(torrc), "--list-fingerprint", "--quiet"])
    lines = [ln for ln in out.strip().splitlines() if ln.strip()]
    fingerprint = "".join(lines[-1].split()[1:]) if lines else ""
    if not _FINGERPRINT.match(fingerprint):
        raise TorKeyError(f"tor --list-fingerprint printed no fingerprint: {out.strip()!r}")
    return fingerprint
