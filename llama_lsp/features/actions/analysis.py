"""What the syntax tree says about one definition: parameters, returns, yields, raises, doc.

Everything here reads a parsed snapshot; nothing calls the model. Offsets are UTF-8 byte
offsets into ``source`` (tree-sitter's unit); :mod:`placement` converts them for edits.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node, Tree

from llama_lsp.context.syntax import walk
from llama_lsp.context.syntax.languages import spec_for
from llama_lsp.context.syntax.outline import Definition, outline
from llama_lsp.context.syntax.outline import Parameter as OutlineParameter

DOCUMENTED_KINDS = frozenset({
    "function", "method", "class", "struct", "interface", "enum", "trait", "type", "union",
})
FUNCTION_KINDS = frozenset({"function", "method"})

_PARAMETER_LISTS = frozenset({"parameters", "formal_parameters", "parameter_list"})
_FUNCTION_NODES = frozenset({
    "function_definition", "function_declaration", "generator_function_declaration",
    "method_definition", "arrow_function", "function_expression", "generator_function",
    "method_declaration", "constructor_declaration", "function_item", "function_signature_item",
    "method_signature", "function_signature", "abstract_method_signature", "declaration",
    "field_declaration", "func_literal",
})
# Nodes whose bodies belong to someone else (returns/raises inside them are not ours).
_NESTED_SCOPES = _FUNCTION_NODES | frozenset({
    "class_definition", "lambda", "class_declaration", "class", "closure_expression",
    "function_expression", "lambda_expression",
})
_NO_VALUE_TYPES = frozenset({"None", "void", "NoReturn", "Never", "never", "undefined", "()"})
_RUST_PANICS = frozenset({"panic", "unreachable", "todo", "unimplemented", "assert",
                          "assert_eq", "assert_ne"})
_DATACLASS = re.compile(r"@(?:\w+\.)*(?:dataclass|define|frozen|attrs?\.s)\b")


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


def _text(source: bytes, node: Node | None) -> str:
    if node is None:
        return ""
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


def _outermost(definition: Definition, tree: Tree) -> Node | None:
    """The largest node inside the definition's span that contains its name."""
    name_end = definition.name_start_byte + len(definition.name.encode("utf-8"))
    node = walk.descendant_for_byte_range(tree.root_node, definition.name_start_byte,
                                         name_end)
    if node is None:
        return None
    while (parent := node.parent) is not None and (
        definition.start_byte <= parent.start_byte and parent.end_byte <= definition.end_byte
    ) and parent.type not in ("module", "program", "source_file", "translation_unit"):
        node = parent
    return node


def _find(node: Node, types: frozenset[str], after: int, stop: int | None) -> Node | None:
    """First descendant of ``node`` of one of ``types`` starting at/after ``after``, before
    ``stop`` (the body), in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        if stop is not None and current.start_byte >= stop:
            continue
        if current.type in types and current.start_byte >= after:
            return current
        stack.extend(reversed(current.children))
    return None


def _function_node(parameters: Node | None) -> Node | None:
    node = parameters
    while node is not None and node.type not in _FUNCTION_NODES:
        node = node.parent
    return node


def _walk_own(node: Node) -> Iterator[Node]:
    """Every descendant of ``node`` not inside a nested function, class or lambda."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if current.type not in _NESTED_SCOPES:
            stack.extend(reversed(current.children))


# ---------------------------------------------------------------------------------------------
# Parameters (read by the outline from the language's definitions.scm)


def _documented(parameters: tuple[OutlineParameter, ...]) -> list[Parameter]:
    """The parameters a doc lists, as it names them; receivers (``self``) left out."""
    return [Parameter(p.label, p.type, p.default) for p in parameters if not p.receiver]


# ---------------------------------------------------------------------------------------------
# Results, raises and panics


def _return_type(language_id: str, source: bytes, function: Node | None) -> str | None:
    if function is None:
        return None
    if language_id == "go":
        return _text(source, function.child_by_field_name("result")) or None
    if language_id == "java":
        if function.type == "constructor_declaration":
            return None
        return _text(source, function.child_by_field_name("type")) or None
    if language_id in ("c", "cpp"):
        type_text = _text(source, function.child_by_field_name("type"))
        declarator = function.child_by_field_name("declarator")
        if declarator is not None and declarator.type in ("pointer_declarator",
                                                          "reference_declarator"):
            type_text += "*" if declarator.type == "pointer_declarator" else "&"
        return type_text or None
    node = function.child_by_field_name("return_type")
    return _text(source, node).lstrip(":").strip() if node is not None else None


def _exception_name(source: bytes, node: Node | None) -> str | None:
    """``ValueError`` for ``ValueError("x")``, ``new TypeError()``, ``errors.Bad``."""
    while node is not None and node.type in ("call", "call_expression", "new_expression",
                                              "object_creation_expression",
                                              "parenthesized_expression"):
        inner = (node.child_by_field_name("function") or node.child_by_field_name("constructor")
                 or node.child_by_field_name("type"))
        if inner is None:
            inner = node.named_children[0] if node.named_children else None
        node = inner
    if node is None:
        return None
    name = _text(source, node)
    return name if re.fullmatch(r"[\w.:<>]+", name) else None


