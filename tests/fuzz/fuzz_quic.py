"""atheris: QUIC Initials (controllers.dpi.quic), on the wire and past the packet protection.

A random datagram almost never decrypts, so the first input byte chooses: fuzz the datagram
as it comes (header walk, decryption), or protect the rest of the input as an Initial's
payload first (RFC 9001 keys, as a client would) so that the frame parser, the CRYPTO
reassembly and the ClientHello inside are fuzzed too."""
import atheris

import common

with atheris.instrument_imports(include=["controllers"]):
    from controllers.dpi import quic
    from controllers.dpi.result import INCOMPLETE, INVALID, OK

DCID = bytes.fromhex("8394c8f03e515708")


def seeds():
    from dpi_samples import crypto_frame, handshake_of, ssl_client_hello
    hello = handshake_of(ssl_client_hello("quic.example.net", alpn=("h3",)))
    out = [b"\x01" + crypto_frame(0, hello),
           b"\x01" + crypto_frame(0, hello[:100]) + crypto_frame(100, hello[100:]),
           b"\x01\x02\x00\x00\x00\x00" + crypto_frame(0, hello) + bytes(50)]
    try:
        from dpi_samples import aioquic_datagrams
        out += [b"\x00" + d for d in aioquic_datagrams("www.example.org")][:4]
    except Exception:
        pass
    return out


def test_one_input(data: bytes) -> None:
    if not data:
        return
    if data[0] & 1:
        from dpi_samples import protect_initial
        payload = data[1:] + bytes(max(0, 20 - len(data)))    # room for the header sample
        datagram = protect_initial(DCID, payload)
        initials = quic.parse_initials(datagram)
        assert len(initials) == 1, "a protected Initial must decrypt"
        assert initials[0].crypto == quic._crypto_frames(payload)
    else:
        datagram = data[1:]
        initials = quic.parse_initials(datagram)
        quic.looks_like_quic_initial(datagram)
    assembler = quic.CryptoAssembler()
    for initial in initials:
        assembler.add(initial.crypto)
    r = assembler.client_hello()
    assert r.status in (OK, INCOMPLETE, INVALID)
    assert assembler.contiguous <= quic.MAX_CRYPTO


if __name__ == "__main__":
    common.fuzz("quic", test_one_input, seeds)
