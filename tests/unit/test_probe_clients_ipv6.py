"""The lab's UDP probes over IPv6: `host[:port]` with IPv6 addresses, and STUN's
(XOR-)MAPPED-ADDRESS of the IPv6 family (RFC 5389 §15.1-15.2)."""
from __future__ import annotations

import ipaddress
import struct

import pytest

from lab.clients.probe import ProbeError, address, host_port, resolve
from lab.clients.stun_probe import BINDING_SUCCESS, MAGIC, XOR_MAPPED_ADDRESS, mapped_address


@pytest.mark.parametrize("text, want", [
    ("stun.example.net", ("stun.example.net", 3478)),
    ("stun.example.net:3479", ("stun.example.net", 3479)),
    ("198.19.0.10:7", ("198.19.0.10", 7)),
    ("[2001:db8::c613:a]:7", ("2001:db8::c613:a", 7)),
    ("[2001:db8::c613:a]", ("2001:db8::c613:a", 3478)),
    ("2001:db8::c613:a", ("2001:db8::c613:a", 3478)),
])
def test_host_port(text, want):
    assert host_port(text, 3478) == want


@pytest.mark.parametrize("text", ["[2001:db8::1", "[2001:db8::1]7", "[2001:db8::1]:x"])
def test_host_port_refuses_a_malformed_ipv6_target(text):
    with pytest.raises(ProbeError) as e:
        host_port(text, 3478)
    assert e.value.code == 2


def test_an_address_resolves_to_itself_whatever_the_family_asked():
    assert resolve("2001:db8::c613:a") == "2001:db8::c613:a"
    assert address("2001:db8::c613:a", 7) == "[2001:db8::c613:a]:7"
    assert address("198.19.0.10", 7) == "198.19.0.10:7"


def _response(txid: bytes, ip: str, port: int) -> bytes:
    packed = ipaddress.ip_address(ip).packed
    mask = struct.pack("!I", MAGIC) + txid
    family = 1 if len(packed) == 4 else 2
    value = struct.pack("!BBH", 0, family, port ^ (MAGIC >> 16)) + \
        bytes(a ^ m for a, m in zip(packed, mask))
    attr = struct.pack("!HH", XOR_MAPPED_ADDRESS, len(value)) + value
    return struct.pack("!HHI", BINDING_SUCCESS, len(attr), MAGIC) + txid + attr


@pytest.mark.parametrize("ip", ["198.18.0.10", "2001:db8::c612:a"])
def test_xor_mapped_address_of_either_family(ip):
    txid = bytes(range(1, 13))
    assert mapped_address(_response(txid, ip, 40211), txid) == (ip, 40211)
