"""`split-hello-records`: the ClientHello re-framed as two TLS records cut in the middle of the
server name (byedpi's --tlsrec), in one TCP segment, by lab.compare.splitproxy. Evades DPI that
reads only the first record."""
from lab.compare.tools.split_hello_tcp import SplitHelloTcp


class SplitHelloRecords(SplitHelloTcp):
    name = "split-hello-records"
    summary = "ClientHello split across two TLS records (local splitting proxy)"
    mode = "records"


TOOL = SplitHelloRecords()
