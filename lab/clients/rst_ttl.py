"""The IP TTL of the TCP resets a command receives: where the box that sent them sits.

    python -m lab.clients.rst_ttl [--iface IF] [--detail] -- CMD ARGS...

Opens a packet socket on the host's interface (before CMD starts: nothing is missed), runs CMD
(say, curl to a blocked site), and prints one line per TCP RST that arrived meanwhile:
`rst from 198.19.0.10:443 ttl 49`. An injected RST leaves a censor with its initial TTL and
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

ETH_P_IP = 0x0800
RST = 0x04
DRAIN = 0.3         # seconds to keep reading after CMD ends (frames still queued)


def default_iface() -> str:
    """The host's one interface that is not loopback."""
    return next(n for n in sorted(os.listdir("/sys/class/net")) if n != "lo")


def resets(frame: bytes) -> tuple[str, int, int] | None:
    """(source address, source port, IP TTL) when `frame` is an IPv4 TCP RST, else None."""
    hit = reset_fields(frame)
    return None if hit is None else hit[:3]


def reset_fields(frame: bytes) -> tuple[str, int, int, str, int, int] | None:
    """(source address, source port, IP TTL, flags as tcpdump writes them, sequence number,
    window) when `frame` is an IPv4 TCP RST, else None."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return None
    ihl = (frame[14] & 0x0F) * 4
    tcp = 14 + ihl
    if len(frame) < tcp + 16 or not frame[tcp + 13] & RST:
        return None
    src = socket.inet_ntoa(frame[26:30])
    flags = frame[tcp + 13]
    letters = "".join(c for bit, c in ((0x02, "S"), (0x01, "F"), (0x08, "P"), (0x04, "R"),
                                       (0x10, "A")) if flags & bit)
    return (src, int.from_bytes(frame[tcp:tcp + 2], "big"), frame[22], letters,
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
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
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
                line = f"rst from {hit[0]}:{hit[1]} ttl {hit[2]}"
                if args.detail:
                    line += f" flags {hit[3]} seq {hit[4]} win {hit[5]}"
                print(line, flush=True)
    return proc.wait()


if __name__ == "__main__":
    sys.exit(main())
