"""What the syntax tree says about one definition: parameters, returns, yields, raises, doc.

Everything here reads a parsed snapshot; nothing calls the model. Offsets are UTF-8 byte
offsets into ``source`` (tree-sitter's unit); :mod:`placement` converts them for edits.

The language knowledge comes from the queries: parameters and doc comments from the outline
(``definitions.scm``), the rest from ``facts.scm``, whose captures are:

* ``@function``: a function node, with, in the same match, optionally ``@returns`` (its return
  type; the pattern setting ``returns.suffix`` is appended, e.g. ``*`` for a C pointer),
  ``@async``, ``@generator`` and ``@throws`` (declared exceptions). A definition's function is
  the innermost one around its body (around its name when it has none).
* ``@scope``: a nested function, class or lambda: what is inside belongs to it.
* In the body: ``@return.value`` (a return with a value, or an expression body),
  ``@yield``, ``@raise.name`` (the raised exception's name) and ``@panic``.
* ``@field`` with ``@fields`` (the class body holding it), optionally ``@field.type`` and
  ``@field.default``: a field of a dataclass-like class.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import cache

from tree_sitter import Node, Query, QueryCursor, QueryError, Tree

from llama_lsp.context.syntax.languages import LanguageSpec, load_language, spec_for
from llama_lsp.context.syntax.outline import Definition, compile_query, outline
from llama_lsp.context.syntax.outline import Parameter as OutlineParameter

logger = logging.getLogger(__name__)

DOCUMENTED_KINDS = frozenset({
    "function", "method", "class", "struct", "interface", "enum", "trait", "type", "union",
})
FUNCTION_KINDS = frozenset({"function", "method"})

_NO_VALUE_TYPES = frozenset({"None", "void", "NoReturn", "Never", "never", "undefined", "()"})
_DATACLASS = re.compile(r"@(?:\w+\.)*(?:dataclass|define|frozen|attrs?\.s)\b")
_EXCEPTION_NAME = re.compile(r"[\w.:<>]+")


@dataclass(frozen=True)
class Parameter:
    """One documented parameter (or class field)."""

    name: str
    """As documented: ``*args``/``**kwargs`` keep their stars, ``...rest`` loses its dots."""
    type: str | None
    default: str | None

    @property
    def key(self) -> str:
        """The bare name (no stars): the JSON property of its prose slot."""
        return self.name.lstrip("*")


@dataclass(frozen=True)
class Target:
    """A documentable definition with everything the formatters and prompts need."""

    definition: Definition
    language_id: str
    parameters: tuple[Parameter, ...]
    fields_are_attributes: bool
    """Python dataclass-like classes: the parameters are fields (``Attributes``)."""
    return_type: str | None
    returns_value: bool
    yields: bool
    raises: tuple[str, ...]
    returns_result: bool
    panics: bool
    is_async: bool
    indent: str
    """Indentation of the declaration's first line (decorators included)."""
    body_indent: str | None
    """Python: indentation of the body's statements (None for other languages)."""
    doc_node_range: tuple[int, int] | None
    """Byte range of the existing docstring node or doc comment block."""
    doc_text: str | None
    """The existing doc: docstring content, or the raw doc comment block."""
    insert_byte: int
    """Where a new doc comment goes (other languages than Python)."""

    @property
    def name(self) -> str:
        """The definition's name."""
        return self.definition.name

    @property
    def kind(self) -> str:
        """function, method, class, struct, ..."""
        return self.definition.kind

    @property
    def is_function(self) -> bool:
        """Functions and methods (they have parameters and results)."""
        return self.definition.kind in FUNCTION_KINDS


def _text(source: bytes, node: Node) -> str:
    return source[node.start_byte:node.end_byte].decode("utf-8", "replace")


def _line_indent(source: bytes, offset: int) -> str:
    start = source.rfind(b"\n", 0, offset) + 1
    end = start
    while end < len(source) and source[end] in b" \t":
        end += 1
    return source[start:end].decode("utf-8")


def indent_unit(text: str) -> str:
    """The file's indentation step: a tab when lines start with tabs, else the smallest run."""
    tabs = spaces = 0
    smallest = 0
    for line in text.splitlines()[:2000]:
        if line.startswith("\t"):
            tabs += 1
        elif line.startswith(" ") and line.strip():
            spaces += 1
            width = len(line) - len(line.lstrip(" "))
            smallest = width if not smallest else min(smallest, width)
    if tabs > spaces:
        return "\t"
    return " " * (smallest if smallest in (2, 3, 4, 8) else 4)


