"""The ``$/llama-lsp/status`` payload: model state, last latency, tokens/s, cache hit rate."""

from __future__ import annotations

from llama_lsp.server.language_server import LlamaLanguageServer
from llama_lsp.server.session import Session

STATUS_NOTIFICATION = "$/llama-lsp/status"


def status_payload(session: Session, **fields: object) -> dict[str, object]:
    """Model state, cache hit rate and counters, plus ``fields`` (latency, tokens/s...)."""
    status = session.host.status
    return {**fields, "state": status.state.value, "detail": status.detail,
            **session.completions.counters()}


def send_status(ls: LlamaLanguageServer, **fields: object) -> None:
    """``$/llama-lsp/status``: model state, last latency, tokens/s, cache hit rate, context;
    the ``fields`` of a completion are kept for the ``llama-lsp.status`` command."""
    payload = status_payload(ls.session, **fields)
    if fields:
        ls.session.last_status = dict(fields)
    ls.protocol.notify(STATUS_NOTIFICATION, payload)
