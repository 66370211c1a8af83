"""Context from outside the cursor window, as plain-text chunks in priority order.

1. definitions of the functions called on the cursor's line before the cursor (``name(``),
   when defined outside the window and not already among 2.;
2. definitions (signature and docstring, or the whole body when small) of symbols used near
   the cursor but defined outside the window: same file first, then imported files;
3. chunks of other open files that look most like the code around the cursor.

Apart from the calls being written (1.), the cursor's own line is left out of every lookup,
so the chosen context (the stable head of the prompt) only changes when the user moves to
another line or edits nearby code. The chunks of 1. are marked ``at_cursor`` so that prompts
place them last, in line order, next to the cursor window: typing a call only appends to the
prompt's tail, and closing it changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from llama_lsp.context.callee import (
    Parameters,
    call_at_cursor,
    called_names,
    parameters_of,
    single_top_level,
    top_level_named,
)
from llama_lsp.context.documents import DocumentSnapshot
from llama_lsp.context.imports import resolve_import
from llama_lsp.context.scanning import CLOSERS, COMMENT, OPENERS, walk
from llama_lsp.context.syntax.outline import Definition, identifiers_in
from llama_lsp.context.workspace import FileOutline, IndexLease, WorkspaceIndex

# Lines above / below the cursor whose identifiers select definitions and similar chunks.
NEAR_LINES_ABOVE = 40
NEAR_LINES_BELOW = 10
# A definition up to this many lines is shown whole; longer ones as signature + docstring.
WHOLE_DEFINITION_LINES = 12
# At most this many definitions are offered to the prompt builder.
MAX_DEFINITION_CHUNKS = 12
# Other open files are compared in chunks of this many lines.
SIMILAR_CHUNK_LINES = 24
SIMILAR_MAX_CHUNKS = 3
SIMILAR_MIN_SCORE = 0.15
# Chunks at least this similar to the cursor area are near-copies of it and add nothing.
SIMILAR_MAX_SCORE = 0.9
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class ContextChunk:
    """One piece of extra context, with where it came from."""

    path: str
    text: str
    kind: str
    """'definition' or 'similar'."""
    origin: str
    """'this file', 'imported file' or 'open file'."""
    key: tuple[str, int]
    at_cursor: bool = False
    """The definition of a call on the cursor's line (goes last, next to the window)."""
    code: bool = True
    """Source code (False: prose or configuration, where a bare word can be a password)."""


def display_path(path: Path | None, uri: str, roots: list[Path]) -> str:
    """A path relative to its workspace root when possible (never absolute home paths)."""
    if path is None:
        return uri
    for root in roots:
        if path.is_relative_to(root):
            return path.relative_to(root).as_posix()
    return path.name


def repository_name(path: Path | None, roots: list[Path]) -> str | None:
    """The name of the workspace folder that ``display_path`` shows ``path`` relative to, or
    None."""
    if path is None:
        return None
    return next((root.name for root in roots if path.is_relative_to(root)), None) or None


def _line_range(snapshot: DocumentSnapshot, first: int, last: int) -> tuple[int, int]:
    """UTF-8 byte offsets of the start of line ``first`` and the end of line ``last``."""
    index = snapshot.index
    first = max(0, first)
    last = min(index.line_count - 1, last)
    end_offset = index.starts[last + 1] if last + 1 < index.line_count else len(snapshot.text)
    return snapshot.byte_offset(index.starts[first]), snapshot.byte_offset(end_offset)


def identifiers_near(snapshot: DocumentSnapshot, cursor_line: int) -> set[str]:
    """Identifiers referenced around the cursor, its own line excluded."""
    if snapshot.tree is None or snapshot.language is None:
        return set()
    source = snapshot.source
    names: set[str] = set()
    for first, last in ((cursor_line - NEAR_LINES_ABOVE, cursor_line - 1),
                        (cursor_line + 1, cursor_line + NEAR_LINES_BELOW)):
        if last < first or last < 0 or first >= snapshot.index.line_count:
            continue  # nothing above the first line / below the last one
        start, end = _line_range(snapshot, first, last)
        names |= identifiers_in(snapshot.tree, source, snapshot.language, start, end)
    return names


def _comment_above(document: FileOutline, definition: Definition) -> str:
    """The documentation comment directly above a definition (with its line break), or ''."""
    if definition.doc_end_byte is None or definition.doc_end_byte > definition.start_byte:
        return ""
    return document.text_of(definition.doc_start_byte or 0, definition.start_byte)


def _indented_start(document: FileOutline, start_byte: int) -> tuple[int, str]:
    """Where a definition's line starts and its indentation, when only blanks precede it."""
    line_start = document.source.rfind(b"\n", 0, start_byte) + 1
    indent = document.text_of(line_start, start_byte)
    return (line_start, indent) if not indent.strip() else (start_byte, "")


