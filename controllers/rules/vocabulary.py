"""The rule vocabulary: every word a censor rule is written in, and what each word needs.

Owns the names, and only the names, of what docs/internals.md section 1 calls a rule: its
keys and modifiers, its match keys (header and content, which transport each implies, which
parser answers each), the values of `proto` and `protocol`, the actions (their parameters,
which answer DNS, which need the flow's data, which a tap cannot carry out) and the censor's
modes. Plain data: the censor (controllers.rules.checks, .matching, .inspect, .facts,
.ruleset, controllers.engine.actions) and the scenario compiler (lab/scenario, and lab's
readers of events) import these tables instead of listing the words again. The scenario
JSON Schema (lab/scenario/schema.json) stays a file for editors; a unit test
(tests/unit/scenario/test_vocabulary.py) fails when its enums and these tables differ.

What a word *means* (how a key matches, what an action does) stays with the code that does
it; this module only says which words there are.
"""
from __future__ import annotations

# -- a rule -------------------------------------------------------------------------------

# The keys of one rule (scenario `rules:` entries and the normalised form alike).
RULE_KEYS = ("id", "match", "action", "residual", "residual_scope", "residual_spare",
             "probability", "per", "enabled")

# Values of a rule's `residual_scope`: what its penalty box holds, the client's flows to the
# server's port that triggered it (the 3-tuple) or to the whole server (every protocol and
# port but the TCP ports of `residual_spare`; Russia 2025, net4people/bbs#490).
RESIDUAL_SCOPES = ("port", "server")

# Values of a rule's `per`: whose share a throttle's rate is, one flow's or the whole rule's.
PER_VALUES = ("flow", "rule")

# The censor's modes: inline (in the path: it can hold and drop) or tap (copies only).
MODES = ("inline", "tap")

# -- match keys ---------------------------------------------------------------------------

# Keys read from a flow's headers, in the order an event names the one that decided.
HEADER_KEYS = ("server", "ip", "port", "proto", "sport_above_dport", "family")

# Keys read from a flow's first data (one fact each, controllers.rules.facts), in the order
# they are tested and an event names the one that decided.
CONTENT_KEYS = ("dns", "sni", "quic_sni", "host", "path", "protocol", "tls_ext", "quic_ext")

# Every key of a `match:` mapping, in the order the schema documents them; `not` holds a
# nested match.
MATCH_KEYS = ("server", "ip", "proto", "port", "dns", "sni", "quic_sni", "host", "path",
              "protocol", "tls_ext", "quic_ext", "sport_above_dport", "family", "not")

# Content keys whose values are TLS extension type numbers (in a TCP ClientHello, or in the
# one inside QUIC v1 Initials).
EXT_KEYS = ("tls_ext", "quic_ext")

# Content keys whose values are name patterns (globs over a DNS, TLS, QUIC or HTTP name),
# compared in lower case.
NAME_KEYS = ("dns", "sni", "quic_sni", "host")

# Content key -> the parser (controllers.dpi module) that answers it.
KEY_PARSERS = {"dns": "dns", "sni": "tls", "tls_ext": "tls", "quic_sni": "quic", "quic_ext": "quic",
               "host": "http", "path": "http", "protocol": "fingerprint"}
TLS_KEYS = frozenset(k for k, p in KEY_PARSERS.items() if p == "tls")
HTTP_KEYS = frozenset(k for k, p in KEY_PARSERS.items() if p == "http")

# -- transports ---------------------------------------------------------------------------

# Values of the `proto` key (`icmp` is ICMPv6 on IPv6).
PROTOS = ("tcp", "udp", "icmp")

# Values of the `family` key, and of an event flow's "family".
FAMILIES = ("ipv4", "ipv6")

# Key -> the transports a flow must use for the key to hold at all (`dns` is DNS over UDP or
# TCP, on port 53 unless `port` says otherwise).
KEY_TRANSPORTS = {"dns": ("tcp", "udp"), "sni": ("tcp",), "quic_sni": ("udp",),
                  "host": ("tcp",), "path": ("tcp",), "protocol": ("tcp", "udp"),
                  "tls_ext": ("tcp",), "quic_ext": ("udp",), "port": ("tcp", "udp")}
