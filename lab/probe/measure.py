"""The prober's measurement steps, run inside a lab host on that host's own network stack.

    python -m lab.probe.measure URL... [--resolver IP] [--timeout S] [--no-throughput] [--ipv6]

prints one JSON object per URL (JSONL): the raw observations, in OONI's shapes, that
lab/probe/classify.py turns into an OONI Web Connectivity measurement. Nothing here judges.

For http:// and https:// (OONI Web Connectivity's steps):
1. DNS: one A query over UDP to the resolver (default: /etc/resolv.conf's), the first answer
   taken, as a stub resolver does (an injected answer wins its race);
2. TCP connect to every address, and for https a TLS handshake with SNI on that connection
   (verifying the certificate against the probe's own bundle, the lab CA, as OONI Probe
   carries its own: a national CA the user installed does not make an interception pass);
3. HTTP GET (HTTP/1.1, redirects followed up to 5 hops) on a fresh connection; the body is read
   up to --body-cap bytes;
4. `x_throughput`: three transfers of about --bulk bytes, each on a new connection (the URL
   again, or many keep-alive requests for it pipelined when it is small), that show a throttle
   or a flow that freezes after its first bytes — an extension; OONI has no such step.

For a bare domain: DNS only. For `tcp://H:P` (TCP connect), `ssh://H[:P]` (SSH banners
exchanged, up to the server's KEXINIT), `stun://`, `udp://` and `quic://` (the lab.clients
probes): DNS, then one reachability check (`x_reachability`). Failures are OONI's strings
(lab/probe/failures.py). The steps themselves are in lab/probe/netsteps.py (DNS, TCP, TLS)
and lab/probe/web.py (HTTP, throughput). With --ipv6 (a dual-stack lab), `x_ipv6` holds the
same DNS and connect steps for IPv6, and for a non-web target the same reachability check at
its first IPv6 address (lab/probe/families.py).
"""
from __future__ import annotations

import argparse
import json
import re
import ssl
import sys
import time
from urllib.parse import urlsplit

from lab.clients.dnswire import system_resolver
from lab.clients.probe import address, socket_family
from lab.probe import failures
from lab.probe.families import ipv6_step
from lab.probe.netsteps import (Clock, addresses_of, close_quietly, connect, connect_step,
                                is_ip, resolve)
from lab.probe.web import Reader, http_step, throughput_step
from lab.truth.schemes import REACH_PORTS, WEB_PORTS

BODY_CAP = 1 << 20
BULK = 384 * 1024


# --- non-web targets ---------------------------------------------------------------------------

def reach_step(url: str, ip: str, timeout: float, clock: Clock) -> dict:
    """One reachability check of a non-web target at `ip` (its scheme's client)."""
    p = urlsplit(url)
    scheme = p.scheme.lower()
    port = p.port or REACH_PORTS.get(scheme)
    rec = {"probe": scheme, "address": address(ip, port), "failure": None, "said": "",
           "t": clock()}
    try:
        if port is None:
            raise _ProbeFailure(f"unknown_failure: no port in {url}")
        if scheme in ("tcp", "ssh"):
            sock = connect(ip, port, timeout)
            try:
                if scheme == "ssh":
                    rec["said"] = _ssh_hello(sock, timeout)
                else:
                    rec["said"] = "connected"
            finally:
                close_quietly(sock)
        else:
            rec["said"] = _lab_probe(scheme, url, ip, port, timeout)
    except _ProbeFailure as e:
        rec["failure"] = str(e)
    except (OSError, ssl.SSLError, ValueError, EOFError) as e:
        rec["failure"] = failures.of_exception(e)
    rec["x_runtime"] = round(clock() - rec["t"], 6)
    return rec


class _ProbeFailure(Exception):
    pass


def _ssh_hello(sock, timeout: float) -> str:
    """The start of an SSH session, as a client makes it: the server's banner, ours, then the
    server's first binary packet (KEXINIT, which it sends once it has our banner)."""
    reader = Reader(sock, time.monotonic() + timeout)
    banner = reader.until(b"\n", 255)
    if not banner.startswith(b"SSH-"):
        raise _ProbeFailure("unknown_failure: not an SSH banner")
    sock.sendall(b"SSH-2.0-blocklab_probe\r\n")
    header = reader.take(6)                  # packet length, padding length, message type
    if header[5] != 20:
        raise _ProbeFailure(f"unknown_failure: SSH message {header[5]}, not KEXINIT")
    return banner.decode("ascii", "replace").strip() + ", KEXINIT"


