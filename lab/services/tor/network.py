"""The lab's private Tor network: keys, torrc files, the nodes' tor daemons, ready on consensus.

`TorNetwork(lab).start()` makes every node's keys (lab/services/tor/keys.py) and torrc in the
run directory (RUN/tor/NODE/), starts one `tor` per node in its own lab host (a Service in the
lab's list, so the lab's teardown stops it, and what is left is found by its network
namespace), and waits until every node holds a consensus that lists every relay as Running,
with a guard and an exit among them: only then can a client build a circuit. The bridges
start after the authorities' first consensus. `seconds` is how
long that took, keys included. Bridge lines (obfs4 certificate and all) are read from what each
bridge's obfs4proxy wrote in its state folder.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lab.run.wait import Timeout, wait_until
from lab.scenario.addressing import PUBLIC_DNS_IP
from lab.services.base import ServiceError
from lab.services.daemon import daemon
from lab.services.tor import keys, torrc
from lab.services.tor.plan import (AUTHORITIES, BRIDGES, DIR_PORT, NODES, OBFS4_PORT, OR_PORT,
                                   Node)

NODE_START_TIMEOUT = 30.0
CONSENSUS_TIMEOUT = 120.0      # the first votes come 10-20 s after the authorities start


class TorNetworkError(Exception):
    """The Tor network did not come up; the message says which node and why."""


def consensus_relays(text: str) -> dict[str, set[str]]:
    """The relays of a consensus document: nickname -> flags."""
    out: dict[str, set[str]] = {}
    nick = None
    for line in text.splitlines():
        if line.startswith("r "):
            nick = line.split()[1]
            out[nick] = set()
        elif line.startswith("s ") and nick is not None:
            out[nick] = set(line.split()[1:])
    return out


def usable(relays: dict[str, set[str]], wanted: list[str]) -> bool:
    """Every wanted relay is listed Running, and some relay may be a guard and some an exit."""
    return all("Running" in relays.get(n, ()) for n in wanted) and \
        any("Guard" in f for f in relays.values()) and any("Exit" in f for f in relays.values())


class TorNetwork:
    def __init__(self, lab):
        self.lab = lab
        self.folder = lab.run_dir.path / "tor"
        self.fingerprints: dict[str, str] = {}
        self.dir_authorities = ""
        self.seconds = 0.0
        self.key_seconds = 0.0

    def data(self, node: Node) -> Path:
        return self.folder / node.name / "data"

    def start(self) -> float:
        """Bring the network up; the seconds it took (keys, daemons, first usable consensus)."""
        begin = time.monotonic()
        try:
            self._keys()
        except keys.TorKeyError as e:
            raise TorNetworkError(f"Tor network keys: {e}") from None
        self.key_seconds = time.monotonic() - begin
        resolv = self.folder / "resolv.conf"       # the exits resolve as a server abroad does
        resolv.write_text(f"nameserver {PUBLIC_DNS_IP}\n")
        # The bridges start once the authorities have voted: a bridge that asks for the
        # consensus before there is one backs off, for longer than a comparison waits.
        for group in (AUTHORITIES, BRIDGES):
            for node in group:
                self._start_node(node, resolv)
            self._wait_consensus(group)
        self.seconds = time.monotonic() - begin
        return self.seconds

    def _wait_consensus(self, nodes) -> None:
        wanted = [n.nickname for n in AUTHORITIES]
        try:
            wait_until(lambda: all(usable(self._consensus(n), wanted) for n in nodes),
                       CONSENSUS_TIMEOUT, "a Tor consensus with every relay on "
                       + ", ".join(n.name for n in nodes))
        except Timeout as e:
            seen = {n.name: sorted(self._consensus(n)) for n in nodes}
            raise TorNetworkError(f"{e}; the relays each one knows: {seen}") from None

    def _keys(self) -> None:
        """Every node's keys, side by side (RSA key generation is most of the time)."""
        def make(node: Node) -> tuple[str | None, str]:
            data = self.data(node)
            data.mkdir(parents=True, exist_ok=True, mode=0o700)
            v3 = keys.authority_certificate(data, node.ip, DIR_PORT) \
                if node.role == "authority" else None
            conf = self.folder / node.name / "fingerprint.torrc"
            conf.write_text(torrc.list_fingerprint_torrc(node, data))
            return v3, keys.relay_fingerprint(data, conf)
        with ThreadPoolExecutor(max_workers=len(NODES)) as pool:
            made = dict(zip((n.name for n in NODES), pool.map(make, NODES)))
        v3idents = {name: v3 for name, (v3, _) in made.items()}
        self.fingerprints = {name: fp for name, (_, fp) in made.items()}
        self.dir_authorities = torrc.authority_lines(
            [(n, v3idents[n.name], self.fingerprints[n.name]) for n in AUTHORITIES])

    def _start_node(self, node: Node, resolv: Path) -> None:
        conf = self.folder / node.name / "torrc"
        ports = [("tcp", OR_PORT)]
        ready = None
        if node.role == "authority":
            conf.write_text(torrc.relay(node, self.data(node), resolv, self.dir_authorities))
            ports.append(("tcp", DIR_PORT))
        else:
            conf.write_text(torrc.bridge(node, self.data(node), self.dir_authorities))
            ports.append(("tcp", OBFS4_PORT))
            ready = self._bridge_line_file(node).exists
        service = daemon(f"tor@{node.name}", self.lab.host(node.name), ["tor", "-f", str(conf)],
                         self.folder / node.name / "tor.log", ports, also=ready,
                         timeout=NODE_START_TIMEOUT)
        self.lab.services.append(service)
        try:
            service.start(self.lab.run_dir)
        except ServiceError as e:
            raise TorNetworkError(str(e)) from None

    def _consensus(self, node: Node) -> dict[str, set[str]]:
        try:
            return consensus_relays((self.data(node) / "cached-consensus").read_text())
        except OSError:
            return {}

    def _bridge_line_file(self, node: Node) -> Path:
        return self.data(node) / "pt_state" / "obfs4_bridgeline.txt"

    def bridge_line(self, node: Node) -> str:
        """The `Bridge` line a client needs for `node`: obfs4 IP:PORT FINGERPRINT cert=..."""
        text = self._bridge_line_file(node).read_text()
        args = next((ln.split()[-2:] for ln in text.splitlines()
                     if ln.startswith("Bridge obfs4")), None)
        if not args or not args[0].startswith("cert="):
            raise TorNetworkError(f"{node.name}: obfs4proxy wrote no bridge line: {text!r}")
        return f"obfs4 {node.ip}:{OBFS4_PORT} {self.fingerprints[node.name]} {' '.join(args)}"
