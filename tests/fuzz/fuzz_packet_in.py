"""atheris: the engine's packet_in (controllers.engine.engine) on frames built from fuzz input.

One input is a little session: a policy variant (inline or tap, reassembly on or off, packets
inspected, DPI profiles), then frames, each either raw bytes or a frame with real
Ethernet/IPv4/TCP|UDP headers (some with a wrong checksum) between lab hosts and a fuzzed
payload (TLS, HTTP, DNS, QUIC ports), over IPv4 or IPv6 (the lab's dual-stack hosts; IPv6
also with a fuzzed chain of extension headers, fragments included), with the clock moving
and ticks between them. Whatever comes, nothing raises, no internal or parser error is
counted, the per-flow state stays under its caps, and every frame the censor sends is bytes
(also through offload.for_the_wire, as the app sends them)."""
import atheris

import common

with atheris.instrument_imports(include=["controllers"]):
    from controllers import packets as P
    from controllers import packets6 as P6
    from controllers.engine.effects import Output
    from controllers.engine.engine import HELD_CAP, Engine
    from controllers.openflow.offload import for_the_wire

from engine_helpers import ALICE, BOB, DNSSRV, ISP, WEB, policy, rule  # noqa: E402

HOSTS = [ALICE, BOB, ISP, WEB, DNSSRV]


def _v6(ip4: str) -> str:
    a, b, c, d = (int(x) for x in ip4.split("."))
    return f"2001:db8::{a << 8 | b:x}:{c << 8 | d:x}"


HOSTS6 = {n: {**h, "ip6": _v6(h["ip"])} for n, h in
          zip(("alice", "bob", "isp", "web", "dns"), HOSTS)}
EXT = [P6.HOP_BY_HOP, P6.ROUTING, P6.DEST_OPTS, P6.AH, P6.FRAGMENT, P6.ESP, P6.NO_NEXT, 6, 17,
       58]
PORTS = [443, 80, 53, 3478, 51820, 22, 8443, 1194, 40000]
RULES = [rule("d", {"dns": ["*.example", "blocked.example.com"]}, "nxdomain"),
         rule("f", {"dns": ["forge.example"]}, {"type": "forge", "ip": "198.19.0.99"}),
         rule("s", {"sni": ["*.example"]}, "reset", residual=30),
         rule("q", {"quic_sni": ["*.example"]}, "drop"),
         rule("h", {"host": ["*.example"], "path": ["/x"]}, "blockpage"),
         rule("e", {"tls_ext": [0xffce]}, "drop"),
         rule("p", {"protocol": ["stun", "wireguard", "openvpn", "fully-encrypted"]}, "drop"),
         rule("i", {"ip": ["198.19.0.0/24"], "proto": ["icmp"]}, "reject"),
         rule("c", {"port": [[8443, 8443]]}, {"type": "cut_after", "bytes": 100}),
         rule("t", {"proto": ["tcp"], "sport_above_dport": True,
                    "not": {"protocol": ["tls", "http", "dns"]}},
              {"type": "throttle", "rate_bps": 64000}, probability=0.5)]
POLICIES = [policy(*RULES, mode=m, reassembly=r, inspect_packets=n)
            for m in ("inline", "tap") for r in (True, False) for n in (1, 8)]
RULES6 = [rule("v6", {"ip": ["2001:db8::c613:0/112"], "proto": ["icmp"]}, "reject"),
          rule("f6", {"family": ["ipv6"], "port": [[22, 22]]}, "drop")]
POLICIES += [{**policy(*RULES6, *RULES, mode=m), "hosts": HOSTS6} for m in ("inline", "tap")]
POLICIES += [{**policy(*RULES, mode=m), "dpi": d}        # DPI profiles (controllers.dpi)
             for m in ("inline", "tap")
             for d in ("naive", "hardened", {"overlap": "last", "state": "syn", "resync": True,
                                             "teardown": ["client_rst", "fin"],
                                             "inspect_bytes": 100, "sequence": True})]


def seeds():
    from engine_helpers import TcpClient, client_hello, dns_query
    t = TcpClient()
    hello = client_hello("a.example")
    return [b"\x00\x02" + b"\x01\x00\x00" + bytes([6]) + t.syn()[14:],
            b"\x01\x03" + b"\x00\x00\x00\x00" + hello[:300],
            b"\x02\x02" + b"\x00\x02\x01\x00" + dns_query("blocked.example.com")]


