"""A routed network (issue 15): ISPs, real routers, several censors each at its place.

One lab with three ISPs and three censors, measured as a researcher would: traceroute lists
every router hop and never a censor (a switch on a link is invisible, as DPI boxes usually are);
the IP TTL of an injected RST at the client is the censor's initial TTL less the routers
between them (gfw.report's TTL analyses), for three placements, and TTL-limited ClientHellos
are reset from the hop where the censor sits on (Censored Planet's CenTrace);
censors in series each see only what crosses their link and log their own events. Then
`blocklab run` on basics/two-isps names each client's ISP, and a routed lab leaves nothing
behind, also after SIGKILL once its run is cleaned (lab.run.clean, for that run only).
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from lab import scenario as scenarios
from lab.run.clean import clean_run
from lab.run.lab import Lab
from lab.run.procs import alive
from lab.run.rundir import RUNS, load_states
from lab.run.wait import wait_until
from lab.truth.events import from_host
from tests.integration.helpers import blocklab, blocklab_popen
from tests.integration.routed import three_isps

SCENARIO = three_isps("t-topology",
                      "{id: gfw-ab, match: {sni: [a.example, b.example]}, action: reset}")

A, B, C = "198.19.0.10", "198.19.0.11", "198.19.0.12"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    path = tmp_path_factory.mktemp("topology") / "t.yaml"
    path.write_text(SCENARIO)
    with Lab(scenarios.load(path)) as lab:
        yield lab


def hops(lab, client: str, ip: str) -> list[str]:
    r = lab.run(client, ["traceroute", "-n", "-q1", "-w1", ip], timeout=40)
    assert r.returncode == 0, r.stderr
    return re.findall(r"^\s*\d+\s+(\S+)", r.stdout, re.M)


def rst_ttls(lab, client: str, url: str) -> list[int]:
    """The TTL of each RST `client` receives while curl fetches `url`; curl must fail."""
    r = lab.run(client, [sys.executable, "-m", "lab.clients.rst_ttl", "--", "curl", "-sS",
                         "--max-time", "5", "-o", "/dev/null", url], timeout=20)
    assert r.returncode in (35, 56), (r.returncode, r.stdout, r.stderr)
    return [int(t) for t in re.findall(r"^rst from \S+ ttl (\d+)$", r.stdout, re.M)]


def test_traceroute_lists_each_router_and_no_censor(lab):
    assert hops(lab, "alice", B) == ["198.18.1.1", "198.18.255.1", B]     # tspu on the way
    assert hops(lab, "bob", B) == ["198.18.2.1", "198.18.255.5", B]       # mob on the way
    assert hops(lab, "carol", A) == ["198.18.3.1", "198.18.255.9", A]


def test_an_isp_with_its_own_resolver_answers_its_clients(lab):
    """uni runs uni-dns on its clients' LAN (198.18.3.2); the others use the lab's isp."""
    r = lab.run("carol", ["cat", "/etc/resolv.conf"], timeout=10)
    assert "nameserver 198.18.3.2" in r.stdout, r.stdout
    assert "nameserver 198.18.0.2" in lab.run("alice", ["cat", "/etc/resolv.conf"]).stdout
    r = lab.run("carol", ["dig", "+short", "+time=2", "+tries=1", "b.example"], timeout=10)
    assert r.stdout.split() == [B], r.stdout + r.stderr
    assert hops(lab, "carol", "198.18.3.2") == ["198.18.3.2"]            # on its LAN


def test_the_servers_own_packets_arrive_two_routers_down(lab):
    r = lab.run("alice", ["ping", "-c1", "-W2", B], timeout=10)
    assert r.returncode == 0 and "ttl=62" in r.stdout, r.stdout


@pytest.mark.parametrize("client, url, ttl", [
    ("bob", "https://c.example/", 40),          # mob: ttl 40, on the access LAN: 0 routers
    ("alice", "https://a.example/", 50 - 1),    # tspu: ttl 50, on the uplink: 1 router
    ("alice", "https://b.example/", 64 - 2),    # gfw: ttl 64 (default), at the border: 2
    ("carol", "https://b.example/", 64 - 2),
])
def test_injected_rst_ttl_is_initial_ttl_less_the_hops(lab, client, url, ttl):
    assert rst_ttls(lab, client, url) == [ttl]


@pytest.mark.parametrize("client, host, outcomes", [
    ("bob", "c.example", [35, 35, 35]),         # mob, on the access LAN: before hop 1
    ("alice", "a.example", [28, 35, 35]),       # tspu, on home's uplink: between hops 1 and 2
    ("alice", "b.example", [28, 28, 35]),       # gfw, at the border: with the server, hop 3
    ("carol", "c.example", [28, 28, 0]),        # no censor takes it: the server answers at 3
])
def test_ttl_limited_hellos_place_the_censor_between_two_hops(lab, client, host, outcomes):
    """CenTrace's measurement: a ClientHello sent with TTL 1, 2, 3 after a normal handshake
    is reset (35) once it reaches the censor, and times out (28) while it expires at a router
    before the censor (and the server)."""
    got = [lab.run(client, [sys.executable, "-m", "lab.clients.tls_hello", host, "--ttl",
                            str(ttl), "--timeout", "2"], timeout=15).returncode
           for ttl in (1, 2, 3)]
    assert got == outcomes


def test_censors_in_series_each_see_only_their_link(lab):
    """alice -> a.example: the home ISP's tspu resets it, so the ClientHello never reaches the
    border; bob -> a.example (no tspu on his path): the border's gfw resets it."""
    rst_ttls(lab, "alice", "https://a.example/")
    rst_ttls(lab, "bob", "https://a.example/")
    lab.settle()
    alice, bob = "198.18.1.10", "198.18.2.10"

    def acted(censor: str, src: str) -> list[str]:
        return [e["rule"] for e in lab.events(censor)
                if from_host(e, src)
                and (e.get("detail") or {}).get("sni") == "a.example"]
    assert acted("tspu", alice) and set(acted("tspu", alice)) == {"tspu-a"}
    assert acted("gfw", alice) == []
    assert acted("gfw", bob) and set(acted("gfw", bob)) == {"gfw-ab"}
    assert acted("tspu", bob) == [] and acted("mob", bob) == []
    assert {e["censor"] for e in lab.events()} <= {"tspu", "mob", "gfw"}
    assert all(e["censor"] == "gfw" for e in lab.events("gfw"))


