"""OpenFlow 1.3 messages of the censor's hot path, packed straight into bytes.

The app (controllers.openflow.app) sends a flow mod pair and a few packet-outs per decided flow;
building them as os-ken objects and serializing those was most of a packet-in's cost. Matches,
flow mods and packet-outs are packed here, byte for byte what os-ken sends (the unit tests
compare them). `encode` is the one translation of an engine effect into OpenFlow bytes: flow
mods and packet-outs packed here, the rare deletes and meter mods built by os-ken.
"""
from __future__ import annotations

import socket
import struct

from os_ken.lib.pack_utils import msg_pack_into
from os_ken.ofproto import ofproto_v1_3, ofproto_v1_3_parser

from controllers.engine import effects as fx
from controllers.switch.tables import SIZE_TABLE

# --- OXM matches, packed directly ------------------------------------------------------------
# Building an OFPMatch from keywords goes through os-ken's generic field conversion (netaddr
# for every address), the largest cost of a packet-in under load. The engine's matches use a
# handful of fields, so they are packed here (field order by OXM number, which keeps every
# prerequisite before the field needing it); a match with any other field goes the usual way.
# name: (order, OXM class, field, size). OVS's tcp_flags and reg0 are Nicira (class 1) fields;
# they sort after the OpenFlow ones (tcp_flags needs ip_proto=6 ahead of it).
_BASIC, _NXM1 = 0x8000, 0x0001
_OXM_FIELDS = {"in_port": (0, _BASIC, 0, 4), "eth_type": (5, _BASIC, 5, 2),
               "ip_proto": (10, _BASIC, 10, 1), "ipv4_src": (11, _BASIC, 11, 4),
               "ipv4_dst": (12, _BASIC, 12, 4), "tcp_src": (13, _BASIC, 13, 2),
               "tcp_dst": (14, _BASIC, 14, 2), "udp_src": (15, _BASIC, 15, 2),
               "udp_dst": (16, _BASIC, 16, 2), "tcp_flags": (40, _NXM1, 34, 2),
               "reg0": (41, _NXM1, 0, 4), "ipv6_src": (26, _BASIC, 26, 16),
               "ipv6_dst": (27, _BASIC, 27, 16), "ip_frag": (42, _NXM1, 26, 1),
               "ct_state": (43, _NXM1, 105, 4), "ct_mark": (44, _NXM1, 107, 4)}


def _oxm_value(size: int, value) -> bytes:
    if size == 4 and isinstance(value, str):
        return socket.inet_aton(value)
    if size == 16 and isinstance(value, str):
        return socket.inet_pton(socket.AF_INET6, value)
    return int(value).to_bytes(size, "big")


class PackedMatch(ofproto_v1_3_parser.OFPMatch):
    """An OFPMatch already in wire form (type, length, OXM fields, padding)."""

    def __init__(self, data: bytes):          # pylint: disable=super-init-not-called
        self.data = data
        self.length = struct.unpack_from("!H", data, 2)[0]

    def serialize(self, buf, offset):
        msg_pack_into(f"{len(self.data)}s", buf, offset, self.data)
        return len(self.data)


def packed_match(match: dict) -> PackedMatch | None:
    """The match in OXM wire form, or None when it uses a field not packed here."""
    fields = []
    try:
        for key, value in match.items():
            order, oxm_class, field, size = _OXM_FIELDS[key]
            head = oxm_class << 16 | field << 9
            if isinstance(value, tuple):            # value bits outside the mask are 0
                mask = _oxm_value(size, value[1])
                body = bytes(a & b for a, b in zip(_oxm_value(size, value[0]), mask)) + mask
                fields.append((order, head | 1 << 8 | 2 * size, body))
            else:
                fields.append((order, head | size, _oxm_value(size, value)))
    except (KeyError, ValueError, TypeError, OSError, OverflowError):
        return None
    oxm = b"".join(struct.pack("!I", head) + body for _f, head, body in sorted(fields))
    length = 4 + len(oxm)
    return PackedMatch(struct.pack("!HH", 1, length) + oxm + bytes(-length % 8))


# --- flow mods and packet-outs, packed directly --------------------------------------------
# A decided flow costs two flow mods and its held packets' packet-outs; building them as
# os-ken objects and serializing those was the rest of a packet-in's cost. The two messages
# the hot path sends are packed here, byte for byte what os-ken sends (tests check it).

