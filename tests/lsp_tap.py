"""Test hook for editor end-to-end tests: run an LSP server behind a stdio proxy that logs messages.

    python3 tests/lsp_tap.py LOG -- COMMAND [ARG...]

The editor starts this instead of the server. Every JSON-RPC message is passed on unchanged and
one line is appended to LOG: ``{"t": seconds, "from": "client"|"server", "id": ..., "method":
..., "error": bool}`` (and the params of the notifications in :data:`LOGGED_PARAMS`). :func:`replies` then tells whether every request got exactly one reply,
whatever the editor's own log says. Standalone: the standard library only.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

_lock = threading.Lock()
# Notifications whose params are logged too: what the user is shown, and llama-lsp's own.
LOGGED_PARAMS = {"window/showMessage", "$/llama-lsp/status", "$/llama-lsp/suggestionReady"}


def _read_message(stream: IO[bytes]) -> bytes | None:
    """One framed message (headers and body, as read), or None at the end of the stream."""
    headers = b""
    length = None
    while True:
        line = stream.readline()
        if not line:
            return None
        headers += line
        if line in (b"\r\n", b"\n"):
            if length is None:
                continue  # a stray blank line between messages
            break
        name, _, value = line.decode("ascii", "replace").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    body = stream.read(length) if length else b""
    return headers + body if len(body) == (length or 0) else None


def _record(log: IO[str], origin: str, raw: bytes, started: float) -> None:
    body = raw.split(b"\r\n\r\n", 1)[-1]
    try:
        message: Any = json.loads(body)
    except ValueError:
        message = {"unparsable": body[:200].decode("utf-8", "replace")}
    entry = {"t": round(time.monotonic() - started, 3), "from": origin, "id": message.get("id"),
             "method": message.get("method"), "error": "error" in message}
    if entry["method"] in LOGGED_PARAMS:
        entry["params"] = message.get("params")
    with _lock:
        log.write(json.dumps(entry) + "\n")
        log.flush()


def _pump(source: IO[bytes], sink: IO[bytes], log: IO[str], origin: str, started: float) -> None:
    while (raw := _read_message(source)) is not None:
        _record(log, origin, raw, started)
        try:
            sink.write(raw)
            sink.flush()
        except (BrokenPipeError, ValueError):
            return


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    started = time.monotonic()
    with open(argv[0], "a", encoding="utf-8") as log:
        server = subprocess.Popen(argv[2:], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert server.stdin is not None and server.stdout is not None

        def client_to_server() -> None:
            _pump(sys.stdin.buffer, server.stdin, log, "client", started)  # type: ignore[arg-type]
            try:
                server.stdin.close()  # type: ignore[union-attr]
            except OSError:
                pass

        threading.Thread(target=client_to_server, daemon=True).start()
        _pump(server.stdout, sys.stdout.buffer, log, "server", started)
        return server.wait()


@dataclass
class Replies:
    """Requests each side sent and how many replies each got, from a tap log."""

    client_requests: dict[Any, str] = field(default_factory=dict)
    server_requests: dict[Any, str] = field(default_factory=dict)
    replies_to_client: dict[Any, int] = field(default_factory=dict)
    replies_to_server: dict[Any, int] = field(default_factory=dict)
    messages: list[tuple[int, str]] = field(default_factory=list)
    states: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """One line per request without exactly one reply (either direction); empty when all good."""
        found = []
        for requests, replies, side in ((self.client_requests, self.replies_to_client, "client"),
                                        (self.server_requests, self.replies_to_server, "server")):
            for request_id, method in requests.items():
                count = replies.get(request_id, 0)
                if count != 1:
                    found.append(f"{side} request {request_id} ({method}): {count} replies")
            for request_id in replies.keys() - requests.keys():
                found.append(f"reply to unknown {side} request {request_id}")
        return found

    def shown(self, max_type: int = 4) -> list[str]:
        """``window/showMessage`` texts of type ``max_type`` or more severe (1 error, 2 warning)."""
        return [message for message_type, message in self.messages if message_type <= max_type]

    def count(self, method: str) -> int:
        """How many requests of ``method`` the client sent."""
        return sum(1 for name in self.client_requests.values() if name == method)


def replies(log_path: Path) -> Replies:
    """Pair the requests and replies in a tap log."""
    result = Replies()
    for line in log_path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        origin, request_id, method = entry["from"], entry["id"], entry["method"]
        if method == "window/showMessage" and isinstance(entry.get("params"), dict):
            params = entry["params"]
            result.messages.append((int(params.get("type", 4)), str(params.get("message", ""))))
        if method == "$/llama-lsp/status" and isinstance(entry.get("params"), dict):
            state = str(entry["params"].get("state"))
            if not result.states or result.states[-1] != state:
                result.states.append(state)
        if request_id is None:
            continue  # a notification
        if method is not None:
            requests = result.client_requests if origin == "client" else result.server_requests
            requests[request_id] = method
        else:
            counts = result.replies_to_server if origin == "client" else result.replies_to_client
            counts[request_id] = counts.get(request_id, 0) + 1
    return result


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
