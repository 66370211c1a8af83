"""Conversions between LSP positions (line + code units) and string offsets.

LSP counts characters in the negotiated position encoding: UTF-16 code units by default,
UTF-8 bytes or UTF-32 code points when both sides agree. Python strings index code points.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from enum import Enum

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class PositionEncoding(str, Enum):
    """The position encodings LSP 3.17 defines."""

    UTF8 = "utf-8"
    UTF16 = "utf-16"
    UTF32 = "utf-32"


class PositionError(ValueError):
    """A position that does not exist in the document."""


@dataclass(frozen=True)
class Position:
    """A zero-based line and a column in code units of some encoding."""

    line: int
    character: int


def line_starts(text: str) -> list[int]:
    """Offsets at which each line of ``text`` starts (``\\n``, ``\\r\\n`` and ``\\r`` end lines)."""
    return [0, *(match.end() for match in _LINE_BREAK.finditer(text))]


def units_in(text: str, encoding: PositionEncoding) -> int:
    """Length of ``text`` in code units of ``encoding``."""
    if encoding is PositionEncoding.UTF32 or text.isascii():
        return len(text)
    if encoding is PositionEncoding.UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _code_points_for_units(line: str, units: int, encoding: PositionEncoding) -> int:
    """Number of code points of ``line`` covered by ``units`` code units (clamped to the line)."""
    if encoding is PositionEncoding.UTF32 or line.isascii():
        return min(units, len(line))
    consumed = 0
    for index, ch in enumerate(line):
        if consumed >= units:
            return index
        code_point = ord(ch)
        if encoding is PositionEncoding.UTF16:
            consumed += 2 if code_point > 0xFFFF else 1
        else:
            consumed += len(ch.encode("utf-8", "surrogatepass"))
        if consumed > units:
            # The position splits a character: LSP says to round down.
            return index
    return len(line)


class LineIndex:
    """Maps positions to offsets and back for one immutable text."""

    def __init__(self, text: str, starts: list[int] | None = None) -> None:
        self.text = text
        self.starts = line_starts(text) if starts is None else starts

    def edited(self, start: int, end: int, inserted: str) -> LineIndex:
        """The index of this text with ``[start, end)`` replaced by ``inserted``.

        Only the line starts around the edit are recomputed; the rest are shifted.
        """
        text = self.text[:start] + inserted + self.text[end:]
        near_cr = "\r" in inserted or "\r" in self.text[max(0, start - 1):end + 1]
        if near_cr:  # a "\r\n" may be split or joined at the boundary: recompute all
            return LineIndex(text)
        starts = self.starts
        keep = bisect.bisect_right(starts, start)
        shift_from = bisect.bisect_right(starts, end, lo=keep)
        delta = len(inserted) - (end - start)
        inserted_starts = [start + match.end() for match in _LINE_BREAK.finditer(inserted)]
        shifted = [value + delta for value in starts[shift_from:]] if delta else \
            starts[shift_from:]
        return LineIndex(text, starts[:keep] + inserted_starts + shifted)

    @property
    def line_count(self) -> int:
        """Number of lines (an empty text has one empty line)."""
        return len(self.starts)

    def line_text(self, line: int) -> str:
        """Text of ``line`` without its line break."""
        start = self.starts[line]
        end = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def offset_at(self, position: Position, encoding: PositionEncoding) -> int:
        """Code-point offset for ``position``.

        A character past the end of its line means the end of the line (as LSP specifies);
        a line past the end of the document raises :class:`PositionError`.
        """
        if position.line < 0 or position.character < 0:
            raise PositionError(f"negative position {position.line}:{position.character}")
        if position.line >= self.line_count:
            raise PositionError(
                f"line {position.line} is past the end of the document ({self.line_count} lines)"
            )
        line = self.line_text(position.line)
        return self.starts[position.line] + _code_points_for_units(
            line, position.character, encoding
        )

    def position_at(self, offset: int, encoding: PositionEncoding) -> Position:
        """Position of the code-point ``offset`` (clamped to the text)."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        start = self.starts[line]
        return Position(line, units_in(self.text[start:offset], encoding))
