"""The prober's measurement steps, run inside a lab host on that host's own network stack.

    python -m lab.probe.measure URL... [--resolver IP] [--timeout S] [--no-throughput]

prints one JSON object per URL (JSONL): the raw observations, in OONI's shapes, that
lab/probe/classify.py turns into an OONI Web Connectivity measurement. Nothing here judges.

For http:// and https:// (OONI Web Connectivity's steps):
1. DNS: one A query over UDP to the resolver (default: /etc/resolv.conf's), the first answer
   taken, as a stub resolver does (an injected answer wins its race);
2. TCP connect to every address, and for https a TLS handshake with SNI on that connection
   (verifying the certificate against the host's trust store: the lab CA);
3. HTTP GET (HTTP/1.1, redirects followed up to 5 hops) on a fresh connection; the body is read
   up to --body-cap bytes;
4. `x_throughput`: a transfer of --bulk bytes over one more connection (the URL again, or many
   keep-alive requests for it pipelined when it is small) that shows a throttle or a flow that
   freezes after its first bytes — an extension; OONI has no such step.

For a bare domain: DNS only. For `tcp://H:P`, `ssh://H[:P]` (TCP connect, SSH banner),
`stun://`, `udp://` and `quic://` (the lab.clients probes): DNS, then one reachability check
(`x_reachability`). Failures are OONI's strings (lab/probe/failures.py).
"""
from __future__ import annotations

import argparse
import base64
import ipaddress
import json
import random
import re
import select
import socket
import ssl
import struct
import sys
import time
from urllib.parse import urljoin, urlsplit

from lab.probe import failures

USER_AGENT = "blocklab-probe/1 (OONI Web Connectivity steps)"
BODY_CAP = 1 << 20
BULK = 384 * 1024
MAX_PIPELINE = 900
MAX_REDIRECTS = 5
WEB_PORTS = {"http": 80, "https": 443}
REACH_PORTS = {"tcp": None, "ssh": 22, "stun": 3478, "udp": None, "quic": 443}


class Clock:
    """Seconds since the measurement started (OONI's `t`)."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def __call__(self) -> float:
        return round(time.monotonic() - self.start, 6)


# --- DNS ------------------------------------------------------------------------------------

def _dns_query(name: str, qid: int) -> bytes:
    labels = b"".join(bytes([len(p)]) + p.encode("idna") for p in name.rstrip(".").split("."))
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + labels + b"\0" + \
        struct.pack("!HH", 1, 1)


def _skip_name(msg: bytes, pos: int) -> int:
    while pos < len(msg):
        n = msg[pos]
        if n == 0:
            return pos + 1
        if n & 0xC0 == 0xC0:
            return pos + 2
        pos += 1 + n
    raise ValueError("truncated name")


def parse_dns_answer(msg: bytes) -> tuple[int, list[tuple[str, int]]]:
    """(rcode, [(ipv4, ttl)]) of a DNS response."""
    rcode = msg[3] & 0x0F
    qd, an = struct.unpack_from("!HH", msg, 4)
    pos = 12
    for _ in range(qd):
        pos = _skip_name(msg, pos) + 4
    out = []
    for _ in range(an):
        pos = _skip_name(msg, pos)
        rtype, _cls, ttl, rdlen = struct.unpack_from("!HHIH", msg, pos)
        pos += 10
        if rtype == 1 and rdlen == 4:
            out.append((socket.inet_ntoa(msg[pos:pos + 4]), ttl))
        pos += rdlen
    return rcode, out


def system_resolver() -> str:
    try:
        with open("/etc/resolv.conf") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[0] == "nameserver":
                    return parts[1]
    except OSError:
        pass
    return "127.0.0.1"


def resolve(name: str, resolver: str, timeout: float, clock: Clock) -> dict:
    """One A lookup over UDP: OONI's `queries` entry plus `addrs` and `failure`."""
    entry = {"answers": [], "engine": "udp", "failure": None, "hostname": name,
             "query_type": "A", "resolver_address": f"{resolver}:53",
             "resolver_hostname": None, "resolver_port": None, "t": clock()}
    qid = random.randrange(1, 0xFFFF)
    query = _dns_query(name, qid)
    deadline = time.monotonic() + timeout
    resend = time.monotonic()
    rcode, answers = None, []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect((resolver, 53))
            while True:
                now = time.monotonic()
                if now >= deadline:
                    raise TimeoutError("dns lookup timed out")
                if now >= resend:              # a stub resolver's retry, on the same socket
                    s.send(query)
                    resend = now + max(timeout / 2, 0.5)
                s.settimeout(max(0.001, min(resend, deadline) - now))
                try:
                    msg = s.recv(4096)
                except (socket.timeout, TimeoutError):
                    continue
                if len(msg) < 12 or struct.unpack_from("!H", msg)[0] != qid:
                    continue
                try:
                    rcode, answers = parse_dns_answer(msg)
                except (ValueError, struct.error, IndexError):
                    continue
                break
    except OSError as e:
        entry["failure"] = failures.of_exception(e)
    if rcode is not None:
        if rcode in failures.RCODE_FAILURES:
            entry["failure"] = failures.RCODE_FAILURES[rcode]
        elif rcode != 0:
            entry["failure"] = failures.DNS_MISBEHAVING
        elif not answers:
            entry["failure"] = failures.DNS_NO_ANSWER
        entry["answers"] = [{"answer_type": "A", "ipv4": ip, "ttl": ttl} for ip, ttl in answers]
        entry["x_rcode"] = rcode
    entry["x_runtime"] = round(clock() - entry["t"], 6)
    return entry


