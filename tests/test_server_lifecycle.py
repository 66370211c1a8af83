"""Lifecycle, negotiation and failure handling of the server over real stdio."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_lsp
from lsp_helpers import SERVER, initialize_params, inline_at, open_document, wait_for_model
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.protocol import JsonRPCProtocol
from pytest_lsp import LanguageClient
from tiny_models import TinyModelInfo

URI = "file:///workspace/app.py"


@pytest_lsp.fixture(config=SERVER)
async def raw_client(lsp_client: LanguageClient):
    """A connected client that has not sent initialize yet."""
    yield
    if lsp_client.stopped:
        return
    if lsp_client.capabilities is None:  # the server exits only after initialize + shutdown
        await lsp_client.initialize_session(
            types.InitializeParams(capabilities=types.ClientCapabilities())
        )
    await lsp_client.shutdown_session()


async def test_request_before_initialize_is_refused(raw_client: LanguageClient,
                                                    constant_model: TinyModelInfo) -> None:
    # pytest-lsp's client refuses to send this itself, so go one layer down.
    request = types.CompletionParams(text_document=types.TextDocumentIdentifier(uri=URI),
                                     position=types.Position(0, 0))
    with pytest.raises(JsonRpcException, match="initialize"):
        await JsonRPCProtocol.send_request_async(raw_client.protocol,
                                                 types.TEXT_DOCUMENT_COMPLETION, request)
    result = await raw_client.initialize_session(
        initialize_params("visual-studio-code", {"model": str(constant_model.path)})
    )
    assert result.capabilities.inline_completion_provider is not None
    assert result.capabilities.completion_provider is not None
    sync = result.capabilities.text_document_sync
    assert isinstance(sync, types.TextDocumentSyncOptions)
    assert sync.change == types.TextDocumentSyncKind.Incremental
    assert result.capabilities.position_encoding == types.PositionEncodingKind.Utf16


async def test_clean_shutdown_and_exit(raw_client: LanguageClient,
                                       constant_model: TinyModelInfo) -> None:
    await raw_client.initialize_session(
        initialize_params("neovim", {"model": str(constant_model.path)})
    )
    await wait_for_model(raw_client)
    await raw_client.shutdown_session()
    assert raw_client._server is not None and raw_client._server.returncode == 0


async def test_utf8_positions_when_the_client_prefers_them(raw_client: LanguageClient,
                                                           constant_model: TinyModelInfo) -> None:
    params = initialize_params("neovim", {"model": str(constant_model.path)})
    params.capabilities.general = types.GeneralClientCapabilities(
        position_encodings=[types.PositionEncodingKind.Utf8, types.PositionEncodingKind.Utf16]
    )
    result = await raw_client.initialize_session(params)
    assert result.capabilities.position_encoding == types.PositionEncodingKind.Utf8
    await wait_for_model(raw_client)
    # 'é' is 2 bytes and '😀' 4: "s = 'é😀'; t = " ends at byte 18 (at 14 in UTF-16).
    open_document(raw_client, URI, "s = 'é😀'; t = \n")
    result = await inline_at(raw_client, URI, 0, 18)
    assert result.items and result.items[0].range.start == types.Position(0, 18)
    # Byte 6 falls inside 'é': LSP rounds down to its start.
    result = await inline_at(raw_client, URI, 0, 6)
    assert result.items and result.items[0].range.start == types.Position(0, 5)


async def test_missing_model_is_reported_once_and_server_keeps_serving(
    raw_client: LanguageClient, tmp_path: Path
) -> None:
    missing = tmp_path / "absent.gguf"
    await raw_client.initialize_session(initialize_params("visual-studio-code",
                                                          {"model": str(missing)}))
    message = await wait_for_model(raw_client)
    assert "does not exist" in message and str(missing) in message
    open_document(raw_client, URI, "x = \n")
    for _ in range(3):
        assert not (await inline_at(raw_client, URI, 0, 4)).items
    errors = [m for m in raw_client.messages if m.type == types.MessageType.Error]
    assert len(errors) == 1


async def test_corrupt_model_is_reported_and_fixable_by_configuration(
    raw_client: LanguageClient, corrupt_model: Path, constant_model: TinyModelInfo
) -> None:
    await raw_client.initialize_session(initialize_params("visual-studio-code",
                                                          {"model": str(corrupt_model)}))
    message = await wait_for_model(raw_client)
    assert "corrupt" in message
    open_document(raw_client, URI, "x = \n")
    assert not (await inline_at(raw_client, URI, 0, 4)).items
    raw_client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"llama-lsp": {"model": str(constant_model.path)}})
    )
    await wait_for_model(raw_client)  # the earlier error message satisfies it; poll the result
    for _ in range(100):
        if (await inline_at(raw_client, URI, 0, 4)).items:
            break
    else:
        pytest.fail("the model configured after the error never answered")


async def test_invalid_setting_is_reported_and_defaults_kept(raw_client: LanguageClient,
                                                             constant_model: TinyModelInfo) -> None:
    await raw_client.initialize_session(initialize_params(
        "visual-studio-code", {"model": str(constant_model.path), "maxTokens": -3}))
    await wait_for_model(raw_client)
    warnings = [m.message for m in raw_client.messages if m.type == types.MessageType.Warning]
    assert any("maxTokens" in w and "between 1 and 8192" in w for w in warnings)


async def test_model_loading_reports_work_done_progress(raw_client: LanguageClient,
                                                        constant_model: TinyModelInfo) -> None:
    await raw_client.initialize_session(
        initialize_params("visual-studio-code", {"model": str(constant_model.path)})
    )
    await wait_for_model(raw_client)
    reports = [report for values in raw_client.progress_reports.values() for report in values]
    assert isinstance(reports[0], types.WorkDoneProgressBegin)
    assert "loading" in (reports[0].message or "")
    assert isinstance(reports[-1], types.WorkDoneProgressEnd)
