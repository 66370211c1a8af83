"""The model's home: resolves, loads and swaps the backend on the model thread."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

from llama_lsp.config.settings import Settings
from llama_lsp.model.backend import Backend, ModelError
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


@dataclass(frozen=True)
class ModelStatus:
    """A snapshot of the host's state for status messages."""

    state: ModelState
    detail: str = ""


def load_backend(settings: Settings) -> Backend:
    """Resolve and load the configured model (blocking)."""
    return EmbeddedBackend.load(resolve_model_path(settings.model), settings)


class ModelHost:
    """Owns the worker thread and the backend living on it."""

    def __init__(self, loader: Callable[[Settings], Backend] = load_backend) -> None:
        self._loader = loader
        self.worker = ModelWorker()
        self.backend: Backend | None = None
        self._identity: tuple[object, ...] | None = None
        self._status = ModelStatus(ModelState.NOT_LOADED)
        self.ready = threading.Event()
        """Set once a load attempt has finished (whether it worked or not)."""

    @property
    def status(self) -> ModelStatus:
        """Current state, with the model name or the error."""
        return self._status

    def needs_reload(self, settings: Settings) -> bool:
        """True when ``settings`` name a different model or context than the loaded one."""
        return settings.model_identity() != self._identity

    def load(self, settings: Settings) -> Job[Backend]:
        """Queue loading the model of ``settings`` (replacing any loaded one)."""
        self.ready.clear()
        self._status = ModelStatus(ModelState.LOADING, settings.model or "default model")
        self._identity = settings.model_identity()

        def run(is_cancelled: Callable[[], bool]) -> Backend:
            if self.backend is not None:
                self.backend.close()
                self.backend = None
            try:
                backend = self._loader(settings)
            except ModelError as error:
                self._status = ModelStatus(ModelState.FAILED, str(error))
                raise
            except Exception as error:  # noqa: BLE001 - any load failure is reported, not fatal
                self._status = ModelStatus(ModelState.FAILED, f"model failed to load: {error}")
                raise ModelError(self._status.detail) from error
            finally:
                self.ready.set()
            self.backend = backend
            self._status = ModelStatus(ModelState.READY, backend.info.name)
            return backend

        return self.worker.submit(run, key="load")

    def submit(
        self,
        run: Callable[[Backend, Callable[[], bool]], T],
        key: Hashable | None = None,
        supersedes: tuple[Hashable, ...] = (),
    ) -> Job[T]:
        """Queue ``run(backend, is_cancelled)``; raises ModelError inside if no model is loaded."""

        def with_backend(is_cancelled: Callable[[], bool]) -> T:
            if self.backend is None:
                raise ModelError(self._status.detail or "no model loaded")
            return run(self.backend, is_cancelled)

        return self.worker.submit(with_backend, key, supersedes)

    def close(self) -> None:
        """Stop the worker and free the model."""
        self.worker.close()
        if self.backend is not None:
            self.backend.close()
            self.backend = None
