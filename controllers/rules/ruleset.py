"""The rule list in force: order, enabled flags, hit counts, probability draws, rule meters.

Owns "first match wins": `walk` goes through the enabled rules whose header may match a flow
and answers which rule decides it, or that it must wait for more bytes. Probability is drawn
once per (flow, rule), from one random.Random per rule seeded by (seed, rule id), so the same
seed and the same order of flows give the same choices. Also owns the live edits the control
socket asks for (enable, disable, replace, add, whole policy) and the ids of the meters that
`per: rule` throttles share.
"""
from __future__ import annotations

import random
from typing import Any

from controllers.rules.ip6 import addr_int
from controllers.rules.matching import CompiledRule
from controllers.rules.checks import check_rule
from controllers.rules.vocabulary import DNS_ANSWERS, PASSING_ACTIONS


class MeterPool:
    """OpenFlow meter ids, handed out from 1 and reused once freed."""

    def __init__(self) -> None:
        self._next = 1
        self._free: list[int] = []
        self.in_use = 0

    def take(self) -> int:
        self.in_use += 1
        if self._free:
            return self._free.pop()
        self._next += 1
        return self._next - 1

    def give(self, meter_id: int) -> None:
        self.in_use -= 1
        self._free.append(meter_id)


def meter_shape(rate_bps: int) -> tuple[int, int]:
    """(rate_kbps, burst_kbits) for a policer TCP can fill: burst max(500 ms of rate, 16 KB).

    Hosts hand the switch TCP super-segments (segmentation offload), and a bucket smaller than
    one drops it whole, which TCP answers by collapsing its window. Measured in the lab with
    curl through the censor: 1 Mbit/s with a 16 KB bucket gave 58% of the rate; with 500 ms
    of rate 102%; 128 kbit/s (16 KB floor) 102% over 3 s and 92% over 10 s."""
    rate_kbps = max(1, round(rate_bps / 1000))
    burst_kbits = max(round(rate_bps * 0.5 / 1000), 131)
    return rate_kbps, burst_kbits


class _HeaderView:
    """A flow-shaped view of a packet without ports (IP fragments)."""

    __slots__ = ("proto", "c_n", "s_n", "c_ip", "s_ip", "c_port", "s_port")

    def __init__(self, pkt) -> None:
        self.proto, self.c_ip, self.s_ip = pkt.proto, pkt.src, pkt.dst
        self.c_n, self.s_n = addr_int(pkt.src), addr_int(pkt.dst)
        self.c_port = self.s_port = 0


HEADER_CACHE = 65536       # candidate lists kept for flows' header keys
WALK_CACHE = 16384         # walks' answers kept (header key and the facts the rules read)