def test_control_addresses_a_censor_by_name(lab):
    assert [r["id"] for r in lab.control({"cmd": "rules"}, "mob")["rules"]] == ["mob-c"]
    assert [r["id"] for r in lab.control({"cmd": "rules"})["rules"]] == ["tspu-a"]   # first


def test_shell_commands_address_a_censor_by_name(lab):
    """`censor` lists them; `censor mob` sends rules/disable/enable to mob; events name each
    event's censor."""
    from lab.teach.console import Console
    console = Console(lab)
    listing = console.run("censor").text
    assert re.search(r"\*\s+tspu\s+home\.uplink\s+inline\s+50\s+1", listing), listing
    assert re.search(r"mob\s+mobile\.access\s+inline\s+40", listing), listing
    assert console.run("censor nope").code == 2
    assert console.run("censor mob").ok and "mob-c" in console.run("rules").text
    assert console.run("disable mob-c").ok
    try:
        r = lab.run("bob", ["curl", "-sS", "-o", "/dev/null", "--max-time", "5",
                            "https://c.example/"], timeout=15)
        assert r.returncode == 0, r.stderr
    finally:
        assert console.run("enable mob-c").ok
    # mob's reset (its initial TTL 40, on bob's own LAN); over IPv6 the server's own RST (64
    # less its two routers) sometimes follows it, for a packet that reached the server after
    # the censor had reset it (seen once in a dual-stack run just after the rule came back)
    ttls = rst_ttls(lab, "bob", "https://c.example/")
    assert ttls[0] == 40 and set(ttls[1:]) <= {62}, ttls
    lab.settle()
    assert re.search(r"mob: reset\s+mob-c", console.run("events 0").text)


def test_explain_speaks_for_the_censor_on_the_clients_path(lab):
    from lab.teach.console import Console
    console = Console(lab)
    assert console.run("censor mob").ok
    r = console.run("explain bob https://c.example/")
    assert r.ok and "mob-c" in r.text, r.text
    r = console.run("explain alice https://c.example/")
    assert r.code == 1 and "does not cross" in r.text, r.text


