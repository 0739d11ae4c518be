"""The censor's CPU per DNS query, from read buffer to packet-out bytes (not a test: run by hand).

    .venv/bin/python tests/unit/engine/bench_dns_path.py [queries]
    PYTHONPATH=$(.venv/bin/python -c 'from lab.run import compiled; print(compiled.current())') \
        .venv/bin/python -P tests/unit/engine/bench_dns_path.py [queries]     # compiled

The bench's DNS policy (bench.dns: the 1,001-pattern blocklist ahead of the 100 mixed rules)
and its names (one in ten blocked), one query per fresh source port. Packet-ins in chunks of
eight go through the switch connection's reader (controllers.openflow.link) and the censor's
packet path (controllers.openflow.packetpath: for_the_wire, the engine, the encoding of its
effects, the event lines to a log in a temporary folder), one write per chunk, without
sockets: CPU time per query, so the figure holds on a busy machine. Prints µs per query and a
digest of every byte sent (the same digest before and after a change means the same
packet-outs and answers).
"""
import hashlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

# After PYTHONPATH: run with the censor's compiled build there (lab/run/compiled.py) and
# `python -P`, it measures the compiled modules.
sys.path.append(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.append(os.path.dirname(__file__))     # engine_helpers (-P leaves it out)

from os_ken.controller.handler import MAIN_DISPATCHER  # noqa: E402

from bench import common, dns as bench_dns, rules as bench_rules  # noqa: E402
from bench.suite import CLIENTS, SERVERS  # noqa: E402
from controllers import packets as P  # noqa: E402
from controllers.engine.engine import Engine  # noqa: E402
from controllers.engine.eventlog import EventLog  # noqa: E402
from controllers.openflow import link, wire  # noqa: E402
from controllers.openflow.packetpath import PacketPath  # noqa: E402
from lab.clients.dnswire import a_query  # noqa: E402
from engine_helpers import packet_in_message  # noqa: E402


class Switch:
    """The switch connection's side the reader sees: a socket of chunks, a send."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks, self.state, self.ofp_brick, self.xid = chunks, MAIN_DISPATCHER, None, 0
        self.socket = self
        self.digest, self.sent = hashlib.sha256(), 0

    def recv(self, _size: int) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""

    def send(self, data: bytes) -> None:
        self.digest.update(data)
        self.sent += len(data)


def main(queries: int = 40000) -> None:
    folder = Path(tempfile.mkdtemp())
    policy = common.scenario(folder, "dns-path", CLIENTS, SERVERS,
                             [bench_dns.BLOCK_RULE, *bench_rules.mixed_rules(100)]).policy()
    engine = Engine(policy)
    engine.base_effects()
    client, server = policy["hosts"]["c11"], policy["hosts"]["dns"]
    names = [n.split("=")[0] for n in bench_dns.names()]
    msgs = [packet_in_message(P.build_udp(P.mac_bytes(client["mac"]), P.mac_bytes(server["mac"]),
                                  client["ip"], server["ip"], 1025 + i % 60000, 53,
                                  a_query(names[i % len(names)], i & 0xFFFF)), 11)
            for i in range(queries)]
    switch = Switch([b"".join(msgs[i:i + 8]) for i in range(0, queries, 8)])
    path = PacketPath(engine, EventLog(str(folder / "events.jsonl")), "censor", time.time())
    path.datapath = switch
    wire.read_packet_ins_directly()
    link._packet_in[:] = [path.frame_in]
    link._before_write[:] = [path.flush_events]
    cpu = time.process_time()
    link._recv_loop(switch)
    cpu = time.process_time() - cpu
    stats = engine.stats()
    print(f"{cpu / queries * 1e6:.1f} µs of CPU per query; {stats['decisions']} decisions, "
          f"{stats['events']} events, {switch.sent} bytes sent, "
          f"sha256 {switch.digest.hexdigest()[:16]}")
    shutil.rmtree(folder)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
