"""The torrc files of the lab's Tor network: authorities (also relays), bridges, clients.

Timings are those of a testing network (`TestingTorNetwork 1`, votes every few seconds, flags
voted without the weeks of uptime the public network asks for; chutney's templates were read
for the values).

The exits' policy is `accept *4:*`, and what that reaches is the lab's 198.18.0.0/15 and nothing
else: a lab host has no route beyond it (lab/run/network.py). A policy that names the lab
(`accept 198.18.0.0/15:*`, `reject *:*`) would shut Tor's clients out: a client asked for a name
(curl --socks5-hostname, as Tor Browser does) does not know the address yet and picks only
exits open to "*" on the port, and a microdescriptor (what clients and bridges carry) holds only
a summary of the policy, which reads "reject all" for one open to less than the internet.
"""
from __future__ import annotations

from pathlib import Path

from lab.services.tor.plan import DIR_PORT, OBFS4_PORT, OR_PORT, Node

OBFS4PROXY = "/usr/bin/obfs4proxy"


_COMMON = """\
TestingTorNetwork 1
DataDirectory {data}
Log notice stdout
SafeLogging 0
LogTimeGranularity 1
RunAsDaemon 0
Sandbox 0
ShutdownWaitLength 0
PathsNeededToBuildCircuits 0.67
"""


def authority_lines(authorities: list[tuple[Node, str, str]]) -> str:
    """DirAuthority lines for (node, v3ident, relay fingerprint) triples."""
    return "".join(f"DirAuthority {n.nickname} orport={OR_PORT} no-v2 v3ident={v3} "
                   f"{n.ip}:{DIR_PORT} {fp}\n" for n, v3, fp in authorities)


def relay(node: Node, data: Path, resolv_conf: Path, dir_authorities: str) -> str:
    """An authority that is also a relay: guard, middle and exit to the lab's servers."""
    return _COMMON.format(data=data) + f"""\
Nickname {node.nickname}
Address {node.ip}
ORPort {node.ip}:{OR_PORT}
DirPort {node.ip}:{DIR_PORT}
SocksPort 0
ContactInfo {node.name}@lab.invalid
AuthoritativeDirectory 1
V3AuthoritativeDirectory 1
AssumeReachable 1
TestingV3AuthInitialVotingInterval 10
TestingV3AuthInitialVoteDelay 2
TestingV3AuthInitialDistDelay 2
V3AuthVotingInterval 20
V3AuthVoteDelay 4
V3AuthDistDelay 4
V3AuthNIntervalsValid 2
TestingDirAuthVoteExit *
TestingDirAuthVoteGuard *
TestingDirAuthVoteHSDir *
TestingMinExitFlagThreshold 0
ExitRelay 1
ExitPolicyRejectPrivate 0
ExitPolicy accept *4:*
ExitPolicy reject *:*
ServerDNSResolvConfFile {resolv_conf}
ServerDNSDetectHijacking 0
ServerDNSAllowBrokenConfig 1
{dir_authorities}"""


def bridge(node: Node, data: Path, dir_authorities: str) -> str:
    """A bridge: unpublished, obfs4 (obfs4proxy) on OBFS4_PORT, no exit."""
    return _COMMON.format(data=data) + f"""\
Nickname {node.nickname}
Address {node.ip}
ORPort {node.ip}:{OR_PORT}
SocksPort 0
BridgeRelay 1
PublishServerDescriptor 0
BridgeRecordUsageByCountry 0
AssumeReachable 1
ExitRelay 0
ExitPolicy reject *:*
ServerTransportPlugin obfs4 exec {OBFS4PROXY}
ServerTransportListenAddr obfs4 {node.ip}:{OBFS4_PORT}
ExtORPort auto
{dir_authorities}"""


def client(data: Path, socks_port: int, dir_authorities: str, bridge_line: str = "") -> str:
    """A Tor client offering SOCKS5 on 127.0.0.1:socks_port; through `bridge_line` if given."""
    bridges = "" if not bridge_line else f"""\
UseBridges 1
ClientTransportPlugin obfs4 exec {OBFS4PROXY}
Bridge {bridge_line}
"""
    return _COMMON.format(data=data) + f"""\
SocksPort 127.0.0.1:{socks_port}
{bridges}{dir_authorities}"""


def list_fingerprint_torrc(node: Node, data: Path) -> str:
    """The least a node's torrc needs for `tor --list-fingerprint` to make its keys."""
    return f"DataDirectory {data}\nNickname {node.nickname}\nORPort {OR_PORT}\n" \
           f"TestingTorNetwork 1\nDirAuthority x orport=1 127.0.0.1:1 {'F' * 40}\n"
