"""The scenario schema's word lists are the censor's vocabulary (controllers.rules.vocabulary).

Every enum of lab/scenario/schema.json is either a vocabulary table's (ENUM_TABLES) or known
not to be (NOT_VOCABULARY), and the object keys that are rule words (KEY_TABLES) too; each is
compared with its table both ways, and a failure says which word is missing where.
"""
from __future__ import annotations

import pytest

from controllers.dpi import fingerprint
from controllers.rules import vocabulary as v
from lab.scenario.rules import compatibility
from lab.scenario.schema_check import schema

# JSON pointer of an enum in the schema -> the vocabulary table it lists.
ENUM_TABLES = {
    "#/$defs/match/properties/proto/anyOf/0": "PROTOS",
    "#/$defs/match/properties/proto/anyOf/1/items": "PROTOS",
    "#/$defs/match/properties/protocol/anyOf/0": "FINGERPRINTS",
    "#/$defs/match/properties/family/anyOf/0": "FAMILIES",
    "#/$defs/match/properties/family/anyOf/1/items": "FAMILIES",
    "#/$defs/match/properties/protocol/anyOf/1/items": "FINGERPRINTS",
    "#/$defs/action/anyOf/0": "BARE_ACTIONS",
    "#/$defs/rule/properties/per": "PER_VALUES",
    "#/$defs/rule/properties/residual_scope": "RESIDUAL_SCOPES",
    "#/$defs/censor/properties/mode": "MODES",
    "#/$defs/censor/properties/dpi/anyOf/0": "DPI_PROFILES",
    "#/$defs/censor/properties/dpi/anyOf/1/properties/profile": "DPI_PROFILES",
    "#/$defs/censor/properties/dpi/anyOf/1/properties/overlap": "OVERLAP_VALUES",
    "#/$defs/censor/properties/dpi/anyOf/1/properties/state": "STATE_VALUES",
    "#/$defs/censor/properties/dpi/anyOf/1/properties/teardown/items": "TEARDOWN_VALUES",
}
NOT_VOCABULARY = {
    "#/$defs/isp/properties/kind",                  # kinds of ISP (lab.scenario.topology)
    "#/$defs/server/properties/serve/items",        # services (lab.services)
    "#/$defs/censor/properties/fail_mode",          # the switch's, not a rule's
}
# JSON pointer of an object in the schema whose keys are a vocabulary table.
KEY_TABLES = {
    "#/$defs/match/properties": "MATCH_KEYS",
    "#/$defs/rule/properties": "RULE_KEYS",
    "#/$defs/action/anyOf/1/properties": "ACTION_PARAMETERS",
    "#/$defs/action/anyOf/1/properties/blockpage/properties": "ACTION_PARAMETERS['blockpage']",
    "#/$defs/censor/properties/dpi/anyOf/1/properties": "DPI_KEYS",
}


def _enums(node, where: str = "#"):
    """(JSON pointer, enum) of every enum under `node`."""
    if isinstance(node, dict):
        if "enum" in node:
            yield where, node["enum"]
        for key, sub in node.items():
            yield from _enums(sub, f"{where}/{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            yield from _enums(sub, f"{where}/{i}")


def _at(pointer: str):
    node = schema()
    for part in pointer.split("/")[1:]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _vocabulary(name: str) -> list[str]:
    table, _, key = name.partition("[")
    value = getattr(v, table)
    return list(value[key.strip("]'")] if key else value)


def differences(in_schema: list[str], where: str, table: str) -> list[str]:
    words = _vocabulary(table)
    return ([f"'{w}' is in schema.json {where} but not in vocabulary.{table}"
             for w in in_schema if w not in words] +
            [f"'{w}' is in vocabulary.{table} but not in schema.json {where}"
             for w in words if w not in in_schema])


def test_every_enum_of_the_schema_is_placed():
    found = {where for where, _ in _enums(schema())}
    assert sorted(found - set(ENUM_TABLES) - NOT_VOCABULARY) == [], \
        "an enum that is neither in ENUM_TABLES (a vocabulary table's) nor NOT_VOCABULARY"
    assert sorted((set(ENUM_TABLES) | NOT_VOCABULARY) - found) == [], "no such enum any more"


@pytest.mark.parametrize("where", sorted(ENUM_TABLES))
def test_schema_enum_is_the_vocabulary(where):
    missing = differences(_at(where)["enum"], where, ENUM_TABLES[where])
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("where", sorted(KEY_TABLES))
def test_schema_keys_are_the_vocabulary(where):
    missing = differences(list(_at(where)), where, KEY_TABLES[where])
    assert not missing, "\n".join(missing)


def test_a_difference_is_named_both_ways():
    assert differences(["tcp", "sctp"], "proto", "PROTOS") == [
        "'sctp' is in schema.json proto but not in vocabulary.PROTOS",
        "'udp' is in vocabulary.PROTOS but not in schema.json proto",
        "'icmp' is in vocabulary.PROTOS but not in schema.json proto"]


def test_action_hints_cover_the_other_form():
    """A word's hints are for the actions that need a value, and the mapping's for those
    that take none: every action has its hint in the form it cannot be written in."""
    word, mapping = _at("#/$defs/action")["anyOf"]
    needs_value = [a for a in v.ACTIONS if a not in v.BARE_ACTIONS]
    takes_none = [a for a in v.ACTIONS if a not in v.ACTION_PARAMETERS]
    assert sorted(word["x-hints"]) == sorted(needs_value)
    assert sorted(mapping["x-hints"]) == sorted(takes_none)


def test_the_tables_agree_with_each_other():
    assert set(v.MATCH_KEYS) == set(v.HEADER_KEYS) | set(v.CONTENT_KEYS) | {"not"}
    assert len(v.MATCH_KEYS) == len(set(v.MATCH_KEYS))
    assert set(v.KEY_PARSERS) == set(v.CONTENT_KEYS)
    assert set(v.NAME_KEYS) <= set(v.CONTENT_KEYS)
    assert set(v.KEY_TRANSPORTS) <= set(v.MATCH_KEYS)
    assert all(set(t) <= set(v.PROTOS) for t in v.KEY_TRANSPORTS.values())
    assert v.TCP_FINGERPRINTS <= set(v.FINGERPRINTS)
    assert set(v.ACTION_PARAMETERS) | set(v.BARE_ACTIONS) == set(v.ACTIONS)
    assert v.DEFAULTED_ACTIONS <= set(v.ACTION_PARAMETERS)
    for group in (v.DNS_ANSWERS, v.SHAPING_ACTIONS, v.PASSING_ACTIONS, v.DATA_ACTIONS,
                  v.TAP_ACTS_AS, v.TAP_ACTS_AS.values()):
        assert set(group) <= set(v.ACTIONS)


def test_fingerprints_are_what_the_classifier_names():
    assert fingerprint.NAMES == frozenset(v.FINGERPRINTS)


@pytest.mark.parametrize("action", sorted(v.TAP_ACTS_AS))
def test_a_tap_refuses_every_inline_only_action(action):
    match = {"dns": ["x.example"]} if action in v.DNS_ANSWERS else {"ip": ["10.0.0.0/8"]}
    if action in v.HANDSHAKE_ACTIONS:
        match["proto"] = ["tcp"]
    assert compatibility(match, action, "inline") is None
    assert "mode: inline" in compatibility(match, action, "tap")
