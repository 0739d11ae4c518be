"""STUN and TURN with coturn (`turnserver`) on the server's address, UDP and TCP 3478 (and
on its IPv6 address too in a dual-stack lab, relaying over either family).

No TLS/DTLS, no CLI, no daemonising; config, user database, pid file and log in the run
directory. TURN allocations need the long-term credential `blocklab` / `blocklab` (realm
`blocklab`); a STUN binding request needs none.
"""
from __future__ import annotations

from pathlib import Path

from lab.services.base import Service
from lab.services.daemon import daemon

PORT = 3478
TURN_USER = ("blocklab", "blocklab")


def stun(server, host, folder: Path) -> Service:
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "turnserver.log"
    conf = folder / "turnserver.conf"
    addrs = [server.ip] + ([server.ip6] if server.ip6 else [])       # dual stack: both
    listen = "".join(f"listening-ip={a}\n" for a in addrs)
    relay = "".join(f"relay-ip={a}\n" for a in addrs)
    conf.write_text(f"""{listen}listening-port={PORT}
{relay}min-port=49152
max-port=65535
no-tls
no-dtls
no-cli
no-rfc5780
fingerprint
lt-cred-mech
realm=blocklab
user={TURN_USER[0]}:{TURN_USER[1]}
userdb={folder}/turndb
pidfile={folder}/turnserver.pid
log-file={log}
simple-log
no-stdout-log
""")
    cmd = ["turnserver", "-c", str(conf)]
    return daemon(f"stun@{server.name}", host, cmd, log, [("udp", PORT), ("tcp", PORT)])
