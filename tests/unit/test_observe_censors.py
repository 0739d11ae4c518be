"""`blocklab run`'s rows with several censors (issue 15): each action names its censor, and an
expectation's `censor` holds only when that censor's events are attributed to the row."""
from lab.truth.observe import Observation, attributed, censor_actions

ALICE, SERVER = "198.18.1.10", "198.19.0.10"
FLOW = {"proto": "tcp", "src": ALICE, "sport": 40000, "dst": SERVER, "dport": 443}
EVENTS = [
    {"t": 1.0, "rule": "sni-reset", "technique": "sni", "action": "reset", "flow": FLOW,
     "detail": {"sni": "blocked.example.com"}, "censor": "tspu"},
    {"t": 1.1, "rule": "other", "technique": "sni", "action": "drop",
     "flow": {**FLOW, "src": "198.18.2.10"}, "detail": {"sni": "blocked.example.com"},
     "censor": "gfw"},
]
URL = "https://blocked.example.com/"


def test_actions_name_their_censor_when_there_are_several():
    assert censor_actions(EVENTS, ALICE, URL, SERVER) == "sni-reset: reset (sni)"
    assert censor_actions(EVENTS, ALICE, URL, SERVER, named=True) == \
        "tspu/sni-reset: reset (sni)"
    assert [e["censor"] for e in attributed(EVENTS, ALICE, URL, SERVER)] == ["tspu"]


def test_an_expected_censor_must_have_acted():
    row = Observation("alice", URL, True, "", "reset", False, SERVER, isp="home",
                      expected_censor="tspu", acted=("tspu",))
    assert row.holds is True
    row.expected_censor = "gfw"
    assert row.holds is False                   # blocked, but not by the censor expected
    row.expected_censor = None
    assert row.holds is True and row.as_dict()["isp"] == "home"
