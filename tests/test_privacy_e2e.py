"""Privacy end to end, in real processes: no planted secret in any prompt, an audit line per
model call, and no network event in a whole default session.

The server runs under ``tests/network_probe.py``: a Python audit hook, installed before
llama_lsp is imported, records and refuses every network event (socket creation other than
local ``AF_UNIX`` pairs, connect, bind, name lookups, the stdlib's HTTP clients). The session
types while the model loads, asks for completions in every language of the corpus (open and
imported files, an open notes file, a file in a ``secrets/`` folder), lists and resolves
code actions, runs every command and changes a setting. ``auditLogPrompts`` records each
prompt exactly as detokenized from the tokens the model received; none may hold a planted
value. ``review`` and ``complete`` run under the same hook.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
import secret_corpus as corpus
from lsp_helpers import complete_at, inline_at, open_document, wait_for_model
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from tiny_models import TinyModelInfo

WORKTREE = Path(__file__).resolve().parents[1]
PROBE = str(Path(__file__).with_name("network_probe.py"))
SCRATCH = Path(tempfile.mkdtemp(prefix="llama-lsp-privacy-"))
EVENTS = SCRATCH / "network-events.txt"
PROJECT = SCRATCH / "project"
AUDIT = SCRATCH / "audit.jsonl"
SERVER = ClientServerConfig(server_command=[sys.executable, PROBE, str(EVENTS), "serve"])
LANGUAGES = {"app.py": "python", "config.py": "python", "secrets/vault.py": "python",
             "notes.txt": "plaintext", "client.go": "go", "client.js": "javascript",
             "client.rs": "rust", "Client.java": "java"}


def _uri(name: str) -> str:
    return (PROJECT / name).as_uri()


def _audit_lines(path: Path = AUDIT) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _events() -> list[str]:
    return EVENTS.read_text(encoding="utf-8").splitlines() if EVENTS.exists() else []


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient, constant_model: TinyModelInfo):
    corpus.write_project(PROJECT)
    AUDIT.unlink(missing_ok=True)
    lsp_client.applied = []  # type: ignore[attr-defined]

    @lsp_client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        lsp_client.applied.append(params)  # type: ignore[attr-defined]
        return types.ApplyWorkspaceEditResult(applied=True)

    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        initialization_options={"model": str(constant_model.path), "contextSize": 2048,
                                "auditLog": str(AUDIT), "auditLogPrompts": True},
        root_uri=PROJECT.as_uri(),
    ))
    yield
    await lsp_client.shutdown_session()


async def _command(client: LanguageClient, command: str, *arguments: Any) -> Any:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(arguments)))


async def test_a_whole_session_sends_no_secret_and_touches_no_network(
        client: LanguageClient, constant_model: TinyModelInfo) -> None:
    for name, language in LANGUAGES.items():
        open_document(client, _uri(name), (PROJECT / name).read_text(), language)
    app_end = corpus.APP_PY.split("\n")
    cursor = (len(app_end) - 1, len(app_end[-1]))
    early = await inline_at(client, _uri("app.py"), *cursor)  # typing while the model loads
    assert isinstance(early, types.InlineCompletionList)
    await wait_for_model(client)

    shown = []
    for trigger in (types.InlineCompletionTriggerKind.Automatic,
                    types.InlineCompletionTriggerKind.Invoked):
        shown.append(await inline_at(client, _uri("app.py"), *cursor, trigger))
    assert any(result.items for result in shown)
    assert isinstance(await complete_at(client, _uri("app.py"), *cursor),
                      types.CompletionList)
    for name in ("client.go", "client.js", "client.rs", "Client.java", "config.py",
                 "notes.txt"):
        lines = (PROJECT / name).read_text().split("\n")
        line = next(i for i, text in enumerate(lines) if "return" in text or "host" in text)
        await inline_at(client, _uri(name), line, len(lines[line]),
                        types.InlineCompletionTriggerKind.Invoked)
    vault = await inline_at(client, _uri("secrets/vault.py"), 4, 10,
                            types.InlineCompletionTriggerKind.Invoked)
    assert not vault.items  # a file in a secrets/ folder gets nothing

    # Code actions: listed from the tree, resolved by the model.
    config = corpus.CONFIG_PY.split("\n")
    connect_line = next(i for i, t in enumerate(config) if t.startswith("def connect"))
    rotate_line = next(i for i, t in enumerate(config) if t.startswith("def rotate"))
    diagnostic = types.Diagnostic(
        range=types.Range(start=types.Position(connect_line + 2, 4),
                          end=types.Position(connect_line + 2, 10)),
        message="the host is never checked")
    listed = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=_uri("config.py")),
        range=types.Range(start=types.Position(connect_line, 5),
                          end=types.Position(connect_line, 5)),
        context=types.CodeActionContext(diagnostics=[diagnostic])))
    assert listed
    titles = [action.title for action in listed]
    assert any(title.startswith("Fix with the model") for title in titles), titles
    for action in listed:
        assert isinstance(action, types.CodeAction)
        await client.code_action_resolve_async(action)
    assert not await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=_uri("secrets/vault.py")),
        range=types.Range(start=types.Position(3, 5), end=types.Position(3, 5)),
        context=types.CodeActionContext(diagnostics=[])))

    # Every command.
    position = {"line": connect_line, "character": 5}
    await _command(client, "llama-lsp.generateDocstring", _uri("config.py"), position)
    await _command(client, "llama-lsp.fixWithModel", _uri("config.py"), position,
                   "the password default is unsafe")
    await _command(client, "llama-lsp.implementFunction", _uri("config.py"),
                   {"line": rotate_line, "character": 5})
    await _command(client, "llama-lsp.generateDocstringsForFile", _uri("app.py"))
    await _command(client, "llama-lsp.generateDocstring", _uri("app.py"),
                   {"line": 0, "character": 0})  # the module docstring
    refused = await _command(client, "llama-lsp.generateDocstring", _uri("secrets/vault.py"),
                             {"line": 3, "character": 5})
    assert refused["applied"] is False and "secret-bearing folder" in refused["reason"]
    report = await _command(client, "llama-lsp.showPrompt", _uri("app.py"),
                            {"line": cursor[0], "character": cursor[1]})
    assert corpus.leaked(report["text"]) == []
    assert "<redacted:" in report["prompt"] and report["redactions"]
    with pytest.raises(JsonRpcException, match="no prompt in a secret-bearing folder"):
        await _command(client, "llama-lsp.showPrompt", _uri("secrets/vault.py"),
                       {"line": 3, "character": 5})
    assert (await _command(client, "llama-lsp.status"))["state"] == "ready"

    # A settings change, then one more completion under it.
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"llama-lsp": {"maxTokens": 8, "auditLog": str(AUDIT),
                                "auditLogPrompts": True}}))
    await inline_at(client, _uri("app.py"), *cursor, types.InlineCompletionTriggerKind.Invoked)

    lines = _audit_lines()
    features = {line["feature"] for line in lines}
    assert {"completion", "docstring", "fix", "implement", "module-docstring"} <= features
    for line in lines:
        assert corpus.leaked(line["prompt"]) == [], line["feature"]
        assert line["prompt_sha256"] and line["tokens"]["prompt"] > 0
        assert line["model"]["name"] and line["model"]["file"] == constant_model.path.name
        assert not any(source["path"].startswith("secrets") for source in line["sources"])
    sources = {(source["path"], source["part"]) for line in lines for source in line["sources"]}
    assert ("config.py", "definition") in sources  # the imported file went in...
    assert ("notes.txt", "similar") in sources  # ...and the open notes, redacted
    assert any(line["redactions"] for line in lines if line["feature"] == "completion")
    assert _events() == []


def _probe(cwd: Path, *arguments: str, events: Path,
           stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "LLAMA_LSP_MODEL"}
    env["PYTHONPATH"] = str(WORKTREE)
    return subprocess.run([sys.executable, PROBE, str(events), *arguments], cwd=cwd,
                          capture_output=True, text=True, timeout=300, input=stdin, env=env)


REVIEW_DIFF = f"""diff --git a/settings.py b/settings.py
new file mode 100644
--- /dev/null
+++ b/settings.py
@@ -0,0 +1,8 @@
+DB_PASSWORD = "{corpus.REVIEW_PASSWORD}"
+API_TOKEN = "{corpus.REVIEW_TOKEN}"
+PAYMENTS = "{corpus.REVIEW_KEY}"
+
+
+def login(user, password="{corpus.REVIEW_PASSWORD}"):
+    token = API_TOKEN
+    return user, password, token
"""


def test_review_and_complete_send_no_secret_and_touch_no_network(
        tmp_path: Path, constant_model: TinyModelInfo) -> None:
    project = tmp_path / "project"
    corpus.write_project(project)
    events = tmp_path / "events.txt"
    review_audit = tmp_path / "review.jsonl"
    done = _probe(project, "review", "--diff", "-", "--model", str(constant_model.path),
                  "--audit-log", str(review_audit), "--audit-log-prompts", "--quiet",
                  "--format", "json", events=events, stdin=REVIEW_DIFF)
    assert done.returncode in (0, 1), done.stderr
    reviewed = _audit_lines(review_audit)
    assert reviewed and {line["feature"] for line in reviewed} == {"review"}
    for line in reviewed:
        assert corpus.leaked(line["prompt"]) == []
        assert line["redactions"].get("password", 0) >= 1
        assert line["sources"][-1]["path"] == "settings.py"
        assert line["model"]["sha256"] and "sha256_pending" not in line["model"]

    complete_audit = tmp_path / "complete.jsonl"
    app_lines = corpus.APP_PY.split("\n")
    location = f"{project / 'app.py'}:{len(app_lines)}:{len(app_lines[-1]) + 1}"
    done = _probe(project, "complete", location, "--model", str(constant_model.path),
                  "--show-prompt", "--audit-log", str(complete_audit), "--audit-log-prompts",
                  events=events)
    assert done.returncode in (0, 1), done.stderr
    assert corpus.leaked(done.stdout) == []
    assert "redacted secret values:" in done.stdout
    completed = _audit_lines(complete_audit)
    assert [line["feature"] for line in completed] == ["completion"]
    assert corpus.leaked(completed[0]["prompt"]) == []
    assert completed[0]["model"]["sha256"]
    assert ("config.py", "definition") in {(s["path"], s["part"])
                                           for s in completed[0]["sources"]}
    assert events.read_text() == "" if events.exists() else True
    done = _probe(project, "complete", f"{project / 'secrets' / 'vault.py'}:4:10", "--model",
                  str(constant_model.path), "--show-prompt", events=events)
    assert done.returncode == 1 and "no prompt in a secret-bearing folder" in done.stderr
    assert corpus.VAULT_TOKEN not in done.stdout


def test_a_remote_backend_http_body_holds_no_secret(
        tmp_path: Path, llamacpp_constant_emulator: Any) -> None:
    project = tmp_path / "project"
    corpus.write_project(project)
    emulator = llamacpp_constant_emulator
    emulator.requests.clear()
    app_lines = corpus.APP_PY.split("\n")
    location = f"{project / 'app.py'}:{len(app_lines)}:{len(app_lines[-1]) + 1}"
    env = {key: value for key, value in os.environ.items() if key != "LLAMA_LSP_MODEL"}
    env["PYTHONPATH"] = str(WORKTREE)
    audit_log = tmp_path / "audit.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "llama_lsp", "complete", location, "--backend",
         "llamacpp-server", "--endpoint", emulator.url, "--audit-log", str(audit_log)],
        cwd=project, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode in (0, 1), done.stderr
    [line] = _audit_lines(audit_log)
    assert line["model"]["engine"] == "llamacpp-server"
    assert line["model"]["location"].startswith(emulator.url)
    done = subprocess.run(
        [sys.executable, "-m", "llama_lsp", "review", "--diff", "-", "--quiet", "--backend",
         "llamacpp-server", "--endpoint", emulator.url], cwd=project, capture_output=True,
        text=True, timeout=300, env=env, input=REVIEW_DIFF)
    assert done.returncode in (0, 1), done.stderr
    bodies = json.dumps([body for _, body in emulator.requests])
    paths = {path for path, _ in emulator.requests}
    assert {"/infill", "/completion"} & paths
    assert corpus.leaked(bodies) == []
    assert "<redacted:" in bodies


def test_no_network_refuses_a_remote_backend_and_tcp(tmp_path: Path) -> None:
    script = tmp_path / "x.py"
    script.write_text("x = 1\n")
    env = {key: value for key, value in os.environ.items() if key != "LLAMA_LSP_MODEL"}
    env["PYTHONPATH"] = str(WORKTREE)
    done = subprocess.run(
        [sys.executable, "-m", "llama_lsp", "complete", f"{script}:1:5", "--no-network",
         "--backend", "openai", "--endpoint", "http://127.0.0.1:9"],
        capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2
    assert "network access is off" in done.stderr and "openai backend" in done.stderr
    env["LLAMA_LSP_NO_NETWORK"] = "1"
    done = subprocess.run([sys.executable, "-m", "llama_lsp", "serve", "--tcp"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2 and "--tcp listens on the network" in done.stderr


def test_the_no_network_hook_refuses_sockets_and_lookups() -> None:
    code = (
        "import socket, sys\n"
        "from llama_lsp.config.network import forbid_network, NetworkBlocked\n"
        "forbid_network()\n"
        "a, b = socket.socketpair()\n"  # local: allowed
        "results = []\n"
        "for attempt in (lambda: socket.getaddrinfo('example.org', 443),\n"
        "                lambda: socket.create_connection(('127.0.0.1', 9), timeout=1),\n"
        "                lambda: socket.socket(socket.AF_INET).bind(('127.0.0.1', 0)),\n"
        "                lambda: __import__('urllib.request').request.urlopen('http://x')):\n"
        "    try:\n"
        "        attempt()\n"
        "        results.append('allowed')\n"
        "    except NetworkBlocked:\n"
        "        results.append('refused')\n"
        "    except Exception as error:\n"
        "        results.append(type(error).__name__ + ': ' + str(error))\n"
        "print(results)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(WORKTREE)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    results = eval(done.stdout)  # noqa: S307 - our own print of a list of strings
    assert all(result == "refused" or "network access is off" in result
               for result in results), results
    assert "network access is off" in done.stderr


def test_network_events_are_classified() -> None:
    import socket

    from llama_lsp.config.network import network_event

    assert network_event("socket.getaddrinfo", ("h", 80, 0, 0, 0))
    assert network_event("socket.connect", (None, ("10.0.0.1", 80)))
    assert network_event("socket.connect", (None, "/tmp/sock")) is None
    assert network_event("socket.__new__", (None, socket.AF_INET, 1, 0))
    assert network_event("socket.__new__", (None, socket.AF_UNIX, 1, 0)) is None
    assert network_event("open", ("x",)) is None
    asyncio.get_event_loop_policy()  # the event loop's self-pipe is AF_UNIX (allowed)


def test_the_probe_sees_a_network_event(tmp_path: Path) -> None:
    """The probe is not blind: a remote backend's connection attempt is recorded."""
    script = tmp_path / "x.py"
    script.write_text("x = 1\n")
    events = tmp_path / "events.txt"
    done = _probe(tmp_path, "complete", f"{script}:1:5", "--backend", "openai", "--endpoint",
                  "http://127.0.0.1:9", events=events)
    assert done.returncode == 2
    assert "http.client.connect" in events.read_text()
