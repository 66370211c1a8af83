"""``serve --tcp``: the session belongs to the first client, and only its user may connect."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from raw_lsp import frame
from tiny_models import TinyModelInfo

from llama_lsp.server.framing import Frame, FrameDecoder
from llama_lsp.server.peer import can_identify_peers, peer_uid

CLI = [sys.executable, "-m", "llama_lsp"]
URI = "file:///workspace/private.py"
# Not a credential, so redaction keeps it: the test is about the buffer, not about secrets.
SECRET = "PRIVATE_NOTE = 'buffer-only-4242'\n\n\ndef handler(event):\n    return event\n"


class TcpClient:
    """A raw LSP client on a socket, collecting what the server writes."""

    def __init__(self, port: int) -> None:
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.messages: list[dict[str, Any]] = []
        self.closed = threading.Event()
        self._next = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        decoder = FrameDecoder()
        while True:
            try:
                data = self.socket.recv(65536)
            except OSError:
                data = b""
            if not data:
                self.closed.set()
                return
            for event in decoder.feed(data):
                if isinstance(event, Frame):
                    self.messages.append(json.loads(event.body))

    def send(self, message: dict[str, Any]) -> None:
        try:
            self.socket.sendall(frame(message))
        except OSError:  # refused: the server closed the connection
            self.closed.set()

    def request(self, method: str, params: Any) -> int:
        self._next += 1
        self.send({"jsonrpc": "2.0", "id": self._next, "method": method, "params": params})
        return self._next

    def reply(self, msg_id: int, timeout: float = 30) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [m for m in self.messages if m.get("id") == msg_id and "method" not in m]
            if found:
                return found[0]
            if self.closed.is_set():
                return None
            time.sleep(0.02)
        return None

    def text(self) -> str:
        return json.dumps(self.messages)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def tcp_server(constant_model: TinyModelInfo) -> Iterator[int]:
    port = _free_port()
    process = subprocess.Popen([*CLI, "serve", "--tcp", "--port", str(port)],
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline and process.poll() is None, "not listening"
            time.sleep(0.1)
    yield port
    process.kill()
    process.wait(10)


def _prompt(client: TcpClient) -> dict[str, Any] | None:
    return client.reply(client.request("workspace/executeCommand", {
        "command": "llama-lsp.showPrompt", "arguments": [URI, {"line": 3, "character": 4}]}))


def _initialize(client: TcpClient, model: TinyModelInfo) -> dict[str, Any] | None:
    reply = client.reply(client.request("initialize", {
        "processId": None, "capabilities": {},
        "initializationOptions": {"model": str(model.path)}}))
    client.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    return reply


def test_a_second_connection_can_neither_read_nor_disturb_the_first(
        tcp_server: int, constant_model: TinyModelInfo) -> None:
    # The probe connection in the fixture closed before initialize: it did not take the session.
    first = TcpClient(tcp_server)
    assert _initialize(first, constant_model) is not None
    first.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": URI, "languageId": "python", "version": 1, "text": SECRET}}})
    deadline = time.monotonic() + 30
    while "buffer-only-4242" not in json.dumps(_prompt(first)):
        assert time.monotonic() < deadline, "the owner never got its prompt"
        time.sleep(0.2)

    second = TcpClient(tcp_server)
    assert _initialize(second, constant_model) is None  # refused, and closed
    assert _prompt(second) is None
    assert second.closed.wait(10)
    assert "buffer-only-4242" not in second.text()
    assert "already serves another client" in second.text()

    assert "buffer-only-4242" in json.dumps(_prompt(first))  # the owner is still answered
    counts: dict[Any, int] = {}
    for message in first.messages:
        if "method" not in message:
            counts[message["id"]] = counts.get(message["id"], 0) + 1
    assert set(counts.values()) == {1}


@pytest.mark.skipif(not can_identify_peers() or not hasattr(os, "getuid") or os.getuid() != 0,
                    reason="needs Linux socket tables and root, to connect as another user")
def test_another_user_is_refused_even_first(tcp_server: int) -> None:
    script = (
        "import os, socket, sys\n"
        "os.setgid(65534); os.setuid(65534)\n"
        "s = socket.socket()  # the kernel records who created the socket\n"
        f"s.settimeout(10); s.connect(('127.0.0.1', {tcp_server}))\n"
        "data = b''\n"
        "while True:\n"
        "    chunk = s.recv(65536)\n"
        "    if not chunk: break\n"
        "    data += chunk\n"
        "sys.stdout.write(data.decode())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=30)
    assert "only the user who started the server may connect" in done.stdout, done.stderr


def test_peer_uid_of_a_loopback_connection_is_ours() -> None:
    if not can_identify_peers() or not hasattr(os, "getuid"):
        pytest.skip("no socket tables on this system")
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        accepted, _ = listener.accept()
        with client, accepted:
            assert peer_uid(accepted) == os.getuid()
