"""One lab run: scenario in, network up, censor attached, services ready; then all torn down.

A scenario with `network:` gets the routed network (lab.run.routed) and one censor process per
censor, each on its link; `lab.censor` is the first of them, `lab.censors` all by name.

`with Lab(scenario) as lab:` brings everything up in order and takes it all down again on
success, error, Ctrl-C or SIGTERM (the CLI turns SIGTERM into SystemExit).
"""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import time
from contextlib import contextmanager

from lab.run import hostconfig
from lab.run.censor import CensorProcess
from lab.run.network import Network, needs_netem, switch_ports
from lab.run.pki import LabCA
from lab.run.progress import default as default_progress
from lab.run.rundir import RunDir
from lab.run.wait import Timeout, scaled, wait_until
from lab.scenario.kernel import netem_support
from lab.scenario.model import Host, Link
from lab.services.base import Service

log = logging.getLogger("blocklab.lab")


class LabError(Exception):
    """The lab could not come up; the message says which part and why."""


@contextmanager
def _no_interrupts():
    """Teardown runs to the end: Ctrl-C and SIGTERM wait until it is done."""
    old = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


class Lab:
    def __init__(self, scenario, progress=None, pcap=None):
        self.scenario = scenario
        self.pcap = pcap                  # a folder: tcpdump on every port (lab/run/capture.py)
        self.capture = None
        self._captured = None
        # progress(message), e.g. "starting services 3/7: web@apple"; "" when up (lab/run/progress.py)
        self.progress = progress if progress is not None else default_progress()
        self.run_dir: RunDir | None = None
        self.network: Network | None = None
        self.censor: CensorProcess | None = None
        self.censors: dict[str, CensorProcess] = {}
        self.services: list[Service] = []
        self.national_ca: LabCA | None = None   # made when a rule intercepts TLS
        self.t0 = 0.0
        self.timings: dict[str, float] = {}
        self._keep: str | None = None     # teardown keeps the files named so (keep_events)

    # --- the hosts ---------------------------------------------------------------------

    def host_specs(self) -> list[Host]:
        return list(self.scenario.hosts())

    def infrastructure(self):
        """The lab's own hosts: the ISP resolver inside the censor, the public one outside
        (and, on a routed network, the ISPs' own)."""
        return self.scenario.resolvers()

    # --- up and down -------------------------------------------------------------------

    def __enter__(self) -> "Lab":
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, exc_type, *exc) -> None:
        dead = self.check_services() if exc_type is None else []
        self.down()
        if dead:
            raise LabError("during the run: " + "; ".join(dead))

    def dead_services(self) -> list[str]:
        """Each service that is no longer running, by name, with its exit code."""
        return [f"service {s.name} died (exit code {s.proc.returncode})"
                for s in list(self.services) if s.proc and not s.alive()]

    def check_services(self) -> list[str]:
        """What died during the run: services by name, and the censor when its watchdog
        could not bring it back. Empty when every part is still running."""
        dead = self.dead_services()
        whys = [c.failure() for c in self.censors.values()]
        return dead + [why if len(self.censors) == 1 else f"censor {name}: {why}"
                       for name, why in zip(self.censors, whys) if why]

    def shaping(self) -> dict[str, Link]:
        """The scenario's `links:` per side, refused here when the kernel lacks netem."""
        links = self.scenario.links
        out = {side: link for side, link in (("client", links and links.client),
                                             ("internet", links and links.internet)) if link}
        network = self.scenario.network
        uplinks = [i.shaping for i in network.isps if i.shaping] if network else []
        if any(needs_netem(link) for link in [*out.values(), *uplinks]):
            ok, why = netem_support()
            if not ok:
                raise LabError(f"{self.scenario.name}: links need delay, jitter or loss, which "
                               f"need the kernel's netem qdisc (sch_netem), and this kernel has "
                               f"none ({why}). Bandwidth limits alone work here; the Vagrant VM "
                               "has netem.")
        return out

    def up(self) -> None:
        self.shaping()   # refuse what this kernel cannot do before building anything
        start = time.monotonic()
        self.t0 = time.time()
        self.run_dir = run = RunDir()
        specs = self.host_specs()
        ca = LabCA(run.file("pki", "x").parent, run.state.run_id)
        self.national_ca = LabCA(run.file("pki-national", "x").parent, run.state.run_id,
                                 "blocklab national CA") if self._intercepts() else None
        if self.scenario.network:
            self._routed(run, specs)
        else:
            policy = self.scenario.policy(switch_ports(specs))
            self._say("starting the censor")
            self.censor = CensorProcess(run, policy, self.t0)
            self.censors = {self.censor.name: self.censor}
            self.censor.start()
            self._say(f"building the network: {len(specs)} hosts on one switch")
            self.network = Network(run, specs, self.censor.openflow_path, self.scenario.censor.fail_mode,
                                   shaping=self.shaping())
            self.network.start()
            if self.pcap:
                self._say("starting packet captures (tcpdump)")
                self.start_capture(self.pcap)
            self._say("waiting for the switch to connect to the censor")
            self.censor.wait_ready()
        self._say("configuring hosts (resolver, CA)")
        for spec in specs:
            host = self.scenario.host(spec.name)
            trusts = host.trust_lab_ca
            national = self.national_ca if host.trust_national_ca else None
            store = ca.trust_dir_with(national) if national else ca.trust_dir
            hostconfig.configure(self.host(spec.name), self._host_folder(spec.name),
                                 self.scenario.resolver_ip(spec.name),
                                 store if trusts else None,
                                 ca.nss_db(national) if trusts else None)
        self._start_services(ca)
        for i, censor in enumerate(self.censors.values()):
            # restarts a dead censor; the first one also notices dead services
            censor.watch(self.dead_services if i == 0 else None)
        self.timings["up"] = time.monotonic() - start
        self._say("")

    def _intercepts(self) -> bool:
        """Whether a censor's rule intercepts TLS (then the run makes a national CA)."""
        return any(r.action.get("type") == "intercept"
                   for c in self.scenario.censors() for r in c.rules)

    def _routed(self, run: RunDir, specs: list[Host]) -> None:
        """The routed network and its censors: each censor's process is started first (its
        OpenFlow socket), then the network, then each censor waited for."""
        from lab.run.routed import RoutedNetwork
        sc, topo = self.scenario, self.scenario.network
        sockets = {}
        for censor in topo.censors:
            self._say(f"starting censor {censor.name} ({censor.at})")
            proc = CensorProcess(run, None, self.t0, name=censor.name)
            self.censors[censor.name] = proc
            sockets[censor.at] = proc.openflow_path
        self.censor = next(iter(self.censors.values()), None)
        routers = len(topo.isps) + 1
        self._say(f"building the network: {len(specs)} hosts, {routers} routers, "
                  f"{len(topo.censors)} censor{'s' if len(topo.censors) != 1 else ''}")
        self.network = RoutedNetwork(run, sc, specs, sockets)
        for censor in topo.censors:
            policy = sc.policy(self.network.switch_ports(censor.at), censor,
                               topo.client_side(censor.at, sc.hosts()))
            self.censors[censor.name].set_policy(policy)
            self.censors[censor.name].launch()      # side by side: each takes ~1 s to start
        for proc in self.censors.values():
            proc.wait_started()
        self.network.start()
        if self.pcap:
            self._say("starting packet captures (tcpdump)")
            self.start_capture(self.pcap)
        for name, proc in self.censors.items():
            self._say(f"waiting for censor {name}'s switch to connect")
            proc.wait_ready()

    def _start_services(self, ca: LabCA) -> None:
        """Each server's services (lab/services/registry.py), then the resolvers, which
        forward to the servers' authoritative DNS. A service that fails ends the run."""
        from lab.services import registry
        ctx = registry.Context(self, ca)
        planned = [service for server in self.scenario.servers
                   for service in registry.for_server(ctx, server)]
        planned += registry.resolvers(ctx, self.infrastructure(), self.scenario.servers)
        for i, service in enumerate(planned, 1):
            self._say(f"starting services {i}/{len(planned)}: {service.name}")
            self.services.append(service)
            service.start(self.run_dir)

    def down(self) -> None:
        start = time.monotonic()
        self._say("")
        with _no_interrupts():
            # The watchdogs first: services stopped from here on have not died.
            for censor in self.censors.values():
                if censor.watchdog:
                    _quietly(censor.watchdog.stop)
            for service in reversed(self.services):
                _quietly(service.stop, self.run_dir)
            self.services.clear()
            if self.capture:        # flushed while the ports still exist; capture_files()
                _quietly(self.stop_capture)   # lists them after teardown
            if self.network:
                _quietly(self.network.stop)
                self.network = None
            for censor in self.censors.values():
                _quietly(censor.stop)
            self.censors.clear()
            self.censor = None
            if self.run_dir:
                if self._keep:
                    self.run_dir.keep(self._keep)
                else:
                    self.run_dir.remove()
                self.run_dir = None
        self.timings["down"] = time.monotonic() - start

    def _say(self, message: str) -> None:
        if self.progress:
            self.progress(message)

    # --- using the lab -------------------------------------------------------------------

    def host(self, name: str):
        if not self.network or name not in self.network.ports:
            raise LabError(f"no host named {name!r} in this lab")
        return self.network.host(name)

    def _host_folder(self, name: str):
        return self.run_dir.file("hosts", name, "x").parent

    def home(self, name: str):
        """The host's own home folder (in the run directory): HOME of what runs there."""
        self.host(name)
        return hostconfig.home(self._host_folder(name))

    def popen(self, host: str, cmd: list[str], **kwargs) -> subprocess.Popen:
        kwargs.setdefault("stdin", subprocess.DEVNULL)
        kwargs["env"] = dict(kwargs.get("env") or os.environ, HOME=str(self.home(host)))
        return self.host(host).popen(cmd, **kwargs)

    def run(self, host: str, cmd: list[str], timeout: float | None = 60) -> subprocess.CompletedProcess:
        """Run `cmd` in `host`, capture its output; the exit code is the command's."""
        proc = self.popen(host, cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = proc.communicate(timeout=None if timeout is None else scaled(timeout))
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        return subprocess.CompletedProcess(cmd, proc.returncode, out, err)

    def events(self, censor: str | None = None) -> list[dict]:
        """Every event of the run so far, oldest first (rotated files included): of every
        censor (each record names its `censor`), or of the one named."""
        from controllers.engine.eventlog import rotated
        out = []
        every = list(self.censors.values()) or ([self.censor] if self.censor else [])
        for proc in ([self._censor(censor)] if censor else every):
            for path in rotated(str(proc.events_path)):
                with open(path, encoding="utf-8") as f:
                    out += [json.loads(line) for line in f if line.strip()]
        if len(every) > 1 and not censor:
            out.sort(key=lambda e: e.get("t") or 0.0)       # stable: each log stays in order
        return out

    def keep_events(self):
        """Keep the censor's events file (and its rotations) in the run directory after
        teardown, for a run whose results could not be written; returns its path."""
        if not self.censor:
            raise LabError("the lab is not up")
        self._keep = self.censor.events_path.name
        return self.censor.events_path

    def start_capture(self, folder):
        """tcpdump on every switch port into `folder` (lab/run/capture.py) until
        stop_capture or teardown."""
        from lab.run.capture import Capture
        if not self.network:
            raise LabError("the lab is not up")
        if self.capture:
            raise LabError(f"already capturing into {self.capture.folder}")
        points, merges = self.network.capture_plan()
        self.capture = Capture(self.run_dir, points, folder, merges)
        try:
            self.capture.start()
        except BaseException:
            self.stop_capture()
            raise

    def capture_files(self) -> list:
        """(file, what it holds) of the last capture stopped (stop_capture, or teardown)."""
        return self._captured.files() if self._captured else []

    def stop_capture(self) -> list:
        """Stop the captures (flushed); returns (file, what it holds) for each file."""
        capture, self.capture = self.capture, None
        if not capture:
            return []
        capture.stop()
        self._captured = capture
        return capture.files()

    def settle(self, timeout: float = 1.0) -> bool:
        """Wait until the censor has caught up: its count of packet-ins holds still across
        two status calls 0.1 s apart (the events of what it saw are written by then). False
        when it was still busy at `timeout`."""
        last: list = []

        def still() -> bool:
            seen = [self.control({"cmd": "status"}, name).get("stats", {}).get("packets_in")
                    for name in self.censors]
            held, last[:] = None not in seen and seen == last, seen
            return held
        try:
            return wait_until(still, timeout, "the censor to catch up", interval=0.1)
        except Timeout:
            return False

    def control(self, command: dict, censor: str | None = None) -> dict:
        """One control-socket command to the censor named (default: the first)."""
        return self._censor(censor).control.call(command)

    def _censor(self, name: str | None) -> CensorProcess:
        if not self.censor:
            raise LabError("this lab has no censor" if self.network else "the lab is not up")
        if name is None:
            return self.censor
        if name not in self.censors:
            raise LabError(f"no censor named {name!r} in this lab; censors: "
                           f"{', '.join(self.censors)}")
        return self.censors[name]


def _quietly(fn, *args) -> None:
    try:
        fn(*args)
    except Exception:
        log.exception("teardown step %s failed", getattr(fn, "__qualname__", fn))
