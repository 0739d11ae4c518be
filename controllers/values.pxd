# C declarations for Cython alone (lab/run/compiled.py): the base of the per-packet value
# classes is an extension type, so theirs can be (dns.pxd, result.pxd, effects.pxd).

cdef class Value:
    pass
