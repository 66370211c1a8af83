"""Per-connection state: documents, settings, negotiated encoding, the model host."""

from __future__ import annotations

from dataclasses import dataclass, field

from llama_lsp.config.settings import Settings
from llama_lsp.context.documents import DocumentStore
from llama_lsp.context.positions import PositionEncoding
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
