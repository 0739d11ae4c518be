"""atheris: STUN messages (controllers.dpi.stun)."""
import atheris

import common

with atheris.instrument_imports(include=["controllers"]):
    from controllers.dpi import stun
    from controllers.dpi.result import INCOMPLETE, INVALID, OK


def seeds():
    from dpi_samples import CLASSIC_STUN, CLASSIC_STUN_CHANGE_REQUEST, ICE_CHECK, rfc5389_request
    return [ICE_CHECK, CLASSIC_STUN, CLASSIC_STUN_CHANGE_REQUEST, rfc5389_request()]


def test_one_input(data: bytes) -> None:
    r = stun.parse(data)
    assert r.status in (OK, INCOMPLETE, INVALID)
    assert stun.looks_like_stun(data) in (True, False)


if __name__ == "__main__":
    common.fuzz("stun", test_one_input, seeds)
