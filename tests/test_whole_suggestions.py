"""A suggestion is shown whole or not at all: what the time budget cannot wait for is finished
in the background, cached and announced; typing through a running job joins it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from llama_lsp.config.settings import Settings
from llama_lsp.context.documents import Document, DocumentSnapshot
from llama_lsp.context.positions import Position, PositionEncoding
from llama_lsp.features.completion.coordinator import CompletionCoordinator
from llama_lsp.model.backend import GenerationRequest, GenerationResult, ModelInfo
from llama_lsp.model.host import ModelHost

TEXT = "def total(xs):\n    return "
URI = "file:///t/total.py"
SUGGESTION = "sum(xs)"


class SlowBackend:
    """Generates ``SUGGESTION`` then a line break, one character per token, slowly; each token
    waits until ``gate`` allows it (so tests decide when the job may finish)."""

    def __init__(self, seconds_per_token: float = 0.01) -> None:
        self.info = ModelInfo(name="slow", path="", context_size=4096, fim=None, bos=())
        self.seconds_per_token = seconds_per_token
        self.calls = 0
        self.gate: Callable[[], bool] = lambda: True

    def tokenize(self, text: str) -> list[int]:
        return [ord(char) for char in text]

    def detokenize(self, tokens: list[int]) -> str:
        return "".join(map(chr, tokens))

    def generate(self, request: GenerationRequest,
                 is_cancelled: Callable[[], bool]) -> GenerationResult:
        self.calls += 1
        text = ""
        reason = "stop"
        for char in SUGGESTION + "\n":
            while not self.gate():
                if is_cancelled():
                    break
                time.sleep(0.005)
            if is_cancelled():
                reason = "cancelled"
                break
            time.sleep(self.seconds_per_token)
            text += char
            if request.should_stop is not None and request.should_stop(text):
                break
        return GenerationResult(text, len(text), len(request.prompt), 0, reason, 1.0, 1.0)

    def close(self) -> None:
        pass


def _coordinator(backend: SlowBackend, **options: object) -> CompletionCoordinator:
    host = ModelHost(loader=lambda _: backend)
    settings = _settings(**options)
    host.load(settings).future.result(10)
    return CompletionCoordinator(host)


def _settings(**options: object) -> Settings:
    defaults: dict[str, object] = {"debounce_min_ms": 0, "debounce_max_ms": 0,
                                   "speculative_completion": False,
                                   "first_request_budget_ms": 20, "warm_start": False}
    return Settings(**{**defaults, **options})  # type: ignore[arg-type]


async def test_out_of_time_answers_empty_then_announces_the_whole_suggestion() -> None:
    backend = SlowBackend()
    release = asyncio.Event()
    backend.gate = lambda: release.is_set()
    coordinator = _coordinator(backend)
    announced: list[tuple[DocumentSnapshot, int]] = []
    ready = asyncio.Event()

    def on_ready(snapshot: DocumentSnapshot, offset: int) -> None:
        announced.append((snapshot, offset))
        ready.set()

    coordinator.on_ready = on_ready
    document = Document(URI, "python", 1, TEXT, 10**6)
    settings = _settings()
    answer = await coordinator.complete(document, document.snapshot(), len(TEXT), settings, "",
                                        lambda _: None)
    assert answer is not None and answer.suggestions == []  # nothing, not a fragment
    assert answer.status["source"] == "pending"
    release.set()
    await asyncio.wait_for(ready.wait(), 10)
    snapshot, offset = announced[0]
    assert (snapshot.version, offset) == (1, len(TEXT))
    again = await coordinator.complete(document, document.snapshot(), len(TEXT), settings, "",
                                       lambda _: None)
    assert again is not None and again.status["source"] == "exact"
    assert [s.text for s in again.suggestions] == [SUGGESTION]
    assert backend.calls == 1
    coordinator.host.close()


async def test_typing_on_while_it_finishes_announces_the_rest_at_the_new_cursor() -> None:
    backend = SlowBackend()
    release = asyncio.Event()
    backend.gate = lambda: release.is_set()
    coordinator = _coordinator(backend)
    announced: list[tuple[int, int]] = []
    ready = asyncio.Event()
    coordinator.on_ready = lambda snapshot, offset: (
        announced.append((snapshot.version, offset)), ready.set())
    document = Document(URI, "python", 1, TEXT, 10**6)
    settings = _settings()
    answer = await coordinator.complete(document, document.snapshot(), len(TEXT), settings, "",
                                        lambda _: None)
    assert answer is not None and answer.suggestions == []
    document.apply_change(Position(1, 11), Position(1, 11), "su", PositionEncoding.UTF16, 2)
    release.set()
    await asyncio.wait_for(ready.wait(), 10)
    assert announced == [(2, len(TEXT) + 2)]
    rest = await coordinator.complete(document, document.snapshot(), len(TEXT) + 2, settings,
                                      "", lambda _: None)
    assert rest is not None and [s.text for s in rest.suggestions] == [SUGGESTION[2:]]
    coordinator.host.close()


async def test_a_request_after_typing_through_a_running_job_joins_it() -> None:
    backend = SlowBackend(seconds_per_token=0.02)
    coordinator = _coordinator(backend)
    document = Document(URI, "python", 1, TEXT, 10**6)
    settings = _settings()
    first = asyncio.ensure_future(coordinator.complete(
        document, document.snapshot(), len(TEXT), settings, "", lambda _: None,
        budgeted=False))
    while backend.calls == 0:
        await asyncio.sleep(0.005)
    document.apply_change(Position(1, 11), Position(1, 11), "s", PositionEncoding.UTF16, 2)
    second = await coordinator.complete(document, document.snapshot(), len(TEXT) + 1, settings,
                                        "", lambda _: None, budgeted=False)
    assert second is not None and [s.text for s in second.suggestions] == [SUGGESTION[1:]]
    answer = await first
    assert answer is not None and [s.text for s in answer.suggestions] == [SUGGESTION]
    assert backend.calls == 1
    coordinator.host.close()


async def test_completion_lists_wait_for_the_whole_suggestion() -> None:
    backend = SlowBackend(seconds_per_token=0.02)  # ~160 ms in all, the budget is 20 ms
    coordinator = _coordinator(backend)
    document = Document(URI, "python", 1, TEXT, 10**6)
    answer = await coordinator.complete(document, document.snapshot(), len(TEXT), _settings(),
                                        "", lambda _: None, budgeted=False)
    assert answer is not None and [s.text for s in answer.suggestions] == [SUGGESTION]
    coordinator.host.close()


async def test_a_cancelled_job_is_neither_cached_nor_announced() -> None:
    backend = SlowBackend()
    release = asyncio.Event()
    backend.gate = lambda: release.is_set()
    coordinator = _coordinator(backend)
    announced: list[int] = []
    coordinator.on_ready = lambda snapshot, offset: announced.append(offset)
    document = Document(URI, "python", 1, "x = 1\n" + TEXT, 10**6)
    settings = _settings()
    end = len(document.text)
    answer = await coordinator.complete(document, document.snapshot(), end, settings, "",
                                        lambda _: None)
    assert answer is not None and answer.suggestions == []
    # A request elsewhere supersedes the background job.
    elsewhere = asyncio.ensure_future(coordinator.complete(
        document, document.snapshot(), 5, settings, "", lambda _: None, budgeted=False))
    release.set()
    other = await asyncio.wait_for(elsewhere, 10)
    assert other is not None
    assert announced == []
    assert coordinator.service.instant(URI, coordinator.service.window(
        document.snapshot(), end, settings), "") is None
    coordinator.host.close()
