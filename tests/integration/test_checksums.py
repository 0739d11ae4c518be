"""A packet arrives as its sender made it: the censor completes partial checksums only (issue 23).

Reproduces the "badsum" fake of zapret, byedpi and Geneva: a 10-byte data segment (seq 1:11)
with a wrong TCP checksum, or a wrong IP header checksum, sent from a lab client with a raw
socket (lab.clients.fakes) before its real data. Measured before the fix, on basics/sni-drop:
the fake left the client's switch port with `cksum 0xc8f3 (incorrect -> 0xb7e2)` and reached
the server's port as `cksum 0xb7e2 (correct)`; the server acked 11 and the TLS handshake failed
with "wrong version number". Here the fake must reach the server's switch port byte for byte,
the server's kernel must count a checksum error and not take it (its ack stays at 1), and a
TLS fetch behind such a fake must complete. The same for a UDP datagram (DNS, through the
censor on basics/dns-nxdomain). Each over both families: the labs are dual-stack whatever
BLOCKLAB_IPV6 says, and the IPv6 fakes (`-6`) carry a wrong TCP/UDP checksum over IPv6's
pseudo-header (IPv6 has no header checksum, so badipsum is IPv4's alone); the server's kernel
counts them as Tcp InCsumErrors (one counter for both families) and Udp6InCsumErrors. Unit
tests of the partial-vs-written logic: tests/unit/test_offload.py.
"""
from __future__ import annotations

import select
import socket
import subprocess
import sys

import pytest

from controllers.packets import parse_frame
from lab import scenario as scenarios
from lab.clients.dnswire import a_query
from lab.clients.fakes import PAYLOAD
from lab.run.lab import Lab
from lab.run.wait import wait_until
from lab.scenario.addressing import IPV6_SWITCH, ISP_IP, ip6_for

PY = sys.executable
KERNEL_COUNTER = {"badsum": ("Tcp", "InCsumErrors"), "badipsum": ("IpExt", "InCsumErrors"),
                  "udp": ("Udp", "InCsumErrors"), "udp6": ("snmp6", "Udp6InCsumErrors")}
# (fake, family): IPv6 has no header checksum to spoil
TCP_FAKES = [("badsum", 4), ("badsum", 6), ("badipsum", 4)]


def dual_stack(name: str):
    """Scenario `name` dual-stack, whatever BLOCKLAB_IPV6 says."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(IPV6_SWITCH, "1")
        sc = scenarios.load(name)
    assert sc.ipv6
    return sc


def family_flag(family: int) -> list[str]:
    return ["-6"] if family == 6 else []


class PortCapture:
    """Frames seen on one switch port (the root namespace's end of a host's link)."""

    def __init__(self, lab: Lab, host: str) -> None:
        iface = f"{lab.network.bridge}-eth{lab.network.ports[host]}"
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        self.sock.bind((iface, 0))
        self.frames: list[bytes] = []

    def find(self, want) -> bytes | None:
        """The first frame so far that `want` accepts (reading what has arrived)."""
        while select.select([self.sock], [], [], 0)[0]:
            self.frames.append(self.sock.recv(65535))
        return next((f for f in self.frames if want(f)), None)

    def close(self) -> None:
        self.sock.close()


def kernel_counters(lab: Lab, host: str) -> dict[tuple[str, str], int]:
    """The host kernel's SNMP counters (/proc/net/snmp and netstat, read in its namespace;
    IPv6's /proc/net/snmp6 as ("snmp6", NAME))."""
    text = lab.run(host, ["cat", "/proc/net/snmp", "/proc/net/netstat"], timeout=10).stdout
    lines = text.splitlines()
    out = {}
    for head, values in zip(lines[::2], lines[1::2]):
        group, names = head.split(":", 1)
        numbers = values.split(":", 1)[1].split()
        out.update({(group, n): int(v) for n, v in zip(names.split(), numbers)})
    text6 = lab.run(host, ["cat", "/proc/net/snmp6"], timeout=10).stdout
    out.update({("snmp6", name): int(value) for name, value in
                (line.split() for line in text6.splitlines() if line.strip())})
    return out


def carries(payload: bytes):
    def want(frame: bytes) -> bool:
        try:
            p = parse_frame(frame)
        except ValueError:
            return False
        return p is not None and p.payload == payload
    return want


def read_line(proc: subprocess.Popen, timeout: float = 10) -> str:
    if not select.select([proc.stdout], [], [], timeout)[0]:
        proc.kill()
        raise AssertionError(f"no output from {proc.args}: {proc.communicate()}")
    return proc.stdout.readline().strip()


