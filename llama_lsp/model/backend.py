"""What features need from a model engine, independent of which engine it is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from llama_lsp.model.fim import FimTokens

StopReason = Literal["eos", "stop", "length", "cancelled", "context"]


class ModelError(RuntimeError):
    """A model that cannot be found, loaded or run; the message says what to do."""


class EngineUnavailable(ModelError):
    """A remote inference server that cannot be reached (down, timing out, overloaded).

    Unlike other model errors this one is expected to go away: callers retry later.
    """


@dataclass(frozen=True)
class ModelInfo:
    """What the features need to know about a loaded model."""

    name: str
    path: str
    context_size: int
    fim: FimTokens | None
    bos: tuple[int, ...]
    gpu_offload: bool = False
    engine: str = "embedded"
    """Which backend serves the model: ``embedded``, ``llamacpp-server`` or ``openai``."""
    parallel_safe: bool = False
    """True when ``generate`` may be called from several threads at once (remote engines
    batch concurrent requests); False means one call at a time (the embedded engine)."""
    parallel_slots: int = 1
    """How many requests the engine serves at once, when it says (llama.cpp ``total_slots``)."""
    exact_tokens: bool = True
    """False when ``tokenize`` only estimates the engine's token counts."""
    vocabulary: str = ""
    """What was loaded of the model's vocabulary (the embedded engine's code vocabulary)."""


@dataclass(frozen=True)
class ContextFile:
    """A piece of another file that goes into a fill-in-the-middle prompt."""

    path: str
    text: str


@dataclass(frozen=True)
class FimParts:
    """The text of a fill-in-the-middle prompt, for engines that lay out FIM prompts
    themselves (llama.cpp's ``/infill``). ``GenerationRequest.prompt`` holds the same
    prompt as tokens."""

    prefix: str
    suffix: str
    extra: tuple[ContextFile, ...] = ()


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
    stop: tuple[str, ...] = ()
    """Strings that end generation; the text is cut before the first one."""
    fim_parts: FimParts | None = field(default=None, compare=False)
    """The prompt as FIM text parts, when it is a FIM prompt (engines may use either form)."""
    slot: str | None = field(default=None, compare=False)
    """The document the prompt is about (its URI): engines that keep the KV state of several
    documents continue from that document's state. None: a one-off prompt."""


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
    repeated: bool = False
    """The result of an identical earlier greedy prompt, given again without a model call."""

    @property
    def n_evaluated(self) -> int:
        """Prompt tokens that had to be evaluated (not reused from the KV cache)."""
        return self.n_prompt - self.n_reused


def cut_at_stop(text: str, stops: tuple[str, ...]) -> tuple[str, bool]:
    """``text`` up to the first stop string, and whether one was found."""
    cut = min((at for at in (text.find(stop) for stop in stops if stop) if at >= 0),
              default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


@runtime_checkable
class Prefilling(Protocol):
    """An engine that can evaluate a prompt ahead of need and keep several documents' KV
    states (the embedded engine)."""

    def prefill(self, prompt: list[int], slot: str | None,
                is_cancelled: Callable[[], bool]) -> int:
        """Evaluate the part of ``prompt`` not in the KV cache yet, a chunk at a time, stopping
        early once ``is_cancelled``; return how many tokens were evaluated."""
        ...

    def keep_states(self, budget_bytes: int) -> None:
        """Keep the KV states of documents left behind within ``budget_bytes`` (0: none)."""
        ...

    def cached_prefix(self, prompt: list[int], slot: str | None) -> int:
        """How many leading tokens of ``prompt`` the KV cache of ``slot``'s document holds."""
        ...


class Backend(Protocol):
    """A loaded model that completes token prompts. Use from one thread unless
    ``info.parallel_safe`` says otherwise."""

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
