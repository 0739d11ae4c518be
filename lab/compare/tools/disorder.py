"""`disorder`: the ClientHello cut in the middle of the name and its second part sent first: a DPI
that reads packets one at a time never sees the name whole, the server's kernel puts the parts
in order. zapret's and byedpi's desync (lab.clients.desync says which options), by
lab.compare.splitproxy --mode disorder: a local SOCKS5 proxy that hands the hello to the kernel
as sent and puts it on the wire itself, in the method's shape."""
from lab.compare.tools.split_hello_tcp import SplitHelloTcp


class Disorder(SplitHelloTcp):
    name = "disorder"
    summary = "ClientHello cut in the name, second part sent first"
    mode = "disorder"


TOOL = Disorder()
