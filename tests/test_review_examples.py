"""The shipped CI examples and pre-commit hook call ``llama-lsp review`` with valid arguments."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from llama_lsp.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[1]
FILES = ["examples/ci/github-actions.yml", "examples/ci/gitlab-ci.yml", ".pre-commit-hooks.yaml"]


def review_commands(text: str) -> list[list[str]]:
    """Each ``llama-lsp review ...`` command, with YAML-folded continuation lines joined."""
    lines = text.splitlines()
    commands = []
    for index, line in enumerate(lines):
        at = line.find("llama-lsp review --")
        if at < 0 or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        parts = [line[at:]]
        for following in lines[index + 1:] if not line[:at].strip() else []:
            if not following.strip() or len(following) - len(following.lstrip()) != indent:
                break
            parts.append(following.strip())
        commands.append(shlex.split(" ".join(parts), comments=True))
    return commands


@pytest.mark.parametrize("name", FILES)
def test_example_commands_parse(name: str) -> None:
    commands = review_commands((ROOT / name).read_text(encoding="utf-8"))
    assert commands, f"no llama-lsp review command in {name}"
    for argv in commands:
        args = build_parser().parse_args(argv[1:])
        assert args.command == "review"
        assert args.base or args.staged
        assert args.fail_on == "error"
        assert not args.cache_dir or args.cache_key_env  # entries must be signed
