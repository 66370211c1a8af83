"""Cache, typed-through reuse, speculation, debounce and status through the real server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import pytest_lsp
from lsp_helpers import (
    READY_TIMEOUT,
    SERVER,
    change_document,
    initialize_params,
    inline_at,
    open_document,
)
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient
from tiny_models import TinyModelInfo

URI = "file:///workspace/app.py"
STATUS: list[dict[str, Any]] = []


async def _start(client: LanguageClient, model: TinyModelInfo, **options: Any) -> None:
    STATUS.clear()

    @client.feature("$/llama-lsp/status")
    def status(params: Any) -> None:  # noqa: ANN401 - raw JSON object
        STATUS.append(params if isinstance(params, dict) else params._asdict())

    # No wall-clock budget: these tests must not depend on how busy the machine is.
    defaults = {"model": str(model.path), "contextSize": 512, "threads": 1,
                "firstRequestBudgetMs": 600_000}
    await client.initialize_session(initialize_params("visual-studio-code",
                                                      {**defaults, **options}))
    for _ in range(500):
        if any("ready in" in m.message for m in client.log_messages):
            return
        await asyncio.sleep(0.01)
    pytest.fail("model never became ready")


async def _speculated(client: LanguageClient) -> None:
    """Wait until the server has finished a background speculation (its status counts them)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + READY_TIMEOUT
    while True:
        status = await client.workspace_execute_command_async(types.ExecuteCommandParams(
            command="llama-lsp.status", arguments=[]))
        if status["speculations"]:
            return
        assert loop.time() < deadline, "the server never speculated"
        await asyncio.sleep(0.02)


def _last_source() -> str:
    return str(STATUS[-1]["source"])


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient):
    yield
    await lsp_client.shutdown_session()


async def test_same_context_is_served_from_the_cache(client: LanguageClient,
                                                     constant_model: TinyModelInfo) -> None:
    await _start(client, constant_model, speculativeCompletion=False)
    open_document(client, URI, "value = \n")
    first = await inline_at(client, URI, 0, 8)
    assert _last_source() == "model"
    again = await inline_at(client, URI, 0, 8)  # the suggestion on screen, nothing typed
    assert _last_source() == "typed_through" and again.items == first.items
    client.text_document_did_close(types.DidCloseTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=URI)))
    open_document(client, URI, "value = \n")
    second = await inline_at(client, URI, 0, 8)
    assert _last_source() == "exact"
    assert second.items[0].insert_text == first.items[0].insert_text


async def test_typing_the_suggestion_serves_its_remainder(client: LanguageClient,
                                                          constant_model: TinyModelInfo) -> None:
    await _start(client, constant_model, speculativeCompletion=False)
    open_document(client, URI, "value = \n")
    shown = (await inline_at(client, URI, 0, 8)).items[0].insert_text
    change_document(client, URI, 2, (0, 8), (0, 8), "xx")
    rest = await inline_at(client, URI, 0, 10)
    assert _last_source() == "typed_through"
    assert rest.items[0].insert_text == shown[2:]
    assert rest.items[0].range.start == types.Position(0, 10)


async def test_accepting_shows_the_speculative_next_completion(
    client: LanguageClient, constant_model: TinyModelInfo
) -> None:
    await _start(client, constant_model)
    open_document(client, URI, "value = \n")
    shown = (await inline_at(client, URI, 0, 8)).items[0].insert_text
    await _speculated(client)
    change_document(client, URI, 2, (0, 8), (0, 8), shown)
    following = await inline_at(client, URI, 0, 8 + len(shown))
    assert _last_source() == "speculative"
    assert following.items and set(following.items[0].insert_text) == {"x"}


async def test_a_request_superseded_while_held_is_cancelled(client: LanguageClient,
                                                             constant_model: TinyModelInfo) -> None:
    await _start(client, constant_model, debounceMinMs=300, debounceMaxMs=300,
                 completionCache=False)
    open_document(client, URI, "value \n")
    change_document(client, URI, 2, (0, 6), (0, 6), "=")  # a keystroke: requests are held
    first = asyncio.ensure_future(inline_at(client, URI, 0, 7))
    await asyncio.sleep(0.05)  # the next keystroke, 50 ms later
    change_document(client, URI, 3, (0, 7), (0, 7), " ")
    second = await inline_at(client, URI, 0, 8)
    with pytest.raises(JsonRpcException, match="cancel"):
        await first
    assert second.items


async def test_status_reports_latency_speed_and_context(client: LanguageClient,
                                                        constant_model: TinyModelInfo) -> None:
    await _start(client, constant_model, speculativeCompletion=False)
    open_document(client, URI, "value = \n")
    await inline_at(client, URI, 0, 8)
    status = STATUS[-1]
    assert status["state"] == "ready" and status["source"] == "model"
    assert status["latencyMs"] > 0 and status["tokensPerSecond"] > 0
    assert {"cacheHitRate", "contextTokens", "promptTokens", "reusedTokens"} <= set(status)


async def test_invoked_request_skips_the_cache_and_compares_candidates(
        client: LanguageClient, tiny_plain_model: TinyModelInfo) -> None:
    """Asked for explicitly, a suggestion is computed afresh with more candidates."""
    await _start(client, tiny_plain_model, speculativeCompletion=False, maxTokens=4)
    open_document(client, URI, "value = \nprint(value)\n")
    await inline_at(client, URI, 0, 8)
    assert _last_source() == "model" and "candidates" not in STATUS[-1]
    invoked = await inline_at(client, URI, 0, 8, types.InlineCompletionTriggerKind.Invoked)
    assert _last_source() == "model"
    assert int(STATUS[-1]["candidates"]) >= 1
    again = await inline_at(client, URI, 0, 8)  # typing resumes: the invoked answer is reused
    assert _last_source() != "model"
    assert again.items == invoked.items
