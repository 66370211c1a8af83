"""Settings from command-line flags."""

from __future__ import annotations

import argparse
import sys

from llama_lsp.config import network
from llama_lsp.config.settings import Settings, resolve_settings

_FLAG_TO_KEY = {
    "model": "model",
    "model_sha256": "modelSha256",
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
    settings, problems = resolve_settings(model_flags(args))
    for problem in problems:
        print(f"llama-lsp: {problem}", file=sys.stderr)
    return None if problems else settings


def add_network_option(parser: argparse.ArgumentParser) -> None:
    """``--no-network``: refuse every network use of this process (also
    ``LLAMA_LSP_NO_NETWORK=1``); ``main`` installs the guard."""
    parser.add_argument("--no-network", action="store_true",
                        help="refuse any network use (a Python audit hook); remote backends "
                             f"then refuse to start (also {network.NO_NETWORK_ENV}=1)")


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """The model and remote-server flags shared by the subcommands."""
    parser.add_argument("--model", help="a .gguf file (default: settings, then the demo model)")
    parser.add_argument("--model-sha256", metavar="HEX",
                        help="refuse a model file whose SHA-256 differs (the modelSha256 setting)")
    parser.add_argument("--context-size", type=int, help="context window in tokens")
    parser.add_argument("--threads", type=int, help="CPU threads")
    parser.add_argument("--gpu-layers", type=int, help="layers to offload to the GPU (-1: all)")
    parser.add_argument("--max-tokens", type=int, help="most tokens to generate")
    remote = parser.add_argument_group("remote inference server (instead of the embedded model)")
    remote.add_argument("--backend", choices=["embedded", "llamacpp-server", "openai"],
                        help="inference engine (default: embedded)")
    remote.add_argument("--endpoint", help="server URL, e.g. http://127.0.0.1:8080")
    remote.add_argument("--remote-model", help="openai backend: model name to request")
    remote.add_argument("--api-key-env", help="NAME of the environment variable with the key")
    remote.add_argument("--allow-insecure-http", action="store_true", default=None,
                        help="allow plain http:// to other machines")
    remote.add_argument("--fim-template", help="openai backend: auto, none, qwen, starcoder, "
                                               "deepseek, codellama or a template text")


def model_flags(args: argparse.Namespace) -> dict[str, object]:
    """Setting keys and values of the model flags that were given."""
    return {key: getattr(args, flag) for flag, key in _FLAG_TO_KEY.items()
            if getattr(args, flag, None) is not None}
