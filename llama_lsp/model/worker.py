"""One thread that owns the model: jobs run one at a time, newest wins within a key.

A job submitted with a key supersedes the queued and running jobs with the same key: queued
ones are dropped, the running one is asked to stop (its ``is_cancelled`` turns true, and the
generation loop checks it between tokens). Every job's future is resolved: a result, an
exception, or cancelled. A cancelled job's future is resolved at once, while its ``run`` may
still be going: ``ended`` says when the job is really over.
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
    ended: Future[None] = field(default_factory=Future)
    """Resolved once the job is over: its ``run`` returned or raised, or it was dropped before
    it started (what the job used may be released then)."""
    _stop: threading.Event = field(default_factory=threading.Event)

    def is_cancelled(self) -> bool:
        """True once the job was cancelled or superseded."""
        return self._stop.is_set() or self.future.cancelled()

    def cancel(self) -> None:
        """Ask the job to stop, and resolve its future as cancelled right away."""
        self._stop.set()
        self.future.cancel()

    def _drop(self) -> None:
        """Cancel a job that will never start."""
        self.cancel()
        self._end()

    def _end(self) -> None:
        if not self.ended.done():
            self.ended.set_result(None)


class ModelWorker:
    """A daemon thread running jobs in submission order (latest-wins per key)."""

    def __init__(self, name: str = "llama-lsp-model") -> None:
        self._queue: deque[Job[Any]] = deque()
        self._condition = threading.Condition()
        self._running: Job[Any] | None = None
        self._closed = False
        self._exited = False
        self._at_exit: list[Callable[[], None]] = []
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, run: Callable[[Callable[[], bool]], T], key: Hashable | None = None,
               supersedes: tuple[Hashable, ...] = ()) -> Job[T]:
        """Queue ``run(is_cancelled)``; cancel queued and running jobs with the same key, or
        with any key in ``supersedes`` (e.g. background speculation for the same document)."""
        job: Job[T] = Job(run, key)
        with self._condition:
            if self._closed:
                job._drop()
                return job
            doomed = set(supersedes) | ({key} if key is not None else set())
            if doomed:
                for queued in [j for j in self._queue if j.key in doomed]:
                    self._queue.remove(queued)
                    queued._drop()
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
                    break
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
                job._end()
        self._exit()

    def _exit(self) -> None:
        """Run what ``close`` left to this thread, then mark it ended."""
        while True:
            with self._condition:
                at_exit, self._at_exit = self._at_exit, []
                if not at_exit:
                    self._exited = True
                    return
            for callback in at_exit:
                _run_safely(callback)

    def close(self, timeout: float = 5.0, then: Callable[[], None] | None = None) -> bool:
        """Cancel everything queued, stop the running job and end the thread; wait for that at
        most ``timeout`` seconds. ``then`` runs once the thread has ended, never before: here
        when it ended in time, else on the thread itself as its last act. Returns whether the
        thread ended in time."""
        with self._condition:
            self._closed = True
            for job in self._queue:
                job._drop()
            self._queue.clear()
            if self._running is not None:
                self._running.cancel()
            self._condition.notify_all()
        self._thread.join(timeout)
        with self._condition:
            ended = self._exited
            if not ended and then is not None:
                self._at_exit.append(then)
        if ended and then is not None:
            then()
        return ended


def _run_safely(callback: Callable[[], None]) -> None:
    """Run a callback on the model thread; what it raises is logged, not lost silently."""
    try:
        callback()
    except Exception:  # noqa: BLE001 - the thread is ending; nobody else would see it
        logger.exception("model thread: %r failed at exit", callback)
