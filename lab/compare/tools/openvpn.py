"""`openvpn`: OpenVPN in TLS mode (certificates from the lab CA), point-to-point over UDP 1194.

The vps forwards what comes out of its tun device and masquerades it behind its own address
(an nftables table in the vps's namespace only); the client routes nothing through the tunnel
but what it fetches: the VPN's resolver (the lab's public one, as a VPN pushes its DNS) and,
once resolved through it, each target's address, one /32 route each. The vps's own address
stays outside the tunnel (the tunnel runs to it), so a target on the vps is fetched at the
server's tunnel address, which the vps maps to its own (DNAT). Tunnel addresses are two free
ones of 198.18.255.0/24, inside the lab's range; nothing leaves the lab.
"""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from lab.compare import measure
from lab.compare.base import Tool, ToolError
from lab.scenario.addressing import PUBLIC_DNS_IP
from lab.run.wait import Timeout, wait_until

PORT = 1194
DEV = "tun0"
TABLE = "blocklab_vpn"
CIPHERS = "AES-256-GCM:CHACHA20-POLY1305"


def _tunnel_addresses(scenario) -> tuple[str, str]:
    used = {h.ip for h in scenario.hosts()}
    free = [str(a) for a in ipaddress.IPv4Network("198.18.255.0/24").hosts()
            if str(a) not in used]
    return free[0], free[1]


class OpenVPN(Tool):
    name = "openvpn"
    summary = "OpenVPN (TLS mode, UDP) to the vps, which NATs; only targets routed into it"
    programs = ("curl", "openvpn", "nft", "dig", "ping")
    tunnel = (("udp", PORT),)

    def start(self, ctx) -> None:
        if not _tun_available():
            raise ToolError("/dev/net/tun is missing: OpenVPN needs the tun driver")
        server_ip, client_ip = _tunnel_addresses(ctx.lab.scenario)
        srv, cli = ctx.server_cert("openvpn-server"), ctx.client_cert("openvpn-client")
        common = ["--dev", DEV, "--dev-type", "tun", "--proto", "udp", "--topology", "p2p",
                  "--data-ciphers", CIPHERS, "--cipher", "AES-256-GCM",
                  "--allow-compression", "no", "--ping", "5", "--verb", "3"]
        vps = ctx.vps.name
        self._vps(ctx, ["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        rules = ctx.folder / "nat.nft"
        rules.write_text(
            f"table ip {TABLE} {{\n"
            f"  chain pre {{ type nat hook prerouting priority -100; iifname \"{DEV}\" "
            f"ip daddr {server_ip} dnat to {ctx.vps_ip}; }}\n"
            f"  chain post {{ type nat hook postrouting priority 100; ip saddr {client_ip} "
            f"oifname != \"{DEV}\" masquerade; }}\n}}\n")
        self._vps(ctx, ["nft", "-f", str(rules)])
        ctx.start(vps, "openvpn-server", [
            "openvpn", *common, "--local", ctx.vps_ip, "--lport", str(PORT),
            "--ifconfig", server_ip, client_ip, "--tls-server", "--dh", "none",
            "--ca", str(srv.ca), "--cert", str(srv.cert), "--key", str(srv.key)],
            [("udp", PORT)])
        log = ctx.folder / "openvpn-client.log"
        ctx.start(ctx.client, "openvpn-client", [
            "openvpn", *common, "--nobind", "--remote", ctx.vps_ip, str(PORT),
            "--ifconfig", client_ip, server_ip, "--tls-client", "--remote-cert-tls", "server",
            "--verify-x509-name", ctx.vps_name, "name", "--connect-retry-max", "1",
            "--ca", str(cli.ca), "--cert", str(cli.cert), "--key", str(cli.key)],
            ready=lambda: "Initialization Sequence Completed" in _read(log), timeout=12)
        # the client may finish its handshake before the server has its data-channel keys:
        # the tunnel is up when a ping crosses it
        ping = ["ping", "-c1", "-W1", "-n", server_ip]
        try:
            wait_until(lambda: ctx.run(ctx.client, ping, timeout=5).returncode == 0, 8,
                       "a ping through the tunnel")
        except Timeout as e:
            raise ToolError(str(e)) from None
        self._route(ctx, PUBLIC_DNS_IP)

    def _vps(self, ctx, argv) -> None:
        r = ctx.run(ctx.vps.name, argv)
        if r.returncode != 0:
            raise ToolError(f"{' '.join(argv[:2])} on the vps failed: "
                            f"{(r.stderr or r.stdout).strip()}")

    def _route(self, ctx, ip: str) -> None:
        r = ctx.run(ctx.client, ["ip", "route", "replace", f"{ip}/32", "dev", DEV])
        if r.returncode != 0:
            raise ToolError(f"cannot route {ip} into the tunnel: {r.stderr.strip()}")

    def fetch(self, ctx, url, max_time, bulk=False):
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        r = ctx.run(ctx.client, ["dig", "+short", "+time=3", "+tries=1", f"@{PUBLIC_DNS_IP}",
                                 parts.hostname, "A"], timeout=10)
        ips = [a for a in (r.stdout or "").split() if a.replace(".", "").isdigit()]
        if r.returncode != 0 or not ips:
            return measure.failed(url, f"no answer for {parts.hostname} through the VPN")
        ip = ips[0]
        try:
            if ip == ctx.vps_ip:        # the tunnel's own end: through it, at its tunnel address
                ip = _tunnel_addresses(ctx.lab.scenario)[0]
            else:
                self._route(ctx, ip)
        except ToolError as e:
            return measure.failed(url, str(e))
        return ctx.curl(url, ["--resolve", f"{parts.hostname}:{port}:{ip}"], max_time, bulk)

    def stop(self, ctx) -> None:
        ctx.stop_all()          # the tun devices, and the routes through them, go with openvpn
        ctx.run(ctx.vps.name, ["nft", "delete", "table", "ip", TABLE])
        ctx.run(ctx.vps.name, ["sysctl", "-qw", "net.ipv4.ip_forward=0"])


def _read(path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _tun_available() -> bool:
    import os
    return os.path.exists("/dev/net/tun")


TOOL = OpenVPN()
