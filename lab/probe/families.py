"""The prober's second address family: IPv6 measured next to IPv4, and compared per family.

Owns, for a dual-stack lab (`ipv6: true`), the IPv6 half of a measurement and its reading:
`ipv6_step` asks the resolver for AAAA and, for a web target, connects (and shakes hands
with TLS for https) to every IPv6 address, in OONI's shapes (`queries`, `tcp_connect`,
`tls_handshakes`, as OONI's Web Connectivity records every address of both families); for
`ssh://`, `stun://`, `udp://`, `tcp://` and `quic://` it runs the reachability check at the
first IPv6 address (`x_reachability`);
`by_family` compares each family's DNS and connects with the control's: `ok`, `blocked`
(with the failure, where the control got through) or `unavailable` (the control failed too,
or the name has no address of that family). The IPv4 steps and their classification
(lab/probe/classify.py) stay as they are; this is what a detector scoring per family reads:
a service blocked on IPv6 alone shows `ipv4: ok, ipv6: blocked` while the page loads.
"""
from __future__ import annotations

from typing import Callable

from lab.clients.probe import address
from lab.probe.netsteps import Clock, addresses_of, connect_step, resolve


def ipv6_step(host: str, resolver: str, port: int | None, https: bool, timeout: float,
              clock: Clock, reach: Callable[[str], dict] | None = None) -> dict:
    """The AAAA query and, with a `port`, the connects to each IPv6 address; with `reach`
    (lab.probe.measure.reach_step for the target), its check at the first IPv6 address."""
    q = resolve(host, resolver, timeout, clock, "AAAA")
    out = {"queries": [q], "dns_failure": q["failure"], "addrs": addresses_of(q),
           "tcp_connect": [], "tls_handshakes": []}
    if port is not None and out["addrs"]:
        out["tcp_connect"], out["tls_handshakes"] = connect_step(
            out["addrs"], port, host, https, timeout, clock)
    if reach is not None and out["addrs"]:
        out["x_reachability"] = [reach(out["addrs"][0])]
    return out


def _family_view(raw: dict | None, family: str) -> dict | None:
    if raw is None:
        return None
    if family == "ipv6":
        return raw.get("x_ipv6")
    return raw


def _reached(view: dict) -> tuple[bool, str | None]:
    """(whether some address got through, the first failure) of one family's steps."""
    if view.get("dns_failure") or not view.get("addrs"):
        return False, view.get("dns_failure") or "dns_no_answer"
    checks = view.get("x_reachability") or []
    if checks:                                       # ssh://, stun://, udp:// ...
        failures = [c["failure"] for c in checks]
        return None in failures, next((f for f in failures if f), None)
    tls = {t["address"]: t for t in view.get("tls_handshakes") or []}
    first = None
    for c in view.get("tcp_connect") or []:
        failure = c["status"]["failure"]
        if failure is None:
            ip, port = c["ip"], c["port"]
            shake = tls.get(address(ip, port))
            failure = shake["failure"] if shake else None
        if failure is None:
            return True, None
        first = first or failure
    return (not view.get("tcp_connect")), first


def by_family(raw: dict, control: dict | None) -> dict:
    """{"ipv4": {...}, "ipv6": {...}}: each family's outcome next to the control's."""
    out = {}
    for family in ("ipv4", "ipv6"):
        mine = _family_view(raw, family)
        if mine is None:
            continue
        ok, failure = _reached(mine)
        theirs = _family_view(control, family)
        control_ok = _reached(theirs)[0] if theirs is not None else None
        if ok:
            status = "ok"
        elif control_ok is False:
            status = "unavailable"
        else:
            status = "blocked"
        out[family] = {"status": status, "failure": failure,
                       "addresses": list(mine.get("addrs") or []), "control_ok": control_ok}
    return out


def verdict(v, families: dict):
    """The built-in verdict (lab.probe.classify.Verdict), blocked where a family is blocked
    and the classification of the other saw nothing: a block on IPv6 alone costs a client
    only a Happy Eyeballs delay, but it is a block, and a prober that tests one family
    misses it."""
    if v.blocked is not False:
        return v
    blocked = [(f, r) for f, r in families.items() if r["status"] == "blocked"]
    if not blocked:
        return v
    family, r = blocked[0]
    others = ", ".join(f"{f} {x['status']}" for f, x in families.items() if f != family)
    failure = r["failure"] or "failure"
    technique = "dns" if failure.startswith("dns_") else "tcp_ip"
    return type(v)(v.url, True, technique,
                   f"{family} only: {failure} ({others or 'no other family'}; control ok)")
