"""The ``openai`` backend: any server with an OpenAI-compatible ``/v1/completions``
(vLLM, Ollama, llama-cpp-python's server, llama.cpp's server, LM Studio).

Such servers take text prompts, so tokens here come from a local :class:`TextVocabulary`
(exactly reversible, counts estimated). FIM prompts are laid out client-side with the
model's FIM marker texts: from ``fimTemplate``, or with ``auto`` found by asking the
server's tokenize endpoint (llama-cpp-python ``/extras/tokenize``, vLLM ``/tokenize``)
which marker texts are single tokens. ``GET /v1/models`` names the model when
``remoteModel`` is not set. Generation streams over server-sent events.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
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
from llama_lsp.model.fim import KNOWN_TEMPLATES, FimTemplate, FimTokens, parse_fim_template
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
from llama_lsp.model.text_vocab import TextVocabulary

_FINISH: dict[str, StopReason] = {"stop": "eos", "length": "length"}


def _single_token_probe(client: HttpClient, model: str) -> Callable[[str], bool] | None:
    """A test "is this text one token?" through the server's tokenize endpoint, if any."""
    probes: tuple[tuple[str, Callable[[str], dict[str, Any]]], ...] = (
        ("/extras/tokenize", lambda text: {"input": text, "model": model}),
        ("/tokenize", lambda text: {"prompt": text, "model": model,
                                    "add_special_tokens": False}),
    )
    for path, body in probes:
        try:
            answer = client.post_json(path, body("a"))
        except EngineUnavailable:
            raise
        except ModelError:
            continue
        if isinstance(answer, dict) and isinstance(answer.get("tokens"), list):
            return lambda text, path=path, body=body: len(  # type: ignore[misc]
                client.post_json(path, body(text)).get("tokens", [])) == 1
    return None


def detect_template(client: HttpClient, model: str) -> FimTemplate | None:
    """The known FIM template whose three markers the server tokenizes as single tokens."""
    is_one_token = _single_token_probe(client, model)
    if is_one_token is None:
        return None
    for template in KNOWN_TEMPLATES:
        if all(is_one_token(text) for text in (template.prefix, template.suffix,
                                               template.middle)):
            separator = template.file_separator
            if separator is not None and not is_one_token(separator):
                template = dataclasses.replace(template, file_separator=None)
            return template
    return None


