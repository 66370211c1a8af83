"""Completion cache policy: LRU, TTL, exact/tail keys, typed-through reuse and seeds, speculation.

Time is a plain number passed as ``now``; no test reads a clock.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llama_lsp.context.documents import Document
from llama_lsp.context.window import WINDOW_START_QUANTUM, cursor_window
from llama_lsp.features.completion.cache import (
    CacheConfig,
    CompletionCache,
    ContextKey,
    HitKind,
    ShownSuggestion,
    accepted_context,
    accepted_document,
    typed_remainder,
)
from llama_lsp.features.completion.pipeline import Suggestion

URI = "file:///w/a.py"
NO_SEEDS = CacheConfig(max_typed_through=0)


def _lines(count: int, start: int = 0) -> str:
    return "".join(f"value_{n} = compute({n})\n" for n in range(start, start + count))


def _key(prefix: str, suffix: str = "\n", uri: str = URI, version: str = "") -> ContextKey:
    return ContextKey(uri, prefix, suffix, version)


def _window_key(text: str, offset: int, prefix_lines: int = 128,
                suffix_lines: int = 32) -> ContextKey:
    snapshot = Document(URI, "python", 1, text, 10_000_000).snapshot()
    return ContextKey.from_window(URI, cursor_window(snapshot, offset, prefix_lines, suffix_lines))


# --- exact keys, LRU, TTL -----------------------------------------------------------------------


def test_exact_hit_returns_the_text_and_counts_it() -> None:
    cache = CompletionCache()
    cache.put(_key("def f(x):\n    return "), "x + 1", now=0.0)
    hit = cache.get(_key("def f(x):\n    return "), now=2.0)
    assert hit is not None
    assert (hit.text, hit.kind, hit.age) == ("x + 1", HitKind.EXACT, 2.0)
    assert cache.stats.exact == 1 and cache.stats.misses == 0


@pytest.mark.parametrize("change", [
    {"uri": "file:///w/b.py"},
    {"suffix": "\nprint(1)\n"},
    {"version": "chunks-v2"},
    {"prefix": "def f(x):\n    return  "},
])
def test_any_part_of_the_key_changing_misses(change: dict[str, str]) -> None:
    cache = CompletionCache()
    base = {"prefix": "def f(x):\n    return ", "suffix": "\n", "uri": URI, "version": "v1"}
    cache.put(_key(**base), "x + 1", now=0.0)
    assert cache.get(_key(**{**base, **change}), now=0.0) is None
    assert cache.stats.misses == 1


def test_least_recently_used_entry_is_evicted() -> None:
    cache = CompletionCache(CacheConfig(max_entries=2))
    cache.put(_key("a = "), "1", now=0.0)
    cache.put(_key("b = "), "2", now=1.0)
    assert cache.get(_key("a = "), now=2.0) is not None  # "a" is now the most recent
    cache.put(_key("c = "), "3", now=3.0)
    assert len(cache) == 2
    assert cache.get(_key("b = "), now=4.0) is None
    assert cache.get(_key("a = "), now=4.0) is not None
    assert cache.get(_key("c = "), now=4.0) is not None


def test_eviction_removes_tail_and_seed_keys_too() -> None:
    cache = CompletionCache(CacheConfig(max_entries=1, anchor_lines=2, trimmed_keys=1))
    cache.put(_key("x = 1\ny = "), "compute()", now=0.0)
    cache.put(_key("other = "), "0", now=1.0)
    assert cache.get(_key("changed\nx = 1\ny = "), now=1.0) is None  # tail key gone
    assert cache.get(_key("x = 1\ny = co"), now=1.0) is None  # seed key gone


def test_entries_expire_after_the_ttl() -> None:
    cache = CompletionCache(CacheConfig(ttl_seconds=10.0))
    cache.put(_key("a = "), "1", now=100.0)
    assert cache.get(_key("a = "), now=109.999) is not None
    assert cache.get(_key("a = "), now=110.0) is None
    assert len(cache) == 0  # expired entries are dropped when met


def test_putting_the_same_context_again_replaces_the_entry() -> None:
    cache = CompletionCache(CacheConfig(max_entries=2))
    cache.put(_key("a = "), "1", now=0.0)
    cache.put(_key("a = "), "2", now=1.0)
    hit = cache.get(_key("a = "), now=1.0)
    assert hit is not None and hit.text == "2" and len(cache) == 1


def test_empty_text_caches_nothing_to_suggest() -> None:
    cache = CompletionCache()
    cache.put(_key("a = 1\n"), "", now=0.0)
    hit = cache.get(_key("a = 1\n"), now=0.0)
    assert hit is not None and hit.text == ""


def test_clear_forgets_entries_but_keeps_stats() -> None:
    cache = CompletionCache()
    cache.put(_key("a = "), "1", now=0.0)
    cache.get(_key("a = "), now=0.0)
    cache.clear()
    assert len(cache) == 0 and cache.get(_key("a = "), now=0.0) is None
    assert (cache.stats.exact, cache.stats.misses) == (1, 1)


def test_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        CacheConfig(max_entries=0)
    with pytest.raises(ValueError):
        CacheConfig(trimmed_keys=-1)
    assert CacheConfig(anchor_lines=8, trimmed_keys=3).tail_lengths == (32, 16, 8)


# --- tail keys (first lines trimmed) ------------------------------------------------------------


def test_different_first_lines_hit_when_the_last_k_lines_and_suffix_match() -> None:
    config = CacheConfig(anchor_lines=4, trimmed_keys=2)  # tails of 8 and 4 lines
    cache = CompletionCache(config)
    near = _lines(3) + "total = "
    cache.put(_key("import os\nimport re\n" + _lines(10, 50) + near), "sum(values)", now=0.0)
    # Edited far above: the last 4 lines (3 full + the cursor line) are unchanged.
    hit = cache.get(_key("import sys\n" + near), now=1.0)
    assert hit is not None
    assert (hit.text, hit.kind) == ("sum(values)", HitKind.TRIMMED)
    assert cache.stats.trimmed == 1


def test_longest_matching_tail_wins() -> None:
    cache = CompletionCache(CacheConfig(anchor_lines=2, trimmed_keys=2))  # tails of 4 and 2
    cache.put(_key("a\nb\nc\nd = "), "from_abc", now=0.0)
    cache.put(_key("x\ny\nc\nd = "), "from_xyc", now=1.0)  # newer owner of the 2-line tail
    hit = cache.get(_key("top\na\nb\nc\nd = "), now=2.0)
    assert hit is not None and hit.text == "from_abc"
    hit = cache.get(_key("q\nc\nd = "), now=2.0)
    assert hit is not None and hit.text == "from_xyc"


@pytest.mark.parametrize("near_change", ["line_above", "suffix", "cursor_line"])
def test_changes_near_the_cursor_miss(near_change: str) -> None:
    cache = CompletionCache(CacheConfig(anchor_lines=4, trimmed_keys=1, max_typed_through=0))
    above, line, suffix = _lines(20) + "a = 1\n", "b = ", "\nreturn b\n"
    cache.put(_key(above + line, suffix), "a + 1", now=0.0)
    if near_change == "line_above":
        above = above.replace("a = 1", "a = 2")
    elif near_change == "suffix":
        suffix = "\nreturn a\n"
    else:
        line = "c = "
    assert cache.get(_key("# edit\n" + above + line, suffix), now=0.0) is None


def test_a_prefix_shorter_than_k_lines_has_no_tail_key() -> None:
    cache = CompletionCache(CacheConfig(anchor_lines=4, trimmed_keys=1))
    cache.put(_key("a = 1\nb = "), "2", now=0.0)
    assert cache.get(_key("x = 0\nb = "), now=0.0) is None


def test_tail_keys_survive_the_window_start_moving() -> None:
    """Real cursor windows: lines inserted far above shift the window start and the text."""
    body = _lines(200)
    offset = len(_lines(150)) + len("value_150 = ")
    key = _window_key(body, offset)
    cache = CompletionCache()
    cache.put(key, "compute(150)", now=0.0)
    edited = "import numpy\n" * 5 + body  # five lines inserted at the top
    moved = _window_key(edited, offset + len("import numpy\n") * 5)
    assert moved.prefix != key.prefix and moved.suffix == key.suffix
    hit = cache.get(moved, now=1.0)
    assert hit is not None and (hit.text, hit.kind) == ("compute(150)", HitKind.TRIMMED)


def test_context_version_is_part_of_tail_keys() -> None:
    cache = CompletionCache(CacheConfig(anchor_lines=2, trimmed_keys=1))
    cache.put(_key("a\nb\nc = ", version="v1"), "1", now=0.0)
    assert cache.get(_key("z\nb\nc = ", version="v2"), now=0.0) is None
    assert cache.get(_key("z\nb\nc = ", version="v1"), now=0.0) is not None


# --- typed-through ------------------------------------------------------------------------------


def _shown(prefix: str, text: str, suffix: str = "\n", at: float = 0.0) -> ShownSuggestion:
    return ShownSuggestion(prefix, suffix, text, at)


def test_typing_the_start_of_the_suggestion_serves_the_rest() -> None:
    cache = CompletionCache()
    shown = _shown("total = ", "sum(values)")
    assert cache.typed_through(shown, "total = su", "\n", now=0.3) == "m(values)"
    assert cache.typed_through(shown, "total = ", "\n", now=0.3) == "sum(values)"
    assert cache.stats.typed_through == 2


@pytest.mark.parametrize("new_prefix, new_suffix", [
    ("total = sx", "\n"),            # diverged
    ("total =", "\n"),               # backspace past where it was shown
    ("total = sum(values)", "\n"),   # typed all of it: nothing left
    ("total = su", "\nmore\n"),      # suffix changed
    ("total = su", ")\n"),           # e.g. an auto-closed bracket
    ("other = su", "\n"),            # moved elsewhere
])
def test_typed_through_refusals(new_prefix: str, new_suffix: str) -> None:
    cache = CompletionCache()
    shown = _shown("total = ", "sum(values)")
    assert cache.typed_through(shown, new_prefix, new_suffix, now=0.1) is None
    assert cache.stats.typed_through == 0


def test_backspace_within_the_typed_text_still_serves_the_rest() -> None:
    shown = _shown("x = ", "compute(1)")
    assert typed_remainder(shown, "x = comp", "\n") == "ute(1)"
    assert typed_remainder(shown, "x = com", "\n") == "pute(1)"  # one backspace


def test_whitespace_only_remainder_is_refused() -> None:
    shown = _shown("x = ", "f()\n    ")
    assert typed_remainder(shown, "x = f()", "\n") is None
    assert typed_remainder(shown, "x = f(", "\n") == ")\n    "


def test_typed_through_expires_with_the_ttl() -> None:
    cache = CompletionCache(CacheConfig(ttl_seconds=5.0))
    shown = _shown("x = ", "compute(1)", at=10.0)
    assert cache.typed_through(shown, "x = c", "\n", now=14.9) == "ompute(1)"
    assert cache.typed_through(shown, "x = c", "\n", now=15.0) is None


def test_multi_line_suggestion_typed_through_a_line_break() -> None:
    shown = _shown("def f(x):\n    ", "y = x * 2\n    return y", suffix="\n\nprint(f(2))\n")
    typed = "def f(x):\n    y = x * 2\n    ret"
    assert typed_remainder(shown, typed, "\n\nprint(f(2))\n") == "urn y"


def test_multi_line_typed_through_with_real_windows_moving() -> None:
    """The window's start jumps as typed line breaks move the cursor down; still works."""
    prefix_lines, suffix_lines = 20, 3
    head = _lines(WINDOW_START_QUANTUM + prefix_lines - 1) + "def f(x):\n    "
    tail = "\n" + _lines(10, 500)
    suggestion = "y = x * 2\n    z = y + 1\n    return z"
    before = _window_key(head + tail, len(head), prefix_lines, suffix_lines)
    shown = ShownSuggestion(before.prefix, before.suffix, suggestion, 0.0)
    moved_start = 0
    for typed in range(len(suggestion) - 1):
        text = head + suggestion[:typed] + tail
        after = _window_key(text, len(head) + typed, prefix_lines, suffix_lines)
        assert typed_remainder(shown, after.prefix, after.suffix) == suggestion[typed:], typed
        moved_start += not after.prefix.startswith(before.prefix)
    assert moved_start


