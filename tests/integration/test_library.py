"""The scenario library, checked the way `blocklab run` checks it: with real clients.

Every bundled scenario (`lab.scenario.bundled()`) comes up, its timeline runs as under
`blocklab run`, and each `expect:` entry is fetched by a real client (lab.truth.observe); the test
fails on any entry that does not hold, and names it. A scenario without `expect:` entries is
still brought up and observed, and says so in a warning: nothing is skipped silently.

Some censorship no expect URL can trigger: a ClientHello carrying an ESNI extension, random
first bytes (Shadowsocks-like), a non-DNS/HTTP/TLS protocol on port 443. Those scenarios'
blocked cases are checked by TRIGGERS below, a table of client steps and the outcome each must
have, plus the censor events (rule, technique) that must be in the ground truth afterwards.
"""
from __future__ import annotations

import random
import sys
import time
import warnings

import pytest

from lab import scenario as scenarios
from lab.clients import ssh_args
from lab.run.lab import Lab
from lab.truth.observe import check_expectations, render_table
from lab.truth.timeline import TimelineRunner

BUNDLED = [name for name, _title in scenarios.bundled()]


def _longest_first(names: list[str]) -> list[str]:
    """Scenarios with the most expect entries first: under xdist the long labs start early
    and the workers finish together (a scenario that does not load sorts first and fails)."""
    def entries(name: str) -> int:
        try:
            return len(scenarios.load(name).expect)
        except scenarios.ScenarioError:
            return 1000
    return sorted(names, key=lambda n: -entries(n))


def _row(r) -> str:
    return (f"{r.client} -> {r.target}: expected {'blocked' if r.expected_blocked else 'open'}, "
            f"client saw {r.saw!r}, censor did {r.censor!r}")


@pytest.mark.parametrize("name", _longest_first(BUNDLED))
def test_every_expectation_holds(name):
    sc = scenarios.load(name)
    with Lab(sc) as lab:
        with TimelineRunner(lab) as timeline:
            rows = check_expectations(lab)
            if not timeline.done:     # as `blocklab run`: the last change, plus a round trip each
                left = timeline.last_at - (time.time() - lab.t0)
                timeline.wait_done(max(left, 0) + 10 + 6 * len(timeline.entries))
        applied = timeline.applied
    table = render_table(rows)
    assert rows, f"{name}: nothing was observed"
    if not sc.expect:
        warnings.warn(f"{name} has no expect: entries; only checked that it comes up and "
                      f"its servers answer as observed:\n{table}")
    failed = [_row(r) for r in rows if r.expected_blocked is not None and not r.holds]
    assert not failed, f"{name}: expectations that do not hold:\n" + "\n".join(failed) + \
        f"\n\n{table}"
    bad = [f"at {a.at:g}s {a.change}: {a.status} {a.error or ''}" for a in applied
           if a.status != "ok"]
    assert not bad, f"{name}: timeline entries not applied:\n" + "\n".join(bad)


# --- blocked cases that need a client no expect URL has ---------------------------------

# Sends bytes (hex) to HOST:PORT over IPv4 and waits for any answer or close: exit 0 when one
# comes, 28 (curl's timeout code) when nothing does within the time (the censor dropped it).
RAW_CLIENT = """
import socket, sys
host, port, payload = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
try:
    s = socket.create_connection((socket.gethostbyname(host), port), timeout=3)
    s.sendall(payload)
    s.recv(1)
except (socket.timeout, TimeoutError):
    sys.exit(28)
"""


def _fully_encrypted_first_packet(seed: int) -> bytes:
    """600 random-looking bytes, as a Shadowsocks client's first packet: no exemption of Wu et
    al. applies (the first bytes are not printable, and not a TLS or SSLv2 record header that
    would make the server wait for more; random bytes pass the popcount test)."""
    return b"\x01\x9c" + random.Random(seed).randbytes(598)


def _raw(host: str, port: int, payload: bytes) -> list[str]:
    return [sys.executable, "-c", RAW_CLIENT, host, str(port), payload.hex()]


def _tls_hello(*args: str) -> list[str]:
    return [sys.executable, "-m", "lab.clients.tls_hello", *args, "--timeout", "3"]


def _quic(url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "lab.clients.quic_probe", url, *args, "--max-time", "3"]


def _curl(url: str) -> list[str]:
    return ["curl", "-sS", "-o", "/dev/null", "--max-time", "3", url]


def _curl4(url: str) -> list[str]:
    """curl kept to IPv4: a penalty box holds the one address its trigger went to (the
    GFW's 3-tuple), so in a dual-stack lab an unpinned curl would reach the boxed server
    over IPv6. The triggers below go over IPv4 (tls_hello, RAW_CLIENT, udp_probe)."""
    return ["curl", "-4", "-sS", "-o", "/dev/null", "--max-time", "3", url]


