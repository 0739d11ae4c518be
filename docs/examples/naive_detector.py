#!/usr/bin/env python3
"""A deliberately naive censorship detector: a name that resolves is "not blocked".

    python3 naive_detector.py URL

prints one line, `{"url": URL, "blocked": true|false, "technique": "dns"}`: blocked only when
the name does not resolve. It misses every block that happens after DNS, and a forged DNS
answer fools it completely: `blocklab probe basics/dns-forge --detector 'python3
naive_detector.py {url}' --min-recall 1` shows the false negatives it deserves, and fails.
"""
import json
import socket
import sys
from urllib.parse import urlsplit

url = sys.argv[1]
host = urlsplit(url).hostname if "://" in url else url
try:
    addr = socket.getaddrinfo(host, None, socket.AF_INET)[0][4][0]
    print(json.dumps({"url": url, "blocked": False, "why": f"{host} resolves to {addr}"}))
except socket.gaierror as e:
    print(json.dumps({"url": url, "blocked": True, "technique": "dns",
                      "why": f"{host} does not resolve: {e.strerror}"}))
