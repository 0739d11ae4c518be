"""The benchmark's load generator: many short flows from one lab host, on one epoll loop.

Runs inside a lab host (`lab.popen(host, [python, "-m", "bench.loadgen", ...])`) and prints
one JSON object. It keeps `--concurrency` flows in flight for `--duration` seconds (closed
loop), each flow on a source port of its own (`--ports LO-HI`, never reused within a run, so
the censor and the switch never see an old 5-tuple again), then reports what it saw.

    tls   connect, send a real ClientHello (made by Python's ssl module) for the next SNI of
          the list, wait for the first byte back (the ServerHello) or a reset; close with RST
          (SO_LINGER 0: no TIME_WAIT, no FIN exchange). Outcomes: answered, reset, closed,
          refused, timeout.
    dns   one A query per flow, UDP, from a fresh socket; wait for the answer. Outcomes by
          rcode (noerror, nxdomain, ...) or lost (no answer within --timeout).

Names carry their expectation: `--names` is a list of NAME=EXPECT (EXPECT: answered/reset for
tls, noerror/nxdomain for dns) cycled through in order; the report counts per expectation how
many flows met it. Latencies (ms) are per flow: `ttfb` from connect() (tls) or sendto() (dns)
to the first byte back or the reset. No threads, no asyncio: a plain epoll loop is the
cheapest way Python has to keep many sockets busy, and its CPU time is reported so a reader
can tell when the generator, not the censor, was the limit.
"""
from __future__ import annotations

import argparse
import errno
import json
import random
import resource
import select
import socket
import struct
import sys
import time

from lab.clients import tls_hello
from lab.clients.dnswire import a_query

LINGER_RST = struct.pack("ii", 1, 0)
_RCODE = {0: "noerror", 1: "formerr", 2: "servfail", 3: "nxdomain", 5: "refused"}


_CTX = None


def client_hello(sni: str) -> bytes:
    """A real ClientHello for `sni`, as Python's ssl module (OpenSSL) sends it."""
    import ssl
    global _CTX
    if _CTX is None:            # one context: making one reads the whole trust store
        _CTX = ssl.create_default_context()
    return tls_hello.client_hello(sni, _CTX)[3]


def percentiles(values: list[float], points=(50, 90, 99)) -> dict:
    if not values:
        return {f"p{p}": None for p in points}
    s = sorted(values)
    return {f"p{p}": round(s[min(len(s) - 1, int(len(s) * p / 100))], 3) for p in points}


