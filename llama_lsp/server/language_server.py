"""The language server object: pygls with our session and our transport."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, BinaryIO

from pygls.lsp.server import LanguageServer

from llama_lsp import __version__
from llama_lsp.model.host import ModelHost
from llama_lsp.server.protocol import LlamaProtocol, strict_converter
from llama_lsp.server.session import Session
from llama_lsp.server.tcp import serve_tcp
from llama_lsp.server.transport import DescriptorWriter, claim_stdout, descriptor_reader, pump


class LlamaLanguageServer(LanguageServer):
    """pygls server carrying a :class:`Session`, with our transport (see ``transport``)."""

    protocol: LlamaProtocol

    def __init__(self, host: ModelHost | None = None) -> None:
        super().__init__("llama-lsp", __version__, protocol_cls=LlamaProtocol,
                         converter_factory=strict_converter)
        self.session = Session(host=host or ModelHost())

    def start_io(self, stdin: BinaryIO | None = None,  # type: ignore[override]
                 stdout: BinaryIO | None = None) -> int:
        """Serve on stdin/stdout (the real stdout kept private) until exit; the exit code."""
        out_fd = claim_stdout() if stdout is None else stdout.fileno()
        in_fd = 0 if stdin is None else stdin.fileno()
        self._stop_event = stop = threading.Event()
        self.protocol.set_writer(DescriptorWriter(out_fd, on_lost=stop.set))

        async def main() -> int:
            await pump(descriptor_reader(in_fd, asyncio.get_running_loop()), self.protocol,
                       stop)
            return 0

        return self._run(main)

    def start_tcp(self, host: str, port: int) -> int:  # type: ignore[override]
        """Serve the first client (of this user) that connects to ``host:port``."""
        self._stop_event = stop = threading.Event()
        return self._run(lambda: serve_tcp(self.protocol, host, port, stop))

    def _run(self, main: Callable[[], Coroutine[Any, Any, int]]) -> int:
        try:
            return asyncio.run(main())
        except SystemExit as exit_:  # the exit notification
            return exit_.code if isinstance(exit_.code, int) else 0
        except KeyboardInterrupt:
            return 130
        finally:
            self.shutdown()
