"""`fake-ttl`: a fake ClientHello naming an allowed name whose IP TTL lets it pass the censor
and die at a router before the server, then the real one: a DPI that takes the first hello
it reads believes the fake, the server never sees it. zapret's `--dpi-desync=fake` with
autottl, GoodbyeDPI's `--auto-ttl` (lab.clients.desync says how the TTL is chosen), by
lab.compare.splitproxy --mode fake-ttl."""
from lab.compare.tools.split_hello_tcp import SplitHelloTcp


class FakeTtl(SplitHelloTcp):
    name = "fake-ttl"
    summary = "fake ClientHello (allowed name) with a TTL that dies past the censor, then the real one"
    mode = "fake-ttl"


TOOL = FakeTtl()
