"""atheris: protocol fingerprints of a flow's first data (controllers.dpi.fingerprint)."""
import atheris

import common

with atheris.instrument_imports(include=["controllers"]):
    from controllers.dpi import fingerprint

NAMES = {"dns", "stun", "quic", "tls", "http", "ssh", "openvpn", "wireguard", "fully-encrypted"}


def seeds():
    from dpi_samples import CURL_GET, DIG_QUERY, ICE_CHECK, ssl_client_hello
    return [b"\x00" + DIG_QUERY, b"\x01" + ICE_CHECK, b"\x00" + ssl_client_hello(),
            b"\x00" + CURL_GET, b"\x00SSH-2.0-OpenSSH_9.2\r\n",
            b"\x01\x01\x00\x00\x00" + bytes(144)]


def test_one_input(data: bytes) -> None:
    if not data:
        return
    transport = "udp" if data[0] & 1 else "tcp"
    found = fingerprint.classify(data[1:], transport)
    assert set(found) <= NAMES, found
    fingerprint.fully_encrypted(data[1:])


if __name__ == "__main__":
    common.fuzz("fingerprint", test_one_input, seeds)
