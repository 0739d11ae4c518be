"""A censor's DPI profile: how its TCP state machine reads a flow, where evasion tools aim.

Owns the meaning of each profile key (the words are controllers.rules.vocabulary's DPI_KEYS),
the named profiles with the measurements each reproduces, and the check of a compiled
profile (docs/internals.md section 1, the policy's "dpi"). Pure data: the engine
(controllers.engine.tcb) does what a profile says.

- checksums (false): a segment whose IP or TCP checksum is wrong is ignored (passed on,
  not read); one left to offload (partial) is not wrong.
- sequence (false): a data segment outside the window from the flow's first expected byte
  is ignored.
- ttl_check (false): a client segment (data or RST) whose IP TTL is not the one the flow's
  SYN came with is ignored (under any profile the switch sends client SYNs up: the SYN's
  TTL is the baseline, and events note a segment read with another TTL).
  What a TTL-limited fake or RST (fake-ttl, tcb-teardown) cannot pass.
- overlap (first): bytes sent twice: the first copy is believed, or the last (reassembly).
- state (any): a flow's state is made on its handshake only (syn), or by any packet (any).
- teardown ([]): what makes the DPI forget an undecided flow: client_rst, server_rst (the
  switch then copies the server's RSTs up), fin.
- resync (false): a client SYN seen on an undecided flow starts its state afresh.
- inspect_packets (8): client data packets read per flow, at most.
- inspect_bytes (null): client data bytes read per flow, at most (null: no limit).
- reassembly (true): TCP segments (and TLS records) joined before matching.

`default` is today's censor, exactly; a scenario without `dpi:` compiles no "dpi" at all.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from controllers.rules.vocabulary import (DPI_KEYS, DPI_PROFILES, OVERLAP_VALUES, STATE_VALUES,
                                          TEARDOWN_VALUES)


class ProfileError(ValueError):
    """A profile the engine cannot use; the message names the key."""


@dataclass(frozen=True)
class Profile:
    checksums: bool = False
    sequence: bool = False
    ttl_check: bool = False
    overlap: str = "first"
    state: str = "any"
    teardown: tuple[str, ...] = field(default=())
    resync: bool = False
    inspect_packets: int = 8
    inspect_bytes: int | None = None
    reassembly: bool = True

    def as_policy(self) -> dict[str, Any]:
        out = asdict(self)
        out["teardown"] = list(self.teardown)
        return out


NAMED: dict[str, Profile] = {
    # Today's censor: reassembles, reads 8 data packets, believes the first copy of bytes,
    # checks neither checksums nor sequence numbers, keeps state until it decides.
    "default": Profile(),
    # A DPI box that reads each packet alone and believes it: no checksum check, no window
    # check, no reassembly; a client RST ends its state, and without a handshake seen it
    # reads nothing. What zapret's and byedpi's desync methods were built against: a fake
    # (badsum, badseq) is read as the connection's hello, a split or disordered hello is never
    # read whole (zapret docs/readme: "fooling" badsum/badseq, split/disorder; byedpi
    # --fake/--split/--disorder; Xue et al., "TSPU: Russia's Decentralized Censorship
    # System", IMC 2022, on TSPU reading first packets; Bock et al., "Geneva", CCS 2019,
    # TCB teardown by client RST).
    "naive": Profile(reassembly=False, state="syn", teardown=("client_rst",)),
    # A DPI that reads the stream the way the server's kernel does: it verifies checksums
    # and sequence numbers (RFC 9293's acceptability test), so the end host and the DPI
    # drop the same fakes, and it reassembles segments and records (GFWeb, Hoang et al.,
    # USENIX Security 2024: the GFW now reassembles split ClientHellos; Niere et al., CCS
    # 2023 poster, TLS record fragmentation countered). Its state is kept until it decides.
    "hardened": Profile(checksums=True, sequence=True, reassembly=True),
    # Boxes measured by Geneva (Kkevsterrr/geneva, strategies.md: each strategy's success
    # rate per country; Bock et al., CCS 2019, and "Come as you are", NDSS 2020), 2019:
    # The GFW: a RST (or RST+ACK) with a corrupt checksum or TTL 10 sent after the handshake
    # tears its state down (95%, 87-94%) and it does not read the connection again; a
    # duplicate of the request with corrupt data and a corrupt checksum or TTL 8 is believed
    # (80%, 98%); a request cut into TCP segments is read whole (3%). What Geneva did not
    # measure (sequence numbers) keeps the default.
    "gfw-2019": Profile(teardown=("client_rst",), state="syn"),
    # Kazakhstan's HTTP DPI: the same fakes are believed (100%), the RST teardowns fail (0%:
    # it forgets nothing), a segmented request passes (100%: it reads packets one at a time).
    "kazakhstan-2019": Profile(reassembly=False),
}
assert tuple(NAMED) == DPI_PROFILES, "controllers.rules.vocabulary.DPI_PROFILES"


def check(value: Any) -> Profile:
    """A compiled profile (a mapping of DPI_KEYS, or a named profile) -> Profile;
    ProfileError naming the key otherwise. Keys left out take the default's value."""
    if isinstance(value, str):
        if value not in NAMED:
            raise ProfileError(f"dpi: unknown profile {value!r} (known: "
                               f"{', '.join(DPI_PROFILES)})")
        return NAMED[value]
    if not isinstance(value, dict):
        raise ProfileError("dpi: expected a mapping or a profile name")
    unknown = [k for k in value if k not in DPI_KEYS]
    if unknown:
        raise ProfileError(f"dpi.{unknown[0]}: unknown key (known: {', '.join(DPI_KEYS)})")
    if not isinstance(value.get("profile", "default"), str):
        raise ProfileError("dpi.profile: expected a profile name")
    base = check(value.get("profile", "default"))
    kw: dict[str, Any] = {}
    for key in ("checksums", "sequence", "ttl_check", "resync", "reassembly"):
        if key in value:
            if not isinstance(value[key], bool):
                raise ProfileError(f"dpi.{key}: expected true or false")
            kw[key] = value[key]
    for key, allowed in (("overlap", OVERLAP_VALUES), ("state", STATE_VALUES)):
        if key in value:
            if value[key] not in allowed:
                raise ProfileError(f"dpi.{key}: expected one of {', '.join(allowed)}")
            kw[key] = value[key]
    if "teardown" in value:
        items = value["teardown"]
        if not isinstance(items, list) or any(t not in TEARDOWN_VALUES for t in items):
            raise ProfileError(f"dpi.teardown: expected a list of {', '.join(TEARDOWN_VALUES)}")
        kw["teardown"] = tuple(dict.fromkeys(items))
    if "inspect_packets" in value:
        n = value["inspect_packets"]
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 1000:
            raise ProfileError("dpi.inspect_packets: expected an integer from 1 to 1000")
        kw["inspect_packets"] = n
    if "inspect_bytes" in value:
        n = value["inspect_bytes"]
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise ProfileError("dpi.inspect_bytes: expected a positive integer or null")
        kw["inspect_bytes"] = n
    return replace(base, **kw)


def from_policy(policy: dict) -> Profile:
    """The profile of a compiled policy: its "dpi" when present, else the default with the
    policy's older top-level "reassembly" and "inspect_packets"."""
    if policy.get("dpi") is not None:
        return check(policy["dpi"])
    return replace(NAMED["default"], reassembly=bool(policy.get("reassembly", True)),
                   inspect_packets=max(1, int(policy.get("inspect_packets", 8))))
