"""Large blocklists: the fast paths that load 10^6 CIDRs and names give the same answers as
the slow ones (ipaddress, pattern by pattern), and many CIDRs steer as one entry."""
from __future__ import annotations

import fnmatch
import ipaddress
import random

import pytest

from controllers.engine.engine import Engine
from controllers.rules.matching import IpSet
from controllers.rules.patterns import NamePatterns
from controllers.rules.checks import RuleError, check_rule, normalise_cidrs
from engine_helpers import policy, rule

ODD = ["1.2.3.4", "1.2.3.4/24", "0.0.0.0/0", "1.2.3.4/0", "1.2.3.4/08", "1.2.3.4/008",
       "1.2.3.4/255.255.0.0", "1.2.3.4/0.0.255.255", "01.2.3.4/8", "1.2.3/24", "1.2.3.4/33",
       "1.2.3.4/-1", "1.2.3.4/+8", "1.2.3.4/ 8", " 1.2.3.4", "1.2.3.4/", "256.1.1.1",
       "1.2.3.4/8 ", "a.b.c.d", "1.2.3.4/\u0663", "1.2.3.4//8", "1.2.3.4/1/2", "", "/8",
       "1.2.3.4\n5.6.7.8", "1.2.3.4/8\n", "010.0.0.1", "1.2.3.4.5", "1..2.3", "24"]


def _slow(cidr: str) -> str:
    try:
        return str(ipaddress.IPv4Network(cidr, strict=False))
    except ValueError:
        return "error"


@pytest.mark.parametrize("cidr", ODD)
@pytest.mark.parametrize("company", [[], ["10.0.0.0/8"], ["5.6.7.8"]])
def test_cidr_normalisation_matches_ipaddress(cidr, company):
    cidrs = [*company, cidr]
    try:
        got = normalise_cidrs(cidrs)[-1]
    except ValueError:
        got = "error"
    assert got == _slow(cidr)


def test_random_cidrs_and_membership_match_ipaddress():
    rng = random.Random(7)
    cidrs = [".".join(str(rng.randint(0, 255)) for _ in range(4))
             + rng.choice(["", f"/{rng.randint(0, 32)}"]) for _ in range(3000)]
    assert normalise_cidrs(cidrs) == [_slow(c) for c in cidrs]
    nets = [ipaddress.IPv4Network(c, strict=False) for c in cidrs[:300]]
    ips = IpSet(check_rule({"id": "r", "match": {"ip": cidrs[:300]}, "action": "drop"},
                           {})["match"]["ip"])
    for _ in range(3000):
        addr = rng.getrandbits(32)
        assert (addr in ips) == any(ipaddress.IPv4Address(addr) in n for n in nets)


def test_a_bad_cidr_in_a_long_list_is_still_named():
    with pytest.raises(RuleError, match="match.ip"):
        check_rule({"id": "r", "match": {"ip": ["10.0.0.0/8"] * 1000 + ["10.0.0.300/8"]},
                    "action": "drop"}, {})


def test_name_patterns_bulk_path_matches_fnmatch():
    pats = ["Example.COM", "*.foo.org", "*t.co*", "bar.", "*.Baz.NET.", "x?y.com", "a[bc].d",
            "pre*", "*suf", "*.a*b.c", "*.x.y"]
    names = ["example.com", "a.foo.org", "foo.org", "xt.com", "bar", "q.baz.net", "xzy.com",
             "ab.d", "prefix", "thesuf", "q.aXb.c", "z.x.y", "T.CO", "nothing.example"]
    rng = random.Random(3)
    for _ in range(300):
        chosen = rng.sample(pats, rng.randint(0, len(pats)))
        compiled = NamePatterns(chosen)
        for name in names:
            want = any(fnmatch.fnmatchcase(name.lower(), p.lower().rstrip("."))
                       for p in chosen)
            assert compiled.match(name) == want, (chosen, name)


def test_many_cidrs_steer_as_one_entry_per_port():
    cidrs = [f"16.{i >> 8}.{i & 255}.0/24" for i in range(5000)]
    effects = Engine(policy(rule("big", {"ip": cidrs}, "drop"))).base_effects()
    steering = [e for e in effects if getattr(e, "spec", None) and e.spec.priority == 100]
    assert steering and len(steering) <= 3          # one per client-side port, no more
    assert all("ipv4_dst" not in e.spec.match for e in steering)


def test_a_large_ip_set_answers_from_its_bitmap_as_ipaddress_would():
    rng = random.Random(11)
    lengths = [0, 8, 12, 16, 20, 21, 22, 23, 24, 24, 24, 25, 28, 31, 32]
    cidrs = [".".join(str(rng.randint(0, 255)) for _ in range(4)) + f"/{rng.choice(lengths[1:])}"
             for _ in range(IpSet.BITMAP_MIN + 100)]
    ips = IpSet(check_rule({"id": "r", "match": {"ip": cidrs}, "action": "drop"},
                           {})["match"]["ip"])
    assert ips.bitmap is not None
    nets = [ipaddress.IPv4Network(c, strict=False) for c in cidrs]
    starts = sorted((int(n.network_address), int(n.broadcast_address)) for n in nets)

    def slow(addr):
        return any(lo <= addr <= hi for lo, hi in starts)
    probes = [rng.getrandbits(32) for _ in range(4000)]
    probes += [int(n.network_address) + rng.randint(0, n.num_addresses - 1) for n in nets[:800]]
    probes += [int(n.broadcast_address) + 1 for n in nets[:200]
               if int(n.broadcast_address) < 2**32 - 1]
    for addr in probes:
        assert (addr in ips) == slow(addr), ipaddress.IPv4Address(addr)
    everything = IpSet(["0.0.0.0/0"] + [f"10.0.{i >> 8}.{i & 255}/32" for i in range(5000)])
    assert everything.bitmap is not None and 0 in everything and 2**32 - 1 in everything