def test_non_ascii_typed_through_counts_code_points() -> None:
    shown = _shown("名前 = ", "\"東京🗼\" + 'é'")
    assert typed_remainder(shown, "名前 = \"東", "\n") == "京🗼\" + 'é'"
    assert typed_remainder(shown, "名前 = \"東京🗼", "\n") == "\" + 'é'"
    assert typed_remainder(shown, "名前 = \"東京🏯", "\n") is None


@given(st.text(min_size=1, max_size=30), st.text(max_size=20), st.text(max_size=20),
       st.integers(min_value=0, max_value=30))
def test_typed_through_property(suggestion: str, prefix: str, suffix: str, cut: int) -> None:
    typed = suggestion[:cut]
    rest = typed_remainder(ShownSuggestion(prefix, suffix, suggestion, 0.0), prefix + typed,
                           suffix)
    expected = suggestion[len(typed):]
    assert rest == (expected if expected.strip() else None)


# --- typed-through seeds ------------------------------------------------------------------------


def test_put_seeds_the_first_typed_positions() -> None:
    cache = CompletionCache(CacheConfig(max_typed_through=3))
    cache.put(_key("x = "), "compute(1)", now=0.0)
    for typed in range(1, 4):
        hit = cache.get(_key("x = " + "compute(1)"[:typed]), now=1.0)
        assert hit is not None
        assert (hit.text, hit.kind) == ("compute(1)"[typed:], HitKind.TYPED_THROUGH)
    assert cache.get(_key("x = comp"), now=1.0) is None  # beyond max_typed_through
    assert len(cache) == 1  # seeds are keys of one entry, not entries
    assert cache.stats.typed_through == 3