def addresses_of(entry: dict) -> list[str]:
    seen: list[str] = []
    for a in entry["answers"]:
        if a.get("ipv4") and a["ipv4"] not in seen:
            seen.append(a["ipv4"])
    return seen


# --- TCP and TLS ----------------------------------------------------------------------------

def tls_context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def connect(ip: str, port: int, timeout: float) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((ip, port))
    except BaseException:
        sock.close()
        raise
    return sock


def handshake(sock: socket.socket, server_name: str, timeout: float) -> ssl.SSLSocket:
    sock.settimeout(timeout)
    tls = tls_context().wrap_socket(sock, server_hostname=server_name,
                                    do_handshake_on_connect=False)
    tls.do_handshake()
    return tls


def tls_record(address: str, server_name: str, clock: Clock, t: float,
               tls: ssl.SSLSocket | None, failure: str | None) -> dict:
    rec = {"address": address, "cipher_suite": None, "failure": failure,
           "negotiated_protocol": None, "no_tls_verify": False, "peer_certificates": [],
           "server_name": server_name, "t": t, "tags": [], "tls_version": None,
           "x_runtime": round(clock() - t, 6)}
    if tls is not None:
        cipher = tls.cipher()
        rec["cipher_suite"] = cipher[0] if cipher else None
        rec["tls_version"] = tls.version()
        rec["negotiated_protocol"] = tls.selected_alpn_protocol()
        der = tls.getpeercert(binary_form=True)
        if der:
            rec["peer_certificates"] = [{"data": base64.b64encode(der).decode(),
                                         "format": "base64"}]
    return rec


def connect_step(addrs: list[str], port: int, host: str, https: bool, timeout: float,
                 clock: Clock) -> tuple[list[dict], list[dict]]:
    """TCP connect to every address (and a TLS handshake on it for https)."""
    tcp, tls = [], []
    for ip in addrs:
        t = clock()
        try:
            sock = connect(ip, port, timeout)
        except OSError as e:
            tcp.append(_tcp_record(ip, port, t, failures.of_exception(e)))
            continue
        tcp.append(_tcp_record(ip, port, t, None))
        if not https:
            sock.close()
            continue
        t = clock()
        try:
            conn = handshake(sock, host, timeout)
        except (OSError, ssl.SSLError) as e:
            sock.close()
            tls.append(tls_record(f"{ip}:{port}", host, clock, t, None,
                                  failures.of_exception(e)))
            continue
        tls.append(tls_record(f"{ip}:{port}", host, clock, t, conn, None))
        _close(conn)
    return tcp, tls


def _tcp_record(ip: str, port: int, t: float, failure: str | None) -> dict:
    return {"ip": ip, "port": port, "status": {"blocked": None, "failure": failure,
                                               "success": failure is None}, "t": t}


def _close(sock) -> None:
    try:
        sock.close()
    except OSError:
        pass


# --- HTTP -----------------------------------------------------------------------------------

