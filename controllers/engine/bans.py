"""`ban_after`: count a client's matching packets to a server address, and ban the pair.

Owns the counts of the counting actions (vocabulary.COUNTING_ACTIONS): per (rule, client
address, server address), how many matching packets went by. The first N pass, each decided
on its own (no per-flow entry, so the next one comes up and is counted); the one after is
dropped and opens a penalty box for the whole address pair, every protocol and port, for the
rule's residual (controllers.engine.residual, key ANY). What Iranian users saw on MCI and TCI
after the June 2025 shutdown (net4people/bbs#489): pings to a host answered two or three
times, then nothing to that host at all, HTTP and HTTPS included. The counts start afresh
when the censor restarts; the bans do not (they are penalty boxes, saved and restored).
"""
from __future__ import annotations

ANY = 0          # a box's protocol and port that stand for every protocol and port


class PacketCounts:
    """Matching packets seen per (rule id, client ip, server ip)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str, str], int] = {}

    def passes(self, rule_id: str, client: str, server: str, limit: int) -> bool:
        """Count one packet: whether it is among the first `limit` (it passes)."""
        key = (rule_id, client, server)
        seen = self._seen.get(key, 0) + 1
        self._seen[key] = seen
        return seen <= limit

    def forget(self, rule_id: str, client: str, server: str) -> None:
        """Start counting afresh (the ban opened: after it, the count begins again)."""
        self._seen.pop((rule_id, client, server), None)

    def __len__(self) -> int:
        return len(self._seen)
