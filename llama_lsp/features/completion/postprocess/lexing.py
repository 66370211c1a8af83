"""A rough, line-based lexer for the filters: code versus string literals and line comments.

Literals and line comments end at the end of their line (a stray apostrophe in a comment must
not swallow the rest of a completion). Rust lifetimes (``'a``) are code, not char literals.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

QUOTES = "\"'`"
COMMENT = "comment"
_RUST_CHAR_LITERAL = re.compile(r"'(?:\\[^'\n]*|[^'\\\n])'")


def walk(
    text: str, language_id: str, state: str | None = None
) -> Iterator[tuple[int, str, bool, str | None]]:
    """``(position, char, is_code, state_after)`` for each character of ``text``.

    ``is_code`` is False inside literals (quotes included) and comments; ``state_after`` is None
    in code, the quote character inside a literal, or ``COMMENT``. ``state`` is the state
    ``text`` starts in.
    """
    comment = "#" if language_id == "python" else "//"
    escaped = False
    for position, char in enumerate(text):
        if char == "\n":
            state, escaped = None, False
            yield position, char, True, state
        elif state == COMMENT:
            yield position, char, False, state
        elif state is not None:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == state:
                state = None
            yield position, char, False, state
        elif text.startswith(comment, position):
            state = COMMENT
            yield position, char, False, state
        elif char in QUOTES and not (
            char == "'" and language_id == "rust" and not _RUST_CHAR_LITERAL.match(text, position)
        ):
            state = char
            yield position, char, False, state
        else:
            yield position, char, True, state


def state_at_end(text: str, language_id: str) -> str | None:
    """The literal quote (or ``COMMENT``) still open at the end of ``text``, else None."""
    state = None
    for _, _, _, state in walk(text, language_id):
        pass
    return state
