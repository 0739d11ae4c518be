"""The tools `blocklab compare` knows: one adapter module each, in the order they are shown.

Each module has a `TOOL` (a lab.compare.base.Tool). Adding a tool is a module and a line here.
"""
from __future__ import annotations

from importlib import import_module

_MODULES = {
    "direct": "direct",
    "doh": "doh",
    "dot": "dot",
    "ssh-socks": "ssh_socks",
    "shadowsocks": "shadowsocks",
    "obfs4": "obfs4",
    "tls-tunnel": "tls_tunnel",
    "openvpn": "openvpn",
    "split-hello-tcp": "split_hello_tcp",
    "split-hello-records": "split_hello_records",
    "quic-fallback": "quic_fallback",
    "fake-badsum": "fake_badsum",
    "fake-badseq": "fake_badseq",
    "disorder": "disorder",
    "multisplit": "multisplit",
    "tor": "tor",
    "tor-obfs4": "tor_obfs4",
    "tor-obfs4-builtin": "tor_obfs4_builtin",
    "fake-ttl": "fake_ttl",
    "tcb-teardown": "tcb_teardown",
}

NAMES = tuple(_MODULES)

LEFT_OUT = {
    "tor-snowflake": "Debian has snowflake-client and snowflake-proxy but neither the "
                     "broker nor the bridge-side snowflake-server, so no Snowflake rendezvous "
                     "can be completed inside the lab",
}


def get(name: str):
    """The Tool named `name`; KeyError with the known names otherwise."""
    if name not in _MODULES:
        raise KeyError(name)
    return import_module(f"lab.compare.tools.{_MODULES[name]}").TOOL
