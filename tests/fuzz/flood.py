"""Flood the censor from a lab client with malformed and random traffic, for a fixed time.

Run inside a client host (root, in its network namespace):

    python tests/fuzz/flood.py --seconds 10 --web 198.19.0.10 --dns 198.18.0.2 \
        --iface alice-eth0 --server-mac 02:00:c6:13:00:0a

Three senders run at once, each its own process, each as fast as it can (or `--rate` packets
per second each):
- udp: datagrams from ever-new source ports (each a new flow for the censor) to DNS (53), QUIC
  (443), STUN (3478), WireGuard (51820) and random ports; payloads are random bytes, DNS
  queries and QUIC long headers with broken fields, and cut real-looking messages;
- tcp: many real connections (non-blocking) to the web server's 443 and 80 and to DNS over
  TCP, each sending garbage, truncated or lying TLS records, broken HTTP, then closing;
- raw: Ethernet frames through AF_PACKET on the client's interface: IPv4 headers with bad
  lengths, options, fragments, odd protocols and checksums, and non-IPv4 ethertypes.
Prints one JSON object: what each sender sent, and the rate.
"""
from __future__ import annotations

import argparse
import errno
import json
import multiprocessing as mp
import os
import random
import select
import socket
import struct
import time


def _rand(rng: random.Random, lo: int, hi: int) -> bytes:
    return rng.randbytes(rng.randint(lo, hi))


def udp_payload(rng: random.Random, port: int) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:
        return _rand(rng, 0, 1400)
    if port == 53 or kind == 1:                          # a DNS header, then garbage
        return struct.pack("!HHHHHH", rng.getrandbits(16), rng.getrandbits(16),
                           rng.randint(0, 3), rng.randint(0, 2), 0, 0) + _rand(rng, 0, 300)
    if port == 443 or kind == 2:                         # a QUIC long header, lying lengths
        return (bytes([0xC0 | rng.getrandbits(4)]) + rng.choice(
            [b"\x00\x00\x00\x01", b"\x6b\x33\x43\xcf", rng.randbytes(4)])
            + bytes([rng.randint(0, 40)]) + _rand(rng, 0, 40) + _rand(rng, 0, 1200))
    return b"\x00\x01" + struct.pack("!H", rng.randint(0, 2000)) + b"\x21\x12\xa4\x42" + \
        _rand(rng, 0, 200)                               # STUN-ish


def tcp_payload(rng: random.Random, port: int) -> bytes:
    kind = rng.randrange(5)
    if kind == 0:
        return _rand(rng, 1, 3000)
    if kind == 1:                                        # a TLS record that lies
        body = b"\x01" + rng.randbytes(3) + b"\x03\x03" + _rand(rng, 0, 600)
        return b"\x16\x03" + bytes([rng.randint(0, 4)]) + struct.pack(
            "!H", rng.randint(0, 65535)) + body
    if kind == 2:                                        # HTTP with broken heads
        return (rng.choice([b"GET", b"POST", b"\x00ET", b"CONNECT"]) + b" " + _rand(rng, 0, 50)
                + b" HTTP/1.1\r\nHost: " + _rand(rng, 0, 300) + rng.choice([b"\r\n\r\n", b"\n"]))
    if kind == 3:                                        # DNS over TCP, wrong length
        return struct.pack("!H", rng.randint(0, 65535)) + _rand(rng, 0, 200)
    return b"SSH-2.0-" + _rand(rng, 0, 100)


def udp_sender(args, out) -> None:
    rng = random.Random(os.getpid())
    targets = [(args.web, 443), (args.web, 3478), (args.web, 51820), (args.dns, 53),
               (args.web, 53)]
    sent = errors = 0
    end = time.monotonic() + args.seconds
    socks: list[socket.socket] = []
    while time.monotonic() < end:
        if len(socks) < 64 or rng.random() < 0.2:        # ever-new source ports: new flows
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setblocking(False)
            socks.append(s)
            if len(socks) > 256:
                socks.pop(0).close()
        s = rng.choice(socks)
        host, port = rng.choice(targets) if rng.random() < 0.8 else \
            (args.web, rng.randint(1, 65535))
        try:
            s.sendto(udp_payload(rng, port), (host, port))
            sent += 1
        except OSError:
            errors += 1
        _pace(args.rate, sent, end - args.seconds)
    out.put(("udp", {"datagrams": sent, "errors": errors}))


