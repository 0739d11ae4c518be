"""A control socket deeper than AF_UNIX's 107 bytes still binds and answers (a routed lab's
censors live at RUN/censors/NAME/control.sock, and pytest's tmp paths are long)."""
import socket
import threading

import pytest

from controllers.openflow.sockpath import MAX_PATH, unix_address
from lab.run.censor import ControlClient


def _deep(tmp_path):
    folder = tmp_path / ("d" * 60) / ("e" * 60)
    folder.mkdir(parents=True)
    path = folder / "control.sock"
    assert len(str(path)) > MAX_PATH
    return path


def test_the_plain_long_path_is_refused_by_the_kernel(tmp_path):
    path = _deep(tmp_path)
    with socket.socket(socket.AF_UNIX) as s, pytest.raises(OSError):
        s.bind(str(path))


def test_a_long_path_binds_and_a_client_gets_its_answer(tmp_path):
    path = _deep(tmp_path)
    with socket.socket(socket.AF_UNIX) as server:
        with unix_address(path) as address:
            server.bind(address)
        server.listen(1)
        assert path.is_socket()
        client = ControlClient(path)
        def answer():
            conn, _ = server.accept()
            with conn:
                line = conn.makefile("rb").readline()
                conn.sendall(line.replace(b"status", b"ok"))
        t = threading.Thread(target=answer)
        t.start()
        assert client.call({"cmd": "status"}, timeout=5) == {"cmd": "ok"}
        t.join(5)


def test_a_short_path_is_used_as_it_is(tmp_path):
    with unix_address(tmp_path / "c.sock") as address:
        assert address == str(tmp_path / "c.sock")
