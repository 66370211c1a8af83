"""The whole latency policy of one completion request, top to bottom, in one place.

0. the request's snapshot is parsed under ``KEYSTROKE_PARSE_SECONDS``; what is left of the
   reparse runs in the background and is finished before the model needs the tree;
1. instant answers: typed-through remainder of the suggestion on screen, then the cache;
2. wait (briefly) for a model that is still loading;
3. adaptive debounce: hold the request; a newer edit while held supersedes it;
4. the model thread, latest-wins: a completion job always runs to the end of its line or
   block. A request whose cursor only typed through the start of the running job's context
   waits for that job instead of starting another. A request after a pause waits at most
   the time budget: when it runs out the answer is empty (never a fragment), the job goes
   on, and once its whole suggestion is cached ``on_ready`` announces it;
5. store the finished text, mark it shown, and, once it has stayed on screen for a typing
   hold, speculate on its acceptance in the background.

Warm start (``warm``): when a document is opened or edited in a new place, and when the model
becomes ready, the stable part of the prompt (context and the prefix up to the cursor's line)
is evaluated ahead of need as background work that any request interrupts.

The protocol layer converts positions and results; everything else happens here. Every call
takes the session's current settings and context source: the settings of the latest call
configure the cache, the debounce and the memory for saved model states, and each job gets its
context source as an argument. The index lease a context holds is released when its job is
over.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from llama_lsp.config.settings import Settings
from llama_lsp.context.assembly import WorkspaceContext
from llama_lsp.context.documents import Document, DocumentSnapshot
from llama_lsp.features.completion.debounce import AdaptiveDebounce, DebounceConfig
from llama_lsp.context.window import CursorWindow, window_first_line
from llama_lsp.features.completion.pipeline import CompletionOutcome, CompletionPipeline, Suggestion
from llama_lsp.features.completion.prompt_report import prompt_report
from llama_lsp.features.completion.service import CompletionService, accepted_snapshot
from llama_lsp.model.backend import Backend, Prefilling
from llama_lsp.model.host import ModelHost, ModelState
from llama_lsp.model.kv_states import MIB
from llama_lsp.model.worker import Job

logger = logging.getLogger(__name__)
T = TypeVar("T")

# How long a request that arrives while the model loads waits before answering empty.
READY_WAIT_SECONDS = 1.0
# Parsing a keystroke's request may take this long; the cursor window and the instant answers
# then use the previous tree (its positions shifted by the edits).
KEYSTROKE_PARSE_SECONDS = 0.001
# Worker key of background speculation: any foreground request supersedes it.
SPECULATION_KEY = "speculate"
# Worker key of completion jobs: a new one supersedes the previous one (unless it joins it).
COMPLETE_KEY = "complete"
# Worker key of warm-start prefills: the lowest priority, any other model work supersedes it.
WARM_KEY = "warm"

ContextSource = Callable[[DocumentSnapshot], WorkspaceContext | None]
"""Makes the context of a job for a snapshot (on the event loop: it reads the open documents);
the coordinator releases it once the job is over."""
ReadyCallback = Callable[[DocumentSnapshot, int], None]
"""Called with (snapshot, offset) when a suggestion nobody waited for is cached for the
document's current version at ``offset`` of ``snapshot``."""


class Superseded(Exception):
    """The document changed while the request was held: the client will ask again."""


@dataclass(eq=False)
class _Flight:
    """A completion job on the model thread and the context it completes."""

    job: Job[CompletionOutcome]
    result: asyncio.Future[CompletionOutcome]
    document: Document
    snapshot: DocumentSnapshot
    offset: int
    window: CursorWindow
    context_version: str
    settings: Settings
    context_for: ContextSource
    waiters: int = 0
    """Requests waiting for it now; when none is left at the end, the result is announced."""


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
    if outcome.extra.get("quick"):
        fields["quickPrompt"] = True
    if generation is not None and generation.repeated:
        fields["repeatedPrompt"] = True
    if candidates := outcome.extra.get("candidates"):
        fields["candidates"] = len(candidates)  # type: ignore[arg-type]
    return fields


