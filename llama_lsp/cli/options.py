"""Settings from command-line flags."""

from __future__ import annotations

import argparse
import sys

from llama_lsp.config.settings import Settings, resolve_settings

_FLAG_TO_KEY = {
    "model": "model",
    "context_size": "contextSize",
    "threads": "threads",
    "gpu_layers": "gpuLayers",
    "max_tokens": "maxTokens",
    "backend": "backend",
    "endpoint": "endpoint",
    "remote_model": "remoteModel",
    "api_key_env": "apiKeyEnv",
    "allow_insecure_http": "allowInsecureHttp",
    "fim_template": "fimTemplate",
}


def settings_from_args(args: argparse.Namespace) -> Settings | None:
    """Settings with the given flags applied; None (after printing why) when a flag is invalid."""
    raw = {key: getattr(args, flag) for flag, key in _FLAG_TO_KEY.items()
           if getattr(args, flag, None) is not None}
    settings, problems = resolve_settings(raw)
    for problem in problems:
        print(f"llama-lsp: {problem}", file=sys.stderr)
    return None if problems else settings
