"""The ``llamacpp-server`` backend against llama.cpp's server protocol.

Every test runs against the protocol emulator (tests/llamacpp_emulator.py: llama.cpp's
request/response shapes over a real tiny model), and against the real ``llama-server``
when one is installed (``LLAMA_SERVER_BIN`` or ``PATH``; skipped otherwise)."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any

import pytest
from llamacpp_emulator import LlamaCppEmulator
from tiny_models import TinyModelInfo

from llama_lsp.config.settings import Settings, resolve_settings
from llama_lsp.model.backend import ContextFile, FimParts, GenerationRequest
from llama_lsp.model.embedded import EmbeddedBackend
from llama_lsp.model.llamacpp_server import LlamaCppServerBackend
from llama_lsp.model.prompts import fim_prompt, prefix_prompt


def server_settings(url: str) -> Settings:
    settings, problems = resolve_settings({"backend": "llamacpp-server", "endpoint": url,
                                           "contextSize": 2048})
    assert not problems
    return settings


@pytest.fixture(params=["emulator", "llama-server"])
def server_url(request: pytest.FixtureRequest) -> str:
    if request.param == "emulator":
        return request.getfixturevalue("llamacpp_constant_emulator").url
    return request.getfixturevalue("llama_server_constant").url


@pytest.fixture
def backend(server_url: str) -> LlamaCppServerBackend:
    return LlamaCppServerBackend.connect(server_settings(server_url))


def never() -> bool:
    return False


def test_model_info_from_props_and_tokenize(backend: LlamaCppServerBackend,
                                            constant_model: TinyModelInfo) -> None:
    info = backend.info
    assert info.engine == "llamacpp-server" and info.parallel_safe and info.exact_tokens
    assert info.context_size == 2048 and info.parallel_slots == 1
    assert info.fim is not None
    assert (info.fim.prefix, info.fim.suffix, info.fim.middle) == (
        constant_model.fim_pre_id, constant_model.fim_suf_id, constant_model.fim_mid_id)
    assert info.name == constant_model.path.stem


def test_tokens_are_the_models_own(backend: LlamaCppServerBackend,
                                   constant_model: TinyModelInfo) -> None:
    embedded = EmbeddedBackend.load(constant_model.path, Settings(context_size=256))
    try:
        text = "def self_test():\n    return 'héllo'  # <fim_prefix> stays text\n"
        assert backend.tokenize(text) == embedded.tokenize(text)
        assert backend.detokenize(backend.tokenize(text)) == text
    finally:
        embedded.close()


def test_fim_prompt_goes_to_infill_with_context_as_input_extra(
        backend: LlamaCppServerBackend, server_url: str,
        llamacpp_constant_emulator: LlamaCppEmulator) -> None:
    info = backend.info
    assert info.fim is not None
    parts = FimParts("def f():\n    return ", "\n", (ContextFile("lib/util.py", "X = 1\n"),))
    prompt = fim_prompt(info.fim, backend.tokenize(parts.prefix), backend.tokenize(parts.suffix))
    result = backend.generate(GenerationRequest(prompt=prompt, max_tokens=5, fim_parts=parts),
                              never)
    assert result.text == "xxxxx" and result.stop_reason == "length"
    if server_url == llamacpp_constant_emulator.url:
        path, body = llamacpp_constant_emulator.requests[-1]
        assert path == "/infill" and body["stream"] and body["cache_prompt"]
        assert body["input_prefix"] == parts.prefix and body["input_suffix"] == "\n"
        assert body["input_extra"] == [{"filename": "lib/util.py", "text": "X = 1\n"}]


def test_token_prompt_goes_to_completion_and_reuses_the_cache(
        backend: LlamaCppServerBackend, server_url: str,
        llamacpp_constant_emulator: LlamaCppEmulator) -> None:
    prompt = prefix_prompt(backend.tokenize("import os\nvalue = "))
    first = backend.generate(GenerationRequest(prompt=prompt, max_tokens=4), never)
    second = backend.generate(GenerationRequest(prompt=prompt + backend.tokenize("1"),
                                                max_tokens=4), never)
    assert first.text == second.text == "xxxx"
    assert second.n_reused >= len(prompt) - 1  # the server kept the shared prefix
    if server_url == llamacpp_constant_emulator.url:
        path, body = llamacpp_constant_emulator.requests[-1]
        assert path == "/completion" and body["prompt"] == prompt + backend.tokenize("1")
        assert body["cache_prompt"] is True and body["n_predict"] == 4


def test_stop_strings_rule_and_json_schema(backend: LlamaCppServerBackend) -> None:
    prompt = backend.tokenize("answer = ")
    assert backend.generate(GenerationRequest(prompt=prompt, max_tokens=40,
                                              should_stop=lambda t: len(t) >= 2),
                            never).text == "xx"
    stopped = backend.generate(GenerationRequest(prompt=prompt, max_tokens=40,
                                                 stop=("xxx",)), never)
    assert stopped.text == "" and stopped.stop_reason == "stop"
    schema = json.dumps({"type": "string", "enum": ["yes", "no"]})
    constrained = backend.generate(GenerationRequest(prompt=prompt, max_tokens=8,
                                                     json_schema=schema), never)
    assert json.loads(constrained.text) in ("yes", "no")


def test_sequential_completions_reuse_one_connection(backend: LlamaCppServerBackend,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    backend.close()  # start from no connection
    connects: list[object] = []
    create_connection = socket.create_connection

    def counting(*args: Any, **kwargs: Any) -> socket.socket:
        connects.append(args[0])
        return create_connection(*args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", counting)
    texts = [backend.generate(GenerationRequest(prompt=backend.tokenize(f"v{n} = "),
                                                max_tokens=3), never).text
             for n in range(3)]
    assert texts == ["xxx"] * 3
    assert len(connects) == 1  # one TCP connection (and TLS handshake) for all three


def test_cancelling_mid_stream_stops_the_server(
        backend: LlamaCppServerBackend, server_url: str,
        llamacpp_constant_emulator: LlamaCppEmulator, request: pytest.FixtureRequest) -> None:
    before = llamacpp_constant_emulator.disconnects
    real = None if server_url == llamacpp_constant_emulator.url else \
        request.getfixturevalue("llama_server_constant")
    cancels = real.log_text().count("cancel task") if real is not None else 0
    cancelled = threading.Event()

    def rule(text: str) -> bool:
        if len(text) >= 5:
            cancelled.set()
        return False

    result = backend.generate(GenerationRequest(prompt=backend.tokenize("y = "),
                                                max_tokens=1800, should_stop=rule),
                              cancelled.is_set)
    assert result.stop_reason == "cancelled" and 5 <= len(result.text) < 1800
    deadline = time.monotonic() + 30
    while (real.log_text().count("cancel task") <= cancels if real is not None
           else llamacpp_constant_emulator.disconnects <= before):
        assert time.monotonic() < deadline, "the server never noticed the disconnect"
        time.sleep(0.05)
    assert backend.generate(GenerationRequest(prompt=backend.tokenize("z = "), max_tokens=2),
                            never).text == "xx"


def test_model_without_fim_tokens_uses_completion(tiny_plain_model: TinyModelInfo) -> None:
    emulator = LlamaCppEmulator(tiny_plain_model.path).start()
    try:
        backend = LlamaCppServerBackend.connect(server_settings(emulator.url))
        assert backend.info.fim is None
        parts = FimParts("a = ", "\n")
        result = backend.generate(GenerationRequest(prompt=backend.tokenize("a = "),
                                                    max_tokens=3, fim_parts=parts), never)
        assert result.n_generated <= 3
        assert emulator.requests[-1][0] == "/completion"
    finally:
        emulator.stop()


def test_pointing_at_a_server_of_another_kind_says_which_backend_to_use(
        openai_constant_server) -> None:  # type: ignore[no-untyped-def]
    from llama_lsp.model.backend import ModelError

    with pytest.raises(ModelError, match="answered 404.*set 'backend' to openai"):
        LlamaCppServerBackend.connect(server_settings(openai_constant_server.url))
