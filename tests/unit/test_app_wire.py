"""The app packs flow mods and packet-outs itself (the hot path of a packet-in): byte for byte
what os-ken serializes, for every entry and frame the engine makes."""
from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from os_ken.ofproto import ofproto_v1_3 as ofp
from os_ken.ofproto import ofproto_v1_3_parser as parser

from controllers.openflow.packetpath import PacketPath
from controllers.openflow import wire as ofwire
from controllers.engine import effects as fx

ips = st.integers(0, 2**32 - 1).map(lambda n: ".".join(str(n >> s & 255) for s in (24, 16, 8, 0)))
ports = st.integers(0, 65535)
matches = st.fixed_dictionaries({}, optional={
    "in_port": st.integers(1, 0xFFFFFF00), "eth_type": st.just(0x0800),
    "ip_proto": st.sampled_from([1, 6, 17]),
    "ipv4_src": st.one_of(ips, st.tuples(ips, st.just("255.255.0.0"))),
    "ipv4_dst": ips, "tcp_src": ports, "tcp_dst": st.one_of(ports, st.tuples(ports, ports)),
    "udp_src": ports, "udp_dst": ports})
atoms = st.lists(st.sampled_from([fx.NORMAL, fx.CONTROLLER, ("output", 3), fx.meter(9),
                                  ("set_eth_dst", "02:00:c6:13:00:0b")]),
                 max_size=3, unique=True)
specs = st.builds(fx.FlowSpec, priority=st.sampled_from([0, 100, 200, 300]), match=matches,
                  actions=atoms.map(tuple), idle_timeout=st.sampled_from([0, 30]),
                  hard_timeout=st.sampled_from([0, 120]),
                  cookie=st.integers(0, 2**64 - 1))


class Datapath:
    ofproto, ofproto_parser = ofp, parser

    def __init__(self):
        self.xid = 41

    def set_xid(self, msg):
        self.xid += 1
        msg.set_xid(self.xid)


def os_ken_flow_mod(spec: fx.FlowSpec) -> bytes:
    """The flow mod as os-ken builds and serializes it: the reference the packing must equal."""
    dp = Datapath()
    actions, inst = [], []
    for atom in spec.actions:
        if atom[0] == "normal":
            actions.append(parser.OFPActionOutput(ofp.OFPP_NORMAL))
        elif atom[0] == "controller":
            actions.append(parser.OFPActionOutput(ofp.OFPP_CONTROLLER, ofp.OFPCML_NO_BUFFER))
        elif atom[0] == "output":
            actions.append(parser.OFPActionOutput(atom[1]))
        elif atom[0] == "set_eth_dst":
            actions.append(parser.OFPActionSetField(eth_dst=atom[1]))
        elif atom[0] == "meter":
            inst.append(parser.OFPInstructionMeter(atom[1], ofp.OFPIT_METER))
    if actions:
        inst.append(parser.OFPInstructionActions(ofp.OFPIT_APPLY_ACTIONS, actions))
    msg = parser.OFPFlowMod(dp, cookie=spec.cookie, table_id=spec.table, priority=spec.priority,
                            idle_timeout=spec.idle_timeout, hard_timeout=spec.hard_timeout,
                            match=parser.OFPMatch(**spec.match), instructions=inst)
    return ofwire.wire(dp, msg)


@settings(max_examples=300, deadline=None)
@given(specs)
def test_flow_mod_bytes_are_what_os_ken_sends(spec):
    assert ofwire.flow_mod_bytes(42, spec) == os_ken_flow_mod(spec)


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=14, max_size=1600), st.one_of(st.none(), st.integers(1, 500)),
       st.one_of(st.none(), st.integers(1, 500)))
def test_packet_out_bytes_are_what_os_ken_sends(frame, in_port, out_port):
    out = fx.Output(frame, in_port, out_port)
    dp = Datapath()
    msg = parser.OFPPacketOut(
        dp, buffer_id=ofp.OFP_NO_BUFFER,
        in_port=ofp.OFPP_CONTROLLER if in_port is None else in_port,
        actions=[parser.OFPActionOutput(ofp.OFPP_NORMAL if out_port is None else out_port)],
        data=frame)
    assert ofwire.packet_out_bytes(42, out) == ofwire.wire(dp, msg)


def test_a_match_field_not_packed_here_is_refused_by_name():
    spec = fx.FlowSpec(100, {"eth_src": "02:00:00:00:00:01"}, (fx.NORMAL,))
    with pytest.raises(ValueError, match="eth_src"):
        ofwire.flow_mod_bytes(1, spec)


def test_apply_sends_one_write_in_effect_order():
    sent = []

    class Dp(Datapath):
        def send(self, buf):
            sent.append(bytes(buf))
    a = PacketPath(engine=None, event_log=None, name="censor", t0=0.0)
    a.datapath = dp = Dp()
    pair = [fx.InstallFlow(fx.FlowSpec(300, {"eth_type": 0x0800, "ip_proto": 6}, (fx.NORMAL,)))]
    effects = [fx.AddMeter(5, 1000, 600), *pair, fx.Output(b"\x00" * 60, 1)]
    a.apply(effects)
    assert len(sent) == 1
    msg = sent[0]
    types = []
    while msg:
        length = int.from_bytes(msg[2:4], "big")
        types.append(msg[1])
        msg = msg[length:]
    assert types == [ofp.OFPT_METER_MOD, ofp.OFPT_FLOW_MOD, ofp.OFPT_PACKET_OUT]
    assert dp.xid == 44                    # each message its own transaction id


