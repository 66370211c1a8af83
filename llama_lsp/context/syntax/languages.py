"""The registry of tree-sitter grammars, loaded lazily from the official grammar wheels.

Adding a language is one entry here (plus its query folder once queries exist).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from pathlib import PurePath

from tree_sitter import Language


@dataclass(frozen=True)
class LanguageSpec:
    """A grammar: the LSP language id, the wheel's module and function, and file extensions."""

    language_id: str
    module: str
    function: str
    extensions: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    line_comment: str = "//"
    """What starts a comment that runs to the end of the line."""


LANGUAGES: tuple[LanguageSpec, ...] = (
    LanguageSpec("python", "tree_sitter_python", "language", (".py", ".pyi", ".pyw"),
                 line_comment="#"),
    LanguageSpec("javascript", "tree_sitter_javascript", "language",
                 (".js", ".mjs", ".cjs", ".jsx"), aliases=("javascriptreact",)),
    LanguageSpec("typescript", "tree_sitter_typescript", "language_typescript",
                 (".ts", ".mts", ".cts")),
    LanguageSpec("typescriptreact", "tree_sitter_typescript", "language_tsx", (".tsx",),
                 aliases=("tsx",)),
    LanguageSpec("go", "tree_sitter_go", "language", (".go",)),
    LanguageSpec("rust", "tree_sitter_rust", "language", (".rs",)),
    LanguageSpec("java", "tree_sitter_java", "language", (".java",)),
    LanguageSpec("c", "tree_sitter_c", "language", (".c", ".h")),
    LanguageSpec("cpp", "tree_sitter_cpp", "language",
                 (".cpp", ".cc", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".h++", ".ipp"),
                 aliases=("c++",)),
)

_BY_ID = {name: spec for spec in LANGUAGES for name in (spec.language_id, *spec.aliases)}
_BY_EXTENSION = {ext: spec for spec in LANGUAGES for ext in spec.extensions}


def spec_for(language_id: str | None, path: str | None = None) -> LanguageSpec | None:
    """The grammar for an LSP language id, falling back to the file extension."""
    if language_id and (spec := _BY_ID.get(language_id.lower())) is not None:
        return spec
    if path:
        return _BY_EXTENSION.get(PurePath(path).suffix.lower())
    return None


def line_comment_for(language_id: str | None) -> str | None:
    """The line-comment marker of a registered language, or None."""
    spec = spec_for(language_id)
    return spec.line_comment if spec is not None else None


def language_id_for_path(path: str) -> str:
    """The LSP language id for a file path ('plaintext' when no grammar knows it)."""
    spec = _BY_EXTENSION.get(PurePath(path).suffix.lower())
    return spec.language_id if spec else "plaintext"


@cache
def load_language(spec: LanguageSpec) -> Language:
    """Load (once) the tree-sitter ``Language`` of ``spec`` from its grammar wheel."""
    module = importlib.import_module(spec.module)
    return Language(getattr(module, spec.function)())


def available_languages() -> dict[str, str]:
    """Each registered language id mapped to 'ok' or the reason its grammar fails to load."""
    report: dict[str, str] = {}
    for spec in LANGUAGES:
        try:
            load_language(spec)
            report[spec.language_id] = "ok"
        except Exception as error:  # noqa: BLE001 - reported to the user by `doctor`
            report[spec.language_id] = f"unavailable: {error}"
    return report
