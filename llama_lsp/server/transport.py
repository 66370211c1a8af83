"""Moving bytes between the client and :class:`~llama_lsp.server.protocol.LlamaProtocol`.

On stdio the protocol keeps the real stdout on a private descriptor (:func:`claim_stdout`):
descriptor 1 then points at stderr, so llama-cpp-python's ``suppress_stdout_stderr`` (which
points descriptors 1 and 2 at /dev/null while a model loads or a grammar compiles), native
prints and stray ``print`` calls cannot swallow or corrupt a reply.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
from collections.abc import Awaitable, Callable

from llama_lsp.server.framing import FrameDecoder
from llama_lsp.server.protocol import LlamaProtocol

logger = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024
_QUEUED_CHUNKS = 16


def claim_stdout() -> int:
    """Keep stdout for the protocol on a new private descriptor, returned; from now on
    descriptor 1 and ``sys.stdout`` write to stderr."""
    sys.stdout.flush()
    private = os.dup(1)  # not inherited by child processes
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return private


class DescriptorWriter:
    """Writes whole frames to a file descriptor, one frame at a time, from any thread."""

    def __init__(self, fd: int, on_lost: Callable[[], None] = lambda: None) -> None:
        self._fd = fd
        self._lock = threading.Lock()
        self._closed = False
        self._on_lost = on_lost

    def write(self, data: bytes) -> None:
        with self._lock:
            if self._closed:
                return
            view = memoryview(data)
            try:
                while view:
                    view = view[os.write(self._fd, view):]
            except OSError as error:
                logger.warning("the client is gone (%s); stopping", error.strerror)
                self._closed = True
                self._on_lost()

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                os.close(self._fd)


class StreamWriter:
    """Writes frames to an asyncio stream (TCP); callable from any thread."""

    def __init__(self, writer: asyncio.StreamWriter, loop: asyncio.AbstractEventLoop) -> None:
        self._writer = writer
        self._loop = loop

    def write(self, data: bytes) -> None:
        if self._writer.is_closing():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._writer.write(data)
        else:
            self._loop.call_soon_threadsafe(self._writer.write, data)

    def close(self) -> None:
        self._writer.close()


def descriptor_reader(fd: int, loop: asyncio.AbstractEventLoop
                      ) -> Callable[[], Awaitable[bytes]]:
    """Read ``fd`` on a daemon thread (it never holds up exit); at most a few chunks ahead."""
    # The thread hands chunks over with ``call_soon_threadsafe`` and never makes a coroutine: one
    # made for a loop that closes first is never awaited, and Python warns about it on stderr.
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    free_slots = threading.Semaphore(_QUEUED_CHUNKS)

    def read_forever() -> None:
        while True:
            free_slots.acquire()
            try:
                chunk = os.read(fd, CHUNK_BYTES)
            except OSError as error:
                logger.warning("cannot read from the client: %s", error.strerror)
                chunk = b""
            try:
                loop.call_soon_threadsafe(queue.put_nowait, chunk)
            except RuntimeError:  # the loop is closed
                return
            if not chunk:
                return

    async def read() -> bytes:
        chunk = await queue.get()
        free_slots.release()
        return chunk

    threading.Thread(target=read_forever, name="llama-lsp-stdin", daemon=True).start()
    return read


async def pump(read: Callable[[], Awaitable[bytes]], protocol: LlamaProtocol,
               stop: threading.Event) -> None:
    """Feed what ``read`` returns to the protocol until end of input or ``stop``.

    ``exit`` raises :class:`SystemExit` through here, as in pygls.
    """
    decoder = FrameDecoder()
    while not stop.is_set():
        data = await read()
        if not data:
            if decoder.buffered:
                logger.warning("the client closed the connection in the middle of a message")
            return
        for event in decoder.feed(data):
            try:
                protocol.receive(event)
            except Exception:  # noqa: BLE001 - one message must not end the session
                logger.exception("a message could not be handled")
