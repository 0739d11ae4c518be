"""blocklab's prober: OONI Web Connectivity's steps run in lab hosts, scored against the censor.

`blocklab probe` (lab/probe/command.py) and the pytest plugin (lab/pytest_plugin.py) use:

- measure.py   `python -m lab.probe.measure URL...`, run inside a host: the raw observations
               (steps in netsteps.py: DNS, TCP, TLS; web.py: HTTP, throughput; the OONI
               failure strings in failures.py)
- classify.py  two observations (client, control outside the censor) -> OONI test_keys and a
               verdict, as OONI Web Connectivity decides, plus throttle/stall detection
- ooni.py      the OONI measurement envelope
- detector.py  external detectors: the command per target, their output read
- truth.py     the censor's events (and expect:) -> what was really done to a target
- score.py     verdicts vs truth -> TP/FP/TN/FN, precision/recall, the gate; text/Markdown/JSON
- runner.py    the above in a live lab, target after target (docs/detectors.md)
"""