class RuleSet:
    """Compiled rules in order, with hits and one RNG per rule."""

    def __init__(self, rules: list[Any], hosts: dict[str, dict], seed: Any) -> None:
        self.hosts = hosts
        self.seed = seed
        self.hits: dict[str, int] = {}
        self.rules: list[CompiledRule] = []
        self.generation = 0         # bumped by every edit: per-flow candidate lists go stale
        self._rngs: dict[str, random.Random] = {}
        self._by_header: dict[tuple, tuple] = {}    # header key -> (generation, rules, needs,
        #                                             facts read in order, header key | None)
        self._walks: dict[tuple, tuple] = {}        # (header key, facts...) -> (decided, rule)
        self._walks_generation = 0
        self.set_all(rules)

    # -- edits (each raises RuleError/KeyError/ValueError on bad input, changing nothing) -----
    def compile(self, rule: Any) -> CompiledRule:
        return CompiledRule(check_rule(rule, self.hosts), self.hosts)

    def set_all(self, rules: list[Any]) -> None:
        if not isinstance(rules, list):
            raise ValueError("rules: expected a list")
        compiled = [self.compile(r) for r in rules]
        ids = [r.id for r in compiled]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"duplicate rule id(s) {', '.join(dup)}")
        self.rules = compiled
        self._rngs = {}
        self.generation += 1

    def index(self, rule_id: Any) -> int:
        for i, r in enumerate(self.rules):
            if r.id == rule_id:
                return i
        raise KeyError(f"no rule {rule_id!r}")

    def get(self, rule_id: Any) -> CompiledRule | None:
        for r in self.rules:
            if r.id == rule_id:
                return r
        return None

    def set_enabled(self, rule_id: Any, enabled: bool) -> CompiledRule:
        rule = self.rules[self.index(rule_id)]
        rule.enabled = enabled
        rule.rule["enabled"] = enabled
        self.generation += 1
        return rule

    def replace(self, raw: Any) -> tuple[CompiledRule, bool]:
        """Replace the rule with the same id, or append it; (rule, was_new)."""
        rule = self.compile(raw)
        self._rngs.pop(rule.id, None)
        self.generation += 1
        try:
            self.rules[self.index(rule.id)] = rule
            return rule, False
        except KeyError:
            self.rules.append(rule)
            return rule, True

    def add(self, raw: Any, index: Any = None) -> tuple[CompiledRule, int]:
        rule = self.compile(raw)
        if any(r.id == rule.id for r in self.rules):
            raise ValueError(f"rule {rule.id!r} exists (use replace)")
        if index is None:
            index = len(self.rules)
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise ValueError("index: expected a non-negative integer")
        index = min(index, len(self.rules))
        self.rules.insert(index, rule)
        self.generation += 1
        return rule, index

    # -- matching -------------------------------------------------------------------------
    def candidates(self, flow) -> list[CompiledRule]:
        return [r for r in self.rules if r.enabled and r.match.header_may_match(flow)]

    def flow_candidates(self, flow) -> tuple[list[CompiledRule], frozenset]:
        """(candidates, what they need) for an undecided flow, worked out once per flow and
        rule-set generation: a flow's header does not change, and with 100 rules this walk
        was half of a packet-in (each flow sends several before it is decided)."""
        cached = flow.candidates
        if cached is not None and cached[0] == self.generation:
            return cached[1], cached[2]
        # What header_ok reads: flows between the same ends share their candidates (each
        # DNS query and TLS connection is a new flow, from a new port, to a known server).
        key = (flow.proto, flow.c_n, flow.s_n, flow.s_port, flow.c_port > flow.s_port)
        cached = self._by_header.get(key)
        if cached is None or cached[0] != self.generation:
            candidates = self.candidates(flow)
            needs = self.needs(candidates)
            # walks over these candidates are remembered (walk()) unless a draw decides
            memo_key = None if any(r.probability is not None for r in candidates) else key
            cached = (self.generation, candidates, needs, tuple(sorted(needs)), memo_key)
            if len(self._by_header) >= HEADER_CACHE:
                self._by_header.clear()
            self._by_header[key] = cached
        flow.candidates = cached
        return cached[1], cached[2]

    @staticmethod
    def needs(candidates: list[CompiledRule]) -> frozenset:
        out: set[str] = set()
        for r in candidates:
            out |= r.needs
            if r.kind in DNS_ANSWERS:
                out.add("dns")
        return frozenset(out)

    def walk(self, flow, candidates: list[CompiledRule], has_data: bool, final: bool
             ) -> tuple[bool, CompiledRule | None]:
        """(decided, rule): rule None with decided True means no rule applies.
        `candidates`: rules whose header may match the flow (RuleSet.candidates).

        The answer depends only on the flow's header key, the facts the candidates read,
        `has_data` and `final` (no rule draws: flow_candidates leaves those out), so walks
        over a flow's cached candidates are remembered by those: a DNS query for a name
        seen before, from any port of the same client, costs one dict probe instead of
        matching its name against every DNS rule in turn."""
        cached = flow.candidates
        if cached is None or cached[1] is not candidates or cached[4] is None:
            return self._walk(flow, candidates, has_data, final)
        if self._walks_generation != self.generation:
            self._walks.clear()
            self._walks_generation = self.generation
        facts = flow.facts
        key = (cached[4], has_data, final, *[getattr(facts, k) for k in cached[3]])
        try:
            answer = self._walks.get(key)
        except TypeError:                   # a fact that cannot be a key: walk it
            return self._walk(flow, candidates, has_data, final)
        if answer is None:
            answer = self._walk(flow, candidates, has_data, final)
            if len(self._walks) >= WALK_CACHE:
                self._walks.clear()
            self._walks[key] = answer
        return answer

    def _walk(self, flow, candidates: list[CompiledRule], has_data: bool, final: bool
              ) -> tuple[bool, CompiledRule | None]:
        for rule in candidates:
            if not rule.enabled:
                continue
            if not has_data and not final and rule.needs_data(flow.proto):
                return False, None
            hit = rule.match.matches(flow, flow.facts, True)      # candidates: header ok
            if hit is None:
                if not final:
                    return False, None
                hit = False
            if hit and self.chosen(flow, rule):
                return True, rule
        return True, None

    def fragment_passes(self, pkt, tap: bool) -> bool:
        """Whether a later IP fragment (no ports) is forwarded: only rules on addresses and
        protocol can judge it; the first of them that holds decides."""
        view = _HeaderView(pkt)
        for rule in self.rules:
            m = rule.match
            if not rule.enabled or m.needs or m.ports is not None or m.sad:
                continue
            if m.header_ok(view):
                return tap or rule.kind in PASSING_ACTIONS
        return True

    def chosen(self, flow, rule: CompiledRule) -> bool:
        if rule.probability is None:
            return True
        if flow.choices is None:
            flow.choices = {}
        draw = flow.choices.get(rule.id)
        if draw is None:
            rng = self._rngs.get(rule.id)
            if rng is None:
                rng = self._rngs[rule.id] = random.Random(f"{self.seed}:{rule.id}")
            draw = flow.choices[rule.id] = rng.random() < rule.probability
        return draw

    def hit(self, rule: CompiledRule) -> None:
        self.hits[rule.id] = self.hits.get(rule.id, 0) + 1

    def describe(self) -> list[dict]:
        return [{"id": r.id, "enabled": r.enabled, "hits": self.hits.get(r.id, 0),
                 "action": r.action, "match": r.rule["match"]} for r in self.rules]

    def rule_meters_wanted(self) -> dict[tuple, int]:
        """(rule id, rate) of every enabled `per: rule` throttle -> its rate in bit/s."""
        return {(r.id, r.action["rate_bps"]): r.action["rate_bps"] for r in self.rules
                if r.enabled and r.kind == "throttle" and r.per == "rule"}
