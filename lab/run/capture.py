"""Packet captures of one run (`--pcap DIR`): Debian's tcpdump on the network's ports.

The network says where to capture (`capture_plan()` of lab/run/network.py and
lab/run/routed.py): capture points, each an interface (in the root namespace, or in a lab
node's namespace) and the file its tcpdump writes in DIR, and merges, each a file made from
some of those files when the run ends (Wireshark's mergecap, from tshark's packages).

- Each host's port: `HOST.pcap` is exactly what that host sent and received, with the TTL it
  saw, the censor's injected RSTs, forged DNS answers and block pages included.
- The sides of a censor: on the one-switch network `censor-client-side.pcap` (every port toward
  the censored hosts, merged) and `censor-internet-side.pcap`; on a routed network, per censor,
  `censor-NAME-client-side.pcap` and `censor-NAME-internet-side.pcap` (its switch's ports
  toward the clients / toward the servers: a router's port is captured straight into the side
  file, host ports are merged). A routed link with no censor on it: `link-ISP-uplink.pcap`.

Bounded size: snap length `-s 2048` bytes per packet (headers and a block page's HTML; long
TCP segments are cut), and a ring of `-C 10 -W 3` (three files of 10 MB per port, the oldest
overwritten). A port whose capture stayed in one file gets the plain name `HOST.pcap`; one
that wrapped keeps tcpdump's numbered files `HOST.pcap0..2`.

Each tcpdump is started before the lab's first packet and waited for until it says it is
listening; at teardown it gets SIGINT and is waited for, so its buffers are on disk. Each pid
is in the run's state.json (`capture:HOST`), so `blocklab clean` ends them after a SIGKILL.
"""
from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from lab.run.procs import terminate
from lab.run.rundir import RunDir
from lab.run.wait import Timeout, scaled, wait_until

SNAPLEN = 2048
RING_MB = 10
RING_FILES = 3
PCAP_HELP = ("capture packets with tcpdump into DIR: HOST.pcap per host, "
             "censor-client-side.pcap and censor-internet-side.pcap (per censor on a routed "
             "network: censor-NAME-client-side.pcap, ...) (snap length 2048 B, a ring of "
             "3 x 10 MB per port)")


class CaptureError(Exception):
    """tcpdump could not start on a port; the message says which and why."""


@dataclass(frozen=True)
class CapturePoint:
    file: str                      # what its tcpdump writes in the folder: "alice.pcap"
    what: str                      # what that file holds, for people
    interface: str                 # where tcpdump listens
    netns_pid: int | None = None   # None: the root namespace; else this process's namespace

    @property
    def name(self) -> str:
        return self.file.removesuffix(".pcap")


@dataclass(frozen=True)
class Merge:
    file: str                      # the merged file: "censor-client-side.pcap"
    what: str
    parts: tuple[str, ...]         # the capture points' files it merges


@dataclass
class _Dump:
    point: CapturePoint
    path: Path
    proc: subprocess.Popen
    lines: list[str] = field(default_factory=list)

    def listening(self) -> bool:
        if any("listening on" in line for line in self.lines):
            return True
        if self.proc.poll() is not None:
            why = " ".join(line.strip() for line in self.lines if line.strip())
            raise CaptureError(f"tcpdump on {self.point.interface} ({self.point.name}) "
                               f"exited: {why or f'exit code {self.proc.returncode}'}")
        return False


def _read(dump: _Dump) -> None:
    for line in dump.proc.stderr:
        dump.lines.append(line)


def _ordered(files: list[tuple[Path, str]]) -> list[tuple[Path, str]]:
    """The censors' sides first, then the ports and links by name."""
    return sorted(files, key=lambda fw: (not fw[0].name.startswith("censor-"), fw[0].name))


