"""`tcb-teardown`: a RST+ACK whose IP TTL lets it pass the censor and die at a router before
the server, then the real ClientHello: a stateful DPI that forgets a flow on the client's
RST does not read what follows (Geneva's TCB teardown, Bock et al., CCS 2019; zapret's
`--dpi-desync=rst` with a TTL), by lab.compare.splitproxy --mode tcb-teardown."""
from lab.compare.tools.split_hello_tcp import SplitHelloTcp


class TcbTeardown(SplitHelloTcp):
    name = "tcb-teardown"
    summary = "RST with a TTL that dies past the censor (it forgets the flow), then the hello"
    mode = "tcb-teardown"


TOOL = TcbTeardown()