class Response:
    def __init__(self) -> None:
        self.code = 0
        self.reason = ""
        self.headers: list[tuple[str, str]] = []
        self.body = b""
        self.truncated = False
        self.raw_bytes = 0          # bytes read from the wire (headers and body)

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


class _Reader:
    def __init__(self, sock, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline
        self.buf = b""
        self.eof = False
        self.total = 0

    def fill(self) -> bool:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("read timed out")
        self.sock.settimeout(left)
        data = self.sock.recv(65536)
        if not data:
            self.eof = True
            return False
        self.buf += data
        self.total += len(data)
        return True

    def until(self, marker: bytes, limit: int = 65536) -> bytes:
        while marker not in self.buf:
            if len(self.buf) > limit:
                raise ValueError("header too long")
            if not self.fill():
                raise EOFError("connection closed before the response headers")
        head, _, self.buf = self.buf.partition(marker)
        return head

    def take(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self.fill():
                raise EOFError("connection closed in the middle of the body")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def read_response(reader: _Reader, body_cap: int) -> Response:
    resp = Response()
    head = reader.until(b"\r\n\r\n").decode("iso-8859-1")
    lines = head.split("\r\n")
    m = re.match(r"HTTP/\d(?:\.\d)?\s+(\d{3})\s*(.*)", lines[0])
    if not m:
        raise ValueError(f"not an HTTP response: {lines[0][:60]!r}")
    resp.code, resp.reason = int(m.group(1)), m.group(2)
    for line in lines[1:]:
        k, sep, v = line.partition(":")
        if sep:
            resp.headers.append((k.strip(), v.strip()))
    body = bytearray()
    length = resp.header("content-length")
    if resp.code in (204, 304) or 100 <= resp.code < 200:
        pass
    elif (resp.header("transfer-encoding") or "").lower() == "chunked":
        while True:
            size = int(reader.until(b"\r\n").split(b";")[0].strip() or b"0", 16)
            if size == 0:
                reader.until(b"\r\n")
                break
            body += reader.take(size)
            reader.take(2)
            if len(body) >= body_cap:
                resp.truncated = True
                break
    elif length is not None and length.isdigit():
        n = int(length)
        want = min(n, body_cap)
        body += reader.take(want)
        resp.truncated = want < n
    else:
        while len(reader.buf) < body_cap and reader.fill():
            pass
        body += reader.buf[:body_cap]
        reader.buf = reader.buf[body_cap:]
        resp.truncated = not reader.eof
    resp.body = bytes(body[:body_cap])
    resp.raw_bytes = reader.total - len(reader.buf)
    return resp


def request_bytes(url: str, keep_alive: bool = False) -> bytes:
    p = urlsplit(url)
    path = (p.path or "/") + (f"?{p.query}" if p.query else "")
    return (f"GET {path} HTTP/1.1\r\nHost: {p.netloc}\r\nUser-Agent: {USER_AGENT}\r\n"
            f"Accept: */*\r\nConnection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
            ).encode()


def _open(url: str, ip: str, timeout: float):
    p = urlsplit(url)
    https = p.scheme == "https"
    sock = connect(ip, p.port or WEB_PORTS[p.scheme], timeout)
    if not https:
        return sock
    try:
        return handshake(sock, p.hostname, timeout)
    except BaseException:
        sock.close()
        raise


def http_get(url: str, ip: str, timeout: float, body_cap: int) -> tuple[Response, float]:
    """GET `url` from `ip` on a new connection: (response, seconds from request to end)."""
    conn = _open(url, ip, timeout)
    try:
        start = time.monotonic()
        conn.settimeout(timeout)
        conn.sendall(request_bytes(url))
        resp = read_response(_Reader(conn, start + timeout), body_cap)
        return resp, time.monotonic() - start
    finally:
        _close(conn)


def request_record(url: str, ip: str | None, t: float, resp: Response | None,
                   failure: str | None, clock: Clock) -> dict:
    p = urlsplit(url)
    rec = {"failure": failure,
           "request": {"body": "", "body_is_truncated": False,
                       "headers": {"Host": p.netloc, "User-Agent": USER_AGENT, "Accept": "*/*"},
                       "method": "GET", "tor": {"exit_ip": None, "exit_name": None,
                                                "is_tor": False},
                       "transport": "tcp", "url": url,
                       "x_address": f"{ip}:{p.port or WEB_PORTS[p.scheme]}" if ip else None},
           "response": {"body": None, "body_is_truncated": False, "code": 0, "headers": {},
                        "headers_list": []},
           "t": t, "x_runtime": round(clock() - t, 6)}
    if resp is not None:
        text = resp.body.decode("utf-8", "replace")
        rec["response"] = {"body": text[:8192], "body_is_truncated": resp.truncated,
                           "code": resp.code, "headers": {k: v for k, v in resp.headers},
                           "headers_list": [[k, v] for k, v in resp.headers],
                           "x_body_length": len(resp.body), "x_title": title_of(text)}
    return rec


def title_of(body: str) -> str:
    m = re.search(r"(?is)<title[^>]*>(.*?)</title>", body[:1 << 20])
    return " ".join(m.group(1).split()) if m else ""


def http_step(url: str, addrs: list[str], first_failure: str | None, timeout: float,
              body_cap: int, clock: Clock, resolver: str | None
              ) -> tuple[list[dict], Response | None, str | None, float]:
    """The GET with its redirects; OONI's `requests` (the last request first)."""
    chain: list[dict] = []
    resp, ip, secs = None, None, 0.0
    for _hop in range(MAX_REDIRECTS + 1):
        t = clock()
        failure, resp = first_failure, None
        if failure is None and not addrs:
            failure = "unknown_failure: no address to connect to"
        if failure is None:
            for ip in addrs:
                try:
                    resp, secs = http_get(url, ip, timeout, body_cap)
                    failure = None
                    break
                except (OSError, ssl.SSLError, ValueError, EOFError) as e:
                    failure = failures.of_exception(e)
        chain.insert(0, request_record(url, ip if addrs else None, t, resp, failure, clock))
        if resp is None or resp.code not in (301, 302, 303, 307, 308) \
                or not resp.header("location"):
            break
        url = urljoin(url, resp.header("location"))
        host = urlsplit(url).hostname or ""
        first_failure, addrs = None, [host] if _is_ip(host) else []
        if not addrs and resolver:
            q = resolve(host, resolver, timeout, clock)
            addrs, first_failure = addresses_of(q), q["failure"]
    return chain, resp, (ip if resp is not None else None), secs


# --- throughput ------------------------------------------------------------------------------

def throughput_step(url: str, ip: str, first: Response, first_secs: float, bulk: int,
                    timeout: float, clock: Clock) -> dict:
    """Move `bulk` bytes down one connection; how fast, and whether they stopped coming."""
    rec = {"address": f"{ip}:{urlsplit(url).port or WEB_PORTS[urlsplit(url).scheme]}",
           "target_bytes": bulk, "bytes": 0, "seconds": 0.0, "rate_bps": None,
           "sustained_rate_bps": None, "complete": False, "idle_at_end": 0.0, "requests": 1,
           "failure": None, "t": clock()}
    if first.raw_bytes >= bulk:                  # the GET itself was a big transfer
        rec.update(bytes=first.raw_bytes, seconds=round(first_secs, 6), complete=True,
                   requests=0)
        rec["rate_bps"] = rec["sustained_rate_bps"] = _rate(first.raw_bytes, first_secs)
        return rec
    per = max(first.raw_bytes, 64)
    count = min(MAX_PIPELINE, -(-bulk // per))
    rec["requests"] = count
    try:
        conn = _open(url, ip, timeout)
    except (OSError, ssl.SSLError) as e:
        rec["failure"] = failures.of_exception(e)
        return rec
    start = time.monotonic()
    data = request_bytes(url, keep_alive=True) * (count - 1) + request_bytes(url)
    got, last, progress = 0, start, []
    try:
        got, last, rec["complete"] = pump(conn, data, bulk, start + timeout, progress)
    except _Stopped as e:
        got, last = e.got, e.last
        rec["failure"] = failures.of_exception(e.cause)
    finally:
        _close(conn)
    end = time.monotonic()
    rec.update(bytes=got, seconds=round((last if rec["complete"] else end) - start, 6),
               idle_at_end=round(end - last, 6))
    rec["rate_bps"] = _rate(got, rec["seconds"])
    rec["sustained_rate_bps"] = sustained_rate(progress)
    return rec


def sustained_rate(progress: list[tuple[float, int]]) -> float | None:
    """The rate over the second half of the bytes: past a policer's burst, its real rate."""
    if len(progress) < 2:
        return None
    total = progress[-1][1]
    t_half, got_half = next((t, g) for t, g in progress if g >= total / 2)
    if progress[-1][0] <= t_half:
        return None
    return _rate(total - got_half, progress[-1][0] - t_half)


class _Stopped(Exception):
    def __init__(self, cause: BaseException, got: int, last: float) -> None:
        super().__init__(str(cause))
        self.cause, self.got, self.last = cause, got, last


def pump(conn, data: bytes, want: int, deadline: float, progress: list | None = None
         ) -> tuple[int, float, bool]:
    """Write `data` while reading, until `want` bytes came or the peer closed: (bytes read,
    time of the last byte, complete); `progress` gets (time, bytes so far) per read. Writing
    and reading together: a peer that stops reading (a censor that dropped the flow) must not
    leave us stuck in a write."""
    conn.setblocking(False)
    tls = isinstance(conn, ssl.SSLSocket)
    sent, got, last = 0, 0, time.monotonic()
    try:
        while got < want:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("transfer timed out")
            readable = tls and conn.pending() > 0
            if not readable:
                r, w, _x = select.select([conn], [conn] if sent < len(data) else [], [], left)
                readable = bool(r)
                if w:
                    try:
                        sent += conn.send(data[sent:sent + 16384])
                    except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
                        pass
                    except OSError:          # the peer closed its end: read what it sent
                        sent = len(data)
            if not readable:
                continue
            try:
                chunk = conn.recv(65536)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                continue
            if not chunk:
                return got, last, True          # every response came: all of it
            got += len(chunk)
            last = time.monotonic()
            if progress is not None:
                progress.append((last, got))
    except (OSError, ssl.SSLError) as e:
        raise _Stopped(e, got, last) from None
    return got, last, True


def _rate(nbytes: int, secs: float) -> float | None:
    return round(nbytes * 8 / secs, 1) if secs > 0 else None


# --- non-web targets ---------------------------------------------------------------------------

def reach_step(url: str, ip: str, timeout: float, clock: Clock) -> dict:
    """One reachability check of a non-web target at `ip` (its scheme's client)."""
    p = urlsplit(url)
    scheme = p.scheme.lower()
    port = p.port or REACH_PORTS.get(scheme)
    rec = {"probe": scheme, "address": f"{ip}:{port}", "failure": None, "said": "",
           "t": clock()}
    try:
        if port is None:
            raise _ProbeFailure(f"unknown_failure: no port in {url}")
        if scheme in ("tcp", "ssh"):
            sock = connect(ip, port, timeout)
            try:
                if scheme == "ssh":
                    banner = _Reader(sock, time.monotonic() + timeout).until(b"\n", 255)
                    if not banner.startswith(b"SSH-"):
                        raise _ProbeFailure("unknown_failure: not an SSH banner")
                    rec["said"] = banner.decode("ascii", "replace").strip()
                else:
                    rec["said"] = "connected"
            finally:
                _close(sock)
        else:
            rec["said"] = _lab_probe(scheme, url, ip, port, timeout)
    except _ProbeFailure as e:
        rec["failure"] = str(e)
    except (OSError, ssl.SSLError, ValueError, EOFError) as e:
        rec["failure"] = failures.of_exception(e)
    rec["x_runtime"] = round(clock() - rec["t"], 6)
    return rec


class _ProbeFailure(Exception):
    pass


def _lab_probe(scheme: str, url: str, ip: str, port: int, timeout: float) -> str:
    """stun, udp and quic through lab.clients' probes, aimed at `ip` (no second lookup)."""
    from lab.clients.probe import ProbeError
    try:
        if scheme == "stun":
            from lab.clients import stun_probe
            return stun_probe.main([f"{ip}:{port}", "--max-time", str(timeout)])
        if scheme == "udp":
            from lab.clients import udp_probe
            return udp_probe.main([f"{ip}:{port}", "--max-time", str(timeout)])
        if scheme == "quic":
            import asyncio
            from lab.clients import quic_probe
            p = urlsplit(url)
            quic_probe.resolve = lambda _host: ip      # the address this measurement found
            target = f"https://{p.netloc}{p.path or '/'}" + (f"?{p.query}" if p.query else "")
            said = asyncio.run(quic_probe.fetch(target, timeout, quic_probe.CAFILE))
            if not re.match(r"HTTP/3 [23]", said):
                raise _ProbeFailure(f"unknown_failure: {said}")
            return said
    except ProbeError as e:
        raise _ProbeFailure(failures.of_probe(e.code, str(e))) from None
    raise _ProbeFailure(f"unknown_failure: no probe for {scheme}://")


# --- one target -------------------------------------------------------------------------------

def _is_ip(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
        return True
    except ValueError:
        return False


def kind_of(url: str) -> str:
    if "://" not in url:
        return "dns"
    scheme = urlsplit(url).scheme.lower()
    if scheme in WEB_PORTS:
        return "web"
    if scheme in REACH_PORTS:
        return scheme
    return "unknown"


def measure(url: str, resolver: str, timeout: float = 3.0, body_cap: int = BODY_CAP,
            bulk: int | None = BULK) -> dict:
    """Every step for one target: the raw observations (lab/probe/classify.py reads them)."""
    clock = Clock()
    started = time.time()
    kind = kind_of(url)
    host = (urlsplit(url).hostname or "") if "://" in url else url.strip().rstrip(".")
    out = {"input": url, "kind": kind, "host": host, "resolver": resolver,
           "measurement_start_time": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(started)),
           "x_start": started, "queries": [], "dns_failure": None, "addrs": [],
           "tcp_connect": [], "tls_handshakes": [], "requests": [], "x_throughput": None,
           "x_reachability": [], "failure": None}
    if kind == "unknown":
        out["failure"] = f"unknown_failure: unsupported scheme in {url}"
        out["test_runtime"] = clock()
        return out
    if _is_ip(host):
        out["addrs"] = [host]
    else:
        q = resolve(host, resolver, timeout, clock)
        out["queries"].append(q)
        out["dns_failure"], out["addrs"] = q["failure"], addresses_of(q)
    if kind == "web":
        _web(out, url, timeout, body_cap, bulk, clock)
    elif kind != "dns" and out["addrs"]:
        out["x_reachability"] = [reach_step(url, out["addrs"][0], timeout, clock)]
    out["test_runtime"] = clock()
    return out


def _web(out: dict, url: str, timeout: float, body_cap: int, bulk: int | None,
         clock: Clock) -> None:
    p = urlsplit(url)
    https = p.scheme == "https"
    port = p.port or WEB_PORTS[p.scheme]
    addrs = out["addrs"]
    out["tcp_connect"], out["tls_handshakes"] = connect_step(addrs, port, p.hostname, https,
                                                             timeout, clock)
    ok = [c["ip"] for c in out["tcp_connect"] if c["status"]["success"]]
    first_failure = out["dns_failure"] if not addrs else None
    if addrs and not ok:
        # every connect failed: the GET's own connects would fail the same way (and, for a
        # drop, take as long again); OONI's request records that failure
        first_failure = out["tcp_connect"][0]["status"]["failure"]
    order = ok + [a for a in addrs if a not in ok]
    chain, resp, ip, secs = http_step(url, order, first_failure, timeout, body_cap, clock,
                                      out["resolver"])
    out["requests"] = chain
    if bulk and resp is not None and ip is not None:
        final = chain[0]["request"]["url"]
        out["x_throughput"] = throughput_step(final, ip, resp, secs, bulk, timeout, clock)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="lab.probe.measure", description=__doc__.splitlines()[0])
    p.add_argument("urls", nargs="+", metavar="URL")
    p.add_argument("--resolver", help="DNS server address (default: /etc/resolv.conf's)")
    p.add_argument("--timeout", type=float, default=3.0, help="per step, seconds (default 3)")
    p.add_argument("--body-cap", type=int, default=BODY_CAP)
    p.add_argument("--bulk", type=int, default=BULK, help="bytes for the throughput step")
    p.add_argument("--no-throughput", action="store_true")
    a = p.parse_args(argv)
    resolver = a.resolver or system_resolver()
    for url in a.urls:
        m = measure(url, resolver, a.timeout, a.body_cap, None if a.no_throughput else a.bulk)
        print(json.dumps(m), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