def tcp_sender(args, out) -> None:
    rng = random.Random(os.getpid())
    targets = [(args.web, 443), (args.web, 80), (args.dns, 53)]
    opened = sent_bytes = refused = 0
    end = time.monotonic() + args.seconds
    pending: dict[int, tuple[socket.socket, int, float]] = {}
    while time.monotonic() < end:
        while len(pending) < 200:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            host, port = rng.choice(targets)
            err = s.connect_ex((host, port))
            if err not in (0, errno.EINPROGRESS):
                s.close()
                refused += 1
                break
            pending[s.fileno()] = (s, port, time.monotonic())
            opened += 1
            _pace(args.rate, opened, end - args.seconds)
        _, writable, _ = select.select([], list(pending), [], 0.05)
        for fd in writable:
            s, port, _t = pending.pop(fd)
            try:
                for _ in range(rng.randint(1, 3)):
                    sent_bytes += s.send(tcp_payload(rng, port))
            except OSError:
                refused += 1
            s.close()
        now = time.monotonic()
        for fd, (s, _p, t) in list(pending.items()):
            if now - t > 2:                              # held by the censor, or lost
                s.close()
                del pending[fd]
    for s, _p, _t in pending.values():
        s.close()
    out.put(("tcp", {"connections": opened, "bytes": sent_bytes, "failed": refused}))


def raw_frame(rng: random.Random, args, src_mac: bytes, dst_mac: bytes) -> bytes:
    kind = rng.randrange(6)
    eth = dst_mac + src_mac
    if kind == 0:                                        # not IPv4 at all
        return eth + rng.choice([b"\x86\xdd", b"\x08\x06", rng.randbytes(2)]) + _rand(rng, 0, 200)
    src, dst = socket.inet_aton(args.src), socket.inet_aton(args.web)
    proto = rng.choice([6, 17, 1, 47, 132, rng.randint(0, 255)])
    payload = _rand(rng, 0, 1400)
    if proto in (6, 17) and rng.random() < 0.7:          # ports the censor inspects
        ports = struct.pack("!HH", rng.randint(1, 65535), rng.choice([443, 80, 53, 3478]))
        payload = ports + payload[4:]
    ihl = 5 if kind < 3 else rng.randint(0, 15)          # options, or lying header lengths
    options = rng.randbytes(max(0, ihl - 5) * 4)
    total = 20 + len(options) + len(payload) if kind != 4 else rng.randint(0, 65535)
    frag = rng.choice([0, 0x2000, rng.randint(1, 0x1FFF), 0x4000, rng.getrandbits(16)])
    header = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total & 0xFFFF, rng.getrandbits(16),
                         frag, 64, proto, rng.getrandbits(16), src, dst)
    return eth + b"\x08\x00" + header + options + payload


def raw_sender(args, out) -> None:
    rng = random.Random(os.getpid())
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((args.iface, 0))
    src_mac = s.getsockname()[4]
    dst_macs = [bytes.fromhex(args.server_mac.replace(":", "")), b"\xff" * 6]
    sent = errors = 0
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        try:
            s.send(raw_frame(rng, args, src_mac, rng.choice(dst_macs)))
            sent += 1
        except OSError:
            errors += 1
        _pace(args.rate, sent, end - args.seconds)
    out.put(("raw", {"frames": sent, "errors": errors}))


def _pace(rate: float, count: int, start: float) -> None:
    if rate:
        ahead = count / rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)   # pacing the sender to its rate, not waiting for anything


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--web", required=True)
    p.add_argument("--dns", required=True)
    p.add_argument("--src", required=True, help="this client's address (raw frames)")
    p.add_argument("--iface", required=True)
    p.add_argument("--server-mac", required=True)
    p.add_argument("--rate", type=float, default=0, help="per sender; 0: as fast as it can")
    p.add_argument("--senders", default="udp,tcp,raw")
    args = p.parse_args()
    out: mp.Queue = mp.Queue()
    fns = {"udp": udp_sender, "tcp": tcp_sender, "raw": raw_sender}
    procs = [mp.Process(target=fns[name], args=(args, out)) for name in args.senders.split(",")]
    start = time.monotonic()
    for proc in procs:
        proc.start()
    results = dict(out.get(timeout=args.seconds + 30) for _ in procs)
    for proc in procs:
        proc.join(10)
    took = time.monotonic() - start
    packets = (results.get("udp", {}).get("datagrams", 0) + results.get("raw", {}).get("frames", 0)
               + 3 * results.get("tcp", {}).get("connections", 0))
    print(json.dumps({"seconds": round(took, 2), "packets": packets,
                      "packets_per_s": round(packets / took), **results}))


if __name__ == "__main__":
    main()
