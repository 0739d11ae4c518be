"""The ground truth read back: the censor's events attributed to targets, what a client
saw next to it, and the live timeline.
"""
