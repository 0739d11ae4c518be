# C declarations for Cython alone (lab/run/compiled.py): a Packet, made for every packet-in,
# is an extension type whose attributes its own code sets without a lookup. The attributes
# are Packet.__slots__ in packets.py, all Python objects (tests/unit/test_compiled.py checks
# the two agree); Python code sees no difference.

cdef class Packet:
    cdef public object frame, eth_dst, eth_src, ip_off, ip_len, ihl, ttl, proto, src, dst
    cdef public object fragment, first_fragment, sport, dport, seq, ack, flags, window
    cdef public object payload, icmp_type, icmp_code, family

# The parse as C: the new Packet's fields stored straight into it, the header's lengths and
# offsets as C integers, parse_transport a C call from parse_frame (and a Python function
# for packets6 and the rest).
import cython

@cython.locals(p=Packet, ihl=Py_ssize_t, total=Py_ssize_t, frag=Py_ssize_t, offset=Py_ssize_t)
cpdef parse_frame(frame)

@cython.locals(proto=Py_ssize_t, doff=Py_ssize_t, ulen=Py_ssize_t)
cpdef parse_transport(Packet p, frame, Py_ssize_t start, Py_ssize_t end, bint more)
