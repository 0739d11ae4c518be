"""Compiling a scenario into the censor's policy JSON (docs/internals.md §1)."""
from __future__ import annotations

from lab.network import HostSpec, switch_ports


def compile_policy(scenario, hosts: list[HostSpec]) -> dict:
    servers = {s.name: s for s in scenario.servers}
    ports = switch_ports(hosts)
    host_table = {}
    for h in hosts:
        entry = {"ip": h.ip, "mac": h.mac, "port": ports[h.name], "side": h.side}
        if h.name in servers:
            entry["domains"] = list(servers[h.name].domains)
        host_table[h.name] = entry
    c = scenario.censor
    return {
        "mode": c.mode, "reassembly": c.reassembly, "inspect_packets": c.inspect_packets,
        "fail_mode": c.fail_mode, "seed": c.seed, "hosts": host_table,
        "rules": [r.to_policy() for r in c.rules],
    }
