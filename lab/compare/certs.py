"""Certificates for circumvention servers and clients, signed by the run's lab CA.

The lab's own services get theirs from lab.run.pki.LabCA at start; the tools here start later, so
they sign with the CA the run wrote to `<run>/pki/` (ca.pem, ca.key). Unlike a web server's,
these carry a key usage (OpenVPN's `remote-cert-tls` wants one) and, for a client, the
clientAuth purpose (an OpenVPN server checks it).
"""
from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Issued:
    cert: Path       # the leaf then the CA, PEM
    key: Path
    ca: Path         # the CA alone, PEM


def issue(run_path: Path, folder: Path, name: str, dns_names: list[str], ips: list[str],
          client: bool = False) -> Issued:
    """A leaf for `dns_names` and `ips` (a server), or a client certificate named `name`."""
    pki = run_path / "pki"
    ca_cert = x509.load_pem_x509_certificate((pki / "ca.pem").read_bytes())
    ca_key = serialization.load_pem_private_key((pki / "ca.key").read_bytes(), None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    sans = [x509.DNSName(d) for d in dns_names] + \
           [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    purpose = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                    (dns_names[0] if dns_names else name)[:64])]))
        .issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, True, False, False, False,
                                     False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([purpose]), critical=False))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    folder.mkdir(parents=True, exist_ok=True)
    out = Issued(folder / f"{name}.pem", folder / f"{name}.key", pki / "ca.pem")
    out.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM) +
                         ca_cert.public_bytes(serialization.Encoding.PEM))
    out.key.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    out.key.chmod(0o600)
    return out
