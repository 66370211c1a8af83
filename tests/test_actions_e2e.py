"""Code actions through the real server: list, resolve, apply, commands, refusals."""

from __future__ import annotations

import ast
import asyncio
import copy

import pytest
import pytest_lsp
from lsp_helpers import SERVER, change_document, initialize_params, open_document, wait_for_model
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient, client_capabilities
from tiny_models import TinyModelInfo

from llama_lsp.context.positions import LineIndex, Position, PositionEncoding
from llama_lsp.context.syntax.languages import spec_for
from llama_lsp.features.actions.validate import error_count, parse

URI = "file:///workspace/app.py"
SOURCE = (
    "import os\n"
    "\n"
    "\n"
    "def add(a: int, b: int = 2) -> int:\n"
    "    return a + b\n"
    "\n"
    "\n"
    "def total(items):\n"
    "    '''Sum the items.\n"
    "\n"
    "    Args:\n"
    "        things: The old name, still described.\n"
    "    '''\n"
    "    return sum(items)\n"
)


def apply_text_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP edits (UTF-16 positions) the way an editor does."""
    index = LineIndex(text)
    spans = []
    for edit in edits:
        start = index.offset_at(Position(edit.range.start.line, edit.range.start.character),
                                PositionEncoding.UTF16)
        end = index.offset_at(Position(edit.range.end.line, edit.range.end.character),
                              PositionEncoding.UTF16)
        spans.append((start, end, edit.new_text))
    for start, end, new_text in sorted(spans, reverse=True):
        text = text[:start] + new_text + text[end:]
    return text


def only_edits(edit: types.WorkspaceEdit, uri: str, version: int) -> list[types.TextEdit]:
    assert edit.document_changes is not None and len(edit.document_changes) == 1
    change = edit.document_changes[0]
    assert isinstance(change, types.TextDocumentEdit)
    assert change.text_document.uri == uri
    assert change.text_document.version == version
    return list(change.edits)  # type: ignore[arg-type]


async def actions_at(client: LanguageClient, line: int, character: int,
                     diagnostics: list[types.Diagnostic] | None = None,
                     uri: str = URI) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line, character),
                          end=types.Position(line, character)),
        context=types.CodeActionContext(diagnostics=diagnostics or []),
    ))
    assert result is not None
    return [_as_action(action) for action in result]


def _as_action(item: types.CodeAction | types.Command) -> types.CodeAction:
    """lsprotocol's client-side hook reads any code action with a ``command`` as a Command
    (and stringifies the command object): undo that so tests see what the server sent."""
    if isinstance(item, types.CodeAction):
        return item
    command = ast.literal_eval(item.command)
    return types.CodeAction(title=item.title, command=types.Command(
        title=command["title"], command=command["command"], arguments=command["arguments"]))


def _applied_edits(client: LanguageClient) -> list[types.ApplyWorkspaceEditParams]:
    if not hasattr(client, "applied"):
        client.applied = []  # type: ignore[attr-defined]

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            client.applied.append(params)  # type: ignore[attr-defined]
            return types.ApplyWorkspaceEditResult(applied=True)
    return client.applied  # type: ignore[attr-defined]


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, constant_model: TinyModelInfo):
    _applied_edits(lsp_client)
    lsp_client.init_result = await lsp_client.initialize_session(  # type: ignore[attr-defined]
        initialize_params("visual-studio-code",
                          {"model": str(constant_model.path), "contextSize": 4096}))
    await wait_for_model(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def test_code_actions_and_commands_are_advertised(client: LanguageClient) -> None:
    capabilities = client.init_result.capabilities  # type: ignore[attr-defined]
    provider = capabilities.code_action_provider
    assert isinstance(provider, types.CodeActionOptions) and provider.resolve_provider
    assert set(provider.code_action_kinds or []) == {"quickfix", "refactor.rewrite"}
    assert capabilities.execute_command_provider is not None
    assert set(capabilities.execute_command_provider.commands) >= {
        "llama-lsp.generateDocstring", "llama-lsp.generateDocstringsForFile",
        "llama-lsp.fixWithModel", "llama-lsp.implementFunction"}


async def test_actions_are_listed_without_edits_and_resolve_to_a_versioned_edit(
        client: LanguageClient) -> None:
    open_document(client, URI, SOURCE)
    actions = await actions_at(client, 3, 5)
    titles = [action.title for action in actions]
    assert titles == ["Generate docstring for add"]
    action = actions[0]
    assert action.edit is None and action.command is None and action.data
    resolved = await client.code_action_resolve_async(action)
    assert resolved.edit is not None
    text = apply_text_edits(SOURCE, only_edits(resolved.edit, URI, 1))
    lines = text.split("\n")
    assert lines[3] == "def add(a: int, b: int = 2) -> int:"
    assert lines[4].startswith('    """')
    assert "        a: " in text and "        b: " in text and "    Returns:" in text
    assert error_count(parse(spec_for("python"), text)) == 0


