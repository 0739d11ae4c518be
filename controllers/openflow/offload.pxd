# C declarations for Cython alone (lab/run/compiled.py): the module's calls to its own helpers
# as C calls, and a frame's header lengths and offsets as C integers.
import cython

cpdef pseudo_sum(ip_header, proto, length)
cpdef is_partial(ip_header, proto, segment, offset)
cpdef _completed(segment, proto)
cpdef _complete(frame, proto, l4, end, offset)

@cython.locals(ihl=Py_ssize_t, total=Py_ssize_t, frag=Py_ssize_t, l4=Py_ssize_t,
               end=Py_ssize_t, doff=Py_ssize_t, unset=bint)
cpdef for_the_wire(frame, mtu=*)
