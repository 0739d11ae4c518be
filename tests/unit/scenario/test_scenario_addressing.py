"""The addressing plan: 198.18.0.0/15, clients from .18.0.10, servers from .19.0.10."""
from __future__ import annotations

import ipaddress

import pytest

from lab.scenario import addressing


def test_mac_is_the_address_after_02_00():
    assert addressing.mac_for("198.18.0.10") == "02:00:c6:12:00:0a"
    assert addressing.mac_for("198.19.255.254") == "02:00:c6:13:ff:fe"
    first = int(addressing.mac_for("198.18.0.10").split(":")[0], 16)
    assert first & 0b10 and not first & 0b1          # locally administered, unicast


def test_lab_hosts():
    assert addressing.ISP == ("isp", "198.18.0.2", "02:00:c6:12:00:02", "client")
    assert addressing.PUBLIC_DNS == ("public-dns", "198.19.0.2", "02:00:c6:13:00:02",
                                     "internet")
    assert addressing.RESERVED_NAMES == ("isp", "public-dns")


def test_assign_in_order_skipping_taken():
    got = addressing.assign([None, "198.18.0.11", None, None], addressing.CLIENT_START,
                            ["198.18.0.11", "198.18.0.12"])
    assert got == ["198.18.0.10", "198.18.0.11", "198.18.0.13", "198.18.0.14"]
    assert addressing.assign([None], addressing.SERVER_START, []) == ["198.19.0.10"]


@pytest.mark.parametrize("value, reason", [
    ("10.0.0.1", "outside the lab"), ("198.20.0.1", "outside the lab"),
    ("198.18.0.2", "ISP resolver"), ("198.19.0.2", "public resolver"),
    ("198.18.0.0", "network's own"), ("198.19.255.255", "broadcast"),
    ("198.18.0.1/32", "no /prefix"), ("alice", "IPv4 address"), ("::1", "IPv4 address")])
def test_bad_lab_addresses(value, reason):
    with pytest.raises(ValueError, match=reason):
        addressing.check_lab_address(value)


def test_good_lab_address():
    assert addressing.check_lab_address("198.19.200.1") == "198.19.200.1"
    assert ipaddress.IPv4Address("198.19.200.1") in addressing.LAB_NET
