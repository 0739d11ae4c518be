"""Starting, talking to, watching and stopping the censor process (controllers.main).

`lab` never imports os-ken: the censor runs as its own process on a free local OpenFlow port,
and `lab` talks to it over its Unix control socket (docs/internals.md §3).

A censor that dies mid-run (a crash, SIGKILL) is started again by its Watchdog on the same
OpenFlow port and control socket, with the same run directory: it takes back the rule set in
force and the penalty boxes (censor-state.json, saved by the censor whenever they change, see
controllers/engine/runstate.py) and appends to the same events.jsonl. Until the switch reconnects it
does what the scenario's `fail_mode` says: `secure` keeps the flow table as it was, so traffic
the censor must see (steered to it) stops while decided flows and unsteered traffic pass;
`standalone` makes OVS fail open after three inactivity-probe intervals (15 s), and then
everything passes. The watchdog gives up after MAX_RESTARTS deaths within RESTART_WINDOW
seconds, and says so (`Watchdog.failure`), which the lab reports at the end of the run.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from controllers.openflow.sockpath import unix_address
from controllers.switch.tables import ct_zone
from lab.run.compiled import censor_command
from lab.run.network import kernel_datapath
from lab.run.rundir import RunDir
from lab.run.wait import Timeout, scaled, wait_until


log = logging.getLogger("blocklab.censor")

MAX_RESTARTS = 3          # deaths within RESTART_WINDOW seconds before the watchdog gives up
RESTART_WINDOW = 60.0
POLL = 0.5                # seconds between looks at the censor (and the services)


OVS_RUNDIR = Path(os.environ.get("OVS_RUNDIR", "/var/run/openvswitch"))


def openflow_sockets(run_id: str) -> list[Path]:
    """A run's censors' OpenFlow sockets (CensorProcess.openflow_path) that exist."""
    return sorted(OVS_RUNDIR.glob(f"blocklab-{run_id}-*.openflow"))


class CensorError(Exception):
    """The censor process failed; the message carries the tail of its log."""


class ControlClient:
    """One JSON command per call over the control socket."""

    def __init__(self, path: Path):
        self.path = path

    def call(self, command: dict, timeout: float = 5.0) -> dict:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(scaled(timeout))

            def connected() -> bool:
                try:
                    with unix_address(self.path) as address:
                        s.connect(address)
                    return True
                except BlockingIOError:     # the censor's accept queue is full: a moment
                    return False

            try:
                wait_until(connected, timeout, "the censor's control socket to accept",
                           interval=0.01)
            except Timeout as e:            # an OSError, as the connect's own errors are
                raise TimeoutError(str(e)) from None
            s.sendall(json.dumps(command).encode() + b"\n")
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        return json.loads(buf)

    def try_call(self, command: dict) -> dict | None:
        try:
            return self.call(command, timeout=1.0)
        except (OSError, ValueError):
            return None


class CensorProcess:
    """The controller for one run: start(), wait_ready(), stop()."""

    def __init__(self, run: RunDir, policy: dict | None, t0: float, name: str | None = None):
        """`name`: one of a routed network's censors, whose files are under censors/NAME/
        (None: the star network's one censor, named `censor`, its files at the top).
        `policy` None: given later (set_policy), once the switch's ports are known."""
        self.run = run
        self.name = name or "censor"
        self.pid_key = "censor" if name is None else f"censor:{name}"
        where = () if name is None else ("censors", name)
        self.policy_path = run.file(*where, "policy.json")
        if policy is not None:
            self.set_policy(policy)
        self.events_path = run.file(*where, "events.jsonl")
        self.events_path.touch()
        self.log_path = run.file(*where, "controller.log")
        self.state_path = run.file(*where, "censor-state.json")
        self.control = ControlClient(run.file(*where, "control.sock"))
        # Where the switch connects. OVS connects to a Unix socket only in its own run
        # directory ("possibility for remote exploit" elsewhere), so it lives there, named
        # after the run; stop() and `blocklab clean` remove it.
        self.openflow_path = OVS_RUNDIR / f"blocklab-{run.state.run_id}-{self.name}.openflow"
        self.t0 = t0
        self.proc: subprocess.Popen | None = None
        self.watchdog: Watchdog | None = None
        self._stopping = False

    def set_policy(self, policy: dict) -> None:
        """The compiled policy the censor starts with (before start())."""
        self.policy_path.write_text(json.dumps(policy, indent=1))

    def start(self) -> None:
        self.launch()
        self.wait_started()

    def launch(self) -> None:
        """Start the process, not waiting for it (wait_started does): several censors
        start side by side."""
        args = ["--policy", str(self.policy_path), "--events", str(self.events_path),
                "--control", str(self.control.path), "--openflow", str(self.openflow_path),
                "--t0", repr(self.t0), "--state", str(self.state_path), "--name", self.name]
        env = dict(os.environ, OSKEN_HUB_TYPE="eventlet", PYTHONUNBUFFERED="1")
        if kernel_datapath():       # netfilter's tracker drops the mark of a one-sided flow
            env.setdefault("BLOCKLAB_CONNTRACK", "0")   # past its window: keep the pairs
        cmd, env = censor_command(args, env)    # the compiled build, when it is current
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=env,
                                         start_new_session=True)
        self.run.add_pid(self.pid_key, self.proc.pid)

    def wait_started(self) -> None:
        """Wait until its control socket answers."""
        self._wait(lambda: self.control.try_call({"cmd": "status"}), 30,
                   "the censor's control socket")

    def wait_ready(self, timeout: float = 30) -> None:
        """Wait until the switch is connected and the base rules are installed."""
        def ready():
            status = self.control.try_call({"cmd": "status"})
            return status and status.get("ready")
        self._wait(ready, timeout, "the switch to connect and the base rules to be installed")

    def restart(self) -> None:
        """Start the censor again (it died): same port, socket, state and event log."""
        if self.proc and self.proc.poll() is None:
            raise CensorError("the censor is still running")
        self.start()
        self.wait_ready()

    def watch(self, notice: Callable[[], list[str]] | None = None) -> "Watchdog":
        """Start the watchdog (once the censor is ready); `notice` names other dead parts."""
        if self.watchdog is None:
            self.watchdog = Watchdog(self, notice).start()
        return self.watchdog

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def failure(self) -> str | None:
        """Why the censor is not running when it should be (None when all is well)."""
        if self.watchdog and self.watchdog.gave_up:
            return self.watchdog.gave_up
        last = self.watchdog.restarts[-1] if self.watchdog and self.watchdog.restarts else None
        if last and last.restarted_at is None and last.error and not self._stopping:
            return f"the censor died (exit code {last.exit_code}) and did not come back: " \
                f"{last.error}"
        if self.proc and self.proc.poll() is not None and not self._stopping:
            return f"the censor exited with code {self.proc.returncode}"
        return None

    def _wait(self, condition, timeout: float, what: str):
        def alive_and(cond=condition):
            if self._stopping:
                raise CensorError(f"the lab is going down: stopped waiting for {what}")
            if self.proc and self.proc.poll() is not None:
                raise CensorError(f"the censor exited with code {self.proc.returncode}\n"
                                  + self.log_tail())
            return cond()
        try:
            return wait_until(alive_and, timeout, what)
        except Timeout as e:
            raise CensorError(f"{e}\n{self.log_tail()}") from None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join("  censor log: " + line for line in text[-lines:])

    def stop(self) -> None:
        self._stopping = True
        if self.watchdog:
            self.watchdog.stop()
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.run.drop_pid(self.pid_key)
        self.openflow_path.unlink(missing_ok=True)
        self.forget_connections()

    def forget_connections(self) -> None:
        """Flush the censor's conntrack zone (its allowed flows: controllers.switch.tables).
        The entries would expire by themselves; nothing else of the lab's stays in OVS."""
        forget_connections(self.control.path)


