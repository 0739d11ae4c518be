"""The censor's control socket (controllers.openflow.controlsocket, answering through the app)
answers every line with a JSON reply, whatever the
line holds (random bytes, non-UTF-8, JSON that is no object, deep nesting, unknown commands,
too long), and keeps serving; a good command after garbage still works. The app is built
without os-ken running (its handler is plain code over a socket)."""
from __future__ import annotations

import json
import socket
import sys
import threading
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent / "engine"))

from controllers.openflow import app as censor_app  # noqa: E402
from controllers.openflow import controlsocket  # noqa: E402
from controllers.openflow.packetpath import PacketPath  # noqa: E402
from controllers.engine.engine import Engine  # noqa: E402
from controllers.engine.eventlog import EventLog  # noqa: E402
from engine_helpers import policy, rule  # noqa: E402


def make_app(tmp: Path) -> censor_app.CensorApp:
    app = object.__new__(censor_app.CensorApp)      # no os-ken: only what the handler uses
    app.settings = censor_app.Settings(str(tmp / "policy.json"), str(tmp / "events.jsonl"),
                                       str(tmp / "control.sock"), 0.0,
                                       state_path=str(tmp / "censor-state.json"))
    app.engine = Engine(policy(rule("a", {"sni": ["a.example"]}, "drop")))
    app.event_log = EventLog(app.settings.events_path)
    app.path = PacketPath(app.engine, app.event_log, "censor", 0.0)
    app.ready = True
    return app


def converse(app, payload: bytes) -> list[dict]:
    """Send `payload` on a fresh connection, half-close, read every reply line."""
    ours, theirs = socket.socketpair()
    worker = threading.Thread(target=controlsocket.handle, args=(theirs, app.answer), daemon=True)
    worker.start()
    ours.sendall(payload)
    ours.shutdown(socket.SHUT_WR)
    data = b""
    while chunk := ours.recv(65536):
        data += chunk
    ours.close()
    worker.join(10)
    assert not worker.is_alive()
    return [json.loads(line) for line in data.splitlines()]


GARBAGE = [b"garbage", b"\xff\xfe\x00\x80bad", b"[1, 2]", b'"text"', b"null", b"{}", b"{",
           b'{"cmd": "nope"}', b'{"cmd": "enable"}', b'{"cmd": "enable", "rule": ["a"]}',
           b'{"cmd": "replace", "rule": 5}', b'{"cmd": "add", "rule": {}, "index": -1}',
           b'{"cmd": "policy", "rules": "x"}', b"[" * 100_000, b'{"cmd": "status"' + b" " * 9,
           b"\x00" * 100, "{\"cmd\": \"r\u00e9gles\"}".encode("utf-16")]


def test_every_garbage_line_gets_an_error_and_the_next_command_works(tmp_path):
    app = make_app(tmp_path)
    replies = converse(app, b"\n".join(GARBAGE) + b'\n{"cmd": "status"}\n{"cmd": "rules"}\n')
    assert len(replies) == len(GARBAGE) + 2
    for line, reply in zip(GARBAGE, replies):
        assert reply["ok"] is False and reply["error"], (line, reply)
    assert replies[-2]["ok"] and replies[-2]["ready"]
    assert [r["id"] for r in replies[-1]["rules"]] == ["a"]


def test_a_line_past_the_limit_is_refused_and_ends_the_connection(tmp_path, monkeypatch):
    monkeypatch.setattr(controlsocket, "MAX_LINE", 1000)
    app = make_app(tmp_path)
    replies = converse(app, b'{"cmd": "status"}\n' + b"x" * 5000 + b'\n{"cmd": "status"}\n')
    assert replies[0]["ok"]
    assert replies[1] == {"ok": False, "error": "command longer than 1000 bytes"}
    assert len(replies) == 2
    assert converse(app, b'{"cmd": "status"}\n')[0]["ok"]     # the app still serves


def test_a_live_change_is_saved_for_a_restart(tmp_path):
    app = make_app(tmp_path)
    reply = converse(app, b'{"cmd": "disable", "rule": "a"}\n')[0]
    assert reply == {"ok": True}
    saved = json.loads((tmp_path / "censor-state.json").read_text())
    assert [(r["id"], r["enabled"]) for r in saved["rules"]] == [("a", False)]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=6),
              st.sampled_from(["status", "rules", "enable", "disable", "replace", "add",
                               "policy", "a", "cmd", "rule"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(["cmd", "rule", "rules", "index",
                                                             "id", "match", "action"]),
                                            inner, max_size=4)),
    max_leaves=15).map(lambda v: json.dumps(v).encode())))
def test_any_line_gets_one_reply(tmp_path_factory, line):
    app = make_app(tmp_path_factory.mktemp("c"))
    line = line.replace(b"\n", b" ")
    replies = converse(app, line + b'\n{"cmd": "status"}\n')
    assert len(replies) == 2 and replies[0]["ok"] in (True, False)
    assert replies[0]["ok"] or replies[0]["error"]
    assert replies[1]["ok"]
    assert app.engine.stats()["internal_errors"] == 0
