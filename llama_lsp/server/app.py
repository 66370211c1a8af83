"""The language server object and how it starts."""

from __future__ import annotations

import logging
import sys

from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer

from llama_lsp import __version__
from llama_lsp.model.host import ModelHost
from llama_lsp.server.session import Session


class LlamaLanguageServer(LanguageServer):
    """pygls server carrying a :class:`Session`."""

    def __init__(self, host: ModelHost | None = None) -> None:
        super().__init__("llama-lsp", __version__)
        self.session = Session(host=host or ModelHost())


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
    from llama_lsp.server import commands, handlers

    server = LlamaLanguageServer(host)
    handlers.register(server)
    commands.register(server)
    return server
