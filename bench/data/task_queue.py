"""A small persistent task queue with retries, priorities and a worker pool."""

from __future__ import annotations

import heapq
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

logger = logging.getLogger(__name__)

DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_BACKOFF_SECONDS = 2.0


class TaskError(Exception):
    """Raised when a task cannot be scheduled or run."""


@dataclass(order=True)
class Task:
    """One unit of work. Lower ``priority`` runs first."""

    priority: int
    created_at: float
    name: str = field(compare=False)
    payload: dict[str, Any] = field(compare=False, default_factory=dict)
    attempts: int = field(compare=False, default=0)
    max_attempts: int = field(compare=False, default=DEFAULT_MAX_ATTEMPTS)
    last_error: str | None = field(compare=False, default=None)

    def to_dict(self) -> dict[str, Any]:
        """Serialise the task for the journal."""
        return {
            "priority": self.priority,
            "created_at": self.created_at,
            "name": self.name,
            "payload": self.payload,
            "attempts": self.attempts,
            "max_attempts": self.max_attempts,
            "last_error": self.last_error,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Task:
        """Rebuild a task from its journal entry."""
        return cls(
            priority=int(data["priority"]),
            created_at=float(data["created_at"]),
            name=str(data["name"]),
            payload=dict(data.get("payload", {})),
            attempts=int(data.get("attempts", 0)),
            max_attempts=int(data.get("max_attempts", DEFAULT_MAX_ATTEMPTS)),
            last_error=data.get("last_error"),
        )


class TaskQueue:
    """A thread-safe priority queue that survives restarts through a JSON journal."""

    def __init__(self, journal: Path) -> None:
        self.journal = journal
        self._heap: list[Task] = []
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)
        self._handlers: dict[str, Callable[[dict[str, Any]], None]] = {}
        self._dead_letters: list[Task] = []
        if journal.exists():
            self._restore()

    def register(self, name: str, handler: Callable[[dict[str, Any]], None]) -> None:
        """Route tasks called ``name`` to ``handler``."""
        if name in self._handlers:
            raise TaskError(f"a handler for {name!r} is already registered")
        self._handlers[name] = handler

    def push(self, name: str, payload: dict[str, Any] | None = None, priority: int = 10) -> Task:
        """Schedule a task and wake one worker."""
        if name not in self._handlers:
            raise TaskError(f"no handler registered for {name!r}")
        task = Task(priority=priority, created_at=time.time(), name=name, payload=payload or {})
        with self._not_empty:
            heapq.heappush(self._heap, task)
            self._persist()
            self._not_empty.notify()
        return task

    def pop(self, timeout: float | None = None) -> Task | None:
        """Take the most urgent task, waiting up to ``timeout`` seconds for one."""
        with self._not_empty:
            if not self._heap and not self._not_empty.wait(timeout):
                return None
            if not self._heap:
                return None
            task = heapq.heappop(self._heap)
            self._persist()
            return task

    def __len__(self) -> int:
        with self._lock:
            return len(self._heap)

    @property
    def dead_letters(self) -> list[Task]:
        """Tasks that failed ``max_attempts`` times."""
        with self._lock:
            return list(self._dead_letters)

    def run_one(self, task: Task) -> bool:
        """Run ``task``; on failure requeue it with backoff or move it to the dead letters."""
        handler = self._handlers[task.name]
        task.attempts += 1
        try:
            handler(task.payload)
        except Exception as error:  # noqa: BLE001 - any handler failure is recorded
            task.last_error = f"{type(error).__name__}: {error}"
            logger.warning("task %s failed (attempt %d): %s", task.name, task.attempts, error)
            with self._not_empty:
                if task.attempts >= task.max_attempts:
                    self._dead_letters.append(task)
                else:
                    task.priority += 1
                    heapq.heappush(self._heap, task)
                    self._not_empty.notify()
                self._persist()
            return False
        return True

    def _persist(self) -> None:
        entries = {
            "pending": [task.to_dict() for task in self._heap],
            "dead": [task.to_dict() for task in self._dead_letters],
        }
        tmp = self.journal.with_suffix(".tmp")
        tmp.write_text(json.dumps(entries, indent=2))
        tmp.replace(self.journal)

    def _restore(self) -> None:
        data = json.loads(self.journal.read_text())
        self._heap = [Task.from_dict(entry) for entry in data.get("pending", [])]
        heapq.heapify(self._heap)
        self._dead_letters = [Task.from_dict(entry) for entry in data.get("dead", [])]


class WorkerPool:
    """Threads that take tasks from a queue until stopped."""

    def __init__(self, queue: TaskQueue, size: int = 4) -> None:
        self.queue = queue
        self.size = size
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self.completed = 0
        self.failed = 0

    def start(self) -> None:
        """Start the worker threads."""
        for index in range(self.size):
            thread = threading.Thread(target=self._work, name=f"worker-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the workers to finish their current task and wait for them."""
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def _work(self) -> None:
        while not self._stopping.is_set():
            task = self.queue.pop(timeout=0.1)
            if task is None:
                continue
            if self.queue.run_one(task):
                self.completed += 1
            else:
                self.failed += 1
                time.sleep(min(DEFAULT_BACKOFF_SECONDS * task.attempts, 10.0))

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until the queue is empty; return False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.queue) == 0:
                return True
            time.sleep(0.05)
        return False


def summarise(pool: WorkerPool, queue: TaskQueue) -> dict[str, int]:
    """Counts for a status page."""
    dead = queue.dead_letters
    return {
        "completed": pool.completed,
        "failed": pool.failed,
        "pending": len(queue),
        "dead": len(dead),
        "retried": sum(1 for task in dead if task.attempts > 1),
    }