async def test_update_keeps_the_users_sentences_and_renames_the_parameter(
        client: LanguageClient) -> None:
    open_document(client, URI, SOURCE)
    actions = await actions_at(client, 13, 8)
    assert [a.title for a in actions] == ["Update docstring for total"]
    resolved = await client.code_action_resolve_async(actions[0])
    assert resolved.edit is not None
    text = apply_text_edits(SOURCE, only_edits(resolved.edit, URI, 1))
    assert text.count('"""') == 2 and "'''" not in text
    assert "Sum the items." in text
    assert "        items: The old name, still described." in text
    assert "things" not in text


async def test_resolving_after_the_document_changed_is_refused(client: LanguageClient) -> None:
    open_document(client, URI, SOURCE)
    action = (await actions_at(client, 3, 5))[0]
    change_document(client, URI, 2, (0, 0), (0, 0), "# edited\n")
    resolved = await client.code_action_resolve_async(action)
    assert resolved.edit is None
    await _until(lambda: any("changed" in m.message for m in client.messages))


async def test_a_fix_that_breaks_the_definition_is_refused(client: LanguageClient) -> None:
    # The constant model answers "xxxx...": not a definition of `add`, so nothing changes.
    open_document(client, URI, SOURCE)
    diagnostic = types.Diagnostic(
        range=types.Range(start=types.Position(4, 11), end=types.Position(4, 16)),
        message="Operator '+' not supported", severity=types.DiagnosticSeverity.Error)
    actions = await actions_at(client, 4, 11, [diagnostic])
    fix = next(a for a in actions if a.kind == types.CodeActionKind.QuickFix)
    assert fix.title.startswith("Fix with the model: Operator")
    resolved = await client.code_action_resolve_async(fix)
    assert resolved.edit is None
    await _until(lambda: any("refused" in m.message for m in client.messages))
    applied = _applied_edits(client)
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="llama-lsp.fixWithModel",
        arguments=[URI, {"line": 4, "character": 11}, "Operator '+' not supported"]))
    assert result["applied"] is False and "refused" in result["reason"]
    assert applied == []


async def test_generate_docstring_command_applies_a_versioned_edit(
        client: LanguageClient) -> None:
    applied = _applied_edits(client)
    open_document(client, URI, SOURCE, version=7)
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="llama-lsp.generateDocstring", arguments=[URI, {"line": 4, "character": 4}]))
    assert result == {"applied": True, "edits": 1}
    assert len(applied) == 1
    text = apply_text_edits(SOURCE, only_edits(applied[0].edit, URI, 7))
    assert text.split("\n")[4].startswith('    """')


async def test_docstrings_for_the_whole_file_are_one_edit(client: LanguageClient) -> None:
    applied = _applied_edits(client)
    source = "def one(a):\n    return a\n\n\nclass Two:\n    def three(self):\n        pass\n"
    open_document(client, URI, source)
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="llama-lsp.generateDocstringsForFile", arguments=[URI]))
    assert result == {"applied": True, "edits": 3}
    text = apply_text_edits(source, only_edits(applied[-1].edit, URI, 1))
    assert text.count('"""') == 6
    reports = [r for rs in client.progress_reports.values() for r in rs
               if isinstance(r, types.WorkDoneProgressReport)]
    assert [r.message for r in reports] == ["1/3: one", "2/3: Two", "3/3: three"]
    await _until(lambda: any(isinstance(r, types.WorkDoneProgressEnd)
                             for rs in client.progress_reports.values() for r in rs))
    assert error_count(parse(spec_for("python"), text)) == 0


async def test_bad_command_arguments_are_clear_errors(client: LanguageClient) -> None:
    with pytest.raises(JsonRpcException, match="not open"):
        await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="llama-lsp.generateDocstring",
            arguments=["file:///nowhere.py", {"line": 0, "character": 0}]))
    open_document(client, URI, SOURCE)
    with pytest.raises(JsonRpcException, match="position"):
        await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="llama-lsp.generateDocstring", arguments=[URI, "here"]))
    with pytest.raises(JsonRpcException, match="past the end"):
        await actions_at(client, 90, 0)
    assert [a.title for a in await actions_at(client, 0, 0)] == ["Generate module docstring"]
    assert await actions_at(client, 5, 0) == []  # between definitions: nothing to offer


