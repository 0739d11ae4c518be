"""Which hosts make the lab's private Tor network, and adding them to a scenario.

Three directory authorities that are also the network's relays (each may be guard, middle or
exit: on two cores, fewer processes), a bridge that is "known" (its address is in the
`@tor-bridges` group, as Tor Browser's built-in bridges are on censors' lists) and an unlisted
one. Their addresses are the lab's addressing plan (lab/scenario/addressing.py), so a rule's
`ip: "@tor-relays"` names them before the lab exists. The hosts are added to the scenario in
memory only, like the comparison's vps, and only when a comparison runs a Tor tool.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from lab.scenario.addressing import (TOR_KNOWN_BRIDGES, TOR_RELAYS, TOR_UNLISTED_BRIDGES,
                                     mac_for)

OR_PORT = 9001            # every node's ORPort
DIR_PORT = 9030           # the authorities' DirPort
OBFS4_PORT = 443          # the bridges' obfs4 listener (where real bridges often listen)


class PlanError(Exception):
    """The Tor network cannot be added to this scenario (a name or address is taken)."""


@dataclass(frozen=True)
class Node:
    name: str             # the lab host (and the Tor nickname, without the dash)
    ip: str
    role: str             # "authority" (an authority and relay) or "bridge"
    listed: bool = True   # a bridge on the censor's list (`@tor-bridges`)

    @property
    def nickname(self) -> str:
        return self.name.replace("-", "")


AUTHORITIES = tuple(Node(f"tor-auth{i}", ip, "authority") for i, ip in enumerate(TOR_RELAYS, 1))
KNOWN_BRIDGE = Node("tor-br1", TOR_KNOWN_BRIDGES[0], "bridge", listed=True)
UNLISTED_BRIDGE = Node("tor-br2", TOR_UNLISTED_BRIDGES[0], "bridge", listed=False)
BRIDGES = (KNOWN_BRIDGE, UNLISTED_BRIDGE)
NODES = AUTHORITIES + BRIDGES


def with_network(scenario):
    """`scenario` with the Tor network's hosts among its servers (internet side)."""
    from lab.scenario.model import Server
    names = {h.name: h for h in scenario.hosts()}
    addresses = {h.ip: h for h in scenario.hosts()}
    for node in NODES:
        for key, taken in ((node.name, names), (node.ip, addresses)):
            if key in taken:
                raise PlanError(f"{scenario.name}: the lab's Tor network needs host "
                                f"{node.name} at {node.ip}, and {key} is taken by host "
                                f"'{taken[key].name}'")
    added = tuple(Server(n.name, n.ip, mac_for(n.ip), "internet") for n in NODES)
    return dataclasses.replace(scenario, servers=(*scenario.servers, *added))
