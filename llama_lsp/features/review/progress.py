"""Progress on stderr: a rich progress bar on a terminal, plain log lines otherwise."""

from __future__ import annotations

import sys
from typing import Protocol, TextIO

from llama_lsp.features.review.escape import printable


class Progress(Protocol):
    """What the reviewer reports as it goes."""

    def start(self, total: int) -> None:
        """``total`` units are about to be reviewed."""
        ...

    def done(self, label: str, seconds: float, cached: bool) -> None:
        """One unit finished."""
        ...

    def close(self) -> None:
        """The run is over."""
        ...


class LogProgress:
    """``review: [3/10] path: function f (2.1 s)`` lines, for CI logs."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.total = 0
        self.finished = 0

    def start(self, total: int) -> None:
        self.total = total
        print(f"review: {total} unit(s) to review", file=self.stream, flush=True)

    def done(self, label: str, seconds: float, cached: bool) -> None:
        self.finished += 1
        how = "cached" if cached else f"{seconds:.1f} s"
        print(f"review: [{self.finished}/{self.total}] {printable(label)} ({how})",
              file=self.stream, flush=True)

    def close(self) -> None:
        return None


class BarProgress:
    """A rich progress bar (transient, on stderr)."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        self._bar = RichProgress(TextColumn("review"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), TextColumn("{task.description}"),
                                 console=Console(file=stream), transient=True)
        self._task = None

    def start(self, total: int) -> None:
        self._bar.start()
        self._task = self._bar.add_task("", total=total)

    def done(self, label: str, seconds: float, cached: bool) -> None:
        if self._task is not None:
            from rich.markup import escape

            self._bar.update(self._task, advance=1, description=escape(printable(label)))

    def close(self) -> None:
        self._bar.stop()


class NoProgress:
    """Silent."""

    def start(self, total: int) -> None:
        return None

    def done(self, label: str, seconds: float, cached: bool) -> None:
        return None

    def close(self) -> None:
        return None


def progress_for(stream: TextIO | None = None, quiet: bool = False) -> Progress:
    """A bar on a terminal, log lines otherwise, nothing when ``quiet``."""
    stream = stream or sys.stderr
    if quiet:
        return NoProgress()
    if stream.isatty():
        try:
            return BarProgress(stream)
        except ImportError:
            pass
    return LogProgress(stream)