class CompletionCoordinator:
    """Cache, debounce, model calls, warm start and speculation of one session. Use from the
    event loop."""

    def __init__(self, host: ModelHost, clock: Callable[[], float] = time.monotonic) -> None:
        self.host = host
        self.clock = clock
        self.service = CompletionService(Settings())
        self.debounce = AdaptiveDebounce(debounce_config(Settings()))
        self.model_calls = 0
        """Generations started on the model thread (finished, cut short or cancelled)."""
        self.speculations = 0
        """Background completions finished so far (model calls the user did not wait for)."""
        self.warm_tokens = 0
        """Prompt tokens evaluated ahead of need by warm start."""
        self.on_ready: ReadyCallback | None = None
        """Announces a suggestion finished after its request was answered (see ReadyCallback)."""
        self._pipeline: CompletionPipeline | None = None
        self._speculation: asyncio.Future[None] | None = None
        self._flight: _Flight | None = None
        self._state_budget: int | None = None
        self._adopted: Settings | None = None
        """The settings object the cache and the debounce were last configured from."""
        self._warmed: dict[str, int] = {}
        """The cursor line last warmed, by URI."""
        self._edited_line: dict[str, int] = {}
        """The latest edited line, by URI (where warm start expects the cursor)."""
        self._waiting: tuple[Document, int, int] | None = None
        """(document, version, offset) of the latest request answered while the model loaded."""

    def _adopt(self, settings: Settings) -> None:
        """Follow the settings of a call: reconfigure the cache, the debounce and the memory for
        saved model states where they changed (nothing happens while they do not)."""
        if settings is not self._adopted:  # Settings are immutable: the same object, no change
            self._adopted = settings
            self.service.reconfigure(settings)
            config = debounce_config(settings)
            if config != self.debounce.config:
                self.debounce = AdaptiveDebounce(config)
        budget = settings.warm_start_memory_mb * MIB
        if budget != self._state_budget and self.host.backend is not None:
            self._state_budget = budget

            def keep(backend: Backend, is_cancelled: Callable[[], bool]) -> None:
                if isinstance(backend, Prefilling):
                    backend.keep_states(budget)

            self.host.submit(keep)

    def observe_edit(self, settings: Settings) -> None:
        """Record a keystroke (the debounce adapts to the typing speed)."""
        self._adopt(settings)
        self.debounce.observe(self.clock())

    def forget(self, uri: str) -> None:
        """Drop what is kept for a closed document."""
        self.service.forget(uri)
        self._warmed.pop(uri, None)

    def pipeline_for(self, backend: Backend) -> CompletionPipeline:
        """The long-lived pipeline of ``backend`` (it caches tokenized context)."""
        if self._pipeline is None or self._pipeline.backend is not backend:
            self._pipeline = CompletionPipeline(backend)
        return self._pipeline

    def _submit(self, context: WorkspaceContext | None,
                run: Callable[[Backend, Callable[[], bool]], T], key: Hashable | None = None,
                supersedes: tuple[Hashable, ...] = ()) -> Job[T]:
        """Queue a job that reads ``context``; the context is released once the job is over."""
        job = self.host.submit(run, key, supersedes)
        if context is not None:
            job.ended.add_done_callback(lambda _: context.release())
        return job

    async def prompt_report(self, snapshot: DocumentSnapshot, offset: int, settings: Settings,
                            context_for: ContextSource) -> dict[str, Any]:
        """The prompt the pipeline would build at ``offset`` (see ``prompt_report``). Raises
        ``ModelError`` without a model and ``PromptRefused`` for a secret-bearing file."""
        self._adopt(settings)
        context = context_for(snapshot)

        def build(backend: Backend, is_cancelled: Callable[[], bool]) -> dict[str, Any]:
            return prompt_report(self.pipeline_for(backend), snapshot, offset, settings, context)

        return await asyncio.wrap_future(self._submit(context, build).future)

    def counters(self) -> dict[str, object]:
        """Session-wide figures for the status line."""
        return {"cacheHitRate": round(self.service.cache.stats.hit_rate, 3),
                "speculations": self.speculations, "modelCalls": self.model_calls}

    async def complete(self, document: Document, snapshot: DocumentSnapshot, offset: int,
                       settings: Settings, context_version: str,
                       context_for: ContextSource, invoked: bool = False,
                       budgeted: bool = True) -> CompletionAnswer | None:
        """Suggestions at ``offset``; None when no model is ready.

        ``invoked``: the user asked for this suggestion explicitly, so it skips the cache and
        the debounce, has no time budget and compares more candidates
        (``Settings.for_invoked_request``); its answer is cached for the automatic requests.
        ``budgeted``: a request after a pause waits at most the first-request budget; when
        it runs out the answer is empty and the suggestion is finished in the background
        (then ``on_ready``). False waits for the whole suggestion.

        Raises :class:`Superseded` when the document changed while the request was held, and
        ``ModelError`` (``EngineUnavailable`` for a remote server that is down) when the
        generation failed.
        """
        started = time.perf_counter()
        self._adopt(settings)
        service = self.service
        window = service.window(snapshot, offset, settings)
        if invoked:
            settings = settings.for_invoked_request()
        usable = not snapshot.problem and settings.language_enabled(snapshot.language_id)
        if usable and settings.completion_cache and not invoked:
            answer = self._instant(snapshot, offset, window, context_version, started)
            if answer is not None:
                return answer
        if not await self._model_ready():
            self._waiting = (document, snapshot.version, offset)
            return None
        self._waiting = None  # this later request is served: model_ready must not supersede it
        hold = 0.0 if invoked else self.debounce.delay(self.clock())
        if hold > 0:
            await asyncio.sleep(hold)
            if document.version != snapshot.version:
                raise Superseded
        budget = None if invoked or not budgeted else self.debounce.budget_for(self.clock())
        deadline = None if budget is None else self.clock() + budget
        if not snapshot.tree_current:  # the prompt's context and the filters need the real tree
            if document.version != snapshot.version:
                raise Superseded
            snapshot = document.snapshot()
        flight = None if invoked else self._joinable(snapshot.uri, window, context_version,
                                                     settings)
        for attempt in range(2):
            if flight is None:
                flight = self._start(document, snapshot, offset, window, settings,
                                     context_version, context_for, quick=not invoked)
            outcome = await self._wait(flight, deadline)
            if outcome is None:  # out of time: the job goes on, and is announced when done
                latency = round((time.perf_counter() - started) * 1000, 1)
                return CompletionAnswer(snapshot, [], {"source": "pending",
                                                       "latencyMs": latency})
            if flight.window == window and flight.context_version == context_version:
                break
            # A job for where the cursor was before the last keystrokes: its cached result
            # (typed-through seeds) serves this cursor when the model predicted what was typed.
            answer = self._instant(snapshot, offset, window, context_version, started)
            if answer is not None:
                return answer
            flight = None
        if outcome.skipped:
            logger.info("%s: %s", snapshot.uri, outcome.skipped)
            return CompletionAnswer(snapshot, [])
        text = outcome.suggestions[0].text if outcome.suggestions else ""
        if text:
            service.show(snapshot.uri, window, text)
            if settings.speculative_completion and settings.completion_cache:
                self._speculation = asyncio.ensure_future(self._speculate_when_idle(
                    document, snapshot, outcome.suggestions[0], settings, context_version,
                    context_for))
        status = outcome_status(outcome, (time.perf_counter() - started) * 1000)
        return CompletionAnswer(snapshot, outcome.suggestions, status)

    def _instant(self, snapshot: DocumentSnapshot, offset: int, window: CursorWindow,
                 context_version: str, started: float) -> CompletionAnswer | None:
        """A suggestion from the typed-through state or the cache, or None."""
        answer = self.service.instant(snapshot.uri, window, context_version)
        if answer is None:
            return None
        suggestions = [Suggestion(answer.text, offset, offset)] if answer.text else []
        latency = round((time.perf_counter() - started) * 1000, 2)
        return CompletionAnswer(snapshot, suggestions, {"source": answer.source,
                                                        "latencyMs": latency})

    def _joinable(self, uri: str, window: CursorWindow, context_version: str,
                  settings: Settings) -> _Flight | None:
        """The running job when this request's cursor is where the job's was, or the user only
        typed on within its line since (its cached seeds will serve this cursor)."""
        flight = self._flight
        if flight is None or flight.result.done() or flight.snapshot.uri != uri:
            return None
        if (flight.context_version, flight.settings, flight.window.suffix) != (
                context_version, settings, window.suffix):
            return None
        before = flight.window.prefix
        if not window.prefix.startswith(before) or "\n" in window.prefix[len(before):]:
            return None
        return flight

    def _start(self, document: Document, snapshot: DocumentSnapshot, offset: int,
               window: CursorWindow, settings: Settings, context_version: str,
               context_for: ContextSource, quick: bool = True) -> _Flight:
        """Submit a completion job; it supersedes the previous one, speculation and warm-up.

        ``quick`` (automatic requests, with warm start on): at a cold place the job completes
        from a quick prompt (``CompletionPipeline._quick``) and the full one is warmed after."""
        context = context_for(snapshot)

        quick = quick and settings.warm_start

        def run(backend: Backend, is_cancelled: Callable[[], bool]) -> CompletionOutcome:
            return self._counted(self.pipeline_for(backend).complete(
                snapshot, offset, settings, context, is_cancelled, quick=quick))

        job = self._submit(context, run, COMPLETE_KEY, supersedes=(SPECULATION_KEY, WARM_KEY))
        flight = _Flight(job, asyncio.wrap_future(job.future), document, snapshot, offset,
                         window, context_version, settings, context_for)
        flight.result.add_done_callback(lambda _: self._finished(flight))
        self._flight = flight
        return flight

    async def _wait(self, flight: _Flight, deadline: float | None) -> CompletionOutcome | None:
        """The job's outcome; None when ``deadline`` passes first. A request cancelled by the
        client leaves the job running (the next request joins or supersedes it)."""
        flight.waiters += 1
        try:
            if deadline is None:
                return await asyncio.shield(flight.result)
            return await asyncio.wait_for(asyncio.shield(flight.result),
                                          max(0.0, deadline - self.clock()))
        except asyncio.TimeoutError:
            return None
        finally:
            flight.waiters -= 1

    def _finished(self, flight: _Flight) -> None:
        """Cache a finished job's whole suggestion; announce it when no request took it."""
        if self._flight is flight:
            self._flight = None
        result = flight.result
        if result.cancelled() or result.exception() is not None:
            return
        outcome = result.result()
        generation = outcome.generation
        if generation is not None and outcome.prompt is not None:
            logger.debug("%s@%d: %s, prompt %d tokens (%d reused), %d generated, %s, %.0f ms",
                         flight.snapshot.uri.rsplit("/", 1)[-1], flight.offset,
                         outcome.prompt.mode.value, generation.n_prompt, generation.n_reused,
                         generation.n_generated, generation.stop_reason, generation.wall_ms)
        if outcome.skipped or generation is None or generation.stop_reason == "cancelled":
            return
        text = outcome.suggestions[0].text if outcome.suggestions else ""
        if flight.settings.completion_cache:
            self.service.store(flight.snapshot.uri, flight.window, flight.context_version, text)
        if outcome.extra.get("quick"):  # answered from a quick prompt: warm the full one now
            window = flight.window
            self._warm(flight.document, flight.settings, flight.context_for,
                       window.first_line + window.prefix.count("\n"))
        if flight.waiters or not text or self.on_ready is None:
            return
        typed = _typed_since(flight.document, flight.snapshot, flight.offset, text)
        if typed is not None:
            self.on_ready(flight.document.snapshot(), flight.offset + typed)

    async def _model_ready(self) -> bool:
        host = self.host
        if host.status.state is ModelState.LOADING:
            await host.until_ready(READY_WAIT_SECONDS)
        # UNAVAILABLE: a remote server was down; the host retries it on this request.
        return host.status.state in (ModelState.READY, ModelState.UNAVAILABLE)

    # -----------------------------------------------------------------------------------------
    # Warm start

    def cursor_on(self, document: Document, line: int, settings: Settings,
                  context_for: ContextSource) -> bool:
        """The cursor is on ``line`` of ``document`` (an edit there, or a request with that
        position): warm the prompt there when the document was not warmed yet or the cursor
        window starts elsewhere than the one warmed (see ``warm``)."""
        self._adopt(settings)
        self._edited_line[document.uri] = line
        warmed = self._warmed.get(document.uri)
        if warmed is not None and window_first_line(warmed, settings.prefix_lines) == \
                window_first_line(line, settings.prefix_lines):
            return False  # the same prompt start: the typing requests keep it warm
        return self._warm(document, settings, context_for, line)

    def warm(self, document: Document, settings: Settings, context_for: ContextSource,
             line: int | None = None) -> bool:
        """Evaluate ahead of need the stable part of the prompt for a cursor on ``line``
        (default: the latest edited line, else the last line): the context and the prefix up
        to the start of that line. Runs as the lowest-priority model work; any request
        interrupts it, and what it evaluated stays for that request."""
        self._adopt(settings)
        return self._warm(document, settings, context_for, line)

    def _warm(self, document: Document, settings: Settings, context_for: ContextSource,
              line: int | None = None) -> bool:
        """``warm`` with the settings of an earlier call (they configure nothing)."""
        if not settings.warm_start or self.host.status.state is not ModelState.READY:
            return False
        snapshot = document.snapshot()
        index = snapshot.index
        if line is None:
            line = self._edited_line.get(document.uri, index.line_count - 1)
        line = max(0, min(line, index.line_count - 1))
        self._warmed[document.uri] = line
        line_start = index.starts[line]
        context = context_for(snapshot)  # on the loop: it reads the other open documents

        def run(backend: Backend, is_cancelled: Callable[[], bool]) -> int:
            return self.pipeline_for(backend).warm(snapshot, line_start, settings, context,
                                                   is_cancelled)

        def done(future) -> None:  # type: ignore[no-untyped-def]
            if not future.cancelled() and future.exception() is None:
                self.warm_tokens += future.result()

        job = self._submit(context, run, WARM_KEY)
        job.future.add_done_callback(done)
        return True

    def model_ready(self, settings: Settings, context_version: Callable[[str], str],
                    context_for: ContextSource, last: Document | None) -> None:
        """The model just became ready: finish the latest request answered while it loaded
        (announced with ``on_ready``) when its document is unchanged, else warm ``last``."""
        self._adopt(settings)
        self._warmed.clear()
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            document, version, offset = waiting
            if document.version == version and settings.language_enabled(document.language_id):
                snapshot = document.snapshot()
                window = self.service.window(snapshot, offset, settings)
                self._start(document, snapshot, offset, window, settings,
                            context_version(document.uri), context_for)
                return
            last = document
        if last is not None:
            self._warm(last, settings, context_for)

    async def _speculate_when_idle(self, document: Document, snapshot: DocumentSnapshot,
                                   suggestion: Suggestion, settings: Settings,
                                   context_version: str, context_for: ContextSource) -> None:
        """Speculate only once the suggestion has stayed on screen for a typing hold: while the
        user types on, it would be superseded anyway (and cost a model call)."""
        await asyncio.sleep(self.debounce.hold())
        if document.version == snapshot.version:
            self._speculate(snapshot, suggestion, settings, context_version, context_for)

    def _counted(self, outcome: CompletionOutcome) -> CompletionOutcome:
        """``outcome``, counted as a model call unless its prompt's earlier result was given
        again (``RecentResults``)."""
        if outcome.generation is None or not outcome.generation.repeated:
            self.model_calls += 1
        return outcome

    def _speculate(self, snapshot: DocumentSnapshot, suggestion: Suggestion, settings: Settings,
                   context_version: str, context_for: ContextSource) -> None:
        """In the background, complete as if ``suggestion`` were accepted; cache the result."""
        context = context_for(snapshot)  # on the loop: it reads the other open documents
        loop = asyncio.get_running_loop()

        def run(backend: Backend, is_cancelled: Callable[[], bool]):  # type: ignore[no-untyped-def]
            # On the model thread: building the accepted document parses the whole file.
            accepted, offset = accepted_snapshot(snapshot, suggestion, settings.max_file_bytes)
            accepted_context = None if context is None else WorkspaceContext(
                context.index, [accepted, *context.open_documents[1:]])
            return accepted, offset, self._counted(self.pipeline_for(backend).complete(
                accepted, offset, settings, accepted_context, is_cancelled,
                feature="speculative-completion"))

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

        job = self._submit(context, run, SPECULATION_KEY)
        job.future.add_done_callback(lambda future: loop.call_soon_threadsafe(store, future))


def _typed_since(document: Document, snapshot: DocumentSnapshot, offset: int,
                 text: str) -> int | None:
    """How many characters of ``text`` the user typed at ``offset`` since ``snapshot`` (0 when
    the document is unchanged); None when the document changed otherwise or ``text`` would
    have nothing left to show."""
    if document.version == snapshot.version:
        return 0
    now = document.text
    typed = len(now) - len(snapshot.text)
    if typed <= 0 or now[:offset] != snapshot.text[:offset] or \
            now[offset + typed:] != snapshot.text[offset:]:
        return None
    line = text.split("\n", 1)[0]
    written = now[offset:offset + typed]
    if not line.startswith(written) or not text[typed:].strip():
        return None
    return typed



def debounce_config(settings: Settings) -> DebounceConfig:
    """The debounce's configuration from user settings."""
    return DebounceConfig(
        min_delay=min(settings.debounce_min_ms, settings.debounce_max_ms) / 1000,
        max_delay=settings.debounce_max_ms / 1000,
        first_request_budget=settings.first_request_budget_ms / 1000,
    )
