"""`blocklab bench --quick --json` runs every section and writes valid JSON and PNG plots.

No timing is asserted: the figures depend on the machine and on what else runs on it. It
runs alone (serial): a benchmark beside other labs would measure them too.
"""
from __future__ import annotations

import json

import pytest

from helpers import blocklab

SECTIONS = ("goodput", "new_flows", "dns", "scale", "lab_size", "routed")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    r = blocklab("bench", "--quick", "--json", "--out", str(out), timeout=900)
    return r, out


@pytest.mark.serial
def test_quick_bench_prints_json_with_every_section(quick_run):
    r, out = quick_run
    assert r.returncode == 0, r.stderr[-3000:]
    result = json.loads(r.stdout)
    assert json.loads((out / "results.json").read_text()) == json.loads(
        json.dumps(result, default=str))
    for section in SECTIONS:
        assert section in result, section
        assert "error" not in result[section], (section, result[section].get("error"))
    machine = result["machine"]
    for key in ("cpu", "cores", "kernel", "ovs", "ovs_datapath", "python"):
        assert machine.get(key), key
    assert result["quick"] is True
    g = result["goodput"]
    for way in ("censor", "lab_no_rules", "ovs_plain", "linux_bridge"):
        assert g[way]["gbit_s"] > 0, way
    assert g["ratio_vs_ovs_plain"] > 0
    flows = result["new_flows"]
    assert flows["censor"]["throughput"]["flows"] > 0
    outcomes = flows["censor"]["throughput"]["outcomes"]      # no flow decided wrongly
    assert outcomes["answered"].get("answered", 0) > 0 and outcomes["reset"].get("reset", 0) > 0
    assert outcomes["answered"].get("reset", 0) == 0 and outcomes["reset"].get("answered", 0) == 0
    assert flows["none"]["throughput"]["flows"] > 0
    dns = result["dns"]
    assert dns["censor"]["queries"] > 0 and dns["wrong"] == 0
    scale = result["scale"]["results"]
    assert [row["n"] for row in scale] == result["config"]["scale_sizes"]
    for row in scale:
        assert row["lookup_errors"] == 0
        assert row["steering_entries"] <= 4        # N CIDRs never become N entries
        assert row["controller"].get("start_to_ready_s") is not None, row["controller"]
    sizes = result["lab_size"]["results"]
    assert all(row.get("up_s") is not None and "error" not in row for row in sizes)
    routed = result["routed"]           # 3 ISPs x 3 clients, 2 censors, vs the one switch
    assert routed["goodput_gbit_s"] > 0 and routed["goodput_gbit_s_flat"] > 0
    assert routed["goodput_ratio_vs_flat"] > 0
    assert routed["flows_per_s"] > 0 and routed["flows_per_s_flat"] > 0
    assert routed["unexpected_flows"] == {"flat": 0, "routed": 0}
    assert routed["up_s"] is not None and routed["down_s"] is not None


@pytest.mark.serial
def test_quick_bench_writes_a_table_and_valid_png_plots(quick_run):
    from PIL import Image
    r, out = quick_run
    assert r.returncode == 0, r.stderr[-3000:]
    table = (out / "results.md").read_text()
    assert table.count("\n|") >= 10 and "Goodput ratio" in table
    result = json.loads((out / "results.json").read_text())
    names = {"scale": "blocklist.png", "lab_size": "labsize.png", "goodput": "goodput.png"}
    for key, name in names.items():
        path = out / name
        assert result["plots"][key] == str(path)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        with Image.open(path) as img:
            img.verify()
        with Image.open(path) as img:
            assert img.size[0] > 300 and img.size[1] > 200
