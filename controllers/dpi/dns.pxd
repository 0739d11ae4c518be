# C declarations for Cython alone (lab/run/compiled.py): a DnsQuery, made for every query the
# censor reads, is an extension type whose fields its own code sets without a lookup and
# Python code can only read. The fields are DnsQuery.__slots__ in dns.py (all Python objects;
# tests/unit/test_compiled.py checks the two agree).

cdef class DnsQuery:
    cdef readonly object id, flags, qname, qtype, qclass, question_end
