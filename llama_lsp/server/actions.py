"""Code actions and commands: LSP <-> :mod:`llama_lsp.features.actions`.

``textDocument/codeAction`` lists actions from the syntax tree alone; the model runs in
``codeAction/resolve`` (or, for clients without resolve support, in the command each action
carries). Every edit names the document version it was computed for, and is refused here too
when the document changed meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcServerNotInitialized

from llama_lsp.context.documents import Document, DocumentSnapshot
from llama_lsp.context.positions import PositionError
from llama_lsp.features.actions import service
from llama_lsp.features.actions.placement import Edit
from llama_lsp.features.actions.service import ActionFailed, ActionKind, Offer, Problem, Request
from llama_lsp.features.guard import Privacy
from llama_lsp.model.backend import Backend, ModelError
from llama_lsp.model.host import ModelState
from llama_lsp.server.app import LlamaLanguageServer
from llama_lsp.server.convert import from_lsp_position, to_lsp_range, uri_and_position

logger = logging.getLogger(__name__)

GENERATE_DOCSTRING = "llama-lsp.generateDocstring"
GENERATE_DOCSTRINGS_FOR_FILE = "llama-lsp.generateDocstringsForFile"
FIX_WITH_MODEL = "llama-lsp.fixWithModel"
IMPLEMENT_FUNCTION = "llama-lsp.implementFunction"
COMMANDS = (GENERATE_DOCSTRING, GENERATE_DOCSTRINGS_FOR_FILE, FIX_WITH_MODEL, IMPLEMENT_FUNCTION)
MODEL_WAIT_SECONDS = 120.0
DEFAULT_FIX_MESSAGE = "the function may have a bug; correct it"

_KIND_OF_ACTION = {
    ActionKind.DOCSTRING: types.CodeActionKind.RefactorRewrite,
    ActionKind.IMPLEMENT: types.CodeActionKind.RefactorRewrite,
    ActionKind.FIX: types.CodeActionKind.QuickFix,
}
_COMMAND_OF_ACTION = {
    ActionKind.DOCSTRING: GENERATE_DOCSTRING,
    ActionKind.IMPLEMENT: IMPLEMENT_FUNCTION,
    ActionKind.FIX: FIX_WITH_MODEL,
}


def register(server: LlamaLanguageServer) -> None:
    """Attach the code-action handlers and the commands."""
    server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix,
                               types.CodeActionKind.RefactorRewrite],
            resolve_provider=True,
        ),
    )(code_action)
    server.feature(types.CODE_ACTION_RESOLVE)(resolve_code_action)
    server.command(GENERATE_DOCSTRING)(generate_docstring)
    server.command(GENERATE_DOCSTRINGS_FOR_FILE)(generate_docstrings_for_file)
    server.command(FIX_WITH_MODEL)(fix_with_model)
    server.command(IMPLEMENT_FUNCTION)(implement_function)


# ---------------------------------------------------------------------------------------------
# Helpers


def _document(ls: LlamaLanguageServer, uri: Any) -> Document:
    if not ls.session.initialized:
        raise JsonRpcServerNotInitialized("llama-lsp: send 'initialize' first")
    if not isinstance(uri, str):
        raise JsonRpcInvalidParams("llama-lsp: the first argument must be a document URI")
    document = ls.session.documents.get(uri)
    if document is None:
        raise JsonRpcInvalidParams(f"llama-lsp: {uri} is not open (send textDocument/didOpen)")
    return document


def _byte_offset(snapshot: DocumentSnapshot, position: types.Position, encoding: Any) -> int:
    try:
        offset = snapshot.index.offset_at(from_lsp_position(position), encoding)
    except PositionError as error:
        raise JsonRpcInvalidParams(f"llama-lsp: {snapshot.uri}: {error}") from error
    return service.byte_offset(snapshot.text, offset)


def _supports_resolve(ls: LlamaLanguageServer) -> bool:
    capabilities = ls.client_capabilities
    code_action = capabilities.text_document.code_action if capabilities.text_document else None
    support = code_action.resolve_support if code_action else None
    return bool(support and "edit" in support.properties)


def _supports_document_changes(ls: LlamaLanguageServer) -> bool:
    capabilities = ls.client_capabilities
    workspace = capabilities.workspace
    return bool(workspace and workspace.workspace_edit
                and workspace.workspace_edit.document_changes)


def _show(ls: LlamaLanguageServer, message: str,
          kind: types.MessageType = types.MessageType.Error) -> None:
    ls.window_show_message(types.ShowMessageParams(type=kind, message=f"llama-lsp: {message}"))


def _workspace_edit(ls: LlamaLanguageServer, snapshot: DocumentSnapshot,
                    edits: list[Edit]) -> types.WorkspaceEdit:
    """The edits for ``snapshot``'s version: a stale edit is refused by the client."""
    encoding = ls.session.encoding
    text_edits: list[types.TextEdit | types.AnnotatedTextEdit | types.SnippetTextEdit] = [
        types.TextEdit(range=to_lsp_range(snapshot.index, edit.start, edit.end, encoding),
                       new_text=edit.new_text)
        for edit in edits
    ]
    if not _supports_document_changes(ls):
        return types.WorkspaceEdit(changes={snapshot.uri: text_edits})  # type: ignore[dict-item]
    return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
        text_document=types.OptionalVersionedTextDocumentIdentifier(
            uri=snapshot.uri, version=snapshot.version),
        edits=text_edits,
    )])


