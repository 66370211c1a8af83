"""Per-connection state: documents, settings, negotiated encoding, the model host."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from llama_lsp.config.settings import Settings
from llama_lsp.context.assembly import WorkspaceContext, display_path
from llama_lsp.context.background_parse import BackgroundParser
from llama_lsp.context.documents import Document, DocumentSnapshot, DocumentStore
from llama_lsp.context.exclusions import ExclusionPolicy, secret_reason
from llama_lsp.context.positions import PositionEncoding
from llama_lsp.context.workspace import WorkspaceIndex
from llama_lsp.features.completion.coordinator import CompletionCoordinator
from llama_lsp.model.host import ModelHost


@dataclass
class Session:
    """Everything the handlers share. Mutated only on the protocol's event loop."""

    host: ModelHost
    settings: Settings = field(default_factory=Settings)
    documents: DocumentStore = field(default_factory=DocumentStore)
    parses: BackgroundParser = field(default_factory=BackgroundParser)
    """Finishes, between messages, the reparses a keystroke's time budget cut short."""
    encoding: PositionEncoding = PositionEncoding.UTF16
    initialized: bool = False
    supports_configuration: bool = False
    supports_progress: bool = False
    roots: list[Path] = field(default_factory=list)
    index: WorkspaceIndex | None = None
    completions: CompletionCoordinator = field(init=False)
    last_uri: str | None = None
    """The document opened or edited most recently (warm start begins there)."""
    last_status: dict[str, object] = field(default_factory=dict)
    """Fields of the last completion's ``$/llama-lsp/status`` (latency, tokens/s...)."""

    def __post_init__(self) -> None:
        self.completions = CompletionCoordinator(self.host)

    def context_version(self, uri: str) -> str:
        """Changes whenever another open document changes (their code may be in the prompt)."""
        return ";".join(f"{d.uri}@{d.version}" for d in self.documents.documents()
                        if d.uri != uri)

    def context_for(self, snapshot: DocumentSnapshot) -> WorkspaceContext | None:
        """Cross-file context for ``snapshot``: the workspace index plus the other open files.
        It holds a lease on the index: release it once the job that reads it is over."""
        if self.index is None:
            return None
        others = [s for s in self.documents.snapshots() if s.uri != snapshot.uri]
        return WorkspaceContext(self.index, [snapshot, *others], self.index.lease())

    def refusal(self, snapshot: DocumentSnapshot) -> str | None:
        """Why the document's own text must stay out of every prompt (a secret-bearing file)."""
        if not snapshot.path:
            return None
        if self.index is not None:
            return self.index.policy.secret_reason(Path(snapshot.path))
        return secret_reason(Path(snapshot.path).name, self.settings.secret_patterns)

    def prompt_path(self, snapshot: DocumentSnapshot) -> str:
        """The document's path as prompts and the audit log show it."""
        return display_path(Path(snapshot.path) if snapshot.path else None, snapshot.uri,
                            self.roots)

    def last_document(self) -> Document | None:
        """The document opened or edited most recently, if still open."""
        return None if self.last_uri is None else self.documents.get(self.last_uri)

    def start_index(self, roots: list[Path]) -> None:
        """(Re)build the workspace index for ``roots`` with the current exclusion settings.
        The old index closes once the last job reading it is over (see ``context_for``)."""
        if self.index is not None:
            self.index.close()
        self.roots = roots
        policy = ExclusionPolicy(roots, self.settings.secret_patterns, self.settings.max_file_bytes)
        self.index = WorkspaceIndex(roots, policy, parse_limits=(
            self.settings.max_parse_lines, self.settings.max_parse_bytes))
