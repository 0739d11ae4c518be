"""The intercept action (controllers.engine.actions): a flow to a listed server is decided on
the client's SYN and diverted to the proxy host (lab.services.intercept), its Ethernet
destination rewritten; the proxy's answers go back NORMAL. The real path, with the proxy
terminating TLS: tests/integration/test_intercept.py."""
from controllers import packets as P
from controllers.engine.effects import NORMAL, InstallFlow, Output
from controllers.engine.engine import Engine
from engine_helpers import HOSTS, TcpClient, events, policy, rule

MITM = {"ip": "198.19.0.20", "mac": "02:00:c6:13:00:14", "port": 6, "side": "internet"}


def engine(via="mitm"):
    p = policy(rule("kz", {"server": ["web"], "proto": ["tcp"]},
                    {"type": "intercept", "via": via}))
    p["hosts"] = {**HOSTS, "mitm": MITM}
    return Engine(p)


def test_the_syn_is_diverted_to_the_proxy_and_the_flow_pinned_there():
    e, c = engine(), TcpClient()
    e.base_effects()
    eff = e.packet_in(c.syn(), 1, 0.0)
    [ev] = events(eff)
    assert (ev["rule"], ev["action"], ev["technique"]) == ("kz", "intercept", "server")
    [out] = [x for x in eff if isinstance(x, Output)]
    assert out.out_port == MITM["port"] and out.frame[:6] == P.mac_bytes(MITM["mac"])
    assert out.frame[6:] == c.syn()[6:]                 # only the destination MAC changes
    c2s, s2c = [x.spec for x in eff if isinstance(x, InstallFlow)]
    assert c2s.actions == (("set_eth_dst", MITM["mac"]), ("output", MITM["port"]))
    assert s2c.actions == (NORMAL,)                    # the proxy answers as the server
    # a later packet that comes up (a race) goes the same way
    data = c.data(b"hello")
    again = [x for x in e.packet_in(data, 1, 0.1) if isinstance(x, Output)]
    assert again == [Output(P.mac_bytes(MITM["mac"]) + data[6:], 1, MITM["port"])]


def test_without_the_proxy_on_this_switch_the_flow_is_dropped():
    e, c = engine(via="nowhere"), TcpClient()
    e.base_effects()
    eff = e.packet_in(c.syn(), 1, 0.0)
    assert not [x for x in eff if isinstance(x, Output)]
    assert all(x.spec.actions == () for x in eff if isinstance(x, InstallFlow))
