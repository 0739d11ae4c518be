"""The live timeline: a scenario's `timeline:` entries applied to the running censor on time.

`TimelineRunner(lab)` runs in a background thread. For each entry (in the scenario's order:
by `at`, file order for ties) it waits until `lab.t0 + at` (a deadline wait on an Event, so
`stop()` ends it at once), sends the entry's control-socket command (docs/internals.md §3,
`TimelineEntry.to_command()`) and records what it sent, when, and the censor's reply. The
censor itself writes each change to events.jsonl (technique "timeline").

    with Lab(sc) as lab, TimelineRunner(lab) as timeline:
        ...                                   # the lab runs; the timeline changes the censor
        timeline.wait_done(timeout=30)        # True once every entry was applied (or tried)
        timeline.failures                     # entries the censor refused, or could not get

With several censors (a routed network), each entry goes to the censor it names (`censor:`,
default the first), its record says which (`censor`), and its event is the one that censor
wrote (events carry their censor's name). The runner stops by itself when the lab goes down
(its censor is gone): entries not yet due are recorded as skipped. A reply with `ok: false`
is a failure: logged, kept in `failures`, and shown in `render()`.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from lab.truth.table import text_table

log = logging.getLogger("blocklab.timeline")

LAB_CHECK = 1.0          # longest single wait before looking whether the lab is still up
CALL_TIMEOUT = 5.0       # seconds for one control-socket command


@dataclass
class Applied:
    """One timeline entry: what was sent, when, and what the censor said."""
    at: float                        # when it was due, seconds since the lab came up
    change: str                      # human-readable: "disable sni-drop"
    command: dict
    t: float | None = None           # when it was sent (seconds since the lab came up)
    took: float | None = None        # seconds the censor took to reply
    reply: dict | None = None        # the censor's reply, as it came
    error: str | None = None         # why it failed (the censor's error, or no reply)
    status: str = "pending"          # pending | ok | failed | skipped
    event: dict | None = None        # the censor's record of it in events.jsonl, once matched
    censor: str | None = None        # the censor it changes, when the lab has several

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def late(self) -> float | None:
        """Seconds after its time the command was sent."""
        return None if self.t is None else self.t - self.at

    def as_dict(self) -> dict:
        return {"at": self.at, "t": _round(self.t), "late": _round(self.late),
                "took": _round(self.took), "change": self.change, "command": self.command,
                "status": self.status, "ok": self.ok, "reply": self.reply, "error": self.error,
                "event": self.event, "censor": self.censor}


def _rule_of(command: dict):
    """The rule id the censor's event names for a command (None for a whole policy)."""
    rule = command.get("rule")
    return rule.get("id") if isinstance(rule, dict) else rule


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def describe(entry) -> str:
    """One line for a TimelineEntry: `disable sni-drop`, `policy [a, b]`, `replace x: ...`."""
    if entry.op == "policy":
        return "policy [" + ", ".join(r.id for r in entry.rules) + "]"
    if entry.op == "replace":
        rule = entry.rule
        action = rule.action.get("type")
        match = ", ".join(f"{k}: {_short(v)}" for k, v in rule.match.items())
        return f"replace {rule.id} ({match} -> {action})"
    return f"{entry.op} {entry.rule_id}"


def _short(value) -> str:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, list):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    return str(value)


