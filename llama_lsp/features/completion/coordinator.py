"""The whole latency policy of one completion request, top to bottom, in one place.

0. the request's snapshot is parsed under ``KEYSTROKE_PARSE_SECONDS``; what is left of the
   reparse runs in the background and is finished before the model needs the tree;
1. instant answers: typed-through remainder of the suggestion on screen, then the cache;
2. wait (briefly) for a model that is still loading;
3. adaptive debounce: hold the request; a newer edit while held supersedes it;
4. the model thread, latest-wins per document, under the time budget of the moment;
5. store the finished text, mark it shown, and, once it has stayed on screen for a typing
   hold, speculate on its acceptance in the background.

The protocol layer converts positions and results; everything else happens here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from llama_lsp.config.settings import Settings
from llama_lsp.context.assembly import WorkspaceContext
from llama_lsp.context.documents import Document, DocumentSnapshot
from llama_lsp.features.completion.debounce import AdaptiveDebounce, DebounceConfig
from llama_lsp.features.completion.pipeline import CompletionOutcome, CompletionPipeline, Suggestion
from llama_lsp.features.completion.service import CompletionService, accepted_snapshot
from llama_lsp.model.backend import Backend
from llama_lsp.model.host import ModelHost, ModelState

logger = logging.getLogger(__name__)

# How long a request that arrives while the model loads waits before answering empty.
READY_WAIT_SECONDS = 1.0
READY_POLL_SECONDS = 0.02
# Parsing a keystroke's request may take this long; the cursor window and the instant answers
# then use the previous tree (its positions shifted by the edits).
KEYSTROKE_PARSE_SECONDS = 0.001
# Worker key of background speculation: any foreground request supersedes it.
SPECULATION_KEY = "speculate"

ContextSource = Callable[[DocumentSnapshot], WorkspaceContext | None]


class Superseded(Exception):
    """The document changed while the request was held: the client will ask again."""


@dataclass(frozen=True)
class CompletionAnswer:
    """Suggestions for one request plus the status fields that describe how they came."""

    snapshot: DocumentSnapshot
    suggestions: list[Suggestion]
    status: dict[str, object] = field(default_factory=dict)
    """Empty when there is nothing to report (the request was skipped)."""


def outcome_status(outcome: CompletionOutcome, latency_ms: float) -> dict[str, object]:
    """Status fields of a model answer: latency, tokens/s, prompt and context sizes."""
    generation = outcome.generation
    fields: dict[str, object] = {"source": "model", "latencyMs": round(latency_ms, 1)}
    if generation is not None and generation.wall_ms > 0:
        fields["tokensPerSecond"] = round(generation.n_generated * 1000 / generation.wall_ms, 1)
        fields["promptTokens"] = generation.n_prompt
        fields["reusedTokens"] = generation.n_reused
    if outcome.prompt is not None:
        fields["contextTokens"] = outcome.prompt.parts.get("context", 0)
    if candidates := outcome.extra.get("candidates"):
        fields["candidates"] = len(candidates)  # type: ignore[arg-type]
    return fields


class CompletionCoordinator:
    """Cache, debounce, model calls and speculation of one session. Use from the event loop."""

    def __init__(self, host: ModelHost, settings: Settings | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.host = host
        self.clock = clock
        self.service = CompletionService(settings or Settings())
        self.debounce = AdaptiveDebounce()
        self.model_calls = 0
        """Generations started on the model thread (finished, cut short or cancelled)."""
        self.speculations = 0
        """Background completions finished so far (model calls the user did not wait for)."""
        self._pipeline: CompletionPipeline | None = None
        self._speculation: asyncio.Future[None] | None = None

    def configure(self, settings: Settings) -> None:
        """Reconfigure the cache and the debounce from ``settings``."""
        self.service.reconfigure(settings)
        config = DebounceConfig(
            min_delay=min(settings.debounce_min_ms, settings.debounce_max_ms) / 1000,
            max_delay=settings.debounce_max_ms / 1000,
            first_request_budget=settings.first_request_budget_ms / 1000,
        )
        if config != self.debounce.config:
            self.debounce = AdaptiveDebounce(config)

    def observe_edit(self) -> None:
        """Record a keystroke (the debounce adapts to the typing speed)."""
        self.debounce.observe(self.clock())

    def forget(self, uri: str) -> None:
        """Drop what is kept for a closed document."""
        self.service.forget(uri)

    def pipeline_for(self, backend: Backend) -> CompletionPipeline:
        """The long-lived pipeline of ``backend`` (it caches tokenized context)."""
        if self._pipeline is None or self._pipeline.backend is not backend:
            self._pipeline = CompletionPipeline(backend)
        return self._pipeline

    def counters(self) -> dict[str, object]:
        """Session-wide figures for the status line."""
        return {"cacheHitRate": round(self.service.cache.stats.hit_rate, 3),
                "speculations": self.speculations, "modelCalls": self.model_calls}

    async def complete(self, document: Document, snapshot: DocumentSnapshot, offset: int,
                       settings: Settings, context_version: str,
                       context_for: ContextSource, invoked: bool = False) -> CompletionAnswer | None:
        """Suggestions at ``offset``; None when no model is ready.

        ``invoked``: the user asked for this suggestion explicitly, so it skips the cache and
        the debounce, has no time budget and compares more candidates
        (``Settings.for_invoked_request``); its answer is cached for the automatic requests.

        Raises :class:`Superseded` when the document changed while the request was held, and
        ``ModelError`` (``EngineUnavailable`` for a remote server that is down) when the
        generation failed.
        """
        started = time.perf_counter()
        service = self.service
        window = service.window(snapshot, offset, settings)
        if invoked:
            settings = settings.for_invoked_request()
        usable = not snapshot.problem and settings.language_enabled(snapshot.language_id)
        if usable and settings.completion_cache and not invoked:
            answer = service.instant(snapshot.uri, window, context_version)
            if answer is not None:
                suggestions = [Suggestion(answer.text, offset, offset)] if answer.text else []
                latency = round((time.perf_counter() - started) * 1000, 2)
                return CompletionAnswer(snapshot, suggestions,
                                        {"source": answer.source, "latencyMs": latency})
        if not await self._model_ready():
            return None
        hold = 0.0 if invoked else self.debounce.delay(self.clock())
        if hold > 0:
            await asyncio.sleep(hold)
            if document.version != snapshot.version:
                raise Superseded
        budget = None if invoked else self.debounce.budget_for(self.clock())
        if not snapshot.tree_current:  # the prompt's context and the filters need the real tree
            if document.version != snapshot.version:
                raise Superseded
            snapshot = document.snapshot()
        context = context_for(snapshot)

        def run(backend: Backend, is_cancelled: Callable[[], bool]) -> CompletionOutcome:
            self.model_calls += 1
            pipeline = self.pipeline_for(backend)
            pipeline.context_source = context
            return pipeline.complete(snapshot, offset, settings, is_cancelled, budget=budget)

        job = self.host.submit(run, key=("complete", snapshot.uri), supersedes=(SPECULATION_KEY,))
        try:
            outcome = await asyncio.wrap_future(job.future)
        except asyncio.CancelledError:
            job.cancel()
            raise
        if outcome.skipped:
            logger.info("%s: %s", snapshot.uri, outcome.skipped)
            return CompletionAnswer(snapshot, [])
        text = outcome.suggestions[0].text if outcome.suggestions else ""
        if settings.completion_cache and not outcome.extra.get("budget_expired"):
            service.store(snapshot.uri, window, context_version, text)
        if text:
            service.show(snapshot.uri, window, text)
            if settings.speculative_completion and settings.completion_cache:
                self._speculation = asyncio.ensure_future(self._speculate_when_idle(
                    document, snapshot, outcome.suggestions[0], settings, context_version,
                    context_for))
        status = outcome_status(outcome, (time.perf_counter() - started) * 1000)
        return CompletionAnswer(snapshot, outcome.suggestions, status)

    async def _model_ready(self) -> bool:
        host = self.host
        if host.status.state is ModelState.LOADING:
            deadline = self.clock() + READY_WAIT_SECONDS
            while host.status.state is ModelState.LOADING and self.clock() < deadline:
                await asyncio.sleep(READY_POLL_SECONDS)
        # UNAVAILABLE: a remote server was down; the host retries it on this request.
        return host.status.state in (ModelState.READY, ModelState.UNAVAILABLE)

    async def _speculate_when_idle(self, document: Document, snapshot: DocumentSnapshot,
                                   suggestion: Suggestion, settings: Settings,
                                   context_version: str, context_for: ContextSource) -> None:
        """Speculate only once the suggestion has stayed on screen for a typing hold: while the
        user types on, it would be superseded anyway (and cost a model call)."""
        await asyncio.sleep(self.debounce.hold())
        if document.version == snapshot.version:
            self._speculate(snapshot, suggestion, settings, context_version, context_for)

    def _speculate(self, snapshot: DocumentSnapshot, suggestion: Suggestion, settings: Settings,
                   context_version: str, context_for: ContextSource) -> None:
        """In the background, complete as if ``suggestion`` were accepted; cache the result."""
        context = context_for(snapshot)  # on the loop: it reads the other open documents
        loop = asyncio.get_running_loop()

        def run(backend: Backend, is_cancelled: Callable[[], bool]):  # type: ignore[no-untyped-def]
            self.model_calls += 1
            # On the model thread: building the accepted document parses the whole file.
            accepted, offset = accepted_snapshot(snapshot, suggestion, settings.max_file_bytes)
            pipeline = self.pipeline_for(backend)
            pipeline.context_source = None if context is None else WorkspaceContext(
                context.index, [accepted, *context.open_documents[1:]])
            return accepted, offset, pipeline.complete(accepted, offset, settings, is_cancelled,
                                                       feature="speculative-completion")

        def store(future) -> None:  # type: ignore[no-untyped-def]
            if future.cancelled() or future.exception() is not None:
                return
            self.speculations += 1
            accepted, offset, outcome = future.result()
            if outcome.generation is None or outcome.generation.stop_reason == "cancelled":
                return
            text = outcome.suggestions[0].text if outcome.suggestions else ""
            window = self.service.window(accepted, offset, settings)
            self.service.store(snapshot.uri, window, context_version, text, speculative=True)

        job = self.host.submit(run, key=SPECULATION_KEY)
        job.future.add_done_callback(lambda future: loop.call_soon_threadsafe(store, future))
