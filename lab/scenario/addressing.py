"""The lab's addressing plan: every address in 198.18.0.0/15 (RFC 2544 benchmarking space).

Owns which address and MAC each host gets. Clients (censored side) are numbered from 198.18.0.10
and servers (internet side) from 198.19.0.10, in the order the file lists them, skipping any
address a host was given explicitly. The lab's own resolvers have fixed addresses: `isp`
198.18.0.2 and `public-dns` 198.19.0.2. A MAC is 02:00 (locally administered) followed by the
four bytes of the IPv4 address: 198.18.0.10 -> 02:00:c6:12:00:0a.

A dual-stack scenario (`ipv6: true`) gives every host an IPv6 address too, from the
documentation range 2001:db8::/32: 2001:db8::/96 followed by the host's IPv4 address
(198.18.0.10 -> 2001:db8::c612:a), on a prefix 96 bits longer than its IPv4 one, so the
two plans have the same shape. A scenario without an `ipv6:` line takes the default
`ipv6_default` reads from BLOCKLAB_IPV6 (1: dual stack, 0: IPv4 only; unset: dual stack), so a
whole suite can run IPv4 only without editing its scenarios.
"""
from __future__ import annotations

import ipaddress
import os
from typing import Iterable, Sequence

LAB_NET = ipaddress.IPv4Network("198.18.0.0/15")
CLIENT_START = ipaddress.IPv4Address("198.18.0.10")
SERVER_START = ipaddress.IPv4Address("198.19.0.10")
ISP_IP = "198.18.0.2"
PUBLIC_DNS_IP = "198.19.0.2"
RESERVED_NAMES = ("isp", "public-dns")
# The lab's private Tor network (lab/services/tor/), on the internet side, brought up only when
# a comparison runs a Tor tool: three directory authorities that are also the relays (guard,
# middle, exit), a bridge that is "known" (like Tor Browser's built-in bridges) and one that is
# not (an unlisted bridge handed out privately).
TOR_RELAYS = ("198.19.210.1", "198.19.210.2", "198.19.210.3")
TOR_KNOWN_BRIDGES = ("198.19.210.11",)
TOR_UNLISTED_BRIDGES = ("198.19.210.12",)
# Address groups a rule's `ip:` may name as "@NAME": the lab's own hosts whose addresses a
# censor learns from a list (Russia's blocklist of Tor relays), not from the scenario file.
ADDRESS_GROUPS = {
    "tor-relays": TOR_RELAYS,
    "tor-bridges": TOR_KNOWN_BRIDGES,
}
RESERVED = {
    ISP_IP: "the ISP resolver (isp)",
    PUBLIC_DNS_IP: "the public resolver (public-dns)",
    str(LAB_NET.network_address): "the lab network's own address",
    str(LAB_NET.broadcast_address): "the lab network's broadcast address",
}


LAB_NET6 = ipaddress.IPv6Network("2001:db8::/96")


IPV6_SWITCH = "BLOCKLAB_IPV6"
IPV6_DEFAULT = True     # without BLOCKLAB_IPV6 and without `ipv6:`: dual stack, as every
#                         network the library models is (a scenario says `ipv6: false` to
#                         be IPv4 only, as its measurements were)
_ON, _OFF = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def ipv6_default() -> bool:
    """Whether a scenario that does not say `ipv6:` is dual-stack: BLOCKLAB_IPV6, read at
    every load (1/true/yes/on or 0/false/no/off), else IPV6_DEFAULT."""
    raw = os.environ.get(IPV6_SWITCH, "").strip()
    if not raw:
        return IPV6_DEFAULT
    if raw.lower() in _ON + _OFF:
        return raw.lower() in _ON
    raise SystemExit(f"blocklab: {IPV6_SWITCH}={raw!r}: want 1 (every scenario dual-stack "
                     "unless it says ipv6: false) or 0 (IPv4 only unless it says ipv6: true)")


def ip6_for(ip: str) -> str:
    """The IPv6 address of the host with IPv4 address `ip` (dual-stack scenarios)."""
    return str(LAB_NET6.network_address + int(ipaddress.IPv4Address(ip)))


def host_ip(address: str) -> str:
    """The IPv4 address naming the host that has `address` (either family): an address of
    the lab's IPv6 plan is its host's IPv4 address, anything else is itself."""
    if ":" not in address:
        return address
    try:
        addr = ipaddress.IPv6Address(address)
    except ValueError:
        return address
    if addr not in LAB_NET6:
        return address
    return str(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))


def prefix6(prefixlen: int) -> int:
    """The IPv6 prefix length matching an IPv4 one in this plan."""
    return 96 + prefixlen


def mac_for(ip: str) -> str:
    """The MAC of the host with address `ip`: 02:00 and the address's four bytes."""
    return "02:00:" + ":".join(f"{b:02x}" for b in ipaddress.IPv4Address(ip).packed)


ISP = ("isp", ISP_IP, mac_for(ISP_IP), "client")
PUBLIC_DNS = ("public-dns", PUBLIC_DNS_IP, mac_for(PUBLIC_DNS_IP), "internet")


def check_lab_address(value: str) -> str:
    """`value` as a usable host address (normalised text); ValueError with the reason."""
    try:
        addr = ipaddress.IPv4Address(value.strip())
    except (ipaddress.AddressValueError, ValueError):
        if "/" in value:
            raise ValueError(f"bad address '{value}': a host address has no /prefix") from None
        raise ValueError(f"bad address '{value}': expected an IPv4 address such as "
                         "198.18.0.50") from None
    if addr not in LAB_NET:
        raise ValueError(f"address {addr} is outside the lab's 198.18.0.0/15")
    if str(addr) in RESERVED:
        raise ValueError(f"address {addr} is reserved for {RESERVED[str(addr)]}")
    return str(addr)


def assign(explicit: Sequence[str | None], start: ipaddress.IPv4Address,
           taken: Iterable[str]) -> list[str]:
    """Addresses for hosts in order: the explicit one, or the next free one from `start`."""
    used = set(taken) | set(RESERVED)
    out: list[str] = []
    nxt = start
    for addr in explicit:
        if addr is not None:
            out.append(addr)
            continue
        while str(nxt) in used:
            nxt += 1
        if nxt not in LAB_NET:
            raise ValueError("the lab's address space is full")
        out.append(str(nxt))
        used.add(str(nxt))
        nxt += 1
    return out
