"""One thread that owns the model: jobs run one at a time, newest wins within a key.

A job submitted with a key supersedes the queued and running jobs with the same key: queued
ones are dropped, the running one is asked to stop (its ``is_cancelled`` turns true, and the
generation loop checks it between tokens). Every job's future is resolved: a result, an
exception, or cancelled.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")
logger = logging.getLogger(__name__)


@dataclass(eq=False)
class Job(Generic[T]):
    """A unit of work for the model thread."""

    run: Callable[[Callable[[], bool]], T]
    key: Hashable | None = None
    future: Future[T] = field(default_factory=Future)
    _stop: threading.Event = field(default_factory=threading.Event)

    def is_cancelled(self) -> bool:
        """True once the job was cancelled or superseded."""
        return self._stop.is_set() or self.future.cancelled()

    def cancel(self) -> None:
        """Ask the job to stop, and resolve its future as cancelled right away."""
        self._stop.set()
        self.future.cancel()


class ModelWorker:
    """A daemon thread running jobs in submission order (latest-wins per key)."""

    def __init__(self, name: str = "llama-lsp-model") -> None:
        self._queue: deque[Job[Any]] = deque()
        self._condition = threading.Condition()
        self._running: Job[Any] | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, run: Callable[[Callable[[], bool]], T], key: Hashable | None = None,
               supersedes: tuple[Hashable, ...] = ()) -> Job[T]:
        """Queue ``run(is_cancelled)``; cancel queued and running jobs with the same key, or
        with any key in ``supersedes`` (e.g. background speculation for the same document)."""
        job: Job[T] = Job(run, key)
        with self._condition:
            if self._closed:
                job.cancel()
                return job
            doomed = set(supersedes) | ({key} if key is not None else set())
            if doomed:
                for queued in [j for j in self._queue if j.key in doomed]:
                    self._queue.remove(queued)
                    queued.cancel()
                if self._running is not None and self._running.key in doomed:
                    self._running.cancel()
            self._queue.append(job)
            self._condition.notify()
        return job

    def _loop(self) -> None:
        while True:
            with self._condition:
                while not self._queue and not self._closed:
                    self._condition.wait()
                if self._closed:
                    return
                job = self._queue.popleft()
                self._running = job
            try:
                if not job.is_cancelled():
                    started = time.perf_counter()
                    result = job.run(job.is_cancelled)
                    logger.debug("job %s ran %.0f ms%s", job.key,
                                 (time.perf_counter() - started) * 1000,
                                 " (cancelled)" if job.is_cancelled() else "")
                    if not job.future.done():
                        job.future.set_result(result)
            except BaseException as error:  # noqa: BLE001 - delivered to whoever waits
                if not job.future.done():
                    job.future.set_exception(error)
                else:
                    logger.debug("cancelled job raised %r", error)
            finally:
                with self._condition:
                    self._running = None

    def close(self, timeout: float = 5.0) -> None:
        """Cancel everything queued, stop the running job and end the thread."""
        with self._condition:
            self._closed = True
            for job in self._queue:
                job.cancel()
            self._queue.clear()
            if self._running is not None:
                self._running.cancel()
            self._condition.notify_all()
        self._thread.join(timeout)
