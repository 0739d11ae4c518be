"""A tiny Tor pluggable-transport driver (pt-spec, managed mode) for obfs4proxy, without Tor.

    python -m lab.compare.ptdriver server --bind IP:PORT --orport HOST:PORT --state DIR
    python -m lab.compare.ptdriver client --bridge IP:PORT --args-file FILE --listen HOST:PORT
                                          --state DIR

server: launches `obfs4proxy` with TOR_PT_SERVER_* variables so that it listens on --bind and
hands each deobfuscated connection to --orport (any TCP service: here a SOCKS5 proxy); reads
its `SMETHOD obfs4 ... ARGS:cert=...,iat-mode=0` line and writes those arguments to
DIR/bridge-args (what a bridge line carries to clients).

client: launches `obfs4proxy` with TOR_PT_CLIENT_TRANSPORTS, reads its `CMETHOD obfs4 socks5
ADDR` line, then listens on --listen and, for each connection, asks obfs4proxy's SOCKS5 port to
connect to the bridge (the bridge arguments go in the SOCKS5 username/password, as pt-spec
says) and relays bytes both ways. What comes in on --listen arrives at the server's --orport.

IP:PORT may be an IPv6 address in brackets (`[2001:db8::c613:b]:9443`, a comparison kept to
IPv6). Both stay in the foreground until obfs4proxy exits or they get SIGTERM (which they pass
on).
"""
from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import signal
import subprocess
import sys
from pathlib import Path

from lab.compare.relay import relay

TRANSPORT = "obfs4"


def _launch(env: dict, state: Path) -> subprocess.Popen:
    state.mkdir(parents=True, exist_ok=True)
    full = dict(os.environ, TOR_PT_MANAGED_TRANSPORT_VER="1", TOR_PT_STATE_LOCATION=str(state),
                TOR_PT_EXIT_ON_STDIN_CLOSE="1", **env)
    return subprocess.Popen(["obfs4proxy", "-enableLogging", "-logLevel", "INFO"], env=full,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def _read_until(proc: subprocess.Popen, done: str) -> list[str]:
    """pt-spec lines from obfs4proxy's stdout up to `done`; SystemExit on an error line."""
    lines = []
    for line in proc.stdout:
        line = line.strip()
        print(f"ptdriver: obfs4proxy says: {line}", flush=True)
        if line.split(" ", 1)[0].endswith("-ERROR"):      # ENV-ERROR, SMETHOD-ERROR, ...
            raise SystemExit(f"ptdriver: obfs4proxy failed: {line}")
        lines.append(line)
        if line == done:
            return lines
    raise SystemExit(f"ptdriver: obfs4proxy exited before {done}")


def _forward_signals(proc: subprocess.Popen) -> None:
    def stop(signum, frame):
        proc.terminate()
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def server(a) -> int:
    proc = _launch({"TOR_PT_SERVER_TRANSPORTS": TRANSPORT,
                    "TOR_PT_SERVER_BINDADDR": f"{TRANSPORT}-{a.bind}",
                    "TOR_PT_ORPORT": a.orport}, Path(a.state))
    _forward_signals(proc)
    for line in _read_until(proc, "SMETHODS DONE"):
        parts = line.split()
        if parts[:2] == ["SMETHOD", TRANSPORT]:
            args = next((p[5:] for p in parts[3:] if p.startswith("ARGS:")), "")
            # pt-spec: k=v pairs joined by ',' here, by ';' in the client's SOCKS arguments
            (Path(a.state) / "bridge-args").write_text(args.replace(",", ";") + "\n")
    return proc.wait()


async def _socks5_connect(pt_host: str, pt_port: int, bridge: str, args: str):
    """A connection through obfs4proxy's SOCKS5 port to the bridge, args as user/password."""
    reader, writer = await asyncio.open_connection(pt_host, pt_port)
    writer.write(b"\x05\x01\x02")                         # username/password auth
    await writer.drain()
    if await reader.readexactly(2) != b"\x05\x02":
        raise ConnectionError("obfs4proxy refused username/password SOCKS auth")
    raw = args.encode()
    user, pwd = raw[:255], raw[255:] or b"\x00"
    writer.write(b"\x01" + bytes([len(user)]) + user + bytes([len(pwd)]) + pwd)
    await writer.drain()
    if (await reader.readexactly(2))[1] != 0:
        raise ConnectionError("obfs4proxy rejected the bridge arguments")
    host, port = bridge.rsplit(":", 1)
    addr = ipaddress.ip_address(host.strip("[]"))          # IPv6 in brackets
    writer.write(b"\x05\x01\x00" + (b"\x01" if addr.version == 4 else b"\x04") + addr.packed
                 + int(port).to_bytes(2, "big"))
    await writer.drain()
    reply = await reader.readexactly(4)
    if reply[1] != 0:
        raise ConnectionError(f"bridge {bridge} unreachable through obfs4 (SOCKS {reply[1]})")
    size = {1: 4, 4: 16}.get(reply[3]) or (await reader.readexactly(1))[0]   # 3: a name
    await reader.readexactly(size + 2)                    # the bound address and port
    return reader, writer


def client(a) -> int:
    proc = _launch({"TOR_PT_CLIENT_TRANSPORTS": TRANSPORT}, Path(a.state))
    _forward_signals(proc)
    pt = None
    for line in _read_until(proc, "CMETHODS DONE"):
        parts = line.split()
        if parts[:3] == ["CMETHOD", TRANSPORT, "socks5"]:
            pt = parts[3]
    if pt is None:
        raise SystemExit("ptdriver: obfs4proxy offered no obfs4 SOCKS5 method")
    pt_host, pt_port = pt.rsplit(":", 1)
    args = Path(a.args_file).read_text().strip()

    async def handle(reader, writer):
        try:
            up_r, up_w = await _socks5_connect(pt_host, int(pt_port), a.bridge, args)
        except (ConnectionError, OSError, asyncio.IncompleteReadError) as e:
            print(f"ptdriver: {e}", flush=True)
            writer.close()
            return
        await asyncio.gather(relay(reader, up_w), relay(up_r, writer))
        up_w.close()
        writer.close()

    async def serve():
        host, port = a.listen.rsplit(":", 1)
        srv = await asyncio.start_server(handle, host, int(port))
        async with srv:
            await asyncio.get_running_loop().run_in_executor(None, proc.wait)
    asyncio.run(serve())
    return proc.returncode or 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="ptdriver", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="role", required=True)
    s = sub.add_parser("server")
    s.add_argument("--bind", required=True)
    s.add_argument("--orport", required=True)
    s.add_argument("--state", required=True)
    c = sub.add_parser("client")
    c.add_argument("--bridge", required=True)
    c.add_argument("--args-file", required=True)
    c.add_argument("--listen", required=True)
    c.add_argument("--state", required=True)
    a = p.parse_args(argv)
    return server(a) if a.role == "server" else client(a)


if __name__ == "__main__":
    sys.exit(main())
