"""Teaching: the interactive shell, lessons, console commands and `explain`.
"""
