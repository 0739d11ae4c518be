"""blocklab's performance suite: `blocklab bench` (bench.suite), one module per measurement.

goodput (bench.goodput, bench.topologies), new flows (bench.newflows, bench.loadgen), DNS
(bench.dns, bench.loadgen), blocklist scale (bench.scale), lab size (bench.labsize); the rule
sets they load (bench.rules); the machine (bench.machine); the table (bench.report) and the
plots (bench.plots).
"""

# The suite's sections, in the order it runs them (`blocklab bench --only S,...`).
SECTIONS = ("goodput", "new_flows", "dns", "scale", "lab_size", "routed")
