#!/usr/bin/env python3
"""A small censorship detector: a site that curl cannot fetch (with a valid certificate, in
5 seconds) is "blocked", and curl's error says how.

    python3 curl_detector.py URL

prints one line, `{"url": URL, "blocked": true|false, "technique": ..., "why": ...}`, the
simple format `blocklab probe --detector` reads. It stands in for your detector in
docs/examples/test_my_detector.py.
"""
import json
import subprocess
import sys

# curl exit code -> the technique this detector names (its own vocabulary)
TECHNIQUES = {6: "dns", 7: "tcp_ip", 28: "timeout", 35: "tls", 52: "http", 56: "reset",
              60: "tls"}

url = sys.argv[1]
if "://" not in url:
    url = f"https://{url}/"
r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "--max-time", "5", "-w", "%{http_code}",
                    url], capture_output=True, text=True)
code = r.stdout.strip()
if r.returncode == 0 and code.startswith(("2", "3")):
    line = {"url": sys.argv[1], "blocked": False, "why": f"HTTP {code}"}
elif r.returncode == 0:
    line = {"url": sys.argv[1], "blocked": True, "technique": "http-status",
            "why": f"HTTP {code}"}
else:
    line = {"url": sys.argv[1], "blocked": True,
            "technique": TECHNIQUES.get(r.returncode, f"curl-{r.returncode}"),
            "why": (r.stderr.strip().splitlines() or [f"curl exit {r.returncode}"])[-1]}
print(json.dumps(line))
