"""Checks every generated edit passes before it is offered: it parses and stays in bounds."""

from __future__ import annotations

from tree_sitter import Node, Parser, Tree

from llama_lsp.context.syntax.languages import LanguageSpec, load_language
from llama_lsp.context.syntax.outline import Definition, outline
from llama_lsp.features.actions.placement import Edit


class EditRejected(ValueError):
    """A generated edit that would break the file or reach outside its definition."""


def error_count(tree: Tree) -> int:
    """ERROR and MISSING nodes in ``tree`` (only subtrees that contain errors are visited)."""
    if not tree.root_node.has_error:
        return 0
    count = 0
    stack: list[Node] = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            count += 1
        stack.extend(child for child in node.children if child.has_error or child.is_missing)
    return count


def parse(spec: LanguageSpec, text: str) -> Tree:
    """A fresh parse of ``text``."""
    return Parser(load_language(spec)).parse(text.encode("utf-8", "surrogatepass"))


def check_edit(spec: LanguageSpec, text: str, old_tree: Tree | None, edit: Edit,
               bounds: tuple[int, int]) -> tuple[str, Tree]:
    """The edited text and its tree; raises :class:`EditRejected` when the edit reaches
    outside ``bounds`` (code points) or the result has more syntax errors than before."""
    if edit.start < bounds[0] or edit.end > bounds[1] or edit.start > edit.end:
        raise EditRejected("the edit reaches outside the definition it was made for")
    edited = edit.apply(text)
    tree = parse(spec, edited)
    before = error_count(old_tree) if old_tree is not None else error_count(parse(spec, text))
    after = error_count(tree)
    if after > before:
        raise EditRejected(f"the result would not parse ({after - before} new syntax errors)")
    return edited, tree


def definition_after(spec: LanguageSpec, edited: str, tree: Tree, name: str,
                     start: int, end: int) -> Definition:
    """The definition called ``name`` that starts inside ``[start, end)`` (code points) of the
    edited text; raises :class:`EditRejected` when there is none."""
    source = edited.encode("utf-8", "surrogatepass")
    start_byte = len(edited[:start].encode("utf-8", "surrogatepass"))
    end_byte = start_byte + len(edited[start:end].encode("utf-8", "surrogatepass"))
    for definition in outline(tree, source, spec):
        if definition.name == name and start_byte <= definition.name_start_byte < end_byte:
            return definition
    raise EditRejected(f"the result no longer defines {name!r} where it was")