async def _wait_for_model(ls: LlamaLanguageServer) -> None:
    host = ls.session.host
    deadline = time.monotonic() + MODEL_WAIT_SECONDS
    while host.status.state in (ModelState.LOADING, ModelState.NOT_LOADED) \
            and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


async def _run(ls: LlamaLanguageServer, key: object,
               work: Callable[[Backend | None, Callable[[], bool]], Any]) -> Any:
    """Run ``work`` on the model thread (or, without a model, in a worker thread)."""
    await _wait_for_model(ls)
    host = ls.session.host
    # UNAVAILABLE: a remote server was down; submitting retries it.
    if host.status.state not in (ModelState.READY, ModelState.UNAVAILABLE):
        return await asyncio.to_thread(work, None, lambda: False)
    job = host.submit(lambda backend, is_cancelled: work(backend, is_cancelled), key=key)
    try:
        return await asyncio.wrap_future(job.future)
    except asyncio.CancelledError:
        job.cancel()
        raise


def _request(ls: LlamaLanguageServer, snapshot: DocumentSnapshot, kind: ActionKind,
             offset: int, message: str) -> Request:
    """An action request with the session's settings, privacy and the file's refusal."""
    session = ls.session
    return Request(kind, offset, message, session.settings.docstring_style,
                   Privacy.from_settings(session.settings), session.refusal(snapshot),
                   session.prompt_path(snapshot))


async def _compute(ls: LlamaLanguageServer, snapshot: DocumentSnapshot,
                   request: Request) -> Edit:
    """The validated edit of ``request``; raises ActionFailed (also when the document changed
    while the model worked)."""
    try:
        edit: Edit = await _run(
            ls, ("action", snapshot.uri),
            lambda backend, is_cancelled: service.compute(snapshot, request, backend,
                                                          is_cancelled))
    except ActionFailed as error:
        status = ls.session.host.status
        if status.state is ModelState.FAILED and "no model" in str(error):
            raise ActionFailed(f"{error} ({status.detail})") from error
        raise
    except ModelError as error:  # e.g. the remote server is down: a message, not a crash
        raise ActionFailed(f"the model failed: {error}") from error
    _check_current(ls, snapshot)
    return edit


def _check_current(ls: LlamaLanguageServer, snapshot: DocumentSnapshot) -> None:
    document = ls.session.documents.get(snapshot.uri)
    if document is None or document.version != snapshot.version:
        raise ActionFailed("the document changed while the edit was computed; nothing was "
                           "changed, try again")


# ---------------------------------------------------------------------------------------------
# textDocument/codeAction and codeAction/resolve


