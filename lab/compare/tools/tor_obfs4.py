"""`tor-obfs4`: the Tor client through an unlisted obfs4 bridge of the lab's Tor network (one
handed out privately, as the Tor Project asked volunteers to run for Russia in December 2021):
its address is on no censor's list."""
from lab.compare.tools.tor import TorClient
from lab.services.tor.plan import UNLISTED_BRIDGE


class TorObfs4(TorClient):
    name = "tor-obfs4"
    summary = "Tor client through an unlisted obfs4 bridge (UseBridges, obfs4proxy)"
    programs = ("curl", "tor", "obfs4proxy")


TOOL = TorObfs4(UNLISTED_BRIDGE)
