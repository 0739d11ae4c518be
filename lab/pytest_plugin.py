"""blocklab's pytest plugin: real censored networks as test fixtures (entry point `blocklab`).

Installed with blocklab (pytest11 entry point), so a detector project's tests can say:

    def test_finds_forged_dns(blocklab_lab):
        lab = blocklab_lab("basics/dns-forge")          # up now, down after the test
        assert lab.run("alice", "dig +short blocked.example.com").stdout.strip() == "198.19.0.11"
        m = lab.probe("https://blocked.example.com/")   # OONI measurement, scored
        assert m["test_keys"]["blocking"] == "dns"
        assert m["x_blocklab"]["outcome"] == "TP"
        score = lab.detect("mytool --json {url}")         # an external detector, scored
        assert score.recall == 1.0

Fixtures: `blocklab` (an object: `.up(scenario)` returns a running lab, any number of them;
every lab it started is taken down when the test ends, pass or fail) and `blocklab_lab`
(the same `.up` as a factory function). A lab needs root and Open vSwitch: without them the
test is skipped, or fails with `--blocklab-strict` (what CI should use, so that a machine
that cannot run labs does not pass silently).

This module imports only pytest and the standard library at load time: it is loaded in every
pytest session of an environment where blocklab is installed.
"""
from __future__ import annotations

import logging
import os
import shutil
import subprocess

import pytest

log = logging.getLogger("blocklab.pytest")


def pytest_addoption(parser) -> None:
    group = parser.getgroup("blocklab")
    group.addoption("--blocklab-strict", action="store_true", default=False,
                    help="fail (not skip) tests that need a blocklab lab when this machine "
                         "cannot run one (not root, Open vSwitch not running)")
    group.addoption("--blocklab-timeout", type=float, default=3.0,
                    help="the built-in prober's timeout per step, seconds (default 3)")


def lab_unavailable() -> str | None:
    """Why this machine cannot run a lab (None: it can)."""
    if os.geteuid() != 0:
        return "blocklab labs need root (network namespaces, veth pairs, an OVS bridge)"
    if shutil.which("ovs-vsctl") is None:
        return "Open vSwitch is not installed (`make setup` in blocklab installs it)"
    if subprocess.run(["ovs-vsctl", "--timeout=3", "show"], capture_output=True).returncode:
        return "Open vSwitch is not running (`make setup` in blocklab starts it)"
    return None


class RunningLab:
    """A scenario's lab, up: run commands in its hosts, read its events, probe and score."""

    def __init__(self, lab, timeout: float = 3.0) -> None:
        from lab.probe.runner import Prober
        self.lab = lab
        self.scenario = lab.scenario
        self.timeout = timeout
        self._prober = Prober(lab, timeout=timeout)

    @property
    def clients(self) -> list[str]:
        return [c.name for c in self.scenario.clients]

    def run(self, host: str, cmd, timeout: float | None = 60) -> subprocess.CompletedProcess:
        """Run `cmd` in `host` (a list, or a string for `sh -c`); output captured as text."""
        argv = ["sh", "-c", cmd] if isinstance(cmd, str) else list(cmd)
        return self.lab.run(host, argv, timeout=timeout)

    def events(self) -> list[dict]:
        """The censor's ground truth so far (docs/design.md's event record, one dict each)."""
        return self.lab.events()

    def targets(self, urls=()) -> list:
        from lab.probe.runner import targets
        return targets(self.scenario, list(urls))

    def probe(self, url: str, client: str | None = None) -> dict:
        """Measure `url` from `client` (default: the first) with the built-in prober: the OONI
        measurement, with `x_blocklab` = {client, outcome, reason, verdict, truth}. The truth
        uses the scenario's expect: entry for that client and URL, when there is one."""
        from lab.probe.runner import attach
        target = self._target(url, client)
        result = self._prober.measure(target)
        score = self._prober.score([result])
        attach([result], score)
        return result.record or {"input": url, "x_blocklab": score.rows[0].as_dict()}

    def score(self, urls=(), detector: str | None = None, detector_timeout: float = 60.0):
        """Run the built-in prober (or `detector`) over the scenario's targets (its expect:
        entries, then `urls`) in order: a lab.probe.score.Score (.precision, .recall,
        .confusion, .rows, .gate(...))."""
        from lab.probe.runner import Prober
        prober = Prober(self.lab, timeout=self.timeout, detector=detector,
                        detector_timeout=detector_timeout)
        return prober.score(prober.run(self.targets(urls)))

    def detect(self, detector: str, urls=(), detector_timeout: float = 60.0):
        """`score` for an external detector: CMD with {url}, run in each target's client."""
        return self.score(urls, detector=detector, detector_timeout=detector_timeout)

    def _target(self, url: str, client: str | None):
        from lab.probe.runner import Target
        client = client or self.clients[0]
        for e in self.scenario.expect:
            if e.client == client and e.target == url:
                return Target(client, url, e.blocked, e.technique, e.rule)
        return Target(client, url)


class Blocklab:
    """The `blocklab` fixture: brings labs up for one test and always takes them down."""

    def __init__(self, strict: bool = False, timeout: float = 3.0) -> None:
        self.strict = strict
        self.timeout = timeout
        self._labs: list = []

    def up(self, scenario, pcap=None) -> RunningLab:
        """Bring `scenario` up (a bundled name such as "ru/2025-12", a path, or a loaded
        lab.scenario.Scenario) and return it running. With `pcap` (a folder), tcpdump
        captures every switch port into it (HOST.pcap, censor-client-side.pcap,
        censor-internet-side.pcap: see `blocklab run --pcap`); the files are complete once
        the lab is down, when the test ends."""
        why = lab_unavailable()
        if why:
            (pytest.fail if self.strict else pytest.skip)(why)
        from lab import scenario as scenarios
        from lab.run.lab import Lab
        sc = scenario if hasattr(scenario, "expect") else scenarios.load(str(scenario))
        lab = Lab(sc, pcap=pcap)
        self._labs.append(lab)
        lab.up()
        return RunningLab(lab, self.timeout)

    def close(self) -> None:
        errors = []
        while self._labs:
            lab = self._labs.pop()
            try:
                lab.down()
            except Exception as e:      # keep taking the others down
                errors.append(e)
        for e in errors[1:]:
            log.error("another lab failed to come down too", exc_info=e)
        if errors:
            raise errors[0]


@pytest.fixture
def blocklab(request):
    """`blocklab.up("basics/dns-forge")` -> a running lab, taken down after the test."""
    fixture = Blocklab(strict=request.config.getoption("blocklab_strict"),
                       timeout=request.config.getoption("blocklab_timeout"))
    try:
        yield fixture
    finally:
        fixture.close()


@pytest.fixture
def blocklab_lab(blocklab):
    """A factory: `blocklab_lab("ru/2025-12")` -> a running lab, taken down after the test."""
    return blocklab.up
