"""Runs code actions against the model host: waits for a model that is still loading (on the
host's readiness event), runs the model calls on the model thread, and maps failures, by their
type, to :class:`ActionFailed` with a message for the user."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

from llama_lsp.context.documents import DocumentSnapshot, DocumentStore
from llama_lsp.features.actions import service
from llama_lsp.features.actions.placement import Edit
from llama_lsp.features.actions.service import ActionFailed, ActionKind, NoModel, Problem, Request
from llama_lsp.features.guard import Privacy
from llama_lsp.model.backend import Backend, ModelError
from llama_lsp.model.host import ModelHost, ModelState

T = TypeVar("T")

MODEL_WAIT_SECONDS = 120.0
"""How long an action waits for a model that is still loading before it runs without one."""

ProgressReport = Callable[[int, int, str], None]
"""Called with (done, total, name) before each definition of a whole-file run."""


async def run_on_model(host: ModelHost, key: Hashable,
                       work: Callable[[Backend | None, Callable[[], bool]], T],
                       wait_seconds: float = MODEL_WAIT_SECONDS) -> T:
    """``work(backend, is_cancelled)`` on the model thread once a loading model is ready; in a
    worker thread with no backend when there is no model. Cancelling the caller cancels it."""
    await host.until_ready(wait_seconds)
    # UNAVAILABLE: a remote server was down; submitting retries it.
    if host.status.state not in (ModelState.READY, ModelState.UNAVAILABLE):
        return await asyncio.to_thread(work, None, lambda: False)
    job = host.submit(work, key=key)
    try:
        return await asyncio.wrap_future(job.future)
    except asyncio.CancelledError:
        job.cancel()
        raise


def check_current(documents: DocumentStore, snapshot: DocumentSnapshot) -> None:
    """:class:`ActionFailed` when the document was closed or edited since ``snapshot``."""
    document = documents.get(snapshot.uri)
    if document is None or document.version != snapshot.version:
        raise ActionFailed("the document changed while the edit was computed; nothing was "
                           "changed, try again")


def command_target(snapshot: DocumentSnapshot, kind: ActionKind, byte_offset: int,
                   message: str) -> int:
    """Where a command for ``kind`` at ``byte_offset`` acts: for a fix or an implementation,
    the function there (:class:`ActionFailed` if there is none); a docstring, right there."""
    if kind is ActionKind.DOCSTRING:
        return byte_offset
    problem = Problem(byte_offset, byte_offset, message)
    offer = next((o for o in service.offers(snapshot, byte_offset, byte_offset, [problem])
                  if o.kind is kind), None)
    if offer is None:
        raise ActionFailed("no function here to implement" if kind is ActionKind.IMPLEMENT
                           else "no function here to fix")
    return offer.byte_offset


async def compute(host: ModelHost, documents: DocumentStore, snapshot: DocumentSnapshot,
                  request: Request) -> Edit:
    """The validated edit of ``request``; :class:`ActionFailed` with the reason, also when the
    document changed while the model worked."""
    try:
        edit = await run_on_model(
            host, ("action", snapshot.uri),
            lambda backend, is_cancelled: service.compute(snapshot, request, backend,
                                                          is_cancelled))
    except NoModel as error:
        status = host.status
        if status.state is ModelState.FAILED:  # say why there is none
            raise NoModel(f"{error} ({status.detail})") from error
        raise
    except ModelError as error:  # e.g. the remote server is down: a message, not a crash
        raise ActionFailed(f"the model failed: {error}") from error
    check_current(documents, snapshot)
    return edit


@dataclass(frozen=True)
class FileDocs:
    """The outcome of documenting a whole file."""

    edits: list[Edit]
    """One edit per documented definition, in order, checked together."""
    failures: list[str]
    """One line per definition that could not be documented."""

    @property
    def reason(self) -> str:
        """Why nothing is applied, when there are no edits."""
        return "every definition failed" if self.failures else \
            "no undocumented public definitions"


async def file_docstrings(host: ModelHost, documents: DocumentStore,
                          snapshot: DocumentSnapshot, style: str, privacy: Privacy,
                          refusal: str | None, path: str,
                          progress: ProgressReport) -> FileDocs:
    """Docs for every undocumented public definition of ``snapshot``, one model job each (so
    completions run in between); :class:`ActionFailed` when the document changes meanwhile or
    the model fails."""
    definitions, targets = service.file_targets(snapshot, refusal)
    edits: list[Edit] = []
    failures: list[str] = []
    try:
        for number, definition in enumerate(targets):
            check_current(documents, snapshot)  # typing stops it
            progress(number, len(targets), definition.name)
            result = await run_on_model(
                host, ("action-file", snapshot.uri),
                lambda backend, is_cancelled, definition=definition: service.file_edit(
                    snapshot, definition, definitions, style, backend, is_cancelled, privacy,
                    path))
            if isinstance(result, str):
                failures.append(result)
            else:
                edits.append(result)
    except ModelError as error:  # e.g. the remote server went away between definitions
        raise ActionFailed(f"the model failed: {error}") from error
    return FileDocs(service.combine_edits(snapshot, edits), failures)
