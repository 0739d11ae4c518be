"""The OONI measurement envelope (ooni/spec df-000-base) around a prober's test_keys. Pure.

One object per target, as OONI Probe writes them (`test_name: web_connectivity`,
`probe_cc: "ZZ"`: a lab has no country; `probe_asn` and `probe_network_name` are the client's
ISP's on a routed network (its `asn:`, else "AS0", and its name), "AS0" and "blocklab" on the
one-switch lab), so tools that read
OONI JSONL read blocklab's too. blocklab's own additions are `x_`-prefixed keys in `test_keys`
and the `x_blocklab` key (client, scenario, and, once scored, the outcome).
"""
from __future__ import annotations

import time
from importlib import metadata

TEST_NAME = "web_connectivity"
TEST_VERSION = "0.4.3"
DATA_FORMAT_VERSION = "0.2.0"


def software_version() -> str:
    try:
        return metadata.version("blocklab")
    except metadata.PackageNotFoundError:
        return "0"


def measurement(url: str, test_keys: dict, *, start_time: str, runtime: float,
                test_start_time: str, client: str, client_ip: str, scenario: str,
                control: str, report_id: str = "", probe_asn: str = "AS0",
                network_name: str = "blocklab") -> dict:
    return {
        "annotations": {"platform": "linux", "engine_name": "blocklab",
                        "blocklab_scenario": scenario, "blocklab_client": client},
        "data_format_version": DATA_FORMAT_VERSION,
        "input": url,
        "measurement_start_time": start_time,
        "probe_asn": probe_asn,
        "probe_cc": "ZZ",
        "probe_ip": client_ip,
        "probe_network_name": network_name,
        "report_id": report_id,
        "resolver_asn": "AS0",
        "resolver_ip": test_keys.get("client_resolver"),
        "resolver_network_name": "blocklab",
        "software_name": "blocklab",
        "software_version": software_version(),
        "test_helpers": {"backend": {"address": control, "type": "blocklab-in-lab-control"}},
        "test_keys": test_keys,
        "test_name": TEST_NAME,
        "test_runtime": round(runtime, 6),
        "test_start_time": test_start_time,
        "test_version": TEST_VERSION,
    }


def now_string(t: float | None = None) -> str:
    """OONI's time format: UTC, `YYYY-MM-DD hh:mm:ss`."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() if t is None else t))
