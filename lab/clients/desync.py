"""Desync methods of zapret and byedpi, sent from a lab client inside a live connection.

Owns the shapes a desync gives a connection's first data (a ClientHello), as segments with
their sequence numbers, and sending them: the kernel is handed the hello as already sent
(lab.clients.fakes.Connection.queue_as_sent), and the segments go out through the host's
packet socket, each with correct checksums unless the method spoils one. The server's
kernel keeps what a real one keeps; the censor sees every segment.

- fake-badsum: a fake ClientHello for FAKE_SNI with a wrong TCP checksum, then the real
  one. zapret: `--dpi-desync=fake --dpi-desync-fooling=badsum`; byedpi: `--fake` with a
  spoiled checksum.
- fake-badseq: the same fake, its seq 10000 before the stream and its ack 66000 back, then
  the real one. zapret: `--dpi-desync=fake --dpi-desync-fooling=badseq` (its default
  increments, -10000 and -66000).
- disorder: the hello cut in the middle of the name, the second part sent first. zapret:
  `--dpi-desync=disorder`; byedpi: `--disorder` (there the first part is lost by TTL 1 and
  the kernel resends it after the second: the same order on the censor's wire).
- multisplit: the hello cut after byte 1, at the name and in its middle, four segments in
  order. zapret: `--dpi-desync=multisplit --dpi-desync-split-pos=1,sniext+1,midsld`;
  byedpi: several `--split` positions.
- fake-ttl: the same fake, correct in every field but its IP TTL, which is low enough to
  die at a router before the server and high enough to pass the censor; then the real one.
  zapret: `--dpi-desync=fake --dpi-desync-autottl`; GoodbyeDPI: `--set-ttl`/`--auto-ttl`;
  byedpi: `--fake` with `--ttl`.
- tcb-teardown: a RST+ACK at the stream's start with that TTL, then the real hello: a
  stateful DPI that forgets a flow on the client's RST no longer reads it (Geneva's "TCB
  teardown" strategies, Bock et al., CCS 2019; zapret: `--dpi-desync=rst` with a TTL).

The TTL of the last two comes from the hop count to the server, as zapret's autottl
measures it: the SYN-ACK's TTL subtracted from the initial TTL it was sent with (the
next of 64, 128, 255), plus a delta (`--autottl-delta`, default 0: the largest TTL that
still dies before the server, at its last router). zapret's default is -1 with at least 3
(`--dpi-desync-autottl=-1:3-20`), made for paths of a dozen hops; the lab's have two.

zapret's default fake names iana.org; ours names FAKE_SNI. Every segment carries PSH|ACK,
no TCP options: a 1-byte segment without PSH would pass with the handshake (a documented
blind spot of the switch's passes), which is not what is measured here.

    python -m lab.clients.desync METHOD HOST [--port 443] [--sni NAME] [--timeout S]
        [--autottl-delta N] [-6]

connects (over IPv4; `-6`: over IPv6, to HOST's AAAA: the segments go out on EtherType
0x86dd, a badsum fake's checksum is wrong over IPv6's pseudo-header, and a TTL is the hop
limit), sends a ClientHello for NAME (default HOST) shaped by METHOD, prints one line per
segment sent and `ServerHello received` when the server answers (exit 0; 28 on a timeout,
35 on a reset, as lab.clients.tls_hello).
"""
from __future__ import annotations

import argparse
import socket
import sys

from controllers.packets import ACK, PSH, RST, with_ttl
from lab.clients.fakes import Connection, spoil
from lab.clients.probe import ProbeError, resolve
from lab.clients.tls_hello import client_hello, sni_span

METHODS = ("fake-badsum", "fake-badseq", "disorder", "multisplit", "fake-ttl", "tcb-teardown")
TTL_METHODS = ("fake-ttl", "tcb-teardown")
INITIAL_TTLS = (64, 128, 255)       # what operating systems start at (zapret's guess too)
FAKE_SNI = "www.iana.org"
BADSEQ, BADACK = -10000, -66000     # zapret's --dpi-desync-badseq/badack-increment defaults
MSS = 1400                          # bytes per segment at most (a hello with post-quantum
                                    # key shares is larger than one: sent in order, in pieces)


def fake_hello() -> bytes:
    """A real ClientHello (Python's ssl module) naming FAKE_SNI."""
    return client_hello(FAKE_SNI)[3]


