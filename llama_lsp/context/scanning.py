"""The one quote- and bracket-aware scanner: code versus string literals and line comments.

Rough and line-based, for text that may not parse (a line being typed, a model's answer):
literals and line comments end at the end of their line (a stray apostrophe in a comment must
not swallow the rest of a completion); a backslash escapes the next character in a literal.
Python comments start with ``#``, the others with ``//``; Rust lifetimes (``'a``) are code,
not char literals.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

QUOTES = "\"'`"
COMMENT = "comment"
OPENERS = "([{"
CLOSERS = ")]}"
_PAIRS = dict(zip(CLOSERS, OPENERS))
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


def brackets(text: str, language_id: str) -> Iterator[tuple[int, str, int]]:
    """``(position, bracket, depth after it)`` of each bracket in code, in order.

    The depth counts every kind of bracket together; a closer at depth 0 goes below 0.
    """
    depth = 0
    for position, char, is_code, _ in walk(text, language_id):
        if not is_code:
            continue
        if char in OPENERS:
            depth += 1
            yield position, char, depth
        elif char in CLOSERS:
            depth -= 1
            yield position, char, depth


def closing(text: str, language_id: str) -> str:
    """What closes, innermost first, the literal (or line comment) and the brackets left open
    at the end of ``text``: ``f(a, [b, "c`` gives ``"])``."""
    stack: list[str] = []
    for _, bracket, _ in brackets(text, language_id):
        if bracket in OPENERS:
            stack.append(bracket)
        elif stack and stack[-1] == _PAIRS[bracket]:
            stack.pop()
    state = state_at_end(text, language_id)
    ends = "\n" if state == COMMENT else state or ""
    if state not in (None, COMMENT) and (len(text) - len(text.rstrip("\\"))) % 2:
        ends = " " + ends  # the last backslash would escape the closing quote
    return ends + "".join(CLOSERS[OPENERS.index(opener)] for opener in reversed(stack))
