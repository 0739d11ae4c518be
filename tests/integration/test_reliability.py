"""Reliability: the censor cannot be knocked over, and what breaks is said by name.

- a flood of malformed and random traffic from a client (UDP on DNS/QUIC/STUN/random ports,
  real TCP connections sending garbage, raw frames with broken IPv4 headers) leaves the censor
  up, allowed traffic flowing during and after, and classification working afterwards;
- a SIGKILLed censor: meanwhile the switch does what `fail_mode` says, then the watchdog
  brings the censor back with the live rule set and the penalty boxes, and the event log
  keeps everything written before the crash; a censor that keeps dying is given up on, and
  reported;
- a service that dies is named when the run ends;
- the control socket is root-only (0600) and answers garbage with errors, never a crash;
- without root the CLI says what it needs (list and validate work).

Measurements (flood rate, time to fail open, time to come back) are printed as
`reliability: {...}` lines (pytest -s, or -rA) and attached as user properties.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab import scenario as scenarios
from lab.run.lab import Lab, LabError
from lab.run.wait import wait_until
from tests.integration.helpers import REPO

PY = sys.executable
FLOOD = REPO / "tests" / "fuzz" / "flood.py"
FLOOD_SECONDS = float(os.environ.get("BLOCKLAB_FLOOD_SECONDS", "10"))
FLOOD_RATE = float(os.environ.get("BLOCKLAB_FLOOD_RATE", "100"))   # per sender, packets/s
RECOVERY = 60.0       # seconds for allowed traffic to flow again once a flood stops

SCENARIO = """\
name: reliability-{fail_mode}
title: "reliability: {fail_mode}"
clients: [alice]
resolver: isp
servers:
  - {{name: web, domains: [open.example.org, later.example.org], serve: [https, http]}}
  - {{name: shared, domains: [blocked.example.com, fine.example.com], serve: [https]}}
censor:
  mode: inline
  fail_mode: {fail_mode}
  rules:
    - id: sni-reset
      match: {{sni: [blocked.example.com]}}
      action: reset
      residual: 300s
    - id: dns-nx
      match: {{dns: [nx.example.com]}}
      action: nxdomain
    - id: quic-drop
      match: {{quic_sni: [blocked.example.com]}}
      action: drop
    - id: vpn
      match: {{protocol: [wireguard, openvpn]}}
      action: drop
