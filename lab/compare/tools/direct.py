"""`direct`: the baseline. curl fetches each target itself, resolving with the scenario's
resolver, exactly as an unprotected user does."""
from lab.compare.base import Tool


class Direct(Tool):
    name = "direct"
    summary = "no circumvention: curl straight to the target (the baseline)"
    pins_family = True


TOOL = Direct()
