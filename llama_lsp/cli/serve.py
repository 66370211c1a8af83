"""``llama-lsp serve``: the language server on stdio or TCP."""

from __future__ import annotations

import argparse
import logging
import sys

# How long a thread holding the interpreter (indexing files) may keep the event loop waiting;
# Python's default is 5 ms, a noticeable share of a keystroke's budget.
SWITCH_INTERVAL_SECONDS = 0.001


def run_serve(args: argparse.Namespace) -> int:
    """Serve until the client sends exit (or closes the connection)."""
    from llama_lsp.server.app import configure_logging, create_server

    from llama_lsp.config import network

    if args.tcp and network.forbidden():
        print("llama-lsp: --tcp listens on the network, and network access is off "
              f"(--no-network or {network.NO_NETWORK_ENV}=1); use --stdio", file=sys.stderr)
        return 2
    configure_logging(getattr(logging, args.log_level.upper()))
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    server = create_server()
    if args.tcp:
        if args.host not in ("127.0.0.1", "localhost", "::1"):
            print(f"llama-lsp: listening on {args.host}:{args.port}: any machine that can reach "
                  "it can read the code you send", file=sys.stderr)
        return server.start_tcp(args.host, args.port)
    return server.start_io()
