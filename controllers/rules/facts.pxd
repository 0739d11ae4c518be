# C declarations for Cython alone (lab/run/compiled.py): a flow's Facts, made for every new
# flow, are an extension type whose attributes their own code sets without a lookup. The
# attributes are Facts.__slots__ in facts.py, all Python objects (tests/unit/test_compiled.py
# checks the two agree); Python code sees no difference.

cdef class Facts:
    cdef public object dns, sni, quic_sni, host, path, protocol, tls_ext, quic_ext
    cdef public object dns_query, dns_msg, dns_tcp, alpn
