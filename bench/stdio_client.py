"""A raw LSP client over a server process's stdin/stdout, for field-condition benchmarks and
tests: it frames JSON-RPC itself (no client library), answers the server's requests, and
counts every reply, so a lost or doubled reply shows.

    client = await StdioClient.start([sys.executable, "-m", "llama_lsp", "serve"])
    await client.initialize(root_uri)
    reply = await client.request("textDocument/inlineCompletion", params)
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Handler = Callable[[dict[str, Any]], None]


@dataclass
class Reply:
    """One reply: its result or error, and when it came (``time.monotonic``)."""

    result: Any
    error: dict[str, Any] | None
    at: float


@dataclass
class StdioClient:
    """One server process and the bookkeeping of every message exchanged with it."""

    process: asyncio.subprocess.Process
    started: float
    """``time.monotonic()`` just before the process was spawned."""
    handlers: dict[str, Handler] = field(default_factory=dict)
    """Notification handlers by method."""
    sent: dict[int, tuple[str, float]] = field(default_factory=dict)
    """Request id -> (method, time sent)."""
    replies: Counter[int] = field(default_factory=Counter)
    """Request id -> replies received (exactly 1 each when all is well)."""
    _waiting: dict[int, asyncio.Future[Reply]] = field(default_factory=dict)
    _next_id: int = 1
    _reader: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, command: list[str], env: dict[str, str] | None = None,
                    stderr: Path | None = None) -> StdioClient:
        """Spawn ``command`` and start reading its stdout (stderr to ``stderr`` or dropped)."""
        started = time.monotonic()
        sink = stderr.open("wb") if stderr else asyncio.subprocess.DEVNULL
        process = await asyncio.create_subprocess_exec(
            *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=sink, env={**os.environ, **(env or {})}, limit=2**24)
        client = cls(process, started)
        client._reader = asyncio.create_task(client._read())
        return client

    def request(self, method: str, params: Any) -> tuple[int, asyncio.Future[Reply]]:
        """Send a request; return its id and a future for its reply."""
        number = self._next_id
        self._next_id += 1
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._waiting[number] = future
        self.sent[number] = (method, time.monotonic())
        self._write({"jsonrpc": "2.0", "id": number, "method": method, "params": params})
        return number, future

    def notify(self, method: str, params: Any) -> None:
        self._write({"jsonrpc": "2.0", "method": method, "params": params})

    def cancel(self, number: int) -> None:
        """``$/cancelRequest`` for a request still waiting (the server must still reply)."""
        if number in self._waiting:
            self.notify("$/cancelRequest", {"id": number})

    async def initialize(self, root: Path, options: dict[str, Any] | None = None) -> Any:
        """``initialize`` (UTF-16, no configuration pull, no progress) then ``initialized``."""
        _, reply = self.request("initialize", {
            "processId": os.getpid(), "rootUri": root.as_uri(),
            "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
            "capabilities": {"general": {"positionEncodings": ["utf-16"]},
                             "textDocument": {"inlineCompletion": {}}},
            "initializationOptions": options or {}})
        result = (await reply).result
        self.notify("initialized", {})
        return result

    def unanswered(self) -> list[int]:
        """Ids of requests with no reply yet."""
        return [number for number in self.sent if not self.replies[number]]

    def doubled(self) -> list[int]:
        """Ids of requests answered more than once."""
        return [number for number, count in self.replies.items() if count > 1]

    async def close(self, timeout: float = 10.0) -> int | None:
        """``shutdown`` and ``exit``; the exit code (None if it had to be killed)."""
        try:
            _, reply = self.request("shutdown", None)
            await asyncio.wait_for(reply, timeout)
            self.notify("exit", None)
            return await asyncio.wait_for(self.process.wait(), timeout)
        except (asyncio.TimeoutError, ConnectionError):
            self.process.kill()
            await self.process.wait()
            return None
        finally:
            if self._reader is not None:
                self._reader.cancel()

    def _write(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode("utf-8")
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def _read(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while True:
            length = None
            while True:
                line = await stdout.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if length is None:
                continue
            self._dispatch(json.loads(await stdout.readexactly(length)))

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "method" in message and "id" in message:  # a request from the server
            method = message["method"]
            result: Any = None
            if method == "workspace/configuration":
                result = [{} for _ in message["params"]["items"]]
            self._write({"jsonrpc": "2.0", "id": message["id"], "result": result})
        elif "method" in message:
            handler = self.handlers.get(message["method"])
            if handler is not None:
                handler(message.get("params") or {})
        else:
            number = message.get("id")
            self.replies[number] += 1
            future = self._waiting.pop(number, None)
            if future is not None and not future.done():
                future.set_result(Reply(message.get("result"), message.get("error"),
                                        time.monotonic()))
