"""Query-based outline of a syntax tree: definitions, imports and referenced identifiers.

Everything language-specific lives in ``queries/<language_id>/`` (``definitions.scm``,
``imports.scm``, ``identifiers.scm``; also ``calls.scm``, read by :mod:`llama_lsp.context.callee`,
and ``facts.scm``, read by the docstring analysis); this module only interprets their captures,
so adding a language is one registry entry plus one query folder. A query file may begin with
``; inherits: <language_id>[, ...]`` comment lines: those languages' files of the same name are
prepended (``typescriptreact`` inherits ``typescript``, ``cpp`` inherits ``c``). A folder that is
no registered language holds patterns several languages share (``ecmascript``: JavaScript and
TypeScript). A missing file means no patterns.

``definitions.scm`` patterns, by the captures they make:

* A definition: ``@definition.<kind>`` (the node; ``<kind>`` becomes :attr:`Definition.kind`),
  ``@name`` (required), optionally ``@body`` (or the ``@body.open`` / ``@body.close`` tokens),
  ``@parameters`` (its parameter list), ``@doc`` (a docstring: its first and last children, the
  quotes, are dropped; without one the comments directly above are the doc) and ``@parent``
  (the owning type where it is not an enclosing definition: Go receivers, C++ ``Foo::bar``).
  When several patterns capture the same name node, the one written first wins. A ``function``
  with a parent (an enclosing class/struct/interface/enum/trait/impl, or ``@parent``) becomes a
  ``method``.
* ``@parameter`` with ``@parameters``: a name a parameter binds and the list holding it; it
  belongs to the definition whose ``@parameters`` is that list (lists of function types belong
  to none). In the same match, optionally: ``@parameter.entry`` (the list entry, when it binds
  several names or is written as more than its name: its text is the parameter's label, e.g.
  ``*args``), ``@parameter.type`` and ``@parameter.default``. Pattern settings:
  ``(#set! parameter.kind "var_positional"|"var_keyword")``, ``(#set! parameter.receiver
  "true")`` (``self``), ``(#set! parameter.label "<label>")`` (e.g. ``options`` for a
  destructured object). Matches of one name merge.
* ``@separator.positional_only`` / ``@separator.keyword_only`` with ``@parameters``: the
  parameters before (after) it in that list are positional-only (keyword-only); so are those
  after a ``var_positional`` one.
* ``@wrapper`` with ``@wrapped``: a node around a definition (decorators, ``export``,
  ``template<>``); the definition's range grows to include it.
* ``@comment``: a comment, candidate doc of the definition right below it. ``@doc.comment``
  (``/** ... */``) and ``@doc.lines`` (``///``: adjacent ones join) are comments written in
  the language's doc style: :attr:`Definition.doc_comment` is the last of them (or run of
  them) in the comments directly above.
* ``@decoration``: a decorator/attribute/annotation; part of the definition's range when directly
  above it, cut out of the signature when inside it.
* ``@public`` / ``@private``: mark the definition whose name or definition node is captured;
  ``@public`` wins; unmarked definitions are public.

``imports.scm`` patterns capture ``@import`` (the statement, for the range), ``@module``
(surrounding quotes or ``<>`` are dropped) and ``@name`` (imported names; matches sharing
``@import`` and ``@module`` merge). A pattern's ``(#set! local "true"|"false")`` or
``(#set! local.match "<regex>")`` (searched in the module text) decides
:attr:`ImportRef.is_local`.

``identifiers.scm``: every capture is an identifier. Captures named ``_...`` are for predicates.
In one pattern, ``#set!`` must come before text predicates (``#eq?``, ``#match?``...):
py-tree-sitter 0.26 crashes freeing a query with the other order.

Relations come from captures of one match or from byte offsets, never from ``Node.parent`` or
``Node.prev_sibling``: tree-sitter answers those by descending from the root (slow on big files).
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from tree_sitter import Node, Query, QueryCursor, QueryError, Tree

from llama_lsp.context.syntax import walk
from llama_lsp.context.syntax.languages import LanguageSpec, load_language

logger = logging.getLogger(__name__)

QUERY_DIR = Path(__file__).with_name("queries")
QUERY_NAMES = ("definitions", "imports", "identifiers")
PARAMETER_KINDS = ("positional", "positional_only", "keyword_only", "var_positional",
                   "var_keyword")
CONTAINER_KINDS = frozenset({"class", "struct", "interface", "enum", "trait", "impl"})

_INHERITS = re.compile(r";+\s*inherits\s*:\s*(.+)")
_TRAILING_ASSIGN = re.compile(r"(?<![=<>!])\s*=$")
_QUOTES = {ord('"'): '"', ord("'"): "'", ord("`"): "`", ord("<"): ">"}


@dataclass(frozen=True)
class Parameter:
    """One entry of a definition's parameter list, as its language's ``definitions.scm`` reads
    it."""

    names: tuple[str, ...]
    """The names it binds, in order (several when it destructures)."""
    label: str
    """How documentation names it: ``x``, ``*args``, ``options`` (a destructured object)."""
    type: str | None = None
    default: str | None = None
    kind: str = "positional"
    """One of ``PARAMETER_KINDS``: passed by position or keyword (``positional``), by position
    only, by keyword only, or collecting the rest (``var_positional``, ``var_keyword``)."""
    receiver: bool = False
    """Bound by the call's receiver: Python ``self``/``cls``, Rust ``self``."""


