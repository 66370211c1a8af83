"""Completion: one pipeline behind both inline (ghost text) and list completions."""
