"""Client-side probes and evasions run inside lab hosts (`python -m lab.clients.NAME ...`).

Each behaves like a small curl: exit 0 on success; on failure a one-line error on stderr and
curl's exit code for the symptom (28 timeout, 7 refused, 35/56 reset, 6 not resolved).

`browser` is the exception: headless Chromium (over lab/clients/cdp.py), it prints one JSON
object (the browser's own net error, title, status, time, screenshot) and exits 0 (a page), 1
(an error page) or 2 (it could not run).

Service probes: `stun_probe`, `quic_probe`, `udp_probe` (shared plumbing in probe.py);
lab.clients.targets fetches stun://, quic://, udp://, tcp:// and ssh:// targets with them.
`ssh_args(lab)` gives the ssh options that log in to the run's ssh and vps servers.
"""
from __future__ import annotations


def ssh_args(lab) -> list[str]:
    """Options for `ssh` (and scp) from any lab host to any of the run's ssh/vps servers:
    the run's client key, the run's known_hosts (strict), no user config, no prompts."""
    from lab.services.ssh import Keys
    keys = Keys(lab.run_dir.path).ensure()
    return ["-F", "/dev/null", "-i", str(keys.client_key), "-l", "root",
            "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
            "-o", f"UserKnownHostsFile={keys.known_hosts}",
            "-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes",
            "-o", "ConnectTimeout=5"]
