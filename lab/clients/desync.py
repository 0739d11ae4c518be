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

zapret's default fake names iana.org; ours names FAKE_SNI. Every segment carries PSH|ACK,
no TCP options: a 1-byte segment without PSH would pass with the handshake (a documented
blind spot of the switch's passes), which is not what is measured here.

    python -m lab.clients.desync METHOD HOST [--port 443] [--sni NAME] [--timeout S]

connects, sends a ClientHello for NAME (default HOST) shaped by METHOD, prints one line per
segment sent and `ServerHello received` when the server answers (exit 0; 28 on a timeout,
35 on a reset, as lab.clients.tls_hello).
"""
from __future__ import annotations

import argparse
import socket
import sys

from controllers.packets import ACK, PSH
from lab.clients.fakes import Connection, spoil
from lab.clients.tls_hello import client_hello, sni_span

METHODS = ("fake-badsum", "fake-badseq", "disorder", "multisplit")
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


def plan(method: str, hello: bytes) -> list[dict]:
    """The segments, in the order sent: {"seq": offset into the stream + 1, "data": bytes,
    "ack": 1 or BADACK + 1, "spoil": "badsum" or None, "what": "fake" or "real"}."""
    if method in ("fake-badsum", "fake-badseq"):
        bad = method == "fake-badseq"
        fake = {"seq": 1 + (BADSEQ if bad else 0), "data": fake_hello(),
                "ack": 1 + (BADACK if bad else 0), "spoil": None if bad else "badsum",
                "what": "fake"}
        return [fake, {"seq": 1, "data": hello, "ack": 1, "spoil": None, "what": "real"}]
    points = [0, *cuts(hello, method), len(hello)]
    parts = [{"seq": a + 1, "data": hello[a:b], "ack": 1, "spoil": None, "what": "real"}
             for a, b in zip(points, points[1:])]
    return parts[::-1] if method == "disorder" else parts


def send(conn: Connection, method: str, hello: bytes) -> list[str]:
    """Send `hello` on `conn` shaped by `method`; one line per segment sent."""
    segments = [dict(s, seq=s["seq"] + i, data=s["data"][i:i + MSS])
                for s in plan(method, hello) for i in range(0, len(s["data"]), MSS)]
    conn.queue_as_sent(hello)
    lines = []
    for s in segments:
        frame = conn.segment(s["seq"], PSH | ACK, s["data"], s["ack"])
        if s["spoil"]:
            frame = spoil(frame, s["spoil"])
        conn.raw.send(frame)
        lines.append(f"{method}: {s['what']} seq {s['seq']} len {len(s['data'])}"
                     + (f" ack {s['ack']}" if s["ack"] != 1 else "")
                     + (f" {s['spoil']}" if s["spoil"] else ""))
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="desync", description=__doc__.splitlines()[0])
    p.add_argument("method", choices=METHODS)
    p.add_argument("host")
    p.add_argument("--port", type=int, default=443)
    p.add_argument("--sni")
    p.add_argument("--timeout", type=float, default=5.0)
    a = p.parse_args(argv)
    hello = client_hello(a.sni or a.host)[3]
    try:
        ip = socket.gethostbyname(a.host)
        conn = Connection(ip, a.port, a.timeout)
    except (OSError, TimeoutError) as e:
        print(f"desync: {e}", file=sys.stderr)
        return 7
    try:
        for line in send(conn, a.method, hello):
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
