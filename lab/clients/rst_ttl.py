"""The IP TTL of the TCP resets a command receives: where the box that sent them sits.

    python -m lab.clients.rst_ttl [--iface IF] [--detail] -- CMD ARGS...

Opens a packet socket on the host's interface (before CMD starts: nothing is missed), runs CMD
(say, curl to a blocked site), and prints one line per TCP RST that arrived meanwhile:
`rst from 198.19.0.10:443 ttl 49` (over IPv6, the hop limit: `rst from [2001:db8::c613:a]:443
ttl 49`). An injected RST leaves a censor with its initial TTL and
loses one per router on the way, so initial TTL − received TTL is the censor's distance in
hops (the measurement of Censored Planet's CenTrace and of gfw.report's TTL analyses; a
Linux server's own packets start at 64). `--detail` adds each reset's flags, sequence number
and window (`... ttl 62 flags RA seq 0 win 1980`): the fields gfw.report fingerprinted the
2025-08-20 port-443 injector by. Exit code: CMD's.
"""
from __future__ import annotations

import argparse
import os
import select
import socket
import subprocess
import sys
import time

ETH_P_ALL = 0x0003   # both families: a dual-stack client's curl prefers IPv6
ETH_IPV4, ETH_IPV6 = b"\x08\x00", b"\x86\xdd"
RST = 0x04
DRAIN = 0.3         # seconds to keep reading after CMD ends (frames still queued)


def default_iface() -> str:
    """The host's one interface that is not loopback."""
    return next(n for n in sorted(os.listdir("/sys/class/net")) if n != "lo")


def resets(frame: bytes) -> tuple[str, int, int] | None:
    """(source address, source port, IP TTL or IPv6 hop limit) when `frame` is a TCP RST,
    else None."""
    hit = reset_fields(frame)
    return None if hit is None else hit[:3]


def reset_fields(frame: bytes) -> tuple[str, int, int, str, int, int] | None:
    """(source address, source port, IP TTL or IPv6 hop limit, flags as tcpdump writes them,
    sequence number, window) when `frame` is a TCP RST over IPv4 or IPv6 (TCP right after
    the fixed header: injected resets carry no extension headers), else None."""
    if len(frame) >= 54 and frame[12:14] == ETH_IPV6 and frame[20] == 6:
        tcp, ttl, src = 54, frame[21], socket.inet_ntop(socket.AF_INET6, frame[22:38])
    elif len(frame) >= 34 and frame[12:14] == ETH_IPV4 and frame[23] == 6:
        tcp, ttl, src = 14 + (frame[14] & 0x0F) * 4, frame[22], socket.inet_ntoa(frame[26:30])
    else:
        return None
    if len(frame) < tcp + 16 or not frame[tcp + 13] & RST:
        return None
    flags = frame[tcp + 13]
    letters = "".join(c for bit, c in ((0x02, "S"), (0x01, "F"), (0x08, "P"), (0x04, "R"),
                                       (0x10, "A")) if flags & bit)
    return (src, int.from_bytes(frame[tcp:tcp + 2], "big"), ttl, letters,
            int.from_bytes(frame[tcp + 4:tcp + 8], "big"),
            int.from_bytes(frame[tcp + 14:tcp + 16], "big"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="rst_ttl", description=__doc__.split("\n")[0])
    p.add_argument("--iface", default=None)
    p.add_argument("--detail", action="store_true",
                   help="also print each reset's flags, sequence number and window")
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    args = p.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        p.error("give a command after --")
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind((args.iface or default_iface(), 0))
    proc = subprocess.Popen(cmd, stdout=sys.stderr)
    deadline = None
    while True:
        if deadline is None and proc.poll() is not None:
            deadline = time.monotonic() + DRAIN
        wait = 0.1 if deadline is None else deadline - time.monotonic()
        if wait <= 0:
            break
        if select.select([sock], [], [], wait)[0]:
            frame, addr = sock.recvfrom(65535)
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            hit = reset_fields(frame)
            if hit:
                host = f"[{hit[0]}]" if ":" in hit[0] else hit[0]
                line = f"rst from {host}:{hit[1]} ttl {hit[2]}"
                if args.detail:
                    line += f" flags {hit[3]} seq {hit[4]} win {hit[5]}"
                print(line, flush=True)
    return proc.wait()


if __name__ == "__main__":
    sys.exit(main())