def code_action(ls: LlamaLanguageServer, params: types.CodeActionParams
                ) -> list[types.CodeAction] | None:
    """List actions for the range, instantly (syntax tree only)."""
    document = _document(ls, params.text_document.uri)
    # Editors ask for the actions at the cursor as it moves: warm the prompt there.
    ls.session.completions.cursor_on(document, params.range.start.line, ls.session.settings,
                                     ls.session.context_for)
    snapshot = document.snapshot()
    if ls.session.refusal(snapshot) is not None:
        return []  # a secret-bearing file: nothing of it goes to the model
    encoding = ls.session.encoding
    start = _byte_offset(snapshot, params.range.start, encoding)
    end = max(start, _byte_offset(snapshot, params.range.end, encoding))
    problems = []
    for diagnostic in params.context.diagnostics:
        try:
            problems.append(Problem(_byte_offset(snapshot, diagnostic.range.start, encoding),
                                    _byte_offset(snapshot, diagnostic.range.end, encoding),
                                    diagnostic.message))
        except JsonRpcInvalidParams:
            continue
    only = params.context.only
    resolve = _supports_resolve(ls)
    actions = []
    for offer in service.offers(snapshot, start, end, problems):
        kind = _KIND_OF_ACTION[offer.kind]
        if only and not any(kind == k or kind.startswith(f"{k}.") for k in only):
            continue
        actions.append(_action(snapshot, offer, kind, params.range.start, resolve))
    return actions


def _action(snapshot: DocumentSnapshot, offer: Offer, kind: str, position: types.Position,
            resolve: bool) -> types.CodeAction:
    data = {"uri": snapshot.uri, "version": snapshot.version, "action": offer.kind.value,
            "offset": offer.byte_offset, "message": offer.message}
    command = None
    if not resolve:
        arguments: list[Any] = [snapshot.uri, {"line": position.line,
                                               "character": position.character}]
        if offer.kind is ActionKind.FIX:
            arguments.append(offer.message)
        command = types.Command(title=offer.title, command=_COMMAND_OF_ACTION[offer.kind],
                                arguments=arguments)
    return types.CodeAction(title=offer.title, kind=kind, data=data, command=command,
                            is_preferred=offer.kind is ActionKind.FIX or None)


async def resolve_code_action(ls: LlamaLanguageServer,
                              action: types.CodeAction) -> types.CodeAction:
    """Compute the listed action's edit (this is where the model runs)."""
    data = action.data if isinstance(action.data, dict) else {}
    try:
        kind = ActionKind(data.get("action"))
        uri, version, offset = data["uri"], data["version"], data["offset"]
    except (ValueError, KeyError) as error:
        raise JsonRpcInvalidParams("llama-lsp: this code action has no llama-lsp data") from error
    document = _document(ls, uri)
    snapshot = document.snapshot()
    try:
        if snapshot.version != version:
            raise ActionFailed("the document changed since the actions were listed; ask again")
        request = _request(ls, snapshot, kind, int(offset), str(data.get("message") or ""))
        edit = await _compute(ls, snapshot, request)
    except ActionFailed as error:
        _show(ls, f"{action.title}: {error}")
        return action
    action.edit = _workspace_edit(ls, snapshot, [edit])
    return action


# ---------------------------------------------------------------------------------------------
# Commands (workspace/executeCommand + workspace/applyEdit)


async def _apply(ls: LlamaLanguageServer, snapshot: DocumentSnapshot, edits: list[Edit],
                 label: str) -> dict[str, Any]:
    _check_current(ls, snapshot)
    result = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(
        edit=_workspace_edit(ls, snapshot, edits), label=label))
    if not result.applied:
        reason = result.failure_reason or "the editor refused the edit"
        _show(ls, f"{label}: {reason}", types.MessageType.Warning)
        return {"applied": False, "reason": reason}
    return {"applied": True, "edits": len(edits)}


