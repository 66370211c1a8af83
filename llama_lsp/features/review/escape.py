"""Names and messages made safe to print in CI logs and terminals.

File names come from the change under review and messages from the model, so either may hold
newlines, terminal escapes, bidirectional overrides or text a CI runner reads as a command:
GitHub runs ``::command::`` at the start of a line (after blanks) and the older ``##[command]``
anywhere in one. Every output format passes what it prints through these functions.
"""

from __future__ import annotations

import json
import unicodedata

_UNSAFE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
"""Controls, format characters (bidi overrides, zero-width), line and paragraph separators,
lone surrogates."""


def _unsafe(char: str) -> bool:
    return unicodedata.category(char) in _UNSAFE


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 \
        else f"\\U{code:08x}"


def printable(text: str) -> str:
    """``text`` with every control, format and separator character written as a visible escape
    (``\\x1b``, ``\\u202e``), and ``##[`` broken up as ``##\\[``: one line, no runner command
    inside it."""
    if text.isascii() and text.isprintable() and "##[" not in text:
        return text
    out = "".join(_escape(char) if _unsafe(char) else char for char in text)
    return out.replace("##[", "##\\[")


def line_start(text: str) -> str:
    """:func:`printable` ``text`` for the start of a line: ``./`` goes before text that would
    open a ``::`` workflow command (or any text starting with blanks or ``:``)."""
    text = printable(text)
    if text[:1].isspace() or text.startswith(":"):
        return "./" + text
    return text


def json_text(document: object, indent: int | None = 2) -> str:
    """``document`` as JSON in which no string holds a raw control, format or separator
    character (all become ``\\uXXXX``) nor ``##[``; the decoded values are unchanged."""
    text = json.dumps(document, indent=indent, ensure_ascii=False)
    if not text.isascii() or "##[" in text:
        text = "".join(_json_escape(char) if ord(char) >= 0x7F and _unsafe(char) else char
                       for char in text)
        text = text.replace("##[", "##\\u005b")
    return text


def _json_escape(char: str) -> str:
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
