"""Exactly one reply per request, over the real server's stdio, in every state and for any input.

The raw client in ``raw_lsp`` sends bytes as they are and records every message the server
writes, so these tests see lost, duplicated and malformed replies.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from raw_lsp import RawServer, frame
from tiny_models import TinyModelInfo

URI = "file:///workspace/app.py"
TEXT = "import os\n\n\ndef add(a, b):\n    return a + b\n\n\ndef main():\n    total = add(1, 2)\n"
INVALID_PARAMS, INVALID_REQUEST, PARSE_ERROR = -32602, -32600, -32700
METHOD_NOT_FOUND, NOT_INITIALIZED = -32601, -32002


def _inline(line: int = 8, character: int = 21) -> dict[str, Any]:
    return {"textDocument": {"uri": URI}, "position": {"line": line, "character": character},
            "context": {"triggerKind": 2}}


def _assert_clean_error(reply: dict[str, Any], code: int) -> None:
    assert "error" in reply, reply
    assert reply["error"]["code"] == code, reply
    message = reply["error"]["message"]
    assert "Traceback" not in message and "\n" not in message and "data" not in reply["error"]


def _assert_one_reply_each(server: RawServer, timeout: float = 30) -> None:
    assert server.unanswered(timeout) == [], (server.sent_ids[-6:], server.stderr()[-3000:])
    counts = server.reply_counts()
    assert [i for i in server.sent_ids if counts[i] != 1] == []
    assert server.garbage == []


@pytest.fixture
def server(constant_model: TinyModelInfo) -> Iterator[RawServer]:
    """An initialized server with the constant model and one open document."""
    raw = RawServer()
    raw.initialize({"model": str(constant_model.path)})
    raw.open(URI, TEXT)
    yield raw
    raw.kill()


# -- malformed params --------------------------------------------------------------------------

MALFORMED = {
    "negative line": _inline(line=-1),
    "line 2^31": _inline(line=2**31),
    "line 2^63": _inline(line=2**63),
    "character as a string": {**_inline(), "position": {"line": 0, "character": "3"}},
    "position a list": {**_inline(), "position": [0, 0]},
    "missing position": {k: v for k, v in _inline().items() if k != "position"},
    "missing context": {k: v for k, v in _inline().items() if k != "context"},
    "trigger kind 9": {**_inline(), "context": {"triggerKind": 9}},
    "uri a number": {**_inline(), "textDocument": {"uri": 5}},
    "params a string": "hello",
    "params null": None,
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_params_are_answered_invalid_params(server: RawServer, case: str) -> None:
    msg_id = server.new_id()
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id,
                               "method": "textDocument/inlineCompletion"}
    if MALFORMED[case] is not None:
        message["params"] = MALFORMED[case]
    server.send(message)
    _assert_clean_error(server.reply(msg_id), INVALID_PARAMS)
    after = server.request("textDocument/inlineCompletion", _inline())
    assert "result" in server.reply(after)
    _assert_one_reply_each(server)


@pytest.mark.parametrize("arguments", [
    [URI, {"line": 2**40, "character": 0}], [URI, {"line": -3, "character": 0}],
    [URI, {"line": 0.5, "character": 0}], [URI], [5, {"line": 0, "character": 0}],
    ["file:///not/open.py", {"line": 0, "character": 0}],
])
@pytest.mark.parametrize("command", ["llama-lsp.showPrompt", "llama-lsp.generateDocstring"])
def test_commands_with_bad_arguments_get_invalid_params_without_traceback(
        server: RawServer, command: str, arguments: list[Any]) -> None:
    reply = server.reply(server.request("workspace/executeCommand",
                                        {"command": command, "arguments": arguments}))
    _assert_clean_error(reply, INVALID_PARAMS)
    _assert_one_reply_each(server)


def test_json_that_is_not_json_rpc_is_answered_with_the_request_id(server: RawServer) -> None:
    nan_id, deep_id, version_id, bad_utf8_id = (server.new_id() for _ in range(4))
    nan = b'{"jsonrpc": "2.0", "id": %d, "method": "textDocument/completion", "params": NaN}'
    deep = (b'{"jsonrpc": "2.0", "id": %d, "method": "textDocument/completion", "params": '
            % deep_id + b"[" * 1000 + b"]" * 1000 + b"}")
    bad_utf8 = b'{"jsonrpc": "2.0", "id": %d, "method": "x\xff\xfe"}' % bad_utf8_id
    for body in (nan % nan_id, deep, bad_utf8):
        server.send_bytes(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    server.send({"jsonrpc": "1.0", "id": version_id, "method": "textDocument/completion"})
    for msg_id in (nan_id, deep_id, bad_utf8_id):
        _assert_clean_error(server.reply(msg_id), PARSE_ERROR)
    _assert_clean_error(server.reply(version_id), INVALID_REQUEST)
    unknown = server.request("llama-lsp/noSuchMethod", {})
    _assert_clean_error(server.reply(unknown), METHOD_NOT_FOUND)
    _assert_one_reply_each(server)


def test_batches_and_bad_ids_are_refused(server: RawServer) -> None:
    first, second = server.new_id(), server.new_id()
    server.send([{"jsonrpc": "2.0", "id": first, "method": "textDocument/completion"},
                 {"jsonrpc": "2.0", "id": second, "method": "shutdown"}])
    server.send({"jsonrpc": "2.0", "id": {"an": "object"}, "method": "shutdown"})
    _assert_clean_error(server.reply(first), INVALID_REQUEST)
    _assert_clean_error(server.reply(second), INVALID_REQUEST)
    _assert_clean_error(server.reply(None), INVALID_REQUEST)
    _assert_one_reply_each(server)


# -- framing -----------------------------------------------------------------------------------


def _bad_frames(msg_id: int) -> dict[str, bytes]:
    body = json.dumps({"jsonrpc": "2.0", "id": msg_id, "method": "textDocument/inlineCompletion",
                       "params": _inline()}).encode()
    n = len(body)
    return {
        "missing Content-Length": b"Content-Type: x\r\n\r\n" + body,
        "short Content-Length": b"Content-Length: %d\r\n\r\n" % (n - 9) + body,
        "long Content-Length": b"Content-Length: %d\r\n\r\n" % (n + 30) + body,
        "duplicated Content-Length": b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n" % (
            n, n + 1) + body,
        "LF-only line ends": b"Content-Length: %d\n\n" % n + body,
        "header without colon": b"Content-Length %d\r\n\r\n" % n + body,
        "header with spaces": b"Content-Length :   %d  \r\n\r\n" % n + body,
        "Content-Length 10^12": b"Content-Length: 1000000000000\r\n\r\n" + body,
        "binary junk": bytes(range(256)) + b"\r\n\r\n",
    }


@pytest.mark.parametrize("kind", sorted(_bad_frames(0)))
def test_after_a_bad_frame_the_server_keeps_answering(server: RawServer, kind: str) -> None:
    bad_id = server.new_id()
    server.send_bytes(_bad_frames(bad_id)[kind])
    good = server.request("textDocument/inlineCompletion", _inline())
    assert "result" in server.reply(good)
    assert len(server.replies(bad_id)) <= 1
    assert server.process.poll() is None
    server.sent_ids.remove(bad_id)
    _assert_one_reply_each(server)


# -- states ------------------------------------------------------------------------------------


def test_before_initialize_and_after_shutdown(constant_model: TinyModelInfo) -> None:
    server = RawServer()
    try:
        early = server.request("textDocument/completion", {
            "textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}})
        _assert_clean_error(server.reply(early), NOT_INITIALIZED)
        server.initialize({"model": str(constant_model.path)})
        server.open(URI, TEXT)
        again = server.request("initialize", {"capabilities": {}, "processId": None})
        _assert_clean_error(server.reply(again), INVALID_REQUEST)
        shutdown = server.request("shutdown")
        late = [server.request("textDocument/inlineCompletion", _inline()) for _ in range(3)]
        assert server.reply(shutdown)["result"] is None
        for msg_id in late:
            reply = server.reply(msg_id)
            assert "result" in reply or reply["error"]["code"] in (INVALID_REQUEST, -32800)
        after = server.request("textDocument/inlineCompletion", _inline())
        _assert_clean_error(server.reply(after), INVALID_REQUEST)
        _assert_one_reply_each(server)
        server.notify("exit")
        assert server.process.wait(20) == 0
    finally:
        server.kill()


def test_a_failed_model_answers_every_request(tmp_path: Any) -> None:
    server = RawServer()
    try:
        server.initialize({"model": str(tmp_path / "missing.gguf")})
        server.open(URI, TEXT)
        ids = [server.request("textDocument/inlineCompletion", _inline()) for _ in range(5)]
        ids.append(server.request("textDocument/completion", {
            "textDocument": {"uri": URI}, "position": {"line": 8, "character": 21}}))
        for msg_id in ids:
            assert "result" in server.reply(msg_id)
        _assert_one_reply_each(server)
    finally:
        server.kill()


def _type_while_loading(server: RawServer, seconds_after_ready: float,
                        reloads: list[dict[str, Any]]) -> None:
    """Inline completions every 0.25 s from right after initialized; reload on the way."""
    server.open(URI, TEXT)
    line, column, version = 8, 21, 1
    ready_since: float | None = None
    pending_reloads = list(reloads)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        server.request("textDocument/inlineCompletion", _inline(line, column))
        version += 1
        server.notify("textDocument/didChange", {
            "textDocument": {"uri": URI, "version": version},
            "contentChanges": [{"range": {"start": {"line": line, "character": column},
                                          "end": {"line": line, "character": column}},
                                "text": "x"}]})
        column += 1
        states = [n["params"].get("state") for n in server.notifications("$/llama-lsp/status")]
        if states and states[-1] == "ready":
            if pending_reloads:
                server.notify("workspace/didChangeConfiguration",
                              {"settings": pending_reloads.pop(0)})
            elif ready_since is None:
                ready_since = time.monotonic()
            elif time.monotonic() - ready_since > seconds_after_ready:
                break
        time.sleep(0.25)
    assert not pending_reloads and ready_since is not None, server.stderr()[-2000:]


def _docstring_then_shutdown(server: RawServer) -> None:
    """A grammar compiles for a docstring while typing goes on; shutdown cancels what is left."""
    server.request("workspace/executeCommand", {
        "command": "llama-lsp.generateDocstring", "arguments": [URI, {"line": 3, "character": 5}]})
    for _ in range(4):
        server.request("textDocument/inlineCompletion", _inline())
        time.sleep(0.25)  # typing speed
    assert server.close() == 0
    _assert_one_reply_each(server, timeout=0)


def test_typing_while_a_tiny_model_loads_and_reloads(constant_model: TinyModelInfo,
                                                      tiny_fim_model: TinyModelInfo) -> None:
    server = RawServer()
    try:
        server.initialize({"model": str(constant_model.path)})
        _type_while_loading(server, 1.0, [{"model": str(tiny_fim_model.path)},
                                          {"model": str(constant_model.path),
                                           "contextSize": 1024}])
        _docstring_then_shutdown(server)
    finally:
        server.kill()


@pytest.mark.demo_model
def test_typing_while_the_demo_model_loads_and_reloads() -> None:
    server = RawServer()
    try:
        server.initialize({})
        _type_while_loading(server, 2.0, [{"contextSize": 2048}])
        _docstring_then_shutdown(server)
    finally:
        server.kill()


# -- the protocol channel ------------------------------------------------------------------------

_CHANNEL_SCRIPT = r"""
import os, sys
from llama_cpp._utils import suppress_stdout_stderr
from llama_lsp.server.transport import DescriptorWriter, claim_stdout
writer = DescriptorWriter(claim_stdout())
print("a stray print")
os.write(1, b"a native write\n")
with suppress_stdout_stderr(disable=False):
    writer.write(b"Content-Length: 2\r\n\r\n{}")
    os.write(1, b"swallowed\n")
print("after")
"""


def test_nothing_but_frames_reaches_the_protocol_channel() -> None:
    done = subprocess.run([sys.executable, "-c", _CHANNEL_SCRIPT], capture_output=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"Content-Length: 2\r\n\r\n{}"
    assert b"a stray print" in done.stderr and b"a native write" in done.stderr
    assert b"after" in done.stderr


def test_llama_cpp_log_shows_only_at_debug_level(constant_model: TinyModelInfo) -> None:
    quiet, loud = RawServer(), RawServer("--log-level", "debug")
    try:
        for server in (quiet, loud):
            server.initialize({"model": str(constant_model.path)})
            assert server.wait_for(lambda s=server: any(
                n["params"].get("state") == "ready"
                for n in s.notifications("$/llama-lsp/status")), 60)
            assert server.close() == 0
        assert "llama_lsp.llama_cpp" in loud.stderr()
        assert quiet.stderr() == ""
    finally:
        quiet.kill()
        loud.kill()
