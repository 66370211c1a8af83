"""One short handler per LSP method: params -> session/features -> lsprotocol result."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

from lsprotocol import types

from llama_lsp.config.settings import CONFIG_SECTION, resolve_settings
from llama_lsp.context.documents import DocumentSnapshot, uri_to_path
from llama_lsp.features.completion.coordinator import (
    KEYSTROKE_PARSE_SECONDS,
    CompletionAnswer,
    Superseded,
)
from llama_lsp.model.backend import EngineUnavailable, ModelError
from llama_lsp.model.host import ModelState, ModelStatus
from llama_lsp.server.convert import encoding_of, from_lsp_position, to_lsp_range
from llama_lsp.server.language_server import LlamaLanguageServer
from llama_lsp.server.lookup import locate
from llama_lsp.server.progress import work_done
from llama_lsp.server.status import send_status

logger = logging.getLogger(__name__)
_IDENTIFIER_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")


def register(server: LlamaLanguageServer) -> None:
    """Attach every handler below to ``server``."""
    server.feature(types.INITIALIZE)(initialize)
    server.feature(types.INITIALIZED)(initialized)
    server.feature(types.SHUTDOWN)(shutdown)
    server.feature(types.TEXT_DOCUMENT_DID_OPEN)(did_open)
    server.feature(types.TEXT_DOCUMENT_DID_CHANGE)(did_change)
    server.feature(types.TEXT_DOCUMENT_DID_CLOSE)(did_close)
    server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)(did_change_configuration)
    server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())(
        inline_completion
    )
    server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions())(completion)


# ---------------------------------------------------------------------------------------------
# Lifecycle and configuration


def _log(ls: LlamaLanguageServer, message: str, kind: types.MessageType) -> None:
    ls.window_log_message(types.LogMessageParams(type=kind, message=f"llama-lsp: {message}"))


def _apply_settings(ls: LlamaLanguageServer, raw: Any) -> None:
    session = ls.session
    before = session.settings
    session.settings, problems = resolve_settings(raw, session.settings)
    session.documents.max_bytes = session.settings.max_file_bytes
    session.documents.max_parse_lines = session.settings.max_parse_lines
    session.documents.max_parse_bytes = session.settings.max_parse_bytes
    index_settings = ("secret_patterns", "max_file_bytes", "max_parse_lines", "max_parse_bytes")
    if session.index is not None and any(getattr(before, name) != getattr(session.settings, name)
                                         for name in index_settings):
        session.start_index(session.roots)
    for problem in problems:
        ls.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Warning, message=f"llama-lsp: {problem}")
        )


def initialize(ls: LlamaLanguageServer, params: types.InitializeParams) -> None:
    """Read initializationOptions and what the client can do."""
    session = ls.session
    session.encoding = encoding_of(ls.workspace.position_encoding)
    capabilities = params.capabilities
    session.supports_configuration = bool(
        capabilities.workspace and capabilities.workspace.configuration
    )
    session.supports_progress = bool(
        capabilities.window and capabilities.window.work_done_progress
    )
    _apply_settings(ls, params.initialization_options)
    session.start_index(_workspace_roots(params))
    session.initialized = True


def _workspace_roots(params: types.InitializeParams) -> list[Path]:
    uris = [folder.uri for folder in params.workspace_folders or []]
    if not uris and params.root_uri:
        uris = [params.root_uri]
    paths = [Path(path) for uri in uris if (path := uri_to_path(uri))]
    if not paths and params.root_path:
        paths = [Path(params.root_path)]
    return [path for path in paths if path.is_dir()]


async def initialized(ls: LlamaLanguageServer, params: types.InitializedParams) -> None:
    """Pull workspace configuration, then load the model in the background."""
    loop = asyncio.get_running_loop()
    ls.session.host.on_change = lambda old, new: loop.call_soon_threadsafe(
        _report_state_change, ls, old, new)
    ls.session.completions.on_ready = lambda snapshot, offset: _announce_suggestion(
        ls, snapshot, offset)
    await _pull_configuration(ls)
    await _load_model(ls)


def _report_state_change(ls: LlamaLanguageServer, old: ModelStatus, new: ModelStatus) -> None:
    """Tell the user when a remote server goes away and when it is back."""
    if new.state is ModelState.UNAVAILABLE and old.state is ModelState.READY:
        ls.window_show_message(types.ShowMessageParams(
            type=types.MessageType.Warning,
            message=f"llama-lsp: {new.detail}; completions resume by themselves when it is back"))
    elif new.state is ModelState.READY and old.state is ModelState.UNAVAILABLE:
        ls.window_show_message(types.ShowMessageParams(
            type=types.MessageType.Info,
            message=f"llama-lsp: the inference server is back ({new.detail})"))
    if ModelState.UNAVAILABLE in (old.state, new.state):
        send_status(ls)


async def _pull_configuration(ls: LlamaLanguageServer) -> None:
    if not ls.session.supports_configuration:
        return
    try:
        values = await asyncio.wait_for(
            ls.workspace_configuration_async(
                types.ConfigurationParams(items=[types.ConfigurationItem(section=CONFIG_SECTION)])
            ),
            timeout=5,
        )
    except Exception as error:  # noqa: BLE001 - a client that cannot answer keeps the defaults
        logger.info("workspace/configuration failed: %s", error)
        return
    if values and isinstance(values[0], dict):
        _apply_settings(ls, values[0])


async def _load_model(ls: LlamaLanguageServer) -> None:
    session = ls.session
    settings = session.settings
    what = (f"loading {settings.model or 'default model'}" if settings.backend == "embedded"
            else f"connecting to {settings.endpoint}")
    error: ModelError | None = None
    async with work_done(ls, "llama-lsp", what):
        started = time.perf_counter()
        job = session.host.load(settings)
        send_status(ls)
        try:
            backend = await asyncio.wrap_future(job.future)
        except EngineUnavailable as failure:
            error = failure
            message = (f"llama-lsp: {failure}; completions start by themselves once the "
                       "server answers")
        except ModelError as failure:
            error = failure
            message = f"llama-lsp: no completions until this is fixed: {failure}"
        else:
            fim = backend.info.fim
            engine = "" if backend.info.engine == "embedded" else f" on {backend.info.engine}"
            message = (
                f"model {backend.info.name}{engine} ready in "
                f"{time.perf_counter() - started:.1f}s (context {backend.info.context_size}, "
                f"{'FIM ' + fim.source if fim else 'no FIM tokens: prefix-only prompts'})"
            )
    if error is not None:
        kind = (types.MessageType.Warning if isinstance(error, EngineUnavailable)
                else types.MessageType.Error)
        ls.window_show_message(types.ShowMessageParams(type=kind, message=message))
    else:
        _log(ls, message, types.MessageType.Info)
        session.completions.model_ready(session.settings, session.context_version,
                                        session.context_for, session.last_document())
    send_status(ls)


async def did_change_configuration(
    ls: LlamaLanguageServer, params: types.DidChangeConfigurationParams
) -> None:
    """Apply pushed settings (or pull them), reloading the model when its identity changed."""
    raw = params.settings
    if isinstance(raw, dict) and raw:
        _apply_settings(ls, raw)
    else:
        await _pull_configuration(ls)
    if ls.session.initialized and ls.session.host.needs_reload(ls.session.settings):
        await _load_model(ls)


def shutdown(ls: LlamaLanguageServer, params: None) -> None:
    """Stop the model and indexing threads; later requests get empty answers."""
    ls.session.host.close()
    if ls.session.index is not None:
        ls.session.index.close()


# ---------------------------------------------------------------------------------------------
# Document synchronisation


def did_open(ls: LlamaLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    """Track and parse a newly opened document."""
    item = params.text_document
    document = ls.session.documents.open(item.uri, item.language_id, item.version, item.text)
    snapshot = document.snapshot()
    if ls.session.index is not None and snapshot.language is not None:
        ls.session.index.prepare(snapshot.language)
    if (problem := snapshot.problem) is not None:
        _log(ls, f"{item.uri}: no completions: {problem}", types.MessageType.Warning)
    else:
        if snapshot.no_tree is not None:
            _log(ls, f"{item.uri}: {snapshot.no_tree}", types.MessageType.Info)
        ls.session.last_uri = item.uri
        ls.session.completions.warm(document, ls.session.settings, ls.session.context_for)


def did_change(ls: LlamaLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
    """Apply incremental or full changes, re-parsing incrementally."""
    session = ls.session
    document = session.documents.get(params.text_document.uri)
    if document is None:
        _log(ls, f"change for a document that is not open: {params.text_document.uri}",
             types.MessageType.Warning)
        return
    session.completions.observe_edit(session.settings)
    version = params.text_document.version
    for change in params.content_changes:
        if isinstance(change, types.TextDocumentContentChangePartial):
            document.apply_change(
                from_lsp_position(change.range.start),
                from_lsp_position(change.range.end),
                change.text,
                session.encoding,
                version,
            )
        else:
            document.replace_all(change.text, version)
    session.parses.schedule(document)
    session.last_uri = document.uri
    last = params.content_changes[-1] if params.content_changes else None
    if isinstance(last, types.TextDocumentContentChangePartial):
        line = last.range.start.line + last.text.count("\n")
        session.completions.cursor_on(document, line, session.settings, session.context_for)


def did_close(ls: LlamaLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
    """Forget a closed document."""
    ls.session.documents.close(params.text_document.uri)
    ls.session.parses.forget(params.text_document.uri)
    ls.session.completions.forget(params.text_document.uri)
    if ls.session.index is not None:
        ls.session.index.forget_document(params.text_document.uri)


# ---------------------------------------------------------------------------------------------
# Completion


SUGGESTION_READY_NOTIFICATION = "$/llama-lsp/suggestionReady"


def _announce_suggestion(ls: LlamaLanguageServer, snapshot: DocumentSnapshot,
                         offset: int) -> None:
    """``$/llama-lsp/suggestionReady``: a whole suggestion finished after its request was
    answered is cached for ``snapshot``'s version at ``offset``; clients ask again there."""
    position = snapshot.index.position_at(offset, ls.session.encoding)
    ls.protocol.notify(SUGGESTION_READY_NOTIFICATION, {
        "uri": snapshot.uri, "version": snapshot.version,
        "position": {"line": position.line, "character": position.character}})