@dataclass(frozen=True)
class Definition:
    """One definition (function, class, ...) with its ranges, signature and documentation.

    ``start_byte``/``end_byte`` span the whole definition including decorators, attributes,
    annotations, ``export`` and ``template<>`` (not the doc comment above it). ``signature`` is
    the declaration without decorations or body, whitespace-normalised, without a trailing
    ``;`` or ``=``. ``body_*`` is None for declarations without a body; a constant's value is
    its body. ``doc`` is a docstring's content (``doc_*`` then span the quoted string) or the raw
    comment block directly above. ``parameters`` lists the parameter list's entries in order
    (Python ``self``/``cls`` and Rust ``self`` included, as receivers; Go receivers not).
    ``decorated``: decorators, attributes or annotations are part of its range.
    ``doc_comment`` is the byte range of the doc comment among those comments, if any.
    ``parent`` is the enclosing
    class/struct/interface/enum/trait/impl (or receiver / ``Foo::`` scope) name.
    """

    name: str
    kind: str
    start_byte: int
    end_byte: int
    start_line: int
    end_line: int
    name_start_byte: int
    signature: str
    body_start_byte: int | None
    body_end_byte: int | None
    doc: str | None
    doc_start_byte: int | None
    doc_end_byte: int | None
    parameters: tuple[Parameter, ...]
    parent: str | None
    is_public: bool
    decorated: bool = False
    doc_comment: tuple[int, int] | None = None

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Every name the parameters bind, in order."""
        return tuple(name for parameter in self.parameters for name in parameter.names)


@dataclass(frozen=True)
class ImportRef:
    """One imported module and the names taken from it."""

    module: str
    names: tuple[str, ...]
    is_local: bool
    start_byte: int
    end_byte: int


@dataclass(frozen=True)
class _Queries:
    """The compiled queries of one language, plus per-pattern import locality rules."""

    definitions: Query
    imports: Query
    identifiers: Query
    import_locality: tuple[tuple[bool | None, re.Pattern[str] | None], ...]
    definition_settings: tuple[dict[str, str | None], ...]


# ---------------------------------------------------------------------------------------------
# Query loading


def query_text(language_id: str, name: str, _seen: frozenset[str] = frozenset()) -> str:
    """The text of ``queries/<language_id>/<name>.scm`` with its ``; inherits:`` files prepended."""
    path = QUERY_DIR / language_id / f"{name}.scm"
    if language_id in _seen or not path.is_file():
        return ""
    text = path.read_text(encoding="utf-8")
    inherited = [
        query_text(parent, name, _seen | {language_id})
        for parent in _inherited_languages(text)
    ]
    return "\n".join([*inherited, text])


def _inherited_languages(text: str) -> list[str]:
    """Language ids named by the leading ``; inherits: a, b`` comment lines."""
    parents: list[str] = []
    for line in text.splitlines():
        if not line.startswith(";"):
            break
        if match := _INHERITS.match(line):
            parents += [part.strip() for part in match.group(1).split(",") if part.strip()]
    return parents


def compile_query(spec: LanguageSpec, name: str) -> Query:
    """Compile ``queries/<language_id>/<name>.scm`` for ``spec``; raises ``QueryError``."""
    return Query(load_language(spec), query_text(spec.language_id, name))


@cache
def _queries(spec: LanguageSpec) -> _Queries:
    """Compile (once per language) the three outline queries; a broken one matches nothing."""
    compiled = []
    for name in QUERY_NAMES:
        try:
            compiled.append(compile_query(spec, name))
        except QueryError as error:  # e.g. a grammar version that renamed a node type
            logger.warning("tree-sitter %s query for %s: %s", name, spec.language_id, error)
            compiled.append(Query(load_language(spec), ""))
    settings = tuple(compiled[0].pattern_settings(index)
                     for index in range(compiled[0].pattern_count))
    return _Queries(*compiled, import_locality=_locality_rules(compiled[1]),
                    definition_settings=settings)


def prepare_queries(spec: LanguageSpec) -> None:
    """Compile ``spec``'s outline queries now (big grammars take ~0.1-0.3 s, once per process)."""
    _queries(spec)


