"""The ``openai`` backend against a real server: llama-cpp-python's OpenAI-compatible server
(``python -m llama_cpp.server``) with a tiny model, in a child process on a loopback port."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from remote_servers import ServerProcess, free_port, openai_server
from tiny_models import TinyModelInfo

from llama_lsp.config.settings import Settings, resolve_settings
from llama_lsp.model.backend import EngineUnavailable, GenerationRequest, ModelError
from llama_lsp.model.host import RECONNECT_SECONDS, ModelHost, ModelState, load_backend
from llama_lsp.model.openai_compat import OpenAICompatBackend


def openai_settings(url: str, **extra: object) -> Settings:
    settings, problems = resolve_settings({"backend": "openai", "endpoint": url,
                                           "contextSize": 2048, **extra})
    assert not problems
    return settings


@pytest.fixture
def backend(openai_constant_server: ServerProcess) -> OpenAICompatBackend:
    return OpenAICompatBackend.connect(openai_settings(openai_constant_server.url + "/v1"))


def never() -> bool:
    return False


def test_discovers_the_model_and_its_fim_markers(backend: OpenAICompatBackend,
                                                  constant_model: TinyModelInfo) -> None:
    info = backend.info
    assert info.name == str(constant_model.path)  # the id /v1/models lists
    assert info.engine == "openai" and info.parallel_safe and not info.exact_tokens
    assert info.fim is not None and info.fim.source == "detected: starcoder"
    assert info.fim.file_separator is None  # the tiny model spells it <|file_sep|>
    assert info.context_size == 2048


def test_completes_a_fim_prompt_with_markers_as_text(backend: OpenAICompatBackend) -> None:
    info = backend.info
    assert info.fim is not None
    prompt = [info.fim.prefix, *backend.tokenize("def f():\n    return "), info.fim.suffix,
              *backend.tokenize("\n"), info.fim.middle]
    assert backend.detokenize(prompt) == ("<fim_prefix>def f():\n    return <fim_suffix>\n"
                                          "<fim_middle>")
    result = backend.generate(GenerationRequest(prompt=prompt, max_tokens=6), never)
    assert result.text == "xxxxxx"
    assert result.stop_reason == "length" and result.n_generated == 6


def test_stop_strings_and_the_stop_rule_end_generation(backend: OpenAICompatBackend) -> None:
    prompt = backend.tokenize("value = ")
    by_rule = backend.generate(GenerationRequest(prompt=prompt, max_tokens=50,
                                                 should_stop=lambda text: len(text) >= 3), never)
    assert by_rule.text == "xxx" and by_rule.stop_reason == "stop"
    by_string = backend.generate(GenerationRequest(prompt=prompt, max_tokens=50,
                                                   stop=("xxxx",)), never)
    assert by_string.text == "" and by_string.stop_reason in ("stop", "eos")


def test_json_schema_constrains_the_output(backend: OpenAICompatBackend) -> None:
    schema = json.dumps({"type": "string", "enum": ["yes", "no"]})
    result = backend.generate(GenerationRequest(prompt=backend.tokenize("answer: "),
                                                max_tokens=8, json_schema=schema), never)
    assert json.loads(result.text) in ("yes", "no")


def test_sequential_completions_reuse_one_connection(backend: OpenAICompatBackend,
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


def test_cancelling_mid_stream_closes_the_connection(
        backend: OpenAICompatBackend, openai_constant_server: ServerProcess) -> None:
    before = openai_constant_server.log_text().count("Disconnected from client")
    cancelled = threading.Event()

    def rule(text: str) -> bool:
        if len(text) >= 5:
            cancelled.set()
        return False

    result = backend.generate(GenerationRequest(prompt=backend.tokenize("x = "),
                                                max_tokens=1800, should_stop=rule),
                              cancelled.is_set)
    assert result.stop_reason == "cancelled"
    assert 5 <= len(result.text) < 1800
    # The server saw the client go away (it stops generating then).
    deadline = time.monotonic() + 30
    while openai_constant_server.log_text().count("Disconnected from client") <= before:
        assert time.monotonic() < deadline, "the server never noticed the disconnect"
        time.sleep(0.05)
    again = backend.generate(GenerationRequest(prompt=backend.tokenize("y = "), max_tokens=3),
                             never)
    assert again.text == "xxx"


def test_cancelled_before_the_request_sends_nothing(backend: OpenAICompatBackend) -> None:
    result = backend.generate(GenerationRequest(prompt=backend.tokenize("z"), max_tokens=3),
                              lambda: True)
    assert result.stop_reason == "cancelled" and result.text == ""


def test_parallel_requests_from_several_threads(backend: OpenAICompatBackend) -> None:
    results: list[str] = []

    def one() -> None:
        outcome = backend.generate(GenerationRequest(prompt=backend.tokenize("a = "),
                                                     max_tokens=4), never)
        results.append(outcome.text)

    threads = [threading.Thread(target=one) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == ["xxxx"] * 3


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _complete_once(host: ModelHost) -> Callable[[], str]:
    def run() -> str:
        def job(backend, is_cancelled):  # type: ignore[no-untyped-def]
            return backend.generate(GenerationRequest(prompt=backend.tokenize("q = "),
                                                      max_tokens=2), is_cancelled).text
        return host.submit(job).future.result(60)
    return run


def test_server_down_then_back_recovers_by_itself(constant_model: TinyModelInfo,
                                                  tmp_path: Path) -> None:
    server = openai_server(constant_model.path, tmp_path / "server.log").start()
    clock = FakeClock()
    host = ModelHost(clock=clock)
    changes: list[tuple[str, str]] = []
    host.on_change = lambda old, new: changes.append((old.state.value, new.state.value))
    complete = _complete_once(host)
    try:
        host.load(openai_settings(server.url)).future.result(60)
        assert complete() == "xx"
        server.stop()
        with pytest.raises(EngineUnavailable, match="cannot reach the inference server"):
            complete()
        assert host.status.state is ModelState.UNAVAILABLE
        # Within the retry interval requests fail fast without touching the network.
        with pytest.raises(EngineUnavailable):
            complete()
        server.start()
        clock.now += RECONNECT_SECONDS
        assert complete() == "xx"
        assert host.status.state is ModelState.READY
        assert changes[-2:] == [("ready", "unavailable"), ("unavailable", "ready")]
    finally:
        host.close()
        server.stop()


def test_server_down_at_start_connects_once_it_is_up(constant_model: TinyModelInfo,
                                                    tmp_path: Path) -> None:
    port = free_port()
    server = openai_server(constant_model.path, tmp_path / "server.log", port=port)
    clock = FakeClock()
    host = ModelHost(clock=clock)
    try:
        with pytest.raises(EngineUnavailable):
            host.load(openai_settings(server.url)).future.result(60)
        assert host.status.state is ModelState.UNAVAILABLE
        assert server.url in host.status.detail
        server.start()
        clock.now += RECONNECT_SECONDS
        assert _complete_once(host)() == "xx"
        assert host.status.state is ModelState.READY
    finally:
        host.close()
        server.stop()


def test_api_key_comes_from_the_named_variable_and_is_never_shown(
        constant_model: TinyModelInfo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "s3cret-token-value"
    server = openai_server(constant_model.path, tmp_path / "server.log", api_key=secret).start()
    try:
        monkeypatch.setenv("TEAM_LLM_KEY", secret)
        backend = load_backend(openai_settings(server.url, apiKeyEnv="TEAM_LLM_KEY"))
        assert backend.generate(GenerationRequest(prompt=backend.tokenize("k"), max_tokens=2),
                                never).text == "xx"
        monkeypatch.setenv("TEAM_LLM_KEY", "wrong-" + secret)
        with pytest.raises(ModelError) as refused:
            load_backend(openai_settings(server.url, apiKeyEnv="TEAM_LLM_KEY"))
        assert "401" in str(refused.value) and "apiKeyEnv" in str(refused.value)
        assert secret not in str(refused.value)
        monkeypatch.delenv("TEAM_LLM_KEY")
        with pytest.raises(ModelError, match="TEAM_LLM_KEY .* is not set"):
            load_backend(openai_settings(server.url, apiKeyEnv="TEAM_LLM_KEY"))
    finally:
        server.stop()


def test_unknown_remote_model_lists_the_served_ones(openai_constant_server: ServerProcess,
                                                    constant_model: TinyModelInfo) -> None:
    with pytest.raises(ModelError, match="has no model 'nope'"):
        load_backend(openai_settings(openai_constant_server.url, remoteModel="nope"))
