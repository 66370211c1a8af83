"""Incremental tree-sitter parsing of one document."""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Parser, Point, Tree

from llama_lsp.context.syntax.languages import LanguageSpec, load_language


@dataclass(frozen=True)
class TextEdit:
    """One replacement expressed in UTF-8 bytes and tree-sitter points (row, byte column)."""

    start_byte: int
    old_end_byte: int
    new_end_byte: int
    start_point: tuple[int, int]
    old_end_point: tuple[int, int]
    new_end_point: tuple[int, int]


class IncrementalParser:
    """Keeps one document's tree: edits are recorded at once, the reparse waits until needed.

    ``edit`` is cheap (the old tree's positions are shifted); ``reparse`` runs tree-sitter once
    for every edit since the last parse, so fast typing costs one parse per request, not one
    per keystroke.
    """

    def __init__(self, spec: LanguageSpec) -> None:
        self.spec = spec
        self._parser = Parser(load_language(spec))
        self.tree: Tree | None = None
        self.stale = False
        """True when ``tree`` was edited but not reparsed since."""

    def parse_full(self, source: bytes) -> Tree:
        """Parse ``source`` from scratch."""
        self.tree = self._parser.parse(source)
        self.stale = False
        return self.tree

    def edit(self, edit: TextEdit) -> None:
        """Record ``edit`` in (a copy of) the tree; snapshots keep the tree they were given."""
        if self.tree is None:
            return
        tree = self.tree if self.stale else self.tree.copy()
        tree.edit(
            start_byte=edit.start_byte,
            old_end_byte=edit.old_end_byte,
            new_end_byte=edit.new_end_byte,
            start_point=Point(*edit.start_point),
            old_end_point=Point(*edit.old_end_point),
            new_end_point=Point(*edit.new_end_point),
        )
        self.tree = tree
        self.stale = True

    def reparse(self, source: bytes) -> Tree:
        """The tree of ``source``, reparsing incrementally if edits are pending."""
        if self.tree is None:
            return self.parse_full(source)
        if self.stale:
            self.tree = self._parser.parse(source, self.tree)
            self.stale = False
        return self.tree

    def apply(self, edits: list[TextEdit], source: bytes) -> Tree:
        """Record ``edits`` (in order) and reparse ``source`` now."""
        for edit in edits:
            self.edit(edit)
        return self.reparse(source)
