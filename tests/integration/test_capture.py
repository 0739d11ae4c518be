"""`--pcap DIR`: what went on the wire, read back with Debian's tshark.

The censor's injected packets are in the client's capture with the TTL the client saw: the
RST of basics/reset and the forged DNS answer of basics/dns-forge. No tcpdump outlives the run.
The labs are dual-stack (unless BLOCKLAB_IPV6=0) and curl connects over IPv6 (RFC 6724 prefers it
and nothing blocks the connect), so the RSTs are IPv6 ones: the checks read the family's
fields (ipv6.src, ipv6.hlim) and the report shows the hop limit.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from lab.scenario.addressing import ip6_for, ipv6_default
from tests.integration.helpers import blocklab
from tests.integration.routed import three_isps

# the family curl uses in these labs, its tshark fields, and a host's address in it
V6 = ipv6_default()
IP = "ipv6" if V6 else "ip"
SRC, DST, TTL = f"{IP}.src", f"{IP}.dst", f"{IP}.hlim" if V6 else "ip.ttl"


def addr(ip: str) -> str:
    return ip6_for(ip) if V6 else ip

pytestmark = pytest.mark.skipif(not shutil.which("tshark"), reason="needs tshark (make setup)")


def tshark(pcap: Path, display_filter: str, *fields: str) -> list[list[str]]:
    r = subprocess.run(["tshark", "-r", str(pcap), "-Y", display_filter, "-T", "fields",
                        *[a for f in fields for a in ("-e", f)]],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return [line.split("\t") for line in r.stdout.splitlines() if line.strip()]


def tcpdumps_writing_to(folder: Path) -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "tcpdump" in cmd and str(folder) in cmd:
            found.append(cmd)
    return found


def test_reset_is_in_the_clients_capture(tmp_path):
    out = tmp_path / "pcap"
    r = blocklab("run", "basics/reset", "--pcap", str(out), "--report", str(tmp_path / "rep"),
                 timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr
    page = (tmp_path / "rep" / "report.html").read_text()
    assert '<a href="../pcap/alice.pcap">' in page                 # the report links them
    assert '<g id="node-alice"' in page                            # and draws the network
    assert "Packets around each censor event" in page               # and what went by
    for name in ("alice.pcap", "blocked.pcap", "censor-client-side.pcap",
                 "censor-internet-side.pcap"):
        assert f"pcap: {out / name}" in r.stderr, r.stderr
    # what alice received: a reset "from" the blocked server's port 443, TTL as she saw it
    resets = tshark(out / "alice.pcap", "tcp.flags.reset == 1 && tcp.srcport == 443",
                    SRC, DST, TTL)
    assert resets, "no RST toward alice in alice.pcap"
    src, dst, ttl = resets[0]
    assert (src, dst) == (addr("198.19.0.10"), addr("198.18.0.10")) and int(ttl) > 0
    # the ClientHello that triggered it, on both sides of the censor's client port
    assert tshark(out / "censor-client-side.pcap",
                  'tls.handshake.extensions_server_name == "blocked.example.com"', SRC) == \
        [[addr("198.18.0.10")]]
    assert not tcpdumps_writing_to(out)


def test_forged_answer_is_in_the_clients_capture(tmp_path):
    out = tmp_path / "pcap"
    r = blocklab("run", "basics/dns-forge", "--pcap", str(out), timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr
    answers = tshark(out / "alice.pcap",
                     'dns.flags.response == 1 && dns.qry.name == "blocked.example.com" '
                     '&& dns.a', "dns.a", "ip.ttl")
    assert answers, "no DNS answer for blocked.example.com in alice.pcap"
    assert all(a == "198.19.0.11" for a, _ in answers), answers   # only the forged one
    assert not tcpdumps_writing_to(out)


def test_capture_command_in_the_shell(tmp_path):
    from tests.integration.test_shell import _assert_torn_down, _do, _run_of, _spawn
    out = tmp_path / "caps"
    child = _spawn("basics/reset", tmp_path)
    try:
        assert "capturing every switch port into" in _do(child, f"capture {out}")
        state = _run_of(child)
        assert "capture:alice" in state["pids"]          # `blocklab clean` would end it
        _do(child, "alice curl -sS --max-time 3 https://blocked.example.com/")
        said = _do(child, "capture stop")
        assert f"{out / 'alice.pcap'}" in said and "censor-internet-side.pcap" in said, said
        assert "not capturing" in _do(child, "capture")
        child.sendline("exit")
        child.expect(r"lab torn down", timeout=60)
    finally:
        child.close(force=True)
    _assert_torn_down(state)
    assert tshark(out / "alice.pcap", "tcp.flags.reset == 1 && tcp.srcport == 443", SRC)[0] == \
        [addr("198.19.0.10")]
    assert not tcpdumps_writing_to(out)


def test_the_pytest_fixture_captures_too(blocklab, tmp_path):
    out = tmp_path / "pcap"
    lab = blocklab.up("basics/dns-forge", pcap=out)
    assert lab.run("alice", "dig +short blocked.example.com").stdout.strip() == "198.19.0.11"
    blocklab.close()                                    # down: the files are complete
    assert tshark(out / "alice.pcap", 'dns.a == 198.19.0.11', "dns.qry.name") == \
        [["blocked.example.com"]]
    assert not tcpdumps_writing_to(out)


ROUTED = three_isps("t-routed-capture", "{id: gfw-b, match: {sni: b.example}, action: reset}",
                    expect="""\
