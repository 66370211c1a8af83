"""The protocol layer: translates LSP messages into calls into features. Only this imports pygls."""