class Generator:
    def __init__(self, mode: str, server: str, port: int, names: list[tuple[str, str]],
                 concurrency: int, ports: tuple[int, int], timeout: float) -> None:
        self.mode, self.server, self.port = mode, server, port
        self.names = names
        self.concurrency = concurrency
        self.next_port, self.last_port = ports
        self.timeout = timeout
        self.ep = select.epoll()
        self.live: dict[int, list] = {}     # fd -> [sock, t_start, name index, state]
        self.i = 0
        self.hellos = [client_hello(n) for n, _ in names] if mode == "tls" else None
        self.outcomes: dict[str, dict[str, int]] = {}
        self.ttfb: dict[str, list[float]] = {}
        self.connect_ms: list[float] = []
        self.started = 0
        self.ports_exhausted = False
        self.errors: dict[str, int] = {}

    def _count(self, expect: str, outcome: str, ms: float | None) -> None:
        per = self.outcomes.setdefault(expect, {})
        per[outcome] = per.get(outcome, 0) + 1
        if ms is not None:
            self.ttfb.setdefault(f"{expect}:{outcome}", []).append(ms)

    def _open(self, now: float) -> bool:
        if self.next_port > self.last_port:
            self.ports_exhausted = True
            return False
        src_port = self.next_port
        self.next_port += 1
        idx = self.i % len(self.names)
        self.i += 1
        if self.mode == "tls":
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RST)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        try:
            s.bind(("", src_port))
        except OSError as e:
            s.close()
            self.errors[errno.errorcode.get(e.errno, str(e.errno))] = \
                self.errors.get(errno.errorcode.get(e.errno, str(e.errno)), 0) + 1
            return True
        t = time.perf_counter()
        if self.mode == "tls":
            rc = s.connect_ex((self.server, self.port))
            if rc not in (0, errno.EINPROGRESS):
                s.close()
                self._count(self.names[idx][1], "refused", None)
                return True
            self.ep.register(s.fileno(), select.EPOLLOUT)
            state = "connecting"
        else:
            qid = random.getrandbits(16)
            s.sendto(a_query(self.names[idx][0], qid), (self.server, self.port))
            self.ep.register(s.fileno(), select.EPOLLIN)
            state = "sent"
        self.live[s.fileno()] = [s, t, idx, state, now]
        self.started += 1
        return True

    def _close(self, fd: int) -> None:
        entry = self.live.pop(fd)
        try:
            self.ep.unregister(fd)
        except OSError:
            pass
        entry[0].close()

    def _event(self, fd: int, ev: int) -> None:
        entry = self.live.get(fd)
        if entry is None:
            return
        s, t, idx, state, _ = entry
        expect = self.names[idx][1]
        now = time.perf_counter()
        if self.mode == "dns":
            try:
                data = s.recv(4096)
            except OSError:
                self._count(expect, "refused", None)
                self._close(fd)
                return
            rcode = data[3] & 0x0F if len(data) >= 4 else -1
            self._count(expect, _RCODE.get(rcode, f"rcode{rcode}"), (now - t) * 1000)
            self._close(fd)
            return
        if state == "connecting":
            err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                self._count(expect, "reset" if err == errno.ECONNRESET else "refused",
                            (now - t) * 1000)
                self._close(fd)
                return
            self.connect_ms.append((now - t) * 1000)
            try:
                s.send(self.hellos[idx])
            except OSError:
                self._count(expect, "reset", (now - t) * 1000)
                self._close(fd)
                return
            entry[3] = "sent"
            self.ep.modify(fd, select.EPOLLIN)
            return
        try:
            data = s.recv(1)
            outcome = "answered" if data else "closed"
        except ConnectionResetError:
            outcome = "reset"
        except OSError:
            outcome = "refused"
        self._count(expect, outcome, (now - t) * 1000)
        self._close(fd)

    def run(self, duration: float, start_at: float | None) -> dict:
        if start_at:
            delay = start_at - time.time()
            if delay > 0:
                time.sleep(delay)   # the generators of one measurement start together
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        end = t0 + duration
        last_sweep = t0
        while True:
            now = time.perf_counter()
            if now < end:
                while len(self.live) < self.concurrency and self._open(now):
                    pass
            elif not self.live:
                break
            if now >= end + self.timeout + 0.5:
                break
            for fd, ev in self.ep.poll(0.05):
                self._event(fd, ev)
            if now - last_sweep > 0.1:
                last_sweep = now
                for fd, entry in list(self.live.items()):
                    if now - entry[1] > self.timeout:
                        self._count(self.names[entry[2]][1],
                                    "timeout" if self.mode == "tls" else "lost", None)
                        self._close(fd)
            if self.ports_exhausted and not self.live:
                break
        wall = time.perf_counter() - t0
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        done = sum(sum(v.values()) for v in self.outcomes.values())
        busy = min(wall, duration)
        return {
            "mode": self.mode, "duration_s": round(busy, 3), "wall_s": round(wall, 3),
            "concurrency": self.concurrency, "flows": done, "started": self.started,
            "rate_per_s": round(done / busy, 1) if busy else 0.0,
            "outcomes": self.outcomes,
            "ttfb_ms": {k: {**percentiles(v), "n": len(v)} for k, v in self.ttfb.items()},
            "ttfb_raw_ms": {k: [round(x, 3) for x in v] for k, v in self.ttfb.items()},
            "connect_ms": percentiles(self.connect_ms),
            "cpu_s": round((cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime),
                           3),
            "ports_exhausted": self.ports_exhausted, "errors": self.errors,
        }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.loadgen", description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=("tls", "dns"))
    p.add_argument("server")
    p.add_argument("--port", type=int)
    p.add_argument("--names", nargs="+", required=True, metavar="NAME=EXPECT")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--ports", default="10000-65000")
    p.add_argument("--timeout", type=float, default=3.0)
    p.add_argument("--start-at", type=float, default=None, help="epoch seconds to start at")
    p.add_argument("--raw", action="store_true", help="include every latency sample")
    a = p.parse_args(argv)
    names = [tuple(n.split("=", 1)) for n in a.names]
    lo, hi = (int(x) for x in a.ports.split("-"))
    port = a.port or (443 if a.mode == "tls" else 53)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    gen = Generator(a.mode, a.server, port, names, a.concurrency, (lo, hi), a.timeout)
    out = gen.run(a.duration, a.start_at)
    if not a.raw:
        out.pop("ttfb_raw_ms")
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
