"""Perceived latency around the pipeline: instant answers, cache bookkeeping, speculation.

The order of a request, top to bottom:

1. typed-through: the user typed the start of the suggestion on screen -> its remainder;
2. cache: the same context (or the same last lines, see ``cache.py``) -> the stored text;
3. otherwise the model (the server debounces and applies the time budget first), and the
   finished text is stored;
4. after a suggestion is shown, the completion that follows its acceptance is computed in the
   background and stored as speculative, so accepting shows the next one at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from llama_lsp.config.settings import Settings
from llama_lsp.context.documents import Document, DocumentSnapshot
from llama_lsp.context.window import CursorWindow, cursor_window
from llama_lsp.features.completion.cache import (
    CacheConfig,
    CompletionCache,
    ContextKey,
    HitKind,
    ShownSuggestion,
    accepted_document,
)
from llama_lsp.features.completion.pipeline import Suggestion


@dataclass(frozen=True)
class InstantAnswer:
    """A suggestion served without the model, and where it came from."""

    text: str
    source: str
    """'typed-through', 'exact', 'trimmed' or 'speculative'."""


def cache_config(settings: Settings) -> CacheConfig:
    """The cache's configuration from user settings."""
    return CacheConfig(max_entries=settings.cache_size,
                       ttl_seconds=float(settings.cache_ttl_seconds))


class CompletionService:
    """Cache and typed-through state of one session. Not thread-safe: use from one thread."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.cache = CompletionCache(cache_config(settings))
        self._config = cache_config(settings)
        self._shown: dict[str, ShownSuggestion] = {}

    def reconfigure(self, settings: Settings) -> None:
        """Apply new cache settings (clears the cache when they changed)."""
        if cache_config(settings) != self._config:
            self._config = cache_config(settings)
            self.cache = CompletionCache(self._config)
            self._shown.clear()

    @staticmethod
    def window(snapshot: DocumentSnapshot, offset: int, settings: Settings) -> CursorWindow:
        """The cursor window the pipeline will use (the cache is keyed by it)."""
        return cursor_window(snapshot, offset, settings.prefix_lines, settings.suffix_lines)

    def instant(self, uri: str, window: CursorWindow, context_version: str) -> InstantAnswer | None:
        """A suggestion that needs no model call, or None."""
        now = self.clock()
        shown = self._shown.get(uri)
        if shown is not None:
            rest = self.cache.typed_through(shown, window.prefix, window.suffix, now)
            if rest is not None:
                return InstantAnswer(rest, HitKind.TYPED_THROUGH.value)
        hit = self.cache.get(ContextKey.from_window(uri, window, context_version), now)
        if hit is None:
            return None
        if hit.text:
            self.show(uri, window, hit.text)
        return InstantAnswer(hit.text, hit.kind.value)

    def store(self, uri: str, window: CursorWindow, context_version: str, text: str,
              speculative: bool = False) -> None:
        """Remember a finished generation for this context."""
        self.cache.put(ContextKey.from_window(uri, window, context_version), text, self.clock(),
                       speculative=speculative)

    def show(self, uri: str, window: CursorWindow, text: str) -> None:
        """Record the suggestion now on screen (the base for typed-through reuse)."""
        self._shown[uri] = ShownSuggestion(window.prefix, window.suffix, text, self.clock())

    def forget(self, uri: str) -> None:
        """Drop the shown suggestion of a closed document."""
        self._shown.pop(uri, None)


def accepted_snapshot(snapshot: DocumentSnapshot, suggestion: Suggestion,
                      max_bytes: int) -> tuple[DocumentSnapshot, int]:
    """The document as it will be once ``suggestion`` is accepted, and the cursor offset there."""
    text, offset = accepted_document(snapshot.text, suggestion)
    document = Document(snapshot.uri, snapshot.language_id, snapshot.version, text, max_bytes)
    return document.snapshot(), offset
