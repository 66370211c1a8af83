"""The embedded backend's LSP end-to-end tests (tests/test_server_e2e.py), run unchanged with
each remote backend: ``openai`` against llama-cpp-python's server, ``llamacpp-server``
against the llama.cpp protocol emulator (and the real ``llama-server`` when installed).
Plus: a server that is down when the editor starts, and comes up later."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import pytest_lsp
from lsp_helpers import SERVER, initialize_params, inline_at, open_document, wait_for_model
from lsprotocol import types
from pytest_lsp import LanguageClient
from remote_servers import free_port, openai_server
from test_server_e2e import (  # noqa: F401 - collected here again, with remote backends
    URI,
    test_binary_document_gets_no_completions,
    test_completion_item_replaces_the_word_before_the_cursor,
    test_incremental_changes_are_applied_before_completing,
    test_inline_completion_returns_ghost_text,
    test_position_past_the_end_is_a_clear_error_and_server_survives,
    test_positions_count_utf16_code_units,
    test_unknown_document_is_a_clear_error,
)
from tiny_models import TinyModelInfo

BACKENDS = ["openai", "llamacpp-server (emulator)", "llamacpp-server (llama-server)"]


def _remote_options(request: pytest.FixtureRequest, backend: str) -> dict[str, object]:
    if backend == "openai":
        url = request.getfixturevalue("openai_constant_server").url + "/v1"
        return {"backend": "openai", "endpoint": url}
    if backend == "llamacpp-server (emulator)":
        url = request.getfixturevalue("llamacpp_constant_emulator").url
    else:
        url = request.getfixturevalue("llama_server_constant").url
    return {"backend": "llamacpp-server", "endpoint": url}


@pytest_lsp.fixture(config=SERVER, params=BACKENDS)
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest):
    options = {**_remote_options(request, request.param), "contextSize": 512}
    await lsp_client.initialize_session(initialize_params("visual-studio-code", options))
    ready = await wait_for_model(lsp_client)
    assert "ready in" in ready, ready
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def down_server(constant_model: TinyModelInfo, tmp_path: Path):
    server = openai_server(constant_model.path, tmp_path / "server.log", port=free_port())
    yield server
    server.stop()


@pytest_lsp.fixture(config=SERVER)
async def client_of_down_server(lsp_client: LanguageClient, down_server):
    options = {"backend": "openai", "endpoint": down_server.url, "contextSize": 512}
    await lsp_client.initialize_session(initialize_params("neovim", options))
    yield
    await lsp_client.shutdown_session()


async def test_server_down_at_start_is_reported_and_completions_start_when_it_is_up(
        client_of_down_server: LanguageClient, down_server) -> None:
    client = client_of_down_server
    for _ in range(600):
        warnings = [m.message for m in client.messages if m.type == types.MessageType.Warning]
        if warnings:
            break
        await asyncio.sleep(0.05)
    assert warnings and "cannot reach the inference server" in warnings[0]
    assert "completions start by themselves" in warnings[0]
    open_document(client, URI, "def main():\n    value = \n")
    assert not (await inline_at(client, URI, 1, 12)).items
    await asyncio.get_running_loop().run_in_executor(None, down_server.start)
    items: list[types.InlineCompletionItem] = []
    for _ in range(100):  # the server retries the connection every few seconds
        items = (await inline_at(client, URI, 1, 12)).items
        if items:
            break
        await asyncio.sleep(0.2)
    assert items and set(items[0].insert_text) == {"x"}
    assert any("inference server is back" in m.message for m in client.messages)
    # And when it goes away mid-session, the editor is told once; requests answer empty.
    await asyncio.get_running_loop().run_in_executor(None, down_server.stop)
    open_document(client, "file:///workspace/other.py", "name = \n")
    assert not (await inline_at(client, "file:///workspace/other.py", 0, 7)).items
    for _ in range(100):
        gone = [m.message for m in client.messages if "resume by themselves" in m.message]
        if gone:
            break
        await asyncio.sleep(0.05)
    assert len(gone) == 1 and "cannot reach the inference server" in gone[0]
