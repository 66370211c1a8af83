"""Code actions: docstrings (generate and update in place), fixes and implementations."""
