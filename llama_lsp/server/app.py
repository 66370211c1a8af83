"""The server as the CLI starts it: every handler registered, logging to stderr."""

from __future__ import annotations

import logging
import sys

from pygls.exceptions import JsonRpcException

from llama_lsp.model.host import ModelHost
from llama_lsp.server import actions, commands, handlers
from llama_lsp.server.language_server import LlamaLanguageServer


class _ExpectedErrors(logging.Filter):
    """Drop pygls's tracebacks for errors we raise on purpose (bad params, cancellations)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, JsonRpcException)


def configure_logging(level: int = logging.WARNING) -> None:
    """Log to stderr (stdout carries the protocol)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("llama-lsp %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_ExpectedErrors())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def create_server(host: ModelHost | None = None) -> LlamaLanguageServer:
    """A server with every handler registered."""
    server = LlamaLanguageServer(host)
    handlers.register(server)
    actions.register(server)
    commands.register(server)
    return server
