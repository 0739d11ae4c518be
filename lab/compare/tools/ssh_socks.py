"""`ssh-socks`: OpenSSH's dynamic forward. `ssh -N -D 127.0.0.1:1080` from the client to the
vps's sshd (the run's key); curl uses it as a SOCKS5 proxy and sshd on the vps resolves and
connects."""
from lab.clients import ssh_args
from lab.compare.base import LOCAL_SOCKS, SocksTool


class SshSocks(SocksTool):
    name = "ssh-socks"
    summary = "OpenSSH -D (SOCKS5) to the vps's sshd"
    programs = ("curl", "ssh")
    tunnel = (("tcp", 22),)
    pins_family = True

    def start(self, ctx) -> None:
        ctx.start(ctx.client, "ssh", [
            "ssh", *ssh_args(ctx.lab), "-N", "-D", f"127.0.0.1:{LOCAL_SOCKS}",
            "-o", "ExitOnForwardFailure=yes", "-o", "ServerAliveInterval=5",
            ctx.vps_ip], [("tcp", LOCAL_SOCKS)])


TOOL = SshSocks()
