# C declarations for Cython alone (lab/run/compiled.py): an Output, made for nearly every
# packet-in, is an extension type whose fields its own code sets without a lookup and Python
# code can only read. The fields are Output.__slots__ in effects.py (all Python objects;
# tests/unit/test_compiled.py checks the two agree).

from controllers.values cimport Value

cdef class Output(Value):
    cdef readonly object frame, in_port, out_port, commit
