"""Raw measurements (lab/probe/measure.py's output) built by hand, for classification tables."""
from __future__ import annotations

from urllib.parse import urlsplit

SERVER = "198.19.0.10"
PAGE = {"code": 200, "title": "blocklab server web", "length": 96,
        "headers": {"Server": "nginx", "Content-Type": "text/html", "Content-Length": "96",
                    "ETag": "x", "Accept-Ranges": "bytes", "Last-Modified": "x",
                    "Connection": "close", "Date": "x"}}
BLOCKPAGE = {"code": 403, "title": "", "length": 40,
             "headers": {"Content-Type": "text/html", "Content-Length": "40",
                         "Connection": "close"}}
FAST_ROUND = {"bytes": 300000, "seconds": 0.03, "rate_bps": 80e6, "complete": True,
              "idle_at_end": 0.0, "failure": None}


def rounds(*items: dict, deadline: float = 1.0) -> dict:
    """An x_throughput record: each item updates a fast round."""
    return {"deadline": deadline, "rounds": [dict(FAST_ROUND, **i) for i in items]}


FAST = rounds({}, {}, {})


def response(page: dict) -> dict:
    return {"body": "", "body_is_truncated": False, "code": page["code"],
            "headers": dict(page["headers"]), "headers_list": [],
            "x_body_length": page["length"], "x_title": page["title"]}


def web(url: str = "https://www.example.com/", *, dns_failure: str | None = None,
        addrs: list[str] | None = None, tcp: str | None = "ok", tls: str | None = "ok",
        http: str | dict | None = "ok", throughput: dict | None = None) -> dict:
    """A web measurement. `tcp`/`tls`: "ok", a failure string, or None (not done);
    `http`: "ok" (the server's page), a page dict, a failure string, or None."""
    p = urlsplit(url)
    https = p.scheme == "https"
    port = p.port or (443 if https else 80)
    if addrs is None:
        addrs = [] if dns_failure else [SERVER]
    m = {"input": url, "kind": "web", "host": p.hostname, "resolver": "198.18.0.2",
         "queries": [{"answers": [{"answer_type": "A", "ipv4": a, "ttl": 30} for a in addrs],
                      "failure": dns_failure, "hostname": p.hostname, "query_type": "A",
                      "engine": "udp", "resolver_address": "198.18.0.2:53", "t": 0.0}],
         "dns_failure": dns_failure, "addrs": addrs, "tcp_connect": [], "tls_handshakes": [],
         "requests": [], "x_throughput": None, "x_reachability": [], "failure": None,
         "measurement_start_time": "2025-12-04 10:00:00"}
    for ip in addrs:
        if tcp is None:
            continue
        ok = tcp == "ok"
        m["tcp_connect"].append({"ip": ip, "port": port, "t": 0.0, "status": {
            "blocked": None, "failure": None if ok else tcp, "success": ok}})
        if ok and https and tls is not None:
            m["tls_handshakes"].append({"address": f"{ip}:{port}", "server_name": p.hostname,
                                        "failure": None if tls == "ok" else tls})
    if http is not None:
        req = {"failure": None, "request": {"url": url, "method": "GET"},
               "response": {"body": None, "body_is_truncated": False, "code": 0,
                            "headers": {}}, "t": 0.0}
        if http == "ok":
            req["response"] = response(PAGE)
        elif isinstance(http, dict):
            req["response"] = response(http)
        else:
            req["failure"] = http
        m["requests"] = [req]
    if throughput is not None:
        m["x_throughput"] = throughput
    elif http == "ok" or isinstance(http, dict):
        m["x_throughput"] = FAST
    return m


def control(url: str = "https://www.example.com/") -> dict:
    return web(url)


def domain(name: str = "www.example.com", *, dns_failure: str | None = None,
           addrs: list[str] | None = None) -> dict:
    m = web(f"https://{name}/", dns_failure=dns_failure, addrs=addrs, tcp=None, http=None)
    m.update(input=name, kind="dns", host=name, x_throughput=None)
    return m


def reach(url: str, *, failure: str | None = None, dns_failure: str | None = None,
          addrs: list[str] | None = None) -> dict:
    scheme = urlsplit(url).scheme
    m = web(url.replace(f"{scheme}://", "https://", 1), dns_failure=dns_failure, addrs=addrs,
            tcp=None, http=None)
    m.update(input=url, kind=scheme, x_throughput=None)
    if m["addrs"]:
        m["x_reachability"] = [{"probe": scheme, "address": f"{m['addrs'][0]}:3478",
                                "failure": failure, "said": "" if failure else "ok"}]
    return m
