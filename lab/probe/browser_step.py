"""The prober's browser step (`blocklab probe --browser`): what a person's browser showed, judged.

Each web target is also opened in headless Chromium in its client (lab/clients/browser.py, run
through lab/truth/observe.py's browse()), right after the prober's own steps. `judge(report,
control)` (pure) puts what the tab showed into OONI's words, with lab/probe/failures.py's one
table (`of_browser`: the net error's failure string and failed operation), and gives it a
verdict against the control measurement taken outside the censor (lab/probe/measure.py's, the
one the prober compares with):

- a net error, where the control's request got a page: blocked; the technique is OONI's
  blocking value for the failed operation (resolve: `dns`, connect: `tcp_ip`, anything later
  or not named by the error: `http-failure`);
- a page whose HTTP status or title is not the control's (a block page, a forged address's
  warning page): blocked, `http-diff`;
- the control's page: open;
- a control that failed too, or a browser that did not run: no verdict.

The step's keys (`x_browser` in each measurement's `x_blocklab`) are `error` (Chromium's),
`failure` and `failed_operation` (OONI's), `status`, `title`, `final_url`, `protocol`,
`seconds` (the page's), `screenshot`, `blocking`, and `x_runtime` (the whole step: the
browser's start, the page, its end).
"""
from __future__ import annotations

from lab.probe import failures
from lab.probe.classify import Verdict

BLOCKING_OF_OPERATION = {failures.RESOLVE: "dns", failures.CONNECT: "tcp_ip"}


def _control_page(control: dict | None) -> dict | None:
    """The control's final response ({code, x_title, ...}), None when it got no page."""
    reqs = (control or {}).get("requests") or []
    if not reqs or reqs[0].get("failure") is not None:
        return None
    response = reqs[0].get("response") or {}
    return response if (response.get("code") or 0) > 0 else None


def keys(report: dict) -> dict:
    """The browser client's report in OONI's words (the step's record)."""
    error = report.get("error")
    ran = error is None or str(error).startswith("ERR_")
    failure, operation = failures.of_browser(error) if ran else \
        (f"unknown_failure: {error}", None)
    return {"error": error, "failure": failure, "failed_operation": operation,
            "status": report.get("status"), "title": report.get("title"),
            "final_url": report.get("final_url"), "protocol": report.get("protocol"),
            "seconds": report.get("seconds"), "screenshot": report.get("screenshot"),
            "ran": ran}


def judge(report: dict, control: dict | None) -> tuple[dict, Verdict]:
    """(the step's keys, the browser's verdict) for one target."""
    step = keys(report)
    url = report.get("url", "")
    page = _control_page(control)
    seen = said(step)
    if not step.pop("ran"):
        verdict = Verdict(url, None, None, f"the browser did not run: {step['error']}")
    elif page is None:
        verdict = Verdict(url, None, None, f"browser: {seen}; the control got no page")
    elif step["failure"]:
        technique = BLOCKING_OF_OPERATION.get(step["failed_operation"], "http-failure")
        verdict = Verdict(url, True, technique,
                          f"browser: {seen}; the control got HTTP {page.get('code')}")
    elif (step["status"], (step["title"] or "").strip()) != \
            (page.get("code"), (page.get("x_title") or "").strip()):
        verdict = Verdict(url, True, "http-diff",
                          f"browser: {seen}; the control got HTTP {page.get('code')} "
                          f"'{page.get('x_title') or ''}'")
    else:
        verdict = Verdict(url, False, None, f"browser: {seen}, as the control")
    step["blocking"] = verdict.technique if verdict.blocked else \
        (False if verdict.blocked is False else None)
    return step, verdict


def said(step: dict) -> str:
    """What the browser showed, in a few words: `ERR_CONNECTION_RESET (connection_reset)`,
    or `'Access denied' HTTP 403`."""
    if step.get("error"):
        failure = step.get("failure")
        secs = step.get("seconds")
        return f"{step['error']} ({failure})" + (f" after {secs:.1f}s" if secs else "")
    return f"'{step.get('title') or ''}' HTTP {step.get('status')}" + \
        (f" in {step['seconds']:.1f}s" if step.get("seconds") is not None else "")
