"""Code actions and commands: LSP <-> :mod:`llama_lsp.features.actions`.

``textDocument/codeAction`` lists actions from the syntax tree alone; the model runs in
``codeAction/resolve`` (or, for clients without resolve support, in the command each action
carries). Every edit names the document version it was computed for, and is refused when the
document changed meanwhile (:mod:`llama_lsp.features.actions.runner` decides; this module
converts).
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from llama_lsp.context.documents import DocumentSnapshot
from llama_lsp.features.actions import runner, service
from llama_lsp.features.actions.placement import Edit
from llama_lsp.features.actions.service import ActionFailed, ActionKind, Offer, Problem, Request
from llama_lsp.features.guard import Privacy
from llama_lsp.server.convert import to_lsp_range, uri_and_position
from llama_lsp.server.language_server import LlamaLanguageServer
from llama_lsp.server.lookup import locate, offset_at, open_document
from llama_lsp.server.progress import work_done

GENERATE_DOCSTRING = "llama-lsp.generateDocstring"
GENERATE_DOCSTRINGS_FOR_FILE = "llama-lsp.generateDocstringsForFile"
FIX_WITH_MODEL = "llama-lsp.fixWithModel"
IMPLEMENT_FUNCTION = "llama-lsp.implementFunction"
COMMANDS = (GENERATE_DOCSTRING, GENERATE_DOCSTRINGS_FOR_FILE, FIX_WITH_MODEL, IMPLEMENT_FUNCTION)
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


def _byte_offset(ls: LlamaLanguageServer, snapshot: DocumentSnapshot,
                 position: types.Position) -> int:
    return service.byte_offset(snapshot.text, offset_at(snapshot, position, ls.session.encoding))


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


def _request(ls: LlamaLanguageServer, snapshot: DocumentSnapshot, kind: ActionKind,
             offset: int, message: str) -> Request:
    """An action request with the session's settings, privacy and the file's refusal."""
    session = ls.session
    return Request(kind, offset, message, session.settings.docstring_style,
                   Privacy.from_settings(session.settings), session.refusal(snapshot),
                   session.prompt_path(snapshot))


async def _compute(ls: LlamaLanguageServer, snapshot: DocumentSnapshot,
                   request: Request) -> Edit:
    return await runner.compute(ls.session.host, ls.session.documents, snapshot, request)


# ---------------------------------------------------------------------------------------------
# textDocument/codeAction and codeAction/resolve


def code_action(ls: LlamaLanguageServer, params: types.CodeActionParams
                ) -> list[types.CodeAction] | None:
    """List actions for the range, instantly (syntax tree only)."""
    session = ls.session
    document = open_document(session, params.text_document.uri)
    # Editors ask for the actions at the cursor as it moves: warm the prompt there.
    session.completions.cursor_on(document, params.range.start.line, session.settings,
                                  session.context_for)
    snapshot = document.snapshot()
    if session.refusal(snapshot) is not None:
        return []  # a secret-bearing file: nothing of it goes to the model
    start = _byte_offset(ls, snapshot, params.range.start)
    end = max(start, _byte_offset(ls, snapshot, params.range.end))
    problems = []
    for diagnostic in params.context.diagnostics:
        try:
            problems.append(Problem(_byte_offset(ls, snapshot, diagnostic.range.start),
                                    _byte_offset(ls, snapshot, diagnostic.range.end),
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
    snapshot = open_document(ls.session, uri).snapshot()
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
    runner.check_current(ls.session.documents, snapshot)
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
    at = locate(ls.session, uri, position)
    snapshot = at.snapshot
    offset = service.byte_offset(snapshot.text, at.offset)
    message = str(arguments[2]) if len(arguments) > 2 and arguments[2] else DEFAULT_FIX_MESSAGE
    try:
        target = runner.command_target(snapshot, kind, offset, message)
        edit = await _compute(ls, snapshot, _request(ls, snapshot, kind, target, message))
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


async def generate_docstrings_for_file(ls: LlamaLanguageServer,
                                       *arguments: Any) -> dict[str, Any]:
    """``[uri]``: docs for every undocumented public definition, applied as one edit."""
    label = "Generate docstrings for this file"
    if not arguments:
        raise JsonRpcInvalidParams("llama-lsp: arguments are [uri]")
    session = ls.session
    snapshot = open_document(session, arguments[0]).snapshot()
    async with work_done(ls, label, percentage=0) as progress:
        try:
            docs = await runner.file_docstrings(
                session.host, session.documents, snapshot, session.settings.docstring_style,
                Privacy.from_settings(session.settings), session.refusal(snapshot),
                session.prompt_path(snapshot),
                lambda done, total, name: progress.report(
                    f"{done + 1}/{total}: {name}", int(100 * done / max(total, 1))))
            for failure in docs.failures:
                _show(ls, f"{label}: {failure}", types.MessageType.Warning)
            if not docs.edits:
                return {"applied": False, "reason": docs.reason}
            return await _apply(ls, snapshot, docs.edits, label)
        except ActionFailed as error:
            _show(ls, f"{label}: {error}")
            return {"applied": False, "reason": str(error)}
