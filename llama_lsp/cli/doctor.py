"""``llama-lsp doctor``: what is installed, which model would load, and whether it works."""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

from llama_lsp import __version__
from llama_lsp.cli.options import settings_from_args
from llama_lsp.context.syntax.languages import available_languages
from llama_lsp.config.settings import Settings
from llama_lsp.model.backend import GenerationRequest, ModelError
from llama_lsp.model.embedded import EmbeddedBackend
from llama_lsp.model.host import load_backend
from llama_lsp.model.kv_states import MIB


from llama_lsp.model.pinning import cached_sha256, pin_mismatch_message
from llama_lsp.model.resolve import resolve_model_path


def _line(name: str, value: str) -> None:
    print(f"{name:<22} {value}")


def run_doctor(args: argparse.Namespace) -> int:
    """Print a report; exit 0 when a model loads, 2 otherwise."""
    settings = settings_from_args(args)
    if settings is None:
        return 2
    _line("llama-lsp", __version__)
    _line("python", f"{platform.python_version()} ({platform.machine()})")
    try:
        import llama_cpp

        gpu = "GPU offload available" if llama_cpp.llama_supports_gpu_offload() else "CPU only"
        _line("llama-cpp-python", f"{llama_cpp.__version__} ({gpu})")
    except ImportError as error:
        _line("llama-cpp-python", f"missing: {error}")
        return 2
    for language, state in available_languages().items():
        _line(f"grammar {language}", state)
    if settings.backend != "embedded":
        return _check_remote(settings)
    try:
        path = resolve_model_path(settings.model)
        _line("model file", str(path))
        if not _check_model_hash(path, settings.model_sha256):
            return 2
        started = time.perf_counter()
        backend = EmbeddedBackend.load(path, settings)
    except ModelError as error:
        _line("model", f"ERROR: {error}")
        return 2
    info = backend.info
    _line("model", f"{info.name}, loaded in {time.perf_counter() - started:.2f}s")
    _line("context", f"{info.context_size} tokens")
    _line("FIM", f"yes ({info.fim.source})" if info.fim else "no: prefix-only prompts")
    _line("GPU offload", "yes" if info.gpu_offload else "no")
    _line("CPU threads", backend.threads.describe())
    _line("vocabulary", info.vocabulary)
    _warm_start_memory(backend, settings)
    backend.close()
    return 0


def _warm_start_memory(backend: EmbeddedBackend, settings: Settings) -> None:
    """What keeping recently edited files warm costs with this model (warmStartMemoryMb)."""
    if not settings.warm_start_memory_mb:
        _line("warm start memory", "off (warmStartMemoryMb 0): returning to a file is cold")
        return
    per_token = backend.state_bytes_per_token()
    full = per_token * backend.info.context_size / MIB
    files = int(settings.warm_start_memory_mb // full) if full else 0
    _line("warm start memory", f"{per_token / 1024:.0f} KiB per prompt token, {full:.0f} MiB "
          f"per file at a full {backend.info.context_size}-token prompt; up to "
          f"{settings.warm_start_memory_mb} MiB kept (warmStartMemoryMb, "
          f"at least {files} files)")


def _check_model_hash(path: Path, pin: str | None) -> bool:
    """Print the model file's SHA-256 (read now, not cached) and whether it matches the pin."""
    if not path.is_file():
        return True  # loading reports the missing file
    try:
        digest, _ = cached_sha256(path, fresh=True)
    except ModelError as error:
        _line("model sha256", f"ERROR: {error}")
        return False
    if pin is None:
        _line("model sha256", f"{digest} (not pinned: set modelSha256 to refuse other files)")
        return True
    if digest != pin:
        _line("model sha256", f"ERROR: {pin_mismatch_message(path, digest, pin)}")
        return False
    _line("model sha256", f"{digest} (matches modelSha256)")
    return True


def _check_remote(settings: Settings) -> int:
    """Connect to the configured server, describe its model and time one tiny generation."""
    _line("backend", f"{settings.backend} at {settings.endpoint}")
    started = time.perf_counter()
    try:
        backend = load_backend(settings)
    except ModelError as error:
        _line("server", f"ERROR: {error}")
        return 2
    info = backend.info
    _line("model", f"{info.name}, connected in {time.perf_counter() - started:.2f}s")
    _line("context", f"{info.context_size} tokens")
    _line("FIM", f"yes ({info.fim.source})" if info.fim else "no: prefix-only prompts")
    _line("tokens", "exact (server tokenizer)" if info.exact_tokens
          else "estimated locally (the server cannot tokenize)")
    slots = f" ({info.parallel_slots} server slot(s))" if info.engine == "llamacpp-server" else ""
    _line("parallel requests", f"yes{slots}" if info.parallel_safe else "no")
    prompt = [*info.bos, *backend.tokenize("def hello():\n    return ")]
    started = time.perf_counter()
    try:
        result = backend.generate(GenerationRequest(prompt=prompt, max_tokens=4), lambda: False)
    except ModelError as error:
        _line("generation", f"ERROR: {error}")
        return 2
    finally:
        backend.close()
    _line("generation", f"{result.n_generated} tokens in "
                        f"{(time.perf_counter() - started) * 1000:.0f} ms: {result.text!r}")
    return 0
