"""`multisplit`: the ClientHello cut after its first byte, at the start of the name and in its
middle, four segments in order: no segment holds the name. zapret's and byedpi's desync
(lab.clients.desync says which options), by lab.compare.splitproxy --mode multisplit: a local
SOCKS5 proxy that hands the hello to the kernel as sent and puts it on the wire itself, in the
method's shape."""
from lab.compare.tools.split_hello_tcp import SplitHelloTcp


class Multisplit(SplitHelloTcp):
    name = "multisplit"
    summary = "ClientHello in four segments: after byte 1, at the name, mid-name"
    mode = "multisplit"


TOOL = Multisplit()