class TimelineRunner:
    """Applies `entries` (default: the lab's scenario's timeline) to the lab's censor on time."""

    def __init__(self, lab, entries=None):
        self.lab = lab
        entries = lab.scenario.timeline if entries is None else entries
        self.entries = sorted(entries, key=lambda e: e.at)      # stable: file order for ties
        censors = [c.name for c in lab.scenario.censors()]
        several = len(censors) > 1
        self.records: list[Applied] = [
            Applied(e.at, describe(e), e.to_command(),
                    censor=(e.censor or censors[0]) if several else None)
            for e in self.entries]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self.stopped_because: str | None = None
        if not self.entries:
            self._done.set()

    # --- life ---------------------------------------------------------------------------

    def start(self) -> "TimelineRunner":
        if self._thread is None and self.entries:
            self._thread = threading.Thread(target=self._run, name="blocklab-timeline",
                                            daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = CALL_TIMEOUT + 1) -> None:
        """Stop applying entries (those not yet sent are skipped) and wait for the thread."""
        self._stop.set()
        if self._thread is None:                  # never started: nothing will be sent
            self.stopped_because = self.stopped_because or "stopped before it started"
            self._skip_from(0)
            self._done.set()
        elif self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def wait_done(self, timeout: float | None = None) -> bool:
        """Wait until every entry was applied, failed or skipped; False if `timeout` passed."""
        return self._done.wait(timeout)

    def __enter__(self) -> "TimelineRunner":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- what happened --------------------------------------------------------------------

    @property
    def last_at(self) -> float:
        """When the last entry is due (seconds since the lab came up); 0 without entries."""
        return max((e.at for e in self.entries), default=0.0)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def applied(self) -> list[Applied]:
        """Copies of the records, in order (pending ones included)."""
        with self._lock:
            return [Applied(**vars(r)) for r in self.records]

    @property
    def failures(self) -> list[Applied]:
        return [r for r in self.applied if r.status == "failed"]

    def attach_events(self, events: list[dict]) -> None:
        """Pair each applied change with the censor's "timeline" event for it, in order."""
        found = [ev for ev in events if ev.get("technique") == "timeline"]
        with self._lock:
            for rec in self.records:
                if rec.status != "ok" or rec.event is not None:
                    continue
                for j, ev in enumerate(found):
                    if ev.get("action") == rec.command.get("cmd") and \
                            ev.get("rule") == _rule_of(rec.command) and \
                            (rec.censor is None or ev.get("censor") == rec.censor):
                        rec.event = found.pop(j)
                        break

    def render(self) -> str:
        return render(self.applied)

    # --- the thread -----------------------------------------------------------------------

    def _now(self) -> float:
        """Seconds since the lab came up, on the clock the censor's event `t` uses."""
        return time.time() - self.lab.t0

    def _lab_up(self) -> bool:
        censor = getattr(self.lab, "censor", None)
        proc = getattr(censor, "proc", None)
        return censor is not None and (proc is None or proc.poll() is None)

    def _run(self) -> None:
        try:
            for i, entry in enumerate(self.entries):
                if not self._wait_until(entry.at):
                    self._skip_from(i)
                    return
                self._apply(i, entry)
        except Exception as exc:              # a bug here must still end the timeline
            log.exception("timeline runner failed")
            self.stopped_because = f"internal error: {exc}"
            self._skip_from(0)
        finally:
            self._done.set()

    def _wait_until(self, at: float) -> bool:
        """Wait until `at`; False if stopped or the lab went down first."""
        while True:
            if self._stop.is_set():
                self.stopped_because = self.stopped_because or "stopped"
                return False
            if not self._lab_up():
                self.stopped_because = "the lab went down"
                return False
            remaining = at - self._now()
            if remaining <= 0:
                return True
            self._stop.wait(min(remaining, LAB_CHECK))

    def _apply(self, i: int, entry) -> None:
        rec = self.records[i]
        t = self._now()
        censor = self.lab.censors.get(rec.censor) if rec.censor else self.lab.censor
        try:
            if censor is None:
                raise ConnectionError("the lab went down before the change was sent")
            reply = censor.control.call(rec.command, timeout=CALL_TIMEOUT)
        except (OSError, ValueError) as exc:
            reply, error = None, f"no reply from the censor: {exc}"
        else:
            error = None
            if not isinstance(reply, dict):
                reply, error = {"raw": reply}, "the censor's reply is not a JSON object"
            elif reply.get("ok") is not True:
                error = str(reply.get("error") or "the censor said ok: false")
        took = self._now() - t
        with self._lock:
            rec.t, rec.took, rec.reply, rec.error = t, took, reply, error
            rec.status = "failed" if error else "ok"
        if error:
            log.error("timeline: %s at %gs failed: %s", rec.change, rec.at, error)
        else:
            log.info("timeline: %s at %gs applied at %.3fs", rec.change, rec.at, t)

    def _skip_from(self, i: int) -> None:
        with self._lock:
            for rec in self.records[i:]:
                if rec.status == "pending":
                    rec.status = "skipped"
                    rec.error = self.stopped_because


def render(records: list[Applied]) -> str:
    """The timeline as a table: when due, when sent, the censor's event, (with several
    censors, which one,) the change, the reply."""
    several = any(r.censor for r in records)
    head = ("at", "sent", "censor event", *(("censor",) if several else ()), "change",
            "censor replied")
    body = []
    for r in records:
        sent = "-" if r.t is None else f"{r.t:.3f}s (+{r.late * 1000:.0f} ms)"
        event = "-" if not r.event else f"t={r.event.get('t')}"
        if r.status == "ok":
            said = "ok"
        elif r.status == "failed":
            said = f"FAILED: {r.error}"
        else:
            said = r.status + (f" ({r.error})" if r.error else "")
        body.append((f"{r.at:g}s", sent, event, *((r.censor or "-",) if several else ()),
                     r.change, said))
    return "\n".join(text_table(head, body))
