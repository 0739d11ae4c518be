# C declarations for Cython alone (lab/run/compiled.py): a Parsed, made for every answer of a
# parser, is an extension type whose fields its own code sets without a lookup and Python
# code can only read. The fields are Parsed.__slots__ in result.py (all Python objects;
# tests/unit/test_compiled.py checks the two agree).

from controllers.values cimport Value

cdef class Parsed(Value):
    cdef readonly object status, value
