# C declarations for Cython alone (lab/run/compiled.py): the module's calls to its own helpers
# as C calls.

cpdef _attributes_fit(data, end)
cpdef _prefix_ok(data)
cpdef parse(data)
