"""The in-host measurement's pure parts: OONI failure strings, DNS and HTTP parsing, the
throughput pump, and a whole measurement against servers on 127.0.0.1 (no root, no lab)."""
from __future__ import annotations

import errno
import socket
import ssl
import struct
import threading
import time

import pytest

from lab.probe import failures as F
from lab.probe import measure as M
from lab.probe import netsteps as N
from lab.probe import web as W


@pytest.mark.parametrize("exc,want", [
    (socket.timeout("timed out"), F.TIMEOUT),
    (TimeoutError(), F.TIMEOUT),
    (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), F.REFUSED),
    (ConnectionResetError(errno.ECONNRESET, "reset"), F.RESET),
    (OSError(errno.ENETUNREACH, "Network is unreachable"), F.NETWORK_UNREACHABLE),
    (OSError(errno.EHOSTUNREACH, "No route to host"), F.HOST_UNREACHABLE),
    (ssl.SSLEOFError(8, "EOF occurred in violation of protocol"), F.EOF),
    (EOFError("closed"), F.EOF),
    (ssl.SSLError(1, "wrong version number"), F.SSL_FAILED_HANDSHAKE),
], ids=lambda x: type(x).__name__ if isinstance(x, BaseException) else x)
def test_failure_strings(exc, want):
    assert F.of_exception(exc) == want


def test_certificate_failures():
    e = ssl.SSLCertVerificationError(1, "certificate verify failed")
    e.verify_code, e.verify_message = 62, "Hostname mismatch"
    assert F.of_exception(e) == F.SSL_INVALID_HOSTNAME
    e.verify_code = 20
    assert F.of_exception(e) == F.SSL_UNKNOWN_AUTHORITY
    e.verify_code = 10
    assert F.of_exception(e) == F.SSL_INVALID_CERTIFICATE
    assert F.of_exception(ValueError("x")).startswith("unknown_failure: ")


def test_probe_exit_codes():
    assert F.of_probe(28, "STUN timed out after 3s") == F.TIMEOUT
    assert F.of_probe(7, "connection refused (ICMP port unreachable)") == F.REFUSED
    assert F.of_probe(35, "QUIC handshake failed: connection reset") == F.RESET
    assert F.of_probe(7, "Network is unreachable (1.2.3.4:3478)") == F.NETWORK_UNREACHABLE


def _answer(qid: int, rcode: int, ips: list[str]) -> bytes:
    q = N._dns_query("www.example.com", qid)
    head = struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1, len(ips), 0, 0)
    body = q[12:]
    for ip in ips:
        body += b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 30, 4) + socket.inet_aton(ip)
    return head + body


def test_dns_answer_parsing():
    assert N.parse_dns_answer(_answer(7, 0, ["198.19.0.10", "198.19.0.11"])) == \
        (0, [("198.19.0.10", 30), ("198.19.0.11", 30)])
    assert N.parse_dns_answer(_answer(7, 3, [])) == (3, [])


class _Resolver:
    """A UDP DNS server on 127.0.0.1 that answers with a given rcode and addresses."""

    def __init__(self, rcode=0, ips=("198.19.0.10",), silent=False):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.rcode, self.ips, self.silent = rcode, list(ips), silent
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                msg, peer = self.sock.recvfrom(512)
            except OSError:
                return
            if not self.silent:
                qid = struct.unpack_from("!H", msg)[0]
                self.sock.sendto(_answer(qid, self.rcode, self.ips), peer)


@pytest.mark.parametrize("rcode,ips,silent,failure", [
    (0, ["198.19.0.10"], False, None),
    (3, [], False, F.DNS_NXDOMAIN),
    (2, [], False, F.DNS_SERVFAIL),
    (5, [], False, F.DNS_REFUSED),
    (0, [], False, F.DNS_NO_ANSWER),
    (0, [], True, F.TIMEOUT),
])
def test_resolve(monkeypatch, rcode, ips, silent, failure):
    server = _Resolver(rcode, ips, silent)
    port = server.sock.getsockname()[1]
    real = socket.socket.connect
    monkeypatch.setattr(socket.socket, "connect",
                        lambda self, addr: real(self, (addr[0], port) if addr[1] == 53 else addr))
    q = N.resolve("www.example.com", "127.0.0.1", 0.6, N.Clock())
    assert q["failure"] == failure
    assert N.addresses_of(q) == ips
    assert q["resolver_address"] == "127.0.0.1:53" and q["query_type"] == "A"


