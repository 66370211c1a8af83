"""Warm start: chunked, interruptible prompt evaluation and the saved KV states of recent
documents (tiny real GGUF models), and the bounded store that keeps those states."""

from __future__ import annotations

import asyncio

import pytest
from tiny_models import TinyModelInfo

from llama_lsp.config.settings import Settings, resolve_settings
from llama_lsp.context.documents import Document
from llama_lsp.features.completion.coordinator import CompletionCoordinator
from llama_lsp.features.completion.pipeline import (
    QUICK_MISSING_TOKENS,
    QUICK_TAIL_LINES,
    CompletionPipeline,
)
from llama_lsp.model import embedded
from llama_lsp.model.backend import GenerationRequest
from llama_lsp.model.embedded import EmbeddedBackend
from llama_lsp.model.host import ModelHost
from llama_lsp.model.kv_states import SavedState, SavedStates

SETTINGS = Settings(context_size=512, max_tokens=8)


def _state(size: int, tokens: tuple[int, ...] = (1, 2)) -> SavedState:
    return SavedState(tokens, bytes(size))


def test_saved_states_drop_the_least_recently_used_beyond_the_budget() -> None:
    states = SavedStates(budget=250)
    states.put("a", _state(100))
    states.put("b", _state(100))
    states.put("c", _state(100))
    assert "a" not in states and "b" in states and "c" in states
    assert states.size == 200
    assert states.take("b") is not None and "b" not in states
    states.put("huge", _state(300))  # larger than the whole budget: not kept
    assert "huge" not in states and states.size == 100


def test_saved_states_shrink_when_the_budget_does_and_zero_keeps_none() -> None:
    states = SavedStates(budget=1000)
    for name in "abc":
        states.put(name, _state(300))
    states.set_budget(600)
    assert len(states) == 2 and "a" not in states
    states.set_budget(0)
    assert len(states) == 0
    states.put("d", _state(1))
    assert len(states) == 0
    with pytest.raises(ValueError):
        SavedStates(-1)


def test_warm_start_memory_setting_is_bounded() -> None:
    settings, problems = resolve_settings({"warmStartMemoryMb": 0, "warmStart": False})
    assert not problems and settings.warm_start_memory_mb == 0 and not settings.warm_start
    for bad in (-1, 16385, 1.5, True):
        settings, problems = resolve_settings({"warmStartMemoryMb": bad})
        assert problems and settings.warm_start_memory_mb == 256


def _prompt(backend: EmbeddedBackend, lines: int, name: str = "f") -> list[int]:
    text = "".join(f"def {name}{n}(x):\n    return x + {n}\n" for n in range(lines))
    return [*backend.info.bos, *backend.tokenize(text)]


def test_prefill_stops_between_chunks_once_cancelled_and_keeps_what_it_did(
        tiny_plain_model: TinyModelInfo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded, "PREFILL_CHUNK", 16)
    backend = EmbeddedBackend.load(tiny_plain_model.path, SETTINGS)
    prompt = _prompt(backend, 12)
    assert len(prompt) > 64
    checks = 0

    def after_two_chunks() -> bool:
        nonlocal checks
        checks += 1
        return checks >= 2

    assert backend.prefill(prompt, "file:///a.py", after_two_chunks) == 32
    # The rest is evaluated by the next call; the first 32 tokens are reused.
    assert backend.prefill(prompt, "file:///a.py", lambda: False) == len(prompt) - 32
    assert backend.prefill(prompt, "file:///a.py", lambda: False) == 0
    result = backend.generate(GenerationRequest([*prompt, *backend.tokenize("x")], max_tokens=2,
                                                slot="file:///a.py"), lambda: False)
    assert result.n_reused == len(prompt)
    backend.close()


def test_returning_to_a_document_restores_its_state(tiny_plain_model: TinyModelInfo) -> None:
    backend = EmbeddedBackend.load(tiny_plain_model.path, SETTINGS)
    first, second = _prompt(backend, 10, "a"), _prompt(backend, 10, "b")
    request = GenerationRequest([*first, *backend.tokenize("y")], max_tokens=4, slot="a")
    cold = backend.generate(request, lambda: False)
    assert backend.prefill(second, "b", lambda: False) > len(second) // 2
    assert "a" in backend.states
    warm = backend.generate(request, lambda: False)
    assert warm.n_reused == len(request.prompt) - 1  # nothing of 'a' evaluated again
    assert warm.text == cold.text
    assert "b" in backend.states and "a" not in backend.states  # 'a' is live now
    backend.close()


