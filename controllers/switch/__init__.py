"""The switch's table 0: layout, steering of packets up to the censor, and the proactive
entries installed before any packet.
"""