async def _command(ls: LlamaLanguageServer, kind: ActionKind, label: str,
                   arguments: tuple[Any, ...]) -> dict[str, Any]:
    uri, position = uri_and_position(arguments, f"llama-lsp: {label}")
    document = _document(ls, uri)
    snapshot = document.snapshot()
    offset = _byte_offset(snapshot, position, ls.session.encoding)
    message = str(arguments[2]) if len(arguments) > 2 and arguments[2] else DEFAULT_FIX_MESSAGE
    try:
        if kind is not ActionKind.DOCSTRING:
            offer = next((o for o in service.offers(snapshot, offset, offset,
                                                    [Problem(offset, offset, message)])
                          if o.kind is kind), None)
            if offer is None:
                raise ActionFailed("no function here to implement" if kind is
                                   ActionKind.IMPLEMENT else "no function here to fix")
            offset = offer.byte_offset
        request = _request(ls, snapshot, kind, offset, message)
        edit = await _compute(ls, snapshot, request)
        return await _apply(ls, snapshot, [edit], label)
    except ActionFailed as error:
        _show(ls, f"{label}: {error}")
        return {"applied": False, "reason": str(error)}


async def generate_docstring(ls: LlamaLanguageServer, *arguments: Any) -> dict[str, Any]:
    """``[uri, position]``: generate or update the doc of the definition at ``position``."""
    return await _command(ls, ActionKind.DOCSTRING, "Generate docstring", arguments)


async def fix_with_model(ls: LlamaLanguageServer, *arguments: Any) -> dict[str, Any]:
    """``[uri, position, message?]``: rewrite the function at ``position`` to fix ``message``."""
    return await _command(ls, ActionKind.FIX, "Fix with the model", arguments)


async def implement_function(ls: LlamaLanguageServer, *arguments: Any) -> dict[str, Any]:
    """``[uri, position]``: write the body of the unimplemented function at ``position``."""
    return await _command(ls, ActionKind.IMPLEMENT, "Implement with the model", arguments)


async def _progress(ls: LlamaLanguageServer, title: str) -> str | None:
    if not ls.session.supports_progress:
        return None
    token = f"llama-lsp-{uuid.uuid4()}"
    try:
        await asyncio.wait_for(ls.work_done_progress.create_async(token), timeout=5)
    except Exception as error:  # noqa: BLE001 - progress is optional
        logger.info("work done progress refused: %s", error)
        return None
    ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title, percentage=0))
    return token


async def generate_docstrings_for_file(ls: LlamaLanguageServer,
                                       *arguments: Any) -> dict[str, Any]:
    """``[uri]``: docs for every undocumented public definition, applied as one edit."""
    label = "Generate docstrings for this file"
    if not arguments:
        raise JsonRpcInvalidParams("llama-lsp: arguments are [uri]")
    document = _document(ls, arguments[0])
    snapshot = document.snapshot()
    token = await _progress(ls, label)

    def report(done: int, total: int, name: str) -> None:
        if token is not None:
            ls.work_done_progress.report(token, types.WorkDoneProgressReport(
                message=f"{done + 1}/{total}: {name}", percentage=int(100 * done / max(total, 1))))

    style = ls.session.settings.docstring_style
    privacy = Privacy.from_settings(ls.session.settings)
    path = ls.session.prompt_path(snapshot)
    try:
        definitions, targets = service.file_targets(snapshot, ls.session.refusal(snapshot))
        edits: list[Edit] = []
        failures: list[str] = []
        for number, definition in enumerate(targets):
            # One model job per definition: completions run in between, and typing stops it.
            _check_current(ls, snapshot)
            report(number, len(targets), definition.name)
            result = await _run(ls, ("action-file", snapshot.uri),
                                lambda backend, is_cancelled, definition=definition:
                                service.file_edit(snapshot, definition, definitions, style,
                                                  backend, is_cancelled, privacy, path))
            if isinstance(result, str):
                failures.append(result)
            else:
                edits.append(result)
        edits = service.combine_edits(snapshot, edits)
        for failure in failures:
            _show(ls, f"{label}: {failure}", types.MessageType.Warning)
        if not edits:
            return {"applied": False, "reason": "no undocumented public definitions"
                    if not failures else "every definition failed"}
        return await _apply(ls, snapshot, edits, label)
    except ModelError as error:  # e.g. the remote server went away between definitions
        _show(ls, f"{label}: the model failed: {error}")
        return {"applied": False, "reason": str(error)}
    except ActionFailed as error:
        _show(ls, f"{label}: {error}")
        return {"applied": False, "reason": str(error)}
    finally:
        if token is not None:
            ls.work_done_progress.end(token, types.WorkDoneProgressEnd())