def test_restored_state_serves_a_prompt_that_diverges_before_its_end(
        tiny_plain_model: TinyModelInfo) -> None:
    backend = EmbeddedBackend.load(tiny_plain_model.path, SETTINGS)
    base, other = _prompt(backend, 10, "a"), _prompt(backend, 10, "b")
    edited = [*base[:len(base) - 20], *backend.tokenize("def edited(): pass\n")]
    reference = EmbeddedBackend.load(tiny_plain_model.path, SETTINGS)
    expected = reference.generate(GenerationRequest(edited, max_tokens=4), lambda: False).text
    reference.close()
    backend.prefill(base, "a", lambda: False)
    backend.prefill(other, "b", lambda: False)
    result = backend.generate(GenerationRequest(edited, max_tokens=4, slot="a"), lambda: False)
    assert result.n_reused >= len(base) - 20 and result.text == expected
    backend.close()


def test_no_memory_for_states_means_a_cold_return(tiny_plain_model: TinyModelInfo) -> None:
    settings = Settings(context_size=512, max_tokens=4, warm_start_memory_mb=0)
    backend = EmbeddedBackend.load(tiny_plain_model.path, settings)
    first, second = _prompt(backend, 10, "a"), _prompt(backend, 10, "b")
    backend.prefill(first, "a", lambda: False)
    backend.prefill(second, "b", lambda: False)
    assert len(backend.states) == 0
    assert backend.prefill(first, "a", lambda: False) > len(first) // 2
    assert backend.state_bytes_per_token() > 0
    backend.close()


async def test_opening_a_document_warms_its_prompt_for_the_request(
        tiny_plain_model: TinyModelInfo) -> None:
    host = ModelHost()
    settings = Settings(model=str(tiny_plain_model.path), context_size=512, max_tokens=4,
                        debounce_min_ms=0, debounce_max_ms=0, speculative_completion=False)
    host.load(settings).future.result(60)
    coordinator = CompletionCoordinator(host)
    text = "".join(f"def f{n}(x):\n    return x + {n}\n" for n in range(10)) + "y = "
    document = Document("file:///t/w.py", "python", 1, text, 10**6)
    assert coordinator.warm(document, settings, lambda _: None)
    while coordinator.warm_tokens == 0:  # the warm-up job runs on the model thread
        await asyncio.sleep(0.01)
    # Warmed up to the start of the cursor's line: the request evaluates only that line.
    answer = await coordinator.complete(document, document.snapshot(), len(text), settings, "",
                                        lambda _: None, budgeted=False)
    assert answer is not None
    assert answer.status["reusedTokens"] >= coordinator.warm_tokens - 2
    # An edit whose cursor window starts where the warmed one does needs no new warm-up.
    assert not coordinator.cursor_on(document, 10, settings, lambda _: None)
    host.close()


def test_a_cold_place_is_answered_from_a_quick_prompt_until_the_full_one_is_warm(
        tiny_plain_model: TinyModelInfo) -> None:
    settings = Settings(context_size=4096, max_tokens=4)
    backend = EmbeddedBackend.load(tiny_plain_model.path, settings)
    pipeline = CompletionPipeline(backend)
    body = "".join(f"def f{n}(x):\n    return x + {n}\n" for n in range(50))
    text = body + "y = "
    snapshot = Document("file:///t/q.py", "python", 1, text, 10**6).snapshot()
    full = pipeline.build_prompt(snapshot, len(text), settings)
    assert len(full.tokens) > QUICK_MISSING_TOKENS + QUICK_TAIL_LINES * 20
    cold = pipeline.complete(snapshot, len(text), settings, quick=True)
    assert cold.extra.get("quick") and cold.generation is not None
    assert cold.generation.n_prompt < len(full.tokens) // 2
    assert cold.prompt is not None and backend.detokenize(cold.prompt.tokens).endswith(
        "".join(body.splitlines(keepends=True)[-(QUICK_TAIL_LINES - 1):]) + "y =")
    pipeline.warm(snapshot, len(body), settings)  # the full prompt, up to the cursor's line
    warm = pipeline.complete(snapshot, len(text), settings, quick=True)
    assert not warm.extra.get("quick") and warm.generation is not None
    assert warm.generation.n_prompt == len(full.tokens)
    assert warm.generation.n_reused >= len(full.tokens) - 4
    backend.close()
