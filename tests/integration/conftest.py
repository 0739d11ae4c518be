"""Integration tests: real labs, as root, with Open vSwitch running (`make test` starts it)."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def pytest_collection_modifyitems(config, items):
    reason = None
    if os.geteuid() != 0:
        reason = "integration tests need root (run `make test` as root)"
    elif shutil.which("ovs-vsctl") is None or subprocess.run(
            ["ovs-vsctl", "--timeout=3", "show"], capture_output=True).returncode != 0:
        reason = "Open vSwitch is not running (`make setup` starts it)"
    if reason:
        for item in items:
            item.add_marker(pytest.mark.skip(reason=reason))
