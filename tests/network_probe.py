"""Run ``llama-lsp`` with a Python audit hook that fails on any network event.

Usage: ``python tests/network_probe.py EVENTS_FILE llama-lsp-arguments...``. Every network
event (as :func:`llama_lsp.config.network.network_event` classifies them) is appended to
EVENTS_FILE and then refused; the test reads the file afterwards, so an event that the code
under test catches and swallows is still seen. The hook is installed before llama_lsp is
imported.
"""

from __future__ import annotations

import sys
from typing import Any


def main() -> int:
    events_file, arguments = sys.argv[1], sys.argv[2:]
    from llama_lsp.config.network import network_event  # stdlib-only module

    def hook(event: str, args: tuple[Any, ...]) -> None:
        described = network_event(event, args)
        if described is not None:
            with open(events_file, "a", encoding="utf-8") as out:
                out.write(described + "\n")
            raise PermissionError(f"network event in a no-network test: {described}")

    sys.addaudithook(hook)
    from llama_lsp.cli.main import main as llama_lsp_main

    return llama_lsp_main(arguments)


if __name__ == "__main__":
    sys.exit(main())
