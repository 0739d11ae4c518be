"""os-ken's internals that controllers/openflow/link.py and wire.py replace or lean on.

link.py swaps `Datapath._recv_loop` for a chunked reader and batches sends, and serves the
switch's Unix-socket connection (controllers.main listens on a path); wire.py registers
its own packet-in parser in `_MSG_PARSERS` and hands os-ken a pre-packed OFPMatch. Both are
written against os-ken 4.2 (pyproject.toml bounds it). This test fails loudly when any of
those pieces changes — a new os-ken release, a distribution's patch — so that someone re-reads
link.py and wire.py against the new code instead of finding out from a wedged switch. When it
fails: read the new source of the named function, adapt link.py / wire.py, then update its
fingerprint here.
"""
from __future__ import annotations

import hashlib
import inspect
from importlib.metadata import version

import os_ken.base.app_manager  # noqa: F401  (os-ken's own import order: before controller)
from os_ken.controller import controller, ofp_event
from os_ken.lib import hub, pack_utils
from os_ken.ofproto import ofproto_parser, ofproto_v1_3, ofproto_v1_3_parser

# sha256 (first 16 hex digits) of each function's source as os-ken 4.2.2 ships it.
FINGERPRINTS = {
    "Datapath._recv_loop": "50b275c5d90e20a0",
    "Datapath._send_loop": "f42cdcbb3d18a866",
    "Datapath.send": "c29887cb1f97e30f",
    "controller._deactivate": "ba20c6f8edf8746b",
    "ofproto_parser.msg": "79295fe6af24fbd7",
    "OFPPacketIn.parser": "97db75ec17dd9801",
    "OFPMatch.serialize": "cc9c00994b123118",
    "ofp_event.ofp_msg_to_ev": "2e92fd269cc02a9a",
    "pack_utils.msg_pack_into": "566a0bf8677b602f",
    # the Unix-socket OpenFlow connection (controllers.main, link.install): a path as the
    # listen host, a port that keeps the old one (6633) shut, TCP_NODELAY set by Datapath
    "controller.datapath_connection_factory": "427965f946c02073",
    "OpenFlowController.__init__": "c13553ec6fa8d236",
    "OpenFlowController.server_loop": "6ee46be108e81008",
    "Datapath.__init__": "4b73fcf36b79ec84",
    "hub.StreamServer.__init__": "63bcfb5ffec38f94",
}


def _unwrapped(name: str):
    """The loop os-ken wrote (the reader is wrapped by `_deactivate`, a closure; link.install()
    keeps os-ken's own as `os_ken_recv_loop` when it has run in this process)."""
    wrapped = controller.Datapath.__dict__.get("os_ken" + name, controller.Datapath.__dict__[name])
    cells = [c.cell_contents for c in (wrapped.__closure__ or ())]
    return next((c for c in cells if callable(c)), wrapped)


def _functions():
    return {
        "Datapath._recv_loop": _unwrapped("_recv_loop"),
        "Datapath._send_loop": _unwrapped("_send_loop"),
        "Datapath.send": controller.Datapath.send,
        "controller._deactivate": controller._deactivate,
        "ofproto_parser.msg": ofproto_parser.msg,
        "OFPPacketIn.parser": ofproto_v1_3_parser.OFPPacketIn.parser,
        "OFPMatch.serialize": ofproto_v1_3_parser.OFPMatch.serialize,
        "ofp_event.ofp_msg_to_ev": ofp_event.ofp_msg_to_ev,
        "pack_utils.msg_pack_into": pack_utils.msg_pack_into,
        "controller.datapath_connection_factory": controller.__dict__.get(
            "os_ken_connection_factory", controller.datapath_connection_factory),
        "OpenFlowController.__init__": controller.OpenFlowController.__init__,
        "OpenFlowController.server_loop": controller.OpenFlowController.server_loop,
        "Datapath.__init__": controller.Datapath.__init__,
        "hub.StreamServer.__init__": hub.StreamServer.__init__,
    }


def _fingerprint(func) -> str:
    src = inspect.getsource(getattr(func, "__func__", func))
    return hashlib.sha256(src.encode()).hexdigest()[:16]


def test_the_replaced_internals_are_the_ones_link_and_wire_were_written_against():
    changed = [f"{name} (now {_fingerprint(func)})" for name, func in _functions().items()
               if _fingerprint(func) != FINGERPRINTS[name]]
    assert not changed, (
        f"os-ken {version('os-ken')} changed what controllers/openflow/link.py and wire.py "
        f"replace: {', '.join(changed)}. Re-read them against the new source, then update "
        "FINGERPRINTS in this test.")


def test_the_hooks_link_and_wire_use_are_there():
    assert isinstance(ofproto_v1_3_parser._MSG_PARSERS, dict)
    assert ofproto_v1_3.OFPT_PACKET_IN in ofproto_v1_3_parser._MSG_PARSERS
    dp = controller.Datapath
    for attr in ("send", "set_state", "_send_loop", "_recv_loop"):
        assert hasattr(dp, attr), f"os-ken's Datapath lost {attr}"
    params = list(inspect.signature(ofproto_parser.msg).parameters)
    assert params == ["datapath", "version", "msg_type", "msg_len", "xid", "buf"], params
