"""Units in scenario files: rates, sizes, durations and percentages.

Owns the spelling (strict: `128kbit`, `16KB`, `30s`, `1%`), the conversion to numbers and the
messages, with a did-you-mean for near misses (`128kbps` -> `128kbit`). The JSON Schema's
patterns for these values are the regexes here (a unit test keeps them equal).

Rates are bits per second with the tc prefixes (1 kbit = 1000 bit); sizes are bytes with
1 KB = 1024 B; durations are ms, s or m.
"""
from __future__ import annotations

import math
import re

RATE_RE = r"^[0-9]+(\.[0-9]+)?(kbit|Mbit|Gbit)$"
SIZE_RE = r"^[0-9]+(\.[0-9]+)?(B|KB|MB)$"
DURATION_RE = r"^[0-9]+(\.[0-9]+)?(ms|s|m)$"
PERCENT_RE = r"^[0-9]+(\.[0-9]+)?%$"

RATES = {"kbit": 1e3, "Mbit": 1e6, "Gbit": 1e9}
SIZES = {"B": 1, "KB": 1024, "MB": 1024 * 1024}
DURATIONS = {"ms": 0.001, "s": 1.0, "m": 60.0}

_LOOSE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([A-Za-z/%]*)\s*$")

# near misses: what people write -> (our unit, factor to apply to the number)
_RATE_ALIASES = {
    "kbps": ("kbit", 1), "kbits": ("kbit", 1), "kbit/s": ("kbit", 1), "kb/s": ("kbit", 1),
    "k": ("kbit", 1), "kbs": ("kbit", 1),
    "mbps": ("Mbit", 1), "mbits": ("Mbit", 1), "mbit/s": ("Mbit", 1), "mb/s": ("Mbit", 1),
    "m": ("Mbit", 1), "mbs": ("Mbit", 1),
    "gbps": ("Gbit", 1), "gbits": ("Gbit", 1), "gbit/s": ("Gbit", 1), "gb/s": ("Gbit", 1),
    "g": ("Gbit", 1),
}
_RATE_BYTES = {"KB/s": ("kbit", 8), "KBps": ("kbit", 8), "kB/s": ("kbit", 8),
               "MB/s": ("Mbit", 8), "MBps": ("Mbit", 8), "GB/s": ("Gbit", 8),
               "B/s": ("kbit", 0.008), "Bps": ("kbit", 0.008)}
_SIZE_ALIASES = {
    "b": ("B", 1), "byte": ("B", 1), "bytes": ("B", 1),
    "k": ("KB", 1), "kb": ("KB", 1), "kib": ("KB", 1), "kbyte": ("KB", 1), "kbytes": ("KB", 1),
    "m": ("MB", 1), "mb": ("MB", 1), "mib": ("MB", 1), "mbyte": ("MB", 1), "mbytes": ("MB", 1),
    "gb": ("MB", 1024), "gib": ("MB", 1024),
}
_DURATION_ALIASES = {
    "sec": ("s", 1), "secs": ("s", 1), "second": ("s", 1), "seconds": ("s", 1),
    "msec": ("ms", 1), "msecs": ("ms", 1), "millis": ("ms", 1), "milliseconds": ("ms", 1),
    "min": ("m", 1), "mins": ("m", 1), "minute": ("m", 1), "minutes": ("m", 1),
    "h": ("m", 60), "hr": ("m", 60), "hour": ("m", 60), "hours": ("m", 60),
    "us": ("ms", 0.001),
}

_KINDS = {
    # kind: (regex, units, aliases, unit for a bare number, what to say)
    "rate": (RATE_RE, RATES, _RATE_ALIASES, None, "kbit, Mbit or Gbit (bits per second)"),
    "size": (SIZE_RE, SIZES, _SIZE_ALIASES, "B", "B, KB or MB (1 KB = 1024 B)"),
    "duration": (DURATION_RE, DURATIONS, _DURATION_ALIASES, "s", "ms, s or m"),
}
_EXAMPLE = {"rate": "128kbit", "size": "16KB", "duration": "30s", "percent": "1%"}


class UnitError(ValueError):
    """A value that is not a valid rate/size/duration; str() is the message."""


def _num(text: str) -> str:
    """A number as short as YAML would write it: 128.0 -> '128', 0.1280 -> '0.128'."""
    value = float(text)
    return str(int(value)) if value == int(value) and abs(value) < 1e15 else f"{value:g}"


