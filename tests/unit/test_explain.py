"""`explain` walks the rules over a URL's flows in pure code, naming the rule that decides."""
from __future__ import annotations

import pytest

from lab import scenario as scenarios
from lab.teach.explain import explain


def _explain(ref: str, url: str, client: str = "alice", disabled=()):
    sc = scenarios.load(ref)
    rules = [dict(r.to_policy(), enabled=r.id not in disabled) for r in sc.censor.rules]
    probabilities = {r.id: r.probability for r in sc.censor.rules}
    return explain(sc, rules, client, url, probabilities)


@pytest.mark.parametrize("ref, url, rules", [
    ("ru/2025-12", "https://facetime.apple.com/", ["facetime"]),
    ("ru/2025-12", "https://www.instagram.com/", ["social"]),
    ("ru/2025-12", "https://r1---sn-abc.googlevideo.com/bulk/100M", ["youtube-throttle"]),
    ("ru/2025-12", "stun://facetime.apple.com:3478", ["facetime-relay"]),
    ("ru/2025-12", "https://vk.com/", []),
    ("basics/dns-nxdomain", "https://blocked.example.com/", ["dns-nx"]),
    ("basics/http-path", "http://www.site.example/forbidden/page.html", ["path-page"]),
    ("basics/http-path", "http://www.site.example/", []),
    ("basics/substring", "https://www.microsoft.com/", ["tco"]),
    ("basics/allow", "https://ok.corp.example/", ["exception"]),
    ("basics/ip-drop", "https://hosting.example.net/", ["range-drop"]),
])
def test_the_deciding_rule(ref, url, rules):
    assert _explain(ref, url).deciding_rules == rules


def test_a_disabled_rule_decides_nothing_and_the_next_one_takes_over():
    assert _explain("basics/allow", "https://ok.corp.example/",
                    disabled={"exception"}).deciding_rules == ["everything-else"]


def test_keys_only_traffic_shows_are_named():
    text = _explain("ru/2025-12", "stun://web.whatsapp.com:3478").render()
    assert "? messenger-calls (drop) may hold: it needs protocol" in text
    assert "most likely (a stock client: protocol={stun}): rule messenger-calls" in text
    coin = _explain("basics/probability", "https://coin.example.com/")
    assert coin.deciding_rules == []
    assert "for 50% of flows" in coin.render()


def test_a_forged_answer_moves_the_connection():
    result = _explain("basics/dns-forge", "https://blocked.example.com/")
    assert result.deciding_rules == ["dns-forge"]
    assert result.legs[-1].leg.flow.s_ip == "198.19.0.11"


def test_https_hides_host_and_path_from_the_censor():
    result = _explain("basics/blockpage", "https://blocked.example.com/")
    assert result.deciding_rules == []
    assert _explain("basics/blockpage", "http://blocked.example.com/").deciding_rules == ["page"]


def test_bad_input_is_a_value_error():
    with pytest.raises(ValueError):
        _explain("basics/open", "gopher://www.example.com/")
    with pytest.raises(ValueError):
        _explain("basics/open", "https://www.example.com/", client="mallory")