# ---------------------------------------------------------------------------------------------
# Parameters (read by the outline from the language's definitions.scm)


def _documented(parameters: tuple[OutlineParameter, ...]) -> list[Parameter]:
    """The parameters a doc lists, as it names them; receivers (``self``) left out."""
    return [Parameter(p.label, p.type, p.default) for p in parameters if not p.receiver]


# ---------------------------------------------------------------------------------------------
# Results, raises and panics (read from the language's facts.scm)


_Match = tuple[dict[str, str | None], dict[str, list[Node]]]


@dataclass
class _Facts:
    """What the facts query says about a function: its signature and its own body."""

    return_type: str | None = None
    is_async: bool = False
    returns: bool = False
    yields: bool = False
    raised: list[str] = field(default_factory=list)
    panics: bool = False


@cache
def _facts_query(spec: LanguageSpec) -> tuple[Query, tuple[dict[str, str | None], ...]]:
    """The language's compiled ``facts.scm`` and each pattern's settings."""
    try:
        query = compile_query(spec, "facts")
    except QueryError as error:  # e.g. a grammar version that renamed a node type
        logger.warning("tree-sitter facts query for %s: %s", spec.language_id, error)
        query = Query(load_language(spec), "")
    return query, tuple(query.pattern_settings(i) for i in range(query.pattern_count))


def _matches(definition: Definition, tree: Tree, spec: LanguageSpec) -> list[_Match]:
    """The facts query's matches inside the definition."""
    query, settings = _facts_query(spec)
    cursor = QueryCursor(query)
    cursor.set_byte_range(definition.start_byte, definition.end_byte)
    return [(settings[pattern], captures)
            for pattern, captures in cursor.matches(tree.root_node)]


def _function_facts(definition: Definition, source: bytes, matches: list[_Match],
                    facts: _Facts) -> list[str]:
    """Fill in the signature's facts from the definition's function; its declared throws."""
    body = definition.body_start_byte

    def holds(node: Node) -> bool:  # the body (a function starting there is inside it)
        if body is not None:
            return node.start_byte < body < node.end_byte
        return node.start_byte <= definition.name_start_byte < node.end_byte

    around = [captures["function"][0] for _, captures in matches
              if "function" in captures and holds(captures["function"][0])]
    if not around:
        return []
    function = min(around, key=lambda node: node.end_byte - node.start_byte)
    throws: list[Node] = []
    for settings, captures in matches:
        if "function" not in captures or captures["function"][0].id != function.id:
            continue
        if returns := captures.get("returns"):
            facts.return_type = _text(source, returns[0]) + (settings.get("returns.suffix") or "")
        facts.is_async = facts.is_async or "async" in captures
        facts.yields = facts.yields or "generator" in captures
        throws += captures.get("throws", [])
    return [_text(source, node) for node in sorted(throws, key=lambda node: node.start_byte)]


def _body_facts(definition: Definition, source: bytes, matches: list[_Match],
                facts: _Facts) -> None:
    """Fill in what the body does itself (not in the functions, classes, lambdas it holds)."""
    start, end = definition.body_start_byte, definition.body_end_byte
    if start is None or end is None:
        return
    scopes = [node for _, captures in matches for node in captures.get("scope", ())
              if start <= node.start_byte and node.end_byte <= end]

    def own(node: Node) -> bool:
        return start <= node.start_byte and node.end_byte <= end and not any(
            scope.id != node.id and scope.start_byte <= node.start_byte
            and node.end_byte <= scope.end_byte for scope in scopes)

    raised: list[Node] = []
    for _, captures in matches:
        for capture, nodes in captures.items():
            if capture == "raise.name":
                raised += [node for node in nodes if own(node)]
            elif capture in ("return.value", "yield", "panic") and any(map(own, nodes)):
                facts.returns = facts.returns or capture == "return.value"
                facts.yields = facts.yields or capture == "yield"
                facts.panics = facts.panics or capture == "panic"
    for node in sorted(raised, key=lambda node: node.start_byte):
        name = _text(source, node)
        if _EXCEPTION_NAME.fullmatch(name) and name not in facts.raised:
            facts.raised.append(name)


def _fields(definition: Definition, source: bytes, matches: list[_Match]) -> list[Parameter]:
    """The fields in the definition's own body, in order."""
    fields = [captures for _, captures in matches if "field" in captures
              and captures["fields"][0].start_byte == definition.body_start_byte]
    fields.sort(key=lambda captures: captures["field"][0].start_byte)
    return [Parameter(_text(source, captures["field"][0]),
                      _text(source, captures["field.type"][0]) if "field.type" in captures
                      else None,
                      _text(source, captures["field.default"][0]) if "field.default" in captures
                      else None)
            for captures in fields]


