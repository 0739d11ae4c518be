"""The lab's private Tor network (plan, keys, torrc files, the network's start and ready check)."""