def _reader(data: bytes) -> W.Reader:
    a, b = socket.socketpair()
    b.sendall(data)
    b.close()
    return W.Reader(a, time.monotonic() + 2)


def test_http_response_parsing():
    r = W.read_response(_reader(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n"
                                b"Connection: close\r\n\r\nhello"), 1 << 20)
    assert (r.code, r.body, r.header("connection")) == (403, b"hello", "close")
    r = W.read_response(_reader(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"), 1 << 20)
    assert r.body == b"abcde"
    r = W.read_response(_reader(b"HTTP/1.1 200 OK\r\n\r\n<title> A  page </title>"), 1 << 20)
    assert W.title_of(r.body.decode()) == "A page" and not r.truncated
    r = W.read_response(_reader(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 100),
                        10)
    assert r.body == b"x" * 10 and r.truncated
    with pytest.raises(EOFError):
        W.read_response(_reader(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"), 1000)


def test_pump_reads_while_writing_to_a_peer_that_stops_reading():
    a, b = socket.socketpair()
    b.sendall(b"x" * 1000)       # the peer answers once, then reads nothing more
    with pytest.raises(W._Stopped) as e:
        W.pump(a, b"y" * (8 << 20), 10 ** 9, time.monotonic() + 0.5)
    assert e.value.got == 1000 and F.of_exception(e.value.cause) == F.TIMEOUT
    b.close()
    a.close()
    a, b = socket.socketpair()
    b.sendall(b"z" * 5000)
    b.close()
    progress = []
    got, _last, complete = W.pump(a, b"req", 10 ** 9, time.monotonic() + 2, progress)
    assert (got, complete) == (5000, True) and progress[-1][1] == 5000


class _Web:
    """An HTTP server on 127.0.0.1 (keep-alive, pipelining) for whole measurements."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        body = b"<title>local page</title>hello"
        buf = b""
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
                while b"\r\n\r\n" in buf:
                    head, _, buf = buf.partition(b"\r\n\r\n")
                    close = b"Connection: close" in head
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                                 b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
                    if close:
                        return


def test_whole_web_measurement_on_localhost():
    web = _Web()
    m = M.measure(f"http://127.0.0.1:{web.port}/", "127.0.0.1", timeout=2, bulk=20_000)
    assert m["kind"] == "web" and m["addrs"] == ["127.0.0.1"] and m["queries"] == []
    assert m["tcp_connect"][0]["status"]["success"]
    req = m["requests"][0]
    assert req["failure"] is None and req["response"]["code"] == 200
    assert req["response"]["x_title"] == "local page"
    thr = m["x_throughput"]
    assert len(thr["rounds"]) == 3 and thr["deadline"] == pytest.approx(2 / 3, abs=1e-3)
    for r in thr["rounds"]:
        assert r["complete"] and r["failure"] is None and r["bytes"] >= 20_000


def test_connect_refused_on_localhost():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    m = M.measure(f"http://127.0.0.1:{port}/", "127.0.0.1", timeout=1)
    assert m["tcp_connect"][0]["status"]["failure"] == F.REFUSED
    assert m["requests"][0]["failure"] == F.REFUSED and m["x_throughput"] is None


def _ssh_server(kexinit: bool) -> int:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def serve():
        conn, _ = srv.accept()
        with conn:
            conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
            conn.recv(100)
            if kexinit:
                conn.sendall(struct.pack("!IBB", 100, 4, 20) + b"\0" * 99)
            time.sleep(1.5)
    threading.Thread(target=serve, daemon=True).start()
    return srv.getsockname()[1]


def test_ssh_reachability_waits_for_kexinit():
    port = _ssh_server(kexinit=True)
    rec = M.reach_step(f"ssh://127.0.0.1:{port}", "127.0.0.1", 1.0, N.Clock())
    assert rec["failure"] is None and rec["said"] == "SSH-2.0-OpenSSH_9.2, KEXINIT"
    port = _ssh_server(kexinit=False)            # our banner was dropped: no KEXINIT comes
    rec = M.reach_step(f"ssh://127.0.0.1:{port}", "127.0.0.1", 0.5, N.Clock())
    assert rec["failure"] == F.TIMEOUT


def test_kinds():
    assert M.kind_of("https://x.org/") == "web" and M.kind_of("x.org") == "dns"
    assert M.kind_of("stun://x.org:3478") == "stun" and M.kind_of("gopher://x") == "unknown"
