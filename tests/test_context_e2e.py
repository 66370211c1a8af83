"""Cross-file context end to end: `llama-lsp complete --show-prompt` and the stdio server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsp_helpers import SERVER, inline_at, open_document, wait_for_model
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities
from tiny_models import TinyModelInfo

CLI = [sys.executable, "-m", "llama_lsp"]
# The CLI runs outside the checkout (cwd is the workspace): import this checkout's package.
CHECKOUT_ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
# One thread and few tokens keep generation fast on a busy machine.
FAST = ["--threads", "1", "--max-tokens", "8", "--context-size", "512"]
FAST_OPTIONS = {"threads": 1, "maxTokens": 8, "contextSize": 512}

LIB = '''\
def compute_total(items, tax_rate):
    """Sum the items and add tax."""
    return sum(items) * (1 + tax_rate)
'''
# The cursor is at the end of the last line (no trailing line break), 1-based 4:9.
MAIN = "from lib import compute_total\n\nsubtotal = compute_total([1, 2], 0.2)\nresult = "
SECRET = "API_TOKEN=do-not-send-7f3a\nOTHER="


def _workspace(root: Path) -> Path:
    (root / ".git").mkdir(parents=True)
    (root / "lib.py").write_text(LIB)
    (root / "app.py").write_text(MAIN)
    (root / ".env").write_text(SECRET)
    return root


def test_show_prompt_contains_the_imported_definition(tmp_path: Path,
                                                      constant_model: TinyModelInfo) -> None:
    root = _workspace(tmp_path / "ws")
    done = subprocess.run(
        [*CLI, "complete", f"{root / 'app.py'}:4:10", "--show-prompt",
         "--model", str(constant_model.path), *FAST],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=CHECKOUT_ENV,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "--- context: definition from imported file lib.py:1 (" in out
    # Repo-level layout: the other file, then this file's path, then the FIM prompt.
    assert (f"<|file_sep|>lib.py\n{LIB}<|file_sep|>app.py\n<fim_prefix>"
            "from lib import compute_total") in out
    assert "context" in out.splitlines()[0]
    completion = out.rstrip().splitlines()[-1]
    assert completion and set(completion) == {"x"}  # the constant model's answer


def test_show_prompt_leaves_out_gitignored_imports(tmp_path: Path,
                                                   constant_model: TinyModelInfo) -> None:
    root = _workspace(tmp_path / "ws")
    (root / ".gitignore").write_text("lib.py\n")
    done = subprocess.run(
        [*CLI, "complete", f"{root / 'app.py'}:4:10", "--show-prompt",
         "--model", str(constant_model.path), *FAST],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "--- context:" not in done.stdout and "def compute_total" not in done.stdout


def test_complete_refuses_a_secret_file(tmp_path: Path, constant_model: TinyModelInfo) -> None:
    root = _workspace(tmp_path / "ws")
    done = subprocess.run(
        [*CLI, "complete", f"{root / '.env'}:2:7", "--model", str(constant_model.path), *FAST],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1
    assert "secret-bearing file" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return _workspace(tmp_path / "ws")


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, workspace: Path, constant_model: TinyModelInfo):
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            initialization_options={"model": str(constant_model.path), **FAST_OPTIONS},
            root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="ws")],
        )
    )
    await wait_for_model(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def test_server_answers_with_cross_file_context(client: LanguageClient,
                                                      workspace: Path) -> None:
    lib_uri = (workspace / "lib.py").as_uri()
    app_uri = (workspace / "app.py").as_uri()
    open_document(client, lib_uri, LIB)
    open_document(client, app_uri, MAIN)
    # Twice: the first request may find imported files still being indexed in the background.
    for _ in range(2):
        result = await inline_at(client, app_uri, 3, 9)
        assert len(result.items) == 1
        assert set(result.items[0].insert_text) == {"x"}
        assert result.items[0].range == types.Range(start=types.Position(3, 9),
                                                    end=types.Position(3, 9))
    assert not [m for m in client.messages if m.type == types.MessageType.Error]
    assert not [m for m in client.log_messages if m.type == types.MessageType.Error]


async def test_secret_file_gets_no_completions(client: LanguageClient, workspace: Path) -> None:
    env_uri = (workspace / ".env").as_uri()
    open_document(client, env_uri, SECRET, language="dotenv")
    result = await inline_at(client, env_uri, 1, 6)
    assert not result.items
    # The server is fine afterwards.
    app_uri = (workspace / "app.py").as_uri()
    open_document(client, app_uri, MAIN)
    assert (await inline_at(client, app_uri, 3, 9)).items
