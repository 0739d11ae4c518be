"""The routed bench section's pure parts: its scenario (3 ISPs, 2 censors, a valid file) and
its figures (routed / one-switch ratios, paired per rep and of the medians)."""
from __future__ import annotations

from bench import common, newflows, routed, suite
from bench import rules as R


def test_the_routed_scenario_has_three_isps_and_two_censors_on_the_longest_path(tmp_path):
    names = routed.clients(3)
    assert names == {"home": ["h00", "h01", "h02"], "mobile": ["m00", "m01", "m02"],
                     "uni": ["u00", "u01", "u02"]}
    every = [c for isp in routed.ISPS for c in names[isp]]
    sc = common.scenario(tmp_path, "bench-routed", every, suite.SERVERS, [],
                         network=routed.network(3, newflows.RESET_RULE, R.mixed_rules(100)))
    assert [(i.name, i.kind, i.clients) for i in sc.network.isps] == [
        ("home", "home", ("h00", "h01", "h02")), ("mobile", "mobile", ("m00", "m01", "m02")),
        ("uni", "university", ("u00", "u01", "u02"))]
    tspu, gfw = sc.network.censors
    assert (tspu.name, tspu.at, len(tspu.rules)) == ("tspu", "home.uplink", 100)
    assert (gfw.name, gfw.at, gfw.rules[0].id) == ("gfw", "border", "bench-sni-reset")
    assert sc.network.on_path("h01", "home.uplink") and sc.network.on_path("h01", "border")
    assert sc.network.hops("h01", "border") == 2


def test_ratios_are_routed_over_flat_paired_and_of_medians():
    got = routed.summarize({"flat": {"gbit_s": [4.0, 2.0, 3.0], "flows_per_s": [1000.0, None]},
                            "routed": {"gbit_s": [2.0, 2.0, None],
                                       "flows_per_s": [500.0, 400.0]}})
    assert got["goodput_gbit_s"] == 2.0 and got["goodput_gbit_s_flat"] == 3.0
    assert got["goodput_paired_ratios_vs_flat"] == [0.5, 1.0]     # the failed rep is left out
    assert got["goodput_ratio_vs_flat"] == 1.0                    # bench's median: upper one
    assert got["goodput_ratio_of_medians_vs_flat"] == 0.667
    assert got["flows_per_s"] == 500.0 and got["flows_per_s_flat"] == 1000.0
    assert got["flows_paired_ratios_vs_flat"] == [0.5]
    assert got["flows_ratio_vs_flat"] == 0.5


def test_no_sample_gives_no_ratio():
    got = routed.summarize({"flat": {"gbit_s": [None], "flows_per_s": []},
                            "routed": {"gbit_s": [1.0], "flows_per_s": []}})
    assert got["goodput_ratio_vs_flat"] is None and got["goodput_ratio_of_medians_vs_flat"] is None
    assert got["flows_per_s"] is None and got["flows_ratio_vs_flat"] is None
