"""schema.json is a valid draft 2020-12 schema that describes every field for editors."""
from __future__ import annotations

import json

from jsonschema import Draft202012Validator

from lab.scenario import SCHEMA_PATH
from lab.scenario.schema_check import schema


def test_schema_is_valid_2020_12():
    doc = json.loads(SCHEMA_PATH.read_text())
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(doc)


def _described(node: dict, defs: dict) -> bool:
    if "description" in node:
        return True
    ref = node.get("$ref", "")
    return ref.startswith("#/$defs/") and "description" in defs[ref.split("/")[-1]]


def test_every_property_has_a_description():
    doc = schema()
    missing = []

    def walk(node, where):
        if isinstance(node, dict):
            for key, sub in node.get("properties", {}).items():
                if not _described(sub, doc["$defs"]):
                    missing.append(f"{where}.{key}")
            for key, sub in node.items():
                walk(sub, f"{where}.{key}")
        elif isinstance(node, list):
            for i, sub in enumerate(node):
                walk(sub, f"{where}[{i}]")
    walk(doc, "#")
    assert missing == []


def test_schema_ships_with_the_package():
    assert SCHEMA_PATH.name == "schema.json" and SCHEMA_PATH.parent.name == "scenario"
