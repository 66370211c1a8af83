"""``llama-lsp`` argument parsing and dispatch. Exit codes: 0 ok, 1 findings/no result, 2 error."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from llama_lsp import __version__


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

    complete = commands.add_parser(
        "complete", help="complete once at FILE:LINE:COL (1-based) and print the result"
    )
    complete.add_argument("location", help="FILE:LINE:COL, line and column counted from 1")
    _add_model_options(complete)
    complete.add_argument("--show-prompt", action="store_true",
                          help="print the exact prompt and its token counts first")

    doctor = commands.add_parser("doctor", help="check the installation and the model")
    _add_model_options(doctor)

    from llama_lsp.cli.review import add_review_parser

    add_review_parser(commands)
    return parser


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="a .gguf file (default: settings, then the demo model)")
    parser.add_argument("--context-size", type=int, help="context window in tokens")
    parser.add_argument("--threads", type=int, help="CPU threads")
    parser.add_argument("--gpu-layers", type=int, help="layers to offload to the GPU (-1: all)")
    parser.add_argument("--max-tokens", type=int, help="most tokens to generate")
    remote = parser.add_argument_group("remote inference server (instead of the embedded model)")
    remote.add_argument("--backend", choices=["embedded", "llamacpp-server", "openai"],
                        help="inference engine (default: embedded)")
    remote.add_argument("--endpoint", help="server URL, e.g. http://127.0.0.1:8080")
    remote.add_argument("--remote-model", help="openai backend: model name to request")
    remote.add_argument("--api-key-env", help="NAME of the environment variable with the key")
    remote.add_argument("--allow-insecure-http", action="store_true", default=None,
                        help="allow plain http:// to other machines")
    remote.add_argument("--fim-template", help="openai backend: auto, none, qwen, starcoder, "
                                               "deepseek, codellama or a template text")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
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
    parser.print_help(sys.stderr)
    return 2
