"""TLS interception with a national CA (action intercept, lab.services.intercept), seen by
real clients in kz/2024-mitm: bob, who did not install the national certificate, gets curl's
certificate error; alice, who did, gets the real page through the box, under a certificate
the national CA signed; a site not on the list keeps its own certificate. One lab."""
from __future__ import annotations

import shutil

import pytest

from lab import scenario as scenarios
from lab.run.lab import Lab
from lab.truth.observe import browse

ISSUER = "openssl s_client -connect {0}:443 -servername {0} </dev/null"


@pytest.fixture(scope="module")
def lab():
    with Lab(scenarios.load("kz/2024-mitm")) as lab:
        yield lab


def issuer(lab, client: str, name: str) -> str:
    r = lab.run(client, ["sh", "-c", ISSUER.format(name)], timeout=10)
    return next((ln for ln in r.stdout.splitlines() if ln.startswith("issuer=")), r.stderr)


def curl(lab, client: str, url: str):
    return lab.run(client, ["curl", "-sS", "--max-time", "5", url], timeout=10)


def test_without_the_national_ca_curl_refuses_the_certificate(lab):
    r = curl(lab, "bob", "https://rutracker.org/")
    assert r.returncode == 60, (r.returncode, r.stderr)
    assert "SSL certificate problem" in r.stderr
    assert "national CA" in issuer(lab, "bob", "rutracker.org")


def test_with_the_national_ca_the_page_comes_through_the_box(lab):
    r = lab.run("alice", ["curl", "-sS", "--max-time", "5", "-w", "\n%{remote_ip}",
                          "https://www.pinterest.com/"], timeout=10)
    assert r.returncode == 0 and "blocklab server pinterest" in r.stdout, r.stderr
    assert "CN = blocklab national CA" in issuer(lab, "alice", "www.pinterest.com")
    log = (lab.run_dir.path / "services" / "mitm" / "intercept" / "intercept.log").read_text()
    alice, pinterest = lab.scenario.host("alice"), lab.scenario.host("pinterest")
    if ":" in r.stdout.rsplit("\n", 1)[1]:       # over IPv6, as curl prefers in a dual-stack lab
        server, client = f"[{pinterest.ip6}]", alice.ip6
    else:
        server, client = pinterest.ip, alice.ip
    assert f"intercepted www.pinterest.com ({server}:443) for {client}" in log, log


def test_a_site_off_the_list_keeps_its_own_certificate_and_no_event(lab):
    assert curl(lab, "alice", "https://rutracker.org/").returncode == 0   # one intercepted
    r = curl(lab, "bob", "https://tengrinews.kz/")
    assert r.returncode == 0 and "blocklab server tengri" in r.stdout
    assert "CN = blocklab lab CA" in issuer(lab, "bob", "tengrinews.kz")
    lab.settle(1.0)
    tengri = lab.scenario.host("tengri").ip
    intercepted = [e for e in lab.events() if e.get("action") == "intercept"]
    assert intercepted and all(e["rule"] == "kz-mitm" for e in intercepted)
    assert not [e for e in intercepted if e["flow"]["dst"] == tengri]


@pytest.mark.skipif(not shutil.which("chromium"), reason="chromium is optional (setup.sh)")
def test_a_browser_shows_the_page_or_the_privacy_error(lab):
    """The national CA is in the NSS database of a host that installed it, too."""
    seen = browse(lab, "alice", "https://rutracker.org/")
    assert seen["error"] is None and seen["title"] == "rutracker", seen
    seen = browse(lab, "bob", "https://rutracker.org/")
    assert seen["error"] == "ERR_CERT_AUTHORITY_INVALID", seen