_OFP_VERSION, _OFPT_PACKET_OUT, _OFPT_FLOW_MOD = 4, 13, 14
_OFPP_NORMAL, _OFPP_CONTROLLER = 0xFFFFFFFA, 0xFFFFFFFD
_OFPCML_MAX, _OFPCML_NO_BUFFER, _OFP_NO_BUFFER = 0xFFE5, 0xFFFF, 0xFFFFFFFF
_FLOW_MOD_HEAD = struct.Struct("!BBHIQQBBHHHIIIH2x")        # header + ofp_flow_mod fields
_PACKET_OUT_HEAD = struct.Struct("!BBHIIIH6x")
_OUTPUT = struct.Struct("!HHIH6x")                          # OFPAT_OUTPUT, 16 bytes
# OVS's check_pkt_larger(len)->NXM_NX_REG0[0]: vendor action NXAST_CHECK_PKT_LARGER (49),
# the result bit's offset and the destination's NXM header, padded to 24 bytes.
_CHECK_PKT_LARGER = struct.Struct("!HHIHHHI6x")
_NX_VENDOR, _NXAST_CHECK_PKT_LARGER, _NXM_NX_REG0 = 0x2320, 49, 0x00010004
_GOTO_TABLE = struct.Struct("!HHB3x")                       # OFPIT_GOTO_TABLE
# OVS's ct(...): vendor action NXAST_CT (35): flags (bit 0: commit), zone_src (0: the zone is
# immediate), the zone, the table to go on in (0xFF: none, the next action follows), 3 bytes
# of padding, the ALG (0: none); then its nested actions, counted in its length.
_CT = struct.Struct("!HHIHHIHB3xH")
_NXAST_CT, _NX_CT_F_COMMIT, _NX_CT_RECIRC_NONE = 35, 1, 0xFF
_CT_MARK_OXM = _NXM1 << 16 | 107 << 9 | 4                   # NXM_NX_CT_MARK, 4 bytes


def next_xid(dp) -> int:
    """The datapath's next transaction id (as os-ken's Datapath.set_xid gives them)."""
    dp.xid = (dp.xid + 1) & 0xFFFFFFFF
    return dp.xid


def wire(dp, msg) -> bytes:
    """An os-ken message as the bytes Datapath.send_msg would send."""
    dp.set_xid(msg)
    msg.serialize()
    return bytes(msg.buf)


def _output(port: int, max_len: int = _OFPCML_MAX) -> bytes:
    return _OUTPUT.pack(0, 16, port, max_len)


def _set_eth_dst(mac: str) -> bytes:
    """OFPAT_SET_FIELD with the OXM eth_dst (class 0x8000, field 3, 6 bytes), padded to 16."""
    oxm = struct.pack("!I", 0x8000 << 16 | 3 << 9 | 6) + bytes.fromhex(mac.replace(":", ""))
    return struct.pack("!HH", 25, 16) + oxm + b"\0" * 2


def _ct(zone: int, table: int = _NX_CT_RECIRC_NONE, mark: int | None = None) -> bytes:
    """ct(zone=zone[,table=table]) or, with a mark, ct(commit,zone=zone,
    exec(set_field:mark->ct_mark))."""
    nested = b""
    if mark is not None:        # OFPAT_SET_FIELD of the OXM ct_mark, padded to 16 bytes
        nested = struct.pack("!HHII", 25, 16, _CT_MARK_OXM, mark) + b"\0" * 4
    return _CT.pack(0xFFFF, _CT.size + len(nested), _NX_VENDOR, _NXAST_CT,
                    _NX_CT_F_COMMIT if mark is not None else 0, 0, zone, table,
                    0) + nested


def flow_mod_bytes(xid: int, spec: fx.FlowSpec) -> bytes:
    """An OFPFC_ADD flow mod for `spec` in wire form (ValueError for a match field that is not
    packed here: the engine makes none)."""
    match = packed_match(spec.match)
    if match is None:
        raise ValueError(f"a flow entry's match has a field not packed here: {spec.match}")
    actions, meter_id, goto = [], None, None
    for atom in spec.actions:
        kind = atom[0]
        if kind == "normal":
            actions.append(_output(_OFPP_NORMAL))
        elif kind == "controller":
            actions.append(_output(_OFPP_CONTROLLER, _OFPCML_NO_BUFFER))
        elif kind == "output":
            actions.append(_output(atom[1]))
        elif kind == "set_eth_dst":
            actions.append(_set_eth_dst(atom[1]))
        elif kind == "meter":
            meter_id = atom[1]
        elif kind == "ct":
            actions.append(_ct(atom[1], atom[2]))
        elif kind == "up_if_larger":
            actions.append(_CHECK_PKT_LARGER.pack(0xFFFF, 24, _NX_VENDOR,
                                                  _NXAST_CHECK_PKT_LARGER, atom[1], 0,
                                                  _NXM_NX_REG0))
            goto = SIZE_TABLE
    inst = b""
    if meter_id is not None:
        inst += struct.pack("!HHI", 6, 8, meter_id)                     # OFPIT_METER
    if actions:
        body = b"".join(actions)
        inst += struct.pack("!HH4x", 4, 8 + len(body)) + body           # OFPIT_APPLY_ACTIONS
    if goto is not None:
        inst += _GOTO_TABLE.pack(1, 8, goto)
    length = _FLOW_MOD_HEAD.size + len(match.data) + len(inst)
    return _FLOW_MOD_HEAD.pack(_OFP_VERSION, _OFPT_FLOW_MOD, length, xid, spec.cookie, 0,
                               spec.table, 0, spec.idle_timeout, spec.hard_timeout,
                               spec.priority, _OFP_NO_BUFFER, 0, 0, 0) + match.data + inst


