"""The call being written at the cursor: the callee's name and, for Python, what it accepts.

``called_names`` and ``call_at_cursor`` read the cursor's line; ``python_parameters`` reads a
definition's signature. Context shows the called names' definitions; with the parameters,
completions drop arguments that the callee cannot take.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node, Tree

from llama_lsp.context.syntax.outline import Definition
from llama_lsp.context.workspace import FileOutline

_NAME_BEFORE_PAREN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*$")
_DEFINING = re.compile(r"(?:^|[\s;])(?:def|class)\s+$")
_CLOSING = {")": "(", "]": "[", "}": "{"}
_PARAMETER_NAME = re.compile(r"\*{0,2}([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class CallAtCursor:
    """The innermost call left open before the cursor on its line."""

    name: str
    arguments: str
    """What the line has after the call's ``(``, up to the cursor."""
    plain: bool
    """Called by bare name (``f(``), not as an attribute (``x.f(``)."""


@dataclass(frozen=True)
class Parameters:
    """What a Python callee accepts (``self``/``cls`` of a method or class left out)."""

    positional: tuple[str, ...]
    """Names that may be passed by position, in order."""
    keyword: frozenset[str]
    """Names that may be passed by keyword."""
    var_positional: bool
    var_keyword: bool


def call_at_cursor(line_before: str) -> CallAtCursor | None:
    """The innermost call left open before the cursor on its line, or None.

    ``x = lib.scale(a, [b, `` gives ``scale``; brackets closed before the cursor are skipped.
    Keywords (``if (``) come back too: they simply have no definition to find.
    """
    depth = 0
    for at in range(len(line_before) - 1, -1, -1):
        character = line_before[at]
        if character in _CLOSING:
            depth += 1
        elif character in "([{":
            if depth:
                depth -= 1
            elif character == "(":
                match = _NAME_BEFORE_PAREN.search(line_before, 0, at)
                if match is None or _DEFINING.search(line_before, 0, match.start()):
                    return None  # `def f(` / `class C(` is not a call
                plain = not line_before[:match.start()].rstrip().endswith(".")
                return CallAtCursor(match.group(1), line_before[at + 1:], plain)
    return None


_CALLED = re.compile(r"(?<![A-Za-z0-9_])(?<!def )(?<!class )([A-Za-z_][A-Za-z0-9_]*)\s*\(")
# A line with more calls than this shows the definitions of its first ones.
MAX_CALLED_NAMES = 4


def called_names(line_before: str) -> list[str]:
    """Names called on the cursor's line before the cursor, open or closed, in line order.

    ``x = a.f(g(1), `` gives ``["f", "g"]``. Typing only ever appends to the list (closing a
    call keeps its name), so context built from it changes only at its end.
    """
    names = dict.fromkeys(match.group(1) for match in _CALLED.finditer(line_before))
    return list(names)[:MAX_CALLED_NAMES]


def _code_characters(text: str, start: int = 0) -> Iterator[tuple[int, str, int]]:
    """(position, character, bracket depth after it) of each character outside strings."""
    depth = 0
    quote = ""
    for at in range(start, len(text)):
        character = text[at]
        if quote:
            quote = "" if character == quote else quote
            continue
        if character in "\"'":
            quote = character
            continue
        depth += 1 if character in "([{" else -1 if character in ")]}" else 0
        yield at, character, depth


def _split_top_level(text: str) -> list[str]:
    """``text`` split at the commas outside brackets and strings, parts stripped."""
    parts: list[str] = []
    start = 0
    for at, character, depth in _code_characters(text):
        if character == "," and depth == 0:
            parts.append(text[start:at])
            start = at + 1
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


def _closing_bracket(text: str, opened: int) -> int:
    """Where the bracket opened at ``opened`` closes (strings skipped), or -1."""
    return next((at for at, character, depth in _code_characters(text, opened)
                 if depth == 0 and character in ")]}"), -1)


def python_parameters(signature: str, bound_first: bool) -> Parameters | None:
    """What ``def name(...)`` accepts; ``bound_first`` drops the first (``self``/``cls``).

    None when the signature cannot be read.
    """
    opened = signature.find("(")
    closed = _closing_bracket(signature, opened) if opened >= 0 else -1
    if closed < 0 or re.search(r"\blambda\b", signature[opened:closed]):
        return None  # unreadable, or a default's lambda whose commas would split it
    positional: list[str] = []
    keyword: set[str] = set()
    var_positional = var_keyword = keyword_only = False
    parts = _split_top_level(signature[opened + 1:closed])
    if bound_first and parts and not parts[0].startswith("*"):
        parts = parts[1:]
    for part in parts:
        if part == "/":
            keyword.clear()  # the names so far are positional-only
            continue
        if part == "*":
            keyword_only = True
            continue
        match = _PARAMETER_NAME.match(part)
        if match is None:
            return None
        name = match.group(1)
        if part.startswith("**"):
            var_keyword = True
        elif part.startswith("*"):
            var_positional = keyword_only = True
        elif keyword_only:
            keyword.add(name)
        else:
            positional.append(name)
            keyword.add(name)
    return Parameters(tuple(positional), frozenset(keyword), var_positional, var_keyword)


def parameters_of(definition: Definition, file: FileOutline) -> Parameters | None:
    """What a top-level Python function or class (by its own ``__init__``) accepts.

    None when that is not certain: a decorated definition (a decorator may change the
    signature), a class without an ``__init__`` of its own (a dataclass, or one inherited).
    """
    if file.text_of(definition.start_byte, definition.start_byte + 1) == "@":
        return None
    if definition.kind == "function":
        return python_parameters(definition.signature, bound_first=False)
    if definition.kind != "class":
        return None
    inits = [d for d in file.by_name.get("__init__", ()) if d.parent == definition.name
             and definition.start_byte < d.start_byte < definition.end_byte]
    if len(inits) != 1:
        return None
    return python_parameters(inits[0].signature, bound_first=True)


def single_top_level(files: list[FileOutline], name: str) -> tuple[Definition, FileOutline] | None:
    """The one top-level definition of ``name`` across ``files``, or None (none, or several)."""
    found = [(d, file) for file in files for d in file.by_name.get(name, ()) if d.parent is None]
    return found[0] if len(found) == 1 else None


def python_definitions_named(tree: Tree, source: bytes, name: str) -> list[Node]:
    """Top-level ``def``/``class`` nodes (decorated ones whole) of a Python tree called ``name``."""
    wanted = name.encode()
    found = []
    for child in tree.root_node.children:
        node = child.child_by_field_name("definition") if child.type == "decorated_definition" \
            else child
        if node is None or node.type not in ("function_definition", "class_definition"):
            continue
        name_node = node.child_by_field_name("name")
        if name_node is not None and source[name_node.start_byte:name_node.end_byte] == wanted:
            found.append(child)
    return found
