"""Work-done progress (``window/workDoneProgress``) for clients that show it."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from lsprotocol import types

from llama_lsp.server.language_server import LlamaLanguageServer

logger = logging.getLogger(__name__)

CREATE_SECONDS = 5.0
"""How long the client may take to accept a progress token."""


class WorkDone:
    """One piece of work in the client's progress display (nothing without one)."""

    def __init__(self, ls: LlamaLanguageServer, token: str | None) -> None:
        self._ls = ls
        self._token = token

    def report(self, message: str, percentage: int | None = None) -> None:
        """Show how far the work is."""
        if self._token is not None:
            self._ls.work_done_progress.report(self._token, types.WorkDoneProgressReport(
                message=message, percentage=percentage))


async def _create_token(ls: LlamaLanguageServer) -> str | None:
    if not ls.session.supports_progress:
        return None
    token = f"llama-lsp-{uuid.uuid4()}"
    try:
        await asyncio.wait_for(ls.work_done_progress.create_async(token), CREATE_SECONDS)
    except Exception as error:  # noqa: BLE001 - progress is optional
        logger.info("work done progress refused: %s", error)
        return None
    return token


@asynccontextmanager
async def work_done(ls: LlamaLanguageServer, title: str, message: str | None = None,
                    percentage: int | None = None) -> AsyncIterator[WorkDone]:
    """Begin progress titled ``title``; it ends when the block does, also when cancelled (so
    the client's spinner stops)."""
    token = await _create_token(ls)
    if token is not None:
        ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(
            title=title, message=message, percentage=percentage, cancellable=False))
    try:
        yield WorkDone(ls, token)
    finally:
        if token is not None:
            ls.work_done_progress.end(token, types.WorkDoneProgressEnd())
