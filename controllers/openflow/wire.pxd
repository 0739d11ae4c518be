# C declarations for Cython alone (lab/run/compiled.py): a packet-in's match read with C
# integers for its offsets and lengths (the cookie, 64 bits unsigned, stays a Python int).
import cython

@cython.locals(pos=Py_ssize_t, end=Py_ssize_t, head=Py_ssize_t, match_len=Py_ssize_t,
               start=Py_ssize_t, total_len=Py_ssize_t)
cpdef packet_in_fields(buf, Py_ssize_t offset=*)