"""


def _scenario(tmp_path: Path, fail_mode: str = "secure"):
    path = tmp_path / f"reliability-{fail_mode}.yaml"
    path.write_text(SCENARIO.format(fail_mode=fail_mode))
    return scenarios.load(path)


def _report(record_property, name: str, value) -> None:
    record_property(name, value)
    print(f"reliability: {json.dumps({name: value})}", flush=True)


def _https(lab, name: str, max_time: float = 3) -> subprocess.CompletedProcess:
    ip = lab.scenario.server_for(name).ip
    return lab.run("alice", ["curl", "-sS", "-o", "/dev/null", "--max-time", str(max_time),
                             "--resolve", f"{name}:443:{ip}", f"https://{name}/"],
                   timeout=max_time + 10)


def _ok(lab, name: str, max_time: float = 3) -> bool:
    return _https(lab, name, max_time).returncode == 0


def _status(lab) -> dict:
    return lab.control({"cmd": "status"})


# --- flood --------------------------------------------------------------------------------

def _flood(lab, rate: float, seconds: float = FLOOD_SECONDS) -> tuple[dict, list, dict]:
    """Flood from alice for `seconds` (`rate` packets/s per sender, 0: flat out) while curl
    fetches an allowed site again and again: (what was sent, curl outcomes, censor stats)."""
    sc = lab.scenario
    web = sc.server_for("open.example.org")
    alice = next(h for h in sc.hosts() if h.name == "alice")
    before = _status(lab)["stats"]
    flood = lab.popen("alice", [PY, str(FLOOD), "--seconds", str(seconds), "--rate", str(rate),
                                "--web", web.ip, "--dns", sc.resolver_ip(), "--src", alice.ip,
                                "--iface", "alice-eth0", "--server-mac", web.mac],
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    during = []                                  # (seconds into the flood, ok, seconds taken)
    start = time.monotonic()
    while flood.poll() is None and time.monotonic() - start < seconds - 1:
        t = time.monotonic()
        during.append((round(t - start, 1), _ok(lab, "open.example.org", 5),
                       round(time.monotonic() - t, 2)))
    out, err = flood.communicate(timeout=seconds + 60)
    assert flood.returncode == 0, err
    sent = json.loads(out.splitlines()[-1])
    after = _status(lab)["stats"]
    stats = {k: after[k] - before[k] for k in ("packets_in", "flows_created", "malformed",
                                               "flows_evicted")}
    stats["packet_ins_per_s"] = round(stats["packets_in"] / sent["seconds"])
    stats.update(internal_errors=after["internal_errors"], parser_errors=after["parser_errors"])
    return sent, during, stats


def _summary(sent, during, stats) -> dict:
    return {"offered_packets_per_s": sent["packets_per_s"], "sent": sent, "censor": stats,
            "curl_during": {"tries": len(during), "ok": sum(ok for _, ok, _ in during),
                            "slowest_s": max((took for _, _, took in during), default=None)}}


def test_flood_of_garbage_leaves_the_censor_up_and_censoring(tmp_path, record_property):
    sc = _scenario(tmp_path)
    with Lab(sc) as lab:
        assert _ok(lab, "open.example.org")
        pid = lab.censor.proc.pid

        # a flood the censor keeps up with: allowed traffic flows all along
        sent, during, stats = _flood(lab, FLOOD_RATE)
        paced = _summary(sent, during, stats)
        assert during and sum(ok for _, ok, _ in during) >= 0.9 * len(during), during
        assert stats["internal_errors"] == 0 and stats["parser_errors"] == 0, stats

        # flat out: more than the censor can read; it stays up, and once the switch's queue
        # to it has drained, allowed traffic flows again and the rules still hold
        sent, during, stats = _flood(lab, 0)
        flat_out = _summary(sent, during, stats)
        ended = time.monotonic()
        wait_until(lambda: _ok(lab, "open.example.org", 2), RECOVERY,
                   "allowed traffic to flow again after the flood")
        flat_out["allowed_again_after_s"] = round(time.monotonic() - ended, 1)
        assert stats["internal_errors"] == 0 and stats["parser_errors"] == 0, stats
        assert lab.censor.proc.pid == pid and lab.censor.alive()
        assert lab.censor.watchdog.restarts == [], "the censor never died"
        blocked = _https(lab, "blocked.example.com")
        assert blocked.returncode in (35, 56), blocked.stderr
        nx = lab.run("alice", ["dig", "+time=2", "+tries=2", "nx.example.com"])
        assert "status: NXDOMAIN" in nx.stdout, nx.stdout
    _report(record_property, "flood_paced", paced)
    _report(record_property, "flood_flat_out", flat_out)


# --- faults: SIGKILL the censor -----------------------------------------------------------

def _kill_censor(lab) -> int:
    lab.censor.watchdog.pause()
    pid = lab.censor.proc.pid
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: lab.censor.watchdog.restarts, 10, "the watchdog to see the death")
    return pid


def _back(lab, timeout: float = 40) -> float:
    """Let the watchdog go; seconds until the censor is back (switch connected, rules in)."""
    start = time.monotonic()
    lab.censor.watchdog.resume()
    wait_until(lambda: lab.censor.watchdog.restarts[-1].restarted_at, timeout,
               "the watchdog to restart the censor")
    return round(time.monotonic() - start, 2)


def test_sigkilled_censor_secure_fails_closed_and_comes_back_with_rules_and_boxes(
        tmp_path, record_property):
    sc = _scenario(tmp_path, "secure")
    with Lab(sc) as lab:
        assert _ok(lab, "open.example.org") and _ok(lab, "later.example.org")
        # a live change (as the timeline makes) and a penalty box, before the crash
        reply = lab.control({"cmd": "add", "index": 0, "rule": {
            "id": "late", "match": {"sni": ["later.example.org"]}, "action": {"type": "drop"}}})
        assert reply["ok"], reply
        assert _https(lab, "later.example.org").returncode == 28
        assert _https(lab, "blocked.example.com").returncode in (35, 56)
        assert _https(lab, "fine.example.com").returncode == 28, "the box holds"
        assert lab.control({"cmd": "status"})["boxes"] == 1
        events_before = lab.events()

        old = _kill_censor(lab)
        # secure: the table stays as it was, nobody answers packet-ins: a new connection
        # that the censor must inspect goes nowhere; unsteered traffic (ICMP) still passes
        down_tls = _https(lab, "open.example.org", 3)
        down_ping = lab.run("alice", ["ping", "-c", "1", "-W", "2",
                                      sc.server_for("open.example.org").ip])
        assert down_tls.returncode == 28, down_tls.stderr
        assert down_ping.returncode == 0, down_ping.stdout

        took = _back(lab)
        assert lab.censor.proc.pid != old
        assert _ok(lab, "open.example.org"), "allowed traffic passes again"
        assert _https(lab, "later.example.org").returncode == 28, "the live rule survived"
        assert _https(lab, "fine.example.com").returncode == 28, "the penalty box survived"
        rules = [r["id"] for r in lab.control({"cmd": "rules"})["rules"]]
        assert rules == ["late", "sni-reset", "dns-nx", "quic-drop", "vpn"]
        events_after = lab.events()
    assert events_after[:len(events_before)] == events_before, "events before the crash kept"
    restart = [e for e in events_after if e["technique"] == "censor"]
    assert [e["action"] for e in restart] == ["restart"] and restart[0]["detail"]["boxes"] == 1
    _report(record_property, "sigkill_secure", {
        "new_tls_while_down": f"curl exit {down_tls.returncode} (timed out)",
        "ping_while_down": "passes", "back_after_s": took,
        "after": "open.example.org 200; later.example.org (live rule) dropped; "
                 "fine.example.com (penalty box) dropped"})


def test_sigkilled_censor_standalone_fails_open_then_censors_again(tmp_path, record_property):
    sc = _scenario(tmp_path, "standalone")
    with Lab(sc) as lab:
        assert _ok(lab, "open.example.org")
        _kill_censor(lab)
        killed = time.monotonic()
        # standalone: OVS fails open after three inactivity-probe intervals (3 x 5 s)
        wait_until(lambda: _ok(lab, "blocked.example.com", 2), 45,
                   "the switch to fail open (standalone)")
        open_after = round(time.monotonic() - killed, 1)
        assert _ok(lab, "open.example.org")
        took = _back(lab)
        how = wait_until(lambda: _blocked_again(lab), 20, "the censor to block again")
        assert _ok(lab, "open.example.org")
    _report(record_property, "sigkill_standalone", {
        "blocked_name_passes_after_s": open_after, "back_after_s": took,
        "after": f"blocked.example.com {how} again; open.example.org 200"})


def _blocked_again(lab) -> str | None:
    """How blocked.example.com is blocked by the censor that came back, if it is: "reset",
    or "dropped by the penalty box". The handshake passes in the switch, so connections the
    failed-open curls left behind (their ClientHello unanswered, retransmitted by the kernel
    after curl gave up) may meet the new censor first: their reset opens the rule's 300 s
    box, and a new connection is then dropped rather than reset."""
    code = _https(lab, "blocked.example.com", 2).returncode
    if code in (35, 56):
        return "reset"
    if code != 28:
        return None
    events = lab.events()
    restarts = [i for i, e in enumerate(events) if e.get("action") == "restart"]
    after = events[restarts[-1] + 1:] if restarts else []
    boxed = any(e.get("rule") == "sni-reset" and e.get("technique") == "residual" for e in after)
    return "dropped by the penalty box" if boxed else None


def test_a_censor_that_keeps_dying_is_given_up_and_reported(tmp_path):
    sc = _scenario(tmp_path)
    with pytest.raises(LabError, match=r"the censor died \d+ times") as info:
        with Lab(sc) as lab:
            watchdog = lab.censor.watchdog
            for _ in range(watchdog.max_restarts + 1):
                n = len(watchdog.restarts)
                os.kill(lab.censor.proc.pid, signal.SIGKILL)
                wait_until(lambda: watchdog.gave_up or (
                    len(watchdog.restarts) > n and watchdog.restarts[-1].restarted_at), 40,
                    "a restart")
            assert watchdog.gave_up
            assert not lab.censor.alive()
    assert "gave up" in str(info.value)


def test_a_dead_service_is_named_at_the_end_of_the_run():
    sc = scenarios.load("basics/open")
    with pytest.raises(LabError, match=r"service web@example died \(exit code -9\)"):
        with Lab(sc) as lab:
            service = next(s for s in lab.services if s.name == "web@example")
            os.kill(service.proc.pid, signal.SIGKILL)
            wait_until(lab.dead_services, 10, "the lab to see the service gone")
            assert lab.check_services() == ["service web@example died (exit code -9)"]


# --- the control socket -------------------------------------------------------------------

GARBAGE = [b"garbage\n", b"\xff\xfe\x80 not utf-8\n", b"[1, 2, 3]\n", b'"a string"\n',
           b"null\n", b"{}\n", b'{"cmd": "nope"}\n', b'{"cmd": "enable"}\n',
           b'{"cmd": "enable", "rule": {"x": 1}}\n', b'{"cmd": "replace", "rule": []}\n',
           b'{"cmd": "policy", "rules": [{"id": "x"}]}\n', b"[" * 200_000 + b"\n",
           b"\x00" * 1000 + b"\n"]


def _raw(path: Path, payload: bytes, timeout: float = 10) -> list[dict]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(path))
        try:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass                         # the censor hung up (a line too long): read its reply
        data = b""
        try:
            while chunk := s.recv(1 << 16):
                data += chunk
        except ConnectionResetError:
            pass
    return [json.loads(line) for line in data.splitlines()]


def test_control_socket_is_root_only_and_answers_garbage_with_errors(tmp_path):
    sc = _scenario(tmp_path)
    with Lab(sc) as lab:
        path = lab.censor.control.path
        st = path.stat()
        assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0
        probe = ("import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])")
        as_nobody = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup",
                                    "--clear-groups", PY, "-c", probe, str(path)],
                                   capture_output=True, text=True, timeout=30)
        assert as_nobody.returncode != 0 and "PermissionError" in as_nobody.stderr
        pid = lab.censor.proc.pid

        replies = _raw(path, b"".join(GARBAGE))
        assert len(replies) == len(GARBAGE)
        assert all(r["ok"] is False and r["error"] for r in replies), replies
        huge = _raw(path, b'{"cmd": "status", "pad": "' + b"x" * (5 << 20) + b'"}\n'
                    + b'{"cmd": "status"}\n', timeout=30)
        assert huge == [{"ok": False, "error": "command longer than 4194304 bytes"}]
        silent = [socket.socket(socket.AF_UNIX) for _ in range(50)]   # connect, say nothing
        for s in silent:
            s.connect(str(path))
        cut = socket.socket(socket.AF_UNIX)                           # half a line, then gone
        cut.connect(str(path))
        cut.sendall(b'{"cmd": "sta')
        cut.close()

        status = lab.control({"cmd": "status"})
        assert status["ok"] and status["pid"] == pid and lab.censor.alive()
        assert _https(lab, "blocked.example.com").returncode in (35, 56), "still censoring"
        for s in silent:
            s.close()
        assert lab.censor.watchdog.restarts == []


# --- privileges ---------------------------------------------------------------------------

def _as_nobody(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                           PY, "-m", "lab.cli", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=60, env=dict(os.environ, HOME="/tmp"))


def test_without_root_the_cli_says_what_it_needs():
    listed = _as_nobody("list")
    assert listed.returncode == 0 and "basics/open" in listed.stdout, listed.stderr
    valid = _as_nobody("validate", "scenarios/basics/open.yaml")
    assert valid.returncode == 0, valid.stdout + valid.stderr
    for args in (["run", "basics/open"], ["exec", "basics/open", "alice", "--", "true"],
                 ["clean"], ["setup"]):
        r = _as_nobody(*args)
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        line = r.stderr.strip().splitlines()[-1]
        assert line.startswith(f"blocklab: `blocklab {args[0]}` needs root"), r.stderr
        assert "Traceback" not in r.stderr
