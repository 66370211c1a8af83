"""Open documents: text kept in sync with the editor, incrementally re-parsed with tree-sitter.

A :class:`Document` is mutated only by the protocol thread (open/change/close notifications);
features read an immutable :class:`DocumentSnapshot`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import unquote, urlparse

from tree_sitter import Tree

from llama_lsp.config.settings import Settings
from llama_lsp.context.positions import LineIndex, Position, PositionEncoding
from llama_lsp.context.syntax.languages import LanguageSpec, spec_for
from llama_lsp.context.syntax.parsing import IncrementalParser, TextEdit

_DEFAULTS = Settings()
BINARY_SNIFF_CHARS = 8192
"""Characters from the start of a document that decide whether it looks binary."""
BINARY_SHARE = 0.1
"""Share of control or undecodable characters above which a document looks binary."""
_ODD_CHARACTERS = re.compile("[\x00-\x07\x0e-\x1a\x1c-\x1f\x7f\ufffd]")
"""Control characters other than tab, line breaks, backspace and escape; DEL; U+FFFD."""


def looks_binary(text: str) -> bool:
    """True for a document with NUL characters, or whose start is mostly control or
    undecodable (U+FFFD) characters: not text a model should read."""
    if "\x00" in text:
        return True
    head = text[:BINARY_SNIFF_CHARS]
    return len(_ODD_CHARACTERS.findall(head)) > BINARY_SHARE * len(head)


def uri_to_path(uri: str) -> str | None:
    """The file system path of a ``file:`` URI, else None."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return unquote(parsed.path)


@dataclass(frozen=True)
class DocumentSnapshot:
    """One version of a document, safe to read from any thread."""

    uri: str
    language_id: str
    version: int
    text: str
    index: LineIndex
    tree: Tree | None
    language: LanguageSpec | None
    problem: str | None = None
    """Why this document gets no completions (binary, too large), or None."""
    no_tree: str | None = None
    """Why a document whose language has a grammar gets no syntax tree (more lines or bytes
    than the parse limits): completions then see only the text around the cursor."""
    tree_current: bool = True
    """False when the reparse ran out of its time budget: ``tree`` is then the previous parse
    with the newer edits' positions applied (its nodes are right except at the new text)."""

    @property
    def path(self) -> str | None:
        """File system path, for ``file:`` URIs."""
        return uri_to_path(self.uri)

    @cached_property
    def source(self) -> bytes:
        """The text as UTF-8 (what tree-sitter's byte offsets count), encoded once."""
        return self.text.encode("utf-8", "surrogatepass")

    @cached_property
    def is_ascii(self) -> bool:
        """True when every character is one byte (code-point offsets are byte offsets)."""
        return self.text.isascii()

    def byte_offset(self, offset: int) -> int:
        """The UTF-8 byte offset of a code-point offset."""
        return offset if self.is_ascii else len(self.text[:offset].encode("utf-8", "surrogatepass"))


def _byte_point(index: LineIndex, offset: int) -> tuple[int, int]:
    """Tree-sitter point (row, UTF-8 byte column) of a code-point offset."""
    position = index.position_at(offset, PositionEncoding.UTF8)
    return position.line, position.character