def _lab_probe(scheme: str, url: str, ip: str, port: int, timeout: float) -> str:
    """stun, udp and quic through lab.clients' probes, aimed at `ip` (no second lookup)."""
    from lab.clients.probe import ProbeError
    try:
        if scheme == "stun":
            from lab.clients import stun_probe
            return stun_probe.main([address(ip, port), "--max-time", str(timeout)])
        if scheme == "udp":
            from lab.clients import udp_probe
            return udp_probe.main([address(ip, port), "--max-time", str(timeout)])
        if scheme == "quic":
            import asyncio
            from lab.clients import quic_probe
            p = urlsplit(url)
            quic_probe.resolve = lambda *_: ip      # the address this measurement found
            target = f"https://{p.netloc}{p.path or '/'}" + (f"?{p.query}" if p.query else "")
            said = asyncio.run(quic_probe.fetch(target, timeout, quic_probe.CAFILE,
                                                socket_family(ip)))
            if not re.match(r"HTTP/3 [23]", said):
                raise _ProbeFailure(f"unknown_failure: {said}")
            return said
    except ProbeError as e:
        raise _ProbeFailure(failures.of_probe(e.code, str(e))) from None
    raise _ProbeFailure(f"unknown_failure: no probe for {scheme}://")


# --- one target -------------------------------------------------------------------------------

def kind_of(url: str) -> str:
    if "://" not in url:
        return "dns"
    scheme = urlsplit(url).scheme.lower()
    if scheme in WEB_PORTS:
        return "web"
    if scheme in REACH_PORTS:
        return scheme
    return "unknown"


def measure(url: str, resolver: str, timeout: float = 3.0, body_cap: int = BODY_CAP,
            bulk: int | None = BULK, ipv6: bool = False) -> dict:
    """Every step for one target: the raw observations (lab/probe/classify.py reads them)."""
    clock = Clock()
    started = time.time()
    kind = kind_of(url)
    host = (urlsplit(url).hostname or "") if "://" in url else url.strip().rstrip(".")
    out = {"input": url, "kind": kind, "host": host, "resolver": resolver,
           "measurement_start_time": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(started)),
           "x_start": started, "queries": [], "dns_failure": None, "addrs": [],
           "tcp_connect": [], "tls_handshakes": [], "requests": [], "x_throughput": None,
           "x_reachability": [], "failure": None}
    if kind == "unknown":
        out["failure"] = f"unknown_failure: unsupported scheme in {url}"
        out["test_runtime"] = clock()
        return out
    if is_ip(host):
        out["addrs"] = [host]
    else:
        q = resolve(host, resolver, timeout, clock)
        out["queries"].append(q)
        out["dns_failure"], out["addrs"] = q["failure"], addresses_of(q)
    if ipv6 and not is_ip(host) and kind != "unknown":
        p = urlsplit(url) if "://" in url else None
        port = (p.port or WEB_PORTS.get(p.scheme)) if p is not None and kind == "web" else None
        reach = None if kind in ("web", "dns") else (
            lambda ip: reach_step(url, ip, timeout, clock))
        out["x_ipv6"] = ipv6_step(host, resolver, port, kind == "web" and p.scheme == "https",
                                  timeout, clock, reach)
    if kind == "web":
        _web(out, url, timeout, body_cap, bulk, clock)
    elif kind != "dns" and out["addrs"]:
        out["x_reachability"] = [reach_step(url, out["addrs"][0], timeout, clock)]
    out["test_runtime"] = clock()
    return out


def _web(out: dict, url: str, timeout: float, body_cap: int, bulk: int | None,
         clock: Clock) -> None:
    p = urlsplit(url)
    https = p.scheme == "https"
    port = p.port or WEB_PORTS[p.scheme]
    addrs = out["addrs"]
    out["tcp_connect"], out["tls_handshakes"] = connect_step(addrs, port, p.hostname, https,
                                                             timeout, clock)
    ok = [c["ip"] for c in out["tcp_connect"] if c["status"]["success"]]
    first_failure = out["dns_failure"] if not addrs else None
    if addrs and not ok:
        # every connect failed: the GET's own connects would fail the same way (and, for a
        # drop, take as long again); OONI's request records that failure
        first_failure = out["tcp_connect"][0]["status"]["failure"]
    order = ok + [a for a in addrs if a not in ok]
    chain, resp, ip, secs = http_step(url, order, first_failure, timeout, body_cap, clock,
                                      out["resolver"])
    out["requests"] = chain
    if bulk and resp is not None and ip is not None:
        final = chain[0]["request"]["url"]
        out["x_throughput"] = throughput_step(final, ip, resp, secs, bulk, timeout, clock)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="lab.probe.measure", description=__doc__.splitlines()[0])
    p.add_argument("urls", nargs="+", metavar="URL")
    p.add_argument("--resolver", help="DNS server address (default: /etc/resolv.conf's)")
    p.add_argument("--timeout", type=float, default=3.0, help="per step, seconds (default 3)")
    p.add_argument("--body-cap", type=int, default=BODY_CAP)
    p.add_argument("--bulk", type=int, default=BULK, help="bytes for the throughput step")
    p.add_argument("--no-throughput", action="store_true")
    p.add_argument("--ipv6", action="store_true", help="also measure IPv6 (AAAA, connects)")
    a = p.parse_args(argv)
    resolver = a.resolver or system_resolver()
    for url in a.urls:
        m = measure(url, resolver, a.timeout, a.body_cap, None if a.no_throughput else a.bulk,
                    a.ipv6)
        print(json.dumps(m), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
