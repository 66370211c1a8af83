"""The README and the configuration reference stay true to the code."""

from __future__ import annotations

import argparse
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from llama_lsp.cli.main import build_parser
from llama_lsp.config.settings import OPTIONS

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
CONFIGURATION = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")

_ROW = re.compile(r"^\| `(?P<key>[A-Za-z0-9]+)` \| (?P<default>[^|]*) \|", re.MULTILINE)
_CODE = re.compile(r"`([^`]*)`")


def _option_rows(page: str = CONFIGURATION) -> dict[str, str]:
    """Option key -> its default cell, from the rows of a page's option table."""
    rows: dict[str, str] = {}
    for match in _ROW.finditer(page):
        assert match["key"] not in rows, f"two rows for {match['key']}"
        rows[match["key"]] = match["default"].strip()
    return rows


def _literal(text: str) -> Any:
    """A default as written in the table: JSON (`true`, `64`, `"auto"`, `{}`), else a bare word."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def test_configuration_documents_every_option() -> None:
    rows = _option_rows()
    for option in OPTIONS:
        assert option.key in rows, option.key


def test_configuration_has_no_row_for_an_option_that_is_gone() -> None:
    keys = {option.key for option in OPTIONS}
    assert sorted(set(_option_rows()) - keys) == []


@pytest.mark.parametrize("page", [CONFIGURATION, README], ids=["configuration", "readme"])
def test_option_defaults_are_the_registry_defaults(page: str) -> None:
    """A default written as one value is the registry's; prose ("all cores but one") only
    where the registry's default is None, which means "worked out at run time"; a list
    names only entries of the registry's list. The README's short table too."""
    rows = _option_rows(page)
    options = {option.key: option for option in OPTIONS}
    assert set(rows) <= set(options), sorted(set(rows) - set(options))
    for key, cell in rows.items():
        option = options[key]
        default = option.default
        values = _CODE.findall(cell)
        if isinstance(default, tuple):
            assert values and all(value in default for value in values), (option.key, cell)
        elif default is None:
            assert not values or _CODE.sub("", cell).strip(), (option.key, cell)
        else:
            assert len(values) == 1 and cell == f"`{values[0]}`", (option.key, cell)
            value = _literal(values[0])
            # bool is an int to Python: `1` must not pass for true. 30 does for 30.0.
            assert value == default and isinstance(value, bool) == isinstance(default, bool), \
                (option.key, cell, default)


def test_readme_quick_start_has_the_ci_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    command = 'python3 -m pip install -e ".[test]" && python3 -m pytest'
    assert command in README and command in ci



# -- Every command in the README runs as written ---------------------------------------------

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_OPERATORS = {"&&", "||", "|", ";"}
_REPO_PATH = re.compile(r"^(?:\./)?(?:docs|editors|examples|bench|tests|llama_lsp|\.ci)/\S*$")


def _shell_commands(markdown: str) -> list[list[str]]:
    """The simple commands of the ``sh`` blocks: lines joined at ``\\``, comments dropped, split
    at ``&&``, ``||``, ``|`` and ``;``, leading ``NAME=value`` assignments dropped."""
    commands: list[list[str]] = []
    for language, body in _FENCE.findall(markdown):
        if language not in ("sh", "bash", "shell"):
            continue
        for line in body.replace("\\\n", " ").splitlines():
            lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
            lexer.whitespace_split = True
            lexer.commenters = "#"
            command: list[str] = []
            for token in [*lexer, ";"]:
                if token in _OPERATORS:
                    if command:
                        commands.append(command)
                    command = []
                elif command or not re.match(r"^[A-Z_][A-Z0-9_]*=", token):
                    command.append(token)
    return commands


README_COMMANDS = _shell_commands(README)
INLINE_LLAMA_LSP = [shlex.split(span) for span in re.findall(r"`(llama-lsp [^`]+)`", README)]
"""``llama-lsp ...`` in inline code: a whole command, or (two words) a subcommand's name."""


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_readme_has_the_commands_this_test_checks() -> None:
    programs = {command[0] for command in README_COMMANDS}
    assert {"llama-lsp", "python3", "cd", "npm", "sh"} <= programs, programs


