"""Every answer to one DNS query, in arrival order: what an on-path injector race looks like.

`python -m lab.clients.dns_answers NAME [--server IP] [--wait S] [--type AAAA]` sends one A
(or AAAA) query over UDP (to an IPv6 server over IPv6) and prints one line per response received within --wait seconds: `rcode ip,ip,...`. A stub
resolver takes the first line; the later ones are what an injecting censor could not stop.
Exit 0 when at least one answer arrived, 28 when none did.
"""
from __future__ import annotations

import argparse
import random
import socket
import struct
import sys
import time

from lab.clients.dnswire import a_query, parse_answer, system_resolver
from lab.clients.probe import socket_family

RCODES = {0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="dns_answers", description=__doc__.splitlines()[0])
    p.add_argument("name")
    p.add_argument("--server")
    p.add_argument("--wait", type=float, default=1.0)
    p.add_argument("--type", choices=("A", "AAAA"), default="A")
    a = p.parse_args(argv)
    qid = random.randrange(1, 0xFFFF)
    server = a.server or system_resolver()
    with socket.socket(socket_family(server), socket.SOCK_DGRAM) as s:
        s.sendto(a_query(a.name, qid, 28 if a.type == "AAAA" else 1), (server, 53))
        deadline = time.monotonic() + a.wait
        seen = 0
        while (left := deadline - time.monotonic()) > 0:
            s.settimeout(left)
            try:
                msg, _ = s.recvfrom(4096)
            except (socket.timeout, TimeoutError):
                break
            if len(msg) < 12 or struct.unpack_from("!H", msg)[0] != qid:
                continue
            try:
                rcode, found = parse_answer(msg)
            except (struct.error, IndexError, ValueError):
                continue
            ips = [ip for ip, _ttl in found]
            seen += 1
            print(f"{RCODES.get(rcode, rcode)} {','.join(ips) or '-'}", flush=True)
    if not seen:
        print("dns_answers: no answer (timed out)", file=sys.stderr)
        return 28
    return 0


if __name__ == "__main__":
    sys.exit(main())
