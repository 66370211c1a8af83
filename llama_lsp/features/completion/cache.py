"""Completion cache: reuse earlier completions instead of asking the model again.

The whole policy, top to bottom:

1. **Keys.** A completion is stored under a hash of its exact context (:class:`ContextKey`):
   document URI, prefix (text before the cursor in the window), suffix (text after it) and a
   context version (ids/versions of the extra context chunks in the prompt).
2. **Alternative keys.** It is also stored under *tail keys*: the same context, but with only the
   last ``anchor_lines * 2**i`` lines of the prefix (``i < trimmed_keys``; the cursor's partial
   line counts as one). A lookup whose prefix starts differently (the window start moved, or an
   edit far above the cursor) but whose last ``anchor_lines`` lines, suffix, URI and context
   version are the same still hits. Lookups try the exact key, then the longest tail first.
3. **Typed-through seeds.** ``put`` also stores the entry under the contexts that exist after the
   user types its first 1..``max_typed_through`` characters (within its first line), mapping to
   the rest of the text, like Tabby's agent cache.
4. **Eviction.** At most ``max_entries`` completions (least recently used go first); an entry is
   never served ``ttl_seconds`` or more after it was stored. Keys of an evicted entry go with it;
   when two entries share a key, the newer one owns it.
5. **Typed-through reuse** (:meth:`CompletionCache.typed_through`): while the user types the
   characters of the suggestion on screen, its remainder is served without any lookup.
6. **Speculation** (:func:`accepted_context`, :func:`accepted_document`): the context that will
   exist once a suggestion is accepted, so the next completion can be computed in the
   background and ``put`` with ``speculative=True``.

Time is always passed in (``now``, seconds from any monotonic clock); nothing here reads a clock.
Offsets and lengths are code points (Python ``str`` indices).
"""

from __future__ import annotations

import hashlib
import itertools
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llama_lsp.context.window import CursorWindow
    from llama_lsp.features.completion.pipeline import Suggestion


@dataclass(frozen=True)
class CacheConfig:
    """Every constant of the cache policy."""

    max_entries: int = 256
    """Completions kept (seed and tail keys do not count)."""
    ttl_seconds: float = 300.0
    """Entries and shown suggestions are not reused this long after they were stored/shown."""
    trimmed_keys: int = 2
    """Tail keys per stored context (0: exact keys only)."""
    anchor_lines: int = 32
    """K: a lookup hits when the last K prefix lines, suffix, URI and context version match."""
    max_typed_through: int = 16
    """Typed-through positions seeded per completion (0: no seeding)."""

    def __post_init__(self) -> None:
        if self.max_entries < 1 or self.ttl_seconds <= 0 or self.anchor_lines < 1:
            raise ValueError("max_entries, ttl_seconds and anchor_lines must be positive")
        if self.trimmed_keys < 0 or self.max_typed_through < 0:
            raise ValueError("trimmed_keys and max_typed_through must be >= 0")

    @property
    def tail_lengths(self) -> tuple[int, ...]:
        """Prefix line counts of the tail keys, longest (most specific) first."""
        return tuple(self.anchor_lines << i for i in reversed(range(self.trimmed_keys)))


@dataclass(frozen=True)
class ContextKey:
    """What a completion depends on. Build it the same way for ``put`` and ``get``."""

    uri: str
    prefix: str
    suffix: str
    context_version: str = ""
    """Identifies the extra context in the prompt (e.g. a hash of the chunk keys/texts)."""

    @classmethod
    def from_window(cls, uri: str, window: CursorWindow, context_version: str = "") -> ContextKey:
        """The key of a cursor window (``llama_lsp.context.window.cursor_window``)."""
        return cls(uri, window.prefix, window.suffix, context_version)


class HitKind(str, Enum):
    """Which mechanism served a completion (counted in :class:`CacheStats`)."""

    EXACT = "exact"
    TRIMMED = "trimmed"
    TYPED_THROUGH = "typed_through"
    SPECULATIVE = "speculative"


