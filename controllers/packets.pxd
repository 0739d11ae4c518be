# C declarations for Cython alone (lab/run/compiled.py): a Packet, made for every packet-in,
# is an extension type whose attributes its own code sets without a lookup. The attributes
# are Packet.__slots__ in packets.py, all Python objects (tests/unit/test_compiled.py checks
# the two agree); Python code sees no difference.

cdef class Packet:
    cdef public object frame, eth_dst, eth_src, ip_off, ip_len, ihl, ttl, proto, src, dst
    cdef public object fragment, first_fragment, sport, dport, seq, ack, flags, window
    cdef public object payload, icmp_type, icmp_code, family
