"""Tree-sitter lookups by position that are safe for any position, inside the tree or not.

py-tree-sitter (0.25, 0.26) crashes the process with SIGSEGV in ``Node.first_child_for_byte``
and ``Node.first_named_child_for_byte`` when no child ends after the byte (a cursor on the
blank lines below the last definition) or the node has no children; and positions are
unsigned 32-bit in C, so a negative or huge offset silently wraps to another place. Every
position lookup in llama_lsp goes through this module (``tests/test_walk.py`` checks it).
"""

from __future__ import annotations

from tree_sitter import Node


def first_child_for_byte(node: Node, byte: int) -> Node | None:
    """The first child of ``node`` that ends after ``byte``; None when there is none."""
    if node.child_count == 0 or byte >= node.end_byte:
        return None
    cursor = node.walk()  # the cursor's lookup returns None where the Node's one crashes
    if cursor.goto_first_child_for_byte(max(byte, 0)) is None:
        return None
    return cursor.node


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
    if node.child_count == 0 or start >= node.end_byte:
        return []
    cursor = node.walk()
    if cursor.goto_first_child_for_byte(max(start, 0)) is None:
        return []
    found = []
    while cursor.node is not None and cursor.node.start_byte <= end:
        found.append(cursor.node)
        if not cursor.goto_next_sibling():
            break
    return found
