"""Tree-sitter syntax: the language registry and incremental parsing."""
