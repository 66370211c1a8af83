"""Does a big or odd document stall the server? Time to answer on another document.

Starts ``llama-lsp serve`` on stdio (a tiny random-weight model unless ``--model``), opens a
small Python file, then for each case opens one big or odd document and at once asks, on the
small file, for code actions (answered on the protocol thread) and an inline completion
(answered on the model thread); then asks the same on the big document. Prints, per case, the
seconds until each reply (or "no reply" after ``--timeout``).

Cases: 4,000 top-level Python constants, 4,000 JavaScript consts, 100,000 Python lines,
binary bytes (decoded as an editor would show them) and a NUL-filled document. First, in this
process, the outline of 1,000 to 16,000 top-level constants (it should grow linearly).

    python bench/big_documents.py [--model PATH] [--timeout 30]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

SMALL_URI = "file:///bench/small.py"
SMALL_TEXT = "def add(a, b):\n    return a + b\n\n\ndef total(items):\n    \n"


def cases() -> list[tuple[str, str, str, str]]:
    """(name, uri, language id, text) of each big or odd document."""
    rng = random.Random(14)
    binary = bytes(rng.randrange(256) for _ in range(200_000)).decode("utf-8", "replace")
    hundred_k = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(33_334))
    return [
        ("binary (200 KB)", "file:///bench/blob.py", "python", binary),
        ("NUL-filled (200 KB)", "file:///bench/nul.py", "python", "\x00" * 200_000),
        ("4,000 Python constants", "file:///bench/consts.py", "python",
         "".join(f"CONST_{i} = {i}\n" for i in range(4000))),
        ("4,000 JS consts", "file:///bench/consts.js", "javascript",
         "".join(f"export const C{i} = {i};\n" for i in range(4000))),
        ("100,000 Python lines", "file:///bench/long.py", "python", hundred_k),
    ]


class Client:
    """A minimal LSP client over a child process's stdio: requests, notifications, replies."""

    def __init__(self, command: list[str], stderr: Any) -> None:
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=stderr)
        self.replies: dict[int, queue.Queue[dict[str, Any]]] = {}
        self.logs: list[str] = []
        self._next = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        assert self.process.stdin is not None
        with self._lock:
            self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.process.stdin.flush()

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: dict[str, Any]) -> int:
        self._next += 1
        self.replies[self._next] = queue.Queue()
        self._send({"jsonrpc": "2.0", "id": self._next, "method": method, "params": params})
        return self._next

    def wait(self, request_id: int, timeout: float) -> dict[str, Any] | None:
        try:
            return self.replies[request_id].get(timeout=timeout)
        except queue.Empty:
            return None

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = 0
            while (line := stream.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not line:
                return
            message = json.loads(stream.read(length))
            if "method" in message and "id" in message:  # a request from the server
                self._send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif "method" in message:
                if message["method"] == "window/logMessage":
                    self.logs.append(message["params"]["message"])
            elif (replies := self.replies.get(message.get("id"))) is not None:
                replies.put(message)


def _position_params(uri: str, line: int, character: int) -> dict[str, Any]:
    return {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}


def _ask(client: Client, uri: str, line: int, timeout: float) -> tuple[str, str]:
    """Seconds until code actions and an inline completion at ``line`` are answered."""
    started = time.perf_counter()
    actions = client.request("textDocument/codeAction", {
        "textDocument": {"uri": uri},
        "range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 0}},
        "context": {"diagnostics": []}})
    inline = client.request("textDocument/inlineCompletion", {
        **_position_params(uri, line, 4), "context": {"triggerKind": 1}})
    figures = []
    for request_id in (actions, inline):
        reply = client.wait(request_id, max(0.0, timeout - (time.perf_counter() - started)))
        figures.append("no reply" if reply is None else f"{time.perf_counter() - started:.3f} s")
    return figures[0], figures[1]


def outline_times() -> None:
    """Seconds to outline files of top-level constants (Python and JavaScript)."""
    from tree_sitter import Parser

    from llama_lsp.context.syntax.languages import load_language, spec_for
    from llama_lsp.context.syntax.outline import outline, prepare_queries

    print(f"{'top-level constants':<20} {'python outline':>15} {'javascript outline':>19}")
    for count in (1000, 2000, 4000, 8000, 16000):
        figures = []
        for language, line in (("python", "CONST_{0} = {0}\n"),
                               ("javascript", "export const C{0} = {0};\n")):
            spec = spec_for(language)
            assert spec is not None
            prepare_queries(spec)
            source = "".join(line.format(i) for i in range(count)).encode()
            tree = Parser(load_language(spec)).parse(source)
            started = time.perf_counter()
            outline(tree, source, spec)
            figures.append(f"{time.perf_counter() - started:.3f} s")
        print(f"{count:<20} {figures[0]:>15} {figures[1]:>19}", flush=True)
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, help="GGUF model (default: a tiny random one)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait per reply")
    args = parser.parse_args()
    outline_times()
    with tempfile.TemporaryDirectory() as folder:
        model = args.model
        if model is None:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
            from tiny_models import write_tiny_model

            model = write_tiny_model(Path(folder) / "tiny.gguf", fim=True).path
        log = open(Path(folder) / "server.log", "wb")  # noqa: SIM115 - closed below
        client = Client([sys.executable, "-m", "llama_lsp", "serve"], log)
        init = client.request("initialize", {
            "processId": os.getpid(), "rootUri": "file:///bench", "capabilities": {},
            "initializationOptions": {"model": str(model), "contextSize": 4096}})
        assert client.wait(init, 60) is not None, "no reply to initialize"
        client.notify("initialized", {})
        deadline = time.perf_counter() + 60
        while not any("ready in" in m for m in client.logs) and time.perf_counter() < deadline:
            time.sleep(0.05)
        client.notify("textDocument/didOpen", {"textDocument": {
            "uri": SMALL_URI, "languageId": "python", "version": 1, "text": SMALL_TEXT}})
        print(f"{'document':<24} {'other: actions':>15} {'other: inline':>14} "
              f"{'it: actions':>12} {'it: inline':>11}")
        baseline = _ask(client, SMALL_URI, 5, args.timeout)
        print(f"{'(none: baseline)':<24} {baseline[0]:>15} {baseline[1]:>14}", flush=True)
        for name, uri, language, text in cases():
            client.notify("textDocument/didOpen", {"textDocument": {
                "uri": uri, "languageId": language, "version": 1, "text": text}})
            other = _ask(client, SMALL_URI, 5, args.timeout)
            own = _ask(client, uri, 3, args.timeout)
            print(f"{name:<24} {other[0]:>15} {other[1]:>14} {own[0]:>12} {own[1]:>11}",
                  flush=True)
            client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        client.process.kill()
        client.process.wait()
        log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
