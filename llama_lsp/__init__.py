"""llama-lsp: an offline code assistant language server backed by a local GGUF model."""

__version__ = "0.1.0"
