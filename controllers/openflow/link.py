"""The switch connection's reader: large reads, and one write per read.

os-ken's Datapath reads an OpenFlow connection eight bytes (a header) and then the rest of
one message per recv, and queues every send for a writer greenthread: under a DNS load that
was two system calls and two greenthread hops per packet-in, and one write per packet-out.
`install()` gives Datapath a reader that takes what the socket holds (up to CHUNK bytes),
hands each packet-in of a connected switch straight to the app's handler (its in_port, cookie
and frame, read from the buffer: no message object, as a DNS query is one packet-in and one
packet-out and nothing else), dispatches every
other message as os-ken's own reader does (observers, then the ofp_brick's handlers for the
connection's state), and collects what handlers send meanwhile through `send_now` into one
write at the end of the read, then yields so that the writer sends it. Just before each such
write it calls the `before_write` hooks given to `install()` (the packet path writes out the
read's event lines there: controllers.openflow.packetpath).

The switch connects over a Unix socket (controllers.main): os-ken's Datapath sets TCP_NODELAY
on every connection, which a Unix socket refuses, so `install()` also wraps os-ken's
connection factory to make TCP options a no-op on a Unix connection.

Nothing else of os-ken changes: handshake, echo, features and the event queues are its own.
"""
from __future__ import annotations

import logging
import socket
import ssl
from typing import Callable
import struct
from socket import timeout as SocketTimeout

from os_ken.controller import ofp_event
from os_ken.controller.handler import DEAD_DISPATCHER, MAIN_DISPATCHER
from os_ken.lib import hub
from os_ken.ofproto import ofproto_common, ofproto_parser

from controllers.openflow.wire import packet_in_fields

log = logging.getLogger("blocklab.censor")

_packet_in: list[Callable] = []     # the app's handler(in_port, cookie, frame) (install())
_before_write: list[Callable] = []  # called before each batch is written (install())
_OFPT_PACKET_IN = 10
_OF13 = 4
CHUNK = 256 * 1024          # bytes asked of the socket per read
YIELD_EVERY = 2048          # messages between yields to other greenthreads (as os-ken does)
_HEADER = struct.Struct("!BBHI")


def send_now(dp, data: bytes) -> None:
    """Send `data` on the switch connection: with the read's batch when a read is being
    dispatched (in order, one write at its end), else at once."""
    batch = getattr(dp, "blocklab_batch", None)
    if batch is not None:
        batch.append(data)
    else:
        dp.send(data)


def batching(dp) -> bool:
    """Whether what is sent on `dp` now goes out with a read's batch (see send_now)."""
    return getattr(dp, "blocklab_batch", None) is not None


def _flush(dp, more: bool) -> None:
    """Write the batch; with `more`, keep batching (the read is still being dispatched)."""
    batch, dp.blocklab_batch = dp.blocklab_batch, ([] if more else None)
    for hook in _before_write:
        try:
            hook()
        except Exception:       # never into the reader: it would drop the switch
            log.exception("before-write hook failed")
    if batch:
        dp.send(b"".join(batch))


def _dispatch(dp, msg) -> None:
    if msg.msg_type == _OFPT_PACKET_IN and dp.state == MAIN_DISPATCHER and _packet_in:
        try:
            _packet_in[0](msg.match.get("in_port"), msg.cookie, msg.data)
        except Exception:       # never into the reader: it would drop the switch
            log.exception("packet-in failed")
        return
    ev = ofp_event.ofp_msg_to_ev(msg)
    brick = dp.ofp_brick
    if brick is None:
        return
    state = dp.state
    brick.send_event_to_observers(ev, state)
    # the handlers for the state the message came in (as os-ken picks them: before any runs,
    # since the handshake's handlers move the state on)
    handlers = [h for h in brick.get_handlers(ev)
                if state in h.callers[ev.__class__].dispatchers]
    for handler in handlers:
        handler(ev)


def _recv_loop(self) -> None:
    """Datapath._recv_loop, reading in chunks (see the module's docstring)."""
    buf = bytearray()
    header = ofproto_common.OFP_HEADER_SIZE
    count = 0
    self.blocklab_batch = None
    handler = _packet_in[0] if _packet_in else None
    try:
        while self.state != DEAD_DISPATCHER:
            try:
                data = self.socket.recv(CHUNK)
            except (SocketTimeout, ssl.SSLError):
                continue
            except (EOFError, IOError):
                break
            if not data:
                break
            buf += data
            offset, size = 0, len(buf)
            self.blocklab_batch = []
            try:
                while size - offset >= header:
                    version, msg_type, msg_len, xid = _HEADER.unpack_from(buf, offset)
                    msg_len = max(msg_len, header)
                    if size - offset < msg_len:
                        break
                    if msg_type == _OFPT_PACKET_IN and handler is not None \
                            and version == _OF13 and self.state == MAIN_DISPATCHER:
                        try:
                            handler(*packet_in_fields(buf, offset))
                        except Exception:   # never into the reader: it would drop the switch
                            log.exception("packet-in failed")
                    else:
                        msg = ofproto_parser.msg(self, version, msg_type, msg_len, xid,
                                                 buf[offset:offset + msg_len])
                        if msg:
                            _dispatch(self, msg)
                    offset += msg_len
                    count += 1
                    if count >= YIELD_EVERY:
                        count = 0
                        _flush(self, more=False)    # others may send while we yield
                        hub.sleep(0)
                        self.blocklab_batch = []
            finally:
                del buf[:offset]
                _flush(self, more=False)
            # A recv that finds data does not yield: without this the writer greenthread
            # would wait for the next idle moment, and the answers with it.
            hub.sleep(0)
    finally:
        self.blocklab_batch = None


def _tcp_options_ignored(sock) -> None:
    """Make `sock` (eventlet's socket, whose setsockopt is its own attribute) take TCP-level
    options as a no-op: os-ken's Datapath sets TCP_NODELAY on every connection."""
    real = sock.setsockopt

    def setsockopt(level, *args):
        if level != socket.IPPROTO_TCP:
            real(level, *args)

    sock.setsockopt = setsockopt


def install(packet_in: Callable | None = None, before_write: Callable | None = None) -> None:
    """Give os-ken's Datapath the chunked reader, and its server Unix connections
    (idempotent); `packet_in(in_port, cookie, frame)` gets every packet-in of a connected
    switch straight from the reader (no message object, no event, no observers), and
    `before_write()` is called before each write of a read's batch."""
    from os_ken.controller import controller    # after os-ken's app manager (import order)
    _packet_in[:] = [packet_in] if packet_in is not None else []
    _before_write[:] = [before_write] if before_write is not None else []
    if getattr(controller.Datapath, "blocklab_reader", False):
        return
    controller.Datapath.os_ken_recv_loop = controller.Datapath._recv_loop   # kept for the
    controller.Datapath._recv_loop = controller._deactivate(_recv_loop)     # internals test
    controller.Datapath.blocklab_reader = True
    connect = controller.datapath_connection_factory    # server_loop looks it up when it runs

    def unix_connection(sock, address):
        if sock.family == socket.AF_UNIX:
            _tcp_options_ignored(sock)
        return connect(sock, address)

    controller.os_ken_connection_factory = connect
    controller.datapath_connection_factory = unix_connection