def test_syn_entry_is_what_ovs_reads_as_check_pkt_larger():
    # `ovs-ofctl ofp-print` of these bytes (OVS 3.1): "OFPT_FLOW_MOD (OF1.3) (xid=0x1): ADD
    # priority=101,tcp,tcp_flags=+syn-ack out_port:0
    # actions=check_pkt_larger(74)->NXM_NX_REG0[0],goto_table:1"
    spec = fx.FlowSpec(101, {"eth_type": 0x0800, "ip_proto": 6, "tcp_flags": (0x02, 0x12)},
                       (fx.up_if_larger(74),))
    assert ofwire.flow_mod_bytes(1, spec).hex() == (
        "040e007000000001000000000000000000000000000000000000000000000065ffffffff00000000"
        "00000000000000000001001780000a02080080001401060001450400020012000004002000000000"
        "ffff0018000023200031004a0000000100040000000000000001000801000000")


def test_size_table_entry_targets_table_1():
    spec = fx.FlowSpec(1, {"reg0": (1, 1)}, (fx.CONTROLLER,), table=1)
    data = ofwire.flow_mod_bytes(7, spec)
    assert data[24] == 1                                    # ofp_flow_mod.table_id
    assert bytes.fromhex("00010108" "00000001" "00000001") in data      # reg0=1/1


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=0, max_size=1600), st.integers(1, 0xFFFFFF00),
       st.one_of(st.none(), st.integers(0, 2**32 - 1)), st.integers(0, 2**64 - 1))
def test_packet_in_read_as_os_ken_reads_it(frame, in_port, reg0, cookie):
    fields = [("in_port", in_port)] + ([("reg0", reg0)] if reg0 is not None else [])
    match = parser.OFPMatch(_ordered_fields=fields)
    buf = bytearray()
    match.serialize(buf, 0)
    body = struct.pack("!IHBBQ", 0xFFFFFFFF, len(frame), 1, 1, cookie) + bytes(buf) \
        + b"\0\0" + frame
    msg = struct.pack("!BBHI", 4, ofp.OFPT_PACKET_IN, 8 + len(body), 5) + body
    theirs = parser.OFPPacketIn.parser(None, 4, ofp.OFPT_PACKET_IN, len(msg), 5, msg)
    ours = ofwire.parse_packet_in(None, 4, ofp.OFPT_PACKET_IN, len(msg), 5, msg)
    assert ours.match == {"in_port": theirs.match["in_port"]} and ours.data == theirs.data
    assert (ours.buffer_id, ours.total_len, ours.reason, ours.table_id, ours.cookie, ours.xid) \
        == (theirs.buffer_id, theirs.total_len, theirs.reason, theirs.table_id, theirs.cookie,
            theirs.xid)


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=14, max_size=1600), st.integers(1, 500), st.integers(1, 0xFFFF),
       st.integers(1, 2**32 - 1))
def test_committing_packet_out_is_what_os_ken_sends(frame, in_port, zone, mark):
    """ct(commit,zone=Z,exec(set_field:MARK->ct_mark)),NORMAL: the conntrack lane's release."""
    dp = Datapath()
    ct = parser.NXActionCT(flags=1, zone_src="", zone_ofs_nbits=zone, recirc_table=0xFF,
                           alg=0, actions=[parser.OFPActionSetField(ct_mark=mark)])
    msg = parser.OFPPacketOut(dp, buffer_id=ofp.OFP_NO_BUFFER, in_port=in_port,
                              actions=[ct, parser.OFPActionOutput(ofp.OFPP_NORMAL)], data=frame)
    out = fx.Output(frame, in_port, commit=(zone, mark))
    assert ofwire.packet_out_bytes(42, out) == ofwire.wire(dp, msg)


def test_conntrack_lane_entry_packs_its_ct_action_and_ct_fields():
    spec = fx.FlowSpec(250, {"in_port": 3, "eth_type": 0x0800, "ip_proto": 6, "tcp_dst": 443,
                             "ip_frag": (0, 1), "ct_state": (0, 0x20)},
                       (fx.conntrack(9, 0),))
    data = ofwire.flow_mod_bytes(7, spec)
    ct = parser.NXActionCT(flags=0, zone_src="", zone_ofs_nbits=9, recirc_table=0, alg=0,
                           actions=[])
    buf = bytearray()
    ct.serialize(buf, 0)
    assert data.endswith(bytes(buf))
    assert bytes.fromhex("00013502" "00" "01") in data                 # ip_frag=0/1 (no)
    assert bytes.fromhex("0001d308" "00000000" "00000020") in data     # ct_state=-trk
    allowed = fx.FlowSpec(260, {"ct_state": (0x20, 0x20), "ct_mark": 5}, (fx.NORMAL,))
    assert bytes.fromhex("0001d604" "00000005") in ofwire.flow_mod_bytes(8, allowed)
