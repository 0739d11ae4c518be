"""OONI's failure strings (ooni/spec df-007-errors) and the mapping from Python's errors to them.

Pure: no I/O. The prober (lab/probe/measure.py) turns each exception it meets into one of these
strings, exactly as OONI's netxlite classifies Go's errors, so a measurement reads like OONI's.
"""
from __future__ import annotations

import errno
import socket
import ssl

# DNS
DNS_NXDOMAIN = "dns_nxdomain_error"
DNS_SERVFAIL = "dns_servfail_error"
DNS_REFUSED = "dns_refused_error"
DNS_NO_ANSWER = "dns_no_answer"
DNS_MISBEHAVING = "dns_server_misbehaving"
# transport
TIMEOUT = "generic_timeout_error"
REFUSED = "connection_refused"
RESET = "connection_reset"
ABORTED = "connection_aborted"
EOF = "eof_error"
HOST_UNREACHABLE = "host_unreachable"
NETWORK_UNREACHABLE = "network_unreachable"
TIMED_OUT = "timed_out"
# TLS
SSL_INVALID_HOSTNAME = "ssl_invalid_hostname"
SSL_UNKNOWN_AUTHORITY = "ssl_unknown_authority"
SSL_INVALID_CERTIFICATE = "ssl_invalid_certificate"
SSL_FAILED_HANDSHAKE = "ssl_failed_handshake"

# DNS response codes -> failure (0 NOERROR is not a failure; an empty answer is dns_no_answer)
RCODE_FAILURES = {1: DNS_MISBEHAVING, 2: DNS_SERVFAIL, 3: DNS_NXDOMAIN, 4: DNS_MISBEHAVING,
                  5: DNS_REFUSED}

_ERRNO = {
    errno.ECONNREFUSED: REFUSED,
    errno.ECONNRESET: RESET,
    errno.ECONNABORTED: ABORTED,
    errno.EHOSTUNREACH: HOST_UNREACHABLE,
    errno.ENETUNREACH: NETWORK_UNREACHABLE,
    errno.ETIMEDOUT: TIMED_OUT,
    errno.EADDRNOTAVAIL: "address_not_available",
    errno.ENETDOWN: "network_down",
    errno.ENETRESET: "network_reset",
    errno.EPERM: "permission_denied",
    errno.EACCES: "permission_denied",
}

# X509 verify codes (OpenSSL) that mean "no trusted issuer": OONI's ssl_unknown_authority
_UNKNOWN_ISSUER = {2, 18, 19, 20, 21}
_HOSTNAME_MISMATCH = 62


def of_exception(exc: BaseException) -> str:
    """The OONI failure string for an exception raised by a socket, TLS or HTTP step."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = getattr(exc, "verify_code", None)
        if code == _HOSTNAME_MISMATCH or "hostname mismatch" in str(exc).lower():
            return SSL_INVALID_HOSTNAME
        if code in _UNKNOWN_ISSUER:
            return SSL_UNKNOWN_AUTHORITY
        return SSL_INVALID_CERTIFICATE
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return TIMEOUT
    if isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError, EOFError)):
        return EOF
    if isinstance(exc, ssl.SSLError):
        return SSL_FAILED_HANDSHAKE
    if isinstance(exc, OSError) and exc.errno in _ERRNO:
        return _ERRNO[exc.errno]
    if isinstance(exc, ConnectionResetError):
        return RESET
    if isinstance(exc, BrokenPipeError):
        return RESET         # a write into a connection the peer reset (EPIPE after a RST)
    return f"unknown_failure: {exc}"


# curl-like exit codes of lab.clients probes -> failure (their message refines it)
_PROBE_CODES = {6: DNS_NXDOMAIN, 7: REFUSED, 28: TIMEOUT, 35: SSL_FAILED_HANDSHAKE,
                56: "unknown_failure: bad answer", 60: SSL_UNKNOWN_AUTHORITY}


def of_probe(code: int, message: str) -> str:
    """The failure for a lab.clients probe's ProbeError (curl exit code and message)."""
    text = message.lower()
    if "reset" in text:
        return RESET
    if "unreachable" in text and "port unreachable" not in text:
        return NETWORK_UNREACHABLE if "network" in text else HOST_UNREACHABLE
    if code == 60 and "hostname" in text:
        return SSL_INVALID_HOSTNAME
    return _PROBE_CODES.get(code, f"unknown_failure: {message}")


# --- what a browser saw -------------------------------------------------------------------------
# Chromium's net errors (net/base/net_error_list.h; the tab's `net::ERR_...`, as
# lab/clients/browser.py reports them without the prefix) -> (OONI failure, OONI's
# failed_operation: the step that failed, where the error names it; a reset, an EOF or a
# timeout after the connect may come in the TLS handshake or the HTTP exchange, and Chromium's
# error does not say which: None). A dropped QUIC
# handshake ends in ERR_QUIC_PROTOCOL_ERROR (QUIC_HANDSHAKE_TIMEOUT in net-internals, ~4 s
# here): OONI's QUIC steps record that as generic_timeout_error in quic_handshake.
RESOLVE, CONNECT, TLS, QUIC = "resolve", "connect", "tls_handshake", "quic_handshake"
BROWSER_ERRORS = {
    "ERR_NAME_NOT_RESOLVED": (DNS_NXDOMAIN, RESOLVE),
    "ERR_NAME_RESOLUTION_FAILED": (DNS_MISBEHAVING, RESOLVE),
    "ERR_DNS_TIMED_OUT": (TIMEOUT, RESOLVE),
    "ERR_CONNECTION_REFUSED": (REFUSED, CONNECT),
    "ERR_CONNECTION_TIMED_OUT": (TIMEOUT, CONNECT),
    "ERR_ADDRESS_UNREACHABLE": (HOST_UNREACHABLE, CONNECT),
    "ERR_INTERNET_DISCONNECTED": (NETWORK_UNREACHABLE, CONNECT),
    "ERR_CONNECTION_RESET": (RESET, None),
    "ERR_CONNECTION_ABORTED": (ABORTED, None),
    "ERR_CONNECTION_CLOSED": (EOF, None),
    "ERR_EMPTY_RESPONSE": (EOF, None),
    "ERR_TIMED_OUT": (TIMEOUT, None),
    "ERR_CERT_AUTHORITY_INVALID": (SSL_UNKNOWN_AUTHORITY, TLS),
    "ERR_CERT_COMMON_NAME_INVALID": (SSL_INVALID_HOSTNAME, TLS),
    "ERR_SSL_PROTOCOL_ERROR": (SSL_FAILED_HANDSHAKE, TLS),
    "ERR_QUIC_PROTOCOL_ERROR": (TIMEOUT, QUIC),
    "ERR_QUIC_HANDSHAKE_FAILED": (TIMEOUT, QUIC),
}


def of_browser(error: str | None) -> tuple[str | None, str | None]:
    """(OONI failure, failed operation) for a browser's net error; (None, None) for none.
    Any other certificate error is ssl_invalid_certificate, any other SSL error a failed
    handshake; an error this table does not know is `unknown_failure: ERR_...`."""
    if not error:
        return None, None
    name = error.split("::", 1)[-1].strip()
    if name in BROWSER_ERRORS:
        return BROWSER_ERRORS[name]
    if name.startswith("ERR_CERT_"):
        return SSL_INVALID_CERTIFICATE, TLS
    if name.startswith(("ERR_SSL_", "ERR_BAD_SSL_")):
        return SSL_FAILED_HANDSHAKE, TLS
    return f"unknown_failure: {name}", None