class OpenAICompatBackend:
    """A model behind ``/v1/completions``. Thread-safe: requests may run in parallel."""

    def __init__(self, client: HttpClient, model: str, info: ModelInfo,
                 vocabulary: TextVocabulary) -> None:
        self.client = client
        self.model = model
        self.info = info
        self.vocabulary = vocabulary

    @classmethod
    def connect(cls, settings: Settings) -> OpenAICompatBackend:
        """Discover the model; raise :class:`EngineUnavailable` when the server is down."""
        client = client_for(settings, strip_suffix="/v1")
        listing = client.get_json("/v1/models")
        cards = [card for card in (listing.get("data") or []) if isinstance(card, dict)] \
            if isinstance(listing, dict) else []
        ids = [str(card.get("id")) for card in cards if card.get("id")]
        model = settings.remote_model or (ids[0] if ids else None)
        if model is None:
            raise ModelError(f"{client.endpoint.url}/v1/models lists no model; "
                             "set 'remoteModel'")
        if settings.remote_model and ids and settings.remote_model not in ids:
            raise ModelError(f"the server has no model {settings.remote_model!r}; it has: "
                             + ", ".join(ids[:10]))
        card = next((card for card in cards if card.get("id") == model), {})
        context = settings.context_size
        if isinstance(card.get("max_model_len"), int):  # vLLM says how long its context is
            context = min(context, card["max_model_len"])
        served = _llamacpp_context(client)
        if served is not None:  # so does llama.cpp's server, per slot
            context = min(context, served)
        spec = settings.fim_template.strip()
        template: FimTemplate | None = None
        source = ""
        if spec.lower() == "auto":
            template = detect_template(client, model)
            source = f"detected: {template.family}" if template else ""
        elif spec.lower() != "none":
            template = parse_fim_template(spec)
            source = f"fimTemplate: {template.family}"
        vocabulary = TextVocabulary()
        fim = None
        if template is not None:
            fim = FimTokens(
                vocabulary.special(template.prefix), vocabulary.special(template.suffix),
                vocabulary.special(template.middle),
                vocabulary.special(template.file_separator) if template.file_separator else None,
                None, source,
            )
        info = ModelInfo(name=model, path=client.endpoint.url, context_size=context, fim=fim,
                         bos=(), engine="openai", parallel_safe=True, exact_tokens=False)
        return cls(client, model, info, vocabulary)

    def tokenize(self, text: str) -> list[int]:
        """Local piece ids of ``text`` (an estimate of the engine's count)."""
        return self.vocabulary.tokenize(text)

    def detokenize(self, tokens: list[int]) -> str:
        """The exact text of ``tokens``, FIM markers written out."""
        return self.vocabulary.detokenize(tokens)

    def _body(self, request: GenerationRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model, "prompt": self.vocabulary.detokenize(request.prompt),
            "max_tokens": request.max_tokens, "temperature": request.temperature,
            "seed": request.seed, "stream": True, "top_p": SAMPLING["top_p"],
            # Not in OpenAI's API, understood by llama.cpp-based servers (vLLM ignores them).
            "top_k": SAMPLING["top_k"], "min_p": SAMPLING["min_p"],
            "repeat_penalty": SAMPLING["repeat_penalty"],
        }
        if request.stop:
            body["stop"] = list(request.stop)[:4]  # OpenAI allows up to four
        if (schema := schema_of(request)) is not None:
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "output", "schema": schema}}
            body["grammar"] = _grammar_of(request.json_schema)  # llama.cpp-based servers
        return body

    def generate(self, request: GenerationRequest,
                 is_cancelled: Callable[[], bool]) -> GenerationResult:
        """Stream ``/v1/completions`` until a stop rule or cancellation."""
        started = time.perf_counter()
        if not request.prompt:
            raise ModelError("empty prompt")
        if is_cancelled():
            return cancelled(request)
        body = self._body(request)
        stream = open_stream(self.client, "/v1/completions", body, is_cancelled)
        if stream is None:
            return cancelled(request, started)
        try:
            text, generated, reason = follow_stream(self._pieces(stream), request, is_cancelled)
        finally:
            stream.close()
        wall_ms = (time.perf_counter() - started) * 1000
        return GenerationResult(text, generated, len(request.prompt), 0, reason, wall_ms,
                                wall_ms)

    @staticmethod
    def _pieces(stream: EventStream) -> Iterator[Piece]:
        for event in stream:
            if event.data.strip() == "[DONE]":
                stream.finish()
                return
            data = event_json(event, "the server")
            choices = data.get("choices") or []
            if not choices:
                continue  # e.g. a usage-only chunk
            choice = choices[0]
            finish = choice.get("finish_reason")
            if finish:  # the generation is over; only a usage chunk and [DONE] may follow
                stream.finish()
            text = str(choice.get("text") or "")
            yield Piece(text, 1 if text else 0,
                        _FINISH.get(str(finish), "eos") if finish else None)

    def close(self) -> None:
        """Close this thread's connection."""
        self.client.close()


def _grammar_of(json_schema: str) -> str:
    """A GBNF grammar for ``json_schema`` (llama-cpp-python's converter)."""
    try:
        from llama_cpp.llama_grammar import json_schema_to_gbnf
    except ImportError as error:  # pragma: no cover - a broken install
        raise ModelError(f"cannot convert the JSON schema to a grammar: {error}") from error
    try:
        return json_schema_to_gbnf(json_schema)
    except (ValueError, KeyError, TypeError) as error:
        raise ModelError(f"cannot build a grammar from the JSON schema: {error}") from error


def _llamacpp_context(client: HttpClient) -> int | None:
    """The context per slot when the server is llama.cpp's (``GET /props``), else None."""
    try:
        props = client.get_json("/props")
    except EngineUnavailable:
        raise
    except ModelError:
        return None
    slot = props.get("default_generation_settings") if isinstance(props, dict) else None
    n_ctx = slot.get("n_ctx") if isinstance(slot, dict) else None
    return n_ctx if isinstance(n_ctx, int) and n_ctx > 0 else None