expect:
  - {from: alice, url: "https://a.example/", blocked: true, rule: tspu-a, censor: tspu}
  - {from: bob, url: "https://c.example/", blocked: true, rule: mob-c, censor: mob}
  - {from: carol, url: "https://b.example/", blocked: true, rule: gfw-b, censor: gfw}
""")
A, B, C = "198.19.0.10", "198.19.0.11", "198.19.0.12"


def test_a_routed_network_per_host_per_censor_side_and_link(tmp_path):
    """Three censors at three places: each client's capture holds its RST with the TTL that
    gives the censor's distance away (its initial TTL less the routers between them)."""
    scenario = tmp_path / "routed.yaml"
    scenario.write_text(ROUTED)
    out = tmp_path / "pcap"
    r = blocklab("run", str(scenario), "--pcap", str(out), "--report", str(tmp_path / "rep"),
                 timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([
        "alice.pcap", "bob.pcap", "carol.pcap", "a.pcap", "b.pcap", "c.pcap", "isp.pcap",
        "public-dns.pcap", "uni-dns.pcap",
        "censor-tspu-client-side.pcap", "censor-tspu-internet-side.pcap",
        "censor-mob-client-side.pcap", "censor-mob-internet-side.pcap",
        "censor-gfw-client-side.pcap", "censor-gfw-internet-side.pcap",
        "link-mobile-uplink.pcap", "link-uni-uplink.pcap"]), names
    rst = "tcp.flags.reset == 1 && tcp.srcport == 443"
    # tspu on home's uplink sends with TTL 50: one router (home's) before alice
    assert tshark(out / "alice.pcap", rst, SRC, TTL)[0] == [addr(A), "49"]
    assert tshark(out / "censor-tspu-client-side.pcap", rst, SRC, TTL)[0] == [addr(A), "50"]
    # mob on bob's own LAN, TTL 40: no router between them
    assert tshark(out / "bob.pcap", rst, SRC, TTL)[0] == [addr(C), "40"]
    # gfw at the border, TTL 64: two routers (uni's, the border) before carol
    assert tshark(out / "carol.pcap", rst, SRC, TTL)[0] == [addr(B), "62"]
    hello = 'tls.handshake.extensions_server_name == "b.example"'
    for seen_by in ("censor-gfw-client-side.pcap", "link-uni-uplink.pcap"):
        assert tshark(out / seen_by, hello, SRC) == [[addr("198.18.3.10")]], seen_by
    # the internet side of the border censor: the servers' ports merged; the forged RST
    # toward the server is there, the client's toward carol is not
    assert tshark(out / "censor-gfw-internet-side.pcap",
                  f"tcp.flags.reset == 1 && tcp.dstport == 443 && {DST} == {addr(B)}", DST)
    assert not tshark(out / "censor-gfw-internet-side.pcap",
                      f"{rst} && {DST} == {addr('198.18.3.10')}", SRC)
    assert not tcpdumps_writing_to(out)
    # the report: the packets around each event, the RST with the TTL alice saw
    page = (tmp_path / "rep" / "report.md").read_text()
    section = page[page.index("## Packets around each censor event"):]
    assert "censor tspu: rule `tspu-a` reset" in section and "from `alice.pcap`" in section
    hops = "hop limit" if V6 else "ttl"
    assert re.search(rf"\+\d\.\d{{3}} s  {re.escape(addr(A))} → {re.escape(addr('198.18.1.10'))}"
                     rf"  {hops} 49  TCP .*RST", section), section
    assert "Client Hello" in section
    rules = page[page.index("## The censors' rules"):page.index("## What the clients saw")]
    assert re.search(r"Censor `gfw`:\n\n\| # \| rule .*\n.*\n\| 1 \| gfw-b \| yes \| 1 \|",
                     rules), rules