def _locality_rules(query: Query) -> tuple[tuple[bool | None, re.Pattern[str] | None], ...]:
    """Per import pattern: the fixed ``local`` setting, or the ``local.match`` regex."""
    rules = []
    for index in range(query.pattern_count):
        settings = query.pattern_settings(index)
        fixed = settings.get("local")
        regex = settings.get("local.match")
        rules.append((
            None if fixed is None else fixed.lower() == "true",
            None if regex is None else re.compile(regex),
        ))
    return tuple(rules)


# ---------------------------------------------------------------------------------------------
# Small node helpers


def _text(source: bytes, node: Node) -> str:
    return source[node.start_byte:node.end_byte].decode("utf-8", "replace")


def _content_end(source: bytes, node: Node) -> int:
    """End byte of ``node`` without trailing whitespace (line comments include their newline)."""
    end = node.end_byte
    while end > node.start_byte and source[end - 1] in b" \t\r\n":
        end -= 1
    return end


def _directly_above(source: bytes, end: int, start: int) -> bool:
    """Only whitespace and at most one line break lie between ``end`` and ``start``."""
    gap = source[end:start]
    return not gap.strip() and gap.count(b"\n") <= 1


def _starts_line(source: bytes, node: Node) -> bool:
    """Nothing but indentation precedes ``node`` on its line (not a trailing comment)."""
    line_start = source.rfind(b"\n", 0, node.start_byte) + 1
    return not source[line_start:node.start_byte].strip()


