"""Rule sets for the benchmark: a realistic mix of every kind, and blocklists of any size.

`mixed_rules(n)` is what the goodput test loads: n rules cycling through every match key of
docs/scenarios.md (sni, dns, host, path, quic_sni, protocol, ip, port, proto, tls_ext, server,
sport_above_dport, not) and most actions and modifiers, none of them matching the traffic the
benchmark sends (iperf3 to TCP 5201 of a bulk server, TLS to *.web.bench.example, DNS under
dns.bench.example). They still steer: TCP and UDP first packets go to the censor, which has
to decide each flow before its per-flow entry takes it to the fast path.

`blocklist(n)` is n domain patterns (half exact names, half `*.zone` wildcards) and
`cidrs(n)` n CIDRs (/24s from 16.0.0.0 up, outside the lab's 198.18.0.0/15 and never sent
to), for the blocklist-scale test.
"""
from __future__ import annotations

# Unused lab-range networks for `ip` rules: 198.19.128.0/17 holds no host of any lab.
_IP_BASE = (198, 19, 128)
DECOY = "decoy"          # a server that exists (for `server:` rules) and is never contacted


def _one(i: int) -> dict:
    k = i % 20
    rid = f"mix{i:03d}"
    a, b, c = _IP_BASE
    if k == 0:
        return {"id": rid, "match": {"sni": [f"blocked{i}.example", f"*.cdn{i}.example"]},
                "action": "reset"}
    if k == 1:
        return {"id": rid, "match": {"dns": [f"ads{i}.example", f"*.track{i}.example"]},
                "action": "nxdomain"}
    if k == 2:
        return {"id": rid, "match": {"host": [f"www.forbidden{i}.example"]},
                "action": "blockpage"}
    if k == 3:
        return {"id": rid, "match": {"quic_sni": [f"video{i}.example"]}, "action": "drop"}
    if k == 4:
        return {"id": rid, "match": {"protocol": ["openvpn"]}, "action": "drop"}
    if k == 5:
        return {"id": rid, "match": {"ip": [f"{a}.{b}.{c + i % 100}.0/24"]}, "action": "drop"}
    if k == 6:
        return {"id": rid, "match": {"port": [6881 + i], "proto": "tcp"}, "action": "reject"}
    if k == 7:
        return {"id": rid, "match": {"tls_ext": [0xFFCE]}, "action": "reset"}
    if k == 8:
        return {"id": rid, "match": {"path": [f"/forbidden{i}/"]}, "action": "blockpage"}
    if k == 9:
        return {"id": rid, "match": {"server": [DECOY]}, "action": "drop", "residual": "30s"}
    if k == 10:
        return {"id": rid, "match": {"sni": [f"slow{i}.example"]},
                "action": {"throttle": "1Mbit"}}
    if k == 11:
        return {"id": rid, "match": {"host": [f"cut{i}.example"]},
                "action": {"cut_after": "16KB"}}
    if k == 12:
        return {"id": rid, "match": {"quic_sni": [f"*.gv{i}.example"],
                                     "sport_above_dport": True}, "action": "drop"}
    if k == 13:
        return {"id": rid, "match": {"port": [8400 + i], "not": {"protocol": ["tls", "http"]}},
                "action": "drop"}
    if k == 14:
        return {"id": rid, "match": {"proto": "icmp", "ip": [f"{a}.{b}.{c + i % 100}.0/24"]},
                "action": "drop"}
    if k == 15:
        return {"id": rid, "match": {"dns": [f"*t.co{i}*"]}, "action": {"forge": "198.19.0.99"}}
    if k == 16:
        return {"id": rid, "match": {"protocol": ["wireguard"],
                                     "port": [f"{51000 + i}-{51100 + i}"]},
                "action": "drop", "probability": 0.5}
    if k == 17:
        return {"id": rid, "match": {"port": [1194 + i], "proto": "udp"}, "action": "drop"}
    if k == 18:
        return {"id": rid, "match": {"sni": [f"*.social{i}.example"]}, "action": "drop",
                "residual": "60s"}
    return {"id": rid, "match": {"dns": [f"www.news{i}.example"]}, "action": "refused"}


def mixed_rules(n: int = 100) -> list[dict]:
    """n scenario rules of every kind (YAML form), none matching the benchmark's traffic."""
    return [_one(i) for i in range(n)]


def kinds(rules: list[dict]) -> list[str]:
    """The match keys the rules use, for the report."""
    seen: list[str] = []
    for r in rules:
        for key in r["match"]:
            if key not in seen:
                seen.append(key)
    return seen


def blocklist(n: int) -> list[str]:
    """n domain patterns: half exact names, half `*.zone` wildcards."""
    half = n // 2
    return ([f"s{i}.blk{i % 1000}.example" for i in range(half)]
            + [f"*.w{i}.example" for i in range(n - half)])


def cidrs(n: int) -> list[str]:
    """n distinct /24s from 16.0.0.0 upward (never a lab address)."""
    return [f"{16 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}.0/24" for i in range(n)]


def lookup_names(n: int, count: int) -> list[tuple[str, bool]]:
    """`count` names to look up in blocklist(n), with whether each should match: a quarter
    exact hits, a quarter wildcard hits, half misses."""
    half = max(1, n // 2)
    out = []
    for j in range(count):
        i = (j * 7919) % half
        r = j % 4
        if r == 0:
            out.append((f"s{i}.blk{i % 1000}.example", True))
        elif r == 1:
            out.append((f"www.w{i}.example", n > 1))
        elif r == 2:
            out.append((f"s{i}.other.example", False))
        else:
            out.append((f"www.x{i}.example", False))
    return out
