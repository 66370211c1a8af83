"""``llama-lsp complete`` and ``doctor`` with remote backends, run as real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from llamacpp_emulator import LlamaCppEmulator
from remote_servers import ServerProcess, free_port


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "llama_lsp", *args], capture_output=True,
                          text=True, timeout=120)


def test_complete_through_the_openai_backend(tmp_path: Path,
                                             openai_constant_server: ServerProcess) -> None:
    source = tmp_path / "app.py"
    source.write_text("def main():\n    value = \n")
    done = _run("complete", f"{source}:2:13", "--backend", "openai", "--endpoint",
                openai_constant_server.url + "/v1", "--context-size", "2048")
    assert done.returncode == 0, done.stderr
    assert set(done.stdout.strip()) == {"x"}


def test_doctor_describes_a_llamacpp_server(llamacpp_constant_emulator: LlamaCppEmulator) -> None:
    done = _run("doctor", "--backend", "llamacpp-server", "--endpoint",
                llamacpp_constant_emulator.url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "context                2048 tokens" in done.stdout
    assert "FIM                    yes" in done.stdout
    assert "parallel requests      yes (1 server slot(s))" in done.stdout
    assert "generation             4 tokens" in done.stdout


def test_doctor_and_complete_fail_clearly_when_the_server_is_down(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    doctor = _run("doctor", "--backend", "openai", "--endpoint", url)
    assert doctor.returncode == 2
    assert f"cannot reach the inference server at {url}" in doctor.stdout
    source = tmp_path / "a.py"
    source.write_text("x = \n")
    complete = _run("complete", f"{source}:1:5", "--backend", "llamacpp-server",
                    "--endpoint", url)
    assert complete.returncode == 2
    assert complete.stderr.strip().count("\n") == 0 and "cannot reach" in complete.stderr


def test_plain_http_to_another_machine_is_refused() -> None:
    done = _run("doctor", "--backend", "openai", "--endpoint", "http://192.0.2.10:8000")
    assert done.returncode == 2
    assert "allowInsecureHttp" in done.stdout


def test_review_runs_against_a_remote_server_named_on_the_command_line(
        tmp_path: Path, llamacpp_constant_emulator: LlamaCppEmulator) -> None:
    diff = tmp_path / "change.diff"
    diff.write_text("--- a/m.py\n+++ b/m.py\n@@ -1 +1,2 @@\n-x = 0\n+def f(xs):\n"
                    "+    return xs[len(xs)]\n")
    (tmp_path / "m.py").write_text("def f(xs):\n    return xs[len(xs)]\n")
    done = subprocess.run(
        [sys.executable, "-m", "llama_lsp", "review", "--diff", str(diff), "--format", "json",
         "--backend", "llamacpp-server", "--endpoint", llamacpp_constant_emulator.url,
         "--quiet"], capture_output=True, text=True, timeout=120, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["summary"]["units_reviewed"] == 1, report