@pytest.fixture(scope="module")
def sni_lab():
    with Lab(dual_stack("basics/sni-drop")) as lab:
        yield lab


@pytest.mark.parametrize("fake, family", TCP_FAKES)
def test_a_tcp_fake_reaches_the_server_as_sent_and_is_dropped_there(sni_lab, fake, family):
    lab = sni_lab
    counter = KERNEL_COUNTER[fake]
    before = kernel_counters(lab, "open")[counter]
    capture = PortCapture(lab, "open")
    proc = lab.popen("alice", [PY, "-m", "lab.clients.fakes", "tcp", "open.example.org",
                               "--fake", fake, "--wait", *family_flag(family)],
                     stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = read_line(proc)
        assert line.startswith("fake "), line
        sent = bytes.fromhex(line.split()[1])
        assert parse_frame(sent).family == family
        arrived = wait_until(lambda: capture.find(carries(PAYLOAD)), 10,
                             "the fake at the server's switch port")
        assert arrived[:len(sent)] == sent, (arrived.hex(), sent.hex())
        wait_until(lambda: kernel_counters(lab, "open")[counter] > before, 10,
                   f"the server's kernel to count a {counter} error")
        proc.stdin.write("arrived\n")
        proc.stdin.flush()
        assert read_line(proc) == "server acks 1"      # the 10 bytes were not taken
        assert proc.wait(timeout=10) == 0, proc.stderr.read()
    finally:
        capture.close()
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize("fake, family", TCP_FAKES)
@pytest.mark.kernel
def test_tls_after_a_fake_completes_through_the_censor(sni_lab, fake, family):
    r = sni_lab.run("alice", [PY, "-m", "lab.clients.tls_hello", "open.example.org",
                              "--fake", fake, "--timeout", "5", "-v", *family_flag(family)],
                    timeout=20)
    assert r.returncode == 0 and "handshake complete" in r.stdout, r.stdout + r.stderr
    src = ip6_for("198.18.0.10") if family == 6 else "198.18.0.10"
    assert f"connected from {src}:" in r.stderr, r.stderr


@pytest.mark.parametrize("family", [4, 6])
@pytest.mark.kernel
def test_ordinary_traffic_still_passes_with_checksums_completed(sni_lab, family):
    r = sni_lab.run("alice", ["curl", f"-{family}", "-sS", "--max-time", "5",
                              "https://open.example.org/"], timeout=20)
    assert r.returncode == 0 and "blocklab server open" in r.stdout, r.stderr
    r = sni_lab.run("alice", ["curl", f"-{family}", "-sS", "--max-time", "3",
                              "https://blocked.example.com/"], timeout=20)
    assert r.returncode == 28, r.stderr


def test_tls_after_a_fake_completes_on_an_open_network():
    with Lab(dual_stack("basics/open")) as lab:
        for family in (4, 6):
            r = lab.run("alice", [PY, "-m", "lab.clients.tls_hello", "www.example.com",
                                  "--fake", "badsum", "--timeout", "5",
                                  *family_flag(family)], timeout=20)
            assert r.returncode == 0 and "handshake complete" in r.stdout, \
                f"IPv{family}: {r.stdout}{r.stderr}"


def test_a_udp_fake_reaches_the_resolver_as_sent_and_is_dropped_there():
    with Lab(dual_stack("basics/dns-nxdomain")) as lab:
        for family, resolver, counter in ((4, ISP_IP, KERNEL_COUNTER["udp"]),
                                          (6, ip6_for(ISP_IP), KERNEL_COUNTER["udp6"])):
            before = kernel_counters(lab, "isp")[counter]
            capture = PortCapture(lab, "isp")
            query = a_query("open.example.org", 0x2323 + family)
            try:
                r = lab.run("alice", [PY, "-m", "lab.clients.fakes", "udp", resolver, "53",
                                      "--payload", query.hex()], timeout=20)
                assert r.returncode == 0 and r.stdout.startswith("fake "), r.stdout + r.stderr
                sent = bytes.fromhex(r.stdout.split()[1])
                assert parse_frame(sent).family == family
                arrived = wait_until(lambda: capture.find(carries(query)), 10,
                                     f"the fake query at the resolver's switch port (IPv{family})")
                assert arrived[:len(sent)] == sent, (arrived.hex(), sent.hex())
                wait_until(lambda: kernel_counters(lab, "isp")[counter] > before, 10,
                           f"the resolver's kernel to count a UDP checksum error (IPv{family})")
            finally:
                capture.close()
            r = lab.run("alice", ["dig", "+time=2", "+tries=1", f"@{resolver}",
                                  "open.example.org"], timeout=20)
            assert "status: NOERROR" in r.stdout, r.stdout
