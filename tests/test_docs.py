"""The README and the configuration reference stay true to the code."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from llama_lsp.config.settings import OPTIONS

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
CONFIGURATION = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")

_ROW = re.compile(r"^\| `(?P<key>[A-Za-z0-9]+)` \| (?P<default>[^|]*) \|", re.MULTILINE)
_CODE = re.compile(r"`([^`]*)`")


def _option_rows() -> dict[str, str]:
    """Option key -> its default cell, from the rows of the configuration table."""
    rows: dict[str, str] = {}
    for match in _ROW.finditer(CONFIGURATION):
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


def test_configuration_defaults_are_the_registry_defaults() -> None:
    """A default written as one value is the registry's; prose ("all cores but one") only
    where the registry's default is None, which means "worked out at run time"; a list
    names only entries of the registry's list."""
    rows = _option_rows()
    for option in OPTIONS:
        cell, default = rows[option.key], option.default
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