# Keys that hold for TCP flows only.
TCP_ONLY_KEYS = frozenset(k for k, t in KEY_TRANSPORTS.items() if t == ("tcp",))

# -- protocol fingerprints ----------------------------------------------------------------

# Values of the `protocol` key: what controllers.dpi.fingerprint names a first payload.
FINGERPRINTS = ("dns", "stun", "quic", "tls", "http", "ssh", "openvpn", "wireguard",
                "fully-encrypted")
# Fingerprints that make a `protocol` match a TCP one, for `reset` (lab/scenario/rules.py).
TCP_FINGERPRINTS = frozenset(("dns", "tls", "http", "ssh", "openvpn", "fully-encrypted"))

# -- actions ------------------------------------------------------------------------------

# Every action, as the normalised form's `type` and in the order messages list them.
ACTIONS = ("drop", "drop_reply", "reject", "reset", "rst_handshake", "ban_after", "nxdomain",
           "servfail", "refused", "forge", "inject", "blockpage", "throttle", "cut_after",
           "intercept", "allow")

# Action -> the parameters of its normalised form {"type": T, ...}; the others have none.
# A scenario writes these actions as a mapping {T: value} (blockpage: {status, body}).
ACTION_PARAMETERS = {"forge": ("ip", "ip6"), "inject": ("ip", "ip6"), "blockpage": ("status", "body"),
                     "throttle": ("rate_bps",), "cut_after": ("bytes",),
                     "rst_handshake": ("count",), "ban_after": ("packets",),
                     "intercept": ("via",)}
# Actions whose parameters all have defaults.
DEFAULTED_ACTIONS = frozenset(("blockpage", "rst_handshake"))
# Actions a scenario may write as a bare word.
BARE_ACTIONS = tuple(a for a in ACTIONS
                     if a not in ACTION_PARAMETERS or a in DEFAULTED_ACTIONS)

# Actions that answer a DNS query, so their match needs a `dns` key.
DNS_ANSWERS = ("nxdomain", "servfail", "refused", "forge", "inject")
# Actions that let a flow through but slow or cut its bytes.
SHAPING_ACTIONS = ("throttle", "cut_after")
# Actions under which a flow's packets still pass the censor.
PASSING_ACTIONS = ("allow",) + SHAPING_ACTIONS
# Actions that answer or end a TCP flow's first data, so they wait for it.
DATA_ACTIONS = frozenset(("reset", "blockpage") + DNS_ANSWERS)
# Actions on the TCP handshake itself, before any data: their match is read from headers.
HANDSHAKE_ACTIONS = ("rst_handshake", "intercept")
# Actions that count matching packets per client and server address and act past a number
# (controllers.engine.bans): every packet is decided on its own, from headers only.
COUNTING_ACTIONS = ("ban_after",)
# Inline-only action -> what a tap (copies only, it can only inject) does instead.
TAP_ACTS_AS = {"intercept": "allow", "drop": "allow", "drop_reply": "allow", "throttle": "allow",
               "cut_after": "allow", "ban_after": "allow", "forge": "inject"}

# -- the DPI profile ----------------------------------------------------------------------

# The keys of a censor's DPI profile (`censor: {dpi: {...}}`, the compiled policy's "dpi"),
# in the order docs/scenarios.md documents them (`profile`: the named profile the others
# change, in a scenario only); what each means: controllers.dpi.profile.
DPI_KEYS = ("profile", "checksums", "sequence", "ttl_check", "overlap", "state", "teardown",
            "resync", "inspect_packets", "inspect_bytes", "reassembly")
# Which copy of bytes sent twice the DPI believes.
OVERLAP_VALUES = ("first", "last")
# When the DPI creates a flow's state: on its handshake only, or on any packet.
STATE_VALUES = ("any", "syn")
# What makes the DPI forget an undecided flow.
TEARDOWN_VALUES = ("client_rst", "server_rst", "fin")
# The named profiles (what each is, and the measurements it reproduces:
# controllers.dpi.profile.NAMED).
DPI_PROFILES = ("default", "naive", "hardened", "gfw-2019", "kazakhstan-2019")
