"""How many CPU threads llama.cpp should use now: the cores other programs leave free.

llama.cpp's threads wait for each other at every layer, so a thread that loses its core to
another program stalls them all (measured on 2 cores with one core busy elsewhere: 2 threads
took 2.3x as long per keystroke as 1). On an idle machine the extra thread is 1.25x faster.
So the count follows what the other programs used since the last look, read from Linux's
``/proc/stat`` (only the CPUs this process may run on) minus this process's own CPU time.
Elsewhere, or where that file cannot be read, it is all cores but one.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

PROC_STAT = "/proc/stat"
# A shorter look back is mostly rounding: /proc/stat counts in ticks of 10 ms a CPU.
MIN_WINDOW_S = 0.2
# Cores busy elsewhere below this share still count as free (an editor redrawing, a shell).
SLACK_CORES = 0.3


def usable_cpus() -> list[int]:
    """The CPU numbers this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 2))


def busy_seconds(stat_text: str, cpus: list[int], ticks_per_second: float) -> float:
    """CPU seconds the given CPUs have spent busy (not idle or waiting for I/O) since boot,
    from the text of ``/proc/stat``."""
    wanted = {f"cpu{number}" for number in cpus}
    busy_ticks = 0
    for line in stat_text.splitlines():
        fields = line.split()
        if not fields or fields[0] not in wanted:
            continue
        # user nice system idle iowait irq softirq steal (guest time is inside user)
        values = [int(value) for value in fields[1:9]]
        busy_ticks += sum(values) - values[3] - values[4]
    return busy_ticks / ticks_per_second


def read_proc_stat() -> str:
    """The text of ``/proc/stat``; OSError where there is none."""
    with open(PROC_STAT, encoding="ascii") as handle:
        return handle.read()


@dataclass
class _Sample:
    wall: float
    busy: float
    own: float


class FreeCores:
    """Chooses a thread count from the CPU time other programs used since the last choice.

    ``pinned`` (the ``threads`` setting) fixes the count. Not thread-safe: one model
    thread asks.
    """

    def __init__(self, pinned: int | None = None, cpus: list[int] | None = None,
                 read_stat: Callable[[], str] = read_proc_stat,
                 own_seconds: Callable[[], float] = time.process_time,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.cpus = cpus if cpus is not None else usable_cpus()
        self.pinned = pinned
        self._read_stat = read_stat
        self._own_seconds = own_seconds
        self._clock = clock
        self._ticks = float(os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 100.0
        self.fallback = max(1, len(self.cpus) - 1)
        """The count where the machine's load cannot be read: all cores but one."""
        self._last = self._sample()
        self.current = pinned or self.fallback
        """The count chosen last."""

    @property
    def adaptive(self) -> bool:
        """True when the count follows the machine's load (not pinned, load readable)."""
        return self.pinned is None and self._last is not None

    def _sample(self) -> _Sample | None:
        try:
            text = self._read_stat()
        except OSError:
            return None
        return _Sample(self._clock(), busy_seconds(text, self.cpus, self._ticks),
                       self._own_seconds())

    def choose(self) -> int:
        """The thread count to use now (the last one if looked at less than 0.2 s ago)."""
        if not self.adaptive:
            return self.current
        now = self._clock()
        assert self._last is not None
        if now - self._last.wall < MIN_WINDOW_S:
            return self.current
        sample = self._sample()
        if sample is None:
            self.current = self.fallback
            return self.current
        window = sample.wall - self._last.wall
        others = max(0.0, (sample.busy - self._last.busy) - (sample.own - self._last.own))
        self._last = sample
        free = len(self.cpus) - others / window
        self.current = min(len(self.cpus), max(1, math.floor(free + SLACK_CORES)))
        return self.current

    def describe(self) -> str:
        """For ``doctor`` and the log: how the count is chosen."""
        if self.pinned is not None:
            return f"{self.pinned} (the threads setting)"
        if self._last is None:
            return f"{self.fallback} of {len(self.cpus)} cores (all but one)"
        return (f"1-{len(self.cpus)} of {len(self.cpus)} cores, the ones other programs leave "
                f"free (now {self.current})")