def with_extensions(fdp: atheris.FuzzedDataProvider, f: bytes) -> bytes:
    """An IPv6 frame with a fuzzed chain of extension headers before its payload."""
    chain, nh = b"", f[20]
    for _ in range(fdp.ConsumeIntInRange(1, 4)):
        body = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 3) * 8 + 6)
        chain = bytes((nh, len(body) // 8)) + body + chain
        nh = fdp.PickValueInList(EXT)
    plen = (len(f) - 54 + len(chain)) & 0xFFFF
    return f[:18] + plen.to_bytes(2, "big") + bytes((nh,)) + f[21:54] + chain + f[54:]


def frame(fdp: atheris.FuzzedDataProvider) -> bytes:
    kind = fdp.ConsumeIntInRange(0, 3)
    if kind == 0:
        return fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 200))
    a, b = fdp.PickValueInList(HOSTS), fdp.PickValueInList(HOSTS)
    if fdp.ConsumeBool():
        a, b = b, a
    six = fdp.ConsumeIntInRange(0, 3) == 0
    if six:
        a, b = {**a, "ip": _v6(a["ip"])}, {**b, "ip": _v6(b["ip"])}
    sport = fdp.PickValueInList(PORTS) if fdp.ConsumeBool() else fdp.ConsumeIntInRange(1, 65535)
    dport = fdp.PickValueInList(PORTS)
    payload = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 1400))
    src, dst = P.mac_bytes(a["mac"]), P.mac_bytes(b["mac"])
    if kind == 1:
        flags = fdp.ConsumeIntInRange(0, 0x3F)
        seq = fdp.ConsumeIntInRange(0, 0xFFFFFFFF) if fdp.ConsumeBool() else \
            1001 + fdp.ConsumeIntInRange(0, 4000)
        out = P.build_tcp(src, dst, a["ip"], b["ip"], sport, dport, seq,
                          fdp.ConsumeIntInRange(0, 0xFFFFFFFF), flags, payload)
        if fdp.ConsumeBool():                   # a wrong IP or TCP checksum
            at = fdp.ConsumeIntInRange(24, 51)
            out = out[:at] + bytes([out[at] ^ 0x5A]) + out[at + 1:]
        return with_extensions(fdp, out) if six and fdp.ConsumeBool() else out
    if kind == 2:
        out = P.build_udp(src, dst, a["ip"], b["ip"], sport, dport, payload)
        return with_extensions(fdp, out) if six and fdp.ConsumeBool() else out
    if six:
        return P6.build_icmp6(src, dst, a["ip"], b["ip"], fdp.ConsumeIntInRange(0, 255),
                              fdp.ConsumeIntInRange(0, 255), fdp.ConsumeIntInRange(0, 0xFFFFFFFF),
                              payload)
    return P.build_icmp(src, dst, a["ip"], b["ip"], fdp.ConsumeIntInRange(0, 255),
                        fdp.ConsumeIntInRange(0, 255), fdp.ConsumeIntInRange(0, 0xFFFFFFFF),
                        payload)


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    engine = Engine(POLICIES[fdp.ConsumeIntInRange(0, len(POLICIES) - 1)])
    engine.flows.cap = 64
    engine.base_effects()
    now = 0.0
    for _ in range(fdp.ConsumeIntInRange(1, 24)):
        if fdp.remaining_bytes() == 0:
            break
        f = frame(fdp)
        now += fdp.ConsumeIntInRange(0, 3000) / 1000
        for effect in engine.packet_in(f, fdp.ConsumeIntInRange(1, 6), now):
            if isinstance(effect, Output):
                assert isinstance(effect.frame, bytes)
                for_the_wire(effect.frame)
        for_the_wire(f)
        if fdp.ConsumeBool():
            engine.tick(now)
        assert len(engine.flows) <= 64
        assert all(len(fl.held) <= HELD_CAP for fl in engine.flows)
    engine.tick(now + 10)
    stats = engine.stats()
    assert stats["internal_errors"] == 0 and stats["parser_errors"] == 0, stats


if __name__ == "__main__":
    common.fuzz("packet_in", test_one_input, seeds, max_len=8192)