def _dedented(text: str, indent: str) -> str:
    """``text`` (which starts with ``indent``) with ``indent`` taken off every line."""
    return "\n".join(line[len(indent):] if line.startswith(indent) else line
                     for line in text.split("\n"))


def joined_brackets(text: str, language_id: str) -> str:
    """``text`` with the line breaks inside brackets joined: a wrapped signature on one line.

    A trailing comma before a closing bracket goes too; text with a comment, or a literal
    left open at a line's end, inside brackets comes back unchanged (joining would comment out
    the rest, or change the literal).
    """
    scanned = list(walk(text, language_id))
    out: list[str] = []
    depth = 0
    at = 0
    while at < len(text):
        _, character, is_code, state = scanned[at]
        if depth and (state == COMMENT or text.startswith("/*", at) or (
                not is_code and state is not None and text[at + 1:at + 2] == "\n")):
            return text
        if is_code and depth and character in " \t\r\n":
            end = at
            while end < len(text) and text[end] in " \t\r\n":
                end += 1
            following = text[end:end + 1]
            if "\n" not in text[at:end]:
                out.append(text[at:end])
            else:
                if out and out[-1] == "," and following and following in CLOSERS:
                    out.pop()
                if not (out and out[-1] in OPENERS) and not (following and following in CLOSERS):
                    out.append(" ")
            at = end
            continue
        if is_code and character in OPENERS:
            depth += 1
        elif is_code and character in CLOSERS:
            depth = max(0, depth - 1)
        out.append(character)
        at += 1
    return "".join(out)


_PYTHON_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\s*:(?!=)")


def _python_class_interface(document: FileOutline, definition: Definition, head_end: int,
                            indent: str) -> str:
    """A long Python class's annotated fields and ``__init__`` signature: how to build one."""
    methods = [d for d in document.by_name.get("__init__", ()) if d.parent == definition.name
               and definition.start_byte < d.start_byte < definition.end_byte]
    inner = [d.start_byte for d in document.definitions
             if definition.start_byte < d.start_byte < definition.end_byte]
    body = document.text_of(head_end, min(inner, default=definition.end_byte))
    lines = [line for line in body.split("\n") if line.startswith(indent)
             and _PYTHON_FIELD.match(line[len(indent):])]
    if methods and methods[0].body_start_byte is not None:
        init = methods[0]
        signature = joined_brackets(
            document.text_of(init.start_byte, init.body_start_byte).rstrip(),
            document.language.language_id)
        lines.append(f"{indent}{signature}\n{indent}    ...")
    return "\n" + "".join(f"\n{line}" for line in lines) if lines else ""


def render_definition(document: FileOutline, definition: Definition) -> str:
    """The definition whole when short, else its signature and documentation (and, for a
    Python class, its fields and ``__init__`` signature). The signature comes on one line (so
    that models do not copy its line breaks into calls) and a method comes dedented."""
    above = _comment_above(document, definition)
    start, indent = _indented_start(document, definition.start_byte)
    if above and indent:  # the comment starts at the indentation and ends with it
        above = indent + above.removesuffix(indent)
    whole = document.text_of(start, definition.end_byte)
    signature_end = definition.body_start_byte or definition.end_byte
    signature = joined_brackets(document.text_of(start, signature_end),
                                document.language.language_id)
    if whole.count("\n") < WHOLE_DEFINITION_LINES or definition.body_start_byte is None:
        body = document.text_of(signature_end, definition.end_byte)
        return _dedented(above + signature + body, indent)
    head_end = definition.body_start_byte
    if definition.doc_end_byte is not None and definition.doc_start_byte is not None and \
            definition.doc_start_byte >= definition.body_start_byte:
        head_end = definition.doc_end_byte  # Python: the docstring sits in the body
    head = (signature + document.text_of(signature_end, head_end)).rstrip()
    if document.language.language_id == "python":
        body_indent = indent + "    "
        members = _python_class_interface(document, definition, head_end, body_indent) \
            if definition.kind == "class" else ""
        return _dedented(f"{above}{head}{members}\n{body_indent}...", indent)
    text = f"{above}{head} ... }}" if head.endswith("{") else f"{above}{head} {{ ... }}"
    return _dedented(text, indent)


