"""A raw LSP client over a real process's stdio: sends any bytes, counts every reply.

Unlike pytest-lsp's client it can send malformed frames and params, and it records every
message the server writes, so tests can check that each request got exactly one reply.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

SERVE = [sys.executable, "-m", "llama_lsp", "serve"]


def frame(message: Any) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


class RawServer:
    """``llama-lsp serve`` on stdio, driven byte by byte."""

    def __init__(self, *args: str, cwd: Path | None = None) -> None:
        self.stderr_file = tempfile.TemporaryFile()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen([*SERVE, *args], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=self.stderr_file,
                                        cwd=cwd, env=env)
        self.messages: list[dict[str, Any]] = []
        self.garbage: list[bytes] = []
        self._condition = threading.Condition()
        self._next_id = 0
        self.sent_ids: list[int | str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    # -- reading ---------------------------------------------------------------------------

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            header = b""
            while not header.endswith(b"\r\n\r\n"):
                byte = stream.read(1)
                if not byte:
                    return
                header += byte
            lines = header.decode("ascii", "replace").split("\r\n")
            lengths = [int(line.split(":", 1)[1]) for line in lines
                       if line.lower().startswith("content-length:")]
            if len(lengths) != 1:
                self.garbage.append(header)
                continue
            body = stream.read(lengths[0])
            try:
                message = json.loads(body)
            except ValueError:
                self.garbage.append(body)
                continue
            with self._condition:
                self.messages.append(message)
                self._condition.notify_all()

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``predicate()`` holds (checked whenever a message arrives)."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not predicate()):
                    return predicate()
                self._condition.wait(min(left, 0.2))
        return True

    def replies(self, msg_id: int | str | None) -> list[dict[str, Any]]:
        with self._condition:
            return [m for m in self.messages if "method" not in m and m.get("id") == msg_id]

    def reply_counts(self) -> Counter[Any]:
        with self._condition:
            return Counter(m.get("id") for m in self.messages if "method" not in m)

    def reply(self, msg_id: int | str, timeout: float = 30) -> dict[str, Any]:
        """The one reply to ``msg_id`` (fails if none arrives in time)."""
        assert self.wait_for(lambda: bool(self.replies(msg_id)), timeout), \
            f"no reply to {msg_id}; stderr: {self.stderr()[-2000:]}"
        found = self.replies(msg_id)
        return found[0]

    def notifications(self, method: str) -> list[dict[str, Any]]:
        with self._condition:
            return [m for m in self.messages if m.get("method") == method and "id" not in m]

    def unanswered(self, timeout: float) -> list[int | str]:
        """Ids sent by :meth:`request` that have no reply after ``timeout`` seconds."""
        self.wait_for(lambda: all(self.replies(i) for i in self.sent_ids), timeout)
        return [i for i in self.sent_ids if not self.replies(i)]

    def stderr(self) -> str:
        self.stderr_file.seek(0)
        return self.stderr_file.read().decode("utf-8", "replace")

    # -- writing ---------------------------------------------------------------------------

    def send_bytes(self, data: bytes) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(data)
        stdin.flush()

    def send(self, message: Any) -> None:
        self.send_bytes(frame(message))

    def new_id(self) -> int:
        self._next_id += 1
        self.sent_ids.append(self._next_id)
        return self._next_id

    def request(self, method: str, params: Any = None) -> int:
        msg_id = self.new_id()
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return msg_id

    def notify(self, method: str, params: Any = None) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    def initialize(self, options: dict[str, Any], root: str = "file:///workspace",
                   position_encodings: list[str] | None = None) -> dict[str, Any]:
        capabilities: dict[str, Any] = {}
        if position_encodings:
            capabilities["general"] = {"positionEncodings": position_encodings}
        reply = self.reply(self.request("initialize", {
            "processId": None, "rootUri": root, "capabilities": capabilities,
            "initializationOptions": options}))
        self.notify("initialized", {})
        return reply

    def open(self, uri: str, text: str, language: str = "python") -> None:
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": language, "version": 1, "text": text}})

    def close(self, timeout: float = 20) -> int:
        """shutdown + exit if still running; the exit code."""
        if self.process.poll() is None:
            try:
                msg_id = self.request("shutdown")
                self.wait_for(lambda: bool(self.replies(msg_id)), timeout)
                self.notify("exit")
                self.process.stdin.close()  # type: ignore[union-attr]
            except (BrokenPipeError, OSError):
                pass
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(10)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
