"""The test hosts of engine_helpers with IPv6 addresses (the lab's dual-stack plan), and a
policy over them, for driving the engine with IPv6 frames."""
from __future__ import annotations

import struct

from controllers import packets as P
from engine_helpers import ALICE, HOSTS, WEB


def v6(ip4: str) -> str:
    """The lab's IPv6 address for an IPv4 one (lab.scenario.addressing.ip6_for)."""
    a, b, c, d = (int(x) for x in ip4.split("."))
    return f"2001:db8::{a << 8 | b:x}:{c << 8 | d:x}"


HOSTS6 = {name: {**h, "ip6": v6(h["ip"])} for name, h in HOSTS.items()}
ALICE6 = {**ALICE, "ip": v6(ALICE["ip"])}
WEB6 = {**WEB, "ip": v6(WEB["ip"])}
ISP6 = {**HOSTS["isp"], "ip": v6(HOSTS["isp"]["ip"])}


def policy6(*rules, mode="inline"):
    return {"mode": mode, "reassembly": True, "inspect_packets": 8, "fail_mode": "secure",
            "seed": 1, "hosts": HOSTS6, "rules": list(rules)}


def checksum_ok6(frame: bytes) -> bool:
    """The TCP/UDP/ICMPv6 checksum of an IPv6 frame (no extension headers) is right."""
    assert frame[12:14] == b"\x86\xdd"
    plen, nh = struct.unpack_from("!HB", frame, 18)
    seg = frame[54:54 + plen]
    pseudo = frame[22:54] + struct.pack("!I3xB", len(seg), nh)
    return P.checksum(pseudo + seg) == 0
