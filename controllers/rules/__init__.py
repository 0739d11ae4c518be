"""The rule vocabulary and everything that turns a rule into a decision: checks, the rule
set in force, compiled matches, name patterns, inspection facts.
"""