class Capture:
    """tcpdump on every capture point; `files()` says what was written, once stopped."""

    def __init__(self, run: RunDir, points: list[CapturePoint], folder: Path,
                 merges: list[Merge] = ()):
        self.run = run
        self.points = points
        self.merges = list(merges)
        self.folder = Path(folder)
        self.dumps: list[_Dump] = []
        self.written: list[tuple[Path, str]] = []

    def start(self, timeout: float = 20) -> None:
        tcpdump = shutil.which("tcpdump")
        if not tcpdump:
            raise CaptureError("--pcap needs tcpdump (Debian package tcpdump; `make setup` "
                               "installs it)")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise CaptureError(f"cannot create {self.folder}: {e.strerror or e}") from None
        for point in self.points:
            path = self.folder / point.file
            for old in [path, *self.ring_files(path)]:
                old.unlink(missing_ok=True)
            enter = [] if point.netns_pid is None else \
                ["nsenter", "-t", str(point.netns_pid), "-n", "--"]
            proc = subprocess.Popen(
                [*enter, tcpdump, "-i", point.interface, "-n", "-U", "--immediate-mode",
                 "-Z", "root", "-s", str(SNAPLEN), "-C", str(RING_MB), "-W", str(RING_FILES),
                 "-w", str(path)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                text=True, start_new_session=True)
            dump = _Dump(point, path, proc)
            self.dumps.append(dump)
            self.run.add_pid(f"capture:{point.name}", proc.pid)
            threading.Thread(target=_read, args=(dump,), daemon=True,
                             name=f"tcpdump-{point.name}").start()
        try:
            wait_until(lambda: all(d.listening() for d in self.dumps), timeout,
                       "tcpdump to listen on every capture point")
        except Timeout as e:
            raise CaptureError(str(e)) from None

    def stop(self, timeout: float = 10) -> None:
        """SIGINT each tcpdump and wait for it (its packets flushed); then name and merge."""
        for d in self.dumps:
            if d.proc.poll() is None:
                d.proc.send_signal(signal.SIGINT)
        for d in self.dumps:
            try:
                d.proc.wait(timeout=scaled(timeout))
            except subprocess.TimeoutExpired:
                terminate([d.proc.pid])
                d.proc.wait()
            self.run.drop_pid(f"capture:{d.point.name}")
        self.written = []
        rings: dict[str, list[Path]] = {}
        for d in self.dumps:
            rings[d.point.file] = ring = settle_ring(d.path)
            self.written += [(p, d.point.what) for p in ring]
        mergecap = shutil.which("mergecap")
        for merge in self.merges:
            files = [p for part in merge.parts for p in rings.get(part, [])]
            if not mergecap or not files:
                continue
            out = self.folder / merge.file
            r = subprocess.run([mergecap, "-w", str(out), *map(str, files)],
                               capture_output=True, text=True, timeout=scaled(120))
            if r.returncode == 0:
                self.written.append((out, merge.what))
        self.dumps = []

    def planned(self) -> list[tuple[Path, str]]:
        """(file, what it will hold) while the captures run: the report links these."""
        out = [(self.folder / p.file, p.what) for p in self.points]
        if shutil.which("mergecap"):
            out += [(self.folder / m.file, m.what) for m in self.merges]
        return _ordered(out)

    def files(self) -> list[tuple[Path, str]]:
        """(file, what it holds), the censors' sides first; empty until stopped."""
        return _ordered(self.written)

    @staticmethod
    def ring_files(path: Path) -> list[Path]:
        return ring_files(path)


def ring_files(path: Path) -> list[Path]:
    """tcpdump's ring files for `path` (-W: PATH0, PATH1, ...), oldest number first."""
    found = [p for p in path.parent.glob(path.name + "[0-9]*")
             if p.name[len(path.name):].isdigit()]
    return sorted(found, key=lambda p: int(p.name[len(path.name):]))


def settle_ring(path: Path) -> list[Path]:
    """The files a stopped ring left for `path`: a ring that never wrapped (one file) takes
    the plain name; one that wrapped keeps tcpdump's numbered files."""
    ring = ring_files(path)
    if len(ring) == 1:
        ring[0].replace(path)
        return [path]
    return ring


def say_captured(lab) -> None:
    """After teardown: the capture files a run wrote, one line each on stderr."""
    for path, what in lab.capture_files():
        print(f"pcap: {path} ({what})", file=sys.stderr)
