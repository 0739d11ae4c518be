"""From observations to a verdict, the way OONI Web Connectivity decides (pure: no I/O).

`classify(client, control)` takes two raw measurements of lab/probe/measure.py — one from the
client behind the censor, one from the control vantage point outside it — and returns OONI's
`test_keys`: `dns_consistency`, the HTTP comparisons (`status_code_match`, `body_length_match`,
`headers_match`, `title_match`), `accessible` and `blocking` (`"dns"`, `"tcp_ip"`,
`"http-failure"`, `"http-diff"`, `false`, or `null` when nothing can be concluded). The rules
are OONI probe-cli's Web Connectivity v0.4 (`Summarize`, `DNSAnalysis`, `HTTPAnalysis`),
without its ASN and bogon checks (every lab address is in 198.18.0.0/15).

On top, `x_blocking` adds what v0.4 leaves out (lab/probe/xblocking.py), and the verdict
uses it when `blocking` is false: a TLS handshake or TCP connect that failed on one
connection while the control's succeeded (probabilistic blocking, as OONI's v0.5 flags it:
`http-failure` / `tcp_ip`), and the throughput step: `throttle` (bytes keep coming, but even
the client's best transfer is five times slower than the control's and under 10 Mbit/s) or
`stall` (they stopped coming before the transfer ended: a cut-off flow).

Non-web targets: a bare domain is DNS only (`dns` or false); `tcp://`, `ssh://`, `stun://`,
`udp://`, `quic://` add one reachability check (`tcp_ip` when it fails only for the client).
"""
from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass

from lab.probe import failures as F
from lab.probe.xblocking import per_connection_failures, throughput_verdict

CONSISTENT, INCONSISTENT = "consistent", "inconsistent"

HTTP_FAILURES = {F.REFUSED, F.RESET, F.EOF, F.TIMEOUT, F.SSL_INVALID_HOSTNAME,
                 F.SSL_INVALID_CERTIFICATE, F.SSL_UNKNOWN_AUTHORITY}

# OONI's list of headers too common to tell two servers apart (HTTPHeadersMatch)
COMMON_HEADERS = frozenset("""date content-type server cache-control vary set-cookie location
expires x-powered-by content-encoding last-modified accept-ranges pragma x-frame-options etag
x-content-type-options age via p3p x-xss-protection content-language cf-ray
strict-transport-security link x-varnish""".split())


@dataclass
class Verdict:
    """What a detector says about one target (the built-in prober's or an external one's)."""
    url: str
    blocked: bool | None             # None: no verdict (the measurement failed)
    technique: str | None = None     # dns, tcp_ip, http-failure, http-diff, throttle, stall, ...
    why: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


# --- DNS ------------------------------------------------------------------------------------

def dns_consistency(host: str, client: dict, control: dict | None) -> str | None:
    """OONI's DNSAnalysis: do the client's answers agree with the control's?"""
    if control is None:
        return None
    if _is_ip(host):
        return CONSISTENT
    mine, theirs = client.get("dns_failure"), control.get("dns_failure")
    if mine is not None and theirs is not None:
        return CONSISTENT if mine == theirs == F.DNS_NXDOMAIN else INCONSISTENT
    if set(client.get("addrs") or ()) & set(control.get("addrs") or ()):
        return CONSISTENT
    return INCONSISTENT


