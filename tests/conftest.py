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
def tiny_plain_model(model_dir: Path) -> TinyModelInfo:
    """Random weights and no FIM tokens: prompts are prefix-only."""
    return write_tiny_model(model_dir / "tiny-plain.gguf", fim=False)


@pytest.fixture(scope="session")
def constant_model(model_dir: Path) -> TinyModelInfo:
    """A FIM model whose greedy output is 'x' forever: known, non-empty completions."""
    return write_tiny_model(model_dir / "tiny-constant.gguf", fim=True, constant_output="x")


@pytest.fixture(scope="session")
def corrupt_model(model_dir: Path) -> Path:
    """A file that starts like a GGUF but is truncated."""
    return write_corrupt_model(model_dir / "corrupt.gguf")