def _udp(target: str) -> list[str]:
    return [sys.executable, "-m", "lab.clients.udp_probe", target, "--max-time", "3"]


def _ssh(host: str):
    """ssh running `true` (it needs the run's keys: argv made once the lab is up)."""
    return lambda lab: ["ssh", *ssh_args(lab), host, "true"]


def _dig(server: str, name: str) -> list[str]:
    """dig's own exit 9 (no answer) read as a timeout, 28."""
    return ["sh", "-c", f"dig +time=2 +tries=1 +short @{server} {name} | grep -q '^[0-9]' || exit 28"]


def _after(seconds: int, argv: list[str]) -> list[str]:
    return ["sh", "-c", f"sleep {seconds}; exec \"$@\"", "after", *argv]


# A WireGuard-shaped session against the VPS's UDP echo (no WireGuard tools are installed):
# a 148-byte handshake initiation (type 1), then DATA transport packets (type 4, 16-byte
# multiples) one at a time. Exit 0 when all DATA come back, 28 when the echo stops partway
# (the tunnel went silent after some), 1 when the handshake or the first DATA did not.
# The initiation's random part is seeded: about 1 in 200 random ones also parse as a DNS
# query (bytes 2-3 are zero: a standard query's flags), which the scenario's rule exempts.
WIREGUARD_CLIENT = """
import os, random, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.5)
s.connect((socket.gethostbyname(sys.argv[1]), 7))
def echoed(p):
    s.send(p)
    try:
        return s.recv(2048) == p
    except (socket.timeout, TimeoutError):
        return False
if not echoed(b"\\x01\\x00\\x00\\x00" + random.Random(274).randbytes(144)):
    sys.exit(1)
n = 0
while n < 60 and echoed(b"\\x04\\x00\\x00\\x00" + n.to_bytes(4, "little") + os.urandom(120)):
    n += 1
print(f"{n} of 60 data packets echoed")
sys.exit(0 if n == 60 else 28 if n else 1)
"""

OVPN = "--dev null --proto udp --port 1194 --dh none --ping 1 --verb 3 " \
       "--data-ciphers AES-128-GCM --ca {d}/cert.pem --cert {d}/cert.pem --key {d}/key.pem"


def _ovpn_server(lab) -> list[str]:
    """A real OpenVPN server (TLS mode, UDP; no tun: --dev null) on the VPS, in the
    background: a self-signed EC certificate that is its own CA, for both ends."""
    d = lab.run_dir.path / "openvpn"
    d.mkdir(exist_ok=True)
    return ["sh", "-c", f"openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                        f"-nodes -keyout {d}/key.pem -out {d}/cert.pem -subj /CN=vpn -days 1 "
                        f"2>/dev/null && openvpn --tls-server --mode p2p "
                        f"{OVPN.format(d=d)} --daemon --log {d}/server.log"]


def _ovpn_client(seconds: int):
    """A real OpenVPN client for `seconds`: exit 1 if it never connected, 28 if it connected
    and then its tunnel went silent (--ping-exit), 0 if it stayed up."""
    def argv(lab):
        d = lab.run_dir.path / "openvpn"
        return ["sh", "-c", f"timeout {seconds} openvpn --tls-client --remote 198.19.88.20 "
                            f"{OVPN.format(d=d)} --ping-exit 4 > {d}/client-$$.log 2>&1; "
                            f"grep -q 'Initialization Sequence Completed' {d}/client-$$.log "
                            f"|| exit 1; grep -q 'Inactivity timeout' {d}/client-$$.log "
                            f"&& exit 28; exit 0"]
    return argv


SOCKS5_GREETING = b"\x05\x01\x00"       # a SOCKS proxy's first bytes: not DNS, HTTP or TLS