def _is_ip(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
        return True
    except ValueError:
        return False


# --- HTTP comparisons -----------------------------------------------------------------------

def _final(m: dict) -> dict | None:
    reqs = m.get("requests") or []
    return reqs[0] if reqs else None


def _response(m: dict | None) -> dict:
    req = _final(m) if m else None
    return (req or {}).get("response") or {}


def body_length_check(client: dict, control: dict) -> tuple[bool | None, float]:
    theirs = _response(control)
    mine = _response(client)
    ctrl_len = theirs.get("x_body_length", 0) or 0
    if ctrl_len <= 0 or not mine or mine.get("body_is_truncated"):
        return None, 0.0
    got = mine.get("x_body_length", 0) or 0
    if got <= 0:
        return None, 0.0
    proportion = min(got, ctrl_len) / max(got, ctrl_len)
    return proportion > 0.7, round(proportion, 6)


def status_code_match(client: dict, control: dict) -> bool | None:
    theirs, mine = _response(control).get("code", 0), _response(client).get("code", 0)
    if theirs <= 0 or mine <= 0:
        return None
    if theirs == mine:
        return True
    if theirs // 100 == 5:
        return None
    return False


def headers_match(client: dict, control: dict) -> bool | None:
    mine, theirs = _response(client), _response(control)
    if mine.get("code", 0) <= 0 or theirs.get("code", 0) <= 0:
        return None
    ours = {k.lower() for k in mine.get("headers") or {}}
    others = {k.lower() for k in theirs.get("headers") or {}}
    if ours == others:
        return True
    return bool((ours & others) - COMMON_HEADERS)


def title_match(client: dict, control: dict) -> bool | None:
    mine, theirs = _response(client), _response(control)
    if mine.get("code", 0) <= 0 or mine.get("body_is_truncated") or theirs.get("code", 0) <= 0:
        return None
    title = mine.get("x_title") or ""
    if not title:
        return None
    words: dict[str, int] = {}
    for word in title.split(" "):
        if len(word) >= 5:
            words[word.lower()] = words.get(word.lower(), 0) | 1
    for word in (theirs.get("x_title") or "").split(" "):
        if len(word) >= 5:
            words[word.lower()] = words.get(word.lower(), 0) | 2
    return all(v == 3 for v in words.values())


# --- OONI's summary -------------------------------------------------------------------------

def summarize(tk: dict) -> tuple[bool | None, str | None]:
    """OONI Web Connectivity v0.4's Summarize: (accessible, blocking reason)."""
    reqs = tk.get("requests") or []
    first = reqs[0] if reqs else None
    if first and first.get("failure") is None and \
            str(first["request"]["url"]).startswith("https://"):
        return True, None
    if tk.get("control_failure") is not None:
        return None, None
    consistency = tk.get("dns_consistency")
    if tk.get("dns_experiment_failure") == F.DNS_NXDOMAIN and consistency == CONSISTENT:
        return True, None
    if consistency == INCONSISTENT:
        return False, "dns"
    attempts = len(tk.get("tcp_connect") or [])
    successes = sum(1 for c in tk.get("tcp_connect") or [] if c["status"]["success"])
    if attempts > 0 and successes == 0 and consistency is not None:
        return False, "tcp_ip"
    if ((tk.get("control") or {}).get("http_request") or {}).get("failure") is not None:
        return None, None
    if not first:
        return None, None
    failure = first.get("failure")
    if failure is not None:
        if failure == F.DNS_NXDOMAIN:
            reason = "dns"
        elif failure in HTTP_FAILURES:
            reason = "http-failure"
        else:
            return None, None
        if len(reqs) == 1 and consistency == INCONSISTENT:
            reason = "dns"
        return False, reason
    if tk.get("status_code_match"):
        if tk.get("body_length_match") or tk.get("headers_match") or tk.get("title_match"):
            return True, None
    if consistency == INCONSISTENT:
        return False, "dns"
    return False, "http-diff"


def blocking_value(accessible: bool | None, reason: str | None):
    """OONI's DetermineBlocking: false when accessible, else the reason (or null)."""
    return False if accessible else reason


# --- the control's view, as OONI's test helper reports it -------------------------------------

def control_keys(control: dict | None) -> dict:
    if control is None:
        return {}
    resp = _response(control)
    req = _final(control) or {}
    return {
        "dns": {"addrs": control.get("addrs") or [], "failure": control.get("dns_failure")},
        "tcp_connect": {f"{c['ip']}:{c['port']}": {"status": c["status"]["success"],
                                                   "failure": c["status"]["failure"]}
                        for c in control.get("tcp_connect") or []},
        "tls_handshake": {h["address"]: {"server_name": h["server_name"],
                                         "status": h["failure"] is None,
                                         "failure": h["failure"]}
                          for h in control.get("tls_handshakes") or []},
        "http_request": {"body_length": resp.get("x_body_length", -1) if resp else -1,
                         "failure": req.get("failure") if req else
                         ("unknown_failure: no request" if control.get("kind") == "web"
                          else None),
                         "title": resp.get("x_title", ""),
                         "headers": resp.get("headers", {}),
                         "status_code": resp.get("code", -1) if resp else -1},
    }


# --- the whole ----------------------------------------------------------------------------------

def classify(client: dict, control: dict | None) -> tuple[dict, Verdict]:
    """OONI test_keys and the verdict for one target."""
    if client.get("kind") == "web":
        return _web(client, control)
    return _other(client, control)


def _base_keys(client: dict, control: dict | None) -> dict:
    consistency = dns_consistency(client.get("host", ""), client, control)
    return {
        "agent": "redirect", "client_resolver": client.get("resolver"), "retries": None,
        "socksproxy": None,
        "queries": client.get("queries") or [],
        "dns_experiment_failure": client.get("dns_failure"),
        "dns_consistency": consistency,
        "control_failure": None if control is not None else "unknown_failure: no control",
        "control": control_keys(control),
        "tcp_connect": _mark_blocked(client.get("tcp_connect") or [], control),
        "tls_handshakes": client.get("tls_handshakes") or [],
        "requests": client.get("requests") or [],
    }


def _mark_blocked(entries: list[dict], control: dict | None) -> list[dict]:
    """OONI's tcp_connect[].status.blocked: failed here, succeeded at the control."""
    ok = {(c["ip"], c["port"]) for c in (control or {}).get("tcp_connect") or []
          if c["status"]["success"]}
    out = []
    for c in entries:
        c = dict(c, status=dict(c["status"]))
        if control is not None:
            c["status"]["blocked"] = (not c["status"]["success"]) and (c["ip"], c["port"]) in ok
        out.append(c)
    return out


def _web(client: dict, control: dict | None) -> tuple[dict, Verdict]:
    tk = _base_keys(client, control)
    first = _final(client)
    tk["http_experiment_failure"] = first.get("failure") if first else None
    if control is not None:
        tk["body_length_match"], tk["body_proportion"] = body_length_check(client, control)
        tk["status_code_match"] = status_code_match(client, control)
        tk["headers_match"] = headers_match(client, control)
        tk["title_match"] = title_match(client, control)
    else:
        tk.update(body_length_match=None, body_proportion=0.0, status_code_match=None,
                  headers_match=None, title_match=None)
    accessible, reason = summarize(tk)
    tk["accessible"], tk["blocking"] = accessible, blocking_value(accessible, reason)
    tk["x_throughput"] = client.get("x_throughput")
    tk["x_control_throughput"] = (control or {}).get("x_throughput")
    url = client.get("input", "")
    if isinstance(tk["blocking"], str):
        verdict = Verdict(url, True, tk["blocking"], _why_ooni(tk))
    else:
        verdict = Verdict(url, None if accessible is None else False, None,
                          "OONI: accessible" if accessible else "OONI: no conclusion")
        technique, why = per_connection_failures(client, control)
        if technique is None and accessible:
            tech, why = throughput_verdict(client.get("x_throughput"),
                                           (control or {}).get("x_throughput"))
            technique = tech or None
            if not tech:
                verdict.why += f"; throughput {why}"
        if technique:
            verdict = Verdict(url, True, technique, why)
    tk["x_blocking"] = verdict.technique if verdict.blocked else \
        (False if verdict.blocked is False else None)
    return tk, verdict


def _why_ooni(tk: dict) -> str:
    b = tk["blocking"]
    if b == "dns":
        q = (tk.get("queries") or [{}])[0]
        got = q.get("failure") or ",".join(a["ipv4"] for a in q.get("answers", [])) or "-"
        ctrl = (tk.get("control") or {}).get("dns") or {}
        return f"DNS {tk['dns_consistency']}: {got} (control: " \
               f"{ctrl.get('failure') or ','.join(ctrl.get('addrs') or []) or '-'})"
    if b == "tcp_ip":
        fails = {c["status"]["failure"] for c in tk.get("tcp_connect") or []}
        return f"TCP connect failed: {', '.join(sorted(f for f in fails if f))}"
    first = (tk.get("requests") or [{}])[0]
    if b == "http-failure":
        tls = [h["failure"] for h in tk.get("tls_handshakes") or [] if h.get("failure")]
        return f"HTTP request failed: {first.get('failure')}" + \
            (f" (TLS handshake: {tls[0]})" if tls else "")
    if b == "http-diff":
        resp = first.get("response") or {}
        ctrl = (tk.get("control") or {}).get("http_request") or {}
        return f"HTTP {resp.get('code')} \"{resp.get('x_title', '')}\" against the control's " \
               f"{ctrl.get('status_code')} \"{ctrl.get('title', '')}\""
    return str(b)


def _other(client: dict, control: dict | None) -> tuple[dict, Verdict]:
    tk = _base_keys(client, control)
    tk["x_reachability"] = client.get("x_reachability") or []
    tk["x_control_reachability"] = (control or {}).get("x_reachability") or []
    url = client.get("input", "")
    consistency = tk["dns_consistency"]
    if client.get("failure"):
        accessible, reason, why = None, None, client["failure"]
    elif control is None:
        accessible, reason, why = None, None, "no control measurement"
    elif consistency == INCONSISTENT:
        accessible, reason, why = False, "dns", _why_ooni(dict(tk, blocking="dns"))
    elif client.get("kind") == "dns":
        accessible, reason = True, None
        why = "DNS consistent with the control: " + \
            (client.get("dns_failure") or ",".join(client.get("addrs") or []) or "-")
    else:
        mine = (tk["x_reachability"] or [{}])[0]
        theirs = (tk["x_control_reachability"] or [{}])[0]
        if not tk["x_reachability"] or not tk["x_control_reachability"]:
            accessible, reason, why = None, None, "no reachability check ran"
        elif theirs.get("failure"):
            accessible, reason, why = None, None, \
                f"the control failed too: {theirs.get('failure')}"
        elif mine.get("failure"):
            accessible, reason, why = False, "tcp_ip", \
                f"{mine.get('probe')} to {mine.get('address')}: {mine.get('failure')}"
        else:
            accessible, reason, why = True, None, f"{mine.get('probe')}: {mine.get('said')}"
    tk["accessible"], tk["blocking"] = accessible, blocking_value(accessible, reason)
    blocked = None if accessible is None else not accessible
    tk["x_blocking"] = reason if blocked else (False if blocked is False else None)
    return tk, Verdict(url, blocked, reason if blocked else None, why)
