"""controllers.rules.patterns: the glob language of docs/scenarios.md, at flat cost."""
import time

from controllers.rules.patterns import NamePatterns


def test_exact_subdomain_and_case():
    p = NamePatterns(["example.com", "*.apple.com"])
    assert p.match("example.com") and p.match("EXAMPLE.com.")
    assert not p.match("www.example.com")
    assert p.match("facetime.apple.com") and p.match("a.b.apple.com")
    assert not p.match("apple.com") and not p.match("pineapple.com")


def test_substring_t_co_and_what_it_over_matches():
    p = NamePatterns(["*t.co*"])
    # the Russian 2021 throttle pattern: t.co itself, and every name containing "t.co"
    assert p.match("t.co") and p.match("www.t.co")
    assert p.match("microsoft.com")     # microsof-t.co-m
    assert p.match("reddit.com")        # reddi-t.co-m
    assert p.match("rt.com") and p.match("githubassets.t.co.uk")
    assert not p.match("example.org") and not p.match("twitter.com")
    assert not p.match("google.com")


def test_prefix_suffix_and_general_globs():
    p = NamePatterns(["www.*", "*google.com", "mail?.example.net", "[ab]x.org", "*"])
    assert NamePatterns(["www.*"]).match("www.anything.io")
    assert NamePatterns(["*google.com"]).match("evilgoogle.com")
    assert NamePatterns(["mail?.example.net"]).match("mail1.example.net")
    assert not NamePatterns(["mail?.example.net"]).match("mail12.example.net")
    assert NamePatterns(["[ab]x.org"]).match("bx.org")
    assert p.match("whatever")


def _lookup_cost(n: int) -> float:
    """The best of three timings of 4,000 lookups against n patterns."""
    pats = [f"site{i}.example{i % 97}.com" for i in range(n // 2)]
    pats += [f"*.zone{i}.net" for i in range(n // 2)]
    p = NamePatterns(pats)
    names = [f"www.host{i}.zone{i * 7}.net" for i in range(2000)]
    names += [f"nomatch{i}.example.org" for i in range(2000)]
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        for name in names:
            p.match(name)
        best = min(best, time.perf_counter() - t)
    return best


def test_lookup_cost_is_flat_in_pattern_count():
    small, large = _lookup_cost(1_000), _lookup_cost(200_000)
    assert large < small * 4 + 0.05, (small, large)
