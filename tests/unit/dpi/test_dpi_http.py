"""controllers.dpi.http: requests as curl sends them, split, oversized and malformed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controllers.dpi import http
from controllers.dpi.result import INCOMPLETE, INVALID, OK
from dpi_samples import CURL_GET

# What `curl -d 'x=1' http://example.org/form` sends.
CURL_POST = (b"POST /form HTTP/1.1\r\nHost: example.org\r\nUser-Agent: curl/7.88.1\r\n"
             b"Accept: */*\r\nContent-Length: 3\r\n"
             b"Content-Type: application/x-www-form-urlencoded\r\n\r\nx=1")
# What `curl -x http://proxy:3128 http://blocked.example/` sends to the proxy.
CURL_PROXY = (b"GET http://blocked.example/ HTTP/1.1\r\nHost: blocked.example\r\n"
              b"User-Agent: curl/7.88.1\r\nAccept: */*\r\nProxy-Connection: Keep-Alive\r\n\r\n")


def test_curl_get():
    req = http.parse_request(CURL_GET).value
    assert req == http.HttpRequest("GET", "/a/b?c=d", "HTTP/1.1", "example.com")


def test_curl_post_with_body():
    req = http.parse_request(CURL_POST).value
    assert (req.method, req.path, req.host) == ("POST", "/form", "example.org")


def test_curl_through_proxy():
    req = http.parse_request(CURL_PROXY).value
    assert (req.path, req.host) == ("/", "blocked.example")


def test_every_prefix_is_incomplete():
    for n in range(len(CURL_GET)):
        assert http.parse_request(CURL_GET[:n]).status == INCOMPLETE, n


@pytest.mark.parametrize("request_bytes,host", [
    (b"GET / HTTP/1.1\r\nHost: [2001:db8::1]:8443\r\n\r\n", "2001:db8::1"),
    (b"GET / HTTP/1.1\r\nHost: [2001:db8::1]\r\n\r\n", "2001:db8::1"),
    (b"GET / HTTP/1.1\r\nhOsT:   Example.NET  \r\n\r\n", "example.net"),
    (b"GET / HTTP/1.1\r\nHost: example.net:\r\n\r\n", "example.net"),
    (b"GET / HTTP/1.1\r\nHost: 198.18.0.7:80\r\n\r\n", "198.18.0.7"),
    (b"GET / HTTP/1.0\r\n\r\n", None),
    (b"GET / HTTP/1.1\r\nHost:\r\n\r\n", None),
    (b"GET / HTTP/1.1\r\nHost: first.example\r\nHost: second.example\r\n\r\n", "first.example"),
    (b"GET http://user@Target.example:81/x HTTP/1.1\r\nHost: other.example\r\n\r\n",
     "target.example"),
    (b"CONNECT blocked.example:443 HTTP/1.1\r\nHost: blocked.example:443\r\n\r\n",
     "blocked.example"),
])
def test_host(request_bytes, host):
    assert http.parse_request(request_bytes).value.host == host


def test_bare_lf_and_leading_empty_lines():
    req = http.parse_request(b"\r\n\nGET /x HTTP/1.1\nHost: lf.example\n\n").value
    assert (req.path, req.host) == ("/x", "lf.example")


def test_obs_fold_continuation_is_accepted():
    data = b"GET / HTTP/1.1\r\nHost: a.example\r\nX-Long: one\r\n two\r\n\r\n"
    assert http.parse_request(data).value.host == "a.example"


def test_other_token_methods_parse():
    req = http.parse_request(b"PROPFIND /dav HTTP/1.1\r\nHost: dav.example\r\n\r\n").value
    assert req.method == "PROPFIND"


def test_header_block_bound():
    filler = b"X-Pad: " + b"a" * 100 + b"\r\n"
    start = b"GET / HTTP/1.1\r\nHost: big.example\r\n"
    just_under = start + filler * ((http.MAX_HEADER_BYTES - len(start) - 2) // len(filler))
    assert http.parse_request(just_under).status == INCOMPLETE
    assert http.parse_request(just_under + b"\r\n").status == OK
    over = start + filler * (http.MAX_HEADER_BYTES // len(filler) + 1)
    assert http.parse_request(over).status == INVALID
    assert http.parse_request(over + b"\r\n").status == INVALID
    assert http.parse_request(b"G" * (http.MAX_HEADER_BYTES + 1)).status == INVALID


@pytest.mark.parametrize("data", [
    b"\x16\x03\x01\x02\x00\x01",
    b"GET  / HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1 extra\r\n\r\n",
    b"GET / HTTP/11\r\n\r\n",
    b"GET / FTP/1.0\r\n",
    b"GET /\r\n\r\n",  # HTTP/0.9
    b"GET / HTTP/1.1\r\nno colon here\r\n\r\n",
    b"GET / HTTP/1.1\r\nbad header: x\r\nHost: a\r\n",
    b"GET /\x00 HTTP/1.1\r\n\r\n",
    b"G\x00",
    b"GET / HTTP/2x",
    b"GET / HTTP/1.1\rX",
    b"GETGETGETGETGETGETGETGET / HTTP/1.1\r\n\r\n",
])
def test_invalid(data):
    assert http.parse_request(data).status == INVALID


@pytest.mark.parametrize("data", [b"", b"G", b"GET", b"GET ", b"GET /", b"GET / HTTP/1.", b"\r",
                                  b"GET / HTTP/1.1\r", b"GET / HTTP/1.1\r\nHost: a"])
def test_incomplete(data):
    assert http.parse_request(data).status == INCOMPLETE


@pytest.mark.parametrize("data,expected", [
    (CURL_GET, True), (CURL_POST, True), (b"HEAD / HTTP/1.1", True), (b"OPTIONS * ", True),
    (b"CONNECT x:443 ", True), (b"GET", False), (b"GETX / HTTP/1.1", False),
    (b"get / HTTP/1.1", False), (b" GET /", False), (b"PROPFIND /", False), (b"", False),
])
def test_looks_like_http(data, expected):
    assert http.looks_like_http(data) is expected


@settings(max_examples=400)
@given(st.binary(max_size=400))
def test_never_raises_on_random_bytes(data):
    assert http.parse_request(data).status in (OK, INCOMPLETE, INVALID)


_LINE_PIECES = st.sampled_from([b"GET", b" ", b"/", b"HTTP/1.1", b"\r\n", b"\n", b"\r", b":",
                                b"Host", b"[", b"]", b"@", b"http://", b"a.example", b"80",
                                b"\t", b"\x00", b"CONNECT"])


@settings(max_examples=400)
@given(st.lists(_LINE_PIECES, max_size=30))
def test_never_raises_on_request_like_bytes(pieces):
    result = http.parse_request(b"".join(pieces))
    assert result.status in (OK, INCOMPLETE, INVALID)
    if result.ok:
        assert result.value.host is None or result.value.host == result.value.host.lower()
