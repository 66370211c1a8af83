"""Helpers for end-to-end tests that drive `llama-lsp serve` over real stdio."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "llama_lsp", "serve"])
CLIENT_PROFILES = ["visual-studio-code", "neovim"]


def initialize_params(profile: str, options: dict[str, Any]) -> types.InitializeParams:
    """Initialize params with a real client's capabilities and our options."""
    return types.InitializeParams(
        capabilities=client_capabilities(profile),
        initialization_options=options,
        root_uri="file:///workspace",
    )


async def wait_for_model(client: LanguageClient, timeout: float = 60.0) -> str:
    """Wait until the server logs that its model is ready or shows a load error; return it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        for message in client.log_messages:
            if "ready in" in message.message:
                return message.message
        for shown in client.messages:
            if shown.type == types.MessageType.Error:
                return shown.message
        await asyncio.sleep(0.02)
    raise TimeoutError("the server did not report a loaded model")


def open_document(client: LanguageClient, uri: str, text: str, language: str = "python",
                  version: int = 1) -> None:
    """Send textDocument/didOpen."""
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id=language, version=version,
                                                 text=text)
        )
    )


def change_document(client: LanguageClient, uri: str, version: int,
                    start: tuple[int, int], end: tuple[int, int], text: str) -> None:
    """Send one incremental textDocument/didChange."""
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=types.Position(*start), end=types.Position(*end)),
                    text=text,
                )
            ],
        )
    )


STATUS = "$/llama-lsp/status"
SUGGESTION_READY = "$/llama-lsp/suggestionReady"
# Longest wait for a suggestion finished in the background (a busy machine is slow, not wrong).
READY_TIMEOUT = 120.0


def _field(params: Any, name: str) -> Any:  # noqa: ANN401 - raw JSON object
    return params.get(name) if isinstance(params, dict) else getattr(params, name, None)


class _Announcements:
    """What the server said about suggestions still being finished (as our editor clients
    listen for it)."""

    def __init__(self) -> None:
        self.pending = False
        """The latest completion answer was empty because its suggestion is still coming."""
        self.ready: list[tuple[str, int, int]] = []
        self.changed = asyncio.Event()


def _announcements(client: LanguageClient) -> _Announcements | None:
    """The client's announcement log, installed once; None when the test itself handles the
    status notification (it then sets its own time budget)."""
    found = getattr(client, "_llama_lsp_announcements", None)
    if found is not None:
        return found
    if STATUS in client.protocol.fm.features:
        return None
    announcements = _Announcements()

    @client.feature(STATUS)
    def status(params: Any) -> None:  # noqa: ANN401 - raw JSON object
        announcements.pending = _field(params, "source") == "pending"

    @client.feature(SUGGESTION_READY)
    def ready(params: Any) -> None:  # noqa: ANN401 - raw JSON object
        position = _field(params, "position")
        announcements.ready.append((_field(params, "uri"), _field(position, "line"),
                                    _field(position, "character")))
        announcements.changed.set()

    client._llama_lsp_announcements = announcements  # type: ignore[attr-defined]
    return announcements


async def inline_at(client: LanguageClient, uri: str, line: int, character: int,
                    trigger: types.InlineCompletionTriggerKind =
                    types.InlineCompletionTriggerKind.Automatic) -> types.InlineCompletionList:
    """Request inline completions at a position (as typing does, unless ``trigger`` says).

    Like our editor clients: when the answer is empty because the suggestion was not whole
    within the time budget, wait for ``$/llama-lsp/suggestionReady`` there and ask again."""
    announcements = _announcements(client)
    params = types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line, character),
        context=types.InlineCompletionContext(trigger_kind=trigger),
    )
    result = await client.text_document_inline_completion_async(params)
    assert isinstance(result, types.InlineCompletionList)
    while not result.items and announcements is not None and announcements.pending:
        announcements.pending = False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READY_TIMEOUT
        while (uri, line, character) not in announcements.ready:
            announcements.changed.clear()
            await asyncio.wait_for(announcements.changed.wait(), deadline - loop.time())
        announcements.ready.remove((uri, line, character))
        result = await client.text_document_inline_completion_async(params)
        assert isinstance(result, types.InlineCompletionList)
    return result


async def complete_at(client: LanguageClient, uri: str, line: int,
                      character: int) -> types.CompletionList:
    """Request list completions at a position."""
    result = await client.text_document_completion_async(
        types.CompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line, character),
        )
    )
    assert isinstance(result, types.CompletionList)
    return result