def test_seeds_stop_at_the_first_line_and_before_blank_remainders() -> None:
    cache = CompletionCache(CacheConfig(max_typed_through=16))
    cache.put(_key("if x:\n    "), "go()\n    ", now=0.0)
    assert cache.get(_key("if x:\n    go("), now=0.0) is not None
    assert cache.get(_key("if x:\n    go()"), now=0.0) is None  # remainder is blank
    assert cache.get(_key("if x:\n    go()\n"), now=0.0) is None  # past the first line


def test_seeds_match_real_windows_while_typing() -> None:
    document = _lines(40) + "result = \n" + _lines(5, 100)
    offset = document.index("result = ") + len("result = ")
    cache = CompletionCache()
    cache.put(_window_key(document, offset), "compute(40)", now=0.0)
    for typed in range(1, 8):
        text = document[:offset] + "compute(40)"[:typed] + document[offset:]
        hit = cache.get(_window_key(text, offset + typed), now=0.5)
        assert hit is not None and hit.text == "compute(40)"[typed:]


def test_seeding_can_be_turned_off() -> None:
    cache = CompletionCache()
    cache.put(_key("x = "), "compute(1)", now=0.0, seed=False)
    assert cache.get(_key("x = c"), now=0.0) is None
    cache = CompletionCache(NO_SEEDS)
    cache.put(_key("x = "), "compute(1)", now=0.0)
    assert cache.get(_key("x = c"), now=0.0) is None


