"""Client-side probes and evasions run inside lab hosts (`python -m lab.clients.NAME ...`).

Each behaves like a small curl: exit 0 on success; on failure a one-line error on stderr and
curl's exit code for the symptom (28 timeout, 7 refused, 35/56 reset, 6 not resolved).
"""
