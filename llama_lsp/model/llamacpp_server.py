"""The ``llamacpp-server`` backend: llama.cpp's own HTTP server (``llama-server``).

- model info from ``GET /props`` (context per slot, slots, model path); FIM tokens found by
  tokenizing the known FIM marker texts with ``POST /tokenize``;
- exact tokens from ``/tokenize`` and ``/detokenize``;
- FIM prompts go to ``POST /infill`` as text parts, with context chunks as ``input_extra``
  (the server lays out the repo-level prompt); other prompts go to ``POST /completion`` as
  token ids with ``cache_prompt`` so the server reuses its KV cache;
- both streamed as server-sent events; closing the stream stops the server's generation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import PurePath
from typing import Any

from llama_lsp.config.settings import Settings
from llama_lsp.model.backend import (
    EngineUnavailable,
    GenerationRequest,
    GenerationResult,
    ModelError,
    ModelInfo,
    StopReason,
)
from llama_lsp.model.fim import detect_fim_tokens
from llama_lsp.model.http_client import EventStream, HttpClient
from llama_lsp.model.remote import (
    SAMPLING,
    Piece,
    cancelled,
    client_for,
    event_json,
    follow_stream,
    open_stream,
    schema_of,
)

_STOP_TYPES: dict[str, StopReason] = {"eos": "eos", "limit": "length", "word": "stop"}


class LlamaCppServerBackend:
    """A model served by ``llama-server``. Thread-safe: requests may run in parallel."""

    def __init__(self, client: HttpClient, info: ModelInfo) -> None:
        self.client = client
        self.info = info

    @classmethod
    def connect(cls, settings: Settings) -> LlamaCppServerBackend:
        """Ask the server about its model; raise :class:`EngineUnavailable` when it is down."""
        client = client_for(settings)
        try:
            props = client.get_json("/props")
        except EngineUnavailable:
            raise
        except ModelError as error:
            raise ModelError(f"{error}; is it llama.cpp's llama-server? For vLLM, Ollama and "
                             "other OpenAI-compatible servers set 'backend' to openai") from error
        if not isinstance(props, dict):
            raise ModelError(f"{client.endpoint.url}/props is not a llama.cpp server answer")
        slot = props.get("default_generation_settings") or {}
        context = int(slot.get("n_ctx") or settings.context_size)
        model_path = str(props.get("model_path") or "")
        alias = str(props.get("model_alias") or model_path or "llama.cpp server model")
        name = PurePath(alias).stem if "/" in alias or alias.endswith(".gguf") else alias

        def token_id_of(text: str) -> int | None:
            tokens = client.post_json("/tokenize", {"content": text, "add_special": False,
                                                    "parse_special": True}).get("tokens", [])
            return tokens[0] if len(tokens) == 1 and isinstance(tokens[0], int) else None

        fim = detect_fim_tokens({}, token_id_of)
        with_bos = client.post_json("/tokenize", {"content": "a", "add_special": True,
                                                  "parse_special": False}).get("tokens", [])
        plain = client.post_json("/tokenize", {"content": "a", "add_special": False,
                                               "parse_special": False}).get("tokens", [])
        bos = tuple(with_bos[: len(with_bos) - len(plain)]) if with_bos[-len(plain):] == plain \
            else ()
        slots = int(props.get("total_slots") or 1)
        info = ModelInfo(name=str(name), path=f"{client.endpoint.url} {model_path}".strip(),
                         context_size=context, fim=fim, bos=bos, engine="llamacpp-server",
                         parallel_safe=True, parallel_slots=slots)
        return cls(client, info)

    def tokenize(self, text: str) -> list[int]:
        """The server's tokens of ``text`` (no BOS, special-token text not parsed)."""
        if not text:
            return []
        answer = self.client.post_json("/tokenize", {"content": text, "add_special": False,
                                                     "parse_special": False})
        return [int(token) for token in answer.get("tokens", [])]

    def detokenize(self, tokens: list[int]) -> str:
        """The server's text of ``tokens``."""
        if not tokens:
            return ""
        return str(self.client.post_json("/detokenize", {"tokens": tokens}).get("content", ""))

    def _body(self, request: GenerationRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "n_predict": request.max_tokens, "temperature": request.temperature,
            "seed": request.seed, "stream": True, "cache_prompt": True, **SAMPLING,
        }
        if request.stop:
            body["stop"] = list(request.stop)
        if (schema := schema_of(request)) is not None:
            body["json_schema"] = schema
        parts = request.fim_parts
        if parts is not None and self.info.fim is not None:
            body.update(input_prefix=parts.prefix, input_suffix=parts.suffix,
                        input_extra=[{"filename": chunk.path, "text": chunk.text}
                                     for chunk in parts.extra])
        else:
            body["prompt"] = request.prompt
        return body

    def generate(self, request: GenerationRequest,
                 is_cancelled: Callable[[], bool]) -> GenerationResult:
        """Stream from ``/infill`` or ``/completion`` until a stop rule or cancellation."""
        started = time.perf_counter()
        if not request.prompt:
            raise ModelError("empty prompt")
        if len(request.prompt) + request.max_tokens > self.info.context_size:
            raise ModelError(
                f"prompt of {len(request.prompt)} tokens plus {request.max_tokens} to generate "
                f"does not fit the server's context of {self.info.context_size} tokens"
            )
        if is_cancelled():
            return cancelled(request)
        body = self._body(request)
        path = "/infill" if "input_prefix" in body else "/completion"
        final: dict[str, Any] = {}
        stream = open_stream(self.client, path, body, is_cancelled)
        if stream is None:
            return cancelled(request, started)
        try:
            text, generated, reason = follow_stream(self._pieces(stream, final), request,
                                                    is_cancelled)
        finally:
            stream.close()
        timings = final.get("timings") or {}
        n_prompt = int(final.get("tokens_evaluated") or len(request.prompt))
        reused = int(timings.get("cache_n", final.get("tokens_cached", 0)) or 0)
        engine_ms = float(timings.get("prompt_ms", 0.0)) + float(timings.get("predicted_ms", 0.0))
        return GenerationResult(text, generated, n_prompt, min(reused, n_prompt), reason,
                                (time.perf_counter() - started) * 1000, engine_ms)

    @staticmethod
    def _pieces(stream: EventStream, final: dict[str, Any]) -> Iterator[Piece]:
        for event in stream:
            data = event_json(event, "the llama.cpp server")
            if data.get("stop"):
                stream.finish()  # the last event: the connection can serve the next request
                final.update(data)
                finished = _STOP_TYPES.get(str(data.get("stop_type")), "eos")
                yield Piece(str(data.get("content", "")), len(data.get("tokens") or []),
                            finished)
                return
            yield Piece(str(data.get("content", "")), len(data.get("tokens") or []) or 1)

    def close(self) -> None:
        """Close this thread's connection."""
        self.client.close()
