"""Hypothesis strategies for hostile LSP traffic, and a session that checks the replies.

Shared by ``tests/test_fuzz.py`` (a few hundred messages per run) and ``bench/fuzz.py``
(long runs). Every method the server registers has a params template; a message is a template
filled in, then possibly mutated (a leaf replaced, a key dropped, the params replaced), or
broken at the JSON or framing level.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from raw_lsp import RawServer, frame

URIS = ["file:///workspace/a.py", "file:///workspace/b.js", "file:///workspace/new.py"]
TEXTS = {
    URIS[0]: ("import os\n\n\nclass Box:\n    def size(self):\n        return 3\n\n\n"
              "def add(a, b):\n    \"\"\"Add.\"\"\"\n    return a + b\n\n\n"),
    URIS[1]: "// 日本語 🎉 ünïcödé\nfunction greet(name) {\n  return `hi ${name} 🎉`;\n}\n",
}
LANGUAGES = {URIS[0]: "python", URIS[1]: "javascript"}
COMMANDS = ["llama-lsp.showPrompt", "llama-lsp.status", "llama-lsp.generateDocstring",
            "llama-lsp.generateDocstringsForFile", "llama-lsp.fixWithModel",
            "llama-lsp.implementFunction"]
EDGE_INTS = [0, 1, -1, 2**31 - 1, 2**31, 2**32, 2**53, 2**63, -2**31, 10**30]

leaves = st.one_of(st.none(), st.booleans(), st.sampled_from(EDGE_INTS),
                   st.integers(-5, 50), st.floats(allow_nan=False, allow_infinity=False),
                   st.text(max_size=12))
json_values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=3),
                           max_leaves=6)
ints = st.integers(0, 14) | st.sampled_from(EDGE_INTS)
positions = st.fixed_dictionaries({"line": ints, "character": st.integers(0, 40) | ints})
ranges = st.fixed_dictionaries({"start": positions, "end": positions})
uris = st.sampled_from(URIS)
documents = st.fixed_dictionaries({"uri": uris})
texts = st.text(max_size=40) | st.sampled_from(["\x00\x00\x00", "\ud800", "\r\n\r\n", "🎉" * 5,
                                                  "def f(:\n", "\n" * 30])


def _settings(model: str) -> st.SearchStrategy[dict[str, Any]]:
    # Out-of-bounds numbers are refused by the settings' bounds; large in-bounds ones (a
    # context of a million tokens) would really be applied, so they become 8.
    out_of_bounds = st.sampled_from([-1, 0, 10**12, 1e9, -2.5])
    value = st.one_of(json_values, st.integers(0, 50), out_of_bounds)
    return st.dictionaries(
        st.sampled_from(["enabled", "maxTokens", "debounceMinMs", "unknownSetting", "model",
                         "languages", "contextSize", "firstRequestBudgetMs"]),
        value, max_size=3).map(
        lambda d: {k: (model if k == "model" and isinstance(v, str) else
                       v if not isinstance(v, (int, float)) or isinstance(v, bool)
                       or 0 < v <= 50 or v <= 0 or v >= 1e9
                       else 8) for k, v in d.items()}) | st.sampled_from(
        [{"model": model}, {"model": "/nonexistent/missing.gguf"}, {"model": model}])


MODEL_COMMANDS = COMMANDS[2:]  # they generate with a grammar: seconds to minutes each


def templates(model: str, model_commands: bool = True) -> dict[str, st.SearchStrategy[Any]]:
    """Well-formed params for every method the server registers (None: no params).

    ``model_commands=False`` sends the model-backed commands only arguments they refuse.
    """
    valid_arguments = st.one_of(
        st.tuples(uris, positions).map(list),
        st.tuples(uris, positions, st.text(max_size=20)).map(list),
        st.tuples(uris).map(list), st.lists(json_values, max_size=3))
    invalid_arguments = st.lists(json_values, max_size=3).filter(
        lambda a: not a or a[0] not in URIS)
    command_params = st.sampled_from(COMMANDS).flatmap(
        lambda name: st.fixed_dictionaries({"command": st.just(name), "arguments": (
            valid_arguments if model_commands or name not in MODEL_COMMANDS
            else invalid_arguments)}))
    return {
        "initialize": st.fixed_dictionaries({"processId": st.none(), "capabilities": st.just({})}),
        "initialized": st.just({}),
        "shutdown": st.none(),
        "exit": st.none(),
        "textDocument/inlineCompletion": st.fixed_dictionaries({
            "textDocument": documents, "position": positions,
            "context": st.fixed_dictionaries({"triggerKind": st.sampled_from([1, 2])})}),
        "textDocument/completion": st.fixed_dictionaries({
            "textDocument": documents, "position": positions}),
        "textDocument/codeAction": st.fixed_dictionaries({
            "textDocument": documents, "range": ranges,
            "context": st.fixed_dictionaries({"diagnostics": st.just([])})}),
        "codeAction/resolve": st.fixed_dictionaries({
            "title": st.text(max_size=10), "data": json_values}),
        "workspace/executeCommand": command_params,
        "textDocument/didOpen": st.fixed_dictionaries({"textDocument": st.fixed_dictionaries({
            "uri": uris, "languageId": st.sampled_from(["python", "javascript", "rust", "x"]),
            "version": st.integers(0, 100), "text": texts})}),
        "textDocument/didChange": st.fixed_dictionaries({
            "textDocument": st.fixed_dictionaries({"uri": uris, "version": st.integers(0, 100)}),
            "contentChanges": st.lists(
                st.fixed_dictionaries({"range": ranges, "text": texts})
                | st.fixed_dictionaries({"text": texts}), max_size=2)}),
        "textDocument/didClose": st.fixed_dictionaries({"textDocument": documents}),
        "workspace/didChangeConfiguration": st.fixed_dictionaries({"settings": _settings(model)}),
        "workspace/didChangeWorkspaceFolders": st.fixed_dictionaries({"event": st.just(
            {"added": [], "removed": []})}),
        "$/cancelRequest": st.fixed_dictionaries({"id": st.integers(0, 400)}),
        "$/setTrace": st.fixed_dictionaries({"value": st.sampled_from(["off", "messages"])}),
        "window/workDoneProgress/cancel": st.fixed_dictionaries({"token": st.text(max_size=5)}),
        "notebookDocument/didOpen": json_values,
        "notebookDocument/didChange": json_values,
        "notebookDocument/didClose": json_values,
        "textDocument/unknownThing": json_values,
    }


NOT_IN_SESSION = {"shutdown", "exit"}  # they end the session: sent once, at the end
NOTIFICATIONS = {"initialized", "exit", "textDocument/didOpen", "textDocument/didChange",
                 "textDocument/didClose", "workspace/didChangeConfiguration",
                 "workspace/didChangeWorkspaceFolders", "$/cancelRequest", "$/setTrace",
                 "window/workDoneProgress/cancel", "notebookDocument/didOpen",
                 "notebookDocument/didChange", "notebookDocument/didClose"}


def _leaf_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict) and value:
        return [p for key, item in value.items() for p in _leaf_paths(item, (*path, key))]
    if isinstance(value, list) and value:
        return [p for i, item in enumerate(value) for p in _leaf_paths(item, (*path, i))]
    return [path]


def _replace(value: Any, path: tuple[Any, ...], new: Any, drop: bool = False) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        copy = dict(value)
        if drop and not rest:
            copy.pop(head, None)
        else:
            copy[head] = _replace(copy[head], rest, new, drop)
        return copy
    copy_list = list(value)
    copy_list[head] = _replace(copy_list[head], rest, new, drop)
    return copy_list


@dataclass
class Message:
    """What to send; ``expects_reply`` when a well-framed request with a usable id is in it."""

    method: str
    data: bytes
    request_id: int | None
    expects_reply: bool


@st.composite
def messages(draw: st.DrawFn, model: str, methods: list[str], next_id: list[int],
             model_commands: bool = True) -> Message:
    """One fuzzed message (ids from ``next_id``, a one-element counter)."""
    method = draw(st.sampled_from(methods))
    params = draw(templates(model, model_commands)[method])
    is_request = method not in NOTIFICATIONS or draw(st.integers(0, 9)) == 0
    mutation = draw(st.sampled_from(["none", "none", "none", "leaf", "drop", "params",
                                     "json", "frame"]))
    if mutation in ("leaf", "drop") and params not in (None, {}, []):
        path = draw(st.sampled_from(_leaf_paths(params)))
        if path:
            params = _replace(params, path, draw(json_values), drop=mutation == "drop")
    elif mutation == "params":
        params = draw(json_values)
    if method == "$/cancelRequest" and isinstance(params, dict):
        params = {"id": next_id[0] - draw(st.integers(0, 6))}  # one that may be in flight
    next_id[0] += 1
    msg_id = next_id[0]
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if is_request:
        message["id"] = msg_id
    if params is not None:
        message["params"] = params
    body = json.dumps(message).encode()
    if mutation == "json":
        variants = [  # each still answers a request with its id, except the last
            body.replace(b'"jsonrpc": "2.0"', b'"jsonrpc": "1.0"'),
            body[:-1] + b', "x": NaN}',
            body[:-1] + b', "deep": ' + b"[" * 1200 + b"]" * 1200 + b"}",
            body[:-1] + b', "bytes": "\xff\xfe"}',
            b"[" + body + b"]",
            body.replace(b'"id": %d' % msg_id, b'"id": 1.5'),
        ]
        variant = draw(st.integers(0, len(variants) - 1))
        return Message(method, frame_bytes(variants[variant]), msg_id if is_request else None,
                       expects_reply=is_request and variant < len(variants) - 1)
    if mutation == "frame":
        n = len(body)
        data = draw(st.sampled_from([
            b"Content-Type: x\r\n\r\n" + body,
            b"Content-Length: %d\r\n\r\n" % max(0, n - 5) + body,
            b"Content-Length: %d\r\n\r\n" % (n + 20) + body,
            b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n" % (n, n + 3) + body,
            b"Content-Length: %d\n\n" % n + body,
            b"Content-Length %d\r\n\r\n" % n + body,
            b"Content-Length :  %d \r\n\r\n" % n + body,
            b"Content-Length: 1000000000000\r\n\r\n" + body,
            bytes(draw(st.binary(max_size=60))) + b"\r\n\r\n",
        ]))
        return Message(method, data, msg_id if is_request else None, expects_reply=False)
    return Message(method, frame(message), msg_id if is_request else None,
                   expects_reply=is_request)


def frame_bytes(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


@dataclass
class FuzzStats:
    """What a fuzz run saw."""

    tried: int = 0
    requests: int = 0
    crashes: int = 0
    hangs: int = 0
    unanswered: int = 0
    slow: int = 0
    """Requests answered only after the batch timeout (or cancelled by shutdown)."""
    slow_methods: list[str] = field(default_factory=list)
    duplicates: int = 0
    peak_rss_kib: int = 0
    problems: list[str] = field(default_factory=list)


def peak_rss_kib(pid: int) -> int:
    """VmHWM of a process (Linux), 0 if unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class FuzzSession:
    """A server on stdio, initialized with ``encoding``, with the documents open."""

    def __init__(self, model: str, encoding: str, stats: FuzzStats) -> None:
        self.model, self.encoding, self.stats = model, encoding, stats
        self.next_id = [1000]
        self.pending: set[int] = set()  # slow requests, not answered yet
        self.maybe: list[int] = []
        self.reported: set[int] = set()
        self.server = self._start()

    def _start(self) -> RawServer:
        server = RawServer()
        server.initialize({"model": self.model}, position_encodings=[self.encoding])
        for uri, text in TEXTS.items():
            server.open(uri, text, LANGUAGES[uri])
        return server

    def send(self, batch: list[Message], timeout: float = 30) -> None:
        """Send ``batch``; check that each request in it is answered once and the server lives.

        A request still running after ``timeout`` while the server answers others (a model
        job) counts as slow; it must be answered by :meth:`finish`, which cancels it.
        """
        server = self.server
        maybe: list[int] = []  # requests in broken frames: at most one reply
        for message in batch:
            self.stats.tried += 1
            if message.expects_reply and message.request_id is not None:
                server.sent_ids.append(message.request_id)
                self.stats.requests += 1
            elif message.request_id is not None:
                maybe.append(message.request_id)
            try:
                server.send_bytes(message.data)
            except OSError:
                break
        # A sentinel request: answered only if the server still reads and answers.
        sentinel = server.request("workspace/executeCommand",
                                  {"command": "llama-lsp.status", "arguments": []})
        self.stats.requests += 1
        answered = server.wait_for(lambda: bool(server.replies(sentinel)), timeout)
        alive = server.process.poll() is None
        self.stats.peak_rss_kib = max(self.stats.peak_rss_kib, peak_rss_kib(server.process.pid))
        batch_ids = [m.request_id for m in batch if m.expects_reply]
        server.wait_for(lambda: all(server.replies(i) for i in batch_ids),
                        timeout if answered and alive else 0)
        waiting = [i for i in server.sent_ids if not server.replies(i)]
        self.maybe += maybe
        self._check_duplicates()
        methods = [m.method for m in batch]
        if not alive:
            self.stats.crashes += 1
            self.stats.problems.append(f"exit {server.process.returncode} after {methods}: "
                                       f"{server.stderr()[-400:]}")
        elif not answered:
            self.stats.hangs += 1
            self.stats.problems.append(f"no answer after {methods}")
        if server.garbage:
            self.stats.problems.append(f"garbage on stdout: {server.garbage[:2]}")
        if not alive or not answered:
            lost = sorted(set(waiting) | self.pending)
            self.stats.unanswered += len(lost)
            self.stats.problems.append(f"unanswered {lost}, the last batch {methods}")
            server.kill()
            self.server = self._start()
            self.pending, self.maybe = set(), []
            return
        new_slow = [i for i in waiting if i not in self.pending]
        self.stats.slow += len(new_slow)
        for message in batch:
            if message.request_id in new_slow:
                self.stats.slow_methods.append(f"{message.method} {message.data[-160:]!r}")
        self.pending = set(waiting)
        server.sent_ids[:] = sorted(self.pending)
        if not self.pending:
            with server._condition:  # keep memory flat over long runs
                server.messages.clear()
            self.maybe = []

    def _check_duplicates(self) -> None:
        counts = self.server.reply_counts()
        twice = [i for i in [*self.server.sent_ids, *self.maybe] if counts[i] > 1]
        new = [i for i in twice if i not in self.reported]
        self.reported.update(new)
        self.stats.duplicates += len(new)
        if new:
            self.stats.problems.append(f"answered twice: {new}")

    def finish(self, timeout: float = 30) -> None:
        """shutdown, requests after it, exit: every request answered, exit code 0."""
        server = self.server
        shutdown = server.request("shutdown")
        late = server.request("textDocument/completion", {
            "textDocument": {"uri": URIS[0]}, "position": {"line": 0, "character": 0}})
        self.stats.requests += 2
        waiting = server.unanswered(timeout)
        self._check_duplicates()
        self.stats.unanswered += len(waiting)
        if waiting:
            self.stats.problems.append(f"unanswered at shutdown: {waiting}")
        if server.replies(shutdown) and "error" not in server.reply(late):
            self.stats.problems.append("a request after shutdown was served")
        server.notify("exit")
        try:
            code = server.process.wait(timeout)
        except Exception:  # noqa: BLE001
            code = None
        if code != 0:
            self.stats.problems.append(f"exit code {code} after shutdown and exit")
        server.kill()
