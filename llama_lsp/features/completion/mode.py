"""Decide whether a completion is one line or several."""

from llama_lsp.context.window import CursorWindow
from llama_lsp.features.completion.postprocess.context import CompletionMode

_CLOSERS_AND_PUNCTUATION = set(")]}\"'`;,:. \t")


def choose_mode(window: CursorWindow) -> CompletionMode:
    """Mid-line (text before the cursor, or real code after it) -> one line; else several."""
    if window.line_before.strip():
        return CompletionMode.SINGLE_LINE
    if any(char not in _CLOSERS_AND_PUNCTUATION for char in window.line_after):
        return CompletionMode.SINGLE_LINE
    return CompletionMode.MULTI_LINE
