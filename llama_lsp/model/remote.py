"""What the remote backends share: settings to client, and following a generation stream."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from llama_lsp.config.settings import Settings
from llama_lsp.model.backend import (
    EngineUnavailable,
    GenerationRequest,
    GenerationResult,
    ModelError,
    StopReason,
    cut_at_stop,
)
from llama_lsp.model.http_client import EventStream, HttpClient, parse_endpoint
from llama_lsp.model.sse import ServerEvent

# Sampling shared with the embedded engine, so the same model gives the same text.
SAMPLING = {"top_k": 40, "top_p": 0.95, "min_p": 0.05, "repeat_penalty": 1.0}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def api_key_headers(settings: Settings) -> dict[str, str]:
    """``Authorization`` from the environment variable named by ``apiKeyEnv`` (if any)."""
    name = settings.api_key_env
    if not name:
        return {}
    if not _ENV_NAME.fullmatch(name):
        raise ModelError("'apiKeyEnv' must name an environment variable, not hold the key")
    key = os.environ.get(name)
    if not key:
        raise ModelError(f"the environment variable {name} (named by 'apiKeyEnv') is not set "
                         "in the environment of llama-lsp")
    return {"Authorization": f"Bearer {key}"}


def client_for(settings: Settings, strip_suffix: str = "") -> HttpClient:
    """An HTTP client for ``settings.endpoint`` under the transport policy."""
    endpoint = parse_endpoint(settings.endpoint, settings.allow_insecure_http)
    if strip_suffix and endpoint.base_path.endswith(strip_suffix):
        endpoint = type(endpoint)(endpoint.scheme, endpoint.host, endpoint.port,
                                  endpoint.base_path[: -len(strip_suffix)])
    return HttpClient(endpoint, api_key_headers(settings),
                      read_timeout=settings.request_timeout_seconds)


@dataclass(frozen=True)
class Piece:
    """One streamed event: new text, how many tokens it holds, and the engine's stop reason."""

    text: str
    tokens: int = 1
    finished: StopReason | None = None


def follow_stream(pieces: Iterable[Piece], request: GenerationRequest,
                  is_cancelled: Callable[[], bool]) -> tuple[str, int, StopReason]:
    """Text, generated token count and stop reason, stopping as the embedded engine does:
    at a stop string, the ``should_stop`` rule or cancellation. The server enforces
    ``max_tokens``. A backend marks the stream finished (``EventStream.finish``) when it
    sees the server's final event, so closing it keeps the connection for the next request;
    stopping earlier closes the connection, which stops the server's generation."""
    text = ""
    generated = 0
    for piece in pieces:
        text += piece.text
        generated += piece.tokens
        if request.stop:
            text, stopped = cut_at_stop(text, request.stop)
            if stopped:
                return text, generated, "stop"
        if piece.finished is not None:
            return text, generated, piece.finished
        if request.should_stop is not None and piece.text and request.should_stop(text):
            return text, generated, "stop"
        if generated > request.max_tokens:  # the server enforces the limit; this is a guard
            return text, generated, "length"
        if is_cancelled():
            return text, generated, "cancelled"
    if is_cancelled():
        return text, generated, "cancelled"
    raise ModelError(
        "the server ended the response before the generation finished (llama-cpp-python's "
        "server does this to a request when another one arrives: start it with "
        "--interrupt_requests False)"
    )


def event_json(event: ServerEvent, engine: str) -> Any:  # noqa: ANN401 - JSON of any shape
    """The JSON payload of a streamed event; ``ModelError`` for an error event or bad JSON."""
    try:
        data = json.loads(event.data)
    except ValueError as error:
        raise ModelError(f"the server streamed something that is not JSON: "
                         f"{event.data[:80]!r}") from error
    error = data.get("error") if isinstance(data, dict) else None
    if event.event == "error" or error:
        message = error.get("message") if isinstance(error, dict) else error
        raise ModelError(f"{engine} failed: {message or event.data[:200]}")
    return data


def schema_of(request: GenerationRequest) -> Any:  # noqa: ANN401 - JSON of any shape
    """The request's JSON schema as data (None without one); ``ModelError`` when not JSON."""
    if request.json_schema is None:
        return None
    try:
        return json.loads(request.json_schema)
    except ValueError as error:
        raise ModelError(f"the JSON schema is not valid JSON: {error}") from error


def cancelled(request: GenerationRequest, started: float | None = None) -> GenerationResult:
    """The result of a generation cancelled before any text came."""
    wall_ms = 0.0 if started is None else (time.perf_counter() - started) * 1000
    return GenerationResult("", 0, len(request.prompt), 0, "cancelled", wall_ms, 0.0)


def open_stream(client: HttpClient, path: str, body: dict[str, Any],
                is_cancelled: Callable[[], bool]) -> EventStream | None:
    """POST ``body`` and stream the answer; None when cancelled while connecting."""
    try:
        return client.stream(path, body, is_cancelled)
    except EngineUnavailable:
        if is_cancelled():
            return None
        raise
