"""Safe teardown: the model is freed only once its thread has ended, and a replaced workspace
index closes only once no job uses it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import pytest_lsp
from llamacpp_emulator import LlamaCppEmulator
from lsp_helpers import SERVER, initialize_params, open_document
from lsprotocol import types
from pytest_lsp import LanguageClient
from test_per_call import CharBackend
from tiny_models import TinyModelInfo

from llama_lsp.config.settings import Settings
from llama_lsp.model.host import ModelHost
from llama_lsp.server.session import Session

TIMEOUT = 10.0
MODEL_THREAD = "llama-lsp-model"


class FreedBackend(CharBackend):
    """Records when, and on which thread, it was freed."""

    def __init__(self) -> None:
        super().__init__()
        self.freed = threading.Event()
        self.freed_on: str | None = None

    def close(self) -> None:
        self.freed_on = threading.current_thread().name
        self.freed.set()


def test_close_frees_the_model_at_once_when_its_thread_ends_in_time() -> None:
    backend = FreedBackend()
    host = ModelHost(loader=lambda _: backend)
    host.load(Settings()).future.result(TIMEOUT)
    assert host.close(timeout=TIMEOUT)
    assert backend.freed.is_set() and backend.freed_on == threading.current_thread().name
    assert host.backend is None


def test_close_during_a_load_frees_the_model_once_the_load_is_over() -> None:
    backend = FreedBackend()
    loading = threading.Event()
    release = threading.Event()

    def load(settings: Settings) -> FreedBackend:
        loading.set()
        assert release.wait(TIMEOUT)
        return backend

    host = ModelHost(loader=load)
    host.load(Settings())
    assert loading.wait(TIMEOUT)
    assert not host.close(timeout=0.01)  # the load goes on: nothing to free yet
    release.set()
    assert backend.freed.wait(TIMEOUT)
    assert backend.freed_on == MODEL_THREAD  # by the model thread, once the load was over
    assert host.backend is None


def test_close_never_frees_the_model_under_a_running_job() -> None:
    backend = FreedBackend()
    host = ModelHost(loader=lambda _: backend)
    host.load(Settings()).future.result(TIMEOUT)
    running = threading.Event()
    release = threading.Event()
    freed_while_running: list[bool] = []

    def job(model: object, is_cancelled: Callable[[], bool]) -> None:
        running.set()
        assert release.wait(TIMEOUT)  # a job that does not stop when asked (a long batch)
        freed_while_running.append(backend.freed.is_set())

    host.submit(job)
    assert running.wait(TIMEOUT)
    assert not host.close(timeout=0.01)
    assert not backend.freed.is_set()
    release.set()
    assert backend.freed.wait(TIMEOUT)
    assert freed_while_running == [False]
    assert backend.freed_on == MODEL_THREAD


async def test_a_workspace_restart_while_a_context_job_waits_leaves_it_its_index(
        tmp_path: Path) -> None:
    """The index is replaced (new roots or exclusion settings) after a completion's job took
    its context and before it ran: the job still reads the old index, which closes once the
    job is over; the request gets a normal answer, not an internal error."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "lib.py").write_text("def scale(value):\n    return value * 3\n")
    text = "from lib import scale\n\ntotal = "
    (tmp_path / "main.py").write_text(text)
    host = ModelHost(loader=lambda _: CharBackend())
    host.load(Settings()).future.result(TIMEOUT)
    session = Session(host)
    session.start_index([tmp_path])
    old = session.index
    assert old is not None
    document = session.documents.open((tmp_path / "main.py").as_uri(), "python", 1, text)
    busy = threading.Event()
    release = threading.Event()

    def occupy(model: object, is_cancelled: Callable[[], bool]) -> None:
        busy.set()
        assert release.wait(TIMEOUT)

    host.submit(occupy)  # the model thread is busy: the completion's job waits in the queue
    assert busy.wait(TIMEOUT)
    asked = asyncio.Event()

    def context_for(snapshot):  # type: ignore[no-untyped-def]
        asked.set()
        return session.context_for(snapshot)

    settings = Settings(debounce_min_ms=0, debounce_max_ms=0, speculative_completion=False,
                        warm_start=False, completion_cache=False)
    request = asyncio.ensure_future(session.completions.complete(
        document, document.snapshot(), len(text), settings, "", context_for, budgeted=False))
    await asyncio.wait_for(asked.wait(), TIMEOUT)
    session.start_index([tmp_path])
    assert session.index is not old and not old.closed  # the waiting job holds it
    release.set()
    answer = await asyncio.wait_for(request, TIMEOUT)
    assert answer is not None and answer.status["source"] == "model"
    while not old.closed:  # closed by the model thread as the job ends
        await asyncio.sleep(0.01)
    assert not session.index.closed
    host.close()
    session.index.close()
    assert session.index.closed


@pytest.fixture
def slow_start(constant_model: TinyModelInfo):  # type: ignore[no-untyped-def]
    """A llama.cpp server that answers the backend's first question only when released."""
    emulator = LlamaCppEmulator(constant_model.path, n_ctx=512)
    emulator.props_gate = threading.Event()
    emulator.start()
    yield emulator
    emulator.props_gate.set()
    emulator.stop()


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient):
    yield
    if lsp_client._server is not None and lsp_client._server.returncode is None:
        await lsp_client.shutdown_session()  # the test failed before it exited


async def test_shutdown_during_a_model_load_answers_every_request_and_exits_cleanly(
        client: LanguageClient, slow_start: LlamaCppEmulator) -> None:
    options = {"backend": "llamacpp-server", "endpoint": slow_start.url, "contextSize": 512}
    await client.initialize_session(initialize_params("neovim", options))
    assert await asyncio.to_thread(slow_start.props_asked.wait, TIMEOUT)  # now loading
    uri = "file:///workspace/app.py"
    open_document(client, uri, "def total(xs):\n    return ")
    answer = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(1, 11)))
    assert answer is not None and not answer.items  # no model yet: an empty list
    await client.shutdown_async(None)  # stops the model thread while the load still waits
    assert slow_start.props_gate is not None
    slow_start.props_gate.set()  # the load finishes after shutdown: its thread frees it
    client.exit(None)
    assert client._server is not None
    assert await asyncio.wait_for(client._server.wait(), TIMEOUT) == 0