async def _complete(ls: LlamaLanguageServer, uri: str, position: types.Position,
                    invoked: bool = False, budgeted: bool = True) -> CompletionAnswer | None:
    """Suggestions at a position, from the completion coordinator."""
    session = ls.session
    at = locate(session, uri, position, KEYSTROKE_PARSE_SECONDS)
    try:
        answer = await session.completions.complete(
            at.document, at.snapshot, at.offset, session.settings, session.context_version(uri),
            session.context_for, invoked=invoked, budgeted=budgeted)
    except Superseded:
        raise asyncio.CancelledError from None  # answered as cancelled; the client asks again
    except EngineUnavailable:
        return None  # the state change was reported once; the next request retries
    except ModelError as error:
        _log(ls, f"completion failed: {error}", types.MessageType.Error)
        return None
    if answer is not None and answer.status:
        send_status(ls, **answer.status)
    return answer


async def inline_completion(
    ls: LlamaLanguageServer, params: types.InlineCompletionParams
) -> types.InlineCompletionList:
    """Ghost text at the cursor; an explicit request (trigger kind Invoked) gets more care."""
    invoked = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
    answer = await _complete(ls, params.text_document.uri, params.position, invoked)
    if answer is None:
        return types.InlineCompletionList(items=[])
    snapshot, suggestions = answer.snapshot, answer.suggestions
    encoding = ls.session.encoding
    return types.InlineCompletionList(
        items=[
            types.InlineCompletionItem(
                insert_text=suggestion.text,
                range=to_lsp_range(snapshot.index, suggestion.start, suggestion.end, encoding),
            )
            for suggestion in suggestions
        ]
    )


