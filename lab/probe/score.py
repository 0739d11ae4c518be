"""Scoring verdicts against the ground truth: TP/FP/TN/FN, precision, recall, a CI gate. Pure.

A verdict (lab.probe.classify.Verdict) says blocked, open, or nothing (None: the detector
gave no verdict; it counts as "not blocked", and the reason says so). The truth
(lab.truth.events.Truth) says censored or not. Positive = blocked / censored:

    TP  blocked, censored     FP  blocked, not censored
    FN  open, censored        TN  open, not censored

precision = TP / (TP + FP), recall = TP / (TP + FN); None where the denominator is 0
(nothing reported blocked, or nothing censored), which a gate lets pass.

Per technique, recall is counted by the censor's technique (what was done: `dns`, `sni`,
`ip`, `throttle`, ...) and precision by the detector's (what it reported: `dns`, `tcp_ip`,
`http-failure`, `http-diff`, `throttle`, ...): the two vocabularies differ, as a censor's
method and a user's symptom do.

A row may carry a second verdict, the browser's (`probe --browser`, lab/probe/browser_step.py):
it gets its own outcome against the same truth, and the score its own confusion matrix,
precision and recall (`browser`); the gate stays the detector's.

On a routed network each row carries its client's ISP (`home (AS12389)`, or the ISP's name),
and the score is also given per ISP (`by_isp`: the confusion matrix, precision and recall of
that ISP's clients' targets), as OONI's results are read per network.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from lab.probe.classify import Verdict
from lab.truth.events import Truth
from lab.truth.table import text_table

OUTCOMES = ("TP", "FP", "FN", "TN")


@dataclass
class Row:
    client: str
    url: str
    verdict: Verdict
    truth: Truth
    outcome: str = ""
    reason: str = ""
    seconds: float = 0.0
    browser: Verdict | None = None          # the browser step's verdict (probe --browser)
    browser_step: dict | None = None        # its keys: error, failure, title, screenshot, ...
    browser_outcome: str = ""
    browser_reason: str = ""
    isp: str | None = None          # the client's ISP (its label) on a routed network

    def as_dict(self) -> dict:
        out = {"client": self.client, **({"isp": self.isp} if self.isp else {}),
               "url": self.url, "outcome": self.outcome,
               "reason": self.reason, "seconds": round(self.seconds, 3),
               "verdict": self.verdict.as_dict(), "truth": self.truth.as_dict()}
        if self.browser is not None:
            out["browser"] = self._browser_dict()
        return out

    def _browser_dict(self) -> dict:
        return {**(self.browser_step or {}), "outcome": self.browser_outcome,
                "reason": self.browser_reason, "verdict": self.browser.as_dict()}

    def blocklab_keys(self) -> dict:
        """A measurement's `x_blocklab` key: the client (and its ISP), outcome, reason, verdict
        and truth, and with a browser step, `x_browser` (its keys, outcome, reason and
        verdict)."""
        out = {"client": self.client, **({"isp": self.isp} if self.isp else {}),
               "outcome": self.outcome, "reason": self.reason,
               "verdict": self.verdict.as_dict(), "truth": self.truth.as_dict()}
        if self.browser is not None:
            out["x_browser"] = self._browser_dict()
        return out


def outcome(verdict: Verdict, truth: Truth) -> tuple[str, str]:
    """(TP|FP|FN|TN, why) for one target."""
    said = _said(verdict)
    did = truth.describe()
    if verdict.blocked:
        if truth.censored:
            return "TP", f"reported {said}; the censor did {did}"
        return "FP", f"reported {said}, but the censor did {did}"
    if truth.censored:
        return "FN", f"reported {said}, but the censor did {did}"
    return "TN", f"reported {said}; the censor did {did}"


def _said(v: Verdict) -> str:
    if v.blocked is None:
        head = "no verdict"
    elif v.blocked:
        head = f"blocked ({v.technique or 'technique not given'})"
    else:
        head = "not blocked"
    return head + (f": {v.why}" if v.why else "")


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


@dataclass
class Score:
    rows: list[Row]
    confusion: dict = field(default_factory=dict)
    precision: float | None = None
    recall: float | None = None
    by_censor_technique: dict = field(default_factory=dict)
    by_detector_technique: dict = field(default_factory=dict)
    browser: dict | None = None     # {"confusion", "precision", "recall"} of the browser step
    by_isp: dict = field(default_factory=dict)      # ISP label -> confusion, precision, recall

    def gate(self, min_precision: float | None, min_recall: float | None) -> list[str]:
        """The failed gate lines (empty: the gate passes)."""
        out = []
        for name, want, got, bad in (("precision", min_precision, self.precision, "FP"),
                                     ("recall", min_recall, self.recall, "FN")):
            if want is None or got is None or got >= want:
                continue
            wrong = [f"{r.client} {r.url}" for r in self.rows if r.outcome == bad]
            out.append(f"{name} {got:.2f} is below --min-{name} {want:g} "
                       f"({len(wrong)} {bad}: {', '.join(wrong)})")
        return out

    def as_dict(self) -> dict:
        out = {"targets": [r.as_dict() for r in self.rows], "confusion": self.confusion,
               "precision": self.precision, "recall": self.recall,
               "by_technique": {"censor": self.by_censor_technique,
                                "detector": self.by_detector_technique}}
        if self.by_isp:
            out["by_isp"] = self.by_isp
        if self.browser is not None:
            out["browser"] = self.browser
        return out


def _matrix(outcomes: list[str]) -> dict:
    """{"confusion", "precision", "recall"} of a list of outcomes."""
    confusion = {k: outcomes.count(k) for k in OUTCOMES}
    tp, fp, fn = confusion["TP"], confusion["FP"], confusion["FN"]
    return {"confusion": confusion, "precision": _ratio(tp, tp + fp),
            "recall": _ratio(tp, tp + fn)}


def score(rows: list[Row]) -> Score:
    for row in rows:
        row.outcome, row.reason = outcome(row.verdict, row.truth)
        if row.browser is not None:
            row.browser_outcome, row.browser_reason = outcome(row.browser, row.truth)
    mine = _matrix([r.outcome for r in rows])
    browsed = [r.browser_outcome for r in rows if r.browser is not None]
    by_censor: dict[str, dict] = {}
    for r in rows:
        if r.truth.censored:
            tech = r.truth.technique or "unknown"
            d = by_censor.setdefault(tech, {"censored": 0, "found": 0, "missed": 0})
            d["censored"] += 1
            d["found" if r.outcome == "TP" else "missed"] += 1
    for d in by_censor.values():
        d["recall"] = _ratio(d["found"], d["censored"])
    by_detector: dict[str, dict] = {}
    for r in rows:
        if r.verdict.blocked:
            tech = r.verdict.technique or "unspecified"
            d = by_detector.setdefault(tech, {"reported": 0, "right": 0, "wrong": 0})
            d["reported"] += 1
            d["right" if r.outcome == "TP" else "wrong"] += 1
    for d in by_detector.values():
        d["precision"] = _ratio(d["right"], d["reported"])
    return Score(rows, mine["confusion"], mine["precision"], mine["recall"],
                 dict(sorted(by_censor.items())), dict(sorted(by_detector.items())),
                 _matrix(browsed) if browsed else None, _by_isp(rows))


def _by_isp(rows: list[Row]) -> dict:
    """ISP label -> targets, confusion, precision, recall of its clients' rows (in the order
    the ISPs first appear); empty when no row has an ISP (the one-switch lab)."""
    out: dict[str, dict] = {}
    for r in rows:
        if r.isp:
            d = out.setdefault(r.isp, {"targets": 0, **{k: 0 for k in OUTCOMES}})
            d["targets"] += 1
            d[r.outcome] += 1
    for d in out.values():
        d["precision"] = _ratio(d["TP"], d["TP"] + d["FP"])
        d["recall"] = _ratio(d["TP"], d["TP"] + d["FN"])
    return out


# --- rendering -------------------------------------------------------------------------------

def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def render_text(s: Score, title: str = "") -> str:
    out = [title] if title else []
    body = []
    isps = bool(s.by_isp)
    for r in s.rows:
        said = "no verdict" if r.verdict.blocked is None else \
            (f"blocked: {r.verdict.technique or '?'}" if r.verdict.blocked else "open")
        body.append((r.outcome, r.client, *((r.isp or "-",) if isps else ()), r.url, said,
                     _short(r.truth.describe(), 60), *((browser_cell(r),) if s.browser else ())))
    out += text_table(("result", "client", *(("isp",) if isps else ()), "target",
                       "detector said", "censor did",
                       *(("browser saw",) if s.browser else ())), body)
    out.append("")
    out.append("why:")
    for r in s.rows:
        out.append(f"  {r.outcome} {r.client} {r.url}: {r.reason}")
        if r.browser is not None:
            out.append(f"    browser {r.browser_outcome}: {r.browser_reason}")
    c = s.confusion
    out += ["", "confusion matrix      censored   not censored",
            f"  reported blocked    TP {c['TP']:<6}  FP {c['FP']}",
            f"  reported open       FN {c['FN']:<6}  TN {c['TN']}", "",
            f"precision {_fmt(s.precision)} ({c['TP']}/{c['TP'] + c['FP']})   "
            f"recall {_fmt(s.recall)} ({c['TP']}/{c['TP'] + c['FN']})"]
    if s.by_isp:
        out += [""] + text_table(
            ("isp", "targets", "TP", "FP", "FN", "TN", "precision", "recall"),
            [(k, d["targets"], d["TP"], d["FP"], d["FN"], d["TN"], _fmt(d["precision"]),
              _fmt(d["recall"])) for k, d in s.by_isp.items()])
    if s.browser:
        out.append(browser_line(s.browser))
    if s.by_censor_technique:
        out += [""] + text_table(
            ("censor technique", "censored", "found", "missed", "recall"),
            [(k, d["censored"], d["found"], d["missed"], _fmt(d["recall"]))
             for k, d in s.by_censor_technique.items()])
    if s.by_detector_technique:
        out += [""] + text_table(
            ("detector technique", "reported", "right", "wrong", "precision"),
            [(k, d["reported"], d["right"], d["wrong"], _fmt(d["precision"]))
             for k, d in s.by_detector_technique.items()])
    return "\n".join(out)


def browser_cell(r: Row) -> str:
    """The browser step in a table cell: its outcome and its OONI failure, or the page."""
    if r.browser is None:
        return "-"
    step = r.browser_step or {}
    seen = step.get("failure") or f"HTTP {step.get('status')} '{step.get('title') or ''}'"
    return f"{r.browser_outcome} {_short(seen, 40)}"


def browser_line(b: dict) -> str:
    c = b["confusion"]
    return (f"browser: precision {_fmt(b['precision'])} ({c['TP']}/{c['TP'] + c['FP']})   "
            f"recall {_fmt(b['recall'])} ({c['TP']}/{c['TP'] + c['FN']})   "
            f"TP {c['TP']} FP {c['FP']} FN {c['FN']} TN {c['TN']}")


def _md_cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(s: Score, title: str = "") -> str:
    out = [f"### {title}", ""] if title else []
    extra = " browser saw |" if s.browser else ""
    out += ["| result | client | target | detector said | censor did | why |" + extra,
            "|---|---|---|---|---|---|" + ("---|" if s.browser else "")]
    for r in s.rows:
        said = "no verdict" if r.verdict.blocked is None else \
            (f"blocked: `{r.verdict.technique or '?'}`" if r.verdict.blocked else "open")
        out.append("| " + " | ".join(_md_cell(x) for x in (
            f"**{r.outcome}**", r.client, f"`{r.url}`", said, r.truth.describe(),
            r.verdict.why, *((browser_cell(r),) if s.browser else ()))) + " |")
    c = s.confusion
    out += ["", "| | censored | not censored |", "|---|---|---|",
            f"| **reported blocked** | TP {c['TP']} | FP {c['FP']} |",
            f"| **reported open** | FN {c['FN']} | TN {c['TN']} |", "",
            f"**precision** {_fmt(s.precision)} · **recall** {_fmt(s.recall)}", ""]
    if s.by_isp:
        out += ["| ISP | targets | TP | FP | FN | TN | precision | recall |",
                "|---|---|---|---|---|---|---|---|"]
        out += [f"| {_md_cell(k)} | {d['targets']} | {d['TP']} | {d['FP']} | {d['FN']} | "
                f"{d['TN']} | {_fmt(d['precision'])} | {_fmt(d['recall'])} |"
                for k, d in s.by_isp.items()]
        out.append("")
    if s.browser:
        out += [browser_line(s.browser), ""]
    if s.by_censor_technique:
        out += ["| censor technique | censored | found | missed | recall |",
                "|---|---|---|---|---|"]
        out += [f"| `{k}` | {d['censored']} | {d['found']} | {d['missed']} | "
                f"{_fmt(d['recall'])} |" for k, d in s.by_censor_technique.items()]
        out.append("")
    if s.by_detector_technique:
        out += ["| detector technique | reported | right | wrong | precision |",
                "|---|---|---|---|---|"]
        out += [f"| `{k}` | {d['reported']} | {d['right']} | {d['wrong']} | "
                f"{_fmt(d['precision'])} |" for k, d in s.by_detector_technique.items()]
    return "\n".join(out).rstrip() + "\n"


def render_json(s: Score, **extra) -> str:
    return json.dumps({**extra, **s.as_dict()}, indent=1)
