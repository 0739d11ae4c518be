"""`tor-obfs4-builtin`: the Tor client through the lab's "built-in" obfs4 bridge, the one whose
address is in the `@tor-bridges` group, as Tor Browser's default bridges are on censors' lists
(Russia blocked them by address from 2021-12-01: net4people/bbs #97)."""
from lab.compare.tools.tor import TorClient
from lab.services.tor.plan import KNOWN_BRIDGE


class TorObfs4Builtin(TorClient):
    name = "tor-obfs4-builtin"
    summary = "Tor client through a built-in (listed) obfs4 bridge"
    programs = ("curl", "tor", "obfs4proxy")


TOOL = TorObfs4Builtin(KNOWN_BRIDGE)
