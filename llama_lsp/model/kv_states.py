"""Saved KV states of recently used documents, so that returning to one is not a cold prompt.

The embedded engine has one KV cache. When a prompt for another document comes, the state of
the current one (its tokens and llama.cpp's sequence data) is copied here, and the new
document's saved state, if any, is copied back. States are kept least recently used first out,
within a byte budget (``warmStartMemoryMb``); 0 keeps none.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True)
class SavedState:
    """A document's prompt tokens and the engine's KV data for them."""

    tokens: tuple[int, ...]
    data: bytes

    @property
    def size(self) -> int:
        """Bytes this state holds (the KV data; the token list is small next to it)."""
        return len(self.data)


class SavedStates:
    """LRU of :class:`SavedState` by slot name, within ``budget`` bytes. Use from one thread."""

    def __init__(self, budget: int = 0) -> None:
        if budget < 0:
            raise ValueError("the budget cannot be negative")
        self.budget = budget
        self._states: OrderedDict[str, SavedState] = OrderedDict()

    def __len__(self) -> int:
        return len(self._states)

    def __contains__(self, slot: str) -> bool:
        return slot in self._states

    @property
    def size(self) -> int:
        """Bytes held now (never more than ``budget``)."""
        return sum(state.size for state in self._states.values())

    def take(self, slot: str) -> SavedState | None:
        """Remove and return the state of ``slot`` (it is about to be live in the engine)."""
        return self._states.pop(slot, None)

    def put(self, slot: str, state: SavedState) -> None:
        """Keep ``state`` as the newest; drop the oldest ones until the budget holds. A state
        larger than the whole budget is not kept."""
        self._states.pop(slot, None)
        if state.size > self.budget:
            return
        self._states[slot] = state
        self._shrink()

    def set_budget(self, budget: int) -> None:
        """Change the budget, dropping the oldest states that no longer fit."""
        if budget < 0:
            raise ValueError("the budget cannot be negative")
        self.budget = budget
        self._shrink()

    def _shrink(self) -> None:
        total = self.size
        while total > self.budget and self._states:
            _, oldest = self._states.popitem(last=False)
            total -= oldest.size
