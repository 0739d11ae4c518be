"""atheris: control-socket commands (controllers.engine.commands via Engine.control).

The input is either a JSON text (as a client would send) or, when it is not JSON, the choices
for a command built from the command language's own words, so that most inputs reach the rule
checks. Every command gets a reply with `ok`, errors carry a message, nothing raises, and no
internal error is counted."""
import json

import atheris

import common

with atheris.instrument_imports(include=["controllers"]):
    from controllers.engine.engine import Engine

from engine_helpers import policy, rule  # noqa: E402

BASE = policy(rule("a", {"sni": ["a.example"]}, "drop"),
              rule("b", {"dns": ["b.example"]}, "nxdomain", residual=5))
CMDS = ["status", "rules", "enable", "disable", "replace", "add", "policy", "nope"]
MATCH_KEYS = ["server", "ip", "proto", "port", "dns", "sni", "quic_sni", "host", "path",
              "protocol", "tls_ext", "sport_above_dport", "not", "bogus"]
VALUES = [None, True, 0, -1, 65536, 1.5, "", "x", "a.example", "198.19.0.0/16", "tcp", "stun",
          [1, 2], [[1, 2]], ["*.example"], {}, {"type": "drop"}, "web", [443], "1-2"]
ACTIONS = [{"type": t} for t in ("drop", "reject", "reset", "nxdomain", "servfail", "refused",
                                 "allow", "blockpage", "forge", "inject", "throttle",
                                 "cut_after", "x")] + [{"type": "throttle", "rate_bps": 8000},
                                                       {"type": "forge", "ip": "198.19.0.9"},
                                                       "drop", None]


def seeds():
    return [b'{"cmd":"status"}', b'{"cmd":"disable","rule":"a"}',
            b'{"cmd":"replace","rule":{"id":"c","match":{"sni":["c.example"]},'
            b'"action":{"type":"reset"}}}', b'{"cmd":"policy","rules":[]}']


def built(fdp: atheris.FuzzedDataProvider):
    cmd = {"cmd": fdp.PickValueInList(CMDS)}
    match = {fdp.PickValueInList(MATCH_KEYS): fdp.PickValueInList(VALUES)
             for _ in range(fdp.ConsumeIntInRange(0, 3))}
    r = {"id": fdp.PickValueInList(["a", "b", "c", "", 1]), "match": match,
         "action": fdp.PickValueInList(ACTIONS)}
    for key, values in (("residual", [None, 5, 0, -1, "5s", 1e12]),
                        ("probability", [None, 0.5, 2, True]), ("per", ["flow", "rule", 3]),
                        ("enabled", [True, False, "no"])):
        if fdp.ConsumeBool():
            r[key] = fdp.PickValueInList(values)
    if fdp.ConsumeBool():
        cmd["rule"] = r if fdp.ConsumeBool() else r["id"]
    if fdp.ConsumeBool():
        cmd["rules"] = [r] * fdp.ConsumeIntInRange(0, 2)
    if fdp.ConsumeBool():
        cmd["index"] = fdp.PickValueInList([0, 1, 99, -1, "1", None])
    return cmd


def test_one_input(data: bytes) -> None:
    try:
        command = json.loads(data)
    except (ValueError, RecursionError):
        command = built(atheris.FuzzedDataProvider(data))
    engine = Engine(BASE)
    for now in (1.0, 2.0):
        reply, effects = engine.control(command, now)
        assert isinstance(reply, dict) and reply.get("ok") in (True, False), reply
        assert reply["ok"] or reply.get("error"), reply
        json.dumps(reply)
        assert isinstance(effects, list)
    assert engine.stats()["internal_errors"] == 0


if __name__ == "__main__":
    common.fuzz("control", test_one_input, seeds)