def _body_facts(language_id: str, source: bytes, body: Node | None,
                function: Node | None) -> tuple[bool, bool, list[str], bool]:
    """(returns a value, yields, raised exception names, panics) from the body."""
    returns = yields = panics = False
    raised: list[str] = []
    if function is not None and function.type in ("generator_function_declaration",
                                                  "generator_function"):
        yields = True
    if function is not None and function.type == "method_definition" and any(
            c.type == "*" for c in function.children):
        yields = True
    if body is None:
        return returns, yields, raised, panics
    if function is not None and function.type == "arrow_function" \
            and body.type != "statement_block":
        returns = True  # `(x) => x * 2`
    for node in _walk_own(body):
        kind = node.type
        if kind in ("return_statement", "return_expression") and node.named_child_count:
            returns = True
        elif kind in ("yield", "yield_expression"):
            yields = True
        elif kind in ("raise_statement", "throw_statement", "throw_expression"):
            name = _exception_name(source, node.named_children[0] if node.named_children
                                   else None)
            if name and name not in raised:
                raised.append(name)
        elif kind == "macro_invocation":
            macro = _text(source, node.child_by_field_name("macro"))
            panics = panics or macro in _RUST_PANICS
        elif kind == "field_identifier" and language_id == "rust":
            panics = panics or _text(source, node) in ("unwrap", "expect")
    if function is not None and language_id == "java":
        for child in function.children:
            if child.type == "throws":
                for item in child.named_children:
                    name = _text(source, item)
                    if name not in raised:
                        raised.append(name)
    return returns, yields, raised, panics


def _python_class_parameters(definition: Definition, tree: Tree, source: bytes, outer: Node,
                             body: Node | None) -> tuple[list[Parameter], bool]:
    """``__init__`` parameters, or annotated fields of a dataclass-like class."""
    if body is None:
        return [], False
    spec = spec_for("python")
    assert spec is not None
    inner = outline(tree, source, spec, byte_range=(body.start_byte, body.end_byte))
    for method in inner:
        if method.name == "__init__" and method.parent == definition.name and \
                definition.start_byte < method.start_byte < definition.end_byte:
            return _documented(method.parameters), False
    decorators = " ".join(_text(source, child) for child in outer.children
                          if child.type == "decorator")
    if not _DATACLASS.search(decorators):
        return [], False
    fields = []
    for statement in body.named_children:
        assignment = statement.named_children[0] if statement.type == "expression_statement" \
            and statement.named_children else None
        if assignment is None or assignment.type != "assignment":
            continue
        type_node = assignment.child_by_field_name("type")
        left = assignment.child_by_field_name("left")
        if type_node is None or left is None or left.type != "identifier":
            continue
        type_text = _text(source, type_node)
        if type_text.startswith(("ClassVar", "typing.ClassVar")):
            continue
        right = assignment.child_by_field_name("right")
        fields.append(Parameter(_text(source, left), type_text, _text(source, right) or None))
    return fields, True


# ---------------------------------------------------------------------------------------------
# Existing documentation


def analyze(definition: Definition, tree: Tree, source: bytes, language_id: str) -> Target:
    """Everything the docstring features need to know about ``definition``."""
    outer = _outermost(definition, tree)
    body_start = definition.body_start_byte
    params_node = None
    function = None
    if outer is not None and definition.kind in FUNCTION_KINDS:
        params_node = _find(outer, _PARAMETER_LISTS, definition.name_start_byte, body_start)
        function = _function_node(params_node)
    body = None
    if body_start is not None and definition.body_end_byte is not None:
        body = walk.descendant_for_byte_range(tree.root_node, body_start,
                                              definition.body_end_byte)
        while body is not None and (parent := body.parent) is not None and (
                parent.start_byte, parent.end_byte) == (body.start_byte, body.end_byte):
            body = parent  # the block, not its only statement
    parameters = _documented(definition.parameters)
    attributes = False
    if language_id == "python" and definition.kind == "class" and outer is not None:
        parameters, attributes = _python_class_parameters(definition, tree, source, outer, body)
    return_type = _return_type(language_id, source, function)
    returns, yields, raised, panics = _body_facts(
        language_id, source, body if definition.kind in FUNCTION_KINDS else None, function)
    is_async = function is not None and any(c.type == "async" for c in function.children)
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
        raises=tuple(raised),
        returns_result=bool(return_type and re.search(r"(^|::|\b)Result\b", return_type)),
        panics=panics,
        is_async=is_async,
        indent=_line_indent(source, definition.start_byte),
        body_indent=_python_body_indent(source, definition, body),
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


def _python_body_indent(source: bytes, definition: Definition, body: Node | None) -> str | None:
    if body is None:
        return None
    line_start = source.rfind(b"\n", 0, body.start_byte) + 1
    before = source[line_start:body.start_byte]
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
