"""`blocklab lesson`: the flagship's lesson holds end to end; a wrong expectation fails the run
with exit 1; a lesson that cannot run is refused before any lab comes up (each problem at its
FILE:LINE:COL); Enter paces it."""
from __future__ import annotations

import re
import struct
import subprocess
import sys
import textwrap

import pytest

from tests.integration.helpers import blocklab

SCENARIO = """\
name: lesson-test
clients: [alice]
servers:
  - {name: blocked, domains: [blocked.example.com], serve: [https]}
censor:
  rules: [{id: sni-drop, match: {sni: blocked.example.com}, action: drop}]
"""


def _write(tmp_path, lesson: str):
    path = tmp_path / "lesson.yaml"
    path.write_text(SCENARIO + textwrap.dedent(lesson))
    return str(path)


def test_ru_2025_12_lesson_holds_step_by_step(tmp_path):
    # the lesson's `plot` step writes its PNG into --out, not the current folder
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "lab.cli", "lesson", "ru/2025-12", "--auto",
                        "--out", str(out)],
                       cwd=tmp_path, capture_output=True, text=True, timeout=400)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    steps = len(re.findall(r"^Step \d+/\d+$", r.stdout, re.MULTILINE))
    assert steps >= 8
    assert r.stdout.count("✓ as expected") == steps, r.stdout
    assert f"{steps} of {steps} expected observations held." in r.stdout
    assert "✗" not in r.stdout and "Traceback" not in r.stderr
    plot = out / "plot-alice-r1---sn-abc.googlevideo.com.png"
    assert plot.read_bytes()[:4] == b"\x89PNG"
    assert f"wrote {plot}" in r.stdout and f"lesson files: {out}" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]   # nothing in the cwd


@pytest.mark.parametrize("name", ["basics/dpi-naive", "basics/dpi-hardened"])
def test_dpi_profile_lessons_hold(name, tmp_path):
    """What the teaching scenarios say of each desync (lab.clients.desync) against each DPI
    holds in a real run: the fakes and the disorder get a ServerHello from the naive DPI,
    and the hardened one drops them all."""
    r = subprocess.run([sys.executable, "-m", "lab.cli", "lesson", name, "--auto"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "4 of 4 expected observations held." in r.stdout, r.stdout
    passed = r.stdout.count("desync: ServerHello received")
    assert passed == (3 if name.endswith("naive") else 0), r.stdout


def test_mobile_whitelist_lesson_holds(tmp_path):
    """ru/2025-09-mobile-whitelist (bbs#516): on mobile data the SYN passes and the hello does
    not; a name on the list opens any server in the region that lists names, not in the one
    that lists addresses; DNS to 8.8.8.8 only; home broadband untouched."""
    r = subprocess.run([sys.executable, "-m", "lab.cli", "lesson", "ru/2025-09-mobile-whitelist",
                        "--auto"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "8 of 8 expected observations held." in r.stdout, r.stdout
    assert "Connection reset by peer" in r.stdout          # the region that resets
    assert "ServerHello received" in r.stdout              # a listed name to another server


def test_udp_ban_lesson_holds(tmp_path):
    """ru/2025-udp-foreign (bbs#490): after UDP, the whole server is gone but SSH, then back."""
    r = subprocess.run([sys.executable, "-m", "lab.cli", "lesson", "ru/2025-udp-foreign", "--auto"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "6 of 6 expected observations held." in r.stdout, r.stdout


@pytest.mark.parametrize("name, steps, passed", [("basics/dpi-ttl", 3, 2),
                                                  ("basics/dpi-ttl-checked", 2, 0)])
def test_ttl_limited_desync_lessons_hold(name, steps, passed, tmp_path):
    """A box one router away: fake-ttl and tcb-teardown (TTL 2 from the SYN-ACK's 62) get a
    ServerHello from the naive box and none from the one that checks TTLs."""
    r = subprocess.run([sys.executable, "-m", "lab.cli", "lesson", name, "--auto"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert f"{steps} of {steps} expected observations held." in r.stdout, r.stdout
    assert r.stdout.count("desync: ServerHello received") == passed, r.stdout
    assert r.stdout.count("ttl 2 (autottl: SYN-ACK ttl 62)") == 2, r.stdout


def test_an_expectation_that_does_not_hold_fails_the_auto_run(tmp_path):
    path = _write(tmp_path, """\
        lesson:
          - say: The block holds.
            run: "alice curl -sS --max-time 2 https://blocked.example.com/"
            expect: {exit: 28, event: {rule: sni-drop, action: drop}}
          - say: This teacher expected the site to load; it does not.
            run: "alice curl -sS --max-time 2 https://blocked.example.com/"
            expect: {exit: 0, contains: "blocklab server blocked"}
          - say: Lifting the block.
            run: ["disable sni-drop", "alice curl -sS --max-time 5 https://blocked.example.com/"]
            expect: 'blocklab server blocked'
        """)
    r = blocklab("lesson", path, "--auto", timeout=200)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "✗ expected exit 0; output contains 'blocklab server blocked': exit 28, expected 0" \
        in r.stdout, r.stdout
    assert "2 of 3 expected observations held: steps 2 did not." in r.stdout


def test_a_lesson_that_cannot_run_is_refused_before_the_lab(tmp_path):
    path = _write(tmp_path, """\
        lesson:
          - {run: "mallory curl https://blocked.example.com/"}
          - {run: "disable no-such-rule"}
          - {run: "alice true", expect: '(unclosed'}
        """)
    r = blocklab("lesson", path, "--auto", timeout=60)
    assert r.returncode == 1
    assert f"{path}:8:11: lesson[0].run: 'mallory curl" in r.stderr
    assert f"{path}:9:11: lesson[1].run: 'disable no-such-rule': no rule 'no-such-rule'" \
        in r.stderr
    assert f"{path}:10:33: lesson[2].expect: bad regular expression" in r.stderr
    assert "starting the censor" not in r.stderr


def test_enter_runs_each_step_and_q_stops(tmp_path):
    path = _write(tmp_path, """\
        lesson:
          - {say: First., run: "alice echo one", expect: '^one$'}
          - {say: Second., run: "alice echo two", expect: '^two$'}
          - {say: Third., run: "alice echo three"}
        """)
    r = blocklab("lesson", path, input="\n\nq\n", timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("[Enter runs it, q quits]") == 3
    assert "    one" in r.stdout and "    two" in r.stdout and "    three" not in r.stdout
    assert "Lesson stopped after 2 of 3 steps." in r.stdout


def test_a_lesson_step_shows_what_the_browser_renders(tmp_path):
    """basics/reset's `browse` step: the tab's error, in Chromium's and OONI's words, and its
    screenshot among the lesson's files."""
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "lab.cli", "lesson", "basics/reset", "--auto",
                        "--out", str(out)],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    shot = out / "browse-alice-blocked.example.com.png"
    assert "alice's browser: ERR_CONNECTION_RESET after" in r.stdout, r.stdout
    assert f"screenshot: {shot}" in r.stdout, r.stdout
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", data[16:24]) == (800, 600)
    assert "✗" not in r.stdout