def _class_parameters(definition: Definition, tree: Tree, source: bytes, spec: LanguageSpec,
                      matches: list[_Match]) -> tuple[list[Parameter], bool]:
    """A class's own ``__init__`` parameters, or the fields of a dataclass-like class."""
    if definition.body_start_byte is None or definition.body_end_byte is None:
        return [], False
    inner = outline(tree, source, spec,
                    byte_range=(definition.body_start_byte, definition.body_end_byte))
    for method in inner:
        if method.name == "__init__" and method.parent == definition.name and \
                definition.start_byte < method.start_byte < definition.end_byte:
            return _documented(method.parameters), False
    decorations = source[definition.start_byte:definition.name_start_byte]
    if not _DATACLASS.search(decorations.decode("utf-8", "replace")):
        return [], False
    return _fields(definition, source, matches), True


# ---------------------------------------------------------------------------------------------
# Existing documentation


def analyze(definition: Definition, tree: Tree, source: bytes, language_id: str) -> Target:
    """Everything the docstring features need to know about ``definition``."""
    spec = spec_for(language_id)
    matches = _matches(definition, tree, spec) if spec is not None else []
    facts = _Facts()
    throws: list[str] = []
    if definition.kind in FUNCTION_KINDS:
        throws = _function_facts(definition, source, matches, facts)
        _body_facts(definition, source, matches, facts)
    facts.raised += [name for name in throws if name not in facts.raised]
    parameters = _documented(definition.parameters)
    attributes = False
    if language_id == "python" and definition.kind == "class" and spec is not None:
        parameters, attributes = _class_parameters(definition, tree, source, spec, matches)
    return_type, returns, yields = facts.return_type, facts.returns, facts.yields
    if return_type is not None and language_id == "python" and re.match(
            r"(typing\.|collections\.abc\.)?(Async)?(Generator|Iterator|Iterable)\b", return_type):
        yields = True
    doc_range, doc_text, insert_at = _existing_doc(definition, language_id, source)
    if definition.kind not in FUNCTION_KINDS:
        returns, yields = False, False
    return Target(
        definition=definition,
        language_id=language_id,
        parameters=tuple(parameters),
        fields_are_attributes=attributes,
        return_type=return_type,
        returns_value=_returns_value(return_type, returns, yields, language_id),
        yields=yields,
        raises=tuple(facts.raised),
        returns_result=bool(return_type and re.search(r"(^|::|\b)Result\b", return_type)),
        panics=facts.panics,
        is_async=facts.is_async,
        indent=_line_indent(source, definition.start_byte),
        body_indent=_python_body_indent(source, definition),
        doc_node_range=doc_range,
        doc_text=doc_text,
        insert_byte=insert_at,
    )


def _returns_value(return_type: str | None, returns: bool, yields: bool,
                   language_id: str) -> bool:
    if yields:
        return False
    if return_type is not None:
        bare = return_type.strip()
        if language_id in ("c", "cpp") and re.fullmatch(r"(static\s+|inline\s+)*void", bare):
            return False
        return bare not in _NO_VALUE_TYPES and not bare.startswith("Promise<void")
    return returns


def _python_body_indent(source: bytes, definition: Definition) -> str | None:
    if definition.body_start_byte is None:
        return None
    line_start = source.rfind(b"\n", 0, definition.body_start_byte) + 1
    before = source[line_start:definition.body_start_byte]
    if before.strip():
        return None  # one-line function: the body shares the `def` line
    return before.decode("utf-8")


def _existing_doc(definition: Definition, language_id: str, source: bytes
                  ) -> tuple[tuple[int, int] | None, str | None, int]:
    """The doc's byte range and text, and where a new doc would go (above the comments
    directly over the declaration, so a ``// eslint-disable-next-line`` stays attached)."""
    insert_at = definition.start_byte
    block, start = definition.doc, definition.doc_start_byte
    if block is None or start is None or definition.doc_end_byte is None:
        return None, None, insert_at
    if language_id == "python":
        if definition.body_start_byte is None or start < definition.body_start_byte:
            return None, None, start  # comments above: the docstring goes in the body
        return (start, definition.doc_end_byte), block, insert_at
    if definition.doc_comment is None:
        return None, None, start
    begin, end = definition.doc_comment
    return (begin, end), source[begin:end].decode("utf-8", "replace"), insert_at
