"""atheris: HTTP/1 request heads (controllers.dpi.http): Host and path."""
import atheris

import common

with atheris.instrument_imports(include=["controllers"]):
    from controllers.dpi import http
    from controllers.dpi.result import INCOMPLETE, INVALID, OK


def seeds():
    from dpi_samples import CURL_GET
    return [CURL_GET, b"GET http://a.example/x HTTP/1.1\r\nHost: b\r\n\r\n",
            b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n",
            b"POST /p HTTP/1.0\nHost: [::1]:80\n X-Fold: y\n\n", b"\r\n\r\nGET / HTTP/1.1\r\n"]


def test_one_input(data: bytes) -> None:
    r = http.parse_request(data)
    assert r.status in (OK, INCOMPLETE, INVALID)
    if r.ok:
        assert r.value.host is None or isinstance(r.value.host, str)
        assert r.value.path is None or isinstance(r.value.path, str)
    http.looks_like_http(data)


if __name__ == "__main__":
    common.fuzz("http", test_one_input, seeds)