def _suggest(kind: str, value: object) -> str | None:
    """Our spelling of a near miss, or None."""
    regex, units, aliases, bare_unit, _ = _KINDS[kind]
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or value < 0 or bare_unit is None:
            return None
        suggestion = f"{_num(str(value))}{bare_unit}"
        return suggestion if re.match(regex, suggestion) else None
    if not isinstance(value, str):
        return None
    m = _LOOSE.match(value)
    if not m:
        return None
    number, unit = m.group(1), m.group(2)
    if unit == "" and bare_unit:
        return f"{_num(number)}{bare_unit}"
    found = None
    if kind == "rate" and unit in _RATE_BYTES:
        found = _RATE_BYTES[unit]
    elif unit in units:
        found = (unit, 1)
    else:
        for ours in units:
            if unit.lower() == ours.lower():
                found = (ours, 1)
        found = found or aliases.get(unit.lower())
    if not found:
        return None
    ours, factor = found
    suggestion = f"{_num(str(float(number) * factor))}{ours}"
    return suggestion if re.match(regex, suggestion) and suggestion != value else None


def explain(kind: str, value: object) -> str:
    """Why `value` is not a valid `kind` ('rate', 'size', 'duration', 'percent')."""
    if kind == "percent":
        m = _LOOSE.match(str(value)) if isinstance(value, (str, int, float)) else None
        if m and not isinstance(value, bool) and m.group(2).lower() in ("", "pct", "percent"):
            return f"bad percentage {_quote(value)} (did you mean '{_num(m.group(1))}%'?)"
        return (f"bad percentage {_quote(value)}: write a number from 0 to 100 and '%', "
                f"e.g. '{_EXAMPLE['percent']}'")
    if kind == "duration" and _bare_number(value):
        n = _num(str(value).strip())
        return f"bad duration {_quote(value)}: give a unit (did you mean '{n}s' or '{n}ms'?)"
    hint = _suggest(kind, value)
    if hint and kind == "rate" and "B" in str(value):
        return f"bad rate {_quote(value)} (did you mean '{hint}'? rates are bits per second)"
    if hint:
        return f"bad {kind} {_quote(value)} (did you mean '{hint}'?)"
    units_text = _KINDS[kind][4]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (f"bad {kind} {_quote(value)}: a {kind} needs a unit, {units_text}, "
                f"e.g. '{_EXAMPLE[kind]}'")
    return f"bad {kind} {_quote(value)}: write a number and {units_text}, e.g. '{_EXAMPLE[kind]}'"


def _bare_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return math.isfinite(value) and value >= 0 and abs(value) < 1e15
    return isinstance(value, str) and re.match(r"^\s*[0-9]*\.?[0-9]+\s*$", value) is not None


def _quote(value: object) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, bool) or value is None:
        return "null" if value is None else str(value).lower()
    if isinstance(value, (dict, list)):
        return "(a mapping)" if isinstance(value, dict) else "(a list)"
    return str(value)


def _parse(kind: str, value: object) -> tuple[float, str]:
    regex = _KINDS[kind][0]
    if not isinstance(value, str) or not re.match(regex, value):
        raise UnitError(explain(kind, value))
    m = re.match(r"^([0-9.]+)(.*)$", value)
    return float(m.group(1)), m.group(2)


def parse_rate(value: object) -> int:
    """'128kbit' -> 128000 (bits per second); more than 0."""
    number, unit = _parse("rate", value)
    bps = round(number * RATES[unit])
    if bps < 1:
        raise UnitError(f"bad rate '{value}': must be more than 0")
    return bps


def parse_size(value: object) -> int:
    """'16KB' -> 16384 (bytes); at least 1 byte."""
    number, unit = _parse("size", value)
    size = round(number * SIZES[unit])
    if size < 1:
        raise UnitError(f"bad size '{value}': must be at least 1B")
    return size


def parse_duration(value: object, *, zero: bool = True) -> float:
    """'30s' -> 30.0 (seconds). `zero=False` rejects 0."""
    number, unit = _parse("duration", value)
    seconds = number * DURATIONS[unit]
    if seconds == 0 and not zero:
        raise UnitError(f"bad duration '{value}': must be more than 0")
    return seconds


def parse_percent(value: object) -> float:
    """'1.5%' -> 1.5; 0 to 100."""
    if not isinstance(value, str) or not re.match(PERCENT_RE, value):
        raise UnitError(explain("percent", value))
    pct = float(value[:-1])
    if pct > 100:
        raise UnitError(f"bad percentage '{value}': must be 100% or less")
    return pct
