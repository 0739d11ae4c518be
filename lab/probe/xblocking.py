"""`x_blocking`: what OONI Web Connectivity v0.4 does not look at (pure: no I/O).

Owns the two comparisons lab/probe/classify.py adds on top of OONI's rules, used when v0.4's
`blocking` is false: a TCP connect or TLS handshake that failed at the client while the
control's to the same address succeeded (probabilistic blocking, as OONI's v0.5 flags it:
`tcp_ip` / `http-failure`), and the throughput step's `throttle` (the client's best transfer
five times slower than the control's and under 10 Mbit/s) or `stall` (every transfer stopped
getting bytes before it ended: a flow cut after its first bytes).
"""
from __future__ import annotations

from lab.probe import failures as F

THROTTLE_RATIO = 5.0          # the control moves bytes this many times faster: a throttle,
THROTTLE_CEILING = 10e6       # if the client's rate is below this too (bit/s): lab links run
                              # at tens of Mbit/s or more, and a busy machine halves that
STALL_IDLE = 0.5              # share of a transfer's time without a byte at its end: a stall


def throughput_verdict(client: dict | None, control: dict | None) -> tuple[str | bool | None, str]:
    """Compare the two throughput steps: ("throttle"|"stall"|"http-failure"|False|None, why).

    Each side made a few transfers (rounds); a side's speed is its best round's average rate.
    stall: every client round stopped getting bytes for half its time or more (a flow cut
    after its first bytes); throttle: the client's best is five times below the control's
    best and under 10 Mbit/s; http-failure: a round broke (a reset)."""
    if not client or not control:
        return None, "no throughput step"
    ctrl = [r for r in control.get("rounds") or [] if r.get("complete") and not r.get("failure")]
    if not ctrl:
        return None, "the control's transfers did not finish"
    theirs = max(r.get("rate_bps") or 0 for r in ctrl)
    rounds = client.get("rounds") or []
    if not rounds:
        return None, "no throughput step"
    broken = [r["failure"] for r in rounds if r.get("failure") not in (None, F.TIMEOUT)]
    if broken:
        return "http-failure", f"a transfer broke: {broken[0]}"
    deadline = client.get("deadline") or 1.0
    stalled = [r for r in rounds if not r.get("complete")
               and r.get("idle_at_end", 0) >= STALL_IDLE * deadline]
    if len(stalled) == len(rounds):
        sizes = ", ".join(str(r["bytes"]) for r in rounds)
        return "stall", (f"every transfer stopped (after {sizes} B; then nothing for "
                         f"{deadline * STALL_IDLE:.1f}s or longer), while the control's "
                         f"finished in {min(r['seconds'] for r in ctrl):.2f}s")
    mine = max((r.get("rate_bps") or 0) for r in rounds)
    if mine and theirs / mine >= THROTTLE_RATIO and mine < THROTTLE_CEILING:
        return "throttle", (f"{_kbit(mine)} at best in {len(rounds)} transfers, against "
                            f"{_kbit(theirs)} for the control ({theirs / mine:.0f}x slower)")
    return False, f"{_kbit(mine)} (control {_kbit(theirs)})"


def _kbit(bps) -> str:
    if not bps:
        return "?"
    return f"{bps / 1e6:.1f} Mbit/s" if bps >= 1e6 else f"{bps / 1e3:.0f} kbit/s"


def per_connection_failures(client: dict, control: dict | None) -> tuple[str | None, str]:
    """A connect or handshake that failed at the client while the control's succeeded."""
    if control is None:
        return None, ""
    ok_tcp = {(c["ip"], c["port"]) for c in control.get("tcp_connect") or []
              if c["status"]["success"]}
    for c in client.get("tcp_connect") or []:
        if not c["status"]["success"] and (c["ip"], c["port"]) in ok_tcp:
            return "tcp_ip", f"TCP connect to {c['ip']}:{c['port']}: {c['status']['failure']}"
    ok_tls = {h["address"] for h in control.get("tls_handshakes") or [] if h["failure"] is None}
    for h in client.get("tls_handshakes") or []:
        if h["failure"] is not None and h["address"] in ok_tls:
            return "http-failure", f"TLS handshake with {h['address']}: {h['failure']}"
    return None, ""
