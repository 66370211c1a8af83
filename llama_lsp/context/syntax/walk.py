"""Tree-sitter lookups by position that are safe for any position, inside the tree or not.

py-tree-sitter (0.25, 0.26) crashes the process with SIGSEGV in ``Node.first_child_for_byte``
(and ``first_named_child_for_byte``) when no child ends after the byte (a cursor on the blank
lines below the last definition), and also from some gaps between children (Go, before a
comment): it is never called. ``TreeCursor.goto_first_child_for_byte`` does not crash but finds
nothing from such a gap, so a linear step through the children backs it up. Positions are
unsigned 32-bit in C: a negative or huge offset would silently wrap to another place. Every
position lookup in llama_lsp goes through this module (``tests/test_walk.py`` checks it).
"""

from __future__ import annotations

from tree_sitter import Node, TreeCursor


def _cursor_on_first_child_after(node: Node, byte: int) -> TreeCursor | None:
    """A cursor on the first child of ``node`` that ends after ``byte``; None if none does."""
    if node.child_count == 0 or byte >= node.end_byte:
        return None
    cursor = node.walk()
    if cursor.goto_first_child_for_byte(max(byte, 0)) is not None:
        return cursor
    if not cursor.goto_first_child():  # from a gap: step through the children
        return None
    while cursor.node is not None and cursor.node.end_byte <= byte:
        if not cursor.goto_next_sibling():
            return None
    return cursor


def first_child_for_byte(node: Node, byte: int) -> Node | None:
    """The first child of ``node`` that ends after ``byte``; None when there is none."""
    cursor = _cursor_on_first_child_after(node, byte)
    return cursor.node if cursor is not None else None


def descendant_for_byte_range(node: Node, start: int, end: int) -> Node:
    """The smallest node under ``node`` spanning ``[start, end]``; ``node`` itself when the
    range is not inside it (as tree-sitter does, without wrapping negative or huge offsets)."""
    if not node.start_byte <= start <= end <= node.end_byte:
        return node
    return node.descendant_for_byte_range(start, end) or node


def named_descendant_for_point(node: Node, line: int, column: int) -> Node:
    """The smallest named node under ``node`` at ``(line, column)``; ``node`` itself when the
    point is not inside it."""
    point = (line, column)
    if not tuple(node.start_point) <= point <= tuple(node.end_point):
        return node
    return node.named_descendant_for_point_range(point, point) or node


def children_overlapping(node: Node, start: int, end: int) -> list[Node]:
    """The children of ``node`` that end after ``start`` and begin at or before ``end``.

    A tree cursor steps from sibling to sibling in constant time, where ``Node.next_sibling``
    searches from the parent (quadratic over a file's top-level statements).
    """
    cursor = _cursor_on_first_child_after(node, start)
    found: list[Node] = []
    while cursor is not None and cursor.node is not None and cursor.node.start_byte <= end:
        found.append(cursor.node)
        if not cursor.goto_next_sibling():
            break
    return found
