"""``serve --tcp``: one session, owned by the first client, and only its user may connect.

A connection is admitted when no client holds the session when it sends its first bytes
and, for a loopback
connection, the client's socket belongs to the user running the server (checked through
:mod:`llama_lsp.server.peer`; on systems that do not say, only the first-client rule
applies). Others get a ``window/showMessage`` saying why, and are closed: they can neither
read the session (documents, prompts) nor take over its replies. The server ends when its
client disconnects or sends ``exit``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import threading

from llama_lsp.server.framing import encode_frame
from llama_lsp.server.peer import can_identify_peers, is_loopback, peer_uid
from llama_lsp.server.protocol import LlamaProtocol
from llama_lsp.server.transport import CHUNK_BYTES, StreamWriter, pump

logger = logging.getLogger(__name__)


def refusal(connection: socket.socket | None, session_taken: bool) -> str | None:
    """Why ``connection`` may not use this server, or ``None`` if it may."""
    if session_taken:
        return ("this llama-lsp server already serves another client; start one server per "
                "editor")
    if connection is None or not is_loopback(connection):
        return None  # a non-loopback --host was asked for, with its warning
    if not can_identify_peers() or not hasattr(os, "getuid"):
        logger.warning("cannot tell which user connected on this system: the first client "
                       "gets the session")
        return None
    uid = peer_uid(connection)
    if uid is None:
        return "cannot tell which user opened this connection; refused"
    if uid != os.getuid():
        return f"only the user who started the server may connect (this is uid {uid})"
    return None


def _refusal_frame(reason: str) -> bytes:
    message = {"jsonrpc": "2.0", "method": "window/showMessage",
               "params": {"type": 1, "message": f"llama-lsp: {reason}"}}
    return encode_frame(json.dumps(message).encode())


async def serve_tcp(protocol: LlamaProtocol, host: str, port: int, stop: threading.Event) -> int:
    """Listen on ``host:port``; serve the first admitted client; return the exit code."""
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[int] = loop.create_future()
    taken = False

    def refuse(writer: asyncio.StreamWriter, reason: str) -> None:
        logger.warning("refused a connection from %s: %s", writer.get_extra_info("peername"),
                       reason)
        writer.write(_refusal_frame(reason))
        writer.close()

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal taken
        reason = refusal(writer.get_extra_info("socket"), taken)
        if reason is not None:
            refuse(writer, reason)
            return
        # The session goes to the first connection that says something (not to a probe
        # that connects and leaves).
        first = await reader.read(CHUNK_BYTES)
        if not first:
            writer.close()
            return
        if taken:
            refuse(writer, refusal(None, taken) or "")
            return
        taken = True
        protocol.set_writer(StreamWriter(writer, loop))
        chunks = [first]

        async def read() -> bytes:
            return chunks.pop() if chunks else await reader.read(CHUNK_BYTES)

        code = 0
        try:
            await pump(read, protocol, stop)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 0
        except ConnectionError as error:
            logger.warning("the client connection failed: %s", error)
        finally:
            writer.close()
            if not finished.done():
                finished.set_result(code)

    server = await asyncio.start_server(connection, host, port)
    logger.info("serving on %s", ", ".join(str(s.getsockname()) for s in server.sockets))
    async with server:
        return await finished
