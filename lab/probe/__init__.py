"""blocklab's prober: OONI Web Connectivity's steps run in lab hosts, scored against the censor.
"""
