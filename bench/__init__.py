"""blocklab's performance suite: `blocklab bench` (bench.suite), one module per measurement.

goodput (bench.goodput, bench.topologies), new flows (bench.newflows, bench.loadgen), DNS
(bench.dns, bench.loadgen), blocklist scale (bench.scale), lab size (bench.labsize); the rule
sets they load (bench.rules); the machine (bench.machine); the table (bench.report) and the
plots (bench.plots).
"""
