"""Shared fixtures: tiny GGUF models written at test time (no downloads, ever)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_models import TinyModelInfo, write_corrupt_model, write_tiny_model


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for this run's generated models."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def tiny_fim_model(model_dir: Path) -> TinyModelInfo:
    """Random weights, a byte-level vocabulary with FIM control tokens."""
    return write_tiny_model(model_dir / "tiny-fim.gguf", fim=True)


@pytest.fixture(scope="session")
def tiny_fim_end_model(model_dir: Path) -> TinyModelInfo:
    """As ``tiny_fim_model``, and its metadata names the end-of-middle token."""
    return write_tiny_model(model_dir / "tiny-fim-end.gguf", fim=True, end_of_middle=True)


@pytest.fixture(scope="session")
def tiny_plain_model(model_dir: Path) -> TinyModelInfo:
    """Random weights and no FIM tokens: prompts are prefix-only."""
    return write_tiny_model(model_dir / "tiny-plain.gguf", fim=False)


@pytest.fixture(scope="session")
def constant_model(model_dir: Path) -> TinyModelInfo:
    """A FIM model whose greedy output is 'x' forever: known, non-empty completions."""
    return write_tiny_model(model_dir / "tiny-constant.gguf", fim=True, constant_output="x")


@pytest.fixture(scope="session")
def constant_plain_model(model_dir: Path) -> TinyModelInfo:
    """Like ``constant_model`` ('x' forever), without FIM tokens: prompts are prefix-only."""
    return write_tiny_model(model_dir / "tiny-constant-plain.gguf", fim=False,
                            constant_output="x")


@pytest.fixture(scope="session")
def corrupt_model(model_dir: Path) -> Path:
    """A file that starts like a GGUF but is truncated."""
    return write_corrupt_model(model_dir / "corrupt.gguf")


# --- remote inference servers (issue 7) -------------------------------------------------------

from collections.abc import Iterator  # noqa: E402

from llamacpp_emulator import LlamaCppEmulator  # noqa: E402
from remote_servers import ServerProcess, llama_server, llama_server_binary, openai_server  # noqa: E402,E501


@pytest.fixture(scope="session")
def openai_constant_server(constant_model: TinyModelInfo, model_dir: Path
                           ) -> Iterator[ServerProcess]:
    """llama-cpp-python's OpenAI-compatible server with the constant model."""
    server = openai_server(constant_model.path, model_dir / "openai-server.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def llamacpp_constant_emulator(constant_model: TinyModelInfo) -> Iterator[LlamaCppEmulator]:
    """The llama.cpp server protocol over the constant model."""
    emulator = LlamaCppEmulator(constant_model.path).start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def llama_server_constant(constant_model: TinyModelInfo, model_dir: Path
                          ) -> Iterator[ServerProcess]:
    """llama.cpp's real ``llama-server`` with the constant model (skipped when not installed)."""
    binary = llama_server_binary()
    if binary is None:
        pytest.skip("no llama-server binary (set LLAMA_SERVER_BIN or put it on PATH)")
    server = llama_server(binary, constant_model.path, model_dir / "llama-server.log").start()
    yield server
    server.stop()
