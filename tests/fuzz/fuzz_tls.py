"""atheris: TLS ClientHello (controllers.dpi.tls), one record or handshake records joined."""
import atheris

import common

with atheris.instrument_imports(include=["controllers"]):
    from controllers.dpi import tls
    from controllers.dpi.result import INCOMPLETE, INVALID, OK


def seeds():
    from dpi_samples import handshake_of, post_quantum_hello, records, ssl_client_hello
    hello = ssl_client_hello("www.example.com")
    shake = handshake_of(hello)
    return [hello, ssl_client_hello(None), ssl_client_hello("a.b", alpn=()), shake,
            records(shake, (3, 40, 100)), records(shake, (1,)), post_quantum_hello()[:4096],
            records(post_quantum_hello())[:4096]]


def test_one_input(data: bytes) -> None:
    for result in (tls.parse_client_hello(data, True), tls.parse_client_hello(data, False),
                   tls.parse_handshake(data)):
        assert result.status in (OK, INCOMPLETE, INVALID)
        if result.ok:
            ch = result.value
            if ch.sni is not None:                  # the name's bytes, ASCII lower case
                raw = ch.sni.encode("latin-1")
                assert raw == raw.lower(), ch.sni
            assert all(0 <= t <= 0xFFFF for t in ch.extensions)
    tls.looks_like_tls(data)


if __name__ == "__main__":
    common.fuzz("tls", test_one_input, seeds)
