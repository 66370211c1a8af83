"""The model's home: resolves, loads and swaps the backend on the model thread."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

from llama_lsp.config import network
from llama_lsp.config.settings import Settings
from llama_lsp.model.awaitable_event import AwaitableEvent
from llama_lsp.model.backend import Backend, EngineUnavailable, ModelError
from llama_lsp.model.embedded import EmbeddedBackend
from llama_lsp.model.resolve import resolve_model_path
from llama_lsp.model.worker import Job, ModelWorker

T = TypeVar("T")


class ModelState(str, Enum):
    """Where the model is in its life."""

    NOT_LOADED = "not-loaded"
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"
    UNAVAILABLE = "unavailable"
    """A remote server cannot be reached now; requests retry it and recover by themselves."""


@dataclass(frozen=True)
class ModelStatus:
    """A snapshot of the host's state for status messages."""

    state: ModelState
    detail: str = ""


# Least time between attempts to reach a server that was down (seconds).
RECONNECT_SECONDS = 2.0


def load_backend(settings: Settings) -> Backend:
    """Load the configured model, or connect to the configured server (blocking).

    With the network off (``--no-network``) a remote backend refuses to start."""
    if settings.backend != "embedded" and (
            refused := network.refusal(f"the {settings.backend} backend "
                                       f"({settings.endpoint or 'no endpoint'})")):
        raise ModelError(refused)
    if settings.backend == "llamacpp-server":
        from llama_lsp.model.llamacpp_server import LlamaCppServerBackend

        return LlamaCppServerBackend.connect(settings)
    if settings.backend == "openai":
        from llama_lsp.model.openai_compat import OpenAICompatBackend

        return OpenAICompatBackend.connect(settings)
    return EmbeddedBackend.load(resolve_model_path(settings.model), settings)


class ModelHost:
    """Owns the worker thread and the backend living on it."""

    def __init__(self, loader: Callable[[Settings], Backend] = load_backend,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._loader = loader
        self._clock = clock
        self.worker = ModelWorker()
        self.backend: Backend | None = None
        self._identity: tuple[object, ...] | None = None
        self._settings: Settings | None = None
        self._status = ModelStatus(ModelState.NOT_LOADED)
        self._last_attempt = 0.0
        self.on_change: Callable[[ModelStatus, ModelStatus], None] | None = None
        """Called with (old, new) when the state changes, on the thread that changed it."""
        self._loads = 0
        self.ready = AwaitableEvent()
        """Set once the latest load has finished (whether it worked or not) or the host closed;
        cleared when a load starts."""

    @property
    def status(self) -> ModelStatus:
        """Current state, with the model name or the error."""
        return self._status

    async def until_ready(self, timeout: float) -> bool:
        """Wait, without polling, until the latest load (or the first, if none started yet)
        has finished or the host closed; False if ``timeout`` seconds passed first. The status
        says how it went."""
        return await self.ready.wait(timeout)

    def _set_status(self, status: ModelStatus) -> None:
        old, self._status = self._status, status
        if old.state is not status.state and self.on_change is not None:
            self.on_change(old, status)

    def _connect(self, settings: Settings) -> Backend:
        """Run the loader, recording the outcome in the status."""
        self._last_attempt = self._clock()
        try:
            backend = self._loader(settings)
        except EngineUnavailable as error:
            self._set_status(ModelStatus(ModelState.UNAVAILABLE, str(error)))
            raise
        except ModelError as error:
            self._set_status(ModelStatus(ModelState.FAILED, str(error)))
            raise
        except Exception as error:  # noqa: BLE001 - any load failure is reported, not fatal
            self._set_status(ModelStatus(ModelState.FAILED, f"model failed to load: {error}"))
            raise ModelError(self._status.detail) from error
        self.backend = backend
        self._set_status(ModelStatus(ModelState.READY, backend.info.name))
        return backend

    def needs_reload(self, settings: Settings) -> bool:
        """True when ``settings`` name a different model or context than the loaded one."""
        return settings.model_identity() != self._identity

    def load(self, settings: Settings) -> Job[Backend]:
        """Queue loading the model of ``settings`` (replacing any loaded one)."""
        self.ready.clear()
        self._loads += 1
        load = self._loads
        what = settings.model or "default model"
        if settings.backend != "embedded":
            what = f"{settings.backend} at {settings.endpoint}"
        self._set_status(ModelStatus(ModelState.LOADING, what))
        self._identity = settings.model_identity()
        self._settings = settings

        def run(is_cancelled: Callable[[], bool]) -> Backend:
            if self.backend is not None:
                self.backend.close()
                self.backend = None
            try:
                return self._connect(settings)
            finally:
                if load == self._loads:  # a load superseded by a newer one ends no wait
                    self.ready.set()

        return self.worker.submit(run, key="load")

    def submit(
        self,
        run: Callable[[Backend, Callable[[], bool]], T],
        key: Hashable | None = None,
        supersedes: tuple[Hashable, ...] = (),
    ) -> Job[T]:
        """Queue ``run(backend, is_cancelled)``; raises ModelError inside if no model is loaded.

        While a remote server is unavailable, a job first tries to reach it again (at most
        every ``RECONNECT_SECONDS``); the status returns to ready when a call gets through.
        """

        def with_backend(is_cancelled: Callable[[], bool]) -> T:
            unavailable = self._status.state is ModelState.UNAVAILABLE
            if unavailable and self._clock() - self._last_attempt < RECONNECT_SECONDS:
                raise EngineUnavailable(self._status.detail)
            backend = self.backend
            if backend is None:
                if not unavailable or self._settings is None:
                    raise ModelError(self._status.detail or "no model loaded")
                backend = self._connect(self._settings)
            try:
                result = run(backend, is_cancelled)
            except EngineUnavailable as error:
                self._last_attempt = self._clock()
                self._set_status(ModelStatus(ModelState.UNAVAILABLE, str(error)))
                raise
            if self._status.state is ModelState.UNAVAILABLE:
                self._set_status(ModelStatus(ModelState.READY, backend.info.name))
            return result

        return self.worker.submit(with_backend, key, supersedes)

    def close(self, timeout: float = 5.0) -> bool:
        """Stop the worker; free the model once the model thread has ended, never under a
        running job: here when the thread ends within ``timeout`` seconds, else on the thread
        itself once its last job (a model load, a generation) returns. Returns whether the
        thread ended in time."""
        self.ready.set()  # a queued load will not run: nobody may wait for it
        return self.worker.close(timeout, then=self._free_backend)

    def _free_backend(self) -> None:
        """Free the backend (only once no job can use it: the model thread has ended)."""
        backend, self.backend = self.backend, None
        if backend is not None:
            backend.close()