@dataclass(frozen=True)
class CachedCompletion:
    """A cache hit: ``text`` goes at the cursor of the looked-up context."""

    text: str
    kind: HitKind
    """SPECULATIVE for entries put with ``speculative=True``; else TYPED_THROUGH for a seed key,
    TRIMMED for a tail key, EXACT otherwise."""
    age: float
    """Seconds since the entry was stored."""


@dataclass(frozen=True)
class ShownSuggestion:
    """A suggestion on screen: keep the one from where it was first shown while the user types."""

    prefix: str
    suffix: str
    text: str
    shown_at: float


@dataclass
class CacheStats:
    """Hits by kind and misses; one lookup is one ``typed_through`` success or one ``get``."""

    exact: int = 0
    trimmed: int = 0
    typed_through: int = 0
    speculative: int = 0
    misses: int = 0

    @property
    def hits(self) -> int:
        return self.exact + self.trimmed + self.typed_through + self.speculative

    @property
    def hit_rate(self) -> float:
        """Hits over lookups (0.0 before any lookup)."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0

    def record(self, kind: HitKind) -> None:
        setattr(self, kind.value, getattr(self, kind.value) + 1)


@dataclass(eq=False)
class _Entry:
    number: int
    """Position key in the LRU order."""
    text: str
    stored_at: float
    speculative: bool
    digests: list[bytes] = field(default_factory=list)


@dataclass(frozen=True)
class _Route:
    """Where a key leads: an entry, and how many of its characters were typed to get there."""

    entry: _Entry
    typed: int


class CompletionCache:
    """LRU + TTL cache of completion texts, with tail keys and typed-through seeds.

    Not thread-safe: use it from one thread (the event loop).
    """

    def __init__(self, config: CacheConfig | None = None) -> None:
        self.config = config or CacheConfig()
        self.stats = CacheStats()
        self._entries: OrderedDict[int, _Entry] = OrderedDict()  # LRU order, oldest first
        self._routes: dict[bytes, _Route] = {}
        self._numbers = itertools.count()

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forget every entry (call when the model or generation settings change). Keeps stats."""
        self._entries.clear()
        self._routes.clear()

    def get(self, key: ContextKey, now: float) -> CachedCompletion | None:
        """The completion for ``key``: exact key first, then tail keys, longest first."""
        for hasher, trimmed in _hashers(key, self.config.tail_lengths):
            route = self._routes.get(hasher.digest())
            if route is None:
                continue
            entry = route.entry
            if now - entry.stored_at >= self.config.ttl_seconds:
                self._evict(entry)
                continue
            self._entries.move_to_end(entry.number)
            kind = (HitKind.SPECULATIVE if entry.speculative
                    else HitKind.TYPED_THROUGH if route.typed
                    else HitKind.TRIMMED if trimmed else HitKind.EXACT)
            self.stats.record(kind)
            return CachedCompletion(entry.text[route.typed:], kind, now - entry.stored_at)
        self.stats.misses += 1
        return None

    def put(self, key: ContextKey, text: str, now: float, *, speculative: bool = False,
            seed: bool = True) -> None:
        """Store ``text`` (to insert at the cursor of ``key``; "" caches "nothing to suggest").

        Store only finished generations. Also stores tail keys and, with ``seed``, the keys of
        the first typed-through positions. ``speculative`` marks background completions.
        """
        entry = _Entry(next(self._numbers), text, now, speculative)
        hashers = list(_hashers(key, self.config.tail_lengths))
        for hasher, trimmed in hashers:
            digest = hasher.digest()
            old = self._routes.get(digest)
            if not trimmed and old is not None and old.typed == 0:
                self._evict(old.entry)  # replaced: same exact context
            self._route(digest, _Route(entry, 0))
        if seed:
            # Typed text within the first line leaves the prefix's line count, hence its tail
            # keys, as they are: each seed key is its base key with the typed text appended.
            line = text.split("\n", 1)[0]
            for typed in range(1, min(self.config.max_typed_through, len(line)) + 1):
                if not text[typed:].strip():
                    break
                typed_bytes = _encode(text[:typed])
                for hasher, _ in hashers:
                    seeded = hasher.copy()
                    seeded.update(typed_bytes)
                    self._route(seeded.digest(), _Route(entry, typed))
        self._entries[entry.number] = entry
        while len(self._entries) > self.config.max_entries:
            self._evict(next(iter(self._entries.values())))

    def typed_through(self, previous: ShownSuggestion, new_prefix: str, new_suffix: str,
                      now: float) -> str | None:
        """The rest of ``previous`` if the user has typed its start; counts a hit when not None.

        None when the shown suggestion is ``ttl_seconds`` old or more, or for whatever
        :func:`typed_remainder` refuses. On None, follow with ``get`` (which counts the miss).
        """
        if now - previous.shown_at >= self.config.ttl_seconds:
            return None
        rest = typed_remainder(previous, new_prefix, new_suffix)
        if rest is not None:
            self.stats.record(HitKind.TYPED_THROUGH)
        return rest

    def _route(self, digest: bytes, route: _Route) -> None:
        self._routes[digest] = route
        route.entry.digests.append(digest)

    def _evict(self, entry: _Entry) -> None:
        self._entries.pop(entry.number, None)
        for digest in entry.digests:
            route = self._routes.get(digest)
            if route is not None and route.entry is entry:
                del self._routes[digest]


