"""Resolved settings: a leaf package that every layer may import."""

from llama_lsp.config.settings import OPTIONS, Option, Settings, resolve_settings

__all__ = ["OPTIONS", "Option", "Settings", "resolve_settings"]
