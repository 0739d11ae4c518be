"""The censor's OpenFlow side: the os-ken app, the switch connection's reader, the wire
packing of hot-path messages, offload completion and the control socket.
"""