def test_seeds_hit_through_tail_keys() -> None:
    cache = CompletionCache(CacheConfig(anchor_lines=2, trimmed_keys=1, max_typed_through=4))
    cache.put(_key("a\nb\nx = "), "compute(1)", now=0.0)
    hit = cache.get(_key("edited\nb\nx = co"), now=0.0)
    assert hit is not None and (hit.text, hit.kind) == ("mpute(1)", HitKind.TYPED_THROUGH)


# --- speculation --------------------------------------------------------------------------------


def test_accepted_context_round_trip() -> None:
    cache = CompletionCache()
    prefix, suffix = "def area(r):\n    ", "\n"
    new_prefix, new_suffix = accepted_context(prefix, suffix, "return 3.14 * r * r")
    assert (new_prefix, new_suffix) == ("def area(r):\n    return 3.14 * r * r", "\n")
    # The server computes the next completion in the background and stores it...
    cache.put(_key(new_prefix, new_suffix), "\n\n\ndef perimeter(r):", now=1.0,
              speculative=True)
    # ...and it is there when the user accepts.
    hit = cache.get(_key("def area(r):\n    return 3.14 * r * r", "\n"), now=2.0)
    assert hit is not None and hit.kind is HitKind.SPECULATIVE
    assert cache.stats.speculative == 1


def test_accepted_context_replaces_suffix_characters() -> None:
    assert accepted_context("print(", ")\n", "x)", replaced=1) == ("print(x)", "\n")


def test_accepted_document_with_real_windows() -> None:
    document = "import os\n\ndef f():\n    \n\nf()\n"
    offset = document.index("    \n") + 4
    new_text, new_offset = accepted_document(document, Suggestion("return os.sep", offset, offset))
    assert new_text == "import os\n\ndef f():\n    return os.sep\n\nf()\n"
    assert new_text[:new_offset].endswith("os.sep")
    before = _window_key(document, offset)
    after = _window_key(new_text, new_offset)
    assert (after.prefix, after.suffix) == accepted_context(before.prefix, before.suffix,
                                                            "return os.sep")
    emoji = "s = '🙂'\nt = "
    assert accepted_document(emoji, Suggestion("s", len(emoji), len(emoji))) == (emoji + "s",
                                                                                len(emoji) + 1)


# --- stats --------------------------------------------------------------------------------------


def test_stats_count_every_kind_and_the_hit_rate() -> None:
    cache = CompletionCache(CacheConfig(anchor_lines=2, trimmed_keys=1, max_typed_through=2))
    assert cache.stats.hit_rate == 0.0
    cache.put(_key("a\nb\nc = "), "compute()", now=0.0)
    cache.put(_key("d = "), "next()", now=0.0, speculative=True)
    cache.get(_key("a\nb\nc = "), now=0.0)                                  # exact
    cache.get(_key("z\nb\nc = "), now=0.0)                                  # trimmed
    cache.get(_key("a\nb\nc = c"), now=0.0)                                 # typed-through seed
    cache.typed_through(_shown("e = ", "go()"), "e = g", "\n", now=0.0)     # typed-through
    cache.get(_key("d = "), now=0.0)                                        # speculative
    cache.get(_key("nothing"), now=0.0)                                     # miss
    stats = cache.stats
    assert (stats.exact, stats.trimmed, stats.typed_through, stats.speculative, stats.misses) \
        == (1, 1, 2, 1, 1)
    assert stats.hits == 5 and stats.hit_rate == pytest.approx(5 / 6)
