"""`blocklab compare`: its options, and the comparison run once lab.cli has checked them
(scenarios loaded, tools known, rate parsed, output folders writable): the matrix printed as
Markdown or JSON, the report written, a tool that failed without the censor acting named."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from lab.compare.tools import NAMES as TOOL_NAMES
from lab.run.capture import PCAP_HELP
from lab.run.outputs import not_written

EXIT_ERROR = 1


def add_arguments(s) -> None:
    """The options of `blocklab compare` on its subparser `s`."""
    s.add_argument("scenarios", nargs="+", metavar="SCENARIO")
    s.add_argument("--tools", default="all", metavar="T,...",
                   help="comma-separated tools, or 'all' (the default): "
                        + ", ".join(TOOL_NAMES))
    s.add_argument("--repeat", type=int, default=1, metavar="N",
                   help="run each tool N times; cells show the median and min–max")
    s.add_argument("--json", action="store_true", help="print the matrix as JSON")
    s.add_argument("--report", metavar="DIR",
                   help="write compare.json, compare.md, goodput.png and success.png to DIR")
    s.add_argument("--bulk-rate", metavar="RATE",
                   help="cap each bulk download (curl), e.g. 100Mbit: lighter on a shared "
                        "machine; throttles below the cap still show")
    s.add_argument("--pcap", metavar="DIR",
                   help=PCAP_HELP + "; one subfolder per scenario")


def compare_command(loaded: list, names: list[str], rate: int | None, args) -> int:
    """Run the comparison; 1 if a tool failed without the censor acting or the report could
    not be written."""
    from lab.compare.report import markdown, matrix, write
    from lab.compare.runner import compare
    runs = compare(loaded, names, args.repeat, say=lambda s: print(s, file=sys.stderr),
                   bulk_rate=rate, pcap=args.pcap)
    m = matrix(runs, args.repeat, rate)
    unwritten = None
    if args.report is not None:
        try:
            files = write(m, Path(args.report))
            print(f"report: {', '.join(str(f) for f in files)}", file=sys.stderr)
        except OSError as e:
            unwritten = not_written("--report", args.report, "the report (compare.json, "
                                    "compare.md, plots)", e)
    print(json.dumps(m, indent=1) if args.json else markdown(m), end="\n" if args.json else "")
    failed = [c for c in m["cells"] if c["status"] == "failed"]
    for c in failed:
        print(f"blocklab: {c['tool']} failed in {c['scenario']} without the censor acting: "
              f"{(c['errors'] or ['no target answered'])[0]}", file=sys.stderr)
    if unwritten:
        print(f"blocklab: {unwritten}", file=sys.stderr)
    return EXIT_ERROR if failed or unwritten else 0
