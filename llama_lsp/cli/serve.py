"""``llama-lsp serve``: the language server on stdio or TCP."""

from __future__ import annotations

import argparse
import logging
import sys


def run_serve(args: argparse.Namespace) -> int:
    """Serve until the client sends exit (or closes the connection)."""
    from llama_lsp.server.app import configure_logging, create_server

    configure_logging(getattr(logging, args.log_level.upper()))
    server = create_server()
    if args.tcp:
        if args.host not in ("127.0.0.1", "localhost", "::1"):
            print(f"llama-lsp: listening on {args.host}:{args.port}: any machine that can reach "
                  "it can read the code you send", file=sys.stderr)
        server.start_tcp(args.host, args.port)
    else:
        server.start_io()
    return 0
