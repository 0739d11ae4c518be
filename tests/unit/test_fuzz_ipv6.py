"""Property tests (hypothesis) for the IPv6 parser and the engine on IPv6: any bytes after an
IPv6 EtherType give a Packet or Malformed, never another exception; fuzzed extension-header
chains put the transport where the chain says; sessions of IPv6 frames through the engine
count no internal error and every frame it sends goes through offload6."""
from __future__ import annotations

import struct
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent / "engine"))

from controllers import packets as P  # noqa: E402
from controllers import packets6 as P6  # noqa: E402
from controllers.engine.effects import Output  # noqa: E402
from controllers.engine.engine import Engine  # noqa: E402
from controllers.engine.tcb import checksums_ok  # noqa: E402
from controllers.openflow.offload import for_the_wire  # noqa: E402
from engine_helpers import client_hello, dns_query, rule  # noqa: E402
from ipv6_helpers import ALICE6, WEB6, policy6  # noqa: E402

SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
ETH6 = b"\x02\x00\xc6\x13\x00\x0a\x02\x00\xc6\x12\x00\x0a\x86\xdd"
EXT = [P6.HOP_BY_HOP, P6.ROUTING, P6.DEST_OPTS, P6.AH, P6.FRAGMENT, P6.ESP, P6.NO_NEXT,
       P.TCP, P.UDP, P6.ICMPV6]


@SETTINGS
@given(st.binary(max_size=300))
def test_any_bytes_after_an_ipv6_ethertype(data):
    frame = ETH6 + data
    try:
        p = P.parse_frame(frame)
    except P.Malformed:
        return
    assert p.family == 6 and 40 <= p.ihl <= p.ip_len
    checksums_ok(p)
    for_the_wire(frame)


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(EXT[:4]), st.integers(0, 3)), max_size=6),
       st.binary(max_size=64))
def test_extension_chains_lead_to_the_transport(chain, payload):
    seg = P.build_udp(ALICE6["mac"], WEB6["mac"], ALICE6["ip"], WEB6["ip"], 5000, 53,
                      payload)
    body, types = b"", [t for t, _n in chain]
    for i, (t, units) in enumerate(chain):
        nxt = types[i + 1] if i + 1 < len(types) else P.UDP
        if t == P6.AH:              # AH's length counts 4-byte units, minus 2
            body += bytes((nxt, units * 2)) + bytes(units * 8 + 6)
        else:
            body += bytes((nxt, units)) + bytes(units * 8 + 6)
    plen = len(seg) - 54 + len(body)
    frame = seg[:18] + struct.pack("!HB", plen, types[0] if types else P.UDP) + seg[21:54] \
        + body + seg[54:]
    if len(chain) > P6.EXT_CHAIN_MAX:
        return
    p = P.parse_frame(frame)
    assert (p.proto, p.dport, p.payload, p.ihl) == (P.UDP, 53, payload, 40 + len(body))


FRAMES = st.one_of(
    st.builds(lambda flags, data: P.build_tcp(ALICE6["mac"], WEB6["mac"], ALICE6["ip"],
                                              WEB6["ip"], 40000, 443, 1000, 1, flags, data),
              st.integers(0, 0x3F), st.sampled_from([b"", client_hello("a.example"),
                                                     b"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n"])),
    st.builds(lambda data: P.build_udp(ALICE6["mac"], WEB6["mac"], ALICE6["ip"], WEB6["ip"],
                                       5353, 53, data),
              st.sampled_from([dns_query("a.example", "AAAA"), b"", bytes(40)])),
    st.builds(lambda t, data: P6.build_icmp6(ALICE6["mac"], WEB6["mac"], ALICE6["ip"],
                                             WEB6["ip"], t, 0, 0, data),
              st.integers(0, 255), st.binary(max_size=80)),
    st.binary(max_size=120).map(lambda b: ETH6 + b))


@SETTINGS
@given(st.lists(FRAMES, min_size=1, max_size=12), st.sampled_from(["inline", "tap"]))
def test_engine_sessions_over_ipv6(frames, mode):
    e = Engine(policy6(rule("d", {"dns": ["*.example"]}, "nxdomain"),
                       rule("s", {"sni": ["*.example"]}, "reset"),
                       rule("h", {"host": ["*.example"]}, "blockpage"),
                       rule("i", {"family": ["ipv6"], "proto": ["icmp"]}, "reject"),
                       mode=mode))
    e.base_effects()
    for i, f in enumerate(frames):
        for eff in e.packet_in(f, 1, i * 0.1):
            if isinstance(eff, Output):
                for_the_wire(eff.frame)
    e.tick(10.0)
    assert e.stats()["internal_errors"] == 0
