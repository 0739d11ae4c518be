"""`fake-badsum`: a fake ClientHello naming an allowed name with a wrong TCP checksum, then the
real one: a DPI that does not check checksums reads the fake, the server's kernel drops it.
zapret's and byedpi's desync (lab.clients.desync says which options), by lab.compare.splitproxy
--mode fake-badsum: a local SOCKS5 proxy that hands the hello to the kernel as sent and puts it
on the wire itself, in the method's shape."""
from lab.compare.tools.split_hello_tcp import SplitHelloTcp


class FakeBadsum(SplitHelloTcp):
    name = "fake-badsum"
    summary = "fake ClientHello (allowed name, wrong TCP checksum), then the real one"
    mode = "fake-badsum"


TOOL = FakeBadsum()
