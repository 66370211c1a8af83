"""Greedy results of recent prompts, given again when the same prompt comes back.

Some keystrokes leave the prompt as it was: a space typed into an indentation that the prompt
holds back, a character typed and deleted again. Greedy generation is deterministic, so the
result of the identical earlier prompt is the result the model would give again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import replace

from llama_lsp.model.backend import GenerationRequest, GenerationResult

# Results kept (least recently used go first); the prompt tokens are the bulk of a key.
RECENT_RESULTS = 8

_Key = tuple[str | None, tuple[int, ...], int, tuple[str, ...]]


class RecentResults:
    """A small LRU of greedy results keyed by document, prompt tokens, limit and stop strings.

    Only requests whose stop rule depends on nothing but the text may be kept (single-line
    completions): the caller decides, by calling :meth:`get` and :meth:`put` for those.
    Thread-safe: remote engines run several completions of one pipeline at once."""

    def __init__(self, size: int = RECENT_RESULTS) -> None:
        self._size = size
        self._results: OrderedDict[_Key, GenerationResult] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(request: GenerationRequest) -> _Key | None:
        if request.temperature > 0 or request.json_schema is not None:
            return None
        return request.slot, tuple(request.prompt), request.max_tokens, request.stop

    def get(self, request: GenerationRequest) -> GenerationResult | None:
        """The earlier result for this request, marked ``repeated`` (no tokens evaluated, no
        time spent), or None."""
        key = self._key(request)
        if key is None:
            return None
        with self._lock:
            found = self._results.get(key)
            if found is None:
                return None
            self._results.move_to_end(key)
        return replace(found, n_reused=found.n_prompt, wall_ms=0.0, engine_ms=0.0,
                       repeated=True)

    def put(self, request: GenerationRequest, result: GenerationResult) -> None:
        """Keep ``result`` unless it was cut short by cancellation (never a whole answer)."""
        key = self._key(request)
        if key is None or result.stop_reason == "cancelled":
            return
        with self._lock:
            self._results[key] = result
            self._results.move_to_end(key)
            while len(self._results) > self._size:
                self._results.popitem(last=False)
