"""The language server end to end over real stdio, with real client capability profiles."""

from __future__ import annotations

import pytest
import pytest_lsp
from lsp_helpers import (
    CLIENT_PROFILES,
    SERVER,
    change_document,
    complete_at,
    initialize_params,
    inline_at,
    open_document,
    wait_for_model,
)
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient
from tiny_models import TinyModelInfo

URI = "file:///workspace/app.py"


@pytest_lsp.fixture(config=SERVER, params=CLIENT_PROFILES)
async def client(lsp_client: LanguageClient, request: pytest.FixtureRequest,
                 constant_model: TinyModelInfo):
    await lsp_client.initialize_session(
        initialize_params(request.param, {"model": str(constant_model.path), "contextSize": 512})
    )
    await wait_for_model(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def test_inline_completion_returns_ghost_text(client: LanguageClient) -> None:
    open_document(client, URI, "def main():\n    value = \n")
    result = await inline_at(client, URI, 1, 12)
    assert len(result.items) == 1
    item = result.items[0]
    assert set(item.insert_text) == {"x"}
    assert item.range == types.Range(start=types.Position(1, 12), end=types.Position(1, 12))


async def test_completion_item_replaces_the_word_before_the_cursor(client: LanguageClient) -> None:
    open_document(client, URI, "total = coun\n")
    result = await complete_at(client, URI, 0, 12)
    assert result.items
    edit = result.items[0].text_edit
    assert isinstance(edit, types.TextEdit)
    assert edit.range.start == types.Position(0, 8) and edit.range.end == types.Position(0, 12)
    assert edit.new_text.startswith("coun") and len(edit.new_text) > 4


async def test_incremental_changes_are_applied_before_completing(client: LanguageClient) -> None:
    open_document(client, URI, "a = 1\n")
    change_document(client, URI, 2, (0, 5), (0, 5), "\nname = ")
    change_document(client, URI, 3, (1, 0), (1, 4), "label")
    # Line 1 only exists after the changes: "label = " with the cursor at its end.
    result = await inline_at(client, URI, 1, 8)
    assert result.items and result.items[0].range.start == types.Position(1, 8)


async def test_positions_count_utf16_code_units(client: LanguageClient) -> None:
    # '😀' is two UTF-16 code units and '日本' two more: the line's end is at 20, not 18.
    open_document(client, URI, "s = '😀日本'; t = \n")
    result = await inline_at(client, URI, 0, 16)
    assert result.items and result.items[0].range.start == types.Position(0, 16)


async def test_position_past_the_end_is_a_clear_error_and_server_survives(
    client: LanguageClient,
) -> None:
    open_document(client, URI, "x = 1\n")
    with pytest.raises(JsonRpcException, match="past the end"):
        await inline_at(client, URI, 40, 0)
    assert (await inline_at(client, URI, 0, 4)).items


async def test_unknown_document_is_a_clear_error(client: LanguageClient) -> None:
    with pytest.raises(JsonRpcException, match="is not open"):
        await complete_at(client, "file:///workspace/missing.py", 0, 0)
    open_document(client, URI, "y = \n")
    assert (await inline_at(client, URI, 0, 4)).items


async def test_binary_document_gets_no_completions(client: LanguageClient) -> None:
    open_document(client, "file:///workspace/blob.bin", "\x00\x01ELF\x00", language="plaintext")
    result = await inline_at(client, "file:///workspace/blob.bin", 0, 2)
    assert not result.items
    assert any("binary" in m.message for m in client.log_messages)
