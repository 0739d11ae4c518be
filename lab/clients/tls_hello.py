"""A TLS client that shapes its ClientHello the way evasion tools and DPI tests need.

`python -m lab.clients.tls_hello HOST [--port 443] [--sni NAME] [--split N] [--records N]
[--add-ext 0xffce] [--pad BYTES] [--fake badsum|badipsum] [--ttl N] [--timeout S] [--sport N]
[-v] [-6]` connects (over IPv4; `-6`: over IPv6, to HOST's AAAA),
sends a real ClientHello made by Python's ssl module — split across two TCP segments after N
bytes (--split), or across TLS records of at most N bytes (--records), optionally with an extra
extension or a large padding extension (post-quantum sized hellos), optionally after a fake
data segment with a wrong TCP or IP header checksum (--fake: the "badsum" evasion of zapret,
byedpi and Geneva, lab.clients.fakes) — then finishes the handshake when the hello is
unchanged (verifying the lab CA), or just waits for the ServerHello when it was changed or
names another site than HOST (`--sni`: the server's certificate cannot name it, so a
ServerHello is the answer; CIS India's test of Jio sent blocked names to Google this way).
`--ttl N` sends the hello (and all after it) with IP TTL N (IPv6: hop limit N), the handshake before it with the
default: a TTL-limited probe (Censored Planet's CenTrace) that reaches N routers' worth of the
path, so a reset at N and none at N-1 places the censor between hops N-1 and N (on a routed
network). `-v` says on stderr which local address and port the connection is made from (what
the censor's events name as the flow's `src` and `sport`).
Exit codes as curl: 0 ok, 6 not resolved, 7 refused, 28 timeout, 35 reset during handshake.
"""
from __future__ import annotations

import argparse
import fcntl
import socket
import ssl
import struct
import sys
import time

from lab.clients.fakes import FAKES, Connection
from lab.run.wait import Timeout, wait_until

NOT_RESOLVED, REFUSED, TIMEOUT, RESET = 6, 7, 28, 35
SIOCOUTQNSD = 0x894B      # linux/sockios.h: bytes written to a TCP socket and not yet sent


def client_hello(sni: str, ctx: ssl.SSLContext | None = None
                 ) -> tuple[ssl.SSLObject, ssl.MemoryBIO, ssl.MemoryBIO, bytes]:
    """A real ClientHello for `sni` from Python's ssl module: the TLS object, its two BIOs
    (to finish the handshake) and the hello's bytes. `ctx`: a context to reuse (making one
    reads the whole trust store)."""
    ctx = ctx or ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname=sni)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return obj, incoming, outgoing, outgoing.read()


def add_extension(record: bytes, ext_type: int, body: bytes) -> bytes:
    """`record` (one TLS record holding a ClientHello) with one more extension at the end."""
    hs = bytearray(record[5:])
    pos = 4 + 2 + 32
    pos += 1 + hs[pos]                                   # session id
    pos += 2 + struct.unpack_from("!H", hs, pos)[0]      # cipher suites
    pos += 1 + hs[pos]                                   # compression methods
    ext_len = struct.unpack_from("!H", hs, pos)[0]
    ext = struct.pack("!HH", ext_type, len(body)) + body
    struct.pack_into("!H", hs, pos, ext_len + len(ext))
    hs += ext
    hs_len = len(hs) - 4
    hs[1:4] = hs_len.to_bytes(3, "big")
    return record[:3] + struct.pack("!H", len(hs)) + bytes(hs)


def sni_span(record: bytes) -> tuple[int, int] | None:
    """(offset, length) of the server name in a ClientHello record, or None."""
    try:
        pos = 5 + 4 + 2 + 32
        pos += 1 + record[pos]
        pos += 2 + struct.unpack_from("!H", record, pos)[0]
        pos += 1 + record[pos]
        end = pos + 2 + struct.unpack_from("!H", record, pos)[0]
        pos += 2
        while pos + 4 <= end:
            kind, size = struct.unpack_from("!HH", record, pos)
            if kind == 0:                        # server_name: list len, type, name len, name
                return pos + 4 + 5, struct.unpack_from("!H", record, pos + 7)[0]
            pos += 4 + size
    except (IndexError, struct.error):
        pass
    return None


