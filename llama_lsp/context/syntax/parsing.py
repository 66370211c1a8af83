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
    """Keeps one document's tree current: ``edit`` the old tree, then reparse with it."""

    def __init__(self, spec: LanguageSpec) -> None:
        self.spec = spec
        self._parser = Parser(load_language(spec))
        self.tree: Tree | None = None

    def parse_full(self, source: bytes) -> Tree:
        """Parse ``source`` from scratch."""
        self.tree = self._parser.parse(source)
        return self.tree

    def apply(self, edits: list[TextEdit], source: bytes) -> Tree:
        """Tell the old tree about ``edits`` (in order) and reparse ``source`` reusing it."""
        if self.tree is None:
            return self.parse_full(source)
        # Edit a copy: snapshots handed to other threads keep the old tree unchanged.
        tree = self.tree.copy()
        for edit in edits:
            tree.edit(
                start_byte=edit.start_byte,
                old_end_byte=edit.old_end_byte,
                new_end_byte=edit.new_end_byte,
                start_point=Point(*edit.start_point),
                old_end_point=Point(*edit.old_end_point),
                new_end_point=Point(*edit.new_end_point),
            )
        self.tree = self._parser.parse(source, tree)
        return self.tree
