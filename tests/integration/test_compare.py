"""`blocklab compare` from real runs: real tools, real censor, the censor's events as witness.

Each case is one `blocklab compare ... --json` run (its own lab), checked against what the
scenario's censor must do to each tool: which targets answer, which rule blocked what, and
that the rule acted on the tunnel's own flow. In a dual-stack lab (the default) a tool
that can be kept to one family runs once per family, in columns `NAME · IPv4` and
`NAME · IPv6` (docs/compare.md): `cells` gives each (scenario, tool) its cells by family, and
a check that does not depend on the family holds for each.
"""
from __future__ import annotations

import json

import yaml

from helpers import REPO, blocklab
from lab.compare.report import FAMILY_NAMES, UNPINNED
from lab.scenario.addressing import host_ip

TIMEOUT = 240
BULK_RATE = "200Mbit"     # the labs share one ovs-vswitchd: keep bulk downloads neighbourly


def compare(*args: str) -> dict:
    r = blocklab("compare", *args, "--json", "--bulk-rate", BULK_RATE, timeout=TIMEOUT)
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stderr[-3000:]}"
    return json.loads(r.stdout)


FAMILY_COLUMNS = tuple(f" · {n}" for n in (*FAMILY_NAMES.values(), UNPINNED))


def column(name: str) -> str:
    """A column's name without its family (a dual-stack run's `NAME · IPv4` is `NAME`)."""
    return next((name[:-len(f)] for f in FAMILY_COLUMNS if name.endswith(f)), name)


def cells(m: dict) -> dict:
    """(scenario, tool) -> {family: cell}: "ipv4" and "ipv6" for a tool run once per family
    in a dual-stack lab, None for its one cell otherwise (a single-stack run's, or a tool
    that cannot be kept to one family)."""
    out: dict = {}
    for c in m["cells"]:
        out.setdefault((column(c["scenario"]), c["tool"]), {})[c.get("family")] = c
    return out


def ipv4(by_family: dict) -> dict:
    """The cell over IPv4, the family every measurement the scenarios cite used (the one
    cell of a single-stack run)."""
    return by_family.get("ipv4") or by_family[None]


def tunnel_rules(cell: dict) -> set[str]:
    return {e["rule"] for t in cell["trials"] for e in t["events"] if e["on_tunnel"]}


def test_unknown_tool_is_refused_by_name():
    r = blocklab("compare", "basics/open", "--tools", "direct,tor-snowflake,warp")
    assert r.returncode == 1
    assert "unknown tool(s) tor-snowflake, warp" in r.stderr and "shadowsocks" in r.stderr
    assert "tor-snowflake: left out" in r.stderr