def _normalise(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------
# Definitions


@dataclass
class _Found:
    """One definition pattern's match, before it becomes a Definition."""

    pattern: int
    kind: str
    node: Node
    name: Node
    captures: dict[str, list[Node]]
    parameters: list[Parameter] = field(default_factory=list)
    start: int = 0
    end: int = 0
    outer: Node | None = None
    first: Node | None = None
    comments: list[Node] = field(default_factory=list)


@dataclass(frozen=True)
class _Leading:
    """A comment or decoration that may sit directly above a definition."""

    end: int
    node: Node
    role: str
    """Its capture: ``comment``, ``decoration``, ``doc.comment`` or ``doc.lines``."""

    @property
    def is_decoration(self) -> bool:
        return self.role == "decoration"


class _Name:
    """One parameter name's matches, merged: its list, and the first list entry (when the name
    is not all of it: ``*args``), type, default and settings that a match gives."""

    __slots__ = ("list_id", "node", "start", "entry", "type", "default", "settings")

    def __init__(self, list_id: int, node: Node) -> None:
        self.list_id, self.node, self.start = list_id, node, node.start_byte
        self.entry: Node | None = None
        self.type: Node | None = None
        self.default: Node | None = None
        self.settings: dict[str, str | None] | None = None


@dataclass
class _Matches:
    """Everything the definitions query captured, grouped by role."""

    found: dict[int, _Found] = field(default_factory=dict)
    wrapped: dict[int, Node] = field(default_factory=dict)
    leading: dict[int, _Leading] = field(default_factory=dict)
    names: dict[int, _Name] = field(default_factory=dict)
    separators: dict[int, list[tuple[int, str]]] = field(default_factory=dict)
    public: set[int] = field(default_factory=set)
    private: set[int] = field(default_factory=set)


def _collect(matches: list[tuple[int, dict[str, list[Node]]]], source: bytes,
             settings: tuple[dict[str, str | None], ...]) -> _Matches:
    """Sort the definitions query's matches by capture role; first pattern wins per name."""
    seen = _Matches()
    for pattern, captures in matches:
        if (parameter := captures.get("parameter")) and (lists := captures.get("parameters")):
            _add_name(seen, parameter[0], lists[0], captures, settings[pattern])
        elif (lists := captures.get("parameters")) and "name" not in captures:
            for capture, nodes in captures.items():
                if capture.startswith("separator."):
                    seen.separators.setdefault(lists[0].id, []).append(
                        (nodes[0].start_byte, capture[10:]))
        elif "name" in captures:
            _add_definition(seen, pattern, captures)
        else:
            _add_roles(seen, captures, source)
    return seen


def _add_roles(seen: _Matches, captures: dict[str, list[Node]], source: bytes) -> None:
    """Record the wrappers, comments, decorations and visibility marks of a match."""
    for capture, nodes in captures.items():
        if capture == "wrapped" and (wrappers := captures.get("wrapper")):
            seen.wrapped[nodes[0].id] = wrappers[0]
        elif capture in ("comment", "decoration", "doc.comment", "doc.lines"):
            for node in nodes:
                known = seen.leading.get(node.id)
                if known is None or capture.startswith("doc."):  # a doc comment is a comment
                    seen.leading[node.id] = _Leading(_content_end(source, node), node, capture)
        elif capture == "public":
            seen.public.add(nodes[0].id)
        elif capture == "private":
            seen.private.add(nodes[0].id)


def _add_definition(seen: _Matches, pattern: int, captures: dict[str, list[Node]]) -> None:
    kind = next((c for c in captures if c.startswith("definition.")), None)
    name = captures["name"][0]
    if kind is None or name.is_missing or name.start_byte == name.end_byte:
        return
    current = seen.found.get(name.id)
    # Optional captures may yield one pattern's match twice: keep the fuller one.
    if current is None or (pattern, -len(captures)) < (current.pattern, -len(current.captures)):
        node = captures[kind][0]
        seen.found[name.id] = _Found(pattern, kind[11:], node, name, captures)


def _add_name(seen: _Matches, node: Node, parameters: Node, captures: dict[str, list[Node]],
              settings: dict[str, str | None]) -> None:
    """Merge one ``@parameter`` match into what is known of that name."""
    name = seen.names.get(node.id)
    if name is None:
        name = seen.names[node.id] = _Name(parameters.id, node)
    if name.entry is None and (entry := captures.get("parameter.entry")):
        name.entry = entry[0]
    if name.type is None and (type_node := captures.get("parameter.type")):
        name.type = type_node[0]
    if name.default is None and (default := captures.get("parameter.default")):
        name.default = default[0]
    if settings:
        name.settings = settings if name.settings is None else {**settings, **name.settings}


def _assign_parameters(seen: _Matches, source: bytes) -> None:
    """Give each parameter to the definition whose ``@parameters`` list holds it."""
    owners = {
        node.id: found
        for found in seen.found.values()
        for node in found.captures.get("parameters", ())
    }
    entries: dict[int, dict[int, list[_Name]]] = {}  # list id -> entry node id -> its names
    for name in sorted(seen.names.values(), key=_start):
        if name.list_id in owners:
            entry = name.node if name.entry is None else name.entry
            entries.setdefault(name.list_id, {}).setdefault(entry.id, []).append(name)
    for list_id, by_entry in entries.items():
        separators = seen.separators.get(list_id, [])
        owners[list_id].parameters.extend(_list_parameters(source, list(by_entry.values()),
                                                           separators))


def _list_parameters(source: bytes, entries: list[list[_Name]],
                     separators: list[tuple[int, str]]) -> list[Parameter]:
    """The parameters of one list, from its entries' names in order, and its separators."""
    parameters: list[Parameter] = []
    rest_seen = False
    for names in entries:
        first = names[0]
        texts = (_text(source, first.node),) if len(names) == 1 else tuple(
            _text(source, name.node) for name in names)
        entry, type_node, default, settings = first.entry, first.type, first.default, \
            first.settings or {}
        if len(names) > 1:  # a destructured entry: the first name that has a part gives it
            type_node = next((name.type for name in names if name.type is not None), None)
            default = next((name.default for name in names if name.default is not None), None)
            settings = {k: v for name in reversed(names) for k, v in (name.settings or {}).items()}
        kind = settings.get("parameter.kind") or "positional"
        if kind not in PARAMETER_KINDS:
            kind = "positional"
        if kind == "positional" and (separators or rest_seen):
            start = first.start if entry is None else entry.start_byte
            if any(at > start and which == "positional_only" for at, which in separators):
                kind = "positional_only"
            elif rest_seen or any(at < start and which == "keyword_only"
                                  for at, which in separators):
                kind = "keyword_only"
        rest_seen = rest_seen or kind == "var_positional"
        label = settings.get("parameter.label") or (
            texts[0] if entry is None else _text(source, entry))
        parameters.append(Parameter(
            names=texts,
            label=label,
            type=None if type_node is None else _text(source, type_node),
            default=None if default is None else _text(source, default),
            kind=kind,
            receiver=settings.get("parameter.receiver") == "true",
        ))
    return parameters


def _start(name: _Name) -> int:
    return name.start


def _outer(seen: _Matches, node: Node) -> Node:
    """``node`` grown through the wrappers (decorated/export/template nodes) around it."""
    while (wrapper := seen.wrapped.get(node.id)) is not None:
        node = wrapper
    return node


def _place(
    source: bytes, seen: _Matches, found: _Found, leading: list[_Leading], ends: list[int]
) -> None:
    """Set the range of ``found``: wrappers and decorations directly above; its doc comments.

    ``leading`` is sorted by end; ``ends`` lists those ends.
    """
    outer = _outer(seen, found.node)
    first = outer
    start = outer.start_byte
    comments: list[Node] = []
    index = bisect_right(ends, start) - 1
    while index >= 0 and _directly_above(source, leading[index].end, start):
        item = leading[index]
        if item.is_decoration:
            first = item.node
        elif _starts_line(source, item.node):
            comments.append(item.node)
        else:
            break
        start = item.node.start_byte
        index = bisect_right(ends, start, 0, index) - 1
    comments.reverse()
    found.outer, found.first, found.comments = outer, first, comments
    found.start = first.start_byte
    found.end = max(found.start, _content_end(source, outer))


def _signature(
    source: bytes, start: int, end: int, decorations: list[tuple[int, int]]
) -> str:
    """Whitespace-normalised source in [start, end) without decorations, trailing ; or =."""
    pieces = []
    index = bisect_left(decorations, (start, start))
    while index < len(decorations) and decorations[index][0] < end:
        dec_start, dec_end = decorations[index]
        pieces.append(source[start:dec_start])
        start = max(start, dec_end)
        index += 1
    pieces.append(source[start:end])
    signature = _normalise(b"".join(pieces).decode("utf-8", "replace")).rstrip(";").rstrip()
    return _TRAILING_ASSIGN.sub("", signature) if signature.endswith("=") else signature


def _body_range(captures: dict[str, list[Node]]) -> tuple[int, int] | None:
    if body := captures.get("body"):
        return body[0].start_byte, body[0].end_byte
    if (opening := captures.get("body.open")) and (closing := captures.get("body.close")):
        return opening[0].start_byte, closing[0].end_byte
    return None


def _doc(source: bytes, found: _Found) -> tuple[str | None, int | None, int | None]:
    """The docstring (unquoted) or the raw comment block above, with its byte range."""
    if docstring := found.captures.get("doc"):
        node = docstring[0]
        start, end = node.start_byte, node.end_byte
        if node.child_count >= 2:
            start = node.child(0).end_byte
            end = node.child(node.child_count - 1).start_byte
        return source[start:end].decode("utf-8", "replace"), node.start_byte, node.end_byte
    comments = found.comments
    if not comments:
        return None, None, None
    text = "\n".join(
        source[c.start_byte:_content_end(source, c)].decode("utf-8", "replace") for c in comments
    )
    return text, comments[0].start_byte, _content_end(source, comments[-1])


def _doc_comment(source: bytes, seen: _Matches, found: _Found) -> tuple[int, int] | None:
    """The last doc comment, or run of adjacent doc lines, among the comments above."""
    span: tuple[int, int] | None = None
    joins = False
    for node in found.comments:
        role = seen.leading[node.id].role
        if not role.startswith("doc."):
            joins = False
            continue
        end = _content_end(source, node)
        if joins and role == "doc.lines" and span is not None:
            span = (span[0], end)
        else:
            span = (node.start_byte, end)
        joins = role == "doc.lines"
    return span


def _is_public(seen: _Matches, found: _Found) -> bool:
    ids = (found.name.id, found.node.id)
    if any(i in seen.public for i in ids):
        return True
    return not any(i in seen.private for i in ids)


def _nesting(ordered: list[_Found]) -> list[_Found | None]:
    """Each definition's innermost enclosing definition, for definitions in source order."""
    stack: list[_Found] = []
    enclosing: list[_Found | None] = []
    for found in ordered:
        while stack and not (
            stack[-1].start <= found.start
            and found.end <= stack[-1].end
            and (stack[-1].start, stack[-1].end) != (found.start, found.end)
        ):
            stack.pop()
        enclosing.append(stack[-1] if stack else None)
        stack.append(found)
    return enclosing


_Match = tuple[int, dict[str, list[Node]]]


def _intersects(captures: dict[str, list[Node]], start: int, end: int) -> bool:
    return any(node.start_byte <= end and start <= node.end_byte
               for nodes in captures.values() for node in nodes)


def _query_matches(query: Query, root: Node,
                   byte_range: tuple[int, int] | None = None) -> list[_Match]:
    """Every match under ``root`` (touching ``byte_range``), in time linear in the file.

    Patterns anchored at ``root`` (module-level constants) are read in one pass that starts
    only at ``root``; the rest one top-level node at a time, so another thread (the event
    loop) gets the interpreter between nodes instead of waiting for the whole file. (One
    cursor over the root with a byte range per group of nodes would return every
    root-anchored match of the file again for each group: quadratic.) No match is returned
    twice.
    """
    rooted = QueryCursor(query)
    rooted.set_max_start_depth(0)
    inner = QueryCursor(query)
    if byte_range is None:
        children = root.children
    else:
        rooted.set_byte_range(*byte_range)
        inner.set_byte_range(*byte_range)
        children = walk.children_overlapping(root, *byte_range)
    matches = rooted.matches(root)
    if byte_range is not None:  # a root-anchored match touches every range: keep the near ones
        matches = [match for match in matches if _intersects(match[1], *byte_range)]
    for child in children:
        matches += inner.matches(child)
    return matches


def outline(tree: Tree, source: bytes, spec: LanguageSpec,
            byte_range: tuple[int, int] | None = None,
            roots: list[Node] | None = None) -> list[Definition]:
    """All definitions in the tree, nested ones included, in source order.

    With ``byte_range`` and/or ``roots`` (top-level nodes), only matches touching that range
    inside those nodes are read (much faster on big files): definitions around or inside it,
    and the comments and parameters the range covers. Patterns anchored at the root (e.g.
    module-level constants) need the root among ``roots`` (or no ``roots``).
    """
    queries = _queries(spec)
    query = queries.definitions
    if roots is None:
        matches = _query_matches(query, tree.root_node, byte_range)
    else:
        cursor = QueryCursor(query)
        if byte_range is not None:
            cursor.set_byte_range(*byte_range)
        matches = [match for root in roots
                   for match in (_query_matches(query, root, byte_range)
                                 if root == tree.root_node else cursor.matches(root))]
    seen = _collect(matches, source, queries.definition_settings)
    if not seen.found:
        return []
    _assign_parameters(seen, source)
    leading = sorted(seen.leading.values(), key=lambda item: item.end)
    ends = [item.end for item in leading]
    for found in seen.found.values():
        _place(source, seen, found, leading, ends)
    ordered = sorted(seen.found.values(), key=lambda f: (f.start, -f.end, f.name.start_byte))
    decorations = sorted(
        (item.node.start_byte, item.end) for item in leading if item.is_decoration
    )
    return [
        _definition(source, seen, found, container, decorations)
        for found, container in zip(ordered, _nesting(ordered))
    ]


def _definition(
    source: bytes,
    seen: _Matches,
    found: _Found,
    container: _Found | None,
    decorations: list[tuple[int, int]],
) -> Definition:
    """Build the public record of one found definition."""
    captures = found.captures
    body = _body_range(captures)
    doc, doc_start, doc_end = _doc(source, found)
    parent = None
    if explicit := captures.get("parent"):
        parent = _text(source, explicit[0])
    elif container is not None and container.kind in CONTAINER_KINDS:
        parent = _text(source, container.name)
    kind = "method" if found.kind == "function" and parent is not None else found.kind
    outer, first = found.outer, found.first
    assert outer is not None and first is not None
    end_row = outer.end_point.row - source.count(b"\n", found.end, outer.end_byte)
    signature_end = body[0] if body else found.node.end_byte
    return Definition(
        name=_text(source, found.name),
        kind=kind,
        start_byte=found.start,
        end_byte=found.end,
        start_line=first.start_point.row,
        end_line=end_row,
        name_start_byte=found.name.start_byte,
        signature=_signature(source, found.node.start_byte, signature_end, decorations),
        body_start_byte=body[0] if body else None,
        body_end_byte=body[1] if body else None,
        doc=doc,
        doc_start_byte=doc_start,
        doc_end_byte=doc_end,
        parameters=tuple(found.parameters),
        parent=parent,
        is_public=_is_public(seen, found),
        decorated=_decorated(found, decorations),
        doc_comment=_doc_comment(source, seen, found),
    )


def _decorated(found: _Found, decorations: list[tuple[int, int]]) -> bool:
    """A decoration lies in the definition's range before its node (``@cache`` over ``def``)."""
    index = bisect_left(decorations, (found.start, found.start))
    return index < len(decorations) and decorations[index][0] < found.node.start_byte


def enclosing(definitions: list[Definition], byte_offset: int) -> list[Definition]:
    """The definitions containing ``byte_offset`` (end inclusive), outermost first."""
    containing = [d for d in definitions if d.start_byte <= byte_offset <= d.end_byte]
    return sorted(containing, key=lambda d: (d.start_byte, -d.end_byte))


# ---------------------------------------------------------------------------------------------
# Imports and identifiers


def _module_text(source: bytes, node: Node) -> str:
    """The module as written, without surrounding quotes or angle brackets."""
    text = _text(source, node)
    if len(text) >= 2 and (closing := _QUOTES.get(ord(text[0]))) and text.endswith(closing):
        return text[1:-1]
    return text


def imports(tree: Tree, source: bytes, spec: LanguageSpec) -> list[ImportRef]:
    """Every import in the tree, in source order."""
    queries = _queries(spec)
    grouped: dict[tuple[int, int], tuple[Node, Node, dict[int, Node], bool]] = {}
    for pattern, captures in _query_matches(queries.imports, tree.root_node):
        statement, module = captures.get("import"), captures.get("module")
        if not statement or not module:
            continue
        key = (statement[0].id, module[0].id)
        fixed, regex = queries.import_locality[pattern]
        local = fixed if fixed is not None else bool(
            regex and regex.search(_module_text(source, module[0]))
        )
        _, _, names, was_local = grouped.get(key, (statement[0], module[0], {}, False))
        names.update((node.id, node) for node in captures.get("name", ()))
        grouped[key] = (statement[0], module[0], names, was_local or local)
    ordered = sorted(grouped.values(), key=lambda g: (g[0].start_byte, g[1].start_byte))
    return [
        ImportRef(
            module=_module_text(source, module),
            names=tuple(
                _text(source, n) for n in sorted(names.values(), key=lambda n: n.start_byte)
            ),
            is_local=local,
            start_byte=statement.start_byte,
            end_byte=_content_end(source, statement),
        )
        for statement, module, names, local in ordered
    ]


def identifiers_in(
    tree: Tree, source: bytes, spec: LanguageSpec, start_byte: int, end_byte: int
) -> set[str]:
    """Identifier names (not keywords or string contents) in [start_byte, end_byte)."""
    if end_byte <= start_byte:
        return set()
    cursor = QueryCursor(_queries(spec).identifiers)
    cursor.set_byte_range(start_byte, end_byte)
    names: set[str] = set()
    for nodes in cursor.captures(tree.root_node).values():
        for node in nodes:
            if node.start_byte < end_byte and node.end_byte > start_byte and not node.is_missing:
                names.add(source[node.start_byte:node.end_byte].decode("utf-8", "replace"))
    return names
