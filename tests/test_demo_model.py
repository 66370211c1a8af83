"""Output quality and the default path, with the real embedded demo model (Gemma 3 270M)."""

from __future__ import annotations

import pytest
import pytest_lsp
from lsp_helpers import (
    SERVER,
    complete_at,
    initialize_params,
    inline_at,
    open_document,
    wait_for_model,
)
from pytest_lsp import LanguageClient

from llama_lsp.config.settings import Settings
from llama_lsp.context.documents import Document
from llama_lsp.features.completion.pipeline import CompletionPipeline
from llama_lsp.model.host import load_backend

pytestmark = pytest.mark.demo_model

JSON_LOADER = '''import json


def load_config(path):
    """Load a JSON config file and return it as a dict."""
    with open(path) as f:
        data = <|cursor|>
    return data
'''


def test_demo_model_completes_the_obvious_line() -> None:
    backend = load_backend(Settings())  # no model configured: the demo package
    assert "gemma" in backend.info.name.lower()
    offset = JSON_LOADER.index("<|cursor|>")
    snapshot = Document("file:///t/config.py", "python", 1,
                        JSON_LOADER.replace("<|cursor|>", ""), 10**6).snapshot()
    outcome = CompletionPipeline(backend).complete(snapshot, offset, Settings())
    assert [s.text for s in outcome.suggestions] == ["json.load(f)"]
    backend.close()


@pytest_lsp.fixture(config=SERVER)
async def demo_client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(initialize_params("visual-studio-code", {}))
    message = await wait_for_model(lsp_client, timeout=120)
    assert "ready" in message, message
    yield
    await lsp_client.shutdown_session()


async def test_stdio_client_gets_demo_completions_both_ways(demo_client: LanguageClient) -> None:
    uri = "file:///workspace/config.py"
    text = JSON_LOADER.replace("<|cursor|>", "")
    open_document(demo_client, uri, text)
    line, character = 6, len("        data = ")
    inline = await inline_at(demo_client, uri, line, character)
    assert inline.items and "json" in inline.items[0].insert_text
    listed = await complete_at(demo_client, uri, line, character)
    assert listed.items and "json" in listed.items[0].text_edit.new_text
    assert demo_client._server is not None and demo_client._server.returncode is None
