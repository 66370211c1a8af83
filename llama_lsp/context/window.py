"""The cursor window: the text before and after the cursor that goes into a prompt."""

from __future__ import annotations

from dataclasses import dataclass

from llama_lsp.context.documents import DocumentSnapshot
from llama_lsp.context.positions import LineIndex, PositionEncoding
from llama_lsp.context.syntax.boundaries import enclosing_expression_end, starts_at_boundary

# The window's first line moves in steps of this many lines, so that while the user types,
# the start of the prompt (and with it the model's KV cache) stays the same.
WINDOW_START_QUANTUM = 16
# How far the window's edges move, at most, to reach a statement boundary.
BOUNDARY_SEARCH_LINES = 12


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


def window_first_line(line: int, prefix_lines: int) -> int:
    """The first line of the window of a cursor on ``line``, before its edge moves to a
    statement boundary (which moves it by a few lines at most): ``prefix_lines`` above the
    cursor, rounded up to a multiple of ``WINDOW_START_QUANTUM`` (never below the cursor)."""
    wanted = max(0, line - prefix_lines)
    return min(line, -(-wanted // WINDOW_START_QUANTUM) * WINDOW_START_QUANTUM)


def cursor_window(
    snapshot: DocumentSnapshot, offset: int, prefix_lines: int, suffix_lines: int
) -> CursorWindow:
    """Up to ``prefix_lines`` lines above the cursor (start quantised, see
    :func:`window_first_line`) and ``suffix_lines`` below.

    With a syntax tree, both edges move inwards (by at most ``BOUNDARY_SEARCH_LINES``) to
    statement boundaries, so the window never starts or ends inside a string, call or literal.
    """
    index = snapshot.index
    text = snapshot.text
    position_line = index.position_at(offset, PositionEncoding.UTF32).line
    first_line = window_first_line(position_line, prefix_lines)
    last_line = min(index.line_count - 1, position_line + suffix_lines)
    if snapshot.tree is not None:
        first_line = _first_boundary(snapshot, first_line, position_line)
        last_line = _last_boundary(snapshot, last_line, position_line)
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


def _is_boundary(snapshot: DocumentSnapshot, line: int) -> bool:
    """True when ``line`` (or, for a blank line, the next non-blank one) starts a statement."""
    index: LineIndex = snapshot.index
    limit = min(index.line_count, line + BOUNDARY_SEARCH_LINES)
    while line < limit and not index.line_text(line).strip():
        line += 1
    if line >= index.line_count:
        return True
    text = index.line_text(line)
    if not text.strip():
        return False
    column = len(text[:len(text) - len(text.lstrip())].encode("utf-8"))
    return starts_at_boundary(snapshot.tree, line, column)  # type: ignore[arg-type]


def _first_boundary(snapshot: DocumentSnapshot, first_line: int, cursor_line: int) -> int:
    """The first boundary line at or after ``first_line`` (before the cursor's line). When
    ``first_line`` is inside a string or expression longer than the search (a long
    docstring), the search goes on after its end."""
    if first_line == 0:
        return 0
    for line in range(first_line, min(cursor_line, first_line + BOUNDARY_SEARCH_LINES)):
        if _is_boundary(snapshot, line):
            return line
    text = snapshot.index.line_text(first_line)
    end = enclosing_expression_end(snapshot.tree, first_line,  # type: ignore[arg-type]
                                   len(text.encode("utf-8")) - len(text.lstrip().encode("utf-8")))
    if end is not None and first_line + BOUNDARY_SEARCH_LINES <= end + 1 < cursor_line:
        for line in range(end + 1, min(cursor_line, end + 1 + BOUNDARY_SEARCH_LINES)):
            if _is_boundary(snapshot, line):
                return line
    return first_line


def _last_boundary(snapshot: DocumentSnapshot, last_line: int, cursor_line: int) -> int:
    """The last line at or before ``last_line`` after which a boundary line follows."""
    if last_line + 1 >= snapshot.index.line_count:
        return last_line
    for line in range(last_line, max(cursor_line, last_line - BOUNDARY_SEARCH_LINES), -1):
        if _is_boundary(snapshot, line + 1):
            return line
    return last_line
