"""What features need from a model engine, independent of which engine it is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from llama_lsp.model.fim import FimTokens

StopReason = Literal["eos", "stop", "length", "cancelled", "context"]


class ModelError(RuntimeError):
    """A model that cannot be found, loaded or run; the message says what to do."""


@dataclass(frozen=True)
class ModelInfo:
    """What the features need to know about a loaded model."""

    name: str
    path: str
    context_size: int
    fim: FimTokens | None
    bos: tuple[int, ...]
    gpu_offload: bool = False


@dataclass(frozen=True)
class GenerationRequest:
    """One generation: prompt tokens, limits and an optional stop rule on the text so far."""

    prompt: list[int]
    max_tokens: int
    temperature: float = 0.0
    seed: int = 0
    should_stop: Callable[[str], bool] | None = field(default=None, compare=False)
    json_schema: str | None = None
    """A JSON schema (as JSON text) the output must follow; the engine enforces it by grammar."""


@dataclass(frozen=True)
class GenerationResult:
    """Generated text plus the counters that show what the engine did."""

    text: str
    n_generated: int
    n_prompt: int
    n_reused: int
    stop_reason: StopReason
    wall_ms: float
    engine_ms: float
    """Time llama.cpp itself spent evaluating the prompt and generated tokens."""

    @property
    def n_evaluated(self) -> int:
        """Prompt tokens that had to be evaluated (not reused from the KV cache)."""
        return self.n_prompt - self.n_reused


class Backend(Protocol):
    """A loaded model that completes token prompts. Not thread-safe: use from one thread."""

    info: ModelInfo

    def tokenize(self, text: str) -> list[int]:
        """Tokens of ``text`` with no BOS and no special-token parsing."""
        ...

    def detokenize(self, tokens: list[int]) -> str:
        """Text of ``tokens`` with special tokens written out (for showing prompts)."""
        ...

    def generate(
        self, request: GenerationRequest, is_cancelled: Callable[[], bool]
    ) -> GenerationResult:
        """Generate until EOS, ``max_tokens``, ``should_stop`` or cancellation."""
        ...

    def close(self) -> None:
        """Free the model."""
        ...
