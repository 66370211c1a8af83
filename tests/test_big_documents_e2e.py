"""Big and odd documents never stall the server (issue 14), through the real server on stdio.

Each case opens one document while the model loads and at once asks, on another document, for
code actions and an inline completion: both must be answered, and so must the same requests on
the big document itself. How fast is measured by ``bench/big_documents.py`` (not timed here).
"""

from __future__ import annotations

import random

import pytest
import pytest_lsp
from lsp_helpers import SERVER, initialize_params, inline_at, open_document
from lsprotocol import types
from pytest_lsp import LanguageClient
from tiny_models import TinyModelInfo

SMALL_URI = "file:///workspace/small.py"
SMALL = "def add(a, b):\n    return a + b\n\n\ndef total(items):\n    \n"


def _binary() -> str:
    rng = random.Random(14)
    return bytes(rng.randrange(1, 256) for _ in range(50_000)).decode("utf-8", "replace")


CASES = {
    "4000-python-constants": ("big.py", "python",
                              "".join(f"CONST_{i} = {i}\n" for i in range(4000))),
    "4000-js-consts": ("big.js", "javascript",
                       "".join(f"export const C{i} = {i};\n" for i in range(4000))),
    "100000-lines": ("long.py", "python",
                     "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(33_334))),
    "binary": ("blob.py", "python", _binary()),
    "nul": ("nul.py", "python", "\x00" * 100_000),
}


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, constant_model: TinyModelInfo):
    await lsp_client.initialize_session(initialize_params(
        "visual-studio-code", {"model": str(constant_model.path), "contextSize": 4096}))
    yield
    await lsp_client.shutdown_session()


async def _actions(client: LanguageClient, uri: str, line: int) -> object:
    return await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line, 0), end=types.Position(line, 0)),
        context=types.CodeActionContext(diagnostics=[])))


@pytest.mark.parametrize("case", sorted(CASES))
async def test_a_big_or_odd_document_leaves_the_others_answered(client: LanguageClient,
                                                               case: str) -> None:
    name, language, text = CASES[case]
    uri = f"file:///workspace/{name}"
    open_document(client, SMALL_URI, SMALL)
    open_document(client, uri, text, language)
    assert await _actions(client, SMALL_URI, 5) is not None
    assert isinstance(await inline_at(client, SMALL_URI, 5, 4), types.InlineCompletionList)
    assert await _actions(client, uri, 0) is not None
    big = await inline_at(client, uri, 0, 0)
    if case in ("binary", "nul"):
        assert not big.items  # declined at once
    logged = [m.message for m in client.log_messages if uri in m.message]
    if case == "100000-lines":
        assert any("maxParseLines" in message for message in logged)  # served without a tree
    elif case in ("binary", "nul"):
        assert any("binary" in message for message in logged)
