"""Scenario files: load, validate and model a censored network described in YAML.

The public API (the scenario format, docs/scenarios.md):
`load(ref) -> Scenario`, `resolve(ref) -> Path`, `bundled() -> [(name, title)]`,
`validate(paths, strict=False) -> [Diagnostic]`, `ScenarioError`, `Diagnostic`,
`kernel_has_netem()`, and the model's dataclasses.
"""
from lab.scenario.errors import Diagnostic, ScenarioError
from lab.scenario.kernel import kernel_has_netem, netem_support
from lab.scenario.loader import available, bundled, load, resolve, validate
from lab.scenario.model import (Censor, Expectation, Host, Link, Links, Rule, Scenario, Server,
                                TimelineEntry)
from lab.scenario.schema_check import SCHEMA_PATH

__all__ = ["load", "resolve", "bundled", "available", "validate", "Diagnostic", "ScenarioError",
           "kernel_has_netem", "netem_support", "Host", "Server", "Rule", "Censor",
           "TimelineEntry", "Expectation", "Link", "Links", "Scenario", "SCHEMA_PATH"]
