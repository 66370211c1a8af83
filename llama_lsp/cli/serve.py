"""``llama-lsp serve``: the language server on stdio or TCP."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import BinaryIO

# How long a thread holding the interpreter (indexing files) may keep the event loop waiting;
# Python's default is 5 ms, a noticeable share of a keystroke's budget.
SWITCH_INTERVAL_SECONDS = 0.001


def protocol_stdout() -> BinaryIO:
    """A private copy of stdout for the protocol; fd 1 then points at stderr.

    llama-cpp-python points fds 1 and 2 at /dev/null while a model loads or a grammar compiles
    (process-wide): replies written meanwhile to fd 1 would be lost. Stray prints now land on
    stderr instead of corrupting the protocol.
    """
    sys.stdout.flush()
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return protocol


def run_serve(args: argparse.Namespace) -> int:
    """Serve until the client sends exit (or closes the connection)."""
    from llama_lsp.server.app import configure_logging, create_server

    configure_logging(getattr(logging, args.log_level.upper()))
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    server = create_server()
    if args.tcp:
        if args.host not in ("127.0.0.1", "localhost", "::1"):
            print(f"llama-lsp: listening on {args.host}:{args.port}: any machine that can reach "
                  "it can read the code you send", file=sys.stderr)
        server.start_tcp(args.host, args.port)
    else:
        server.start_io(sys.stdin.buffer, protocol_stdout())
    return 0
