"""The ``--set KEY=VALUE`` option the benchmarks share: any server setting by its key."""

from __future__ import annotations

import argparse
import json


def add_set_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--set KEY=VALUE`` (repeatable) to ``parser``."""
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="any server setting by its key, e.g. --set codeVocabulary=false "
                             "(the value is read as JSON when it parses, else as a string)")


def parse_set_options(parser: argparse.ArgumentParser, items: list[str]) -> dict[str, object]:
    """The settings that ``--set`` items name; a malformed item stops with a usage error."""
    options: dict[str, object] = {}
    for item in items:
        key, equals, value = item.partition("=")
        if not equals or not key.strip():
            parser.error(f"--set {item!r}: expected KEY=VALUE")
        try:
            options[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            options[key.strip()] = value
    return options