async def completion(
    ls: LlamaLanguageServer, params: types.CompletionParams
) -> types.CompletionList:
    """The same suggestions as completion items that replace the word before the cursor.

    Always treated as automatic: editors send trigger kind Invoked for completion lists that
    open by themselves while typing, too. Never cut by the time budget: these clients cannot
    be told to ask again, so the list waits for the whole suggestion (docs/latency.md).
    """
    answer = await _complete(ls, params.text_document.uri, params.position, budgeted=False)
    if answer is None:
        return types.CompletionList(is_incomplete=True, items=[])
    snapshot, suggestions = answer.snapshot, answer.suggestions
    encoding = ls.session.encoding
    items = []
    for rank, suggestion in enumerate(suggestions):
        word_start = suggestion.start
        while word_start > 0 and snapshot.text[word_start - 1] in _IDENTIFIER_CHARS:
            word_start -= 1
        new_text = snapshot.text[word_start:suggestion.start] + suggestion.text
        label = new_text.strip().split("\n", 1)[0][:80] or new_text
        items.append(
            types.CompletionItem(
                label=label,
                kind=types.CompletionItemKind.Text,
                detail="llama-lsp",
                sort_text=f"{rank:04d}",
                filter_text=new_text,
                insert_text_format=types.InsertTextFormat.PlainText,
                text_edit=types.TextEdit(
                    range=to_lsp_range(snapshot.index, word_start, suggestion.end, encoding),
                    new_text=new_text,
                ),
            )
        )
    return types.CompletionList(is_incomplete=True, items=items)
