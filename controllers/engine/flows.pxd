# C declarations for Cython alone (lab/run/compiled.py): a Flow, made for every new flow, is an
# extension type whose attributes its own code sets without a lookup. The attributes are
# Flow.__slots__ in flows.py, all Python objects (tests/unit/test_compiled.py checks the two
# agree); Python code sees no difference.

cdef class Flow:
    cdef public object key, proto, c_ip, c_n, c_port, s_ip, s_n, s_port
    cdef public object c_mac, s_mac, c_in_port, state, verdict, rule_id, facts
    cdef public object stream, data_packets, packets, held, held_since, client_ack
    cdef public object client_end, choices, meters, cut_limit, cut_count, created
    cdef public object last_seen, lifetime, quic, record, undelivered, actions
    cdef public object candidates, tcb
