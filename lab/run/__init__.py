"""One lab run: the network, the censor process, host files, the CA, the run directory,
processes, waits, progress and clean-up.
"""
