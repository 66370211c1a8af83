"""Settings of the remote backends and FIM templates written as text."""

from __future__ import annotations

import pytest

from llama_lsp.config.settings import Settings, resolve_settings
from llama_lsp.model.fim import TEMPLATE_NAMES, parse_fim_template


def test_remote_settings_resolve_and_change_the_model_identity() -> None:
    settings, problems = resolve_settings({
        "backend": "llamacpp-server", "endpoint": "https://gpu:8080", "apiKeyEnv": "TEAM_KEY",
        "allowInsecureHttp": True, "requestTimeoutSeconds": 12, "fimTemplate": "qwen",
        "remoteModel": "coder"})
    assert not problems
    assert (settings.backend, settings.endpoint, settings.api_key_env) == (
        "llamacpp-server", "https://gpu:8080", "TEAM_KEY")
    assert settings.request_timeout_seconds == 12.0 and settings.allow_insecure_http
    assert settings.model_identity() != Settings().model_identity()
    assert Settings().backend == "embedded"


@pytest.mark.parametrize("raw, needle", [
    ({"backend": "vllm"}, "must be one of embedded, llamacpp-server, openai"),
    ({"apiKeyEnv": "sk-live-1234"}, "NAME of an environment variable"),
    ({"requestTimeoutSeconds": 0}, "must be a number between 0.1 and 3600"),
    ({"fimTemplate": "<PRE>{prefix}"}, "needs both {prefix} and {suffix}"),
])
def test_bad_remote_settings_are_reported_without_echoing_them(raw: dict[str, object],
                                                               needle: str) -> None:
    settings, problems = resolve_settings(raw)
    assert len(problems) == 1 and needle in problems[0]
    assert "sk-live-1234" not in problems[0]
    assert settings == Settings()


def test_fim_templates_by_name_or_text() -> None:
    assert parse_fim_template("Qwen") is TEMPLATE_NAMES["qwen"]
    custom = parse_fim_template("<PRE> {prefix} <SUF>{suffix} <MID>")
    assert (custom.prefix, custom.suffix, custom.middle) == ("<PRE> ", " <SUF>", " <MID>")
    with pytest.raises(ValueError, match="qwen, starcoder"):
        parse_fim_template("mystery")
