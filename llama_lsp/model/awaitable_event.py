"""An event set from any thread and awaited on an event loop, without polling."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future


class AwaitableEvent:
    """Like :class:`threading.Event`, but awaited: a waiter is woken by the ``set`` call
    itself (through the event loop's thread-safe callback), never by polling."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._future: Future[None] = Future()

    def is_set(self) -> bool:
        """True between ``set`` and the next ``clear``."""
        return self._future.done()

    def set(self) -> None:
        """Wake every waiter; later waits return at once until ``clear``."""
        with self._lock:
            if not self._future.done():
                self._future.set_result(None)

    def clear(self) -> None:
        """Make later waits wait for the next ``set`` (current waiters keep waiting for it)."""
        with self._lock:
            if self._future.done():
                self._future = Future()

    async def wait(self, timeout: float) -> bool:
        """Return once the event is set (True), or after ``timeout`` seconds (False)."""
        future = self._future
        if future.done():
            return True
        try:
            # shield: a timeout must not cancel the future other waiters share.
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), timeout)
        except TimeoutError:
            return False
        return True