def definition_chunks(
    document: FileOutline,
    related: list[FileOutline],
    names: set[str],
    window_lines: tuple[int, int],
    roots: list[Path],
) -> list[ContextChunk]:
    """Definitions of ``names``: this file (outside the window) first, then related files.

    One definition per name (the first in file order), at most ``MAX_DEFINITION_CHUNKS``.
    """
    chunks: list[ContextChunk] = []
    first, last = window_lines
    found: set[str] = set()
    for origin, outlines in (("this file", [document]), ("imported file", related)):
        for file in outlines:
            path = display_path(file.path, file.uri, roots)
            wanted = sorted((d for name in names - found for d in file.by_name.get(name, ())[:1]),
                            key=lambda d: d.start_byte)
            covered: list[tuple[int, int]] = []
            for definition in wanted:
                if file is document and definition.end_line >= first and \
                        definition.start_line <= last:
                    continue  # already visible in the window (or encloses the cursor)
                if any(s <= definition.start_byte and definition.end_byte <= e for s, e in covered):
                    continue  # inside a definition already shown whole
                text = render_definition(file, definition)
                if text.endswith(file.text_of(definition.start_byte, definition.end_byte)):
                    covered.append((definition.start_byte, definition.end_byte))
                found.add(definition.name)
                chunks.append(ContextChunk(path, text, "definition", origin,
                                           (path, definition.start_line)))
                if len(chunks) >= MAX_DEFINITION_CHUNKS:
                    return chunks
    return chunks


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text))


_CHUNK_CACHE: dict[tuple[str, int], list[tuple[int, str, set[str]]]] = {}
_CHUNK_CACHE_SIZE = 64


def _document_chunks(snapshot: DocumentSnapshot) -> list[tuple[int, str, set[str]]]:
    """(first line, text, words) of each chunk of a document version, cached."""
    key = (snapshot.uri, snapshot.version)
    cached = _CHUNK_CACHE.get(key)
    if cached is None:
        lines = snapshot.text.split("\n")
        cached = []
        for start in range(0, len(lines), SIMILAR_CHUNK_LINES):
            text = "\n".join(lines[start:start + SIMILAR_CHUNK_LINES])
            cached.append((start, text, _words(text)))
        if len(_CHUNK_CACHE) >= _CHUNK_CACHE_SIZE:
            _CHUNK_CACHE.pop(next(iter(_CHUNK_CACHE)))
        _CHUNK_CACHE[key] = cached
    return cached


def similar_chunks(
    cursor_area: str, others: list[DocumentSnapshot], roots: list[Path]
) -> list[ContextChunk]:
    """The chunks of other open documents most similar (identifier Jaccard) to ``cursor_area``."""
    target = _words(cursor_area)
    if not target:
        return []
    scored: list[tuple[float, ContextChunk]] = []
    for snapshot in others:
        if snapshot.problem:
            continue
        path = display_path(Path(snapshot.path) if snapshot.path else None, snapshot.uri, roots)
        code = snapshot.language is not None
        for start, text, words in _document_chunks(snapshot):
            if not words:
                continue
            score = len(words & target) / len(words | target)
            if SIMILAR_MIN_SCORE <= score < SIMILAR_MAX_SCORE:
                scored.append((score, ContextChunk(path, text, "similar", "open file",
                                                   (path, start), code=code)))
    scored.sort(key=lambda item: -item[0])
    return [chunk for _, chunk in scored[:SIMILAR_MAX_CHUNKS]]


def gather_context(
    snapshot: DocumentSnapshot,
    cursor_line: int,
    window_lines: tuple[int, int],
    index: WorkspaceIndex,
    open_documents: list[DocumentSnapshot],
    line_before: str = "",
) -> list[ContextChunk]:
    """All candidate context chunks for a cursor, most important first.

    ``line_before`` is the cursor's line up to the cursor; it only selects the definitions
    of the names called on it.
    """
    chunks: list[ContextChunk] = []
    # Open documents that are secret-bearing or .gitignored never give definitions or chunks.
    others = [s for s in open_documents if s.uri != snapshot.uri and
              not (s.path and index.excluded_reason(Path(s.path)))]
    document = index.document_outline(snapshot)
    if document is not None:
        names = identifiers_near(snapshot, cursor_line)
        outlines = [index.document_outline(s) for s in others]
        related = index.related_files(document) + [o for o in outlines if o is not None]
        chunks += definition_chunks(document, related, names, window_lines, index.roots)
        shown = "\n".join(chunk.text for chunk in chunks)
        called: list[ContextChunk] = []
        for name in called_names(line_before, document.language.language_id):
            for chunk in definition_chunks(document, related, {name}, window_lines, index.roots):
                if chunk.text not in shown:
                    called.append(replace(chunk, at_cursor=True))
                    shown += "\n" + chunk.text
        chunks[:0] = called
    starts = snapshot.index.starts
    area = snapshot.text[starts[max(0, cursor_line - SIMILAR_CHUNK_LINES)]:starts[cursor_line]]
    shown = "\n".join(chunk.text for chunk in chunks)
    for chunk in similar_chunks(area, others, index.roots):
        if chunk.text not in shown:
            chunks.append(chunk)
    return chunks


