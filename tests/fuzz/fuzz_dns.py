"""atheris: DNS queries (controllers.dpi.dns) over UDP datagrams and TCP streams."""
import atheris

import common

with atheris.instrument_imports(include=["controllers"]):
    from controllers.dpi import dns
    from controllers.dpi.result import INCOMPLETE, INVALID, OK


def seeds():
    from dpi_samples import DIG_QUERY
    from engine_helpers import dns_query
    out = [DIG_QUERY, dns_query("blocked.example.com"), dns_query("a.b.example", "AAAA"),
           dns_query("x.example", "TXT")]
    return out + [dns.frame_tcp(q) for q in out] + [dns.frame_tcp(out[0]) * 2]


def test_one_input(data: bytes) -> None:
    r = dns.parse_query(data)
    assert r.status in (OK, INCOMPLETE, INVALID)
    if r.ok:
        q = r.value
        assert isinstance(q.qname, str) and 0 <= q.qtype <= 0xFFFF
        answer = dns.build_response(data, 3)               # a query parses: it can be answered
        assert dns.parse_query(answer).status == INVALID    # a response is never a query
        dns.build_response(data, 0, ["198.19.0.10"])
    messages, used = dns.split_tcp_stream(data)
    assert 0 <= used <= len(data) and sum(len(m) + 2 for m in messages) == used
    for m in messages:
        dns.parse_query(m)


if __name__ == "__main__":
    common.fuzz("dns", test_one_input, seeds)
