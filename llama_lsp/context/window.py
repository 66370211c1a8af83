"""The cursor window: the text before and after the cursor that goes into a prompt."""

from __future__ import annotations

from dataclasses import dataclass

from llama_lsp.context.documents import DocumentSnapshot
from llama_lsp.context.positions import PositionEncoding

# The window's first line moves in steps of this many lines, so that while the user types,
# the start of the prompt (and with it the model's KV cache) stays the same.
WINDOW_START_QUANTUM = 16


@dataclass(frozen=True)
class CursorWindow:
    """Prefix and suffix around a cursor, cut at line boundaries."""

    prefix: str
    suffix: str
    line_before: str
    """Text of the cursor's line before the cursor."""
    line_after: str
    """Text of the cursor's line after the cursor (without the line break)."""
    first_line: int


def cursor_window(
    snapshot: DocumentSnapshot, offset: int, prefix_lines: int, suffix_lines: int
) -> CursorWindow:
    """Up to ``prefix_lines`` lines above the cursor (start quantised) and ``suffix_lines`` below."""
    index = snapshot.index
    text = snapshot.text
    position_line = index.position_at(offset, PositionEncoding.UTF32).line
    wanted = max(0, position_line - prefix_lines)
    first_line = (wanted + WINDOW_START_QUANTUM - 1) // WINDOW_START_QUANTUM * WINDOW_START_QUANTUM
    first_line = min(first_line, position_line)
    last_line = min(index.line_count - 1, position_line + suffix_lines)
    end = index.starts[last_line + 1] if last_line + 1 < index.line_count else len(text)
    line_start = index.starts[position_line]
    line_text = index.line_text(position_line)
    return CursorWindow(
        prefix=text[index.starts[first_line]:offset],
        suffix=text[offset:end],
        line_before=text[line_start:offset],
        line_after=line_text[offset - line_start:],
        first_line=first_line,
    )
