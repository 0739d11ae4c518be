"""What the censor says in answers of its own: the block page and the DNS responses.

Owns the bytes of a `blockpage` action's HTTP response (status line, headers, the rule's body
or the default page) and of the `nxdomain`, `servfail`, `refused`, `forge` and `inject`
actions' DNS responses to a query (the forged A and AAAA answers for forge and inject).
controllers.engine.actions sends them, as segments or datagrams from the server's address.
"""
from __future__ import annotations

from http import HTTPStatus

from controllers.dpi import dns
from controllers.rules.matching import CompiledRule

DEFAULT_PAGE = ("<html><head><title>Blocked</title></head><body><h1>Access denied</h1>"
                "<p>This resource is blocked by order of the authorities.</p></body></html>\n")
RCODES = {"nxdomain": dns.NXDOMAIN, "servfail": dns.SERVFAIL, "refused": dns.REFUSED,
          "forge": dns.NOERROR, "inject": dns.NOERROR}


def blockpage_bytes(status: int, body: str | None) -> bytes:
    """The whole HTTP response a blockpage sends, headers and body."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Blocked"
    data = (body if body is not None else DEFAULT_PAGE).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/html\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n").encode()
    return head + data


def dns_responses(rule: CompiledRule, kind: str, messages: list[bytes]) -> list[bytes]:
    """The rule's answer to each query in `messages` (unparseable ones skipped)."""
    answers = [rule.action["ip"]] if kind in ("forge", "inject") else []
    answers6 = [rule.action["ip6"]] if answers and rule.action.get("ip6") else []
    out = []
    for msg in messages:
        try:
            out.append(dns.build_response(msg, RCODES[kind], answers, ipv6_answers=answers6))
        except ValueError:
            continue
    return out
