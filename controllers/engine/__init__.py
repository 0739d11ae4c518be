"""The pure censor: policy in, packets in, effects out; per-flow state, actions, penalty
boxes, the event log and what a restart carries over.
"""