# scenario: ([(client, argv, "ok" | "timeout")], [(rule, technique) events that must exist])
TRIGGERS = {
    "cn/gfw-esni-2020": ([
        ("alice", _tls_hello("crypto.cloudflare.com"), "ok"),
        ("alice", _tls_hello("crypto.cloudflare.com", "--add-ext", "0xffce"), "timeout"),
        ("alice", _curl4("https://www.cloudflare.com/"), "timeout"),         # penalty box
        ("bob", _curl("https://www.cloudflare.com/"), "ok"),
    ], [("esni", "tls_ext"), ("esni", "residual")]),
    "cn/gfw-fet-2021": ([                  # seed 21: the 3rd fully encrypted flow is caught
        ("alice", _raw("vps.example.net", 443, _fully_encrypted_first_packet(1)), "ok"),
        ("alice", _raw("vps.example.net", 443, _fully_encrypted_first_packet(2)), "ok"),
        ("alice", _raw("vps.example.net", 443, _fully_encrypted_first_packet(3)), "timeout"),
        ("alice", _curl4("https://vps.example.net/"), "timeout"),            # penalty box
        ("bob", _curl("https://vps.example.net/"), "ok"),
    ], [("fet", "protocol"), ("fet", "residual")]),
    "ru/2023-08-vpn": ([                   # bbs#274: a few packets after the handshake
        ("vps", _ovpn_server, "ok"),
        ("bob", _ovpn_client(12), "ok"),                            # corporate line, no box
        ("carol", _ovpn_client(25), "timeout"),                     # mobile: up, then silent
        ("bob", [sys.executable, "-c", WIREGUARD_CLIENT, "vps.example.net"], "ok"),
        ("carol", [sys.executable, "-c", WIREGUARD_CLIENT, "vps.example.net"], "timeout"),
    ], [("vpn", "protocol")]),
    "ru/2024-11-ech": ([                   # bbs#417: both the name and the ECH extension
        ("alice", _tls_hello("cloudflare-ech.com"), "ok"),
        ("alice", _tls_hello("steamdb.info", "--add-ext", "0xfe0d"), "ok"),     # GREASE-like
        ("alice", _tls_hello("cloudflare-ech.com", "--add-ext", "0xfe0d"), "timeout"),
        ("bob", _tls_hello("cloudflare-ech.com", "--add-ext", "0xfe0d"), "timeout"),
        ("alice", _quic("https://cloudflare-ech.com/"), "ok"),                   # HTTP/3
        ("alice", _quic("https://steamdb.info/", "--add-ext", "0xfe0d"), "ok"),
        ("alice", _quic("https://cloudflare-ech.com/", "--add-ext", "0xfe0d"), "timeout"),
    ], [("cloudflare-ech", "sni"), ("cloudflare-ech-quic", "quic_sni")]),
    "ru/2025-udp-foreign": ([              # bbs#490: UDP, then the whole server, but SSH
        ("alice", _curl("https://vps.example.net/"), "ok"),
        ("alice", _udp("vps.example.net:7"), "timeout"),
        ("alice", _curl4("https://vps.example.net/"), "timeout"),            # server-wide box
        ("alice", _ssh("vps.example.net"), "ok"),                            # spared
        ("alice", _udp("yandex.ru:7"), "ok"),                                # a Russian server
        ("bob", _curl("https://vps.example.net/"), "ok"),
        ("alice", _after(21, _curl("https://vps.example.net/")), "ok"),       # the box ends
    ], [("udp-foreign", "ip"), ("udp-foreign", "residual")]),
    "ru/2025-09-mobile-whitelist": ([      # bbs#516: DNS to 8.8.8.8 only, on mobile data
        ("carol", _dig("198.19.8.8", "dns.google"), "ok"),
        ("carol", _dig("198.19.1.1", "one.one.one.one"), "timeout"),
        ("carol", _dig("198.19.9.9", "dns.quad9.net"), "timeout"),
        ("dave", _dig("198.19.1.1", "one.one.one.one"), "timeout"),
        ("alice", _dig("198.19.1.1", "one.one.one.one"), "ok"),              # home broadband
    ], [("dns-other", "port"), ("dns-other-rst", "port")]),
    "ir/2020-protocol-filter": ([
        ("alice", _raw("vps.example.net", 443, SOCKS5_GREETING), "timeout"),
        ("alice", _curl4("https://vps.example.net/"), "timeout"),            # penalty box
        ("alice", _curl4("http://vps.example.net/"), "ok"),                  # other port
        ("bob", _curl("https://vps.example.net/"), "ok"),
    ], [("protocol-filter", "protocol"), ("protocol-filter", "residual")]),
}


def _outcome(returncode: int) -> str:
    return {0: "ok", 28: "timeout"}.get(returncode, f"exit {returncode}")


@pytest.mark.parametrize("name", sorted(TRIGGERS))
def test_blocked_cases_beyond_expect_urls(name):
    steps, events = TRIGGERS[name]
    seen = []
    with Lab(scenarios.load(name)) as lab:
        for client, argv, want in steps:
            argv = argv(lab) if callable(argv) else argv
            r = lab.run(client, argv, timeout=40)
            got = _outcome(r.returncode)
            seen.append(f"{client}: {' '.join(argv[:4])}... -> {got} "
                        f"({(r.stderr or r.stdout).strip()[-120:]!r})")
            assert got == want, f"{name}: step {len(seen)} should be {want}\n" + "\n".join(seen)
        logged = {(e.get("rule"), e.get("technique")) for e in lab.events()}
    missing = [e for e in events if e not in logged]
    assert not missing, f"{name}: no censor event for {missing}; events: {sorted(logged)}"


def test_trigger_table_names_bundled_scenarios():
    assert set(TRIGGERS) <= set(BUNDLED)
