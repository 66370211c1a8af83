"""Reparses that run between protocol messages, in short slices, instead of on a keystroke.

A keystroke's request parses under a small time budget (see ``Document.snapshot``). Whatever
is left, for example tree-sitter re-reading the rest of a large file after an edit it could not
reuse, is finished here on the event loop: one slice at a time, with a pause between slices in
which queued edits and requests run first.
"""

from __future__ import annotations

import asyncio
import logging

from llama_lsp.context.documents import Document

logger = logging.getLogger(__name__)

# Longest stretch of parsing between two chances for the event loop to serve a message.
SLICE_SECONDS = 0.004
# Pause before each slice: requests that arrived meanwhile go first.
PAUSE_SECONDS = 0.002


class BackgroundParser:
    """Keeps the trees of edited documents current while the user types. Use from one loop."""

    def __init__(self, slice_seconds: float = SLICE_SECONDS,
                 pause_seconds: float = PAUSE_SECONDS) -> None:
        self.slice_seconds = slice_seconds
        self.pause_seconds = pause_seconds
        self.slices = 0
        """Parse slices run so far (each at most ``slice_seconds`` of parsing)."""
        self._pending: dict[str, Document] = {}
        self._task: asyncio.Task[None] | None = None

    def schedule(self, document: Document) -> None:
        """Finish ``document``'s pending reparse soon, in slices."""
        if not document.parse_pending:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a script): parse now
            document.parse()
            return
        self._pending[document.uri] = document
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run())

    def forget(self, uri: str) -> None:
        """Stop parsing a closed document."""
        self._pending.pop(uri, None)

    @property
    def idle(self) -> bool:
        """True when no reparse is waiting."""
        return not self._pending

    async def _run(self) -> None:
        while self._pending:
            await asyncio.sleep(self.pause_seconds)
            for uri, document in list(self._pending.items()):
                if self._pending.get(uri) is not document:
                    continue  # closed (or reopened) since this round began
                self.slices += 1
                try:
                    done = document.parse(self.slice_seconds)
                except Exception:  # noqa: BLE001 - one broken parse must not stop the others
                    logger.exception("parsing %s failed", uri)
                    done = True
                if done:
                    self._pending.pop(uri, None)
                await asyncio.sleep(0)
