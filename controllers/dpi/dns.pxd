# C declarations for Cython alone (lab/run/compiled.py): a DnsQuery, made for every query the
# censor reads, is an extension type whose fields its own code sets without a lookup and
# Python code can only read. The fields are DnsQuery.__slots__ in dns.py (all Python objects;
# tests/unit/test_compiled.py checks the two agree).

from controllers.values cimport Value

cdef class DnsQuery(Value):
    cdef readonly object id, flags, qname, qtype, qclass, question_end

# The name reader's offsets and lengths as C integers, and the module's own calls to its
# helpers as C calls (their arguments are always these types: parse_query and
# build_response make the message bytes first).
import cython

@cython.locals(size=Py_ssize_t, end=Py_ssize_t, segment_start=Py_ssize_t, n=Py_ssize_t,
               length=Py_ssize_t, target=Py_ssize_t)
cpdef tuple _read_name(bytes msg, Py_ssize_t pos)

@cython.locals(n=Py_ssize_t)
cpdef tuple _parse(bytes msg)
