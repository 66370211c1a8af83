"""The calls being written at the cursor, and what a callee accepts.

A line being typed seldom parses (``x = f(a, `` is an error in any file), so the cursor's line
up to the cursor is closed (:func:`scanning.closing`) and parsed alone, inside the wrapper its
language's ``calls.scm`` names (``; wrap: func _() { <line> }``, where a bare statement would
not parse). That query finds the calls on it:

* ``@call.name``: the called name; ``@call.arguments``: its bracketed arguments;
* ``@call.member``: present when the call goes through an attribute or object (``x.f(``).

What a callee accepts comes from its definition's parameters, which the outline reads from
``definitions.scm``. Context shows the called names' definitions; with the parameters,
completions drop arguments that the callee cannot take.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cache, lru_cache

from tree_sitter import Parser, Query, QueryCursor, QueryError, Tree

from llama_lsp.context.scanning import closing
from llama_lsp.context.syntax.languages import LanguageSpec, load_language, spec_for
from llama_lsp.context.syntax.outline import (
    Definition,
    Parameter,
    compile_query,
    outline,
    query_text,
)
from llama_lsp.context.workspace import FileOutline

logger = logging.getLogger(__name__)

# A line with more calls than this shows the definitions of its first ones.
MAX_CALLED_NAMES = 4
_WRAP = re.compile(r";+\s*wrap\s*:\s*(.*<line>.*)")
_LINE = "<line>"


@dataclass(frozen=True)
class Call:
    """A call on the cursor's line, before the cursor."""

    name: str
    arguments: str
    """What the line has after the call's ``(``, up to the cursor."""
    plain: bool
    """Called by bare name (``f(``), not through an attribute or object (``x.f(``)."""
    open: bool = True
    """Its arguments are still open at the cursor."""


@dataclass(frozen=True)
class Parameters:
    """What a callee accepts (``self``/``cls`` of a method or class left out)."""

    positional: tuple[str, ...]
    """Names that may be passed by position, in order."""
    keyword: frozenset[str]
    """Names that may be passed by keyword."""
    var_positional: bool
    var_keyword: bool


@dataclass(frozen=True)
class _CallsQuery:
    query: Query
    prefix: str
    suffix: str


@cache
def _calls_query(spec: LanguageSpec) -> _CallsQuery:
    """The language's compiled ``calls.scm`` and the wrapper its lines are parsed in."""
    text = query_text(spec.language_id, "calls")
    wrap = next((m.group(1) for line in text.splitlines() if (m := _WRAP.match(line))), _LINE)
    prefix, _, suffix = wrap.partition(_LINE)
    try:
        query = compile_query(spec, "calls")
    except QueryError as error:  # e.g. a grammar version that renamed a node type
        logger.warning("tree-sitter calls query for %s: %s", spec.language_id, error)
        query = Query(load_language(spec), "")
    return _CallsQuery(query, prefix, suffix)


@lru_cache(maxsize=64)
def _calls(line_before: str, language_id: str) -> tuple[Call, ...]:
    """The calls on ``line_before`` (closed or left open), in line order."""
    spec = spec_for(language_id)
    text = line_before.lstrip()
    if spec is None or "(" not in text:
        return ()
    calls = _calls_query(spec)
    head = calls.prefix.encode("utf-8")
    typed = head + text.encode("utf-8")
    fragment = typed + (closing(text, language_id) + calls.suffix).encode("utf-8")
    tree = Parser(load_language(spec)).parse(fragment)
    found: dict[int, Call] = {}
    for _, captures in QueryCursor(calls.query).matches(tree.root_node):
        name, arguments = captures["call.name"][0], captures["call.arguments"][0]
        if name.start_byte < len(head) or name.end_byte > len(typed):
            continue
        found[name.start_byte] = Call(
            name=fragment[name.start_byte:name.end_byte].decode("utf-8", "replace"),
            arguments=typed[arguments.start_byte + 1:].decode("utf-8", "replace"),
            plain="call.member" not in captures,
            open=arguments.end_byte > len(typed),
        )
    return tuple(found[at] for at in sorted(found))


