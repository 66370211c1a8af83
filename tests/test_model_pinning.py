"""Model pinning (modelSha256): a model file with another hash is refused, everywhere, clearly."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsp_helpers import initialize_params, inline_at, open_document, wait_for_model
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient
from tiny_models import TinyModelInfo

from llama_lsp.config.settings import resolve_settings
from llama_lsp.model import pinning
from llama_lsp.model.backend import ModelError

WRONG = "0" * 64
URI = "file:///workspace/app.py"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache folder for the hash cache."""
    home = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


@pytest.fixture
def model_copy(tmp_path: Path, constant_model: TinyModelInfo) -> Path:
    """A model file this test may touch and rewrite."""
    return Path(shutil.copy2(constant_model.path, tmp_path / "pinned.gguf"))


def test_setting_accepts_hex_in_any_case_and_a_prefix() -> None:
    digest = "AB" * 32
    settings, problems = resolve_settings({"modelSha256": f"sha256:{digest}"})
    assert problems == [] and settings.model_sha256 == digest.lower()
    assert resolve_settings({"modelSha256": ""})[0].model_sha256 is None


@pytest.mark.parametrize("value", ["abc", "g" * 64, 12, "0" * 63])
def test_setting_rejects_what_is_not_a_sha256(value: object) -> None:
    settings, problems = resolve_settings({"modelSha256": value})
    assert settings.model_sha256 is None
    assert len(problems) == 1 and "64 hex digits" in problems[0]


def test_a_changed_pin_reloads_the_model() -> None:
    before, _ = resolve_settings({"model": "/m.gguf"})
    after, _ = resolve_settings({"model": "/m.gguf", "modelSha256": WRONG})
    assert before.model_identity() != after.model_identity()


def test_mismatch_names_the_file_and_both_hashes(model_copy: Path, cache_home: Path) -> None:
    with pytest.raises(ModelError) as caught:
        pinning.verify_model_sha256(model_copy, WRONG)
    message = str(caught.value)
    assert str(model_copy) in message and WRONG in message and _sha256(model_copy) in message
    assert pinning.verify_model_sha256(model_copy, _sha256(model_copy).upper()) == \
        _sha256(model_copy)
    assert pinning.verify_model_sha256(model_copy, None) is None


def test_hash_is_computed_once_per_file_version(model_copy: Path, cache_home: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[Path] = []
    real = pinning.file_sha256

    def counting(path: Path) -> str:
        reads.append(path)
        return real(path)

    monkeypatch.setattr(pinning, "file_sha256", counting)
    expected = _sha256(model_copy)
    assert pinning.cached_sha256(model_copy) == (expected, False)
    for _ in range(2):
        assert pinning.cached_sha256(model_copy) == (expected, True)
    assert len(reads) == 1
    assert (cache_home / "llama-lsp" / pinning.CACHE_FILE_NAME).is_file()
    # Same bytes, new modification time: computed again (the cache trusts no changed file).
    stat = model_copy.stat()
    os.utime(model_copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert pinning.cached_sha256(model_copy) == (expected, False)
    assert len(reads) == 2
    # Different bytes, then the old modification time put back: the change time still differs.
    with model_copy.open("r+b") as handle:
        handle.seek(-1, os.SEEK_END)
        last = handle.read(1)
        handle.seek(-1, os.SEEK_END)
        handle.write(bytes([last[0] ^ 1]))
    os.utime(model_copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert pinning.cached_sha256(model_copy)[0] != expected
    assert pinning.cached_sha256(model_copy, fresh=True)[1] is False
    assert len(reads) == 4


def test_an_unwritable_cache_only_costs_time(model_copy: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert pinning.verify_model_sha256(model_copy, _sha256(model_copy)) == _sha256(model_copy)


def _cli(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "llama_lsp", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "XDG_CACHE_HOME": str(cache)})


def test_doctor_prints_the_hash_and_refuses_a_wrong_pin(model_copy: Path, tmp_path: Path) -> None:
    digest = _sha256(model_copy)
    done = _cli("doctor", "--model", str(model_copy), cache=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"model sha256           {digest} (not pinned" in done.stdout
    done = _cli("doctor", "--model", str(model_copy), "--model-sha256", digest, cache=tmp_path)
    assert done.returncode == 0 and f"{digest} (matches modelSha256)" in done.stdout
    done = _cli("doctor", "--model", str(model_copy), "--model-sha256", WRONG, cache=tmp_path)
    assert done.returncode == 2
    error = next(line for line in done.stdout.splitlines() if line.startswith("model sha256"))
    assert "ERROR" in error and str(model_copy) in error and digest in error and WRONG in error
    assert "loaded in" not in done.stdout  # refused before loading


def test_complete_refuses_a_wrong_pin(model_copy: Path, tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("x = \n")
    done = _cli("complete", f"{source}:1:5", "--model", str(model_copy), "--model-sha256", WRONG,
                cache=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert WRONG in done.stderr and _sha256(model_copy) in done.stderr
    done = _cli("complete", f"{source}:1:5", "--quick", "--model", str(model_copy),
                "--model-sha256", _sha256(model_copy), cache=tmp_path)
    assert done.returncode == 0, done.stderr


@pytest_lsp.fixture(config=ClientServerConfig(
    server_command=[sys.executable, "-m", "llama_lsp", "serve"],
    server_env={**os.environ, "XDG_CACHE_HOME": os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                                             "llama-lsp-pinning-test-cache")}))
async def client(lsp_client: LanguageClient):
    """A server started with its own hash cache."""
    yield
    await lsp_client.shutdown_session()


async def test_server_reports_a_wrong_pin_once_and_keeps_answering(
    client: LanguageClient, constant_model: TinyModelInfo
) -> None:
    await client.initialize_session(initialize_params(
        "visual-studio-code", {"model": str(constant_model.path), "modelSha256": WRONG}))
    message = await wait_for_model(client)
    assert "modelSha256" in message and str(constant_model.path) in message
    assert WRONG in message and _sha256(constant_model.path) in message
    open_document(client, URI, "x = \n")
    for _ in range(3):
        assert not (await inline_at(client, URI, 0, 4)).items
    errors = [m for m in client.messages if m.type == types.MessageType.Error]
    assert len(errors) == 1
