"""The command line: complete, doctor and serve --tcp, run as real processes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tiny_models import TinyModelInfo

CLI = [sys.executable, "-m", "llama_lsp"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)


def test_complete_prints_the_completion(tmp_path: Path, constant_model: TinyModelInfo) -> None:
    source = tmp_path / "m.py"
    source.write_text("def f():\n    return \n")
    done = _run("complete", f"{source}:2:12", "--model", str(constant_model.path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() and set(done.stdout.strip()) == {"x"}


def test_complete_show_prompt_shows_fim_layout(tmp_path: Path,
                                                constant_model: TinyModelInfo) -> None:
    source = tmp_path / "m.py"
    source.write_text("a = 1\nb = \nc = 3\n")
    done = _run("complete", f"{source}:2:5", "--model", str(constant_model.path), "--show-prompt")
    assert done.returncode == 0, done.stderr
    assert "<fim_prefix>a = 1\nb =<fim_suffix>\nc = 3\n<fim_middle>" in done.stdout
    assert "prefix" in done.stdout and "suffix" in done.stdout


def test_complete_errors_are_one_line_and_exit_2(tmp_path: Path,
                                                 constant_model: TinyModelInfo) -> None:
    source = tmp_path / "m.py"
    source.write_text("x = 1\n")
    cases = [
        (f"{tmp_path / 'absent.py'}:1:1", ["--model", str(constant_model.path)], "No such file"),
        (f"{source}:9:1", ["--model", str(constant_model.path)], "past the end"),
        (f"{source}:x:1", ["--model", str(constant_model.path)], "FILE:LINE:COL"),
        (f"{source}:1:1", ["--model", str(tmp_path / "none.gguf")], "does not exist"),
    ]
    for location, extra, message in cases:
        done = _run("complete", location, *extra)
        assert done.returncode == 2
        assert message in done.stderr and "Traceback" not in done.stderr


def test_doctor_reports_model_and_fim(constant_model: TinyModelInfo) -> None:
    done = _run("doctor", "--model", str(constant_model.path))
    assert done.returncode == 0, done.stderr
    assert "FIM                    yes (metadata)" in done.stdout
    assert "grammar python         ok" in done.stdout
    memory = next(line for line in done.stdout.splitlines()
                  if line.startswith("warm start memory"))
    assert "KiB per prompt token" in memory and "up to 256 MiB kept" in memory


def test_doctor_says_how_many_cpu_threads_and_why(constant_model: TinyModelInfo) -> None:
    pinned = _run("doctor", "--model", str(constant_model.path), "--threads", "3")
    assert "CPU threads            3 (the threads setting)" in pinned.stdout
    adaptive = _run("doctor", "--model", str(constant_model.path))
    line = next(line for line in adaptive.stdout.splitlines() if line.startswith("CPU threads"))
    assert "other programs leave free" in line or "all but one" in line


def test_doctor_fails_cleanly_on_a_corrupt_model(corrupt_model: Path) -> None:
    done = _run("doctor", "--model", str(corrupt_model))
    assert done.returncode == 2 and "ERROR" in done.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_tcp_answers_initialize_on_loopback(constant_model: TinyModelInfo) -> None:
    port = _free_port()
    server = subprocess.Popen([*CLI, "serve", "--tcp", "--port", str(port)],
                              stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                connection = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline, "server did not listen"
                time.sleep(0.1)
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                           "params": {"capabilities": {}, "processId": None,
                                      "initializationOptions": {
                                          "model": str(constant_model.path)}}}).encode()
        connection.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        data = b""
        while b"inlineCompletionProvider" not in data:
            chunk = connection.recv(65536)
            assert chunk, "connection closed"
            data += chunk
        connection.close()
    finally:
        server.kill()
        server.wait(10)


@pytest.mark.demo_model
def test_complete_and_doctor_print_only_their_own_output(tmp_path: Path) -> None:
    # Gemma 3 has a sliding-window cache: llama.cpp logs about it while loading.
    source = tmp_path / "m.py"
    source.write_text("import json\n\n\ndef load(path):\n    with open(path) as f:\n        return ")
    for done in (_run("doctor"), _run("complete", f"{source}:6:16")):
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() and done.stderr == ""