@dataclass
class Document:
    """The server's copy of one open document."""

    uri: str
    language_id: str
    version: int
    text: str
    max_bytes: int
    max_parse_lines: int = _DEFAULTS.max_parse_lines
    max_parse_bytes: int = _DEFAULTS.max_parse_bytes
    _index: LineIndex = field(init=False)
    _parser: IncrementalParser | None = field(init=False, default=None)
    _problem: str | None = field(init=False, default=None)
    _no_tree: str | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._index = LineIndex(self.text)
        self._reset_parser()

    def _reset_parser(self) -> None:
        self._problem, self._no_tree = self._check_limits()
        spec = spec_for(self.language_id, uri_to_path(self.uri))
        if spec is None or self._problem is not None or self._no_tree is not None:
            self._parser = None
            return
        try:
            self._parser = IncrementalParser(spec)
        except Exception as error:  # noqa: BLE001 - a broken grammar must not stop the server
            self._problem = f"tree-sitter grammar for {spec.language_id} failed to load: {error}"
            self._parser = None
            return
        self._parser.parse_full(self.text.encode("utf-8", "surrogatepass"))

    def _check_limits(self) -> tuple[str | None, str | None]:
        """(why the document gets no completions, why it gets no syntax tree)."""
        text = self.text
        size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
        if size > self.max_bytes:
            return (f"the document is larger than maxFileBytes ({self.max_bytes} bytes); "
                    "raise that setting to get completions here"), None
        if looks_binary(text):
            return "the document looks binary (NUL, control or undecodable characters)", None
        lines = self._index.line_count
        if lines > self.max_parse_lines:
            return None, (f"{lines} lines, more than maxParseLines ({self.max_parse_lines}): "
                          "no syntax tree, completions see only the text around the cursor")
        if size > self.max_parse_bytes:
            return None, (f"{size} bytes, more than maxParseBytes ({self.max_parse_bytes}): "
                          "no syntax tree, completions see only the text around the cursor")
        return None, None

    def replace_all(self, text: str, version: int) -> None:
        """Replace the whole text (a full-sync change)."""
        self.text = text
        self.version = version
        self._index = LineIndex(text)
        self._reset_parser()

    def apply_change(
        self,
        start: Position,
        end: Position,
        new_text: str,
        encoding: PositionEncoding,
        version: int,
    ) -> None:
        """Apply one incremental change; positions past the end are clamped to the end."""
        index = self._index
        start_offset = self._clamped_offset(start, encoding)
        end_offset = max(start_offset, self._clamped_offset(end, encoding))
        old_text = self.text
        new_index = index.edited(start_offset, end_offset, new_text)
        self.text = new_index.text
        self.version = version
        self._index = new_index
        if self._check_limits() != (self._problem, self._no_tree):
            self._reset_parser()
            return
        if self._parser is None:
            return
        start_byte = len(old_text[:start_offset].encode("utf-8", "surrogatepass"))
        edit = TextEdit(
            start_byte=start_byte,
            old_end_byte=start_byte
            + len(old_text[start_offset:end_offset].encode("utf-8", "surrogatepass")),
            new_end_byte=start_byte + len(new_text.encode("utf-8", "surrogatepass")),
            start_point=_byte_point(index, start_offset),
            old_end_point=_byte_point(index, end_offset),
            new_end_point=_byte_point(new_index, start_offset + len(new_text)),
        )
        self._parser.edit(edit)

    def _clamped_offset(self, position: Position, encoding: PositionEncoding) -> int:
        if position.line >= self._index.line_count:
            return len(self.text)
        return self._index.offset_at(
            Position(max(0, position.line), max(0, position.character)), encoding
        )

    @property
    def parse_pending(self) -> bool:
        """True when edits since the last parse are not in the tree yet."""
        return self._parser is not None and self._parser.stale

    def parse(self, budget_seconds: float | None = None) -> bool:
        """Reparse pending edits; False when ``budget_seconds`` ran out (the next call resumes)."""
        parser = self._parser
        if parser is None or not parser.stale:
            return True
        return parser.reparse(self.text.encode("utf-8", "surrogatepass"), budget_seconds)

    def snapshot(self, parse_budget_seconds: float | None = None) -> DocumentSnapshot:
        """An immutable view of the current version, reparsing pending edits first.

        With a budget, a reparse that does not finish in time leaves the snapshot with the
        edited previous tree (``tree_current`` False); without one the tree is always current.
        """
        parser = self._parser
        current = self.parse(parse_budget_seconds)
        return DocumentSnapshot(
            uri=self.uri,
            language_id=self.language_id,
            version=self.version,
            text=self.text,
            index=self._index,
            tree=parser.share() if parser else None,
            language=parser.spec if parser else None,
            problem=self._problem,
            no_tree=self._no_tree,
            tree_current=current,
        )


class DocumentStore:
    """All open documents, by URI."""

    def __init__(self, max_bytes: int = _DEFAULTS.max_file_bytes,
                 max_parse_lines: int = _DEFAULTS.max_parse_lines,
                 max_parse_bytes: int = _DEFAULTS.max_parse_bytes) -> None:
        self.max_bytes = max_bytes
        self.max_parse_lines = max_parse_lines
        self.max_parse_bytes = max_parse_bytes
        self._documents: dict[str, Document] = {}

    def open(self, uri: str, language_id: str, version: int, text: str) -> Document:
        """Start tracking a document (re-opening replaces it)."""
        document = Document(uri, language_id, version, text, self.max_bytes,
                            self.max_parse_lines, self.max_parse_bytes)
        self._documents[uri] = document
        return document

    def get(self, uri: str) -> Document | None:
        """The open document at ``uri``, if any."""
        return self._documents.get(uri)

    def close(self, uri: str) -> None:
        """Stop tracking a document."""
        self._documents.pop(uri, None)

    def documents(self) -> list[Document]:
        """Every open document."""
        return list(self._documents.values())

    def snapshots(self) -> list[DocumentSnapshot]:
        """A snapshot of every open document."""
        return [document.snapshot() for document in self._documents.values()]

    def __len__(self) -> int:
        return len(self._documents)