def test_readme_names_real_subcommands() -> None:
    subcommands = next(action.choices for action in build_parser()._actions
                       if isinstance(action, argparse._SubParsersAction))
    for command in INLINE_LLAMA_LSP:
        assert command[1] in subcommands, command


@pytest.mark.parametrize("command", [c for c in README_COMMANDS if c[0] == "llama-lsp"]
                         + [c for c in INLINE_LLAMA_LSP if len(c) > 2], ids=" ".join)
def test_readme_llama_lsp_commands_parse(command: list[str],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Each ``llama-lsp`` command, in a block or inline, names a real subcommand and real flags
    (the CLI's own parser, in-process; nothing runs)."""
    try:
        build_parser().parse_args(command[1:])
    except SystemExit as exit_:
        assert exit_.code == 0, (command, capsys.readouterr().err)


def test_readme_complete_location_is_real() -> None:
    """``llama-lsp complete FILE:LINE:COL`` points into the file, after text."""
    for command in README_COMMANDS:
        if command[:2] == ["llama-lsp", "complete"]:
            path, line, column = command[2].rsplit(":", 2)
            lines = (ROOT / path).read_text(encoding="utf-8").splitlines()
            assert 1 <= int(line) <= len(lines), command
            assert 1 <= int(column) <= len(lines[int(line) - 1]) + 1, command


def test_readme_pip_extras_exist() -> None:
    extras = set(_pyproject()["project"]["optional-dependencies"])
    for command in README_COMMANDS:
        if command[:4] == ["python3", "-m", "pip", "install"]:
            for argument in command[4:]:
                if match := re.fullmatch(r"\.\[([\w,-]+)\]", argument):
                    assert set(match[1].split(",")) <= extras, command


def test_readme_npm_scripts_and_folders_exist() -> None:
    """``cd DIR && npm ci && npm run SCRIPT``: the folder has a package.json with the script."""
    folder = ROOT
    for command in README_COMMANDS:
        if command[0] == "cd":
            folder = ROOT / command[1]
            assert folder.is_dir(), command
        elif command[0] == "npm":
            scripts = json.loads((folder / "package.json").read_text())["scripts"]
            if command[1] == "run":
                assert command[2] in scripts, command
            assert (folder / "package-lock.json").is_file() or command[1] != "ci", command


def test_readme_install_sh_flags_exist() -> None:
    """The bundle's ``install.sh`` (llama_lsp/cli/bundle_install.sh) takes the flags shown."""
    script = (ROOT / "llama_lsp" / "cli" / "bundle_install.sh").read_text()
    known = set(re.findall(r"^\s*(--[a-z-]+)\)", script, re.MULTILINE))
    for command in README_COMMANDS:
        if command[0] == "sh" and command[1].endswith("install.sh"):
            flags = {argument for argument in command[2:] if argument.startswith("--")}
            assert flags and flags <= known, (command, known)


def test_readme_paths_and_links_exist() -> None:
    """Repository paths in commands and code, and every relative link, exist; every
    ``#anchor`` link names a heading."""
    words = [token for command in README_COMMANDS for token in command]
    words += re.findall(r"`([^`\s]+)`", README)
    for word in words:
        if _REPO_PATH.match(word):
            path = word.split(":")[0].rstrip(".,")
            assert (ROOT / path).exists(), word
    anchors = {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
               for heading in re.findall(r"^#+ (.+)$", README, re.MULTILINE)}
    for target in _LINK.findall(README):
        if target.startswith(("http://", "https://")):
            continue
        if target.startswith("#"):
            assert target[1:] in anchors, target
        else:
            assert (ROOT / target.split("#")[0]).exists(), target


def test_readme_links_the_configuration_reference() -> None:
    assert "docs/configuration.md" in README


def test_readme_is_at_most_15_kb() -> None:
    assert len(README.encode("utf-8")) <= 15_000


DOC_PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "bench" / "README.md"]


@pytest.mark.parametrize("page", DOC_PAGES, ids=lambda page: page.name)
def test_docs_links_exist(page: Path) -> None:
    for target in _LINK.findall(page.read_text(encoding="utf-8")):
        if not target.startswith(("http://", "https://", "#")):
            assert (page.parent / target.split("#")[0]).exists(), (page.name, target)