def typed_remainder(previous: ShownSuggestion, new_prefix: str, new_suffix: str) -> str | None:
    """What remains of ``previous.text`` after the user typed its first characters.

    The suffix must be unchanged, and the typed text (``new_prefix`` minus ``previous.prefix``)
    a prefix of the suggestion; typing nothing returns the whole text. Whole lines may leave the
    start of the prefix once the typed text has a line break (the cursor window's start moves).
    None for divergent typing, deleting past where the suggestion was shown, any other change,
    and a remainder that is empty or whitespace only.
    """
    if new_suffix != previous.suffix:
        return None
    typed = _typed_text(previous.prefix, new_prefix, previous.text)
    if typed is None:
        return None
    rest = previous.text[len(typed):]
    return rest if rest.strip() else None


def accepted_context(prefix: str, suffix: str, text: str, replaced: int = 0) -> tuple[str, str]:
    """(prefix, suffix) once ``text`` is accepted at the cursor, replacing ``replaced`` suffix
    code points. Works on whole documents too: then build the next window from them."""
    return prefix + text, suffix[replaced:]


def accepted_document(document: str, suggestion: Suggestion) -> tuple[str, int]:
    """The document text and cursor offset once ``suggestion`` is accepted (code points)."""
    text = document[:suggestion.start] + suggestion.text + document[suggestion.end:]
    return text, suggestion.start + len(suggestion.text)


def _typed_text(old: str, new: str, suggestion: str) -> str | None:
    """The start of ``suggestion`` that turns prefix ``old`` into ``new``, if exactly one does."""
    if new.startswith(old):
        typed = new[len(old):]
        return typed if suggestion.startswith(typed) else None
    # The window start moved down by whole lines; possible only once a line break was typed.
    found: set[str] = set()
    cut = old.find("\n") + 1
    while cut:
        kept = old[cut:]
        if kept and new.startswith(kept):
            typed = new[len(kept):]
            if "\n" in typed and suggestion.startswith(typed):
                found.add(typed)
        cut = old.find("\n", cut) + 1
    return found.pop() if len(found) == 1 else None


def _hashers(
    key: ContextKey, tail_lengths: tuple[int, ...]
) -> Iterator[tuple[hashlib.blake2b, bool]]:
    """(hasher fed with the key, is_tail_key): the exact key, then each tail key the prefix is
    long enough for. The prefix goes last, so appending to a copy extends the prefix."""
    yield _hasher("exact", key, key.prefix), False
    lines = key.prefix.count("\n") + 1
    for length in tail_lengths:
        if lines >= length:
            start = 0
            for _ in range(lines - length):
                start = key.prefix.index("\n", start) + 1
            yield _hasher(f"tail{length}", key, key.prefix[start:]), True


def _hasher(tag: str, key: ContextKey, prefix: str) -> hashlib.blake2b:
    hasher = hashlib.blake2b(digest_size=16)
    for part in (tag, key.uri, key.context_version, key.suffix):
        data = _encode(part)
        hasher.update(len(data).to_bytes(8, "little"))
        hasher.update(data)
    hasher.update(_encode(prefix))
    return hasher


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")
