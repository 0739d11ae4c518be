"""The prober's HTTP steps, run inside a lab host: a small HTTP/1.1 client (GET, redirects,
a capped body) recorded as OONI's `requests`, and the throughput step (`x_throughput`): many
keep-alive requests pipelined down one connection, read while written, timed."""
from __future__ import annotations

import re
import select
import ssl
import time
from urllib.parse import urljoin, urlsplit

from lab.probe import failures
from lab.probe.netsteps import (Clock, addresses_of, close_quietly, connect, handshake, is_ip,
                                resolve)
from lab.truth.schemes import WEB_PORTS

USER_AGENT = "blocklab-probe/1 (OONI Web Connectivity steps)"
MAX_PIPELINE = 900          # keep-alive requests on one connection (nginx allows 1000)
MAX_REDIRECTS = 5
ROUNDS = 3                  # transfers in the throughput step


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


class Reader:
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


def read_response(reader: Reader, body_cap: int) -> Response:
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
        resp = read_response(Reader(conn, start + timeout), body_cap)
        return resp, time.monotonic() - start
    finally:
        close_quietly(conn)


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
        first_failure, addrs = None, [host] if is_ip(host) else []
        if not addrs and resolver:
            q = resolve(host, resolver, timeout, clock)
            addrs, first_failure = addresses_of(q), q["failure"]
    return chain, resp, (ip if resp is not None else None), secs


# --- throughput ------------------------------------------------------------------------------

def throughput_step(url: str, ip: str, first: Response, first_secs: float, bulk: int,
                    timeout: float, clock: Clock, rounds: int = ROUNDS) -> dict:
    """Move about `bulk` bytes down a connection, `rounds` times (a new connection each, for
    timeout/rounds seconds at most): how fast, and whether the bytes stopped coming. Rounds,
    because one transfer of a few hundred KB lasts tens of milliseconds, and a busy machine
    can pause a process for longer than that; a throttle slows every round."""
    p = urlsplit(url)
    rec = {"address": f"{ip}:{p.port or WEB_PORTS[p.scheme]}", "target_bytes": bulk,
           "deadline": round(timeout / rounds, 3), "rounds": [], "t": clock()}
    if first.raw_bytes >= bulk:                  # the GET itself was a big transfer
        rec["deadline"] = timeout
        rec["rounds"] = [{"bytes": first.raw_bytes, "seconds": round(first_secs, 6),
                          "rate_bps": _rate(first.raw_bytes, first_secs), "complete": True,
                          "idle_at_end": 0.0, "requests": 0, "failure": None}]
        return rec
    count = min(MAX_PIPELINE, -(-bulk // max(first.raw_bytes, 64)))
    data = request_bytes(url, keep_alive=True) * (count - 1) + request_bytes(url)
    for _ in range(rounds):
        rec["rounds"].append(_round(url, ip, data, count, bulk, timeout, timeout / rounds))
    return rec


def _round(url: str, ip: str, data: bytes, count: int, bulk: int, timeout: float,
           deadline: float) -> dict:
    out = {"bytes": 0, "seconds": 0.0, "rate_bps": None, "complete": False,
           "idle_at_end": 0.0, "requests": count, "failure": None}
    try:
        conn = _open(url, ip, timeout)
    except (OSError, ssl.SSLError) as e:
        out["failure"] = failures.of_exception(e)
        return out
    start = time.monotonic()
    got, last = 0, start
    try:
        got, last, out["complete"] = pump(conn, data, bulk, start + deadline)
    except _Stopped as e:
        got, last = e.got, e.last
        out["failure"] = failures.of_exception(e.cause)
    finally:
        close_quietly(conn)
    end = time.monotonic()
    out.update(bytes=got, seconds=round((last if out["complete"] else end) - start, 6),
               idle_at_end=round(end - last, 6))
    out["rate_bps"] = _rate(got, out["seconds"])
    return out


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
