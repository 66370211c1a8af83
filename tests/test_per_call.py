"""Per-call data travels as arguments: the completion pipeline and the coordinator keep no
request's context source or settings between calls."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from test_whole_suggestions import SUGGESTION, TEXT, URI, SlowBackend

from llama_lsp.config.settings import Settings
from llama_lsp.context.assembly import ContextChunk
from llama_lsp.context.documents import Document, DocumentSnapshot
from llama_lsp.features.completion.coordinator import CompletionCoordinator
from llama_lsp.features.completion.pipeline import CompletionPipeline
from llama_lsp.model.backend import GenerationRequest, GenerationResult
from llama_lsp.model.host import ModelHost

TIMEOUT = 10.0


class CharBackend(SlowBackend):
    """One token per character. ``generate`` answers ``SUGGESTION`` cut to the request's
    ``max_tokens`` at once, when ``release`` is set (tests decide when a job may finish)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.release.set()
        self.generating = threading.Event()

    def generate(self, request: GenerationRequest,
                 is_cancelled: Callable[[], bool]) -> GenerationResult:
        self.generating.set()
        assert self.release.wait(TIMEOUT)
        text = SUGGESTION[:request.max_tokens] + "\n"
        return GenerationResult(text, len(text), len(request.prompt), 0, "stop", 1.0, 1.0)


class OneChunkContext:
    """A context source with one definition from ``path``; ``gather`` waits at ``barrier``
    so that two calls are inside the pipeline at once."""

    def __init__(self, path: str, text: str, barrier: threading.Barrier) -> None:
        self.path = path
        self.text = text
        self.barrier = barrier

    def gather(self, snapshot: DocumentSnapshot, cursor_line: int,
               window_lines: tuple[int, int], line_before: str = "") -> list[ContextChunk]:
        self.barrier.wait(TIMEOUT)
        return [ContextChunk(self.path, self.text, "definition", "imported file",
                             (self.path, 0))]

    def callee_parameters(self, snapshot: DocumentSnapshot, line_before: str) -> None:
        return None

    def path_of(self, snapshot: DocumentSnapshot) -> str:
        return f"{self.path}-caller.py"

    def repository_name(self, snapshot: DocumentSnapshot) -> str | None:
        return None

    def refusal(self, snapshot: DocumentSnapshot) -> str | None:
        return None


def test_concurrent_calls_with_their_own_context_and_settings_share_one_pipeline() -> None:
    """Two threads complete at once on one pipeline (as remote engines allow): each
    prompt holds only its own call's context, each generation follows its own settings, and
    the pipeline's attributes are the same objects afterwards."""
    pipeline = CompletionPipeline(CharBackend())
    before = {name: id(value) for name, value in vars(pipeline).items()}
    barrier = threading.Barrier(2)
    calls = {
        "alpha": (OneChunkContext("alpha", "def alpha():\n    return 1", barrier),
                  Settings(max_tokens=3)),
        "beta": (OneChunkContext("beta", "def beta():\n    return 2", barrier),
                 Settings(max_tokens=5)),
    }
    snapshot = Document(URI, "python", 1, TEXT, 10**6).snapshot()
    with ThreadPoolExecutor(2) as threads:
        futures = {name: threads.submit(pipeline.complete, snapshot, len(TEXT), settings,
                                        context)
                   for name, (context, settings) in calls.items()}
        outcomes = {name: future.result(TIMEOUT) for name, future in futures.items()}
    for name, (context, settings) in calls.items():
        outcome = outcomes[name]
        assert outcome.prompt is not None
        assert [chunk.path for chunk in outcome.prompt.context] == [name]
        shown = pipeline.backend.detokenize(outcome.prompt.tokens)
        assert f"# {name}-caller.py\n" in shown
        other = "beta" if name == "alpha" else "alpha"
        assert other not in shown
        assert [s.text for s in outcome.suggestions] == [SUGGESTION[:settings.max_tokens]]
    assert {name: id(value) for name, value in vars(pipeline).items()} == before


def _settings(**options: object) -> Settings:
    defaults: dict[str, object] = {"debounce_min_ms": 0, "debounce_max_ms": 0,
                                   "speculative_completion": False, "warm_start": False}
    return Settings(**{**defaults, **options})  # type: ignore[arg-type]


async def test_a_settings_change_during_a_completion_leaves_it_one_normal_answer() -> None:
    backend = CharBackend()
    backend.release.clear()
    host = ModelHost(loader=lambda _: backend)
    host.load(Settings()).future.result(TIMEOUT)
    coordinator = CompletionCoordinator(host)
    document = Document(URI, "python", 1, TEXT, 10**6)
    before = _settings()
    request = asyncio.ensure_future(coordinator.complete(
        document, document.snapshot(), len(TEXT), before, "", lambda _: None, budgeted=False))
    while not backend.generating.is_set():  # the job is on the model thread
        await asyncio.sleep(0.01)
    # The user changes the cache, the debounce and the memory for model states meanwhile;
    # the next call (here a warm-up) brings the new settings.
    after = dataclasses.replace(before, cache_size=7, debounce_min_ms=40, debounce_max_ms=90,
                                warm_start_memory_mb=1)
    assert not coordinator.warm(document, after, lambda _: None)
    assert coordinator.debounce.config.max_delay == 0.09
    assert coordinator.service.cache.config.max_entries == 7
    backend.release.set()
    answer = await asyncio.wait_for(request, TIMEOUT)
    assert answer is not None and answer.status["source"] == "model"
    assert [s.text for s in answer.suggestions] == [SUGGESTION]
    assert coordinator.model_calls == 1
    # The suggestion is served again without the model, under the new settings.
    again = await coordinator.complete(document, document.snapshot(), len(TEXT), after, "",
                                       lambda _: None)
    assert again is not None and again.status["source"] in ("exact", "typed_through")
    assert coordinator.model_calls == 1
    host.close()
