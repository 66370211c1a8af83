"""A request's document and position: URI -> open document -> snapshot -> offset, with one
clear ``InvalidParams`` error for each way that can fail."""

from __future__ import annotations

from dataclasses import dataclass

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcServerNotInitialized

from llama_lsp.context.documents import Document, DocumentSnapshot
from llama_lsp.context.positions import PositionEncoding, PositionError
from llama_lsp.server.convert import from_lsp_position
from llama_lsp.server.session import Session


@dataclass(frozen=True)
class Located:
    """A position in a document, as a request names it."""

    document: Document
    snapshot: DocumentSnapshot
    offset: int
    """Code-point offset in ``snapshot.text``."""


def open_document(session: Session, uri: object) -> Document:
    """The open document ``uri`` names (the session must be initialized)."""
    if not session.initialized:
        raise JsonRpcServerNotInitialized("llama-lsp: send 'initialize' first")
    if not isinstance(uri, str):
        raise JsonRpcInvalidParams("llama-lsp: the first argument must be a document URI")
    document = session.documents.get(uri)
    if document is None:
        raise JsonRpcInvalidParams(f"llama-lsp: {uri} is not open (send textDocument/didOpen)")
    return document


def offset_at(snapshot: DocumentSnapshot, position: types.Position,
              encoding: PositionEncoding) -> int:
    """The code-point offset of ``position``; InvalidParams past the end of the document."""
    try:
        return snapshot.index.offset_at(from_lsp_position(position), encoding)
    except PositionError as error:
        raise JsonRpcInvalidParams(f"llama-lsp: {snapshot.uri}: {error}") from error


def locate(session: Session, uri: object, position: types.Position,
           parse_seconds: float | None = None) -> Located:
    """The document, its snapshot (parsed for at most ``parse_seconds``) and the offset."""
    document = open_document(session, uri)
    snapshot = document.snapshot(parse_seconds)
    return Located(document, snapshot, offset_at(snapshot, position, session.encoding))