def split_records(record: bytes, size: int) -> bytes:
    """The handshake inside `record` re-framed as several TLS records of ≤ `size` bytes."""
    body, head = record[5:], record[:3]
    return b"".join(head + struct.pack("!H", len(body[i:i + size])) + body[i:i + size]
                    for i in range(0, len(body), size))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="tls_hello", description=__doc__.splitlines()[0])
    p.add_argument("host")
    p.add_argument("--port", type=int, default=443)
    p.add_argument("--sni")
    p.add_argument("--split", type=int, default=0, help="split into 2 TCP segments after N bytes")
    p.add_argument("--records", type=int, default=0, help="TLS records of at most N bytes")
    p.add_argument("--add-ext", type=lambda v: int(v, 0), help="extension type to add")
    p.add_argument("--pad", type=int, default=0, help="add a padding extension of N bytes")
    p.add_argument("--fake", choices=FAKES, help="send a fake with a wrong checksum first")
    p.add_argument("--ttl", type=int, default=0, help="IP TTL of the hello and what follows")
    p.add_argument("--timeout", type=float, default=5.0)
    p.add_argument("--sport", type=int, default=0,
                   help="connect from this local port (default: the kernel's choice)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="say the local address and port of the connection (stderr)")
    p.add_argument("-6", dest="ipv6", action="store_true", help="over IPv6 (HOST's AAAA)")
    a = p.parse_args(argv)
    if a.ipv6 and a.fake == "badipsum":
        p.error("-6: IPv6 has no header checksum to spoil (badipsum is an IPv4 fake)")
    family = socket.AF_INET6 if a.ipv6 else socket.AF_INET
    sni = a.sni or a.host
    obj, incoming, outgoing, hello = client_hello(sni)
    changed = sni.lower() != a.host.lower()       # another site's name: no verified handshake
    if a.add_ext is not None:
        hello, changed = add_extension(hello, a.add_ext, b"\x00" * 16), True
    if a.pad:
        hello, changed = add_extension(hello, 21, b"\x00" * a.pad), True
    if a.records:
        hello, changed = split_records(hello, a.records), True
    deadline = time.monotonic() + a.timeout
    try:
        addr = socket.getaddrinfo(a.host, a.port, family, socket.SOCK_STREAM)[0][4]
    except socket.gaierror as e:
        print(f"tls_hello: could not resolve {a.host}: {e}", file=sys.stderr)
        return NOT_RESOLVED
    try:
        if a.fake:
            conn = Connection(addr[0], addr[1], a.timeout)
            conn.send_fake(a.fake)
            conn.raw.close()
            sock = conn.sock
        else:
            sock = socket.create_connection(addr[:2], timeout=a.timeout,
                                            source_address=("", a.sport) if a.sport else None)
    except ConnectionRefusedError:
        print("tls_hello: connection refused", file=sys.stderr)
        return REFUSED
    except (socket.timeout, TimeoutError):
        print("tls_hello: connect timed out", file=sys.stderr)
        return TIMEOUT
    except PermissionError:
        print("tls_hello: --fake needs root (it sends through a raw socket)", file=sys.stderr)
        return 1
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if a.verbose:
        local = sock.getsockname()
        print(f"tls_hello: connected from {local[0]}:{local[1]}", file=sys.stderr, flush=True)
    if a.ttl and sock.family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, a.ttl)
    elif a.ttl:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, a.ttl)
    try:
        if a.split and 0 < a.split < len(hello):
            sock.send(hello[:a.split])
            _wait_sent(sock, deadline)   # two segments on the wire, as split-hello evasions
            sock.send(hello[a.split:])   # send them
        else:
            sock.sendall(hello)
        return _finish(sock, obj, incoming, outgoing, changed, deadline)
    except (ConnectionResetError, BrokenPipeError):
        print("tls_hello: connection reset by peer", file=sys.stderr)
        return RESET
    except (socket.timeout, TimeoutError):
        print("tls_hello: handshake timed out", file=sys.stderr)
        return TIMEOUT
    finally:
        sock.close()


def _wait_sent(sock, deadline: float) -> None:
    """Until the kernel has put everything written so far on the wire (the socket's not-sent
    byte count, SIOCOUTQNSD, is 0): the next write then starts a segment of its own. Past the
    deadline it goes on: the handshake's own wait then reports the time-out."""
    unsent = struct.pack("i", 0)
    try:
        wait_until(lambda: struct.unpack("i", fcntl.ioctl(sock.fileno(), SIOCOUTQNSD,
                                                          unsent))[0] == 0,
                   max(0.0, deadline - time.monotonic()), "the first part on the wire",
                   interval=0.001)
    except Timeout:
        pass


def _finish(sock, obj, incoming, outgoing, changed: bool, deadline: float) -> int:
    while True:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        data = sock.recv(65536)
        if not data:
            print("tls_hello: connection closed by peer during handshake", file=sys.stderr)
            return RESET
        if changed:   # the hello was edited: a ServerHello back is all we can expect
            if data[:1] == b"\x16":
                print("tls_hello: ServerHello received")
                return 0
            print("tls_hello: unexpected answer to the ClientHello", file=sys.stderr)
            return RESET
        incoming.write(data)
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pending = outgoing.read()
            if pending:
                sock.sendall(pending)
            continue
        except ssl.SSLError as e:
            print(f"tls_hello: TLS error: {e}", file=sys.stderr)
            return RESET
        sock.sendall(outgoing.read())
        print(f"tls_hello: handshake complete, {obj.version()}, verified")
        _close_cleanly(sock)
        return 0


def _close_cleanly(sock) -> None:
    """Close with a FIN, not a RST: read what the server still sends (TLS 1.3 session tickets)
    until it closes too. Closing with unread data would reset the connection, leave no
    TIME_WAIT, and let the next connection reuse this source port at once."""
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(0.5)
        while sock.recv(65536):
            pass
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main())
