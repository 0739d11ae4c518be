"""Inspection: run the protocol parsers (controllers.dpi) a flow's rules need, into its Facts.

Owns the glue between bytes and facts: which parser answers which fact, and how a parser's
status becomes a fact's state (OK -> value, INVALID -> absent, INCOMPLETE -> still unknown).
Only facts still unknown are computed, and only those some candidate rule needs, so a flow
under one `sni` rule never pays for the HTTP parser. Parser exceptions (they should not
raise) are counted and read as INVALID.
"""
from __future__ import annotations

import logging
from typing import Callable

from controllers.dpi import dns, fingerprint, http, quic, tls
from controllers.dpi.result import INCOMPLETE, OK
from controllers.rules.facts import UNKNOWN, Facts
from controllers.rules.vocabulary import HTTP_KEYS, TLS_KEYS

log = logging.getLogger("blocklab.censor")


class Inspector:
    """Stateless apart from its error counter; one per engine."""

    def __init__(self) -> None:
        self.parser_errors = 0

    def _call(self, fn: Callable, *args):
        try:
            return fn(*args)
        except Exception:               # a parser bug must not take the censor down
            self.parser_errors += 1
            if self.parser_errors <= 10:    # the count is in `status`; the first few in the log
                log.exception("parser %s failed; the flow is inspected as unparsed",
                              getattr(fn, "__qualname__", fn))
            return None

    def tcp(self, facts: Facts, data: bytes, needs: frozenset, join_records: bool) -> None:
        """Facts from client->server TCP bytes (the reassembled stream, or one segment)."""
        if needs & TLS_KEYS and facts.sni is UNKNOWN:
            r = self._call(tls.parse_client_hello, data, join_records)
            if r is not None and r.status == OK:
                ch = r.value
                facts.sni = ch.sni
                facts.tls_ext = frozenset(ch.extensions)
                facts.alpn = ch.alpn
            elif r is None or r.status != INCOMPLETE:
                facts.sni = facts.tls_ext = None
        if needs & HTTP_KEYS and facts.host is UNKNOWN:
            r = self._call(http.parse_request, data)
            if r is not None and r.status == OK:
                facts.host, facts.path = r.value.host, r.value.path
            elif r is None or r.status != INCOMPLETE:
                facts.host = facts.path = None
        if "dns" in needs and facts.dns is UNKNOWN:
            self._dns_tcp(facts, data)
        if "protocol" in needs and facts.protocol is UNKNOWN:
            facts.protocol = self._classify(data, "tcp")

    def _dns_tcp(self, facts: Facts, data: bytes) -> None:
        split = self._call(dns.split_tcp_stream, data)
        if split is None:
            facts.dns = None
            return
        messages, _used = split
        if not messages:
            return                      # the length prefix promises more bytes
        r = self._call(dns.parse_query, messages[0])
        if r is not None and r.status == OK:
            facts.dns, facts.dns_query, facts.dns_msg, facts.dns_tcp = \
                r.value.qname, r.value, messages[0], True
        else:
            facts.dns = None

    def udp(self, facts: Facts, flow, data: bytes, needs: frozenset) -> None:
        """Facts from one client->server datagram."""
        if "dns" in needs and facts.dns is UNKNOWN:
            r = self._call(dns.parse_query, data)
            if r is not None and r.status == OK:
                facts.dns, facts.dns_query, facts.dns_msg, facts.dns_tcp = \
                    r.value.qname, r.value, data, False
            else:
                facts.dns = None        # a datagram is whole: INCOMPLETE is truncated
        if ("quic_sni" in needs or "quic_ext" in needs) and facts.quic_sni is UNKNOWN:
            self._quic(facts, flow, data)
        if "protocol" in needs and facts.protocol is UNKNOWN:
            known = None if facts.dns is UNKNOWN else facts.dns_query is not None
            facts.protocol = self._classify(data, "udp", known)     # DNS parsed once

    def _quic(self, facts: Facts, flow, data: bytes) -> None:
        initials = self._call(quic.parse_initials, data)
        if not initials:
            if flow.quic is None:       # the first datagram is no QUIC Initial
                facts.quic_sni = facts.quic_ext = None
            return
        if flow.quic is None:
            flow.quic = quic.CryptoAssembler()
        for initial in initials:
            self._call(flow.quic.add, initial.crypto)
        r = self._call(flow.quic.client_hello)
        if r is not None and r.status == OK:
            facts.quic_sni = r.value.sni
            facts.quic_ext = frozenset(r.value.extensions)
        elif r is None or r.status != INCOMPLETE:
            facts.quic_sni = facts.quic_ext = None

    def _classify(self, data: bytes, transport: str, is_dns: bool | None = None):
        found = self._call(fingerprint.classify, data, transport, is_dns)
        return frozenset(found) if found is not None else frozenset()

    def no_data(self, facts: Facts) -> None:
        """A flow that carries no payload at all (ICMP, other protocols)."""
        facts.finalise()
