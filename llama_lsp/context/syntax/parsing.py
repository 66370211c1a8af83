"""Incremental tree-sitter parsing of one document, optionally under a time budget."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from tree_sitter import Parser, Point, Tree

from llama_lsp.context.syntax.languages import LanguageSpec, load_language


# Bytes handed to tree-sitter per read when parsing under a time budget.
READ_CHUNK_BYTES = 8192


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
    per keystroke. A reparse may be given a time budget: when it runs out, ``tree`` stays the
    edited old tree and the next ``reparse`` resumes where tree-sitter stopped, unless an edit
    came in between (then it starts over from the old tree).
    """

    def __init__(self, spec: LanguageSpec,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.spec = spec
        self._clock = clock
        """Seconds for time budgets (tests count parse steps with it)."""
        self._parser = Parser(load_language(spec))
        self.tree: Tree | None = None
        self.stale = False
        """True when ``tree`` was edited but not reparsed since."""
        self._halted: bytes | None = None
        """The source of a reparse that ran out of time (tree-sitter keeps its progress)."""
        self._shared = False
        """True when ``tree`` was handed out (see ``share``): edits must go to a copy."""

    def parse_full(self, source: bytes) -> Tree:
        """Parse ``source`` from scratch."""
        self._forget_halted()
        self.tree = self._parser.parse(source)
        self.stale = False
        return self.tree

    def edit(self, edit: TextEdit) -> None:
        """Record ``edit`` in (a copy of) the tree; snapshots keep the tree they were given."""
        if self.tree is None:
            return
        self._forget_halted()
        tree = self.tree if self.stale and not self._shared else self.tree.copy()
        self._shared = False
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

    def reparse(self, source: bytes, budget_seconds: float | None = None) -> bool:
        """Bring ``tree`` up to date with ``source``; False when ``budget_seconds`` ran out first.

        Without a budget the parse always finishes.
        """
        if self.tree is None:
            self.parse_full(source)
            return True
        if not self.stale:
            return True
        resumed = self._halted is not None
        if resumed:
            source = self._halted  # resuming: tree-sitter needs the text it started on
        if budget_seconds is None:
            tree = self._parser.parse(source, self.tree)
        else:
            # Only a read callback can be given a progress callback (the budget).
            def read(byte: int, _point: Point) -> bytes:
                # bytes, not a memoryview: query predicates read node text through this
                return source[byte:byte + READ_CHUNK_BYTES]

            deadline = self._clock() + budget_seconds
            stopped: list[bool] = []

            def out_of_time(_byte: int, _error: bool) -> bool:
                if self._clock() > deadline:
                    stopped.append(True)
                return bool(stopped)

            try:
                tree = self._parser.parse(read, self.tree, progress_callback=out_of_time)
            except ValueError:  # py-tree-sitter's "Parsing failed"
                if not stopped:
                    raise  # not the budget: a real failure
                self._halted = source
                return False
        if resumed and tree.root_node.has_error:
            # tree-sitter's error recovery can end differently after a halt than in one run
            # (about 1 in 1,000 random edit sequences): redo such a parse in one run.
            self._parser.reset()
            tree = self._parser.parse(source, self.tree)
        self._halted = None
        self.tree = tree
        self.stale = False
        return True

    def share(self) -> Tree | None:
        """``tree`` for a reader that keeps it (a snapshot): later edits leave it untouched."""
        self._shared = True
        return self.tree

    def _forget_halted(self) -> None:
        if self._halted is not None:
            self._parser.reset()
            self._halted = None

    def apply(self, edits: list[TextEdit], source: bytes) -> Tree:
        """Record ``edits`` (in order) and reparse ``source`` now."""
        for edit in edits:
            self.edit(edit)
        self.reparse(source)
        assert self.tree is not None
        return self.tree
