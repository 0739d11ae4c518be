"""Case-insensitive shell-glob name patterns, compiled so a lookup costs the same for 10 or 10^6.

Owns only the pattern language of docs/scenarios.md (`example.com` exact, `*.example.com` any
subdomain, `*t.co*` substring; `*` also matches dots, as in fnmatch). Patterns are sorted
into shapes when compiled:

- exact names                      -> one set; lookup O(1)
- `*.SUFFIX` (subdomains)          -> a set of dot-suffixes; lookup tries the name's suffixes
                                      at each dot, O(labels) however many patterns
- `*SUFFIX` (no other glob char)   -> a set of suffixes; lookup tries each suffix of the name,
                                      O(len(name)) however many patterns
- `PREFIX*`                        -> a set of prefixes, the same trick from the left
- `*INFIX*`                        -> sets of infixes grouped by length; lookup slides one
                                      window per distinct length, O(len(name) x lengths)
- anything else (`?`, `[...]`, several `*`) -> fnmatch regexes, tried one by one (meant for
                                      the handful a scenario writes by hand)

Names are lower-cased and lose one trailing dot before matching.
"""
from __future__ import annotations

import fnmatch
import re
from typing import Iterable



def _has_glob(text: str) -> bool:
    """Whether `text` holds a glob character (three C scans: cheaper than a set per name)."""
    return "*" in text or "?" in text or "[" in text


def _normalised(patterns: Iterable[str]) -> list[str]:
    """normalise_name of each; the strings themselves when they need nothing (checked in
    three C-level passes over the whole list, not name by name)."""
    names = [p if type(p) is str else str(p) for p in patterns]
    joined = "\n".join(names)
    if joined.endswith(".") or ".\n" in joined or joined.lower() != joined:
        return [normalise_name(n) for n in names]
    return names


def normalise_name(name: str) -> str:
    if not name.islower():          # lower() copies even a lower-case name: keep the one
        name = name.lower()         # we have (10^6 blocklist names stay one copy each)
    return name[:-1] if name.endswith(".") else name


MEMO = 4096                 # names whose answer a NamePatterns remembers


class NamePatterns:
    """A compiled set of glob patterns; `match(name)` says whether any of them matches."""

    __slots__ = ("exact", "subdomains", "suffixes", "prefixes", "infixes", "infix_lengths",
                 "regexes", "count", "_min_suffix", "_memo")

    def __init__(self, patterns: Iterable[str]) -> None:
        self.exact: set[str] = set()
        self.subdomains: set[str] = set()       # ".example.com" for "*.example.com"
        self.suffixes: set[str] = set()
        self.prefixes: set[str] = set()
        self.infixes: dict[int, set[str]] = {}
        self.regexes: list[re.Pattern] = []
        self._memo: dict[str, bool] = {}
        names = _normalised(patterns)
        self.count = len(names)
        # A blocklist of 10^6 is exact names and `*.zone`s: those go in whole, in C-level
        # passes; only the other globs take the pattern-by-pattern path.
        globs = [n for n in names if "*" in n or "?" in n or "[" in n]
        if not globs:
            self.exact.update(names)
        else:
            self.exact.update(n for n in names if not ("*" in n or "?" in n or "[" in n))
            zones = [g[1:] for g in globs if g[:2] == "*." and "*" not in g[1:]
                     and "?" not in g and "[" not in g]
            self.subdomains.update(zones)
            if len(zones) < len(globs):
                for pat in globs:
                    if not (pat[:2] == "*." and not _has_glob(pat[1:])):
                        self._add_glob(pat)
        self._finish()

    def add(self, raw: str) -> None:
        pat = normalise_name(str(raw))
        self.count += 1
        self._memo.clear()
        if not _has_glob(pat):
            self.exact.add(pat)
            return
        self._add_glob(pat)

    def _add_glob(self, pat: str) -> None:
        body = pat.strip("*")
        stars_only_at_ends = not _has_glob(body)
        if stars_only_at_ends and body:
            lead, trail = pat.startswith("*"), pat.endswith("*")
            if lead and trail:
                self.infixes.setdefault(len(body), set()).add(body)
                return
            if lead:
                (self.subdomains if body.startswith(".") else self.suffixes).add(body)
                return
            self.prefixes.add(body)
            return
        if stars_only_at_ends:       # "*", "**": everything
            self.prefixes.add("")
            return
        self.regexes.append(re.compile(fnmatch.translate(pat), re.DOTALL))

    def _finish(self) -> None:
        self.infix_lengths = sorted(self.infixes)
        self._min_suffix = min((len(s) for s in self.suffixes), default=0)

    def __len__(self) -> int:
        return self.count

    def match(self, name: str) -> bool:
        """Whether any pattern matches `name`. Answers are remembered for the last MEMO
        names (traffic asks about the same names again and again: every query for a
        popular name, every rule with names in a walk)."""
        hit = self._memo.get(name)
        if hit is None:
            hit = self.lookup(name)
            memo = self._memo
            if len(memo) >= MEMO:
                memo.clear()
            memo[name] = hit
        return hit

    def lookup(self, name: str) -> bool:
        """`match` without the memo: the index itself (a few set probes, by label)."""
        name = normalise_name(name)
        if name in self.exact:
            return True
        n = len(name)
        if self.subdomains:
            subdomains = self.subdomains
            dot = name.find(".")
            while dot >= 0:
                if name[dot:] in subdomains:
                    return True
                dot = name.find(".", dot + 1)
        if self.suffixes:
            suffixes = self.suffixes
            for i in range(0, n - self._min_suffix + 1):
                if name[i:] in suffixes:
                    return True
        if self.prefixes:
            prefixes = self.prefixes
            for i in range(n + 1):
                if name[:i] in prefixes:
                    return True
        for length in self.infix_lengths:
            if length > n:
                break
            group = self.infixes[length]
            for i in range(n - length + 1):
                if name[i:i + length] in group:
                    return True
        for rx in self.regexes:
            if rx.match(name):
                return True
        return False
