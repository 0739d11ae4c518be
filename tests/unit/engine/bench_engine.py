"""How many ClientHello decisions per second the engine makes (not a test: run it by hand).

    /tmp/tv/bin/python tests/unit/engine/bench_engine.py [flows] [patterns]

Each flow is SYN, ACK, ClientHello (3 packet-ins, as through the switch); half the SNIs are
blocked. Prints flows/s and packet-ins/s.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", ".."))

from controllers.engine.engine import Engine  # noqa: E402
from engine_helpers import TcpClient, client_hello, policy, rule  # noqa: E402


def main(flows: int = 20000, patterns: int = 1000) -> None:
    names = [f"site{i}.blocked.example" for i in range(patterns)]
    e = Engine(policy(rule("big", {"sni": names + ["*.googlevideo.com"]}, "drop")))
    hellos = [client_hello(f"site{i}.blocked.example") for i in range(50)]
    hellos += [client_hello(f"www{i}.fine.example") for i in range(50)]
    frames = []
    for i in range(flows):
        c = TcpClient(sport=1024 + i % 60000, isn=i * 7919)
        c.c = dict(c.c, ip=f"198.18.{1 + i // 60000}.{10 + i % 200}")
        frames.append((c.syn(), c.ack_(), c.data(hellos[i % len(hellos)])))
    t = time.perf_counter()
    for n, (syn, ack, data) in enumerate(frames):
        now = n * 1e-4
        e.packet_in(syn, 1, now)
        e.packet_in(ack, 1, now)
        e.packet_in(data, 1, now)
    dt = time.perf_counter() - t
    s = e.stats()
    print(f"{flows} flows, {patterns} patterns: {flows / dt:,.0f} ClientHello decisions/s, "
          f"{3 * flows / dt:,.0f} packet-ins/s; decisions={s['decisions']} "
          f"events={s['events']} errors={s['internal_errors']}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
