"""Editor settings generated from the OPTIONS table stay in sync with it."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from llama_lsp.config.schema import option_schema, settings_schema
from llama_lsp.config.settings import OPTIONS, Option

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT / "editors" / "vscode" / "scripts" / "gen_settings.py"
_JSON_TYPES = {"boolean": bool, "integer": int, "number": (int, float), "string": str,
               "array": list, "object": dict, "null": type(None)}


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_settings", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_vscode_package_json_matches_the_options_table(capsys: pytest.CaptureFixture[str]) -> None:
    status = _generator().main(["--check"])
    assert status == 0, capsys.readouterr().err


def test_every_option_is_a_vscode_setting_with_its_default() -> None:
    package = json.loads((ROOT / "editors/vscode/package.json").read_text(encoding="utf-8"))
    properties = package["contributes"]["configuration"]["properties"]
    for option in OPTIONS:
        setting = properties[f"llama-lsp.{option.key}"]
        assert setting["default"] == settings_schema()[option.key]["default"]
        assert setting["description"] == option.description


@pytest.mark.parametrize("option", OPTIONS, ids=lambda option: option.key)
def test_schema_type_admits_the_default_and_the_parser_accepts_it(option: Option) -> None:
    schema = option_schema(option)
    names = schema.get("type")
    if names is not None:
        names = [names] if isinstance(names, str) else names
        default = schema["default"]
        assert isinstance(default, tuple(_JSON_TYPES[name] for name in names))
        assert not isinstance(default, bool) or "boolean" in names
    if option.default is not None:
        option.parse(option.default)  # the table's default is valid for its own parser


def _choice(value: Any) -> str:
    if value not in ("google", "numpy"):
        raise ValueError("must be google or numpy")
    return value


_choice.choices = ("google", "numpy")  # type: ignore[attr-defined]


def test_options_added_later_get_a_schema_from_their_parser_or_default() -> None:
    enum = option_schema(Option("docstringStyle", "docstring_style", "google", "Style.", _choice))
    assert enum["enum"] == ["google", "numpy"] and enum["type"] == "string"
    unknown = option_schema(Option("endpoint", "endpoint", "", "URL.", lambda value: value))
    assert unknown["type"] == "string" and unknown["default"] == ""
    opaque = option_schema(Option("thing", "thing", None, "?", lambda value: value))
    assert "type" not in opaque and opaque["default"] is None
