"""`fake-badseq`: the same fake with its sequence number 10000 before the stream (and its ack 66000
back), correct checksum: a DPI that does not check the window reads it, the server's kernel
drops it as out of window. zapret's and byedpi's desync (lab.clients.desync says which options),
by lab.compare.splitproxy --mode fake-badseq: a local SOCKS5 proxy that hands the hello to the
kernel as sent and puts it on the wire itself, in the method's shape."""
from lab.compare.tools.split_hello_tcp import SplitHelloTcp


class FakeBadseq(SplitHelloTcp):
    name = "fake-badseq"
    summary = "fake ClientHello (allowed name, seq 10000 before the window), then the real one"
    mode = "fake-badseq"


TOOL = FakeBadseq()
