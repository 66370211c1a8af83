"""Commands for editor clients (llama-lsp.showPrompt, llama-lsp.status) over real stdio."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_lsp
from lsp_helpers import SERVER, initialize_params, inline_at, open_document, wait_for_model
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient
from tiny_models import TinyModelInfo

URI = "file:///workspace/app.py"
TEXT = "def main():\n    value = \n"
STATUS: list[dict[str, Any]] = []


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, constant_model: TinyModelInfo):
    STATUS.clear()

    @lsp_client.feature("$/llama-lsp/status")
    def status(params: Any) -> None:  # noqa: ANN401 - raw JSON object
        STATUS.append(params if isinstance(params, dict) else params._asdict())

    result = await lsp_client.initialize_session(initialize_params(
        "visual-studio-code", {"model": str(constant_model.path), "contextSize": 512}))
    assert result.capabilities.execute_command_provider is not None
    assert {"llama-lsp.showPrompt", "llama-lsp.status"} <= set(
        result.capabilities.execute_command_provider.commands)
    await wait_for_model(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def _execute(client: LanguageClient, command: str, *arguments: Any) -> Any:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(arguments)))


async def test_show_prompt_is_the_prompt_completion_uses(client: LanguageClient) -> None:
    open_document(client, URI, TEXT)
    report = await _execute(client, "llama-lsp.showPrompt", URI, {"line": 1, "character": 12})
    # FIM model: the prefix (without the held-back trailing blank) and the suffix both appear.
    assert report["fim"] is True and report["mode"] == "single-line"
    assert "def main():\n    value =" in report["prompt"]
    assert report["tokens"] == sum(report["parts"].values())
    assert report["text"].startswith("--- prompt for ") and report["text"].endswith(
        report["prompt"])


async def test_status_reports_ready_then_the_last_completion(client: LanguageClient) -> None:
    before = await _execute(client, "llama-lsp.status")
    assert before["state"] == "ready" and before["detail"]
    # The server announced loading and ready without waiting for a completion.
    assert [s["state"] for s in STATUS[:2]] == ["loading", "ready"]
    open_document(client, URI, TEXT)
    await inline_at(client, URI, 1, 12)
    after = await _execute(client, "llama-lsp.status")
    assert after["state"] == "ready" and after["source"] == "model" and after["latencyMs"] > 0


BAD_ARGUMENTS: list[list[Any]] = [
    [], [URI], [URI, {"line": -1, "character": 0}], [URI, {"line": 0}], [42, {}],
    ["file:///workspace/not-open.py", {"line": 0, "character": 0}],
    [URI, {"line": 99, "character": 0}],
]


async def test_show_prompt_bad_arguments_are_clear_errors(client: LanguageClient) -> None:
    open_document(client, URI, TEXT)
    for arguments in BAD_ARGUMENTS:
        with pytest.raises(JsonRpcException, match="llama-lsp"):
            await _execute(client, "llama-lsp.showPrompt", *arguments)
    assert (await _execute(client, "llama-lsp.status"))["state"] == "ready"
