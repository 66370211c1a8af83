"""The completion coordinator's policy: instant answers, superseded holds, model answers."""

from __future__ import annotations

import asyncio

import pytest
from tiny_models import TinyModelInfo

from llama_lsp.config.settings import Settings
from llama_lsp.context.documents import Document
from llama_lsp.context.positions import Position, PositionEncoding
from llama_lsp.features.completion.coordinator import CompletionCoordinator, Superseded
from llama_lsp.model.host import ModelHost

TEXT = "def total(xs):\n    return "
URI = "file:///t/total.py"


def _document() -> Document:
    return Document(URI, "python", 1, TEXT, 10**6)


async def test_cached_context_is_answered_without_a_model() -> None:
    host = ModelHost()  # never loaded: any model call would answer None
    settings = Settings()
    coordinator = CompletionCoordinator(host)
    document = _document()
    snapshot = document.snapshot()
    window = coordinator.service.window(snapshot, len(TEXT), settings)
    coordinator.service.store(URI, window, "", "sum(xs)")
    answer = await coordinator.complete(document, snapshot, len(TEXT), settings, "",
                                        lambda _: None)
    assert answer is not None and answer.status["source"] == "exact"
    assert [s.text for s in answer.suggestions] == ["sum(xs)"]
    assert coordinator.model_calls == 0
    host.close()


async def test_no_ready_model_answers_none() -> None:
    host = ModelHost()
    settings = Settings(completion_cache=False)
    coordinator = CompletionCoordinator(host)
    document = _document()
    snapshot = document.snapshot()
    assert await coordinator.complete(document, snapshot, len(TEXT), settings, "",
                                      lambda _: None) is None
    host.close()


@pytest.fixture
def ready_host(constant_model: TinyModelInfo):  # type: ignore[no-untyped-def]
    host = ModelHost()
    host.load(Settings(model=str(constant_model.path), context_size=512)).future.result(60)
    yield host
    host.close()


async def test_edit_while_held_supersedes_the_request(ready_host: ModelHost) -> None:
    settings = Settings(completion_cache=False, debounce_min_ms=200, debounce_max_ms=200)
    coordinator = CompletionCoordinator(ready_host)
    document = _document()
    snapshot = document.snapshot()
    coordinator.observe_edit(settings)  # a keystroke just now: the request is held for 200 ms
    request = asyncio.ensure_future(coordinator.complete(
        document, snapshot, len(TEXT), settings, "", lambda _: None))
    await asyncio.sleep(0)
    document.replace_all(TEXT + "s", 2)
    with pytest.raises(Superseded):
        await request
    assert coordinator.model_calls == 0


async def test_model_answer_is_stored_and_shown(ready_host: ModelHost) -> None:
    settings = Settings(debounce_min_ms=0, debounce_max_ms=0, speculative_completion=False,
                        max_tokens=4)
    coordinator = CompletionCoordinator(ready_host)
    document = _document()
    snapshot = document.snapshot()
    answer = await coordinator.complete(document, snapshot, len(TEXT), settings, "",
                                        lambda _: None)
    assert answer is not None and answer.status["source"] == "model"
    assert answer.suggestions and answer.suggestions[0].text.startswith("x")
    assert coordinator.model_calls == 1
    again = await coordinator.complete(document, snapshot, len(TEXT), settings, "",
                                       lambda _: None)
    assert again is not None and again.status["source"] in ("exact", "typed_through")
    assert coordinator.model_calls == 1


async def test_model_gets_a_current_tree_after_a_cut_short_parse(ready_host: ModelHost) -> None:
    settings = Settings(debounce_min_ms=0, debounce_max_ms=0, speculative_completion=False,
                        max_tokens=4, completion_cache=False)
    coordinator = CompletionCoordinator(ready_host)
    head = "".join(f"def f{n}(x):\n    return x + {n}\n\n\n" for n in range(500))
    text = head + TEXT
    document = Document(URI, "python", 1, text, 10**7)
    document.apply_change(Position(1, 17), Position(1, 17), " * 2", PositionEncoding.UTF16, 2)
    snapshot = document.snapshot(parse_budget_seconds=0.0)
    assert not snapshot.tree_current
    seen: list[bool] = []

    def context_for(current):  # type: ignore[no-untyped-def]
        seen.append(current.tree_current)

    offset = len(document.text)
    answer = await coordinator.complete(document, snapshot, offset, settings, "", context_for)
    assert seen == [True]
    assert answer is not None and answer.snapshot.tree_current
    assert answer.snapshot.version == snapshot.version