def test_a_timeline_entry_changes_the_censor_it_names(lab):
    """`{at, censor: gfw, disable: gfw-ab}`: bob's b.example (reset by gfw, untouched by mob)
    loads after it while tspu, the default censor, keeps resetting alice's a.example; the
    timeline's record, its table and the censor's own event name gfw."""
    from lab.scenario.model import TimelineEntry
    from lab.truth.timeline import TimelineRunner, render
    soon = time.time() - lab.t0 + 0.3
    with TimelineRunner(lab, [TimelineEntry(soon, "disable", rule_id="gfw-ab",
                                            censor="gfw")]) as timeline:
        assert timeline.wait_done(20)
    try:
        r = lab.run("bob", ["curl", "-sS", "-o", "/dev/null", "--max-time", "5",
                            "https://b.example/"], timeout=15)
        assert r.returncode == 0, r.stderr
        assert rst_ttls(lab, "alice", "https://a.example/") == [50 - 1]
    finally:
        assert lab.control({"cmd": "enable", "rule": "gfw-ab"}, "gfw")["ok"]
    lab.settle()
    timeline.attach_events(lab.events())
    rec = timeline.applied[0]
    assert rec.status == "ok" and rec.censor == "gfw", rec
    assert rec.event and rec.event["censor"] == "gfw" and rec.event["rule"] == "gfw-ab"
    assert re.search(r"\bgfw\s+disable gfw-ab\s+ok", render(timeline.applied))


def test_every_route_stays_inside_the_lab(lab):
    """Hosts and routers: no default route, every route inside 198.18.0.0/15."""
    import ipaddress
    lab_net = ipaddress.IPv4Network("198.18.0.0/15")
    nodes = lab.network.net.hosts
    assert {"BORDER", "R-home", "R-mobile", "R-uni"} <= {n.name for n in nodes}
    for node in nodes:
        for line in node.cmd("ip -4 route show table all").splitlines():
            dest = line.split()[0] if line.split() else ""
            if dest in ("local", "broadcast"):
                dest = line.split()[1]
            assert dest != "default", f"{node.name}: {line}"
            assert ipaddress.IPv4Network(dest, strict=False).subnet_of(lab_net) or \
                dest.startswith("127."), f"{node.name}: {line}"


def test_run_names_each_clients_isp_and_per_isp_expectations_hold():
    r = blocklab("run", "basics/two-isps", "--json", timeout=180)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)["rows"]
    got = [(row["client"], row["isp"], row["target"], row["reachable"], row["holds"])
           for row in rows]
    assert got == [
        ("alice", "home (AS64496)", "https://blocked.example.com/", False, True),
        ("alice", "home (AS64496)", "https://open.example.org/", True, True),
        ("bob", "mobile (AS64497)", "https://blocked.example.com/", True, True),
        ("bob", "mobile (AS64497)", "https://open.example.org/", True, True)]


def test_probe_reports_each_measurement_with_its_isp_and_scores_per_isp():
    """OONI records carry the client's ISP (probe_asn, probe_network_name); the score has a
    row per ISP: alice's home ISP has the reset (TP), bob's mobile ISP none (TN)."""
    r = blocklab("probe", "basics/two-isps", "--json", timeout=180)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    records, score = lines[:-1], lines[-1]["blocklab_score"]
    got = {(m["x_blocklab"]["client"], m["probe_asn"], m["probe_network_name"],
            m["x_blocklab"]["isp"]) for m in records}
    assert got == {("alice", "AS64496", "home", "home (AS64496)"),
                   ("bob", "AS64497", "mobile", "mobile (AS64497)")}
    home, mobile = score["by_isp"]["home (AS64496)"], score["by_isp"]["mobile (AS64497)"]
    assert (home["TP"], home["TN"], home["recall"]) == (1, 1, 1.0)
    assert (mobile["TP"], mobile["FN"], mobile["TN"]) == (0, 0, 2)


def test_compare_runs_each_tool_from_a_client_of_each_isp():
    """`direct` is reset on alice's home ISP (its box) and loads on bob's mobile ISP: one
    column per ISP (per ISP and family in a dual-stack lab: the SNI rule is both families'),
    each with its client and what that client's expectations say."""
    r = blocklab("compare", "basics/two-isps", "--tools", "direct", "--json", timeout=240)
    assert r.returncode == 0, r.stderr
    m = json.loads(r.stdout)
    got = {(c["isp"], c["client"], c["status"], tuple(c["blocked_by"])) for c in m["cells"]}
    assert got == {("home (AS64496)", "alice", "partial", ("sni-reset",)),
                   ("mobile (AS64497)", "bob", "works", ())}
    assert len(m["cells"]) == 2 * len({c.get("family") for c in m["cells"]})
    expected = {s["client"]: {t["url"]: t["expected_blocked"] for t in s["targets"]}
                for s in m["scenarios"]}
    assert expected["alice"]["https://blocked.example.com/"] is True
    assert expected["bob"]["https://blocked.example.com/"] is False


