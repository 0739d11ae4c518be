"""controllers.dpi.dns: query parsing, forged responses, TCP framing."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controllers.dpi import dns
from controllers.dpi.result import INCOMPLETE, INVALID, OK
from dpi_samples import DIG_QUERY


def query(name: bytes = b"www.example.com", qtype: int = dns.QTYPE_A, ident: int = 0xBEEF,
          flags: int = 0x0100, arcount: int = 0) -> bytes:
    """A query built by hand per RFC 1035 4.1."""
    labels = b"".join(bytes((len(p),)) + p for p in name.split(b".") if p) + b"\x00"
    return struct.pack("!HHHHHH", ident, flags, 1, 0, 0, arcount) + labels + struct.pack(
        "!HH", qtype, 1)


def test_hand_built_query():
    parsed = dns.parse_query(query(b"WWW.Example.COM"))
    assert parsed.status == OK
    q = parsed.value
    assert (q.id, q.flags, q.qname, q.qtype, q.qclass) == (0xBEEF, 0x0100, "www.example.com", 1, 1)
    assert q.question_end == 12 + 17 + 4


def test_dig_query():
    q = dns.parse_query(DIG_QUERY).value
    assert (q.id, q.qname, q.qtype, q.question_end) == (0x1D6B, "example.com", 1, len(DIG_QUERY))


@pytest.mark.parametrize("qtype", ["A", "AAAA", "HTTPS", "TXT"])
def test_dnspython_queries(qtype):
    message = pytest.importorskip("dns.message")
    rdatatype = pytest.importorskip("dns.rdatatype")
    wire = message.make_query("Mixed.Case.Example.ORG.", qtype, use_edns=0, id=77).to_wire()
    q = dns.parse_query(wire).value
    assert q.qname == "mixed.case.example.org"
    assert q.qtype == rdatatype.from_text(qtype)
    assert q.question_end == 12 + len(b"Mixed.Case.Example.ORG.") + 1 + 4
    assert q.question_end < len(wire)  # the EDNS OPT record follows


def test_root_name():
    q = dns.parse_query(query(b"", qtype=2)).value
    assert q.qname == "" and q.qtype == 2


def test_every_prefix_is_incomplete_or_ok():
    wire = query(b"a.long-er.name.example", arcount=0)
    for n in range(len(wire)):
        assert dns.parse_query(wire[:n]).status == INCOMPLETE, n
    assert dns.parse_query(wire).status == OK


@pytest.mark.parametrize("msg", [
    pytest.param(query(flags=0x8180), id="response"),
    pytest.param(query(flags=0x2800), id="opcode-update"),
    pytest.param(struct.pack("!HHHHHH", 1, 0x100, 0, 0, 0, 0), id="no-question"),
    pytest.param(query()[:12] + b"\x40abc\x00\x00\x01\x00\x01", id="extended-label-type"),
    pytest.param(query()[:12] + b"\x80abc\x00\x00\x01\x00\x01", id="reserved-label-type"),
    pytest.param(query()[:12] + b"\xc0\x0c\x00\x01\x00\x01", id="pointer-to-itself"),
    pytest.param(query()[:12] + b"\x01a\xc0\x0c\x00\x01\x00\x01", id="pointer-loop"),
    pytest.param(query()[:12] + b"\xc0\x20" + bytes(30), id="forward-pointer"),
    pytest.param(query(b".".join([b"a" * 63] * 4)), id="name-over-255"),
])
def test_invalid(msg):
    assert dns.parse_query(msg).status == INVALID


def test_early_invalid_on_response_bit():
    assert dns.parse_query(b"\x00\x01\x81").status == INVALID


def test_name_of_253_chars_is_fine():
    name = b".".join([b"a" * 63] * 3 + [b"b" * 61])
    assert dns.parse_query(query(name)).value.qname == name.decode()


def test_pointer_into_header_is_followed():
    # id 0x0161 reads as the label "a", flags 0x0000 as the root: a legal backward pointer.
    msg = struct.pack("!HHHHHH", 0x0161, 0, 1, 0, 0, 0) + b"\x01x\xc0\x00\x00\x01\x00\x01"
    q = dns.parse_query(msg).value
    assert q.qname == "x.a" and q.question_end == len(msg)


def test_pointer_loop_through_header_is_invalid():
    # 12 -> 0; from 0 the header reads as labels "a", "b", "c", "d", "e", "f" up to offset 12,
    # where the same pointer would start the walk again.
    header = b"\x01a\x01b\x01c\x01d\x01e\x01f"
    assert dns.parse_query(header + b"\xc0\x00\x00\x01\x00\x01").status == INVALID
    # 12 -> 6 walks "d", "e", "f", meets the pointer again and jumps to 0: still a loop
    assert dns.parse_query(header + b"\xc0\x06\x00\x01\x00\x01").status == INVALID


def test_dot_inside_label_is_escaped():
    msg = struct.pack("!HHHHHH", 1, 0, 1, 0, 0, 0) + b"\x05a.b\\c\x03com\x00\x00\x01\x00\x01"
    assert dns.parse_query(msg).value.qname == "a\\.b\\\\c.com"


# ------------------------------------------------------------ responses


def _header(msg: bytes) -> tuple[int, ...]:
    return struct.unpack_from("!HHHHHH", msg)


def test_nxdomain_response():
    q = query(b"Blocked.Example", ident=0x4242)
    r = dns.build_response(q, dns.NXDOMAIN)
    ident, flags, qd, an, ns, ar = _header(r)
    assert (ident, qd, an, ns, ar) == (0x4242, 1, 0, 0, 0)
    assert flags & 0x8000 and flags & 0x0100 and flags & 0x0080 and flags & 0xF == 3
    assert r[12:] == q[12:]  # the question, letter case included


def test_rd_copied_when_clear():
    flags = _header(dns.build_response(query(flags=0), dns.REFUSED))[1]
    assert flags & 0x0100 == 0 and flags & 0xF == dns.REFUSED


def test_forged_a_records():
    q = query()
    r = dns.build_response(q, dns.NOERROR, ["198.18.0.9", "10.0.0.1"], ttl=30)
    assert _header(r)[3] == 2
    answers = r[len(q):]
    assert answers == (struct.pack("!HHHIH", 0xC00C, 1, 1, 30, 4) + bytes([198, 18, 0, 9])
                       + struct.pack("!HHHIH", 0xC00C, 1, 1, 30, 4) + bytes([10, 0, 0, 1]))


def test_forge_for_aaaa_has_no_answers():
    r = dns.build_response(query(qtype=dns.QTYPE_AAAA), dns.NOERROR, ["198.18.0.9"])
    assert _header(r)[3] == 0 and _header(r)[1] & 0xF == dns.NOERROR


def test_response_drops_edns_and_extra_sections():
    q = query(arcount=1) + b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"
    r = dns.build_response(q, dns.SERVFAIL)
    assert _header(r)[5] == 0 and len(r) == dns.parse_query(q).value.question_end


def test_responses_parse_with_dnspython():
    message = pytest.importorskip("dns.message")
    wire = message.make_query("WwW.Example.Com", "A", id=4660).to_wire()
    r = message.from_wire(dns.build_response(wire, dns.NOERROR, ["198.18.1.2"], ttl=5))
    assert r.id == 4660 and r.rcode() == 0
    assert str(r.question[0].name) == "WwW.Example.Com."
    assert [str(rd) for rrset in r.answer for rd in rrset] == ["198.18.1.2"]
    assert r.answer[0].ttl == 5
    r = message.from_wire(dns.build_response(wire, dns.NXDOMAIN))
    assert r.rcode() == 3 and not r.answer


@pytest.mark.parametrize("args", [
    (query(flags=0x8180), dns.NXDOMAIN),
    (b"\x00", dns.NXDOMAIN),
    (query(), 16),
    (query(), dns.NOERROR, ["::1"]),
    (query(), dns.NOERROR, ["not an address"]),
])
def test_build_response_rejects(args):
    with pytest.raises(ValueError):
        dns.build_response(*args)


# ------------------------------------------------------------ TCP


def test_split_tcp_stream():
    a, b = query(b"a.example"), query(b"b.example")
    stream = dns.frame_tcp(a) + dns.frame_tcp(b) + dns.frame_tcp(a)[:5]
    messages, used = dns.split_tcp_stream(stream)
    assert messages == [a, b] and used == len(a) + len(b) + 4


@pytest.mark.parametrize("stream", [b"", b"\x00", b"\x00\x05abc"])
def test_split_tcp_stream_partial(stream):
    assert dns.split_tcp_stream(stream) == ([], 0)


def test_frame_tcp():
    assert dns.frame_tcp(b"abc") == b"\x00\x03abc"
    assert dns.frame_tcp(b"") == b"\x00\x00"
    with pytest.raises(ValueError):
        dns.frame_tcp(bytes(65536))


# ------------------------------------------------------------ properties


@settings(max_examples=400)
@given(st.binary(max_size=600))
def test_parse_query_never_raises(data):
    result = dns.parse_query(data)
    assert result.status in (OK, INCOMPLETE, INVALID)
    assert (result.value is not None) == (result.status == OK)
    if result.ok:
        assert result.value.question_end <= len(data)
        response = dns.build_response(data, dns.NXDOMAIN)
        assert _header(response)[0] == result.value.id


@settings(max_examples=200)
@given(st.binary(min_size=12, max_size=12), st.binary(max_size=300))
def test_parse_query_header_then_garbage(header, rest):
    data = header[:2] + bytes((header[2] & 0x07,)) + header[3:4] + b"\x00\x01" + header[6:] + rest
    assert dns.parse_query(data).status in (OK, INCOMPLETE, INVALID)


@given(st.binary(max_size=400))
def test_split_never_raises(data):
    messages, used = dns.split_tcp_stream(data)
    assert used == sum(len(m) + 2 for m in messages) <= len(data)
