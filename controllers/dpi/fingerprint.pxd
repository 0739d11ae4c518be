# C declarations for Cython alone (lab/run/compiled.py): classify's calls to the module's own
# tests as C calls.

cpdef _is_dns(data, transport)
cpdef _is_openvpn(data, transport)
cpdef _is_wireguard(data)
cpdef _is_quic(data)
