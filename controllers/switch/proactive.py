"""The proactive part of the switch's table: what is installed before any packet comes up.

Owns the entries the engine installs when the switch connects (default NORMAL, the size
table, the rules' shared meters, steering with its guards and handshake passes) and what a
rule change replaces (steering under the next cookie generation, then the old generation
removed; rule meters added or given back). Pure: effects out, no I/O.
"""
from __future__ import annotations

from controllers.engine.effects import AddMeter, Effect, InstallFlow, RemoveFlows, RemoveMeter
from controllers.rules.ruleset import MeterPool, RuleSet, meter_shape
from controllers.switch.steering import steering_entries
from controllers.switch.tables import (STEER_GENERATION_MASK, ct_allowed_entry, default_entry,
                                       size_table, steer_cookie, transport_entries)


def base_table(rules: RuleSet, hosts: dict[str, dict], generation: int,
               rule_meters: dict[tuple, int], server_rsts: bool = False,
               client_syns: bool = False, ct: tuple[int, int] | None = None) -> list[Effect]:
    """Default NORMAL entry, the size table, the rules' shared meters, steering (with
    copies of the server's RSTs, and the client's SYNs sent up, when the DPI profile wants
    them); with `ct` (zone, mark), the conntrack lane and its allowed flows' entry."""
    out: list[Effect] = [InstallFlow(default_entry())]
    out += [InstallFlow(s) for s in transport_entries()]
    out += [InstallFlow(s) for s in size_table()]
    if ct is not None:
        out.append(InstallFlow(ct_allowed_entry(ct[1])))
    wanted = rules.rule_meters_wanted()
    for key, mid in sorted(rule_meters.items(), key=lambda kv: kv[1]):
        out.append(AddMeter(mid, *meter_shape(wanted[key])))
    out += [InstallFlow(s) for s in steering_entries(rules.rules, hosts, generation,
                                                     server_rsts, client_syns,
                                                     ct[0] if ct else None)]
    return out


def rebuild(rules: RuleSet, hosts: dict[str, dict], old: int, new: int,
            rule_meters: dict[tuple, int], meters: MeterPool,
            server_rsts: bool = False, client_syns: bool = False,
            zone: int | None = None) -> list[Effect]:
    """After a rule change: meters the rules now want, steering under generation `new`, the
    old generation's entries removed, meters no rule wants any more given back
    (`rule_meters` is updated in place)."""
    wanted = rules.rule_meters_wanted()
    out: list[Effect] = []
    for key, rate in wanted.items():
        if key not in rule_meters:
            rule_meters[key] = mid = meters.take()
            out.append(AddMeter(mid, *meter_shape(rate)))
    out += [InstallFlow(s) for s in steering_entries(rules.rules, hosts, new, server_rsts,
                                                     client_syns, zone)]
    out.append(RemoveFlows(steer_cookie(old), STEER_GENERATION_MASK))
    for key in [k for k in rule_meters if k not in wanted]:
        mid = rule_meters.pop(key)
        meters.give(mid)
        out.append(RemoveMeter(mid))
    return out