def called_names(line_before: str, language_id: str) -> list[str]:
    """Names called on the cursor's line before the cursor, open or closed, in line order.

    ``x = a.f(g(1), `` gives ``["f", "g"]``. Typing only ever appends to the list (closing a
    call keeps its name), so context built from it changes only at its end.
    """
    names = dict.fromkeys(call.name for call in _calls(line_before, language_id))
    return list(names)[:MAX_CALLED_NAMES]


def call_at_cursor(line_before: str, language_id: str) -> Call | None:
    """The innermost call left open before the cursor on its line, or None.

    ``x = lib.scale(a, [b, `` gives ``scale``; calls closed before the cursor are skipped, and
    so are definitions (``def f(``), declarations and keywords (``if (``).
    """
    open_calls = [call for call in _calls(line_before, language_id) if call.open]
    return open_calls[-1] if open_calls else None  # they nest: the last one is innermost


def accepted(parameters: tuple[Parameter, ...], bound_first: bool) -> Parameters:
    """What a callee with ``parameters`` accepts; ``bound_first`` drops the first one (a
    method's ``self``/``cls``, unless it is ``*args``)."""
    entries = list(parameters)
    if bound_first and entries and not entries[0].kind.startswith("var_"):
        entries = entries[1:]
    return Parameters(
        positional=tuple(p.names[0] for p in entries
                         if p.kind in ("positional", "positional_only")),
        keyword=frozenset(p.names[0] for p in entries
                          if p.kind in ("positional", "keyword_only")),
        var_positional=any(p.kind == "var_positional" for p in entries),
        var_keyword=any(p.kind == "var_keyword" for p in entries),
    )


def python_parameters(signature: str, bound_first: bool) -> Parameters | None:
    """What the Python function ``def name(...):`` accepts (read by the grammar and
    ``definitions.scm``, as in a file); None when ``signature`` declares no function."""
    spec = spec_for("python")
    assert spec is not None
    source = signature.encode("utf-8")
    definitions = outline(Parser(load_language(spec)).parse(source), source, spec)
    if not definitions or definitions[0].kind not in ("function", "method"):
        return None
    return accepted(definitions[0].parameters, bound_first)


def parameters_of(definition: Definition, file: FileOutline) -> Parameters | None:
    """What a top-level function or class (by its own ``__init__``) accepts.

    None when that is not certain: a decorated definition (a decorator may change the
    signature), a class without an ``__init__`` of its own (a dataclass, or one inherited).
    """
    if definition.decorated:
        return None
    if definition.kind == "function":
        return accepted(definition.parameters, bound_first=False)
    if definition.kind != "class":
        return None
    inits = [d for d in file.by_name.get("__init__", ()) if d.parent == definition.name
             and definition.start_byte < d.start_byte < definition.end_byte]
    if len(inits) != 1:
        return None
    return accepted(inits[0].parameters, bound_first=True)


def single_top_level(files: list[FileOutline], name: str) -> tuple[Definition, FileOutline] | None:
    """The one top-level definition of ``name`` across ``files``, or None (none, or several)."""
    found = [(d, file) for file in files for d in file.by_name.get(name, ()) if d.parent is None]
    return found[0] if len(found) == 1 else None


def top_level_named(tree: Tree, source: bytes, spec: LanguageSpec,
                    name: str) -> list[Definition]:
    """The top-level definitions called ``name``, with the definitions inside them, read from
    those top-level nodes only (fast in big files). Module-level constants are not among
    them; neither is a definition nested in a statement (``if``, ``try``)."""
    wanted = name.encode("utf-8")
    roots = [child for child in tree.root_node.children
             if source.find(wanted, child.start_byte, child.end_byte) >= 0]
    found = outline(tree, source, spec, roots=roots)
    starts = {root.start_byte for root in roots}
    named = [d for d in found if d.name == name and d.start_byte in starts]
    return [d for d in found
            if any(top.start_byte <= d.start_byte and d.end_byte <= top.end_byte for top in named)]
