"""Greedy sampling under a llama.cpp grammar that checks the likeliest tokens first.

llama-cpp-python applies a grammar to every token of the vocabulary before each pick: with a
262k-token vocabulary that costs tens of milliseconds a token. For greedy decoding only the
best *allowed* token matters, so the grammar is first applied to the ``SHORTLIST`` most likely
tokens; when one of them is allowed, the best of those is the greedy choice (every token outside
the shortlist is less likely). Only when none is allowed does the whole vocabulary go through
the grammar. This is the order llama.cpp's own sampler uses.
"""

from __future__ import annotations

import ctypes

import numpy as np

# How many of the likeliest tokens are checked against the grammar before all of them.
SHORTLIST = 32

_TOKEN_DATA = np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)


class GreedyGrammarSampler:
    """One generation's grammar state. Call :meth:`pick`, then :meth:`accept` the token."""

    def __init__(self, llama_cpp: object, vocab: object, grammar: str, root: str) -> None:
        self._llama_cpp = llama_cpp
        self._sampler = llama_cpp.llama_sampler_init_grammar(  # type: ignore[attr-defined]
            vocab, grammar.encode("utf-8"), root.encode("utf-8"))
        if not self._sampler:
            raise ValueError("llama.cpp refused the grammar")

    def pick(self, logits: np.ndarray) -> int | None:
        """The likeliest token the grammar allows next, or None when it allows none."""
        count = min(SHORTLIST, logits.shape[0])
        shortlist = np.argpartition(-logits, count - 1)[:count]
        token = self._best_allowed(shortlist, logits)
        if token is None and count < logits.shape[0]:
            token = self._best_allowed(np.arange(logits.shape[0]), logits)
        return token

    def accept(self, token: int) -> None:
        """Advance the grammar past ``token``."""
        self._llama_cpp.llama_sampler_accept(self._sampler, token)  # type: ignore[attr-defined]

    def close(self) -> None:
        """Free the llama.cpp sampler."""
        if self._sampler:
            self._llama_cpp.llama_sampler_free(self._sampler)  # type: ignore[attr-defined]
            self._sampler = None

    def _best_allowed(self, tokens: np.ndarray, logits: np.ndarray) -> int | None:
        llama_cpp = self._llama_cpp
        data = np.empty(tokens.shape[0], dtype=_TOKEN_DATA)
        data["id"] = tokens
        data["logit"] = logits[tokens]
        data["p"] = 0.0
        candidates = llama_cpp.llama_token_data_array(  # type: ignore[attr-defined]
            data=data.ctypes.data_as(ctypes.POINTER(llama_cpp.llama_token_data)),  # type: ignore[attr-defined]
            size=tokens.shape[0], selected=-1, sorted=False)
        llama_cpp.llama_sampler_apply(self._sampler, ctypes.byref(candidates))  # type: ignore[attr-defined]
        size = candidates.size  # the grammar keeps the array's size and sets logits to -inf
        kept = data[:size]
        allowed = kept[np.isfinite(kept["logit"])]
        if allowed.shape[0] == 0:
            return None
        return int(allowed["id"][np.argmax(allowed["logit"])])
