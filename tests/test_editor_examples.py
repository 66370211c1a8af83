"""examples/editors/: each config parses and only uses option keys the server knows."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from llama_lsp.config.settings import CONFIG_SECTION, OPTIONS

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "editors"
KNOWN = {option.key for option in OPTIONS}
tomllib = pytest.importorskip("tomllib")


def _json_with_comments(path: Path) -> Any:
    return json.loads(re.sub(r"^\s*//.*$", "", path.read_text(encoding="utf-8"), flags=re.M))


def test_helix_starts_the_server_with_known_options() -> None:
    config = tomllib.loads((EXAMPLES / "helix" / "languages.toml").read_text(encoding="utf-8"))
    server = config["language-server"]["llama-lsp"]
    assert server["command"] == "llama-lsp" and server["args"] == ["serve"]
    assert set(server["config"]) <= KNOWN
    assert all("llama-lsp" in language["language-servers"] for language in config["language"])


def test_zed_extension_and_settings_agree() -> None:
    extension = tomllib.loads((EXAMPLES / "zed" / "extension.toml").read_text(encoding="utf-8"))
    assert "llama-lsp" in extension["language_servers"]
    assert tomllib.loads((EXAMPLES / "zed" / "Cargo.toml").read_text(encoding="utf-8"))[
        "lib"]["crate-type"] == ["cdylib"]
    assert '"serve".into()' in (EXAMPLES / "zed" / "src" / "lib.rs").read_text(encoding="utf-8")
    settings = json.loads((EXAMPLES / "zed" / "settings.json").read_text(encoding="utf-8"))
    assert set(settings["lsp"]["llama-lsp"]["initialization_options"]) <= KNOWN
    for language in settings["languages"].values():
        assert "llama-lsp" in language["language_servers"]


def test_sublime_client_uses_known_options() -> None:
    client = _json_with_comments(EXAMPLES / "sublime" / "LSP.sublime-settings")["clients"][
        "llama-lsp"]
    assert client["command"] == ["llama-lsp", "serve"]
    assert set(client["initializationOptions"]) <= KNOWN
    assert set(client["settings"][CONFIG_SECTION]) <= KNOWN


def test_eglot_program_and_workspace_configuration_use_known_options() -> None:
    text = (EXAMPLES / "emacs" / "llama-lsp.el").read_text(encoding="utf-8")
    assert text.count("(") == text.count(")")
    assert '"llama-lsp" "serve"' in text and f":{CONFIG_SECTION} (" in text
    keywords = set(re.findall(r"\(?:([a-zA-Z]+) ", text)) - {"initializationOptions", "llama"}
    assert keywords and keywords <= KNOWN, keywords - KNOWN
