"""How `--pcap` names what tcpdump's ring left (lab/run/capture.py): the plain `HOST.pcap`
when the ring never wrapped, tcpdump's numbered files when it did."""
from __future__ import annotations

from lab.run.capture import settle_ring


def test_a_ring_that_never_wrapped_takes_the_plain_name(tmp_path):
    (tmp_path / "alice.pcap0").write_bytes(b"x")
    assert settle_ring(tmp_path / "alice.pcap") == [tmp_path / "alice.pcap"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alice.pcap"]


def test_a_ring_that_wrapped_keeps_its_numbered_files(tmp_path):
    for n in (2, 0, 1):
        (tmp_path / f"alice.pcap{n}").write_bytes(b"x")
    (tmp_path / "alice.pcap.txt").write_bytes(b"not ours")
    assert [p.name for p in settle_ring(tmp_path / "alice.pcap")] == \
        ["alice.pcap0", "alice.pcap1", "alice.pcap2"]


def test_no_file_at_all(tmp_path):
    assert settle_ring(tmp_path / "bob.pcap") == []
