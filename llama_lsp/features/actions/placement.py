"""Where a rendered doc goes and how it is indented: the text edit that puts it there."""

from __future__ import annotations

import re
from dataclasses import dataclass

from llama_lsp.features.actions.analysis import Target


@dataclass(frozen=True)
class Edit:
    """Replace ``[start, end)`` (code-point offsets into the snapshot text) by ``new_text``."""

    start: int
    end: int
    new_text: str

    def apply(self, text: str) -> str:
        """``text`` with this edit made."""
        return text[:self.start] + self.new_text + text[self.end:]


@dataclass(frozen=True)
class ByteEdit:
    """An edit in UTF-8 byte offsets (tree-sitter's unit)."""

    start: int
    end: int
    new_text: str

    def to_text(self, source: bytes) -> Edit:
        """The same edit in code points of the decoded source."""
        start = len(source[:self.start].decode("utf-8", "surrogatepass"))
        middle = len(source[self.start:self.end].decode("utf-8", "surrogatepass"))
        return Edit(start, start + middle, self.new_text)


def line_ending(text: str) -> str:
    """The file's line ending: ``\\r\\n`` when it uses any, else ``\\n``."""
    return "\r\n" if "\r\n" in text else "\n"


def string_prefix(source: bytes, doc_range: tuple[int, int]) -> str:
    """The prefix letters (r, u) of an existing Python string literal, without f/b."""
    literal = source[doc_range[0]:doc_range[1]].decode("utf-8", "replace")
    match = re.match(r"[A-Za-z]*", literal)
    return "".join(c for c in (match.group(0) if match else "") if c in "rRuU")


def _join(lines: list[str], indent: str, eol: str) -> str:
    """Lines joined by ``eol``, every line after the first indented (blank lines stay blank)."""
    return eol.join([lines[0], *[indent + line if line else "" for line in lines[1:]]])


def place_python(source: bytes, target: Target, lines: list[str], eol: str, unit: str) -> ByteEdit:
    """Replace the docstring, or make the doc the first statement of the body."""
    definition = target.definition
    if target.doc_node_range is not None:
        indent = target.body_indent if target.body_indent is not None else target.indent + unit
        start, end = target.doc_node_range
        return ByteEdit(start, end, _join(lines, indent, eol))
    body_start = definition.body_start_byte
    assert body_start is not None
    if target.body_indent is not None:
        return ByteEdit(body_start, body_start, _join(lines, target.body_indent, eol) + eol
                        + target.body_indent)
    # One-line definition (`def f(): return 1`): the body moves to its own line.
    indent = target.indent + unit
    gap_start = body_start
    while gap_start > 0 and source[gap_start - 1:gap_start] in (b" ", b"\t"):
        gap_start -= 1
    return ByteEdit(gap_start, body_start,
                    eol + indent + _join(lines, indent, eol) + eol + indent)


def place_above(source: bytes, target: Target, lines: list[str], eol: str) -> ByteEdit:
    """Replace the doc comment, or insert the doc directly above the declaration (above its
    decorators, attributes and annotations, so they stay attached to the declaration)."""
    indent = target.indent
    if target.doc_node_range is not None:
        start, end = target.doc_node_range
        return ByteEdit(start, end, _join(lines, indent, eol))
    start = target.insert_byte
    line_start = source.rfind(b"\n", 0, start) + 1
    if source[line_start:start].strip():
        return ByteEdit(start, start, _join(lines, indent, eol) + eol + indent)
    return ByteEdit(line_start, line_start, "".join(indent + line + eol for line in lines))


def place(source: bytes, text: str, target: Target, lines: list[str], unit: str) -> Edit:
    """The edit that writes ``lines`` as ``target``'s doc, in the file's line ending."""
    eol = line_ending(text)
    if target.language_id == "python":
        edit = place_python(source, target, lines, eol, unit)
    else:
        edit = place_above(source, target, lines, eol)
    return edit.to_text(source)
