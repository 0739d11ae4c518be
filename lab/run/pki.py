"""The lab's certificate authority: one CA per run, one leaf certificate per server.

Clients trust only this CA (lab/run/hostconfig.py mounts it over their system trust store), so
`curl` and `openssl s_client -verify_return_error` verify lab servers without -k. Browsers
(Chromium, Firefox) trust through NSS instead: `nss_db()` is an NSS database (certutil, from
libnss3-tools) trusting the CA, which hostconfig copies into each host's home. A host that must
not trust the CA keeps the machine's own trust store and gets no NSS database.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


# The lab CA's file in a host's trust store (/etc/ssl/certs): the prober's own bundle
# (lab.probe.netsteps), as OONI Probe carries its own and ignores what the user installed.
LAB_CA_FILE = "blocklab-ca.pem"


@dataclass(frozen=True)
class Leaf:
    cert: Path
    key: Path


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class LabCA:
    """A throw-away CA written to `folder` (ca.pem, ca.key, and a trust-store folder)."""

    def __init__(self, folder: Path, run_id: str, title: str = "blocklab lab CA"):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "blocklab"),
                          x509.NameAttribute(NameOID.COMMON_NAME, f"{title} {run_id}")])
        now = dt.datetime.now(dt.timezone.utc)
        self._name = name
        self._cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=7))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False,
                                         False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()),
                           critical=False)
            .sign(self._key, hashes.SHA256()))
        self.cert_path = folder / "ca.pem"
        self.cert_path.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))
        self.key_path = folder / "ca.key"
        self.key_path.write_bytes(_key_pem(self._key))
        self.key_path.chmod(0o600)
        self.trust_dir = self._trust_store()
        self._nss: Path | None = None

    def _trust_store(self, store: Path | None = None, also: "LabCA | None" = None) -> Path:
        """A folder laid out like /etc/ssl/certs holding only the lab CA (and `also`'s)."""
        store = store or self.folder / "certs"
        store.mkdir(exist_ok=True)
        cas = [self] + ([also] if also else [])
        (store / "ca-certificates.crt").write_bytes(b"".join(c.cert_path.read_bytes()
                                                             for c in cas))
        for i, ca in enumerate(cas):
            name = LAB_CA_FILE if i == 0 else f"blocklab-ca{i}.pem"
            (store / name).write_bytes(ca.cert_path.read_bytes())
            digest = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in",
                                     str(ca.cert_path)],
                                    capture_output=True, text=True, check=True).stdout.strip()
            link = store / f"{digest}.0"
            if not link.exists():
                link.symlink_to(name)
        return store

    def trust_dir_with(self, other: "LabCA") -> Path:
        """A trust store holding this CA and `other` (a host that installed a national CA)."""
        return self._trust_store(self.folder / "certs-with-national", other)

    def nss_db(self, also: "LabCA | None" = None) -> Path:
        """An NSS database (sql: format, empty password) trusting the CA for TLS servers (and
        `also`, a national CA the host's user installed), made once per run; copy it, as
        browsers write to theirs."""
        if also is not None:
            return self._make_nss(self.folder / "nssdb-with-national", [self, also])
        if self._nss is None:
            self._nss = self._make_nss(self.folder / "nssdb", [self])
        return self._nss

    @staticmethod
    def _make_nss(db: Path, cas: list["LabCA"]) -> Path:
        if (db / "cert9.db").exists():
            return db
        db.mkdir(exist_ok=True)
        steps = [["-N", "--empty-password"]] + [
            ["-A", "-n", f"blocklab CA {i}", "-t", "C,,", "-i", str(ca.cert_path)]
            for i, ca in enumerate(cas)]
        for argv in steps:
            r = subprocess.run(["certutil", "-d", f"sql:{db}", *argv], capture_output=True,
                               text=True)
            if r.returncode:
                raise RuntimeError(f"certutil {argv[0]}: {(r.stderr or r.stdout).strip()}")
        return db

    def issue(self, name: str, dns_names: list[str], ips: list[str]) -> Leaf:
        """A server certificate for `dns_names` (wildcards allowed) and `ips`."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc)
        sans = [x509.DNSName(d) for d in dns_names] + \
               [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        cn = dns_names[0] if dns_names else name
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn[:64])]))
            .issuer_name(self._name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256()))
        leaf = Leaf(self.folder / f"{name}.pem", self.folder / f"{name}.key")
        leaf.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM) +
                              self._cert.public_bytes(serialization.Encoding.PEM))
        leaf.key.write_bytes(_key_pem(key))
        leaf.key.chmod(0o600)
        return leaf