def _named_outline(snapshot: DocumentSnapshot, name: str) -> FileOutline | None:
    """The top-level definitions called ``name`` (with what they contain), read from the
    snapshot's current tree; None without one."""
    if snapshot.tree is None or snapshot.language is None or not snapshot.tree_current:
        return None
    source = snapshot.source
    definitions = top_level_named(snapshot.tree, source, snapshot.language, name)
    return FileOutline(Path(snapshot.path) if snapshot.path else None, snapshot.uri,
                       snapshot.language, source, tuple(definitions), (), snapshot.version)


class WorkspaceContext:
    """The context source the completion pipeline uses: index + the open documents."""

    def __init__(self, index: WorkspaceIndex, open_documents: list[DocumentSnapshot],
                 lease: IndexLease | None = None) -> None:
        self.index = index
        self.open_documents = open_documents
        self.lease = lease
        """Keeps ``index`` open for the job that reads this context (see ``release``)."""

    def release(self) -> None:
        """The job that read this context is over: let go of the index lease, if any."""
        if self.lease is not None:
            self.lease.release()

    def gather(self, snapshot: DocumentSnapshot, cursor_line: int,
               window_lines: tuple[int, int], line_before: str = "") -> list[ContextChunk]:
        """Candidate chunks for the cursor, most important first."""
        return gather_context(snapshot, cursor_line, window_lines, self.index,
                              self.open_documents, line_before)

    def callee_parameters(self, snapshot: DocumentSnapshot,
                          line_before: str) -> Parameters | None:
        """What the Python function or class called by bare name at the cursor accepts, when
        its definition is certain: defined once at the top level of this file (as the text is
        now), or else imported by that name (``from m import f``) from a file that defines it
        once (an open file's unsaved text counts). See ``callee.parameters_of``."""
        if snapshot.language is None or snapshot.language.language_id != "python" or \
                not snapshot.tree_current:
            return None  # the filter's rules for arguments (keywords, surplus) are Python's
        call = call_at_cursor(line_before, "python")
        if call is None or not call.plain:
            return None
        own = _named_outline(snapshot, call.name)
        imported: list[FileOutline] = []
        document = self.index.document_outline(snapshot)  # for its imports
        if document is not None and document.path is not None:
            for ref in document.imports:
                if call.name in ref.names:
                    for path in resolve_import(ref, document.path, "python", self.index.roots):
                        if (outline := self._current_outline(path, call.name)) is not None:
                            imported.append(outline)
        if own is None or (own.definitions and imported):
            return None  # which definition wins would depend on the order of the file
        found = single_top_level([own] if own.definitions else imported, call.name)
        return parameters_of(*found) if found else None

    def _current_outline(self, path: Path, name: str) -> FileOutline | None:
        """``name``'s definitions in ``path``: from the editor's text when the file is open."""
        for snapshot in self.open_documents:
            if snapshot.path is not None and Path(snapshot.path) == path:
                return _named_outline(snapshot, name)
        return self.index.file_outline(path)

    def path_of(self, snapshot: DocumentSnapshot) -> str:
        """How the document's path is shown in prompts."""
        return display_path(Path(snapshot.path) if snapshot.path else None, snapshot.uri,
                            self.index.roots)

    def repository_name(self, snapshot: DocumentSnapshot) -> str | None:
        """The name of the workspace folder that holds the document (None outside them)."""
        return repository_name(Path(snapshot.path) if snapshot.path else None,
                               self.index.roots)

    def refusal(self, snapshot: DocumentSnapshot) -> str | None:
        """Why this document's own text must not go into a prompt (a secret-bearing file)."""
        return self.index.policy.secret_reason(Path(snapshot.path)) if snapshot.path else None


class ContextSource(Protocol):
    """What the completion pipeline needs to add context from outside the window."""

    def gather(self, snapshot: DocumentSnapshot, cursor_line: int,
               window_lines: tuple[int, int], line_before: str = "") -> list[ContextChunk]:
        """Candidate chunks, most important first (``line_before``: the cursor's line up to
        the cursor)."""
        ...

    def callee_parameters(self, snapshot: DocumentSnapshot,
                          line_before: str) -> Parameters | None:
        """What the callee of the call open at the cursor accepts, when certain."""
        ...

    def path_of(self, snapshot: DocumentSnapshot) -> str:
        """The document's path as shown in prompts."""
        ...

    def repository_name(self, snapshot: DocumentSnapshot) -> str | None:
        """The name of the repository (workspace folder) the document belongs to, or None."""
        ...

    def refusal(self, snapshot: DocumentSnapshot) -> str | None:
        """Why the document itself must stay out of prompts, or None."""
        ...
