"""Per-connection state: documents, settings, negotiated encoding, the model host."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from llama_lsp.config.settings import Settings
from llama_lsp.context.documents import DocumentStore
from llama_lsp.context.exclusions import ExclusionPolicy
from llama_lsp.context.positions import PositionEncoding
from llama_lsp.context.workspace import WorkspaceIndex
from llama_lsp.features.completion.debounce import AdaptiveDebounce, DebounceConfig
from llama_lsp.features.completion.pipeline import CompletionPipeline
from llama_lsp.features.completion.service import CompletionService
from llama_lsp.model.backend import Backend
from llama_lsp.model.host import ModelHost

# How long a completion that arrives while the model loads waits before answering empty.
READY_WAIT_SECONDS = 1.0


@dataclass
class Session:
    """Everything the handlers share. Mutated only on the protocol's event loop."""

    host: ModelHost
    settings: Settings = field(default_factory=Settings)
    documents: DocumentStore = field(default_factory=DocumentStore)
    encoding: PositionEncoding = PositionEncoding.UTF16
    initialized: bool = False
    supports_configuration: bool = False
    supports_progress: bool = False
    roots: list[Path] = field(default_factory=list)
    index: WorkspaceIndex | None = None
    service: CompletionService = field(default_factory=lambda: CompletionService(Settings()))
    debounce: AdaptiveDebounce = field(default_factory=AdaptiveDebounce)
    speculations: int = 0
    model_calls: int = 0
    """Generations started on the model thread (finished, cut short or cancelled)."""
    """Background completions finished so far (model calls the user did not wait for)."""
    last_status: dict[str, object] = field(default_factory=dict)
    """Fields of the last completion's ``$/llama-lsp/status`` (latency, tokens/s...)."""
    _pipeline: CompletionPipeline | None = None

    def apply_latency_settings(self) -> None:
        """Reconfigure the cache and the debounce from the current settings."""
        self.service.reconfigure(self.settings)
        config = DebounceConfig(
            min_delay=min(self.settings.debounce_min_ms, self.settings.debounce_max_ms) / 1000,
            max_delay=self.settings.debounce_max_ms / 1000,
            first_request_budget=self.settings.first_request_budget_ms / 1000,
        )
        if config != self.debounce.config:
            self.debounce = AdaptiveDebounce(config)

    def context_version(self, uri: str) -> str:
        """Changes whenever another open document changes (their code may be in the prompt)."""
        return ";".join(f"{d.uri}@{d.version}" for d in self.documents.documents()
                        if d.uri != uri)

    def start_index(self, roots: list[Path]) -> None:
        """(Re)build the workspace index for ``roots`` with the current exclusion settings."""
        if self.index is not None:
            self.index.close()
        self.roots = roots
        policy = ExclusionPolicy(roots, self.settings.secret_patterns, self.settings.max_file_bytes)
        self.index = WorkspaceIndex(roots, policy)

    def pipeline_for(self, backend: Backend) -> CompletionPipeline:
        """The long-lived pipeline of ``backend`` (it caches tokenized context)."""
        if self._pipeline is None or self._pipeline.backend is not backend:
            self._pipeline = CompletionPipeline(backend)
        return self._pipeline