def test_ru_facetime_blocked_directly_tunnels_get_through(tmp_path):
    """From the home ISP (its TSPU box); ru/2025-12 is routed, so every tool also ran from
    the mobile ISP's client, in a column of its own."""
    m = compare("ru/2025-12", "--tools", "direct,ssh-socks,shadowsocks",
                "--report", str(tmp_path))
    c = cells(m)
    assert list(dict.fromkeys((column(s["name"]), s["client"]) for s in m["scenarios"])) == [
        ("ru-2025-12 · home", "alice"), ("ru-2025-12 · mobile", "carol")]
    # the rules name servers and SNIs, not addresses: the same on either family
    for family, direct in c[("ru-2025-12 · home", "direct")].items():
        facetime = direct["targets"]["https://facetime.apple.com/"]
        assert facetime["ok"] == 0, facetime
        assert "facetime" in direct["blocked_by"]
        assert "youtube-throttle" in direct["degraded_by"]   # the bulk download is policed
        for tool in ("ssh-socks", "shadowsocks"):
            cell = c[("ru-2025-12 · home", tool)][family]
            assert cell["status"] == "works", cell
            assert all(t["ok"] for t in cell["targets"].values()), cell["targets"]
            assert not cell["blocked_by"] and not cell["degraded_by"]
            # through the tunnel the throttled video host comes at full speed
            assert cell["goodput_mbit"]["median"] > 20 * direct["goodput_mbit"]["median"]
    # the vps was added outside the censor, and the report has its files
    assert m["scenarios"][0]["vps"]["added"] is True
    for name in ("compare.json", "compare.md", "goodput.png", "success.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    md = (tmp_path / "compare.md").read_text()
    assert "| tool | " + " | ".join(s["name"] for s in m["scenarios"]) + " |" in md
    assert "| shadowsocks | ✅ works" in md


def test_split_hello_evades_only_a_censor_without_reassembly():
    tools = "direct,split-hello-tcp,split-hello-records"
    c = cells(compare("basics/reassembly-off", "basics/reassembly-on", "--tools", tools))
    for scenario in ("basics-reassembly-off", "basics-reassembly-on"):
        for direct in c[(scenario, "direct")].values():
            assert direct["status"] == "blocked" and direct["blocked_by"] == ["sni-drop"], \
                direct
            assert direct["goodput_mbit"]["median"] < 250     # --bulk-rate 200Mbit held
    for tool in ("split-hello-tcp", "split-hello-records"):
        offs, ons = c[("basics-reassembly-off", tool)], c[("basics-reassembly-on", tool)]
        assert offs.keys() == ons.keys()
        for family, off in offs.items():
            on = ons[family]
            assert off["status"] == "works" and not off["blocked_by"], off
            assert on["status"] == "blocked" and on["blocked_by"] == ["sni-drop"], on


DESYNC = ("fake-badsum", "fake-badseq", "disorder", "multisplit")


def test_desync_tools_fool_a_naive_dpi_not_a_hardened_one(tmp_path):
    """The matrix of issue 16. On basics/dpi-naive every desync gets through and the censor
    says what it believed; on basics/dpi-hardened the fakes are ignored (a bad checksum, a
    sequence number outside the window) and the real hello is read; disorder and multisplit
    are joined by its reassembly (as GFWeb found the GFW doing) and blocked too."""
    m = compare("basics/dpi-naive", "basics/dpi-hardened", "--tools",
                ",".join(("direct",) + DESYNC), "--report", str(tmp_path))
    c = cells(m)
    target = "https://blocked.example.com/"
    believed = {"fake-badsum": "a segment with a bad checksum",
                "fake-badseq": "a segment outside the window",
                "disorder": "segments out of order",
                "multisplit": "segments read one at a time"}
    for scenario in ("basics-dpi-naive", "basics-dpi-hardened"):
        for direct in c[(scenario, "direct")].values():
            assert direct["status"] == "blocked" and direct["blocked_by"] == ["sni-drop"], \
                direct
    vps = m["scenarios"][0]["vps"]["ip"]          # the bulk download's flows go there
    for tool in DESYNC:         # each family's cell (a dual-stack lab runs them on both)
        naives, hardeneds = c[("basics-dpi-naive", tool)], c[("basics-dpi-hardened", tool)]
        assert naives.keys() == hardeneds.keys()
        for family, naive in naives.items():
            hardened = hardeneds[family]
            assert naive["status"] == "works" and naive["targets"][target]["ok"] == 1, naive
            assert believed[tool] in naive["dpi_believed"], naive["dpi_believed"]
            passed = [e for t in naive["trials"] for e in t["events"]
                      if e["technique"] == "dpi" and host_ip(e["flow"]["dst"]) != vps]
            assert passed and passed[0]["rule"] is None and passed[0]["action"] == "allow"
            assert hardened["status"] == "blocked" and hardened["blocked_by"] == ["sni-drop"], \
                hardened
            [drop] = [e for t in hardened["trials"] for e in t["events"]
                      if e["rule"] == "sni-drop"]
            assert drop["detail"]["sni"] == "blocked.example.com"
            ignored = [i["why"] for i in drop["detail"]["dpi"].get("ignored", [])]
            assert ignored == {"fake-badsum": ["bad checksum"],
                               "fake-badseq": ["out of window"]}.get(tool, []), drop
    md = (tmp_path / "compare.md").read_text()
    assert "the DPI believed a segment with a bad checksum" in md
    assert "the DPI ignored a segment: out of window" in md


def test_ttl_limited_desync_fools_a_dpi_a_router_away_unless_it_checks_ttls(tmp_path):
    """fake-ttl and tcb-teardown through a box one router away (routed networks): each
    measures the hop count from the SYN-ACK's TTL (62: two routers) and sends its fake hello
    or RST with TTL 2, which passes the box and dies at the border router. The naive box
    believes the fake, or forgets the flow on the RST; the box that checks TTLs against the
    SYN's ignores both (they reach it with TTL 1) and drops the real hello."""
    m = compare("basics/dpi-ttl", "basics/dpi-ttl-checked", "--tools",
                "direct,fake-ttl,tcb-teardown", "--report", str(tmp_path))
    # each scenario has one ISP (home), so one column each: "basics-dpi-ttl · home"
    c = {(name.split(" · ")[0], tool): by for (name, tool), by in cells(m).items()}
    target = "https://blocked.example.com/"
    for scenario in ("basics-dpi-ttl", "basics-dpi-ttl-checked"):
        for direct in c[(scenario, "direct")].values():
            assert direct["status"] == "blocked" and direct["blocked_by"] == ["sni-drop"], \
                direct
    fakes, rsts = c[("basics-dpi-ttl", "fake-ttl")], c[("basics-dpi-ttl", "tcb-teardown")]
    for family, fake in fakes.items():          # each family's (dual stack: both)
        rst = rsts[family]
        for cell in (fake, rst):
            assert cell["status"] == "works" and cell["targets"][target]["ok"] == 1, cell
        assert fake["dpi_believed"] == ["a segment with another TTL"], fake
        [read] = [e["detail"]["read"] for t in fake["trials"] for e in t["events"]
                  if e["action"] == "allow" and e["detail"].get("sni") == "www.iana.org"][:1]
        assert read[0]["ttl"] == 1, read          # sent with 2, one router before the box
        assert rst["dpi_forgot"] == ["client_rst"], rst
        for tool, flags in (("fake-ttl", None), ("tcb-teardown", "RST")):
            cell = c[("basics-dpi-ttl-checked", tool)][family]
            assert cell["status"] == "blocked" and cell["blocked_by"] == ["sni-drop"], cell
            drops = [e for t in cell["trials"] for e in t["events"] if e["rule"] == "sni-drop"]
            ignored = drops[0]["detail"]["dpi"]["ignored"]
            assert [(i["ttl"], i["why"], i.get("flags")) for i in ignored] == \
                [(1, "TTL differs from the SYN's", flags)], drops[0]
    md = (tmp_path / "compare.md").read_text()
    assert "the DPI forgot the flow on a client_rst" in md
    assert "the DPI ignored a segment: TTL differs from the SYN's" in md


def test_gfw_fet_blocks_shadowsocks_not_tls_tunnel(tmp_path):
    data = yaml.safe_load((REPO / "scenarios/cn/gfw-fet-2021.yaml").read_text())
    for rule in data["censor"]["rules"]:
        if "probability" in rule:
            rule["probability"] = 1.0
    path = tmp_path / "fet-always.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    m = compare(str(path), "--tools", "shadowsocks,tls-tunnel", "--repeat", "2")
    c = cells(m)
    # the rule names the hosting range's IPv4 addresses, Wu et al.'s family
    ss = ipv4(c[("cn-gfw-fet-2021", "shadowsocks")])
    tls = ipv4(c[("cn-gfw-fet-2021", "tls-tunnel")])
    assert ss["status"] == "blocked" and ss["blocked_by"] == ["fet"], ss
    assert tunnel_rules(ss) == {"fet"}
    assert [t["status"] for t in ss["trials"]] == ["blocked", "blocked"]
    assert tls["status"] == "works" and not tls["blocked_by"], tls
    assert tls["goodput_mbit"]["n"] == 2 and tls["ttfb_ms"]["n"] == 2
    assert tls["goodput_mbit"]["min"] <= tls["goodput_mbit"]["median"] <= \
        tls["goodput_mbit"]["max"]
    vps = {k: v for k, v in m["scenarios"][0]["vps"].items() if k != "ip6"}
    assert vps == {"name": "vps", "ip": "198.19.20.10", "domains": ["vps.example.net"],
                   "added": False}


def test_fingerprints_block_openvpn_and_ssh_only():
    tools = "openvpn,ssh-socks,shadowsocks,tls-tunnel,obfs4,direct"
    c = cells(compare("basics/fingerprint-tunnels", "--tools", tools))
    name = "basics-fingerprint-tunnels"
    for tool in ("openvpn", "ssh-socks"):       # fingerprints: on either family
        for cell in c[(name, tool)].values():
            assert cell["status"] == "blocked" and cell["blocked_by"] == ["tunnels"], cell
            assert tunnel_rules(cell) == {"tunnels"}
    for tool in ("shadowsocks", "tls-tunnel", "obfs4", "direct"):
        for cell in c[(name, tool)].values():
            assert cell["status"] == "works" and not cell["blocked_by"], cell
            assert cell["goodput_mbit"]["median"] > 1, cell


# --- the pure parts, checked against the censor's own parser (no lab) ----------------------

def _hello(name: str) -> bytes:
    from lab.clients.tls_hello import client_hello
    return client_hello(name)[3]


def test_split_proxy_cuts_inside_the_server_name():
    from controllers.dpi import tls
    from lab.compare.splitproxy import sni_cut, two_records
    hello = _hello("blocked.example.com")
    cut = sni_cut(hello)
    assert b"blocked.example.com" not in hello[:cut] and b"blocked.example.com" not in hello[cut:]
    assert hello[cut - 3:cut + 3] in b"blocked.example.com"
    framed = two_records(hello, cut)
    assert tls.parse_client_hello(framed, join_records=True).value.sni == "blocked.example.com"
    assert tls.parse_client_hello(framed, join_records=False).status != tls.OK
    assert tls.parse_client_hello(hello[:cut], join_records=False).status != tls.OK


def test_a_penalty_box_blocks_the_next_trial_too():
    from lab.compare.runner import Trial, attribute
    from lab.compare.measure import Fetch
    box = {"t": 2.0, "rule": "fet", "technique": "residual", "action": "drop",
           "flow": {"proto": "tcp", "src": "198.18.0.10", "sport": None,
                    "dst": "198.19.20.10", "dport": 8388}}
    first = Trial("s", "shadowsocks", 0, True, window=(1.0, 8.0),
                  fetches=[Fetch("https://a/", False)])
    other = Trial("s", "tls-tunnel", 0, True, window=(8.0, 12.0),
                  fetches=[Fetch("https://a/", True)])
    again = Trial("s", "shadowsocks", 1, True, window=(12.0, 19.0),
                  fetches=[Fetch("https://a/", False)])
    later = Trial("s", "shadowsocks", 2, True, window=(200.0, 205.0),
                  fetches=[Fetch("https://a/", False)])
    attribute([first, other, again, later], [box], "198.18.0.10", "198.19.20.10",
              {"fet": 180.0})
    assert (first.status, first.blocked_by) == ("blocked", ["fet"])
    assert other.status == "works" and other.events == []
    assert (again.status, again.blocked_by) == ("blocked", ["fet"])
    assert again.events[0]["carried"] and again.events[0]["on_tunnel"]
    assert later.status == "failed"        # the box had ended: not the censor's doing
