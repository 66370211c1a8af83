"""Real inference servers for tests: llama-cpp-python's OpenAI-compatible server in a child
process, llama.cpp's ``llama-server`` when a binary is installed, and the llama.cpp protocol
emulator. All listen on loopback ports; nothing is downloaded."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

LLAMA_SERVER_ENV = "LLAMA_SERVER_BIN"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def llama_server_binary() -> str | None:
    """llama.cpp's ``llama-server``: ``$LLAMA_SERVER_BIN`` or on ``PATH``."""
    configured = os.environ.get(LLAMA_SERVER_ENV)
    if configured and Path(configured).is_file():
        return configured
    return shutil.which("llama-server")


class ServerProcess:
    """A server in a child process, its output in a log file; restartable on the same port."""

    def __init__(self, command: list[str], port: int, ready_path: str, log: Path) -> None:
        self.command = command
        self.port = port
        self.ready_path = ready_path
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> ServerProcess:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(self.command, stdout=handle, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        handle.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited ({self.process.returncode}): "
                                   f"{self.log.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(self.url + self.ready_path, timeout=2) as answer:
                    if answer.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not become ready: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.process = None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def openai_server(model: Path, log: Path, port: int | None = None, n_ctx: int = 2048,
                  api_key: str | None = None) -> ServerProcess:
    """llama-cpp-python's OpenAI-compatible server for ``model`` (not started yet)."""
    port = port or free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx),
               "--n_threads", "1", "--verbose", "False",
               # Serve concurrent requests one after the other instead of cutting one short.
               "--interrupt_requests", "False",
               # Logits for every prompt token (its default) only slow prompts down.
               "--logits_all", "False"]
    if api_key:
        command += ["--api_key", api_key]
    # /v1/models needs the key when one is set; the OpenAPI page never does.
    return ServerProcess(command, port, "/openapi.json", log)


def llama_server(binary: str, model: Path, log: Path, n_ctx: int = 2048) -> ServerProcess:
    """llama.cpp's ``llama-server`` for ``model`` (not started yet)."""
    port = free_port()
    command = [binary, "--model", str(model), "--host", "127.0.0.1", "--port", str(port),
               "--ctx-size", str(n_ctx), "--threads", "1", "--parallel", "1",
               "--no-webui"]
    return ServerProcess(command, port, "/health", log)


def post_json(url: str, body: object) -> object:
    """A plain POST, for checks in tests."""
    request = urllib.request.Request(url, json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())