def cuts(hello: bytes, method: str) -> list[int]:
    """Where `method` cuts the hello (offsets into it, in order)."""
    span = sni_span(hello)
    at, size = span if span else (6, 2)
    points = [at + max(1, size // 2)] if method == "disorder" else [1, at + 1, at + size // 2]
    return sorted({p for p in points if 0 < p < len(hello)})


def autottl(received: int, delta: int = 0) -> int | None:
    """The TTL of a packet meant to die at the server's last router (less `delta`) when the
    server's packets arrive with TTL `received`: its hop count (the initial TTL guessed as
    the next of INITIAL_TTLS) plus delta. None when that is below 1: no router lies
    between, nothing can pass the censor and die before the server (zapret's autottl
    falls back to a fixed TTL there; this tool sends no such packet)."""
    initial = next((t for t in INITIAL_TTLS if t >= received), 255)
    ttl = initial - received + delta
    return ttl if ttl >= 1 else None


def plan(method: str, hello: bytes, ttl: int | None = None) -> list[dict]:
    """The segments, in the order sent: {"seq": offset into the stream + 1, "data": bytes,
    "ack": 1 or BADACK + 1, "spoil": "badsum" or None, "what": "fake", "rst" or "real",
    "ttl": the IP TTL of a TTL-limited one (else None: the kernel's), "flags"}."""
    real = {"seq": 1, "data": hello, "ack": 1, "spoil": None, "what": "real", "ttl": None,
            "flags": PSH | ACK}
    if method == "fake-ttl":
        return [dict(real, data=fake_hello(), what="fake", ttl=ttl), real]
    if method == "tcb-teardown":
        return [dict(real, data=b"", what="rst", ttl=ttl, flags=RST | ACK), real]
    if method in ("fake-badsum", "fake-badseq"):
        bad = method == "fake-badseq"
        fake = dict(real, seq=1 + (BADSEQ if bad else 0), data=fake_hello(),
                    ack=1 + (BADACK if bad else 0), spoil=None if bad else "badsum",
                    what="fake")
        return [fake, real]
    points = [0, *cuts(hello, method), len(hello)]
    parts = [dict(real, seq=a + 1, data=hello[a:b]) for a, b in zip(points, points[1:])]
    return parts[::-1] if method == "disorder" else parts


def send(conn: Connection, method: str, hello: bytes, delta: int = 0) -> list[str]:
    """Send `hello` on `conn` shaped by `method`; one line per segment sent."""
    ttl = autottl(conn.synack_ttl, delta) if method in TTL_METHODS else None
    shaped = plan(method, hello, ttl)
    lines = []
    if method in TTL_METHODS and ttl is None:
        shaped = [s for s in shaped if s["what"] == "real"]
        lines.append(f"{method}: no router before the server (SYN-ACK ttl "
                     f"{conn.synack_ttl}): nothing TTL-limited sent")
    segments = [dict(s, seq=s["seq"] + i, data=s["data"][i:i + MSS])
                for s in shaped for i in range(0, max(1, len(s["data"])), MSS)]
    conn.queue_as_sent(hello)
    for s in segments:
        frame = conn.segment(s["seq"], s["flags"], s["data"], s["ack"])
        if s["spoil"]:
            frame = spoil(frame, s["spoil"])
        if s["ttl"] is not None:
            frame = with_ttl(frame, s["ttl"])
        conn.raw.send(frame)
        lines.append(f"{method}: {s['what']} seq {s['seq']} len {len(s['data'])}"
                     + (f" ack {s['ack']}" if s["ack"] != 1 else "")
                     + (f" {s['spoil']}" if s["spoil"] else "")
                     + (f" ttl {s['ttl']} (autottl: SYN-ACK ttl {conn.synack_ttl})"
                        if s["ttl"] is not None else ""))
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="desync", description=__doc__.splitlines()[0])
    p.add_argument("method", choices=METHODS)
    p.add_argument("host")
    p.add_argument("--port", type=int, default=443)
    p.add_argument("--sni")
    p.add_argument("--timeout", type=float, default=5.0)
    p.add_argument("--autottl-delta", type=int, default=0,
                   help="added to the hop count for fake-ttl and tcb-teardown (default 0)")
    p.add_argument("-6", dest="ipv6", action="store_true", help="over IPv6 (HOST's AAAA)")
    a = p.parse_args(argv)
    hello = client_hello(a.sni or a.host)[3]
    try:
        ip = resolve(a.host, socket.AF_INET6 if a.ipv6 else socket.AF_INET)
        conn = Connection(ip, a.port, a.timeout)
    except (OSError, TimeoutError, ProbeError) as e:
        print(f"desync: {e}", file=sys.stderr)
        return 7
    try:
        for line in send(conn, a.method, hello, a.autottl_delta):
            print(line, flush=True)
        conn.sock.settimeout(a.timeout)
        data = conn.sock.recv(65536)
        if data[:1] == b"\x16":
            print("desync: ServerHello received")
            return 0
        print("desync: connection closed by peer during handshake", file=sys.stderr)
        return 35
    except (socket.timeout, TimeoutError):
        print("desync: handshake timed out", file=sys.stderr)
        return 28
    except (ConnectionResetError, BrokenPipeError):
        print("desync: connection reset by peer", file=sys.stderr)
        return 35
    finally:
        conn.close()


if __name__ == "__main__":
    sys.exit(main())
