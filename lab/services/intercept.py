"""The censor's TLS interception box (the `intercept` action), run in the host it names.

The censor diverts an intercepted flow to this host (its switch rewrites the Ethernet
destination); an nftables rule in the host's own namespace redirects TCP port 443, whatever
the address and family (an `inet` table: IPv6 too in a dual-stack lab, where the proxy
listens on both), to this proxy, which then:

- completes the TLS handshake itself, with a certificate for the name the client asked for
  (its SNI), made on the spot and signed by the run's "national CA" (lab.run.pki, the CA a
  state asks its citizens to install: Kazakhstan 2019 and 2024);
- opens its own TLS connection to the address the client wanted, as that name, verifying
  the real server against the lab CA, and relays the plaintext both ways.

A client that trusts the national CA gets the page (read by the box on the way); one that
does not gets a certificate error (`curl: (60) SSL certificate problem: unable to get local
issuer certificate`). One line per connection on stdout says what was intercepted.

    python -m lab.services.intercept --ca-cert FILE --ca-key FILE --upstream-ca FILE
        --folder DIR [--port 8443] [--ipv6]
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import ipaddress
import socket
import ssl
import struct
import subprocess
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from lab.clients.probe import address
from lab.compare.relay import relay, serve_until_interrupted
from lab.services.base import Service
from lab.services.daemon import daemon

PORT = 8443
SO_ORIGINAL_DST = 80        # linux/netfilter_ipv4.h
IP6T_SO_ORIGINAL_DST = 80   # linux/netfilter_ipv6/ip6_tables.h (level IPPROTO_IPV6)
TABLE = "blocklab_intercept"


def intercept(server, host, national, lab_ca, folder: Path) -> Service:
    """The proxy on `server` (serve: [intercept]), forging with the `national` CA."""
    folder.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "lab.services.intercept", "--ca-cert", str(national.cert_path),
           "--ca-key", str(national.key_path), "--upstream-ca", str(lab_ca.cert_path),
           "--folder", str(folder), "--port", str(PORT), *(["--ipv6"] if server.ip6 else [])]
    return daemon(f"intercept@{server.name}", host, cmd, folder / "intercept.log",
                  [("tcp", PORT)])


class Forger:
    """Server certificates made on demand, one SSL context per name, signed by the CA."""

    def __init__(self, cert: Path, key: Path, folder: Path):
        self.ca = x509.load_pem_x509_certificate(cert.read_bytes())
        self.key = serialization.load_pem_private_key(key.read_bytes(), None)
        self.folder = folder / "forged"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.contexts: dict[str, ssl.SSLContext] = {}
        self.names: dict[int, str] = {}          # id(context) -> the name it is for

    def context(self, name: str) -> ssl.SSLContext:
        if name not in self.contexts:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            cert, key = self._issue(name)
            ctx.load_cert_chain(cert, key)
            self.contexts[name] = ctx
            self.names[id(ctx)] = name
        return self.contexts[name]

    def _issue(self, name: str) -> tuple[Path, Path]:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc)
        try:
            san = x509.IPAddress(ipaddress.ip_address(name))
        except ValueError:
            san = x509.DNSName(name)
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name[:64])]))
                .issuer_name(self.ca.subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(hours=1))
                .not_valid_after(now + dt.timedelta(days=7))
                .add_extension(x509.SubjectAlternativeName([san]), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                               critical=False)
                .sign(self.key, hashes.SHA256()))
        safe = "".join(c if c.isalnum() or c in ".-" else "_" for c in name)
        cert_path, key_path = self.folder / f"{safe}.pem", self.folder / f"{safe}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM)
                              + self.ca.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        return cert_path, key_path


def original_dst(sock: socket.socket) -> tuple[str, int]:
    """Where the client meant to go (the address before the nftables redirect)."""
    if sock.family == socket.AF_INET6:          # a sockaddr_in6: family, port, flow, address
        raw = sock.getsockopt(socket.IPPROTO_IPV6, IP6T_SO_ORIGINAL_DST, 28)
        port, addr = struct.unpack_from("!2xH4x16s", raw)
        return socket.inet_ntop(socket.AF_INET6, addr), port
    raw = sock.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)
    port, addr = struct.unpack_from("!2xH4s", raw)
    return socket.inet_ntoa(addr), port


def redirect(port: int) -> None:
    """This namespace's TCP 443, whatever the address and family, to `port` (nftables)."""
    rules = (f"table inet {TABLE} {{\n chain pre {{\n  type nat hook prerouting priority "
             f"dstnat; policy accept;\n  tcp dport 443 redirect to :{port}\n }}\n}}\n")
    subprocess.run(["nft", "-f", "-"], input=rules, text=True, check=True)


async def _handle(reader, writer, forger: Forger, server_ctx: ssl.SSLContext,
                  upstream_ctx: ssl.SSLContext) -> None:
    peer = writer.get_extra_info("peername")
    try:
        ip, port = original_dst(writer.get_extra_info("socket"))
        await writer.start_tls(server_ctx)
        chosen = writer.get_extra_info("ssl_object").context
        name = forger.names.get(id(chosen), ip)
        up_r, up_w = await asyncio.open_connection(ip, port, ssl=upstream_ctx,
                                                   server_hostname=name)
    except (OSError, ssl.SSLError, ConnectionError) as e:
        print(f"{peer[0]} -> ? : {type(e).__name__}: {e}", flush=True)
        writer.close()
        return
    print(f"intercepted {name} ({address(ip, port)}) for {peer[0]}: certificate signed by "
          f"{forger.ca.subject.rfc4514_string()}", flush=True)
    await asyncio.gather(relay(reader, up_w), relay(up_r, writer))
    writer.close()
    up_w.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="intercept", description=__doc__.splitlines()[0])
    p.add_argument("--ca-cert", type=Path, required=True)
    p.add_argument("--ca-key", type=Path, required=True)
    p.add_argument("--upstream-ca", type=Path, required=True)
    p.add_argument("--folder", type=Path, required=True)
    p.add_argument("--port", type=int, default=PORT)
    p.add_argument("--ipv6", action="store_true", help="listen on IPv6 too (dual stack)")
    a = p.parse_args(argv)
    forger = Forger(a.ca_cert, a.ca_key, a.folder)
    server_ctx = forger.context("intercepted")      # a hello without a name gets this one

    def pick(sslobj, name, _ctx):
        if name:
            sslobj.context = forger.context(name)
    server_ctx.sni_callback = pick
    upstream_ctx = ssl.create_default_context(cafile=str(a.upstream_ca))
    redirect(a.port)
    return serve_until_interrupted(                            # "::" is IPv6 only
        lambda r, w: _handle(r, w, forger, server_ctx, upstream_ctx),
        ["0.0.0.0", "::"] if a.ipv6 else "0.0.0.0", a.port)


if __name__ == "__main__":
    sys.exit(main())
