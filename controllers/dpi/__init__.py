"""Protocol parsers: one module per protocol, pure functions over bytes, no I/O."""
