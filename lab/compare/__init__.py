"""Circumvention tools compared through real scenarios: `blocklab compare`.

Each tool (lab.compare.tools, one adapter module each) runs its real programs: its server on
a `vps` host outside the censor (lab.compare.vps adds one when the scenario has none), its
client on a client host. lab.compare.runner fetches the scenario's targets and a bulk download
through it and reads the censor's events for each trial; lab.compare.report turns the trials
into a tool × scenario matrix (JSON, Markdown) and lab.compare.plots into pictures.
See docs/compare.md.
"""
from lab.compare.runner import CompareError, compare

__all__ = ["compare", "CompareError"]
