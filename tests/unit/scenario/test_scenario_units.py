"""Units: strict spellings, their values, and a did-you-mean for near misses."""
from __future__ import annotations

import pytest

from lab.scenario import units
from lab.scenario.schema_check import schema


@pytest.mark.parametrize("text, bps", [
    ("128kbit", 128_000), ("1.5Mbit", 1_500_000), ("1Gbit", 1_000_000_000), ("0.5kbit", 500)])
def test_rates(text, bps):
    assert units.parse_rate(text) == bps


@pytest.mark.parametrize("text, size", [("1B", 1), ("16KB", 16384), ("1.5MB", 1572864)])
def test_sizes(text, size):
    assert units.parse_size(text) == size


@pytest.mark.parametrize("text, seconds", [("250ms", 0.25), ("30s", 30.0), ("2m", 120.0),
                                           ("0s", 0.0)])
def test_durations(text, seconds):
    assert units.parse_duration(text) == seconds


@pytest.mark.parametrize("kind, text, suggestion", [
    ("rate", "128kbps", "128kbit"), ("rate", "1Mbps", "1Mbit"), ("rate", "1mbit", "1Mbit"),
    ("rate", "2 Gbit", "2Gbit"), ("rate", "128k", "128kbit"), ("rate", "16KB/s", "128kbit"),
    ("rate", "1MB/s", "8Mbit"), ("rate", "10 mbit/s", "10Mbit"),
    ("size", "16kb", "16KB"), ("size", "16KiB", "16KB"), ("size", "2mb", "2MB"),
    ("size", "100 bytes", "100B"), ("size", "4096", "4096B"),
    ("duration", "30sec", "30s"), ("duration", "2min", "2m"), ("duration", "500msec", "500ms"),
    ("duration", "1h", "60m"), ("duration", "30S", "30s"),
])
def test_did_you_mean(kind, text, suggestion):
    message = units.explain(kind, text)
    assert f"(did you mean '{suggestion}'" in message
    assert message.startswith(f"bad {kind} '{text}'")


@pytest.mark.parametrize("kind, value", [("rate", "fast"), ("rate", 128), ("size", "lots"),
                                         ("duration", "soon"), ("rate", None), ("rate", [1])])
def test_no_guess_without_a_good_one(kind, value):
    assert "did you mean" not in units.explain(kind, value)


def test_bare_numbers():
    assert units.explain("duration", 30) == \
        "bad duration 30: give a unit (did you mean '30s' or '30ms'?)"
    assert units.explain("rate", 128) == ("bad rate 128: a rate needs a unit, kbit, Mbit or "
                                          "Gbit (bits per second), e.g. '128kbit'")
    assert units.explain("percent", 1) == "bad percentage 1 (did you mean '1%'?)"


@pytest.mark.parametrize("parse, text", [
    (units.parse_rate, "0kbit"), (units.parse_size, "0B"), (units.parse_percent, "101%"),
    (units.parse_rate, "128kbps"), (units.parse_size, "16kb"), (units.parse_duration, 30),
    (units.parse_rate, True)])
def test_rejected(parse, text):
    with pytest.raises(units.UnitError):
        parse(text)


def test_zero_duration_only_when_allowed():
    assert units.parse_duration("0s") == 0
    with pytest.raises(units.UnitError, match="more than 0"):
        units.parse_duration("0s", zero=False)


def test_percent():
    assert units.parse_percent("0.5%") == 0.5
    assert units.parse_percent("100%") == 100


def test_schema_patterns_are_the_unit_regexes():
    defs = schema()["$defs"]
    assert defs["rate"]["pattern"] == units.RATE_RE
    assert defs["size"]["pattern"] == units.SIZE_RE
    assert defs["duration"]["pattern"] == units.DURATION_RE
    assert defs["percent"]["pattern"] == units.PERCENT_RE
