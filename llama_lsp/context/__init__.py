"""The context engine: documents, tree-sitter syntax and prompt context."""
