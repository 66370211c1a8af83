"""Statement boundaries: lines where a window of code may start or after which it may end.

A line is a boundary when the innermost syntax node that began on an earlier line and
contains the line's first character is a container of statements (a module, block, body,
definition, statement or clause), not an expression, string or argument list: cutting there
never splits a string, a call's arguments or a literal.
"""

from __future__ import annotations

from tree_sitter import Tree

from llama_lsp.context.syntax import walk

_CONTAINER_SUFFIXES = (
    "module", "program", "source_file", "translation_unit", "block", "body",
    "declaration_list", "compound_statement", "_definition", "_declaration", "_statement",
    "_item", "_clause", "_specifier", "ERROR",
)


def is_container(node_type: str) -> bool:
    """True for node types that hold whole statements or definitions."""
    return node_type.endswith(_CONTAINER_SUFFIXES)


def starts_at_boundary(tree: Tree, line: int, column: int) -> bool:
    """True when a window may start at ``(line, column)`` (the line's first non-blank)."""
    node = walk.named_descendant_for_point(tree.root_node, line, column)
    while node is not None and node.start_point[0] >= line and node.parent is not None:
        node = node.parent
    if node is None or node.start_point[0] >= line:
        return True  # the root starts on this line: nothing encloses it
    return is_container(node.type)


def enclosing_expression_end(tree: Tree, line: int, column: int) -> int | None:
    """The last line of the outermost expression, string or literal that began before
    ``line`` and holds ``(line, column)`` (a long docstring, a big dict); None when the line
    is a boundary."""
    node = walk.named_descendant_for_point(tree.root_node, line, column)
    while node is not None and node.start_point[0] >= line and node.parent is not None:
        node = node.parent
    if node is None or node.start_point[0] >= line or is_container(node.type):
        return None
    while node.parent is not None and not is_container(node.parent.type):
        node = node.parent
    return node.end_point[0]