def forget_connections(control_socket: Path) -> int:
    """Flush the conntrack zone of the censor whose control socket is (or was) at that path;
    the zone, for the caller to say."""
    zone = ct_zone(os.path.abspath(str(control_socket)))
    try:
        subprocess.run(["ovs-appctl", "dpctl/flush-conntrack", f"zone={zone}"],
                       capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        log.warning("could not flush conntrack zone %d: %s", zone, e)
    return zone


@dataclass
class Restart:
    """One death of the censor and what the watchdog did about it (times: lab seconds)."""
    died_at: float
    exit_code: int | None
    restarted_at: float | None = None      # ready again (switch connected, rules installed)
    error: str | None = None               # why the restart failed

    @property
    def down_for(self) -> float | None:
        return None if self.restarted_at is None else self.restarted_at - self.died_at


class Watchdog:
    """Restarts the censor when it dies; notices other parts that died (by name).

    A thread waits on the censor process with a deadline (POLL); on its death the censor is
    started again and waited for (control socket, then switch connected and base rules
    installed, each with a deadline). `pause()` holds restarts back (tests use it to see the
    switch's fail_mode at work); `resume()` lets the next one go."""

    def __init__(self, censor: CensorProcess, notice: Callable[[], list[str]] | None = None,
                 max_restarts: int = MAX_RESTARTS, window: float = RESTART_WINDOW):
        self.censor = censor
        self.notice = notice
        self.max_restarts, self.window = max_restarts, window
        self.restarts: list[Restart] = []
        self.noticed: list[str] = []
        self.gave_up: str | None = None
        self._stop = threading.Event()
        self._go = threading.Event()
        self._go.set()
        self._thread = threading.Thread(target=self._run, name="blocklab-watchdog", daemon=True)

    def start(self) -> "Watchdog":
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._go.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def pause(self) -> None:
        self._go.clear()

    def resume(self) -> None:
        self._go.set()

    def now(self) -> float:
        return time.time() - self.censor.t0

    def _run(self) -> None:
        while not self._stop.is_set():
            proc = self.censor.proc
            try:
                if proc is not None:
                    proc.wait(timeout=POLL)
                else:
                    self._stop.wait(POLL)
                    continue
            except subprocess.TimeoutExpired:
                self._look_around()
                continue
            if self._stop.is_set():
                return
            self._died(proc)

    def _look_around(self) -> None:
        if self.notice is None:
            return
        try:
            dead = self.notice()
        except Exception:
            log.exception("checking the lab's services failed")
            return
        for what in dead:
            if what not in self.noticed:
                self.noticed.append(what)
                log.warning("%s", what)

    def _died(self, proc: subprocess.Popen) -> None:
        record = Restart(round(self.now(), 3), proc.returncode)
        self.restarts.append(record)
        log.warning("the censor died (exit code %s) at %.1fs; restarting it", proc.returncode,
                    record.died_at)
        recent = [r for r in self.restarts if record.died_at - r.died_at <= self.window]
        if len(recent) > self.max_restarts:
            self.gave_up = (f"the censor died {len(recent)} times within {self.window:g}s "
                            f"(last exit code {proc.returncode}); the watchdog gave up\n"
                            + self.censor.log_tail())
            log.error("%s", self.gave_up)
            self._stop.set()
            return
        while not self._go.wait(0.2):            # paused: wait to be let go (or stopped)
            if self._stop.is_set():
                return
        if self._stop.is_set():
            return
        try:
            self.censor.restart()
            record.restarted_at = round(self.now(), 3)
            log.warning("the censor is back after %.1fs", record.down_for)
        except CensorError as e:
            record.error = str(e)
            log.error("restarting the censor failed: %s", e)
