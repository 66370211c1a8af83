"""Adaptive debounce and generation time budgets.

:class:`AdaptiveDebounce` learns the user's typing rhythm from keystroke times and says how long
to hold a completion request: ``min_delay`` for the first keystroke after a pause (answer
fast), otherwise the median of the recent inter-keystroke intervals times ``typing_factor``,
within ``[min_delay, max_delay]`` (wait a little longer than the next keystroke usually takes,
so that work is not started only to be superseded). It also says when the first-request
time budget applies.

Time is always passed in (``now``); nothing here reads a clock itself.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class DebounceConfig:
    """Every constant of the debounce and budget policy (seconds)."""

    min_delay: float = 0.010
    """Hold after a pause (coalesces a burst of edits from one keystroke)."""
    max_delay: float = 0.120
    """Longest hold while typing."""
    pause_seconds: float = 0.5
    """A gap this long or longer between keystrokes is a pause, not typing."""
    typing_factor: float = 1.5
    """Hold = median typing interval x this factor (then clamped)."""
    history: int = 8
    """Typing intervals remembered for the median."""
    same_keystroke: float = 0.005
    """Changes closer together than this are one keystroke (e.g. auto-closed brackets)."""
    first_request_budget: float = 0.25
    """Generation wall-time budget for the first request after a pause."""

    def __post_init__(self) -> None:
        if not 0 <= self.min_delay <= self.max_delay:
            raise ValueError("need 0 <= min_delay <= max_delay")
        if self.pause_seconds <= 0 or self.typing_factor <= 0 or self.history < 1:
            raise ValueError("pause_seconds, typing_factor and history must be positive")
        if self.same_keystroke < 0 or self.first_request_budget <= 0:
            raise ValueError("same_keystroke must be >= 0 and first_request_budget positive")


class AdaptiveDebounce:
    """Keystroke rhythm -> request hold time and budget. Call ``observe`` on every edit."""

    def __init__(self, config: DebounceConfig | None = None) -> None:
        self.config = config or DebounceConfig()
        self._intervals: deque[float] = deque(maxlen=self.config.history)
        self._last: float | None = None
        self._gap_before_last = math.inf

    def observe(self, now: float) -> None:
        """Record a keystroke (a document change) at ``now``."""
        if self._last is not None:
            gap = now - self._last
            if gap < self.config.same_keystroke:
                return  # part of the previous keystroke; keep its time
            if gap < self.config.pause_seconds:
                self._intervals.append(gap)
            self._gap_before_last = gap
        self._last = now

    def typing_interval(self) -> float | None:
        """Median of the recent typing intervals (pauses excluded); None before there are any."""
        return statistics.median(self._intervals) if self._intervals else None

    def hold(self) -> float:
        """Seconds to wait after the latest keystroke before starting a request."""
        config = self.config
        interval = self.typing_interval()
        if self._gap_before_last >= config.pause_seconds or interval is None:
            return config.min_delay
        return min(config.max_delay, max(config.min_delay, interval * config.typing_factor))

    def delay(self, now: float) -> float:
        """Seconds from ``now`` to hold a request that arrived at ``now`` (0: start at once)."""
        if self._last is None:
            return 0.0
        return max(0.0, self._last + self.hold() - now)

    def after_pause(self, now: float) -> bool:
        """True when a request at ``now`` follows a pause: no keystroke yet, none for
        ``pause_seconds``, or the latest one came after a pause."""
        if self._last is None or now - self._last >= self.config.pause_seconds:
            return True
        return self._gap_before_last >= self.config.pause_seconds

    def budget_for(self, now: float) -> float | None:
        """Generation budget (seconds) for a request at ``now``: ``first_request_budget`` after a
        pause, None (no budget) while typing."""
        return self.config.first_request_budget if self.after_pause(now) else None
