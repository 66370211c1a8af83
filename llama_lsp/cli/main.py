"""``llama-lsp`` argument parsing and dispatch. Exit codes: 0 ok, 1 findings/no result, 2 error."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from llama_lsp import __version__
from llama_lsp.cli.options import add_model_options, add_network_option
from llama_lsp.config import network


def build_parser() -> argparse.ArgumentParser:
    """The ``llama-lsp`` command line."""
    parser = argparse.ArgumentParser(
        prog="llama-lsp", description="Offline code completion from a local GGUF model."
    )
    parser.add_argument("--version", action="version", version=f"llama-lsp {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the language server (stdio by default)")
    serve.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (default)")
    serve.add_argument("--tcp", action="store_true", help="listen on a TCP port instead")
    serve.add_argument("--host", default="127.0.0.1", help="TCP address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=2087, help="TCP port (default 2087)")
    serve.add_argument("--log-level", default="warning",
                       choices=["debug", "info", "warning", "error"])
    add_network_option(serve)

    complete = commands.add_parser(
        "complete", help="complete once at FILE:LINE:COL (1-based) and print the result"
    )
    complete.add_argument("location", help="FILE:LINE:COL, line and column counted from 1")
    add_model_options(complete)
    complete.add_argument("--show-prompt", action="store_true",
                          help="print the exact prompt and its token counts first")
    complete.add_argument("--quick", action="store_true",
                          help="the suggestion automatic ghost text would show: no comparing of "
                               "candidates (faster)")
    complete.add_argument("--audit-log", metavar="PATH",
                          help="append one JSON line about the model call to PATH")
    complete.add_argument("--audit-log-prompts", action="store_true",
                          help="also write the prompt text into the audit log")
    add_network_option(complete)

    doctor = commands.add_parser("doctor", help="check the installation and the model")
    add_model_options(doctor)
    add_network_option(doctor)

    from llama_lsp.cli.review import add_review_parser

    add_review_parser(commands)
    from llama_lsp.cli.bundle import add_bundle_parser

    add_bundle_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "no_network", False) or network.requested():
        network.forbid_network()
    if args.command == "serve":
        from llama_lsp.cli.serve import run_serve

        return run_serve(args)
    if args.command == "complete":
        from llama_lsp.cli.complete import run_complete

        return run_complete(args)
    if args.command == "doctor":
        from llama_lsp.cli.doctor import run_doctor

        return run_doctor(args)
    if args.command == "review":
        from llama_lsp.cli.review import run_review

        return run_review(args)
    if args.command == "bundle":
        from llama_lsp.cli.bundle import run_bundle

        return run_bundle(args)
    parser.print_help(sys.stderr)
    return 2
