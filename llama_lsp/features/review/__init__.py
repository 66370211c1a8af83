"""Headless code review of a diff: parse, skip, build units, ask the model, filter, render."""