def test_the_two_isps_lesson_holds(tmp_path):
    """Its steps: a reset for alice, the site for bob, traceroute's hops, the RST's TTL 63 and
    the TTL-limited hellos."""
    r = blocklab("lesson", "basics/two-isps", "--auto", timeout=180)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "5 of 5 expected observations held." in r.stdout, r.stdout


# --- teardown: the lab's own names are gone (not a whole-machine snapshot: not serial) ---

def _names(state) -> dict:
    """What one routed run created, by name: bridges, their interfaces, processes."""
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True,
                           text=True).stdout
    ifaces = [line.split(":", 2)[1].strip().split("@")[0] for line in links.splitlines()]
    bridges = set(subprocess.run(["ovs-vsctl", "list-br"], capture_output=True,
                                 text=True).stdout.split())
    mine = tuple(state.bridges)
    return {"bridges": sorted(bridges & set(mine)),
            "interfaces": sorted(i for i in ifaces if mine and i.startswith(mine)),
            "processes": sorted(p for p in state.pids.values() if alive(p)),
            "run dir": os.path.isdir(RUNS / state.run_id)}


def test_a_routed_lab_comes_down_completely():
    with Lab(scenarios.load("basics/two-isps")) as lab:
        state = lab.run_dir.state
        up = _names(state)
        routers = [k for k in state.pids if k.startswith("host:R-") or k == "host:BORDER"]
        censors = [k for k in state.pids if k.startswith("censor:")]
    assert len(up["bridges"]) == 4 and up["interfaces"] and up["processes"], up
    assert sorted(routers) == ["host:BORDER", "host:R-home", "host:R-mobile"]
    assert censors == ["censor:tspu"]
    assert _names(state) == {"bridges": [], "interfaces": [], "processes": [],
                             "run dir": False}


def _routed_exec_up(proc) -> object:
    """The state of `proc`'s routed lab once its command runs."""
    def up():
        return next((s for s in load_states() if s.owner_pid == proc.pid
                     and "censor:tspu" in s.pids and "host:BORDER" in s.pids
                     and len(s.bridges) == 4), None)
    state = wait_until(up, 90, "the routed lab to come up")
    wait_until(lambda: _sleeping(proc.pid), 60, "the lab to run its command")
    return next(s for s in load_states() if s.run_id == state.run_id)


GONE = {"bridges": [], "interfaces": [], "processes": [], "run dir": False}


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 128 + 15)])
def test_an_interrupted_routed_run_tears_down(sig, code):
    proc = blocklab_popen("exec", "basics/two-isps", "alice", "--", "sleep", "300",
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        state = _routed_exec_up(proc)
        assert len(_names(state)["bridges"]) == 4
        proc.send_signal(sig)
        assert proc.wait(timeout=60) == code
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for orphan in [s for s in load_states() if s.owner_pid == proc.pid]:
            clean_run(orphan)       # only if the test failed: never others' runs
    assert _names(state) == GONE


def test_a_sigkilled_routed_run_is_cleaned(tmp_path):
    """SIGKILL leaves routers, bridges and the censor behind, and captures (tcpdumps on switch
    ports, and in a router's and the isp resolver's namespaces) whose interface lives on;
    cleaning that run (what `blocklab clean` does for each orphaned run) removes them all."""
    proc = blocklab_popen("exec", "basics/two-isps", "alice", "--pcap", str(tmp_path), "--",
                          "sleep", "300", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        state = _routed_exec_up(proc)
        captures = {k for k in state.pids if k.startswith("capture:")}
        assert {"capture:alice", "capture:isp", "capture:link-mobile-uplink",
                "capture:censor-tspu-client-side"} <= captures, captures
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        left = _names(state)
        assert len(left["bridges"]) == 4 and left["processes"], f"SIGKILL left nothing? {left}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for orphan in [s for s in load_states() if s.owner_pid == proc.pid]:
            clean_run(orphan)       # only this test's run: never `blocklab clean` (others')
    assert _names(state) == GONE


def _sleeping(owner: int) -> bool:
    """The exec'd `sleep 300` is running (in some namespace), started by the run of `owner`."""
    for state in load_states():
        if state.owner_pid == owner:
            return any(_comm(p) == "sleep" for p in _children_in(state))
    return False


def _children_in(state) -> list[int]:
    from lab.run.procs import in_namespaces, netns_of
    shells = [p for k, p in state.pids.items() if k.startswith("host:") and alive(p)]
    return in_namespaces({netns_of(p) for p in shells})


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""

