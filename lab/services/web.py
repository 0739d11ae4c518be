"""Web servers with nginx: http on :80, https on :443 (and :8443 with `https-alt`) with the lab
CA, a bulk file to download.

Each server's nginx serves its own domains with one certificate naming all of them, a small
index page saying which server answered, and (with `serve: [bulk]`) /bulk/100M. A server
that also serves quic announces it over HTTPS (`Alt-Svc: h3=":443"`), as real sites do, so a
returning browser tries HTTP/3. In a dual-stack scenario nginx listens on the server's IPv4
and IPv6 addresses.
"""
from __future__ import annotations

import html

from pathlib import Path

from lab.run.pki import LabCA
from lab.services.base import Service, listening

BULK_BYTES = 100 * 1024 * 1024
ALT_HTTPS_PORT = 8443       # `serve: [https-alt]`: the same site over TLS on the usual other port


def _site(folder: Path, server) -> Path:
    www = folder / "www"
    www.mkdir(parents=True, exist_ok=True)
    names = ", ".join(server.domains)
    (www / "index.html").write_text(
        f"<!doctype html><title>{html.escape(server.name)}</title>"
        f"<h1>blocklab server {html.escape(server.name)}</h1>"
        f"<p>Serving {html.escape(names)}.</p>\n")
    if "bulk" in server.serve:
        bulk = www / "bulk"
        bulk.mkdir(exist_ok=True)
        with open(bulk / "100M", "wb") as f:   # sparse: costs no disk
            f.truncate(BULK_BYTES)
    return www


def web(server, host, ca: LabCA, folder: Path) -> Service:
    folder.mkdir(parents=True, exist_ok=True)
    for sub in ("tmp", "logs"):
        (folder / sub).mkdir(exist_ok=True)
    www = _site(folder, server)
    listens, ports = [], []
    addrs = [server.ip] + ([f"[{server.ip6}]"] if server.ip6 else [])    # dual stack
    if "http" in server.serve or "bulk" in server.serve:
        listens += [f"listen {a}:80;" for a in addrs]
        ports.append(80)
    tls = ""
    secure = [p for name, p in (("https", 443), ("https-alt", ALT_HTTPS_PORT))
              if name in server.serve]
    if secure:
        leaf = ca.issue(server.name, list(server.domains), [server.ip])
        for port in secure:
            listens += [f"listen {a}:{port} ssl http2;" for a in addrs]
            ports.append(port)
        tls = (f"ssl_certificate {leaf.cert}; ssl_certificate_key {leaf.key};\n"
               "    ssl_protocols TLSv1.2 TLSv1.3;")
        if "quic" in server.serve:      # as real sites do: browsers learn HTTP/3 is there
            tls += "\n    add_header Alt-Svc 'h3=\":443\"; ma=86400' always;"
    tmp = folder / "tmp"
    conf = folder / "nginx.conf"
    conf.write_text(f"""
user root;
worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log {folder}/logs/access.log;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  types {{ text/html html; application/octet-stream bin; }}
  default_type application/octet-stream;
  sendfile on; tcp_nopush on; keepalive_timeout 30;
  server {{
    {' '.join(listens)}
    server_name _;
    {tls}
    root {www};
    index index.html;
    location / {{ try_files $uri $uri/ /index.html; }}
  }}
}}
""")
    cmd = ["nginx", "-p", str(folder), "-e", str(folder / "logs" / "error.log"), "-c", str(conf)]
    return Service(f"web@{server.name}", host, cmd, folder / "nginx.log",
                   ready=lambda: all(listening(host.pid, "tcp", p) for p in ports))


def wants_web(server) -> bool:
    return bool({"http", "https", "https-alt", "bulk"} & set(server.serve))


__all__ = ["web", "wants_web", "BULK_BYTES", "ALT_HTTPS_PORT"]
