"""``workspace/executeCommand`` commands for editor clients: the prompt at a cursor, the status.

- ``llama-lsp.showPrompt`` ``[uri, {line, character}]`` -> ``{prompt, text, tokens, parts, mode,
  fim, model, context}``: the exact prompt the completion pipeline would build there (``text``
  adds a header like ``llama-lsp complete --show-prompt``).
- ``llama-lsp.status`` ``[]`` -> the last ``$/llama-lsp/status`` payload, with the current model
  state.
"""

from __future__ import annotations

from typing import Any

from pygls.exceptions import JsonRpcInvalidParams

from llama_lsp.features.completion.prompt_report import PromptRefused, format_prompt_report
from llama_lsp.model.backend import ModelError
from llama_lsp.model.host import ModelState
from llama_lsp.server.convert import uri_and_position
from llama_lsp.server.language_server import LlamaLanguageServer
from llama_lsp.server.lookup import offset_at, open_document
from llama_lsp.server.status import status_payload

SHOW_PROMPT = "llama-lsp.showPrompt"
STATUS = "llama-lsp.status"


def register(server: LlamaLanguageServer) -> None:
    """Attach the commands below to ``server`` (they appear in executeCommandProvider)."""
    server.command(SHOW_PROMPT)(show_prompt)
    server.command(STATUS)(status)


async def show_prompt(ls: LlamaLanguageServer, *arguments: Any) -> dict[str, Any]:
    """The prompt the completion pipeline would build at a cursor."""
    session = ls.session
    uri, position = uri_and_position(arguments, SHOW_PROMPT)
    snapshot = open_document(session, uri).snapshot()
    if snapshot.problem:
        raise JsonRpcInvalidParams(f"llama-lsp: {uri}: no completions here: {snapshot.problem}")
    offset = offset_at(snapshot, position, session.encoding)
    state = session.host.status
    if state.state is not ModelState.READY:
        raise JsonRpcInvalidParams(f"llama-lsp: no prompt: the model is {state.state.value}"
                                   f"{': ' + state.detail if state.detail else ''}")
    if (refusal := session.refusal(snapshot)) is not None:
        raise JsonRpcInvalidParams(f"llama-lsp: {uri}: no prompt in a {refusal}")
    try:
        report = await session.completions.prompt_report(snapshot, offset, session.settings,
                                                         session.context_for)
    except ModelError as error:
        raise JsonRpcInvalidParams(f"llama-lsp: no prompt: {error}") from error
    except PromptRefused as error:
        raise JsonRpcInvalidParams(f"llama-lsp: {uri}: {error}") from error
    return {**report, "text": format_prompt_report(report)}


def status(ls: LlamaLanguageServer, *arguments: Any) -> dict[str, object]:
    """The last status payload, refreshed with the model's current state."""
    return status_payload(ls.session, **ls.session.last_status)
