"""Readiness is awaited on the model host's event, not polled: requests that arrive while the
model loads are answered once it is ready, and promptly with a clear error when it fails."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from test_actions_units import ScriptedBackend
from test_whole_suggestions import SUGGESTION, SlowBackend

from llama_lsp.config.settings import Settings
from llama_lsp.context.documents import Document, DocumentStore
from llama_lsp.features.actions import runner
from llama_lsp.features.actions.service import ActionKind, NoModel, Request
from llama_lsp.features.completion.coordinator import CompletionCoordinator
from llama_lsp.model.backend import Backend, ModelError
from llama_lsp.model.host import ModelHost, ModelState, ModelStatus

URI = "file:///t/app.py"
UNIMPLEMENTED = 'def double(x):\n    """Twice x."""\n    pass\n'


class GatedLoad:
    """A loader that blocks until the test opens its gate, then returns or raises."""

    def __init__(self, outcome: Backend | ModelError) -> None:
        self.started = threading.Event()
        self.gate = threading.Event()
        self.outcome = outcome

    def __call__(self, settings: Settings) -> Backend:
        self.started.set()
        assert self.gate.wait(30), "the test never opened the gate"
        if isinstance(self.outcome, ModelError):
            raise self.outcome
        return self.outcome


class CountingHost(ModelHost):
    """Counts reads of the status: a poller reads it again and again while it waits."""

    reads = 0

    @property
    def status(self) -> ModelStatus:
        self.reads += 1
        return super().status


@pytest.fixture
def no_timed_sleeps(monkeypatch: pytest.MonkeyPatch) -> None:
    """A waiter that polls with ``asyncio.sleep`` fails loudly."""
    sleep = asyncio.sleep

    async def only_yield(delay: float, result: object = None) -> object:
        assert delay <= 0, f"polled: asyncio.sleep({delay})"
        return await sleep(0, result)

    monkeypatch.setattr(asyncio, "sleep", only_yield)


async def _assert_parked(task: asyncio.Task[object], host: CountingHost) -> None:
    """The task waits without reading the status again, however often the loop turns."""
    for _ in range(20):
        await asyncio.sleep(0)
    reads = host.reads
    for _ in range(200):
        await asyncio.sleep(0)
    assert not task.done()
    assert host.reads == reads


def _store(text: str) -> tuple[DocumentStore, Document]:
    documents = DocumentStore()
    return documents, documents.open(URI, "python", 1, text)


class Hosts:
    """The hosts of a test and their loads: at its end every gate opens and every host closes."""

    def __init__(self) -> None:
        self.hosts: list[ModelHost] = []
        self.loads: list[GatedLoad] = []

    def gated(self, outcome: Backend | ModelError) -> tuple[CountingHost, GatedLoad]:
        """A host whose load waits for the returned gate."""
        load = GatedLoad(outcome)
        host = CountingHost(loader=load)
        self.hosts.append(host)
        self.loads.append(load)
        return host, load


@pytest.fixture
def hosts() -> Iterator[Hosts]:
    made = Hosts()
    yield made
    for load in made.loads:
        load.gate.set()
    for host in made.hosts:
        host.close()


async def test_an_action_asked_while_the_model_loads_is_answered_once_it_is_ready(
        hosts: Hosts, no_timed_sleeps: None) -> None:
    host, load = hosts.gated(ScriptedBackend("return x * 2\n"))
    host.load(Settings())
    documents, document = _store(UNIMPLEMENTED)
    snapshot = document.snapshot()
    request = Request(ActionKind.IMPLEMENT, UNIMPLEMENTED.index("double"))
    task = asyncio.create_task(runner.compute(host, documents, snapshot, request))
    await _assert_parked(task, host)
    load.gate.set()
    edit = await asyncio.wait_for(task, 30)
    assert edit.apply(UNIMPLEMENTED).endswith('"""Twice x."""\n    return x * 2\n')
    assert host.status.state is ModelState.READY


async def test_an_action_asked_while_the_load_fails_gets_the_reason_promptly(
        hosts: Hosts, no_timed_sleeps: None) -> None:
    host, load = hosts.gated(ModelError("llama.cpp could not load /m.gguf"))
    host.load(Settings())
    documents, document = _store("def g(x):\n    return x\n")
    task = asyncio.create_task(runner.compute(host, documents, document.snapshot(),
                                              Request(ActionKind.DOCSTRING, 4)))
    await _assert_parked(task, host)
    load.gate.set()
    with pytest.raises(NoModel, match=r"^the model failed: no model is loaded "
                                      r"\(llama\.cpp could not load /m\.gguf\)$"):
        await asyncio.wait_for(task, 10)  # far less than runner.MODEL_WAIT_SECONDS


async def test_an_action_fails_when_the_document_changes_while_the_model_works(
        hosts: Hosts) -> None:
    host, load = hosts.gated(ScriptedBackend("return x * 2\n"))
    load.gate.set()
    await asyncio.wrap_future(host.load(Settings()).future)
    documents, document = _store(UNIMPLEMENTED)
    snapshot = document.snapshot()
    document.replace_all(UNIMPLEMENTED + "\n", 2)
    with pytest.raises(runner.ActionFailed, match="the document changed"):
        await runner.compute(host, documents, snapshot,
                             Request(ActionKind.IMPLEMENT, UNIMPLEMENTED.index("double")))


async def test_a_completion_asked_while_the_model_loads_is_answered_once_it_is_ready(
        hosts: Hosts, no_timed_sleeps: None) -> None:
    host, load = hosts.gated(SlowBackend(seconds_per_token=0))
    settings = Settings(debounce_min_ms=0, debounce_max_ms=0, speculative_completion=False,
                        warm_start=False, completion_cache=False)
    host.load(settings)
    coordinator = CompletionCoordinator(host)
    text = "def total(xs):\n    return "
    document = Document("file:///t/total.py", "python", 1, text, 10**6)
    task = asyncio.create_task(coordinator.complete(
        document, document.snapshot(), len(text), settings, "", lambda _: None,
        budgeted=False))
    await _assert_parked(task, host)
    load.gate.set()
    answer = await asyncio.wait_for(task, 30)
    assert answer is not None and [s.text for s in answer.suggestions] == [SUGGESTION]


async def test_waiting_ends_when_the_latest_load_ends_or_the_host_closes(
        hosts: Hosts) -> None:
    first, second = GatedLoad(ScriptedBackend("")), GatedLoad(ScriptedBackend(""))
    loads = [first, second]
    host = ModelHost(loader=lambda settings: loads.pop(0)(settings))
    hosts.hosts.append(host)
    hosts.loads += loads
    assert not await host.until_ready(0.01)  # nothing loaded yet: the timeout answers
    host.load(Settings())
    waiter = asyncio.create_task(host.until_ready(30))
    assert await asyncio.to_thread(first.started.wait, 30)
    host.load(Settings(context_size=1024))  # supersedes the first, which is running
    first.gate.set()
    assert await asyncio.to_thread(second.started.wait, 30)  # the first one has ended
    for _ in range(20):
        await asyncio.sleep(0)
    assert not waiter.done() and not host.ready.is_set()  # a superseded load ends no wait
    second.gate.set()
    assert await asyncio.wait_for(waiter, 30)

    closing, load = hosts.gated(ScriptedBackend(""))
    closing.load(Settings())
    waiter = asyncio.create_task(closing.until_ready(30))
    closed = asyncio.create_task(asyncio.to_thread(closing.close))
    assert await asyncio.wait_for(waiter, 10)  # closing wakes it: that load will not end it
    load.gate.set()
    await closed


async def test_the_model_becoming_ready_does_not_supersede_a_request_it_already_serves(
        hosts: Hosts) -> None:
    backend = SlowBackend(seconds_per_token=0)
    generating, release = threading.Event(), threading.Event()
    backend.gate = lambda: generating.set() or release.is_set()
    host, load = hosts.gated(backend)
    settings = Settings(debounce_min_ms=0, debounce_max_ms=0, speculative_completion=False,
                        warm_start=False, completion_cache=False)
    coordinator = CompletionCoordinator(host)
    text = "def total(xs):\n    return "
    document = Document("file:///t/total.py", "python", 1, text, 10**6)
    # Answered while there is no model: the coordinator keeps it to finish once one is ready.
    assert await coordinator.complete(document, document.snapshot(), len(text), settings, "",
                                      lambda _: None) is None
    job = host.load(settings)
    task = asyncio.create_task(coordinator.complete(
        document, document.snapshot(), len(text), settings, "", lambda _: None,
        budgeted=False))
    load.gate.set()
    assert await asyncio.to_thread(generating.wait, 30)  # the request woke first and runs
    await asyncio.wrap_future(job.future)
    coordinator.model_ready(settings, lambda uri: "", lambda _: None, None)  # as the server does
    release.set()
    answer = await asyncio.wait_for(task, 30)
    assert answer is not None and [s.text for s in answer.suggestions] == [SUGGESTION]
    assert backend.calls == 1
