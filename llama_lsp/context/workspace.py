"""The workspace index: outlines of open documents and of files they import.

Outlines are cached (open documents by version, files by mtime and size). Only a document's
first outline is computed on the caller's thread; later ones are refreshed in the background
while the previous outline keeps serving, so context lookups never wait for a parse.

A job that will read the index later (on the model thread) holds a lease on it: an index
replaced meanwhile closes only once its last lease is released.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tree_sitter import Parser

from llama_lsp.config.settings import Settings
from llama_lsp.context.documents import DocumentSnapshot
from llama_lsp.context.exclusions import ExclusionPolicy, read_context_file
from llama_lsp.context.imports import package_siblings, resolve_import
from llama_lsp.context.syntax.languages import LanguageSpec, load_language, spec_for
from llama_lsp.context.syntax.outline import (
    Definition,
    ImportRef,
    imports,
    outline,
    prepare_queries,
)

logger = logging.getLogger(__name__)
_DEFAULTS = Settings()

# At most this many files reached through imports are used for one document.
MAX_IMPORTED_FILES = 24
# An open document's outline is refreshed in the background at most this often while typing.
OUTLINE_REFRESH_SECONDS = 2.0
# A file's exclusion verdict and its size and mtime are re-read from disk at most this often:
# every context lookup asks for them, and system calls hand the interpreter to other threads.
DISK_CHECK_SECONDS = 2.0
MAX_DISK_CHECKS = 4096
# The version of an outline read from a tree that was not current yet (older than any other).
PROVISIONAL_VERSION = -1


@dataclass(frozen=True)
class FileOutline:
    """A parsed file: its text, definitions and imports."""

    path: Path | None
    uri: str
    language: LanguageSpec
    source: bytes
    definitions: tuple[Definition, ...]
    imports: tuple[ImportRef, ...]
    version: object
    by_name: dict[str, list[Definition]] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for definition in self.definitions:
            self.by_name.setdefault(definition.name, []).append(definition)

    def text_of(self, start_byte: int, end_byte: int) -> str:
        """Source text between two byte offsets."""
        return self.source[start_byte:end_byte].decode("utf-8", "replace")


def _outline_source(uri: str, path: Path | None, spec: LanguageSpec, source: bytes,
                    tree: object, version: object) -> FileOutline:
    return FileOutline(path, uri, spec, source, tuple(outline(tree, source, spec)),
                       tuple(imports(tree, source, spec)), version)


class WorkspaceIndex:
    """Definitions of open documents and the workspace files their imports reach."""

    def __init__(self, roots: list[Path], policy: ExclusionPolicy, background: bool = True,
                 clock: Callable[[], float] = time.monotonic,
                 parse_limits: tuple[int, int] = (_DEFAULTS.max_parse_lines,
                                                  _DEFAULTS.max_parse_bytes)) -> None:
        self.roots = [root.resolve() for root in roots]
        self.policy = policy
        self.parse_limits = parse_limits
        """(lines, bytes): imported files over either are not parsed (no definitions)."""
        self._clock = clock
        self._verdicts: dict[Path, tuple[float, str | None]] = {}
        self._stamps: dict[Path, tuple[float, tuple[int, int] | None]] = {}
        self._lock = threading.Lock()
        self._documents: dict[str, FileOutline] = {}
        self._files: dict[Path, tuple[tuple[int, int], FileOutline | None]] = {}
        self._pending: set[object] = set()
        self._refreshed: dict[str, float] = {}
        self._resolved: dict[tuple[str, object], list[Path]] = {}
        self._executor = ThreadPoolExecutor(1, "llama-lsp-index") if background else None
        self._leases = 0
        self._closing = False
        self._stopped = False

    # -- open documents -------------------------------------------------------------------

    def document_outline(self, snapshot: DocumentSnapshot) -> FileOutline | None:
        """The newest outline of an open document (possibly of an earlier version)."""
        if snapshot.tree is None or snapshot.language is None:
            return None
        with self._lock:
            cached = self._documents.get(snapshot.uri)
        if cached is not None and cached.version == snapshot.version:
            return cached
        if cached is None or self._executor is None:
            return self._store_document(snapshot)
        now = time.monotonic()
        if snapshot.tree_current and \
                now - self._refreshed.get(snapshot.uri, 0.0) >= OUTLINE_REFRESH_SECONDS:
            self._refreshed[snapshot.uri] = now
            self._schedule(("document", snapshot.uri), self._store_document, snapshot)
        return cached

    def _store_document(self, snapshot: DocumentSnapshot) -> FileOutline:
        source = snapshot.source
        path = Path(snapshot.path) if snapshot.path else None
        # Read from a tree still being reparsed: kept until a current one replaces it.
        version = snapshot.version if snapshot.tree_current else PROVISIONAL_VERSION
        result = _outline_source(snapshot.uri, path, snapshot.language, source, snapshot.tree,
                                 version)
        with self._lock:
            current = self._documents.get(snapshot.uri)
            if current is None or not isinstance(current.version, int) or \
                    not isinstance(snapshot.version, int) or current.version <= snapshot.version:
                self._documents[snapshot.uri] = result
        return result

    def prepare(self, spec: LanguageSpec) -> None:
        """Compile ``spec``'s queries in the background, before the first request needs them."""
        if self._executor is None:
            prepare_queries(spec)
        else:
            self._schedule(("queries", spec.language_id), prepare_queries, spec)

    def forget_document(self, uri: str) -> None:
        """Drop a closed document's outline."""
        with self._lock:
            self._documents.pop(uri, None)

    # -- files on disk --------------------------------------------------------------------

    def excluded_reason(self, path: Path) -> str | None:
        """The policy's reason to keep ``path`` out of prompts (checked on disk at most every
        ``DISK_CHECK_SECONDS``), or None."""
        now = self._clock()
        cached = self._verdicts.get(path)
        if cached is not None and now - cached[0] < DISK_CHECK_SECONDS:
            return cached[1]
        reason = self.policy.excluded_reason(path)
        if len(self._verdicts) > MAX_DISK_CHECKS:
            self._verdicts.clear()
        self._verdicts[path] = (now, reason)
        return reason

    def _stamp(self, path: Path) -> tuple[int, int] | None:
        """(mtime, size) of ``path``, None when it cannot be read; stat'ed at most every
        ``DISK_CHECK_SECONDS``."""
        now = self._clock()
        cached = self._stamps.get(path)
        if cached is not None and now - cached[0] < DISK_CHECK_SECONDS:
            return cached[1]
        try:
            stat = path.stat()
            stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        if len(self._stamps) > MAX_DISK_CHECKS:
            self._stamps.clear()
        self._stamps[path] = (now, stamp)
        return stamp

    def file_outline(self, path: Path) -> FileOutline | None:
        """The outline of a workspace file, or None if excluded, unparseable or not ready yet."""
        stamp = self._stamp(path)
        if stamp is None:
            return None
        with self._lock:
            cached = self._files.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        if self._executor is None:
            return self._store_file(path, stamp)
        self._schedule(("file", path), self._store_file, path, stamp)
        return cached[1] if cached is not None else None

    def _store_file(self, path: Path, stamp: tuple[int, int]) -> FileOutline | None:
        result: FileOutline | None = None
        spec = spec_for(None, str(path))
        text = read_context_file(path, self.policy) if spec is not None else None
        source = text.encode("utf-8", "surrogatepass") if text is not None else b""
        max_lines, max_bytes = self.parse_limits
        if spec is not None and text is not None and len(source) <= max_bytes \
                and text.count("\n") < max_lines:
            tree = Parser(load_language(spec)).parse(source)
            result = _outline_source(path.as_uri(), path, spec, source, tree, stamp)
        with self._lock:
            self._files[path] = (stamp, result)
        return result

    def related_files(self, document: FileOutline) -> list[FileOutline]:
        """Outlines of the files ``document`` imports (plus its package siblings) that are ready."""
        if document.path is None:
            return []
        key = (document.uri, document.version)
        paths = self._resolved.get(key)
        if paths is None:
            language_id = document.language.language_id
            found: list[Path] = []
            for ref in document.imports:
                found += resolve_import(ref, document.path, language_id, self.roots)
            found += package_siblings(document.path, language_id)
            paths = list(dict.fromkeys(found))[:MAX_IMPORTED_FILES]
            if len(self._resolved) > 256:
                self._resolved.clear()
            self._resolved[key] = paths
        return [outline for path in paths if (outline := self.file_outline(path)) is not None]

    # -- background work ------------------------------------------------------------------

    def _schedule(self, key: object, work, *args) -> None:  # type: ignore[no-untyped-def]
        with self._lock:
            if key in self._pending:
                return
            self._pending.add(key)

        def run() -> None:
            try:
                work(*args)
            except Exception:  # noqa: BLE001 - a file that fails to index is only skipped
                logger.exception("indexing %s failed", key)
            finally:
                with self._lock:
                    self._pending.discard(key)

        assert self._executor is not None
        self._executor.submit(run)

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Block until queued background work is done (tests and one-shot commands)."""
        if self._executor is None:
            return
        self._executor.submit(lambda: None).result(timeout)

    def lease(self) -> IndexLease:
        """Keep the index open for a user that will read it later, until the lease is
        released."""
        with self._lock:
            self._leases += 1
        return IndexLease(self)

    def _release(self) -> None:
        with self._lock:
            self._leases -= 1
            last = self._closing and self._leases == 0
        if last:
            self._stop()

    def close(self) -> None:
        """Stop the background thread: at once when no lease holds the index, else when the
        last one is released (until then its holders read it as before)."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            idle = self._leases == 0
        if idle:
            self._stop()

    @property
    def closed(self) -> bool:
        """True once the background thread is stopped (closed, and no lease holds it)."""
        return self._stopped

    def _stop(self) -> None:
        self._stopped = True
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)


class IndexLease:
    """One user's hold on a :class:`WorkspaceIndex` (see ``WorkspaceIndex.lease``)."""

    def __init__(self, index: WorkspaceIndex) -> None:
        self.index = index
        self._released = False

    def release(self) -> None:
        """Let go of the index (again: nothing); the last release of a closed index stops it."""
        with self.index._lock:
            if self._released:
                return
            self._released = True
        self.index._release()
