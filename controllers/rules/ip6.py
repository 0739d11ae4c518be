"""IPv6 in rules: address numbers that never meet IPv4's, IPv6 networks, the `family` key.

Owns how a flow's addresses are numbered for matching whatever the family (`addr_int`: an
IPv4 address is its 32-bit number; an IPv6 address its 128-bit number with bit 128 set, so
the two never collide in a set or a cache key, and `family_of` tells them apart), the IPv6
half of an `ip` list (`Ip6Nets`, one probe per prefix length present) and the checking and
normalising of IPv6 CIDRs. The IPv4 half stays controllers.rules.matching.IpSet's, with its
fast paths for large blocklists.
"""
from __future__ import annotations

import ipaddress
import socket

V6_FLAG = 1 << 128
FAMILIES = {"ipv4": 4, "ipv6": 6}


def addr_int(ip: str) -> int:
    """The number of an address of either family (IPv6 with bit 128 set)."""
    if ":" in ip:
        return int.from_bytes(socket.inet_pton(socket.AF_INET6, ip), "big") | V6_FLAG
    return int.from_bytes(socket.inet_aton(ip), "big")


class Numbers(dict):
    """addr_int remembered, by address: a lab's flows come from a few hosts, over and over
    (a hit is one dict lookup; forgotten all at once past `cap` addresses)."""

    def __init__(self, cap: int = 1 << 16) -> None:
        super().__init__()
        self.cap = cap

    def __missing__(self, ip: str) -> int:
        if len(self) >= self.cap:
            self.clear()
        n = self[ip] = addr_int(ip)
        return n


def family_of(n: int) -> int:
    """4 or 6, for a number from addr_int."""
    return 6 if n >= V6_FLAG else 4


def family_name(ip: str) -> str:
    """'ipv6' or 'ipv4', as events and the `family` key say it."""
    return "ipv6" if ":" in ip else "ipv4"


def split(cidrs: list[str]) -> tuple[list[str], list[str]]:
    """(the IPv4 CIDRs, the IPv6 CIDRs) of a list, each in its order."""
    v6 = [c for c in cidrs if ":" in c]
    if not v6:
        return cidrs, []
    return [c for c in cidrs if ":" not in c], v6


def normalise6(cidr: str) -> str:
    """An IPv6 CIDR as str(IPv6Network(cidr, strict=False)); ValueError for one that is none."""
    try:
        return str(ipaddress.IPv6Network(cidr, strict=False))
    except ValueError:
        raise ValueError(f"bad IPv6 network {cidr!r}") from None


class Ip6Nets:
    """IPv6 networks: `n in nets` for numbers from addr_int (IPv4 ones are never in)."""

    __slots__ = ("by_len",)

    def __init__(self, cidrs: list[str]) -> None:
        self.by_len: dict[int, set[int]] = {}
        for cidr in cidrs:
            net = ipaddress.IPv6Network(cidr, strict=False)
            self.by_len.setdefault(net.prefixlen, set()).add(int(net.network_address))

    def __contains__(self, n: int) -> bool:
        if n < V6_FLAG:
            return False
        addr = n ^ V6_FLAG
        for plen, nets in self.by_len.items():
            if (addr >> (128 - plen)) << (128 - plen) in nets:
                return True
        return False

    def __bool__(self) -> bool:
        return bool(self.by_len)
