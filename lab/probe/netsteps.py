"""The prober's network steps below HTTP, run inside a lab host: DNS over UDP, TCP connect,
TLS handshake; each records what it saw in OONI's shapes (`queries`, `tcp_connect`,
`tls_handshakes`), failures as OONI's strings (lab/probe/failures.py)."""
from __future__ import annotations

import base64
import ipaddress
import random
import socket
import ssl
import struct
import time
from pathlib import Path

from lab.clients.dnswire import a_query as _dns_query
from lab.clients.dnswire import parse_answer as parse_dns_answer
from lab.clients.probe import address, socket_family
from lab.probe import failures
from lab.run.pki import LAB_CA_FILE


class Clock:
    """Seconds since the measurement started (OONI's `t`)."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def __call__(self) -> float:
        return round(time.monotonic() - self.start, 6)


# --- DNS ------------------------------------------------------------------------------------

def resolve(name: str, resolver: str, timeout: float, clock: Clock, qtype: str = "A"
            ) -> dict:
    """One A (or AAAA) lookup over UDP: OONI's `queries` entry plus `addrs` and `failure`."""
    entry = {"answers": [], "engine": "udp", "failure": None, "hostname": name,
             "query_type": qtype, "resolver_address": f"{resolver}:53",
             "resolver_hostname": None, "resolver_port": None, "t": clock()}
    qid = random.randrange(1, 0xFFFF)
    query = _dns_query(name, qid, 28 if qtype == "AAAA" else 1)
    deadline = time.monotonic() + timeout
    resend = time.monotonic()
    rcode, answers = None, []
    try:
        with socket.socket(socket_family(resolver), socket.SOCK_DGRAM) as s:
            s.connect((resolver, 53))
            while True:
                now = time.monotonic()
                if now >= deadline:
                    raise TimeoutError("dns lookup timed out")
                if now >= resend:              # a stub resolver's retry, on the same socket
                    s.send(query)
                    resend = now + max(timeout / 2, 0.5)
                s.settimeout(max(0.001, min(resend, deadline) - now))
                try:
                    msg = s.recv(4096)
                except (socket.timeout, TimeoutError):
                    continue
                if len(msg) < 12 or struct.unpack_from("!H", msg)[0] != qid:
                    continue
                try:
                    rcode, answers = parse_dns_answer(msg)
                except (ValueError, struct.error, IndexError):
                    continue
                break
    except OSError as e:
        entry["failure"] = failures.of_exception(e)
    if rcode is not None:
        if rcode in failures.RCODE_FAILURES:
            entry["failure"] = failures.RCODE_FAILURES[rcode]
        elif rcode != 0:
            entry["failure"] = failures.DNS_MISBEHAVING
        elif not answers:
            entry["failure"] = failures.DNS_NO_ANSWER
        entry["answers"] = [{"answer_type": "AAAA", "ipv6": ip, "ttl": ttl} if ":" in ip else
                            {"answer_type": "A", "ipv4": ip, "ttl": ttl} for ip, ttl in answers]
        entry["x_rcode"] = rcode
    entry["x_runtime"] = round(clock() - entry["t"], 6)
    return entry


def addresses_of(entry: dict) -> list[str]:
    seen: list[str] = []
    for a in entry["answers"]:
        ip = a.get("ipv4") or a.get("ipv6")
        if ip and ip not in seen:
            seen.append(ip)
    return seen


# --- TCP and TLS ----------------------------------------------------------------------------

def tls_context() -> ssl.SSLContext:
    """Verifying against the probe's own bundle, the lab CA alone, when the host has it (OONI
    Probe ships its own CA bundle: a national CA the user installed is not in it, so an
    interception shows as ssl_unknown_authority), else the host's store."""
    own = Path("/etc/ssl/certs") / LAB_CA_FILE
    ctx = ssl.create_default_context(cafile=str(own) if own.exists() else None)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def connect(ip: str, port: int, timeout: float) -> socket.socket:
    sock = socket.socket(socket_family(ip), socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((ip, port))
    except BaseException:
        sock.close()
        raise
    return sock


def handshake(sock: socket.socket, server_name: str, timeout: float) -> ssl.SSLSocket:
    sock.settimeout(timeout)
    tls = tls_context().wrap_socket(sock, server_hostname=server_name,
                                    do_handshake_on_connect=False)
    tls.do_handshake()
    return tls


def tls_record(address: str, server_name: str, clock: Clock, t: float,
               tls: ssl.SSLSocket | None, failure: str | None) -> dict:
    rec = {"address": address, "cipher_suite": None, "failure": failure,
           "negotiated_protocol": None, "no_tls_verify": False, "peer_certificates": [],
           "server_name": server_name, "t": t, "tags": [], "tls_version": None,
           "x_runtime": round(clock() - t, 6)}
    if tls is not None:
        cipher = tls.cipher()
        rec["cipher_suite"] = cipher[0] if cipher else None
        rec["tls_version"] = tls.version()
        rec["negotiated_protocol"] = tls.selected_alpn_protocol()
        der = tls.getpeercert(binary_form=True)
        if der:
            rec["peer_certificates"] = [{"data": base64.b64encode(der).decode(),
                                         "format": "base64"}]
    return rec


def connect_step(addrs: list[str], port: int, host: str, https: bool, timeout: float,
                 clock: Clock) -> tuple[list[dict], list[dict]]:
    """TCP connect to every address (and a TLS handshake on it for https)."""
    tcp, tls = [], []
    for ip in addrs:
        t = clock()
        try:
            sock = connect(ip, port, timeout)
        except OSError as e:
            tcp.append(_tcp_record(ip, port, t, failures.of_exception(e)))
            continue
        tcp.append(_tcp_record(ip, port, t, None))
        if not https:
            sock.close()
            continue
        t = clock()
        try:
            conn = handshake(sock, host, timeout)
        except (OSError, ssl.SSLError) as e:
            sock.close()
            tls.append(tls_record(address(ip, port), host, clock, t, None,
                                  failures.of_exception(e)))
            continue
        tls.append(tls_record(address(ip, port), host, clock, t, conn, None))
        close_quietly(conn)
    return tcp, tls


def _tcp_record(ip: str, port: int, t: float, failure: str | None) -> dict:
    return {"ip": ip, "port": port, "status": {"blocked": None, "failure": failure,
                                               "success": failure is None}, "t": t}


def close_quietly(sock) -> None:
    try:
        sock.close()
    except OSError:
        pass


def is_ip(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
        return True
    except ValueError:
        return False