async def _until(condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def _without_resolve(profile: str) -> types.ClientCapabilities:
    capabilities = copy.deepcopy(client_capabilities(profile))
    assert capabilities.text_document and capabilities.text_document.code_action
    capabilities.text_document.code_action.resolve_support = None
    return capabilities


@pytest_lsp.fixture(config=SERVER)
async def plain_client(lsp_client: LanguageClient, constant_model: TinyModelInfo):
    _applied_edits(lsp_client)
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=_without_resolve("neovim"),
        initialization_options={"model": str(constant_model.path), "contextSize": 4096},
        root_uri="file:///workspace"))
    await wait_for_model(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def test_clients_without_resolve_get_a_command(plain_client: LanguageClient) -> None:
    open_document(plain_client, URI, SOURCE)
    actions = await actions_at(plain_client, 3, 5)
    command = actions[0].command
    assert command is not None and command.command == "llama-lsp.generateDocstring"
    assert command.arguments == [URI, {"line": 3, "character": 5}]
    result = await plain_client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=command.command, arguments=command.arguments))
    assert result["applied"] is True


@pytest_lsp.fixture(config=SERVER)
async def broken_client(lsp_client: LanguageClient, corrupt_model):  # type: ignore[no-untyped-def]
    await lsp_client.initialize_session(
        initialize_params("visual-studio-code", {"model": str(corrupt_model)}))
    await wait_for_model(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def test_without_a_model_updates_still_work_and_generation_says_why(
        broken_client: LanguageClient) -> None:
    source = 'def f(a):\n    """F.\n\n    Args:\n        a: A.\n        gone: Old.\n    """\n'
    open_document(broken_client, URI, source)
    update = (await actions_at(broken_client, 0, 4))[0]
    resolved = await broken_client.code_action_resolve_async(update)
    assert resolved.edit is not None
    assert "gone" not in apply_text_edits(source, only_edits(resolved.edit, URI, 1))
    open_document(broken_client, URI, "def g(x):\n    return x\n", version=2)
    generate = (await actions_at(broken_client, 0, 4))[0]
    assert (await broken_client.code_action_resolve_async(generate)).edit is None
    await _until(lambda: any("Generate docstring for g: the model failed: no model is loaded "
                             "(llama.cpp could not load" in m.message
                             for m in broken_client.messages))


async def test_implement_command_replaces_the_placeholder_body(client: LanguageClient) -> None:
    applied = _applied_edits(client)
    source = 'def todo(a):\n    """Not written yet."""\n    raise NotImplementedError\n\n\nz = 1\n'
    open_document(client, URI, source)
    actions = await actions_at(client, 2, 4)
    assert [a.title for a in actions] == ["Update docstring for todo",
                                          "Implement todo with the model"]
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="llama-lsp.implementFunction", arguments=[URI, {"line": 2, "character": 4}]))
    assert result == {"applied": True, "edits": 1}
    text = apply_text_edits(source, only_edits(applied[-1].edit, URI, 1))
    lines = text.split("\n")
    assert lines[:2] == source.split("\n")[:2] and "NotImplementedError" not in text
    assert lines[2].startswith("    x") and set(lines[2].strip()) == {"x"}  # the constant model
    assert text.endswith("\n\n\nz = 1\n")


@pytest_lsp.fixture(config=SERVER)
async def loading_client(lsp_client: LanguageClient, constant_model: TinyModelInfo):
    """A session whose model is still loading (listing actions needs no model)."""
    await lsp_client.initialize_session(initialize_params(
        "visual-studio-code", {"model": str(constant_model.path), "contextSize": 4096}))
    yield
    await lsp_client.shutdown_session()


@pytest.mark.parametrize(("uri", "language", "text"), [
    (URI, "python", "def f(x):\n    return x\n\n\n"),
    ("file:///workspace/app.js", "javascript", "function f(x) {\n  return x;\n}\n\n\n"),
    (URI, "python", "\n\n\n"),
    (URI, "python", ""),
])
async def test_code_actions_answer_at_every_line_of_the_file(
        loading_client: LanguageClient, uri: str, language: str, text: str) -> None:
    # Issue 14: a cursor on the blank lines below the last definition crashed the server.
    open_document(loading_client, uri, text, language)
    lines = text.split("\n")
    for line, content in enumerate(lines):
        for character in (0, len(content)):
            assert isinstance(await actions_at(loading_client, line, character, uri=uri), list)
        whole = await loading_client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(line, 0),
                              end=types.Position(len(lines) - 1, 0)),
            context=types.CodeActionContext(diagnostics=[types.Diagnostic(
                range=types.Range(start=types.Position(line, 0),
                                  end=types.Position(len(lines) - 1, 0)),
                message="problem")])))
        assert whole is not None
    assert await actions_at(loading_client, 0, 0, uri=uri) is not None  # still serving
