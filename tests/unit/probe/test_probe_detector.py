"""External detectors: the command line built per target, and their output read."""
from __future__ import annotations

import json

from lab.probe.detector import command, parse

URL = "https://blocked.example.com/a b"


def test_command_substitutes_quoted():
    assert command("mytool {url}", URL) == "mytool 'https://blocked.example.com/a b'"
    assert command("dig +short {host}", URL) == "dig +short blocked.example.com"
    assert command("mytool --json", URL) == "mytool --json 'https://blocked.example.com/a b'"
    assert command("awk '{print}' {url}", "x.org") == "awk '{print}' x.org"


def test_simple_lines():
    v, rec = parse('log line\n{"url": "%s", "blocked": true, "technique": "dns"}\n' % URL,
                   "", 0, URL)
    assert (v.blocked, v.technique) == (True, "dns") and rec["url"] == URL
    v, _ = parse(json.dumps({"url": URL, "blocked": False}), "", 0, URL)
    assert (v.blocked, v.technique) == (False, None)


def test_the_record_for_this_url_wins():
    out = "\n".join(json.dumps(r) for r in (
        {"url": "https://other.example/", "blocked": True},
        {"url": URL + "/", "blocked": False},
        {"url": "https://third.example/", "blocked": True}))
    v, rec = parse(out, "", 0, URL)
    assert v.blocked is False and rec["url"] == URL + "/"


def test_ooni_measurements():
    def m(blocking, x=None):
        tk = {"blocking": blocking, "accessible": blocking is False}
        if x is not None:
            tk["x_blocking"] = x
        return json.dumps({"input": URL, "test_name": "web_connectivity", "test_keys": tk})
    assert parse(m("http-failure"), "", 0, URL)[0].technique == "http-failure"
    assert parse(m(False), "", 0, URL)[0].blocked is False
    assert parse(m(None), "", 0, URL)[0].blocked is None
    v = parse(m(False, "throttle"), "", 0, URL)[0]
    assert (v.blocked, v.technique) == (True, "throttle")


def test_no_output_is_no_verdict_with_the_reason():
    v, rec = parse("", "Traceback...\nNameError: x\n", 1, URL)
    assert v.blocked is None and rec is None
    assert "exit 1" in v.why and "NameError" in v.why
    v, _ = parse('{"url": "%s", "blocked": "maybe"}' % URL, "", 0, URL)
    assert v.blocked is None