def encode(dp, effect) -> bytes | None:
    """The OpenFlow message for one switch effect (None for an event: not the switch's)."""
    if isinstance(effect, fx.InstallFlow):
        return flow_mod_bytes(next_xid(dp), effect.spec)
    if isinstance(effect, fx.Output):
        return packet_out_bytes(next_xid(dp), effect)
    ofp, parser = dp.ofproto, dp.ofproto_parser
    if isinstance(effect, fx.RemoveFlows):
        return wire(dp, parser.OFPFlowMod(
            dp, cookie=effect.cookie, cookie_mask=effect.cookie_mask, command=ofp.OFPFC_DELETE,
            table_id=ofp.OFPTT_ALL, out_port=ofp.OFPP_ANY, out_group=ofp.OFPG_ANY))
    if isinstance(effect, fx.AddMeter):
        band = parser.OFPMeterBandDrop(rate=effect.rate_kbps, burst_size=effect.burst_kbits)
        return wire(dp, parser.OFPMeterMod(dp, command=ofp.OFPMC_ADD,
                                           flags=ofp.OFPMF_KBPS | ofp.OFPMF_BURST,
                                           meter_id=effect.meter_id, bands=[band]))
    if isinstance(effect, fx.RemoveMeter):
        return wire(dp, parser.OFPMeterMod(dp, command=ofp.OFPMC_DELETE,
                                           meter_id=effect.meter_id))
    return None


def packet_out_bytes(xid: int, out: fx.Output) -> bytes:
    """The packet-out that sends `out.frame` (NORMAL unless out_port), in wire form; with
    `out.commit` (zone, mark) its connection is committed to the connection tracker first."""
    port = _OFPP_NORMAL if out.out_port is None else out.out_port
    in_port = _OFPP_CONTROLLER if out.in_port is None else out.in_port
    frame = bytes(out.frame)
    actions = _output(port)
    if out.commit is not None:
        actions = _ct(out.commit[0], mark=out.commit[1]) + actions
    return _PACKET_OUT_HEAD.pack(_OFP_VERSION, _OFPT_PACKET_OUT,
                                 _PACKET_OUT_HEAD.size + len(actions) + len(frame), xid,
                                 _OFP_NO_BUFFER, in_port, len(actions)) + actions + frame


# --- packet-ins, read directly ---------------------------------------------------------------
# os-ken parses a packet-in's whole match into an OFPMatch (a tenth of the censor's time under
# a DNS load); the app reads only in_port and the frame.
_PACKET_IN_HEAD = struct.Struct("!IHBBQ")       # buffer_id, total_len, reason, table_id, cookie
_TOTAL_LEN_COOKIE = struct.Struct("!H2xQ")   # total_len, (reason, table_id), cookie
_OXM_HEAD = struct.Struct("!I")
_IN_PORT_OXM = 0x80000000 | 0 << 9 | 4          # OFPXMC_OPENFLOW_BASIC, OFPXMT_OFB_IN_PORT


def packet_in_fields(buf, offset: int = 0) -> tuple[int | None, int, bytes]:
    """(in_port, cookie, frame) of the OpenFlow 1.3 packet-in at `offset` of `buf`: all the
    app reads of one (controllers.openflow.link hands them over without an OFPPacketIn)."""
    total_len, cookie = _TOTAL_LEN_COOKIE.unpack_from(buf, offset + 12)
    match_len = struct.unpack_from("!H", buf, offset + 26)[0]   # ofp_match at offset 24
    in_port, pos, end = None, offset + 28, offset + 24 + match_len
    while pos + 4 <= end:
        head = _OXM_HEAD.unpack_from(buf, pos)[0]
        if head == _IN_PORT_OXM:
            in_port = _OXM_HEAD.unpack_from(buf, pos + 4)[0]
            break                               # all the app reads of the match
        pos += 4 + (head & 0xFF)
    start = offset + 24 + (match_len + 7) // 8 * 8 + 2
    return in_port, cookie, bytes(buf[start:start + total_len])


def parse_packet_in(datapath, version, msg_type, msg_len, xid, buf):
    """An OFPPacketIn whose `match` is {"in_port": n} and whose `data` is the frame: the same
    fields os-ken's parser fills for the app, in a fraction of its time."""
    msg = ofproto_v1_3_parser.OFPPacketIn(datapath)
    msg.set_headers(version, msg_type, msg_len, xid)
    msg.set_buf(buf)
    (msg.buffer_id, msg.total_len, msg.reason, msg.table_id,
     msg.cookie) = _PACKET_IN_HEAD.unpack_from(buf, 8)
    in_port, _cookie, msg.data = packet_in_fields(buf)
    msg.match = {} if in_port is None else {"in_port": in_port}
    return msg


def read_packet_ins_directly() -> None:
    """Have os-ken read OpenFlow 1.3 packet-ins with parse_packet_in."""
    ofproto_v1_3_parser._MSG_PARSERS[ofproto_v1_3.OFPT_PACKET_IN] = parse_packet_in
